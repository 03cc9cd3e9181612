"""The RESULTS.md section of `python -m benchmarks --conv-speed` (benchmarks/conv_speed.py): the zoo's
residual conv VAEs as keras-ae `fit` against pythae's `TrainingPipeline`, and their FLOP rate against the
backend's conv peak timed in the same process."""

import statistics

from benchmarks.report_format import _table, _verdict, made_by

PEER_TARGET = 1.5  # keras-ae on its best backend ÷ pythae (issue 40)
PEAK_TARGET = 0.50  # conv VAE FLOP rate ÷ the backend's conv peak, best backend (issue 40)
BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}

DIFFERENCES = [
    "Layout: PyTorch's NCHW against keras-ae's NHWC (Keras's own choice on every backend); the flattened map "
    "is ordered (C, H, W) instead of (H, W, C), a permutation of the dense weights.",
    "The stride-2 convolutions pad one pixel on each side in PyTorch, only bottom and right in Keras "
    "(\"same\"): same sizes and FLOPs, the grid shifted by a pixel.",
    "Initial weights from the same distribution (Glorot uniform, zero biases), not the same values.",
    "Batch norm with Keras's epsilon 1e-3 and momentum 0.99 on both sides.",
    "pythae's `VAE` has no Gaussian decoder with a learned scale (its \"mse\" is a fixed variance), so its "
    "`loss_function` is overridden with keras-ae's (`keras_ae.losses.gaussian_nll` and the closed-form KL); "
    "pythae's trainer, data loader and Adam are its own.",
]


def _n(count, noun):
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def _elbo(values):
    m, sd = _mean_sd(values)
    return f"{m:.1f} ± {sd:.1f}"


def _row_name(r):
    """E.g. "TensorFlow, float32, XLA": XLA only where the run compiled with it (`jit_compile`)."""
    return (f"{BACKEND_NAMES.get(r['backend'], r['backend'])}, {r['dtype_policy']}"
            + (", XLA" if r.get("jit_compile") is True else ""))


def _spe_tried(spe, backend):
    """What the steps-per-call run measured for image models on `backend`, as a "tried" clause ('' if not run)."""
    r = (((spe or {}).get("backends") or {}).get(backend) or {}).get("models", {}).get("image")
    if not r:
        return ""
    return (f", and {spe['candidate']} training steps per call, {r['ratio']:.2f}× one step for `keras-ae train`'s "
            f"`{spe['models']['image']['variant']}` model on {BACKEND_NAMES.get(backend, backend)} (section \"Steps "
            f"per call of `keras-ae train`\"; {r['steps_per_execution']} kept), not timed here")


def _model_lines(m, cpus=None, spe=None):
    arch = m["arch"]
    h, w, c = arch["input_shape"]
    rows = [[_row_name(r), f"{r['keras_ae_samples_per_s']:.1f}", f"{r['pythae_samples_per_s']:.1f}",
             f"{r['ratio']:.2f}", f"{r['ratio_min']:.2f}–{r['ratio_max']:.2f} ({_n(r['pairs'], 'pair')})",
             _elbo(r["keras_ae_test_neg_elbo_seeds"]), _elbo(r["pythae_test_neg_elbo_seeds"]),
             f"{r['gflops']:.1f}", f"{r['conv_peak_gflops']:.1f} / {r['conv_peak_after_gflops']:.1f}",
             f"{r['fraction_of_peak']:.1%}"] for r in m["rows"]]
    data = m["data"]
    lines = [f"### {m['name']}: {'-'.join(str(f) for f in arch['filters'])} filters, "
             f"{arch['blocks_per_stage']} block per stage, {arch['latent_dim']}-D latent, {h}x{w}x{c}"
             + (f" (the zoo's `{m['recipe']}`)" if m.get("recipe") else ""), "",
             f"Batch {m['batch_size']}, Adam {m['lr']:g}, one epoch on the first {data['train_images']:,} images "
             f"of {data['title']}: {_n(m['warmup_steps'], 'untimed step')}, then {m['timed_steps']} timed. "
             f"Test -ELBO on {data['test_images']:,} test images after that training "
             "(one z per image, fixed seed), mean ± sd over the pairs' seeds. Training FLOPs per image: "
             f"{m['rows'][0]['train_flops_per_sample'] / 1e9:.3f} G." if m["rows"] else "", "",
             _table(["keras-ae backend, policy", "keras-ae samples/s", "pythae samples/s", "median ratio",
                     "pair range", "keras-ae test -ELBO", "pythae test -ELBO", "keras-ae GFLOP/s",
                     "conv peak before / after (GFLOP/s)", "of peak"], rows), ""]
    if not m["rows"]:
        return lines
    f32 = [r for r in m["rows"] if r["dtype_policy"] == "float32"]
    verdicts = []
    if f32:
        best = max(f32, key=lambda r: r["ratio"])
        verdicts.append(f"keras-ae on its best backend ≥ {PEER_TARGET}× pythae, in float32 (pythae's arithmetic): "
                        f"{_verdict(best['ratio'] >= PEER_TARGET)} ({_row_name(best)}, {best['ratio']:.2f}×"
                        + (f", short by {PEER_TARGET - best['ratio']:.2f}" if best["ratio"] < PEER_TARGET else "")
                        + ").")
        if best["ratio"] < PEER_TARGET:
            verdicts.append("Tried for it: each row of the table (" + "; ".join(
                f"{_row_name(r)} {r['ratio']:.2f}×" for r in m["rows"]) + ")" + _spe_tried(spe, best["backend"]) + ".")
    other = [r for r in m["rows"] if r["dtype_policy"] != "float32"]
    if other:
        best = max(other, key=lambda r: r["ratio"])
        verdicts.append(f"Under the zoo's {best['dtype_policy']} (other arithmetic than pythae's float32): "
                        f"{best['ratio']:.2f}× ({_row_name(best)}).")
    top = max(m["rows"], key=lambda r: r["fraction_of_peak"])
    verdicts.append(f"FLOP rate ≥ {PEAK_TARGET:.0%} of the conv peak on the best backend: "
                    f"{_verdict(top['fraction_of_peak'] >= PEAK_TARGET)} ({_row_name(top)}, "
                    f"{top['fraction_of_peak']:.1%}"
                    + (f", short by {(PEAK_TARGET - top['fraction_of_peak']) * 100:.1f} points"
                       if top["fraction_of_peak"] < PEAK_TARGET else "") + ").")
    lines += ["Targets: " + " ".join(verdicts), ""]
    return lines + busy_lines([v for r in m["rows"] for v in r.get("busy_cpus", [])], cpus,
                              "PyTorch's thread pool slows most when the CPUs are shared",
                              "these are not the figures of a quiet machine that the targets ask for")


