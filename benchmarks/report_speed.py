"""The speed sections of RESULTS.md (training against plain Keras twins, input paths, pythae, FLOP rate,
inference, latency, scaling, memory), and how a new speed run keeps the run before's figures beside its own."""

import statistics

from benchmarks.report_format import _f, _table, _verdict, made_by

TRAIN_RATIO_TARGET = 0.95
PEAK_FRACTION_TARGET = 0.60

BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


def speed_section(s, run=None, part_runs=None):
    """The speed sections; `run` says which command made them, and when, and `part_runs` ({part: run}) which
    later `--speed-parts` runs remeasured some of them."""
    if "backends" not in s:
        return ["## Speed", "", "(from an earlier harness; rerun `python -m benchmarks --speed`)", ""]
    runs = {b: r for b, r in s["backends"].items() if "skipped" not in r}
    if not runs:
        return ["## Speed on every backend", "", made_by(run), "", "No backend ran: " + "; ".join(
            f"{b}: {r['skipped']}" for b, r in s["backends"].items()) + ".", ""]
    later = {p: r for p, r in (part_runs or {}).items() if r}
    made = (made_by(run) + " Every table below is from that run." if not later else
            made_by((run, "the other tables"), *[(r, PART_TABLES.get(p, p)) for p, r in later.items()]))
    lines = ["## Speed on every backend", "", made, "",
             "One process per backend, the same images, one run. Every throughput is paired with a reference "
             "measured in the same process back to back, alternating which goes first; ratios are medians over "
             "the pairs, because the machine is shared. Peak = best fp32 2048×2048 matmul rate of that backend, "
             "measured in the same run.", ""]
    for b, r in s["backends"].items():
        if "skipped" in r:
            lines += [f"{BACKEND_NAMES[b]}: skipped ({r['skipped']}).", ""]
    lines += [_table(["backend", "matmul peak (GFLOP/s)", "threads"],
                     [[BACKEND_NAMES[b], f"{r['matmul_peak_gflops']:.1f}",
                       ", ".join(f"{k} {v}" for k, v in r["threads"].items() if v != "") or "default"]
                      for b, r in runs.items()]), ""]
    lines += _training_lines(runs, s.get("previous"))
    lines += _path_lines(runs)
    lines += _peer_lines(s.get("peer", {}))
    lines += _flop_lines(runs, s.get("previous"))
    lines += _inference_lines(runs)
    lines += _scaling_lines(runs)
    lines += _rss_lines(s.get("peak_rss", []))
    return lines


# What was done about ratios below target, each with the commit that did it. Shown under the
# backend tables whenever a ratio misses, beside how much it misses by and the run before's figure.
TRAINING_ATTEMPTS = [
    "The VAE loss reports its reconstruction term as the bound minus β·KL instead of reducing it a "
    "second time (3a23b4d): the convolutional VAE's JAX step went from 116 to 143 samples/s against the "
    "twin's 144 and 136 in one process, and its ratio from 0.84 to 1.05 in the next full run (b4e3374).",
    "The twins compute what keras-ae computes: the contractive twin's cloned encoder adds the same "
    "Jacobian penalty (abc0373) and the IWAE twin the same k-sample bound (333eb0b).",
    "Against noise: each timed `fit` runs whole epochs of about 3 s so that the fixed cost of a call "
    "weighs alike for every variant (333eb0b), and each ratio is the median of pairs timed back to back "
    "in alternating order (265fed9).",
    "Nothing else was changed for a miss: keras-ae's `train_step` is Keras's own (its losses are "
    "`compute_loss`), so a miss whose pair range reaches 1, or that the run before met, is read as this "
    "shared machine's noise. The pair ranges in the tables show how far one pair of the same layers can "
    "stray.",
]


