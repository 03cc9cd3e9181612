"""The `--data-parallel` part: two processes against one on the same global batches (issue 40, item 5).

    python -m benchmarks --data-parallel        # PyTorch and JAX, two variants each (a few minutes here)

For each backend with multi-process data parallelism (PyTorch: `keras_ae.distributed.torch_data_parallel`
under torchrun, gloo; JAX: `keras.distribution.DataParallel` across two `jax.distributed` processes, gloo
collectives) and each of `VARIANTS`, it trains the variant's small test model in two processes on
127.0.0.1, CPU only, and in one process on the same global batches
(benchmarks/data_parallel_worker.py, which the tests run too), each in fresh processes, and records:

- the max relative difference of the per-epoch losses (target: ≤ 1e-5, benchmarks/report_data_parallel.py);
- the max absolute difference of any final weight of either process from the one process's;
- the wall time of each launch (processes started to results written) and of each `fit`, as information only:
  the data set is tiny, so start-up and the collectives dominate.
"""

import tempfile

from benchmarks.data_parallel_worker import HOST, compare, launch

VARIANTS = ("undercomplete", "contractive")
BACKENDS = ("torch", "jax")
NPROC = 2
SETTINGS = {"rows": 1024, "batch": 64, "epochs": 3, "lr": 0.1}  # global batch 64: 32 rows per process
QUICK = {"rows": 64, "batch": 32, "epochs": 1, "lr": 0.1}


def _available(backend):
    import importlib.util

    return importlib.util.find_spec(backend) is not None


def run_data_parallel(log, quick=False, backends=BACKENDS, variants=VARIANTS, run=launch):
    """results.json's `data_parallel` part: the settings and one row per backend and variant.

    `run(backend, variant, out, nproc=..., settings=...)` returns `(results, seconds)` as
    `benchmarks.data_parallel_worker.launch` does (the tests pass a stand-in).
    """
    settings = QUICK if quick else SETTINGS
    rows, skipped = [], {}
    for backend in backends:
        if not _available(backend):
            skipped[backend] = f"{backend} is not installed"
            log(f"data parallel: {skipped[backend]}")
            continue
        for variant in variants:
            with tempfile.TemporaryDirectory() as out:
                (single,), one_seconds = run(backend, variant, out, nproc=1, settings=settings)
                ranks, many_seconds = run(backend, variant, out, nproc=NPROC, settings=settings)
            row = {"backend": backend, "variant": variant, "processes": NPROC, **compare(single, ranks),
                   "loss_single": single["loss"], "seconds_single": round(one_seconds, 2),
                   f"seconds_{NPROC}": round(many_seconds, 2), "fit_seconds_single": round(single["fit_seconds"], 3),
                   f"fit_seconds_{NPROC}": round(max(r["fit_seconds"] for r in ranks), 3),
                   "address": ranks[0].get("address")}
            log(f"data parallel, {backend} {variant}: loss max rel diff {row['loss_max_rel_diff']:.2e}, weights max "
                f"abs diff {row['weights_max_abs_diff']:.2e} ({one_seconds:.1f} s one process, "
                f"{many_seconds:.1f} s {NPROC})")
            rows.append(row)
    return {"settings": {**settings, "processes": NPROC, "optimizer": "SGD", "collectives": "gloo", "device": "CPU",
                         "host": HOST, "data": "uniform random rows in [0, 1) (seed 0)"},
            "rows": rows, "skipped": skipped}