def busy_lines(busy, cpus, note, consequence, process="training process"):
    """The paragraph on how busy the machine was: `busy` holds, per process, the CPUs other processes kept
    busy in the second before it started (`benchmarks.conv_worker.busy_cpus`; NaN without /proc/stat)."""
    busy = [v for v in busy if v == v]
    if not busy:
        return []
    return [f"CPUs kept busy by other processes in the second before each {process} started: "
            f"{min(busy):.2f}–{max(busy):.2f} of {cpus or '?'} (near 0 when the run had the machine to itself; "
            f"{note})."
            + (f" **The machine was busy** (other work on half of its {cpus} CPUs or more before some run): "
               f"{consequence}." if cpus and max(busy) >= cpus / 2 else ""), ""]


def merge_conv_speed(old, new):
    """A run's `conv_speed` part merged into the one before: its architectures replace theirs, the others stay
    (each model record keeps the `run` that made it). A skipped run keeps what was measured before."""
    if "skipped" in new:
        return old if (old or {}).get("models") else new
    names = {m["name"] for m in new.get("models", [])}
    kept = [m for m in (old or {}).get("models", []) if m["name"] not in names]
    return {**new, "models": kept + new.get("models", [])}


def conv_speed_section(record, run=None, spe=None):
    """The section for results.json's `conv_speed` record; `run` names the command that made it, and `spe`
    (results.json's `steps_per_execution` record, if measured) what more steps per call did for image models."""
    models = record.get("models", [])
    made = made_by(*[(m.get("run") or run, m["name"]) for m in models]) if models else made_by(run)
    head = ["## Conv VAE speed against pythae and against the conv peak", "", made, ""]
    if "skipped" in record:
        return head + [f"Skipped: {record['skipped']}.", ""]
    first = next((r for m in models for r in m["rows"]), None)
    if first is None:
        return head + ["No keras-ae backend ran.", ""]
    pv, peak = first["pythae_versions"], first["conv_peak"]
    s = peak["shape"]
    lines = head + [
        "The same residual conv VAE trained by keras-ae `fit` and by pythae "
        f"{pv.get('pythae')} `TrainingPipeline` (torch {pv.get('torch')}, {pv.get('torch_threads')} threads) "
        "with the same layers rebuilt as PyTorch modules (`benchmarks/conv_pythae.py`). Each pair runs both in "
        "fresh processes, back to back, alternating which goes first, both seeded with the pair's number; "
        "samples/s are over the timed steps, from the end of the last untimed step to the end of the last "
        "step, each read in the trainer's own end-of-step callback (so what either trainer does once per "
        "epoch, e.g. pythae's copy of the best model, is left out: a real epoch spreads it over hundreds of "
        "steps). The ratio is keras-ae ÷ pythae per pair, then the median of the pairs.", "",
        "Fraction of peak: keras-ae's training FLOP rate (samples/s × FLOPs per image, counted from the layers "
        "by `benchmarks/conv_flops.py`: 2·H_out·W_out·k²·C_in·C_out per convolution, 2·in·out per dense layer, "
        "3× the forward pass for training) ÷ the best rate of one 3x3 \"same\" convolution through "
        f"`keras.ops.conv`, NHWC, {s['batch']}×{s['size']}×{s['size']}×{s['channels']} to {s['channels']} "
        f"channels, in the model's compute dtype, best of {_n(peak['repeats'], 'call')}, timed in the same "
        "process right before `fit`; the peak timed right after `fit` is shown beside it, to show how much the "
        "machine moved meanwhile. Medians over the pairs.", ""]
    for m in models:
        lines += _model_lines(m, record.get("cpus"), spe)
    lines += ["What differs between the two sides:", ""] + [f"- {d}" for d in DIFFERENCES] + [""]
    return lines
