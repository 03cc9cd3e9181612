"""Inference and FID throughput, and the memory of scoring 50,000 CIFAR-sized images (`python -m benchmarks --inference`).

For each backend, one fresh process (`benchmarks.inference_worker verbs`) times `encode`, `reconstruct` and
`sample` of the zoo's conv entries (`ENTRIES`) at each of `BATCH_SIZES`, each timing paired with the backend's
conv peak timed right before it in the same process: the figure that compares across runs is the verb's FLOP
rate ÷ that peak, which a busy machine moves less than images/s. One process with KERAS_BACKEND=torch
(`fid`) does the same for the FID Inception features (keras_ae.fid runs PyTorch on every backend). Then, per
backend, a fresh process (`rss`) scores `RSS_IMAGES` synthetic 32x32x3 uint8 images with
`AnomalyDetector(model).decision_function` (`RSS_ENTRY`, the zoo's CIFAR-10 autoencoder), and a tenth of them,
and reports its peak resident memory above the memory before scoring (the images already loaded) against the
images' `nbytes`; on the first backend also `keras-ae score` on the images saved as a .npy file.
"""

import importlib.util
import json
import os
import tempfile

from benchmarks.inference_worker import SECONDS

ENTRIES = ("resnet.cifar10_z64", "resnet_vae.fashion_mnist_z32", "resnet_vae.celeba64_z128")
BATCH_SIZES = (32, 128, 512)
# The FID network at batch 512 holds several GB of activations, and runs a few images a second here.
FID_BATCH_SIZES = (32, 50, 128)  # 50: keras_ae.fid's default
MIN_IMAGES = 256  # images per timing: at least this many, in whole batches
ROUNDS = 3  # (conv peak, verb) pairs per row
FID_ROUNDS = 2
RSS_ENTRY, RSS_IMAGES = "resnet.cifar10_z64", 50_000
PEAK = dict(repeats=3)  # conv_peak's settings (its default shape)
QUICK = dict(entries=ENTRIES[:1], batch_sizes=(8, 16), fid_batch_sizes=(2,), min_images=16, rounds=1,
             fid_rounds=1, rss_images=2000, peak=dict(batch=2, size=16, channels=32, repeats=1))


def images_per_timing(batch_sizes, min_images):
    """`{str(batch): n}`: at least `min_images` images per timing, in whole batches (one batch at least)."""
    return {str(b): b * max(1, -(-min_images // b)) for b in batch_sizes}


def run_inference(log, quick=False, backends=("tensorflow", "jax", "torch"), settings=None, fid=True):
    """The `inference` record of results.json.

    Args:
        log: progress lines.
        quick: `QUICK`'s tiny sizes (one entry, 2,000 images scored), to check the harness.
        backends: the Keras backends whose verbs and scoring are timed, each in its own processes.
        settings: overrides of `QUICK`'s keys (tests pass tiny ones).
        fid: also time the FID features (needs `pip install keras-ae[fid]`).
    """
    from benchmarks.speed import _run

    s = dict(entries=ENTRIES, batch_sizes=BATCH_SIZES, fid_batch_sizes=FID_BATCH_SIZES, min_images=MIN_IMAGES,
             rounds=ROUNDS, fid_rounds=FID_ROUNDS, rss_images=RSS_IMAGES, rss_entry=RSS_ENTRY, peak=PEAK)
    s.update(QUICK if quick else {})
    s.update(settings or {})
    record = {"cpus": os.cpu_count(), "batch_sizes": list(s["batch_sizes"]), "rounds": s["rounds"],
              "min_images": s["min_images"], "seconds": SECONDS, "backends": {}, "scoring_rss": {}}
    with tempfile.TemporaryDirectory() as tmp:
        def worker(kind, backend, spec):
            out = os.path.join(tmp, f"{kind}-{backend}.json")
            _run(["benchmarks.inference_worker", kind, out, json.dumps(spec)], backend, log, prefix="inference")
            with open(out) as f:
                return json.load(f)

        for backend in backends:
            if backend != "tensorflow" and importlib.util.find_spec(backend) is None:
                record["backends"][backend] = {"skipped": f"{backend} is not installed"}
                continue
            log(f"inference {backend}: {len(s['entries'])} entries, batch sizes {list(s['batch_sizes'])}")
            record["backends"][backend] = worker("verbs", backend, {
                "entries": list(s["entries"]), "batch_sizes": list(s["batch_sizes"]), "rounds": s["rounds"],
                "images": images_per_timing(s["batch_sizes"], s["min_images"]), "peak": s["peak"]})
            # The detector's decision_function on every backend, on a tenth of the images too (memory bounded by
            # the batch adds the same to both); `keras-ae score` on a .npy file on the first backend.
            runs = [("api", s["rss_images"] // 10), ("api", s["rss_images"])]
            for path, n in runs + ([("cli", s["rss_images"])] if backend == backends[0] else []):
                rss = worker("rss", backend, {"entry": s["rss_entry"], "n": n, "path": path})
                record["scoring_rss"].setdefault(backend, []).append(rss)
                log(f"inference {backend} {path}: scoring {rss['images']:,} images added {rss['added'] / 2**20:.0f} "
                    f"MiB ({rss['ratio']:.2f} x the uint8 images' {rss['nbytes'] / 2**20:.0f} MiB)")
        if fid and importlib.util.find_spec("torch") is not None:
            record["fid"] = worker("fid", "torch", {
                "shape": [32, 32, 3], "batch_sizes": list(s["fid_batch_sizes"]), "rounds": s["fid_rounds"],
                "images": images_per_timing(s["fid_batch_sizes"], 0), "peak": s["peak"]})
        elif fid:
            record["fid"] = {"skipped": "PyTorch is not installed (pip install keras-ae[fid])"}
    return record
