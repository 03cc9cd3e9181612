"""The RESULTS.md section of `python -m benchmarks --jax-conv` (benchmarks/jax_conv.py): conv training on JAX
against TensorFlow, one setting at a time, and what `--backend auto` picks for those variants."""

import statistics

from benchmarks.report_format import _table, _verdict, made_by

TARGET = 0.5  # JAX conv ÷ TensorFlow conv, same model (issue 40), unless auto never picks JAX for it
NOTES = {
    "XLA_FLAGS=--xla_cpu_use_thunk_runtime=false": "jaxlib ignores it (\"no longer supported\"): a noise check",
    "functional twin, channels_last": "the same layers as a functional model, standard loss: the control of "
                                      "the channels_first row",
    "functional twin, channels_first": "the twin's layers cloned into NCHW (TensorFlow stays NHWC)",
    "Conv2DTranspose kernel gradient through the strided convolution":
        "benchmark-only rewrite (benchmarks/jax_conv_worker.py), same values",
    "MaxPooling2D as a reshape and a max": "benchmark-only rewrite (benchmarks/jax_conv_worker.py), same values "
                                           "(gradients split between equal maxima)",
}
NOISE_CHECK = "XLA_FLAGS=--xla_cpu_use_thunk_runtime=false"


def _auto_choice(speed, variant):
    """The backend the speed figures make fastest for `variant` (what `--backend auto` reads), or None."""
    rates = {b: r["keras_ae"] for b, rec in (speed or {}).get("backends", {}).items() if isinstance(rec, dict)
             for r in rec.get("training", []) if r["variant"] == variant}
    return max(rates, key=rates.get) if rates else None


def jax_conv_section(record, run, speed=None):
    lines = ["## JAX convolutions against TensorFlow, setting by setting", "", made_by(run), ""]
    if "skipped" in record:
        return lines + [f"Skipped: {record['skipped']}.", ""]
    lines += [f"Each row: {record['pairs']} pair{'s' if record['pairs'] != 1 else ''} of fresh processes per "
              "setting, the variant's training on JAX under the setting against TensorFlow's default at the same "
              "batch size, back to back, alternating which goes first; one epoch of "
              f"{record['warmup_steps']} untimed + {record['timed_steps']} timed steps on 28x28x1 noise, Adam. "
              "The figure is the median of the pairs' JAX ÷ TensorFlow samples/s; \"÷ default\" divides it by the "
              "variant's default row, so above 1 the setting helps. \"CPUs busy\" is how many of the "
              f"{record['cpus']} CPUs other processes kept busy in the second before each run (the median): "
              "with other work on the machine the samples/s are low, and only the paired ratios compare. Keras's "
              "JAX trainer already donates the train step's state (`donate_argnums=0`), so donation is no row.", ""]
    by_variant = {}
    for r in record["rows"]:
        by_variant.setdefault(r["variant"], []).append(r)
    verdicts = []
    for variant, rows in by_variant.items():
        default = next((r["ratio"] for r in rows if r["setting"] == "default"), None)
        table = [[r["setting"], r["batch_size"], f"{r['jax_samples_per_s']:.0f}",
                  f"{r['tensorflow_samples_per_s']:.0f}",
                  f"{r['ratio']:.3f}" + (f" ({r['ratio_min']:.3f}–{r['ratio_max']:.3f})" if r["pairs"] > 1 else ""),
                  f"{r['ratio'] / default:.2f}" if default else "—",
                  f"{statistics.median(r['busy_cpus']):.1f}", NOTES.get(r["setting"], "")] for r in rows]
        lines += [f"### {variant}", "",
                  _table(["setting", "batch", "JAX samples/s", "TensorFlow samples/s", "JAX ÷ TensorFlow",
                          "÷ default", "CPUs busy", "note"], table), ""]
        noise = next((r["ratio"] / default for r in rows if r["setting"] == NOISE_CHECK and default), None)
        if noise is not None:
            lines += [f"The ignored flag's row is {noise:.2f} × the default: a setting whose \"÷ default\" is no "
                      "further from 1 than that is within this run's noise.", ""]
        best = max(rows, key=lambda r: r["ratio"])
        auto = _auto_choice(speed, variant)
        ok = (default is not None and default >= TARGET) or (auto is not None and auto != "jax")
        verdicts.append(f"- {variant}: JAX ÷ TensorFlow {default:.2f} by default" if default is not None
                        else f"- {variant}: no default row")
        verdicts[-1] += (f", {best['ratio']:.2f} at best ({best['setting']}); `--backend auto` picks "
                         f"{auto or 'Keras default (TensorFlow)'} from the speed figures: {_verdict(ok)}.")
    lines += [f"Target (issue 40): JAX conv ÷ TensorFlow conv on the same model ≥ {TARGET}, or `--backend auto` "
              "never picks JAX for it.", "", *verdicts, ""]
    return lines