def _training_lines(runs, previous=None):
    lines = []
    variants = [r["variant"] for r in next(iter(runs.values()))["training"]]
    rows = []
    for v in variants:
        speeds = {b: next(t for t in r["training"] if t["variant"] == v)["keras_ae"] for b, r in runs.items()}
        best = max(speeds, key=speeds.get)
        rows.append([v] + [f"{speeds[b]:.0f}" for b in runs] + [BACKEND_NAMES[best]])
    n_train = next(iter(runs.values())).get("n_train")
    lines += ["### Training: which backend is fastest for each variant", "",
              "keras-ae samples/s with plain `fit` on in-memory arrays (batch 128 for VAEs, 256 otherwise; "
              f"timed epochs on {f'{n_train:,}' if n_train else 'the first 10,240'} training images after a "
              "warm-up `fit` that compiles"
              + ("; each timed `fit` runs as many whole epochs as take about 3 s, the `epochs` column below"
                 if any("epochs" in t for r in runs.values() for t in r["training"]) else "") + ").", "",
              _table(["variant"] + [BACKEND_NAMES[b] for b in runs] + ["fastest"], rows), ""]
    prev = (previous or {}).get("backends", {})
    if prev:
        lines += [f"The `previous run` column is the same ratio from the speed run before this one "
                  f"({previous.get('date') or 'date not recorded'}), kept in results.json.", ""]
    for b, r in runs.items():
        before = prev.get(b, {})
        rows = [[t["variant"], f"{t['keras_ae']:.0f}", f"{t['reference']:.0f}", t["reference_kind"],
                 str(t.get("epochs", "")), f"{t['ratio']:.3f}", _spread(t),
                 "yes" if t["ratio"] >= TRAIN_RATIO_TARGET else "**no**"]
                + ([f"{before[t['variant']]['ratio']:.3f}" if t["variant"] in before else ""] if prev else [])
                for t in r["training"]]
        low = [t for t in r["training"] if t["ratio"] < TRAIN_RATIO_TARGET]
        lines += [f"### {BACKEND_NAMES[b]}: keras-ae against a plain Keras functional model of the same layers "
                  f"(target ≥ {TRAIN_RATIO_TARGET})", "",
                  _table(["variant", "keras-ae samples/s", "reference samples/s", "reference", "epochs",
                          "median ratio", "pair range", "target met"] + (["previous run"] if prev else []),
                         rows), ""]
        if low:
            lines += ["Below target: " + ", ".join(_miss(t, before.get(t["variant"])) for t in low) + ".", ""]
    if any(t["ratio"] < TRAIN_RATIO_TARGET for r in runs.values() for t in r["training"]):
        lines += ["What was tried against ratios below target:", ""] + [f"- {a}" for a in TRAINING_ATTEMPTS] + [""]
    return lines


def _miss(row, before):
    """How a ratio below target misses: by how much, whether its pairs reach 1, the run before."""
    notes = [f"short by {TRAIN_RATIO_TARGET - row['ratio']:.3f}"]
    if row["ratio_max"] >= 1.0:
        notes.append("range reaches 1: not resolved by this run")
    if before:
        notes.append(f"previous run {before['ratio']:.3f}, "
                     + ("met" if before["ratio"] >= TRAIN_RATIO_TARGET else "missed too"))
    return f"{row['variant']} {row['ratio']:.3f} ({'; '.join(notes)})"


def _path_lines(runs):
    rows = []
    for b, r in runs.items():
        for p in r.get("paths", []):
            rows.append([BACKEND_NAMES[b], p["variant"], p["path"], _f(p["samples_per_s"], "{:.0f}"),
                         _f(p.get("ratio_to_arrays"), "{:.2f}"), p["note"]])
    return ["### Input pipeline and step settings (keras-ae, one timing each)", "",
            "`training_dataset` is `keras_ae.datasets.training_dataset` (tf.data on TensorFlow, a PyDataset "
            "elsewhere). PyTorch runs one step per call, so it has no `steps_per_execution` row.", "",
            _table(["backend", "variant", "path", "samples/s", "÷ arrays", "note"], rows), ""]


