"""The `--colorization` part: the zoo's colorization entries against two baselines (issue 38, item 3).

    KERAS_AE_CELEBA=/path/to/celeba_hq_64.zip python -m benchmarks --colorization     # about 30 s here

Every shipped zoo entry whose variant is `conv_colorization` is loaded and measured on the whole test
split of its data set (found as `python -m benchmarks --images` finds it: `benchmarks.images.load_data`)
with `keras_ae.zoo.colorization.measure_colorization`: the model's squared error per image and PSNR, the
gray copy's, the mean colour's (the training split's mean chroma added to each pixel's luminance), and
the ratio of the model's squared error to the better baseline's. A `conv_colorization` recipe the zoo
does not ship yet is a row marked not trained yet. Issue 38's target: on CelebA's test faces, the
model's squared error at most 0.5 x the better baseline's.

CelebA is for non-commercial research and education only.
"""

import time

VARIANT = "conv_colorization"
TARGETS = {"celeba": 0.5}  # issue 38: the model's squared error / the better baseline's, at most
QUICK = {"n_train": 500, "n_test": 100}  # --quick: checks the harness only


def expected_entries():
    """`{name: data set}` of the zoo's `conv_colorization` recipes (shipped or not)."""
    from keras_ae.zoo.recipes import RECIPES

    return {name: r.get("dataset", "mnist") for name, r in RECIPES.items() if r["variant"] == VARIANT}


def shipped_entries():
    """`{name: data set}` of the shipped zoo entries whose variant is `conv_colorization`."""
    from keras_ae import zoo
    from keras_ae.zoo.index import entry_dataset

    out = {}
    for name in zoo.list_models():
        entry = zoo.info(name)
        if entry.get("variant") == VARIANT:
            out[name] = entry_dataset(entry)[0]
    return out


def _recipe(entry, model, image):
    """What the RESULTS section says was tried: layers, code shape (of one `image`), epochs, precision, backend."""
    recipe, versions = entry.get("recipe") or {}, entry.get("versions") or {}
    code_shape = model.encode(image[None], batch_size=1).shape[1:]
    return {"filters": [int(f) for f in model.filters], "code_shape": [int(d) for d in code_shape],
            "epochs": recipe.get("epochs"), "dtype_policy": recipe.get("dtype_policy"),
            "backend": versions.get("backend")}


def run_colorization(log, quick=False, load=None):
    """results.json's `colorization` part: `{"rows": [...], "seconds"}`, one row per entry or recipe.

    A measured row has the entry's name, data set, data record (no path), weights sha256 (first 12),
    parameter count, recipe, the `measure_colorization` figures and the target (None where issue 38
    sets none); a recipe the zoo does not ship is `{"name", "dataset", "trained": False}`. `load(name)`
    gives `(x_train, x_test, source, info)` (default: `benchmarks.images.load_data`).
    """
    from benchmarks.images import as_float, data_record, load_data
    from keras_ae import zoo
    from keras_ae.zoo.colorization import measure_colorization

    load = load or load_data
    start = time.time()
    shipped, expected = shipped_entries(), expected_entries()
    rows, data = [], {}
    for name in sorted(set(shipped) | set(expected)):
        dataset = shipped.get(name, expected.get(name))
        if name not in shipped:
            rows.append({"name": name, "dataset": dataset, "trained": False, "target": TARGETS.get(dataset)})
            log(f"colorization {name}: not trained yet")
            continue
        if dataset not in data:
            x_train, x_test, source, info = load(dataset)
            if quick:
                x_train, x_test = x_train[:QUICK["n_train"]], x_test[:QUICK["n_test"]]
            data[dataset] = (x_train, as_float(x_test), data_record(dataset, source, info, len(x_train), len(x_test)))
        x_train, x_test, record = data[dataset]
        t0 = time.time()
        model = zoo.load(name)
        entry = zoo.info(name)
        log(f"colorization {name}: {len(x_test)} test images of {record['title']}")
        metrics = measure_colorization(model, x_train, x_test)
        rows.append({"name": name, "dataset": dataset, "trained": True, "data": record,
                     "weights": entry["weights"]["sha256"][:12], "params": int(model.count_params()),
                     "recipe": _recipe(entry, model, x_test[0]), **metrics, "target": TARGETS.get(dataset),
                     "seconds": round(time.time() - t0, 1)})
        log(f"colorization {name}: squared error {metrics['squared_error']:.3f}, gray copy "
            f"{metrics['gray_squared_error']:.3f}, mean colour {metrics['mean_colour_squared_error']:.3f}, "
            f"ratio {metrics.get('colour_ratio')}")
    return {"rows": rows, "seconds": round(time.time() - start, 1)}
