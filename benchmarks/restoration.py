"""The `--restoration` part: denoising and inpainting colour photos with the zoo's conv models (issue 38, item 4).

    python -m benchmarks --restoration          # CelebA's 3,000 test faces: a few minutes here

For each data set of `keras_ae.restoration.ZOO_ENTRIES` (CelebA, CIFAR-10), every shipped entry of its
list (the plain `resnet.*` autoencoder, the `resnet_vae.*` VAE) is measured on the whole test split
(found as `python -m benchmarks --images` finds it: `benchmarks.images.load_data`) with
`keras_ae.restoration.compare`: PSNR in dB, per image and averaged, of the corrupted input, the
classical answer and the model's, for Gaussian noise (sigma 0.1), salt and pepper (10% of the pixels)
and a masked square a quarter of the image's side (16x16 on 64x64, 8x8 on 32x32), all seeded (seed 0).
The classical answer is a 3x3 median filter per channel for the noises and the harmonic fill for the
square; the model inpaints with 5 reconstructions, the known pixels put back each time, from the
image's mean colour (and, a second row, from the harmonic fill). A data set none of whose entries is
shipped is a row marked not trained yet.

CelebA is for non-commercial research and education only.
"""

import time

QUICK = {"n_test": 100}  # --quick: checks the harness only


def shipped_entries():
    """`{data set: [shipped entry names, in ZOO_ENTRIES' order]}` for every data set of `ZOO_ENTRIES`."""
    from keras_ae import zoo
    from keras_ae.restoration import ZOO_ENTRIES

    there = set(zoo.list_models())
    return {dataset: [n for n in names if n in there] for dataset, names in ZOO_ENTRIES.items()}


def run_restoration(log, quick=False, load=None):
    """results.json's `restoration` part: `{"settings", "rows": [...], "seconds"}`.

    A measured row has the entry's name, data set, data record (no path), weights sha256 (first 12),
    parameter count, the square's side, `psnr` (`keras_ae.restoration.compare`'s figures per
    corruption) and `clean_psnr_db` (the model's reconstruction of the uncorrupted images); a data set
    without a shipped entry is `{"name": its preferred entry, "dataset", "trained": False}`. `load(dataset)`
    gives `(x_train, x_test, source, info)` (default: `benchmarks.images.load_data`).
    """
    import numpy as np

    from benchmarks.images import as_float, data_record, load_data
    from keras_ae import restoration, zoo

    load = load or load_data
    start = time.time()
    settings = {**restoration.SETTINGS, "square": "a quarter of the image's side", "median": "3x3, per channel",
                "fill": "harmonic (Laplace's equation, Jacobi sweeps)", "start": "mean known colour"}
    rows = []
    for dataset, names in shipped_entries().items():
        if not names:
            rows.append({"name": restoration.ZOO_ENTRIES[dataset][0], "dataset": dataset, "trained": False})
            log(f"restoration {dataset}: none of {list(restoration.ZOO_ENTRIES[dataset])} is shipped: not trained yet")
            continue
        x_train, x_test, source, info = load(dataset)
        if quick:
            x_test = x_test[:QUICK["n_test"]]
        record = data_record(dataset, source, info, len(x_train), len(x_test))
        x_test = as_float(x_test)
        del x_train
        size = max(1, min(x_test.shape[1:3]) // 4)
        for name in names:
            t0 = time.time()
            model = zoo.load(name)
            log(f"restoration {name}: {len(x_test)} test images of {record['title']}, a {size}x{size} square")
            psnr, _ = restoration.compare(model, x_test, sigma=settings["sigma"], amount=settings["amount"],
                                          size=size, iterations=settings["iterations"], seed=settings["seed"],
                                          batch_size=128)
            clean = restoration.restore(model, x_test, batch_size=128)
            clean_db = round(float(np.mean(restoration.psnr(x_test, clean))), 4)
            rows.append({"name": name, "dataset": dataset, "trained": True, "data": record,
                         "weights": zoo.info(name)["weights"]["sha256"][:12], "params": int(model.count_params()),
                         "square": size, "n_test": int(len(x_test)), "psnr": psnr, "clean_psnr_db": clean_db,
                         "seconds": round(time.time() - t0, 1)})
            log(f"restoration {name}: " + "; ".join(
                f"{kind} corrupted {r['corrupted']:.2f}, classical {r['classical']:.2f}, model {r['model']:.2f} dB"
                for kind, r in psnr.items()))
    return {"settings": settings, "rows": rows, "seconds": round(time.time() - start, 1)}