def _mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def _peer_lines(peer):
    if not peer.get("rows"):
        return ["### Against pythae", "", f"Skipped: {peer.get('skipped', 'not run')}.", ""]
    rows = peer["rows"]
    best = max(rows, key=lambda r: r["ratio"])
    first = rows[0]

    def elbo(r, who):  # mean ± sd over the seeds where recorded, else the median
        seeds = r.get(f"{who}_test_neg_elbo_seeds")
        if not seeds:
            return f"{r[f'{who}_test_neg_elbo']:.2f}"
        m, sd = _mean_sd(seeds)
        return f"{m:.2f} ± {sd:.2f}"

    table = [[BACKEND_NAMES[r["backend"]], f"{r['keras_ae_samples_per_s']:.0f}", f"{r['pythae_samples_per_s']:.0f}",
              f"{r['ratio']:.2f}", f"{r['ratio_min']:.2f}–{r['ratio_max']:.2f} ({r['pairs']} pairs)",
              elbo(r, "keras_ae"), elbo(r, "pythae")] for r in rows]
    ours, theirs = best.get("keras_ae_test_neg_elbo_seeds"), best.get("pythae_test_neg_elbo_seeds")
    if ours and theirs:
        (m_a, sd_a), (m_b, sd_b) = _mean_sd(ours), _mean_sd(theirs)
        gap, se = m_a - m_b, (sd_a ** 2 / len(ours) + sd_b ** 2 / len(theirs)) ** 0.5
        verdict = ("met" if gap <= 0 else
                   "**not resolved by this run** (within 2 standard errors)" if gap <= 2 * se else "**not met**")
        elbo_line = (f"Its mean test -ELBO no worse than pythae's: {verdict} ({m_a:.2f} against {m_b:.2f} over "
                     f"{len(ours)} seeds each" + (f", {gap:.2f} ± {se:.2f} nats worse" if gap > 0 else "") + ").")
    else:
        gap = best["keras_ae_test_neg_elbo"] - best["pythae_test_neg_elbo"]
        elbo_line = (f"Its median test -ELBO no worse than pythae's: {_verdict(gap <= 0)} "
                     f"({best['keras_ae_test_neg_elbo']:.2f} against {best['pythae_test_neg_elbo']:.2f}).")
    return ["### Against pythae (PyTorch), the same dense VAE", "",
            f"784-400-20, BCE summed over pixels + KL, Adam 1e-3, batch 128, {first['epochs']} epochs on "
            f"{first['images']:,} training images; the time is the whole training call (pythae "
            f"{first['pythae_versions'].get('pythae')} `TrainingPipeline` on torch "
            f"{first['pythae_versions'].get('torch')}; keras-ae `fit` on the arrays, compilation included). "
            "Each pair runs both in fresh processes, back to back, alternating which goes first"
            + (", both seeded with the pair's number" if first.get("pythae_trainer_seeded") else
               ", seeded with the pair's number; but pythae's trainer reseeded torch with its default seed (8) "
               "before training, so pythae's pairs differed only in their initial weights" if ours else "")
            + ". Test -ELBO: one sample of z per test image, fixed seed; mean ± sd over the seeds.", "",
            _table(["keras-ae backend", "keras-ae samples/s", "pythae samples/s", "median ratio", "pair range",
                    "keras-ae test -ELBO", "pythae test -ELBO"], table), "",
            f"Target: keras-ae on its best backend ≥ 1.5× pythae: {_verdict(best['ratio'] >= 1.5)} "
            f"({BACKEND_NAMES[best['backend']]}, {best['ratio']:.2f}×). " + elbo_line, "",
            "Both start from the same weight distribution: keras-ae's `VAE` draws its Dense kernels from "
            "U(±1/√fan_in), PyTorch's `nn.Linear` default (`kernel_initializer=None`). With Keras's "
            "`glorot_uniform`, its default until 2026-11-30, the `--speed` run stored in commit 654b67b "
            "measured keras-ae (JAX) at 108.91 ± 0.14 against pythae's 108.19 ± 0.20, 3 seeds each.", ""]


