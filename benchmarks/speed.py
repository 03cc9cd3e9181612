"""Speed on every backend, each figure a ratio against a reference measured in the same run.

`run_speed` starts one `benchmarks.speed_worker` process per Keras backend
(TensorFlow, JAX, PyTorch: a backend is fixed when Keras is imported) on the
same images, then times the dense VAE against pythae in alternating pairs
(`benchmarks.peer_worker`), then measures the memory of training runs.
"""

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKENDS = ("tensorflow", "jax", "torch")
PEER_EPOCHS = 5
# Seeds (pairs) per backend against pythae: one run's test -ELBO varies by about 0.25 nats with
# the seed, so the -ELBO comparison needs more than three.
PEER_PAIRS = 5
# What `--speed --speed-parts` can rerun: the worker's parts (each backend's process), the pythae pairs and
# the memory runs. A run of some parts keeps the others' figures from the run before
# (report_speed.carry_previous_speed).
WORKER_PARTS = ("peak", "training", "paths", "flops", "inference", "scaling")
PARTS = WORKER_PARTS + ("peer", "rss")


def _env(backend):
    return {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}


def _run(args, backend, log, prefix=None, env=None):
    """Run a worker module (with `env`'s variables added), passing its progress lines to `log`; raise with
    its stderr on failure."""
    proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env={**_env(backend), **(env or {})}, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tail = []
    for line in proc.stderr:
        line = line.rstrip()
        tail = (tail + [line])[-40:]
        if prefix and line.startswith(prefix):
            log(line)
    if proc.wait() != 0:
        raise RuntimeError(f"{' '.join(args[:2])} ({backend}) failed:\n" + "\n".join(tail))


def backend_runs(x, quick, log, tmp, backends=BACKENDS, parts=WORKER_PARTS):
    data = os.path.join(tmp, "x.npy")
    np.save(data, x[:60160])  # whole batches of 256 and 128 (the scaling run's largest size)
    out = {}
    for backend in backends:
        if backend != "tensorflow" and importlib.util.find_spec(backend) is None:
            out[backend] = {"skipped": f"{backend} is not installed"}
            continue
        path = os.path.join(tmp, f"{backend}.json")
        spec = {"quick": quick, "data": data, "parts": list(parts)}
        _run(["benchmarks.speed_worker", path, json.dumps(spec)], backend, log, prefix=backend)
        with open(path) as f:
            out[backend] = json.load(f)
    return out


def peer_pairs(x, xt, quick, log, tmp, backends, pairs):
    """keras-ae on each backend against pythae (PyTorch), back to back in alternating order."""
    if importlib.util.find_spec("pythae") is None:
        return {"skipped": "pythae is not installed (pip install -e '.[bench]')"}
    data = os.path.join(tmp, "peer.npz")
    np.savez(data, x_train=x, x_test=xt)
    epochs = 1 if quick else PEER_EPOCHS

    def one(kind, backend, seed):
        path = os.path.join(tmp, f"peer-{kind}-{backend}.json")
        _run(["benchmarks.peer_worker", kind, path, data, str(epochs), str(seed)], backend, log)
        with open(path) as f:
            r = json.load(f)
        log(f"peer {kind} ({backend}): {r['samples_per_s']:.0f} samples/s, test -ELBO {r['test_neg_elbo']:.2f}")
        return r

    rows = []
    for backend in backends:
        ours, theirs = [], []
        for i in range(pairs):  # pair i: both seeded with i (weights, batch order, noise)
            if i % 2:
                theirs.append(one("pythae", "torch", i))
                ours.append(one("keras_ae", backend, i))
            else:
                ours.append(one("keras_ae", backend, i))
                theirs.append(one("pythae", "torch", i))
        ratios = [a["samples_per_s"] / b["samples_per_s"] for a, b in zip(ours, theirs)]
        rows.append({"backend": backend, "pairs": pairs, "epochs": epochs, "images": int(len(x)),
                     "keras_ae_samples_per_s": statistics.median(r["samples_per_s"] for r in ours),
                     "pythae_samples_per_s": statistics.median(r["samples_per_s"] for r in theirs),
                     "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
                     "keras_ae_test_neg_elbo": statistics.median(r["test_neg_elbo"] for r in ours),
                     "pythae_test_neg_elbo": statistics.median(r["test_neg_elbo"] for r in theirs),
                     "keras_ae_test_neg_elbo_seeds": [r["test_neg_elbo"] for r in ours],
                     "pythae_test_neg_elbo_seeds": [r["test_neg_elbo"] for r in theirs],
                     "pythae_versions": theirs[0]["versions"],
                     "pythae_trainer_seeded": True})
        log(f"peer {backend}: keras-ae / pythae = {rows[-1]['ratio']:.2f} "
            f"({rows[-1]['ratio_min']:.2f}-{rows[-1]['ratio_max']:.2f})")
    return {"rows": rows}


