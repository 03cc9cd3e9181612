"""Conv VAE speed against pythae and against the backend's conv peak (`python -m benchmarks --conv-speed`).

For each of the zoo's residual conv VAE architectures (`ARCHS`: CIFAR-10's and CelebA-64's recipes),
keras-ae `fit` on each backend in float32 (and in the settings of `EXTRA_RUNS`) is paired with pythae's
`TrainingPipeline` on the same layers rebuilt in PyTorch (`benchmarks.conv_pythae`): each pair runs
both in fresh processes (`benchmarks.conv_worker`), back to back, alternating which goes first, both
seeded with the pair's number, on the same images. The ratio is keras-ae's samples/s over the timed
steps ÷ pythae's, per pair; the row reports the median of the pairs. The keras-ae process also times
its backend's conv peak right before (and after) `fit`: its FLOP rate ÷ that peak is the row's
fraction of peak.
"""

import importlib.util
import json
import os
import statistics
import tempfile

import numpy as np

from benchmarks.speed import _run

# The zoo's recipes whose architectures are timed, by the name RESULTS.md uses.
ARCHS = {"cifar10": "resnet_vae.cifar10_z128", "celeba64": "resnet_vae.celeba64_z128"}
DATASETS = {"cifar10": "cifar10", "celeba64": "celeba"}  # benchmarks.images data sets
# keras-ae runs every backend in float32 (pythae's arithmetic) with Keras's default `jit_compile="auto"`, and a
# backend named here in these (dtype policy, jit_compile) settings too: mixed_bfloat16 is what the zoo trains
# these recipes under on TensorFlow (pythae's trainer has no bf16 on CPU); "auto" leaves XLA off on
# TensorFlow's CPU, so float32 with jit_compile=True tries XLA there (issue 40's 1.5x target).
EXTRA_RUNS = {"tensorflow": (("mixed_bfloat16", "auto"), ("float32", True))}
PAIRS = 5
# Each run: one epoch of WARMUP_STEPS untimed steps (compilation, first allocations) and TIMED_STEPS timed.
WARMUP_STEPS, TIMED_STEPS, N_TEST = 5, 40, 1000
QUICK = dict(warmup_steps=1, timed_steps=2, n_test=16, batch_size=8, pairs=1,
             peak=dict(batch=2, size=16, channels=32, repeats=1))


def arch_of(recipe_name):
    """`(arch, batch_size, lr)` of a zoo recipe: the layers' settings conv_worker builds."""
    from keras_ae.zoo.recipes import RECIPES

    recipe = RECIPES[recipe_name]
    kw = recipe["kwargs"]
    shape = {"cifar10": (32, 32, 3), "celeba": (64, 64, 3)}[recipe["dataset"]]
    arch = {"input_shape": list(shape), "filters": list(kw["filters"]),
            "blocks_per_stage": kw.get("blocks_per_stage", 1), "latent_dim": kw["latent_dim"]}
    return arch, recipe["batch_size"], recipe["lr"]


def images(name, arch, n_train, n_test, real, log):
    """`(x_train, x_test, data record)`: the data set's first images in [0, 1], or uniform noise."""
    if real and name in DATASETS:
        from benchmarks.images import as_float, data_record, load_data

        try:
            x, xt, source, info = load_data(DATASETS[name])
        except (FileNotFoundError, OSError, ValueError) as e:
            log(f"conv {name}: {DATASETS[name]} not found ({type(e).__name__}: {e}); timing on uniform noise")
        else:
            if tuple(x.shape[1:]) == tuple(arch["input_shape"]) and len(x) >= n_train:
                return as_float(x[:n_train]), as_float(xt[:n_test]), data_record(
                    DATASETS[name], source, info, n_train, min(n_test, len(xt)))
            log(f"conv {name}: {DATASETS[name]} has {len(x)} images of {tuple(x.shape[1:])}, not {n_train} of "
                f"{tuple(arch['input_shape'])}; timing on uniform noise")
    rng = np.random.default_rng(0)
    shape = tuple(arch["input_shape"])
    return (rng.random((n_train,) + shape, dtype="float32"), rng.random((n_test,) + shape, dtype="float32"),
            {"name": "uniform noise", "title": "uniform noise in [0, 1]", "train_images": n_train,
             "test_images": n_test})