def _flop_lines(runs, previous=None):
    rows, und = [], {}
    before = (previous or {}).get("fraction_of_peak", {})
    paired = all("paired_peak_gflops" in f for r in runs.values() for f in r.get("flop_fraction", []))
    for b, r in runs.items():
        for f in r.get("flop_fraction", []):
            p = before.get(b, {}).get(f["variant"])
            rows.append([BACKEND_NAMES[b], f["variant"], f"{f['train_flops_per_sample'] / 1e6:.2f} M",
                         f"{f['samples_per_s']:.0f}", f["best_path"], f"{f['gflops']:.1f}"]
                        + ([f"{f['paired_peak_gflops']:.1f}"] if paired else [])
                        + [f"{f['fraction_of_peak']:.1%}"] + ([f"{p:.1%}" if p is not None else ""] if before else []))
            if f["variant"] == "undercomplete":
                und[b] = f["fraction_of_peak"]
    if not und:
        return ["### Dense models' training FLOP rate", "", "Not measured in this run.", ""]
    best = max(und, key=und.get)
    return ["### Dense models' training FLOP rate against the same backend's matmul peak", "",
            "FLOPs are counted from the Dense kernels: 6 per weight per sample (2 forward, 4 backward). Each rate "
            "is the best of batch 256 and 1024 over the input paths above.", "",
            _table(["backend", "variant", "FLOPs/sample", "samples/s", "best path", "GFLOP/s"]
                   + (["paired peak (GFLOP/s)"] if paired else []) + ["of peak"]
                   + (["of peak, previous run"] if before else []), rows), "",
            f"Target: the dense undercomplete autoencoder at ≥ {PEAK_FRACTION_TARGET:.0%} of peak on its best "
            f"backend: {_verdict(und[best] >= PEAK_FRACTION_TARGET)} ({BACKEND_NAMES[best]}, {und[best]:.1%}"
            + (f", short by {(PEAK_FRACTION_TARGET - und[best]) * 100:.1f} points" if und[best] < PEAK_FRACTION_TARGET
               else "") + ")" + _previous_best(before) + ". Tried for each model: batch 256 and 1024, each with "
            "plain arrays, `training_dataset`, and `training_dataset` with `steps_per_execution=8` (not on "
            "PyTorch, whose trainer runs one step per call); the table shows the best.", "",
            ("Each timing is paired with a matmul peak timed right before it in the same process (best of five "
             "2048×2048 products); a fraction divides the best timing's rate by its own paired peak."
             if paired else
             "The peak is timed once, when the backend's process starts, and the models' rates minutes later, "
             "one timing each: on this shared machine the fraction moves from run to run more than the "
             "training ratios do, which are paired."), "",
            "What holds the models back: the layers are small (at most 784×512), so a step is a chain of thin "
            "matmuls plus element-wise work (activations, the loss, Adam's update of every weight) and a fixed "
            "per-step cost of the framework, all with little arithmetic per byte moved; the 2048×2048 peak "
            "matmul reuses each byte far more. Larger batches and fewer Python round trips per step "
            "(`steps_per_execution`, XLA on JAX) narrow the gap; see the path table.", ""]


def _previous_best(before):
    und = {b: f["undercomplete"] for b, f in before.items() if "undercomplete" in f}
    if not und:
        return ""
    best = max(und, key=und.get)
    return f"; the run before: {und[best]:.1%} ({BACKEND_NAMES[best]})"


def _inference_lines(runs):
    rows, lat = [], []
    for b, r in runs.items():
        for i in r.get("inference", []):
            rows.append([BACKEND_NAMES[b], i["verb"], i["batch_size"], f"{i['keras_ae']:.0f}",
                         f"{i['reference']:.0f}", f"{i['ratio']:.2f}",
                         "yes" if i["ratio"] >= TRAIN_RATIO_TARGET else "**no**"])
        for c in r.get("latency", []):
            lat.append([BACKEND_NAMES[b], c["call"], f"{c['ms_median']:.2f}", f"{c['ms_p90']:.2f}"])
    return ["### Inference and scoring throughput (undercomplete 784-512-256-128-20, the training slice above)", "",
            "Reference: `Model.predict` of the same layers with the same batch size (for the error, plus the "
            "NumPy mean of the squared difference). Target ratio ≥ 0.95.", "",
            _table(["backend", "verb", "batch", "keras-ae samples/s", "predict samples/s", "ratio", "target met"],
                   rows), "",
            "### Latency of one small call (8 samples), as a scoring service makes", "",
            _table(["backend", "call", "median ms", "90th percentile ms"], lat), ""]


def _scaling_lines(runs):
    rows = []
    for b, r in runs.items():
        sc = r.get("scaling")
        if not sc:
            continue
        times = ", ".join(f"{x['n']:,}: {x['seconds_per_epoch']:.2f} s" for x in sc["rows"])
        rows.append([BACKEND_NAMES[b], times, f"{sc['fixed_seconds']:.3f}", f"{sc['us_per_sample']:.2f}",
                     f"{sc['worst_relative_residual']:.1%}"])
    return ["### Scaling: time per epoch against data-set size (undercomplete, `training_dataset`)", "",
            "A least-squares line `seconds = fixed + per_sample × images` through the timed epochs; the residual "
            "says how far from linear the worst point is.", "",
            _table(["backend", "seconds per epoch", "fixed s", "µs per image", "worst residual"], rows), ""]


