"""The data-parallelism section of RESULTS.md (`python -m benchmarks --data-parallel`, benchmarks/data_parallel.py):
two processes against one on the same global batches, per backend and variant.

`torch_target_row` is the one place issue 40's PyTorch verdict is made: the section and the targets table at the
top of RESULTS (benchmarks/report_targets_open.py) both call it. No Keras here.
"""

from benchmarks.report_format import _table, made_by

LOSS_TARGET = 1e-5  # issue 40: the same loss to 1e-5 (relative)
HEADING = "Data parallelism: two processes against one on the same batches"
BACKEND_NAMES = {"torch": "PyTorch", "jax": "JAX"}
TARGET = ["PyTorch 2-process DataParallel ÷ one process on the same batches", "one process", "same loss to 1e-5"]


def torch_target_row(part):
    """Issue 40's PyTorch row, `[measure, anchor, target, measured, how far]`, from the worst PyTorch variant of the
    `data_parallel` part; "not measured yet" without PyTorch rows."""
    rows = [r for r in (part or {}).get("rows", []) if r["backend"] == "torch"]
    if not rows:
        return TARGET + ["not measured yet", "—"]
    worst = max(rows, key=lambda r: r["loss_max_rel_diff"])
    d = worst["loss_max_rel_diff"]
    weights = max(r["weights_max_abs_diff"] for r in rows)
    measured = (f"max relative loss difference {d:.1e} ({worst['variant']}, the worst of "
                f"{', '.join(r['variant'] for r in rows)}); final weights within {weights:.1e}")
    ok = d <= LOSS_TARGET
    return TARGET + [measured, ("met, " if ok else "**missed** by ") + f"{abs(LOSS_TARGET - d):.1e}"
                     + (" under" if ok else "")]


def _seconds(row, which):
    return f"{row[f'seconds_{which}']:.1f} ({row[f'fit_seconds_{which}']:.2f})"


def data_parallel_section(part, run=None):
    """The section for results.json's `data_parallel` part."""
    s = part["settings"]
    n = s["processes"]
    lines = [f"## {HEADING}", "", made_by(run), ""]
    lines += [f"Each variant's small test model (`keras_ae.testing.small_model`) trained with {s['optimizer']} "
              f"(learning rate {s['lr']}) for {s['epochs']} epoch{'s' if s['epochs'] != 1 else ''} on {s['rows']:,} {s['data']}, unshuffled, in "
              f"global batches of {s['batch']}: in {n} processes on {s['host']} ({s['device']}, {s['collectives']} "
              f"collectives; {s['batch'] // n} rows of each global batch from each process), and in one process fed "
              "the same global batches in the same order, each in fresh processes "
              "(`benchmarks/data_parallel_worker.py`, which the tests run too). PyTorch: "
              f"`keras_ae.distributed.torch_data_parallel` under `torchrun --nproc_per_node {n}` (its module says "
              "why not `keras.distribution.DataParallel` there); JAX: `keras.distribution.DataParallel` across "
              f"{n} `jax.distributed` processes.", "",
              "Loss: the largest relative difference, over the epochs, between the mean of the processes' logged "
              "losses (on PyTorch each logs its own shard's) and the one process's. Weights: the largest absolute "
              "difference of any final weight of any process from the one process's. Seconds: the launch's wall "
              "time (processes started to results written), with `fit`'s in brackets; information only, as the "
              "data are tiny and start-up dominates.", ""]
    if part.get("skipped"):
        lines += ["Not run: " + "; ".join(f"{BACKEND_NAMES.get(b, b)} ({why})" for b, why in part["skipped"].items())
                  + ".", ""]
    rows = [[BACKEND_NAMES.get(r["backend"], r["backend"]), r["variant"], f"{r['loss_max_rel_diff']:.1e}",
             f"{r['weights_max_abs_diff']:.1e}", _seconds(r, "single"), _seconds(r, n),
             "met" if r["loss_max_rel_diff"] <= LOSS_TARGET else "**missed**"] for r in part["rows"]]
    lines += [_table(["backend", "variant", "loss: max relative difference", "weights: max absolute difference",
                      "one process: s (fit s)", f"{n} processes: s (fit s)", "loss within 1e-5"], rows), ""]
    lines += ["Target (issue 40):", "", _table(["measure", "anchor", "target", "measured", "how far from the target"],
                                              [torch_target_row(part)]), ""]
    return lines
