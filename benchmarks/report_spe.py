"""The RESULTS.md section of `python -m benchmarks --steps-per-execution` (benchmarks/spe_pairs.py): `keras-ae
train`'s steps per call on each backend, decided from alternating pairs of fresh processes."""

from benchmarks.report_conv_speed import BACKEND_NAMES, _n, busy_lines
from benchmarks.report_format import _table, made_by

KINDS = {"dense": "dense", "image": "image (conv)"}


def spe_section(record, run=None):
    """The section for results.json's `steps_per_execution` record; `run` names the command that made it."""
    c, t = record["candidate"], record["threshold"]
    lines = ["## Steps per call of `keras-ae train` (`steps_per_execution`)", "", made_by(run), ""]
    models = ", ".join(f"{KINDS.get(kind, kind)}: `{m['variant']}` on {m['images']:,} uint8 noise images of "
                       f"{'x'.join(str(d) for d in m['shape'])}, {_n(m['epochs'], 'epoch')} (the first untimed)"
                       for kind, m in record["models"].items())
    lines += [f"Each pair trains the same model from the same seed on the same images in two fresh processes, back "
              f"to back, one with `steps_per_execution=1` and one with {c}, alternating which goes first, as "
              f"`keras-ae train` trains (`training_dataset`, batch {record['batch_size']}, Adam, `fit_model`), without "
              f"its checkpoint and validation. Samples/s are over the timed epochs. The ratio is {c} steps' samples/s ÷ 1 step's, per "
              f"pair. Models: {models}.", "",
              f"Decision rule: `keras-ae train` runs {c} steps per call for a kind of model on a backend only if the "
              f"median ratio of that run is at least {t}, else 1; the run writes the decisions into "
              "`keras_ae/steps_per_execution.json`, which `keras-ae train` reads (1 for a backend or kind without "
              "a row).", ""]
    rows, skipped = [], []
    for backend, rec in record["backends"].items():
        name = BACKEND_NAMES.get(backend, backend)
        if "skipped" in rec:
            skipped.append(f"{name}: not timed: {rec['skipped']}.")
            continue
        for kind, r in rec["models"].items():
            rows.append([name, KINDS.get(kind, kind), f"{r['one_step_samples_per_s']:.0f}",
                         f"{r['candidate_samples_per_s']:.0f}", f"{r['ratio']:.2f}",
                         f"{r['ratio_min']:.2f}–{r['ratio_max']:.2f} ({_n(r['pairs'], 'pair')})",
                         f"**{r['steps_per_execution']}**"])
    lines += [_table(["backend", "model", "samples/s, 1 step (median)", f"samples/s, {c} steps (median)",
                      "median ratio", "pair range", "steps per call"], rows), ""]
    lines += skipped + ([""] if skipped else [])
    busy = [v for rec in record["backends"].values() for r in rec.get("models", {}).values() for v in r["busy_cpus"]]
    return lines + busy_lines(busy, record.get("cpus"), "the pairs' spread shows how much the machine moved",
                              "the decisions rest on a noisy run; rerun on an idle machine before trusting them")