def _rss_lines(rss):
    rows = [[r["variant"], _f(r.get("rss_before_fit_mb"), "{:.0f}"), _f(r.get("rss_after_fit_mb"), "{:.0f}"),
             _f(r.get("peak_rss_mb"), "{:.0f}"), _f(r.get("ratio_peak_to_before_fit"), "{:.2f}")] for r in rss]
    return ["### Memory (RSS) of a training run on TensorFlow, one fresh process per variant", "",
            "Two epochs, batch 128. The reference is the same process just before `fit`, with the model built; "
            "the peak includes importing TensorFlow.", "",
            _table(["variant", "before fit (MB)", "after fit (MB)", "peak (MB)", "peak ÷ before fit"], rows), ""]


def _spread(row):
    if "ratio_min" not in row:
        return ""
    return f"{row['ratio_min']:.2f}–{row['ratio_max']:.2f} ({row['pairs']} pairs)"


# The tables each `--speed-parts` part makes, for the line that names the run behind them.
PART_TABLES = {"peak": "the matmul peaks", "training": "the training ratios", "paths": "the input paths",
               "flops": "the FLOP rates", "inference": "inference and latency", "scaling": "scaling",
               "peer": "the pythae pairs", "rss": "memory"}


def _figures_kept(speed, date):
    """What a later run keeps as its run before: training ratios and fractions of peak per backend."""
    runs = {b: r for b, r in (speed.get("backends") or {}).items() if "skipped" not in r}
    dates = speed.get("part_dates", {})
    date = speed.get("date") or date
    return {"date": dates.get("training", date),
            "backends": {b: {t["variant"]: {k: t[k] for k in ("ratio", "ratio_min", "ratio_max", "pairs") if k in t}
                             for t in r.get("training", [])} for b, r in runs.items()},
            "fraction_of_peak": {b: {f["variant"]: f["fraction_of_peak"] for f in r.get("flop_fraction", [])}
                                 for b, r in runs.items()},
            "fraction_of_peak_date": dates.get("flops", date),
            # whether each backend's fractions divide by a peak timed right before each timing (issue 40)
            "fraction_of_peak_paired": {b: bool(r.get("flop_fraction")) and all(
                "paired_peak_gflops" in f for f in r["flop_fraction"]) for b, r in runs.items()}}


def carry_previous_speed(old, results):
    """Keep the last speed run's training ratios and fractions of peak beside the new ones: one run's
    figures are noisy, and a miss that the run before met (or missed too) reads differently.

    A run of some parts (`--speed-parts`, whose record lists them in `parts`) keeps every other figure of
    `old`'s speed record, and the run before of the parts it did not measure; `part_dates` says when each
    part was measured last. `results["speed"]` is updated in place.
    """
    new = results["speed"]
    new.setdefault("date", results.get("date"))
    parts = new.pop("parts", None)
    before = old.get("speed") or {}
    if not before.get("backends"):
        return
    kept = _figures_kept(before, old.get("date"))
    if not parts:
        new["previous"] = kept
        return
    previous = dict(before.get("previous") or {})
    ran = [b for b, r in new["backends"].items() if "skipped" not in r]  # only these backends' run before moves
    for part, keys, date in (("training", ("backends",), "date"),
                             ("flops", ("fraction_of_peak", "fraction_of_peak_paired"), "fraction_of_peak_date")):
        if part in parts:
            previous.update({k: {**previous.get(k, {}), **{b: kept[k][b] for b in ran if b in kept[k]}}
                             for k in keys}, **{date: kept[date]})
    backends = dict(before["backends"])
    for b, r in new["backends"].items():
        if "skipped" not in r or b not in backends:  # a backend skipped now keeps its earlier figures
            backends[b] = {**({} if "skipped" in backends.get(b, {}) else backends.get(b, {})), **r}
    merged = {**before, **new, "date": before.get("date") or old.get("date"), "backends": backends,
              "part_dates": {**before.get("part_dates", {}), **{p: new["date"] for p in parts}}}
    if previous:
        merged["previous"] = previous
    new.clear()
    new.update(merged)
