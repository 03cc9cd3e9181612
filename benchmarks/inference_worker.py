"""One process of `python -m benchmarks --inference` (benchmarks/inference_speed.py); each writes a JSON object.

    KERAS_BACKEND=jax python -m benchmarks.inference_worker verbs OUT.json SPEC_JSON
    KERAS_BACKEND=torch python -m benchmarks.inference_worker fid OUT.json SPEC_JSON
    KERAS_BACKEND=tensorflow python -m benchmarks.inference_worker rss OUT.json SPEC_JSON

`verbs`: images/s of `encode`, `reconstruct` and `sample` of zoo entries at each batch size. Each timing is one
call of the verb on whole batches (at most `images`, about `SECONDS` of work: `images_for`), right after the
backend's conv peak (`benchmarks.conv_flops.conv_peak`) timed in the same process; the pair's ratio is the verb's FLOP rate (images/s × the forward FLOPs of the
encoder, both halves, or the decoder, counted from the layers) ÷ that peak. An untimed call at the same batch
size comes first (compilation, first allocations).
`fid`: the same for `keras_ae.fid.inception_features` (PyTorch, whatever the Keras backend; run it with
KERAS_BACKEND=torch so that the peak is PyTorch's convolution too), its FLOPs counted by PyTorch's
`FlopCounterMode` on one batch.
`rss`: peak resident memory of `AnomalyDetector(model).decision_function` over `n` synthetic uint8 images, the
peak counter reset just before (benchmarks/data_memory.py's helpers), against the images' `nbytes`.
"""

import json
import os
import statistics
import sys
import time

import numpy as np

from benchmarks.conv_worker import busy_cpus


def _images(n, shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n,) + tuple(shape), dtype="uint8")


def _timed(run, n):
    """Images/s of `run()`, which handles `n` images and returns an array (copied to the host already)."""
    start = time.perf_counter()
    run()
    return n / (time.perf_counter() - start)


SECONDS = 4.0  # the time a timing aims at, in whole batches (a slow backend times fewer images)


