"""JAX's CPU convolutions against TensorFlow's, one setting at a time (`python -m benchmarks --jax-conv`).

For each convolutional variant of `VARIANTS` (built as the speed benchmark builds it, 28x28x1) and each
setting of `SETTINGS` that applies to it, a pair is two fresh processes (`benchmarks.jax_conv_worker`): the
variant's training steps on JAX under the setting, and on TensorFlow as it is by default at the same batch
size, back to back, alternating which goes first, on the same images. The row's figure is the median over its
pairs of JAX's samples/s ÷ TensorFlow's; a setting helps when its ratio beats the "default" row's. Pairing
against TensorFlow each time keeps the figure meaningful while other work shares the CPU.

A setting is any of: `batch_size`; `xla_flags` (JAX's `XLA_FLAGS`); `precision`
(`jax_default_matmul_precision`); `data_format` (the same layers in channels_first); `patch` (one JAX op
computed another way: `benchmarks.jax_conv_worker.PATCHES`). Buffer donation is not a setting: Keras's JAX
trainer already jits its train step with `donate_argnums=0` (the model's state).
"""

import json
import os
import statistics
import tempfile

from benchmarks.speed import _run

VARIANTS = ("conv_vae", "convolutional")
BATCH = 128  # the speed benchmark's batch for the VAEs; its dense autoencoders use 256
# name -> (the setting, the variants it applies to or None for all).
SETTINGS = {
    "default": ({}, None),
    "batch 32": ({"batch_size": 32}, None),
    "batch 512": ({"batch_size": 512}, None),
    "XLA_FLAGS=--xla_cpu_multi_thread_eigen=false": ({"xla_flags": "--xla_cpu_multi_thread_eigen=false"}, None),
    # jaxlib 0.10 warns that the flag is no longer supported and ignores it: the row doubles as a noise check.
    "XLA_FLAGS=--xla_cpu_use_thunk_runtime=false": ({"xla_flags": "--xla_cpu_use_thunk_runtime=false"}, None),
    "jax_default_matmul_precision=highest": ({"precision": "highest"}, None),
    "jax_default_matmul_precision=bfloat16": ({"precision": "bfloat16"}, None),
    "functional twin, channels_last": ({"data_format": "channels_last_twin"}, None),
    "functional twin, channels_first": ({"data_format": "channels_first"}, None),
    "Conv2DTranspose kernel gradient through the strided convolution": (
        {"patch": "conv_transpose_vjp"}, ("conv_vae",)),
    "MaxPooling2D as a reshape and a max": ({"patch": "maxpool_reshape"}, ("convolutional",)),
}
PAIRS = 3
WARMUP_STEPS, TIMED_STEPS = 1, 3  # the first step compiles: untimed
QUICK = dict(pairs=1, warmup_steps=1, timed_steps=1, batch_size=8, settings=("default", "batch 32"))


def pair_row(variant, name, setting, s, log, tmp):
    """`s["pairs"]` alternating pairs: JAX under `setting` against TensorFlow's default, same batch size."""
    batch = setting.get("batch_size", s["batch_size"])

    def one(backend, seed, in_setting):
        spec = {"variant": variant, "batch_size": batch, "warmup_steps": s["warmup_steps"],
                "timed_steps": s["timed_steps"], "seed": seed}
        if in_setting:
            spec.update({k: setting[k] for k in ("precision", "data_format", "patch") if k in setting})
        path = os.path.join(tmp, f"{variant}-{backend}-{seed}.json")
        with open(path + ".spec", "w") as f:
            json.dump(spec, f)
        env = {"XLA_FLAGS": setting["xla_flags"]} if in_setting and "xla_flags" in setting else None
        _run(["benchmarks.jax_conv_worker", path, path + ".spec"], backend, log, prefix="jax-conv", env=env)
        with open(path) as f:
            return json.load(f)

    jax_runs, tf_runs = [], []
    for i in range(s["pairs"]):
        if i % 2:
            tf_runs.append(one("tensorflow", i, False))
            jax_runs.append(one("jax", i, True))
        else:
            jax_runs.append(one("jax", i, True))
            tf_runs.append(one("tensorflow", i, False))
    ratios = [a["samples_per_s"] / b["samples_per_s"] for a, b in zip(jax_runs, tf_runs)]
    row = {"variant": variant, "setting": name, **{k: v for k, v in setting.items() if k != "batch_size"},
           "batch_size": batch, "pairs": s["pairs"],
           "jax_samples_per_s": statistics.median(r["samples_per_s"] for r in jax_runs),
           "tensorflow_samples_per_s": statistics.median(r["samples_per_s"] for r in tf_runs),
           "ratios": ratios, "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
           "busy_cpus": [r["busy_cpus"] for r in jax_runs + tf_runs]}
    log(f"jax-conv {variant} [{name}]: JAX / TensorFlow = {row['ratio']:.3f} ({row['ratio_min']:.3f}-"
        f"{row['ratio_max']:.3f}), {row['jax_samples_per_s']:.0f} vs {row['tensorflow_samples_per_s']:.0f} samples/s")
    return row


def run_jax_conv(log, quick=False, variants=VARIANTS, settings=None, options=None):
    """The `jax_conv` record of results.json.

    Args:
        log: progress lines.
        quick: `QUICK` sizes and settings, to check the harness.
        variants: the convolutional variants timed.
        settings: names of `SETTINGS` to time (default: all; each only on the variants it applies to).
        options: overrides of pairs, warmup_steps, timed_steps, batch_size.
    """
    import importlib.util

    if importlib.util.find_spec("jax") is None:
        return {"skipped": "jax is not installed (pip install -e '.[jax]')"}
    s = dict(pairs=PAIRS, warmup_steps=WARMUP_STEPS, timed_steps=TIMED_STEPS, batch_size=BATCH)
    s.update({k: v for k, v in QUICK.items() if k != "settings"} if quick else {})
    s.update(options or {})
    names = settings or (QUICK["settings"] if quick else list(SETTINGS))
    unknown = sorted(set(names) - set(SETTINGS))
    if unknown:
        raise ValueError(f"unknown jax-conv settings {unknown}; expected some of {list(SETTINGS)}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant in variants:
            for name in names:
                setting, only = SETTINGS[name]
                if only is None or variant in only:
                    if quick and "batch_size" in setting:
                        setting = {**setting, "batch_size": min(setting["batch_size"], 2 * s["batch_size"])}
                    rows.append(pair_row(variant, name, setting, s, log, tmp))
    return {"cpus": os.cpu_count(), "pairs": s["pairs"], "warmup_steps": s["warmup_steps"],
            "timed_steps": s["timed_steps"], "rows": rows}