def pair_rows(name, spec, keras_runs, pairs, log, tmp):
    """One row per (backend, policy, jit_compile): `pairs` alternating keras-ae / pythae pairs in fresh processes."""
    def one(kind, backend, policy, seed, jit="auto"):
        path = os.path.join(tmp, f"{name}-{kind}-{backend}-{policy}-{jit}-{seed}.json")
        spec_path = path + ".spec"
        with open(spec_path, "w") as f:
            json.dump({**spec, "seed": seed, "dtype_policy": policy, "jit_compile": jit}, f)
        _run(["benchmarks.conv_worker", kind, path, spec_path], backend, log, prefix="conv")
        with open(path) as f:
            return json.load(f)

    rows = []
    for backend, policy, jit in keras_runs:
        ours, theirs = [], []
        for i in range(pairs):
            if i % 2:
                theirs.append(one("pythae", "torch", "float32", i))
                ours.append(one("keras_ae", backend, policy, i, jit))
            else:
                ours.append(one("keras_ae", backend, policy, i, jit))
                theirs.append(one("pythae", "torch", "float32", i))
        ratios = [a["samples_per_s"] / b["samples_per_s"] for a, b in zip(ours, theirs)]
        fractions = [a["fraction_of_peak"] for a in ours]
        med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
        rows.append({"backend": backend, "dtype_policy": policy, "jit_compile": ours[0]["versions"]["jit_compile"],
                     "pairs": pairs,
                     "keras_ae_samples_per_s": med(ours, "samples_per_s"),
                     "pythae_samples_per_s": med(theirs, "samples_per_s"), "ratios": ratios,
                     "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
                     "keras_ae_test_neg_elbo_seeds": [r["test_neg_elbo"] for r in ours],
                     "pythae_test_neg_elbo_seeds": [r["test_neg_elbo"] for r in theirs],
                     "train_flops_per_sample": ours[0]["train_flops_per_sample"],
                     "gflops": med(ours, "gflops"), "fractions_of_peak": fractions,
                     "fraction_of_peak": statistics.median(fractions),
                     "conv_peak_gflops": statistics.median(r["conv_peak"]["gflops"] for r in ours),
                     "conv_peak_after_gflops": med(ours, "conv_peak_after_gflops"),
                     "conv_peak": {k: ours[0]["conv_peak"][k] for k in ("dtype", "shape", "repeats")},
                     "busy_cpus": [r["busy_cpus"] for r in ours + theirs],
                     "keras_ae_versions": ours[0]["versions"], "pythae_versions": theirs[0]["versions"]})
        r = rows[-1]
        xla = ", XLA" if r["jit_compile"] is True else ""
        log(f"conv {name} {backend} {policy}{xla}: keras-ae / pythae = {r['ratio']:.2f} ({r['ratio_min']:.2f}-"
            f"{r['ratio_max']:.2f}), {r['fraction_of_peak']:.1%} of the conv peak")
    return rows


def run_conv_speed(log, quick=False, backends=("tensorflow", "torch"), archs=None, settings=None, real_data=None,
                   names=None):
    """The `conv_speed` record of results.json.

    Args:
        log: progress lines.
        quick: tiny sizes (`QUICK`), the CIFAR-10 architecture only, uniform noise: checks the harness.
        backends: keras-ae's backends, each in float32 and in its `EXTRA_RUNS`.
        archs: `{name: arch}` to time instead of `ARCHS` (tests use a tiny one); each arch is a dict of
            input_shape, filters, latent_dim, blocks_per_stage, and optionally batch_size.
        settings: overrides of warmup_steps, timed_steps, n_test, batch_size, pairs, peak.
        real_data: load the data sets (default: not when quick).
        names: the `ARCHS` to time (default: all; when quick, the first of them).
    """
    if importlib.util.find_spec("pythae") is None:
        return {"skipped": "pythae is not installed (pip install -e '.[bench]')"}
    s = dict(warmup_steps=WARMUP_STEPS, timed_steps=TIMED_STEPS, n_test=N_TEST, pairs=PAIRS, peak={})
    s.update(QUICK if quick else {})
    s.update(settings or {})
    if archs is None:
        archs = {}
        chosen = [(n, ARCHS[n]) for n in names] if names else list(ARCHS.items())
        for name, recipe in chosen[:1 if quick else None]:
            arch, batch, lr = arch_of(recipe)
            archs[name] = {**arch, "batch_size": batch, "lr": lr, "recipe": recipe}
    keras_runs = [(b, p, jit) for b in backends for p, jit in (("float32", "auto"), *EXTRA_RUNS.get(b, ()))]
    models = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, arch in archs.items():
            batch = s.get("batch_size") or arch.get("batch_size", 128)
            steps = s["warmup_steps"] + s["timed_steps"]
            x, xt, data = images(name, arch, steps * batch, s["n_test"],
                                 (not quick) if real_data is None else real_data, log)
            path = os.path.join(tmp, f"{name}.npz")
            np.savez(path, x_train=x, x_test=xt)
            del x, xt
            spec = {"arch": {k: arch[k] for k in ("input_shape", "filters", "latent_dim")}
                    | {"blocks_per_stage": arch.get("blocks_per_stage", 1)},
                    "data": path, "batch_size": batch, "lr": arch.get("lr", 1e-3),
                    "warmup_steps": s["warmup_steps"], "peak": s["peak"]}
            log(f"conv {name}: {spec['arch']}, batch {batch}, {s['warmup_steps']} untimed + {s['timed_steps']} "
                f"timed steps, {s['pairs']} pairs")
            models.append({"name": name, "recipe": arch.get("recipe"), "arch": spec["arch"], "batch_size": batch,
                           "lr": spec["lr"], "warmup_steps": s["warmup_steps"], "timed_steps": s["timed_steps"],
                           "data": data,
                           "rows": pair_rows(name, spec, keras_runs, s["pairs"], log, tmp)})
    return {"cpus": os.cpu_count(), "models": models}