def images_for(one_batch, batch_size, most, seconds=SECONDS):
    """Images to time: whole batches, at least one, at most `most`, about `seconds` at the rate of an untimed
    call of `one_batch()` (one batch, after the warm-up call); no such call when `most` is one batch."""
    if most <= batch_size:
        return batch_size
    rate = _timed(one_batch, batch_size)
    return batch_size * max(1, min(most // batch_size, int(seconds * rate) // batch_size))


def paired_rounds(run, n, flops_per_image, peak, rounds):
    """`rounds` pairs of (the conv peak, then `run` timed on `n` images): the row's figures, medians over the pairs."""
    rates, peaks, fractions = [], [], []
    for _ in range(rounds):
        p = peak()["gflops"]
        rate = _timed(run, n)
        rates.append(rate)
        peaks.append(p)
        fractions.append(rate * flops_per_image / 1e9 / p)
    return {"images": n, "images_per_s": statistics.median(rates), "images_per_s_all": rates,
            "peak_gflops": statistics.median(peaks), "fraction_of_peak": statistics.median(fractions),
            "fractions_of_peak": fractions, "gflops_per_image": flops_per_image / 1e9}


def _verbs(model, name):
    """`{verb: (run(x, n, batch), forward FLOPs per image)}` of a zoo model."""
    from benchmarks.conv_flops import forward_flops
    from keras_ae import zoo

    enc, dec = forward_flops(model.encoder), forward_flops(model.decoder)
    if hasattr(model, "latent_dim") and hasattr(model, "elbo"):  # a VAE samples from its prior
        def sample(x, n, b):
            return model.sample(n, seed=0, batch_size=b)
        how = "the prior"
    else:  # an autoencoder samples through its shipped sampler
        sampler = zoo.load_sampler(name, model=model)

        def sample(x, n, b):
            return sampler.sample(n, seed=0, batch_size=b)
        how = f"its shipped {sampler.kind} sampler"
    return {"encode": (lambda x, n, b: model.encode(x[:n], batch_size=b), enc),
            "reconstruct": (lambda x, n, b: model.reconstruct(x[:n], batch_size=b), enc + dec),
            "sample": (sample, dec)}, how


def run_verbs(spec):
    import keras

    from benchmarks.conv_flops import conv_peak
    from keras_ae import zoo

    def peak():
        return conv_peak("float32", **spec.get("peak", {}))

    entries = []
    for name in spec["entries"]:
        model = zoo.load(name)
        verbs, how = _verbs(model, name)
        x = _images(max(spec["images"].values()), model.input_shape).astype("float32") / 255.0
        rows = []
        for verb, (run, flops) in verbs.items():
            for b in spec["batch_sizes"]:
                run(x, b, b)  # untimed: compilation and first allocations at this batch size
                n = images_for(lambda: run(x, b, b), b, spec["images"][str(b)], spec.get("seconds", SECONDS))
                rows.append({"verb": verb, "batch_size": b,
                             **paired_rounds(lambda: run(x, n, b), n, flops, peak, spec["rounds"])})
                print(f"inference {keras.backend.backend()} {name} {verb} batch {b}: "
                      f"{rows[-1]['images_per_s']:.1f} images/s, {rows[-1]['fraction_of_peak']:.1%} of the conv peak",
                      file=sys.stderr, flush=True)
        entries.append({"name": name, "model": type(model).__name__, "input_shape": list(model.input_shape),
                        "sample_from": how, "rows": rows})
    return {"entries": entries, "conv_peak": {k: peak()[k] for k in ("dtype", "shape", "repeats")},
            "versions": {"keras": keras.__version__, "backend": keras.backend.backend()}}


def run_fid(spec):
    import keras
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from benchmarks.conv_flops import conv_peak
    from keras_ae import fid

    shape = tuple(spec["shape"])
    x = _images(max(spec["images"].values()), shape)
    with FlopCounterMode(display=False) as counter:  # the network's FLOPs on one image, resize included
        fid.inception_features(x[:1], batch_size=1)
    flops = counter.get_total_flops()
    rows = []
    for b in spec["batch_sizes"]:
        n = spec["images"][str(b)]
        fid.inception_features(x[:b], batch_size=b)  # untimed: the TorchScript executor profiles its first calls
        rows.append({"verb": "fid_features", "batch_size": b,
                     **paired_rounds(lambda: fid.inception_features(x[:n], batch_size=b), n, flops,
                                     lambda: conv_peak("float32", **spec.get("peak", {})), spec["rounds"])})
        print(f"inference fid features batch {b}: {rows[-1]['images_per_s']:.2f} images/s, "
              f"{rows[-1]['fraction_of_peak']:.1%} of the conv peak", file=sys.stderr, flush=True)
    return {"shape": list(shape), "rows": rows, "gflops_per_image": flops / 1e9,
            "versions": {"keras": keras.__version__, "backend": keras.backend.backend(), "torch": torch.__version__,
                         "torch_threads": torch.get_num_threads()}}


def run_rss(spec):
    import keras

    from benchmarks.data_memory import _peak, _reset_peak, _rss_now
    from keras_ae import zoo
    from keras_ae.anomaly import AnomalyDetector

    model = zoo.load(spec["entry"])
    # The threshold; it also warms up the batch shapes scoring meets (256, and the last batch's remainder).
    detector = AnomalyDetector(model).fit(_images(256 + (spec["n"] % 256 or 256), model.input_shape, seed=1))
    x = _images(spec["n"], model.input_shape)
    if spec.get("path") == "cli":  # `keras-ae score` on the images saved as one .npy, the detector saved beside
        import tempfile

        from keras_ae.cli import main as cli_main

        folder = tempfile.mkdtemp()
        data, saved = os.path.join(folder, "x.npy"), os.path.join(folder, "detector.keras")
        np.save(data, x)
        detector.save(saved)
        score = lambda: cli_main(["score", saved, "--data", data, "--out", os.path.join(folder, "s.csv")])  # noqa: E731
    else:
        score = lambda: detector.decision_function(x)  # noqa: E731
    reset = _reset_peak()  # the imports', the model's and the fit's own peaks are not the scoring's
    baseline = _rss_now()
    start = time.perf_counter()
    scores = score()
    seconds = time.perf_counter() - start
    peak = _peak()
    if spec.get("path") == "cli":
        import shutil

        shutil.rmtree(folder)  # made above by mkdtemp: the .npy, the saved detector and the scores
        if scores != 0:
            raise RuntimeError(f"keras-ae score exited with {scores}: nothing to time")
    else:
        assert scores.shape == (spec["n"],), scores.shape
    return {"entry": spec["entry"], "path": spec.get("path", "api"),
            "images": int(len(x)), "shape": list(x.shape[1:]), "dtype": str(x.dtype),
            "nbytes": int(x.nbytes), "baseline_rss": baseline, "peak_rss": peak, "peak_reset": reset,
            "added": peak - baseline, "ratio": (peak - baseline) / x.nbytes, "seconds": seconds,
            "images_per_s": len(x) / seconds, "score": detector.score_kind,
            "versions": {"keras": keras.__version__, "backend": keras.backend.backend()}}


KINDS = {"verbs": run_verbs, "fid": run_fid, "rss": run_rss}


def main(kind, out, spec):
    busy = busy_cpus()  # before this process adds its own work
    if kind not in KINDS:
        raise ValueError(f"benchmarks.inference_worker: KIND must be one of {sorted(KINDS)}. Received: {kind!r}")
    result = {**KINDS[kind](spec), "kind": kind, "busy_cpus": busy}
    with open(out + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