RSS_SCRIPT = """
import sys, numpy as np, keras
sys.path.insert(0, sys.argv[1])
from benchmarks.speed_worker import build


def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


variant, n = sys.argv[2], int(sys.argv[3])
m = build(variant)
x = np.random.default_rng(0).random((n,) + tuple(m.sample_shape)).astype("float32")
m.compile(optimizer="adam")
before = status("VmRSS")
m.fit(x, x, epochs=2, batch_size=128, verbose=0)
print("RSS", before, status("VmRSS"), status("VmHWM"))
"""


def peak_rss(variants, n, log):
    """Resident memory of a training run, one fresh process per variant (Linux /proc)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    for variant in variants:
        out = subprocess.run([sys.executable, "-c", RSS_SCRIPT, root, variant, str(n)], capture_output=True,
                             text=True, timeout=1200,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"})
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("RSS")]
        if not line:
            rows.append({"variant": variant, "error": out.stderr[-300:]})
            continue
        before, after, peak = (int(v) / 1024 for v in line[0].split()[1:])
        rows.append({"variant": variant, "rss_before_fit_mb": before, "rss_after_fit_mb": after,
                     "peak_rss_mb": peak, "ratio_peak_to_before_fit": peak / before})
        log(f"RSS {variant}: peak {peak:.0f} MB, {before:.0f} MB with the model built, {after:.0f} MB after fit")
    return rows


def machine_info():
    import platform
    from importlib import metadata

    versions = {}
    for package in ("tensorflow", "jax", "torch", "keras", "numpy", "pythae"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    import keras_ae

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "processor": platform.processor(), "keras_ae": keras_ae.__version__, **versions}


def run_speed(x_flat, x_test, quick, log, backends=BACKENDS, parts=PARTS):
    """The `speed` record of results.json; `parts` (of `PARTS`) are the figures to measure. A record of
    some parts only says which (`parts`), and the report merges it into the run before's."""
    worker_parts = [p for p in WORKER_PARTS if p in parts]
    with tempfile.TemporaryDirectory() as tmp:
        per_backend = backend_runs(x_flat, quick, log, tmp, backends, worker_parts) if worker_parts else {}
        ran = [b for b in backends if "skipped" not in per_backend.get(b, {})]
        peer = (peer_pairs(x_flat[:4000] if quick else x_flat, x_test[:500] if quick else x_test, quick, log, tmp,
                           ran, 1 if quick else PEER_PAIRS) if "peer" in parts else None)
    variants = ["undercomplete"] if quick else ["undercomplete", "vae", "convolutional", "stacked"]
    record = {"backends": per_backend}
    if peer is not None:
        record["peer"] = peer
    if "rss" in parts:
        record["peak_rss"] = peak_rss(variants, 1024 if quick else 10000, log)
    if set(parts) != set(PARTS):
        record["parts"] = [p for p in PARTS if p in parts]
    return record
