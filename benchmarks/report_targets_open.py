"""The targets of issues 35, 39 and 40 at the top of RESULTS.md, one table per issue, beside issue 38's
(benchmarks/report_targets.py).

Nothing here is measured, and no verdict is made twice: each row takes its figure from the results.json part
its section renders, through the same function that section uses where there is one (`images`:
benchmarks/report_images.py; `vq`: benchmarks/report_vq.py; `data_parallel`: benchmarks/report_data_parallel.py),
or from the same fields with the same target constants (`conditional`, `speed`, `conv_speed`). A part that has not
been run says "not measured yet".
"""

from benchmarks.report_conv_speed import _row_name
from benchmarks.report_jax_conv import _auto_choice
from benchmarks.report_data_parallel import HEADING as DATA_PARALLEL_HEADING, torch_target_row
from benchmarks.report_format import _table
from benchmarks.report_images import TITLES, _fid_target_rows, _pca_target_rows
from benchmarks.report_vq import HEADING as VQ_HEADING, vq_target_rows

INTRO = ("Each figure is read from the section named in the last column, which gives the command that measured "
         "it and the settings.")


def _with_section(rows, section):
    return [row + [section] for row in rows]


def _table_lines(issue, rows, note=None):
    header = ["measure", "anchor", "target", "measured", "how far", "section below"]
    return [f"## Issue {issue}'s targets at a glance", "", INTRO + (f" {note}" if note else ""), "",
            _table(header, rows), ""]


def _met(ok, text):
    return ("met, " if ok else "**missed** by ") + text


# ## Issue 35: beyond MNIST (the `images` part)

IMAGE_DATASETS = ("fashion_mnist", "cifar10", "celeba")


def _images_section_name(dataset, title):
    return "MNIST: FID of the conv VAE" if dataset == "mnist" else f"{title}: autoencoders against PCA, and FID"


def issue_35_rows(images):
    """Every PCA and FID target of issue 35, per data set, as the data set's own section words it."""
    datasets = (images or {}).get("datasets", {})
    rows = []
    for dataset in IMAGE_DATASETS + ("mnist",):
        record = datasets.get(dataset) or {}
        title = (record.get("data") or {}).get("title") or TITLES[dataset]
        section = _images_section_name(dataset, title) if record else "—"
        found = _pca_target_rows(dataset, record.get("reconstruction")) + \
            _fid_target_rows(dataset, title, record.get("fid"))
        rows += _with_section([[row[0] if row[0].startswith(title) else f"{title}: {row[0]}", *row[1:]]
                               for row in found], section)
    return rows


# ## Issue 39: VQ-VAE and the conditional VAE (the `vq` and `conditional` parts)

CONDITIONAL_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
CONDITIONAL_TARGETS = {"mnist": 0.97, "fashion_mnist": 0.90}  # benchmarks/conditional.py's TARGETS
CONDITIONAL_SECTION = "Conditional VAE: samples of the requested class, and −ELBO against the VAE"


def _conditional_rows(conditional):
    rows = []
    for dataset, title in CONDITIONAL_TITLES.items():
        r = (conditional or {}).get(dataset)
        target = r["target"] if r else CONDITIONAL_TARGETS[dataset]
        acc = ["CVAE conditional accuracy on " + title, "a judge CNN trained on the training images",
               f"≥ {target:.0%}"]
        elbo = [f"CVAE test −ELBO on {title}", "the VAE of the same layers", "lower"]
        if not r:
            rows += [acc + ["not measured yet", "—", "—"], elbo + ["not measured yet", "—", "—"]]
            continue
        a, gap = r["conditional_accuracy"], r["vae_neg_elbo"] - r["cvae_neg_elbo"]
        rows += [acc + [f"{a:.4f} (`{r['entry']}`)", _met(a >= target, f"{abs(a - target):.4f}"
                                                          + (" over" if a >= target else "")), CONDITIONAL_SECTION],
                 [elbo[0], f"the VAE of the same layers: {r['vae_neg_elbo']:.2f}", "lower",
                  f"{r['cvae_neg_elbo']:.2f} (`{r['entry']}`)",
                  _met(gap > 0, f"{abs(gap):.2f} nats" + (" lower" if gap > 0 else "")), CONDITIONAL_SECTION]]
    return rows


def issue_39_rows(results):
    vq = results.get("vq")
    return (_with_section(vq_target_rows(vq, results.get("images")), VQ_HEADING if vq else "—")
            + _conditional_rows(results.get("conditional")))


# ## Issue 40: speed (the `speed` and `conv_speed` parts) and data parallelism (`data_parallel`)

BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
# The speed part's convolutional variants (image input: `VARIANTS[v].image_input` in benchmarks/speed_worker.py).
CONV_VARIANTS = ("convolutional", "conv_denoising", "conv_vae", "conv_colorization")
PEER_TARGET, CONV_PEAK_TARGET = 1.5, 0.50  # benchmarks/report_conv_speed.py's PEER_TARGET, PEAK_TARGET
TWIN_TARGET, DENSE_PEAK_TARGET = 0.95, 0.60  # benchmarks/report_speed.py's TRAIN_RATIO_TARGET, PEAK_FRACTION_TARGET
JAX_TF_TARGET = 0.5
CONV_ARCHS = ("cifar10", "celeba64")  # benchmarks/conv_speed.py's ARCHS, in its order
SPEED_SECTION = "Speed on every backend"
CONV_SECTION = "Conv VAE speed against pythae and against the conv peak"


def _not_measured(measure, anchor, target):
    return [measure, anchor, target, "not measured yet", "—", "—"]


def _conv_speed_rows(conv):
    models = [m for m in (conv or {}).get("models", []) if m.get("rows")]
    peer = ["conv VAE, keras-ae best backend ÷ pythae (float32)", "pythae `TrainingPipeline`, same layers", "≥ 1.5×"]
    peak = ["conv VAE FLOP rate ÷ the backend's conv peak, best backend", "one 3×3 convolution timed before `fit`",
            "≥ 50%"]
    if not models:
        return [_not_measured(*peer), _not_measured(*peak)]
    rows = []
    for name in [n for n in CONV_ARCHS if n not in {m["name"] for m in models}]:
        rows += [_not_measured(f"{name}: {peer[0]}", *peer[1:]), _not_measured(f"{name}: {peak[0]}", *peak[1:])]
    for m in models:
        f32 = [r for r in m["rows"] if r["dtype_policy"] == "float32"]
        if f32:
            best = max(f32, key=lambda r: r["ratio"])
            rows.append([f"{m['name']}: {peer[0]}", peer[1], peer[2],
                         f"{best['ratio']:.2f}× ({_row_name(best)})",
                         _met(best["ratio"] >= PEER_TARGET, f"{abs(best['ratio'] - PEER_TARGET):.2f}"
                              + (" over" if best["ratio"] >= PEER_TARGET else "")), CONV_SECTION])
        top = max(m["rows"], key=lambda r: r["fraction_of_peak"])
        f = top["fraction_of_peak"]
        rows.append([f"{m['name']}: {peak[0]}", peak[1], peak[2],
                     f"{f:.1%} ({_row_name(top)})",
                     _met(f >= CONV_PEAK_TARGET, f"{abs(f - CONV_PEAK_TARGET) * 100:.1f} points"
                          + (" over" if f >= CONV_PEAK_TARGET else "")), CONV_SECTION])
    return rows


def _runs(speed):
    return {b: r for b, r in ((speed or {}).get("backends") or {}).items() if "skipped" not in r}


def _twin_rows(speed):
    measure = "conv models ÷ a plain Keras functional twin"
    rows = []
    for b, r in _runs(speed).items():
        conv = [t for t in r.get("training", []) if t["variant"] in CONV_VARIANTS]
        if not conv:
            continue
        worst = min(conv, key=lambda t: t["ratio"])
        rows.append([f"{measure}, {BACKEND_NAMES.get(b, b)} (the worst of {len(conv)})", "the same layers", "≥ 0.95",
                     f"{worst['ratio']:.3f} ({worst['variant']})",
                     _met(worst["ratio"] >= TWIN_TARGET, f"{abs(worst['ratio'] - TWIN_TARGET):.3f}"
                          + (" over" if worst["ratio"] >= TWIN_TARGET else "")), SPEED_SECTION])
    return rows or [_not_measured(f"{measure}, every backend", "the same layers", "≥ 0.95")]


def _dense_peak_row(speed):
    measure = "dense undercomplete ÷ paired matmul peak, best backend"
    target = "≥ 60% in two runs in a row"
    und = {b: f for b, r in _runs(speed).items() for f in r.get("flop_fraction", []) if f["variant"] == "undercomplete"}
    if not und:
        return _not_measured(measure, "fp32 2048×2048 matmul", target)
    best = max(und, key=lambda b: und[b]["fraction_of_peak"])
    now, paired = und[best]["fraction_of_peak"], "paired_peak_gflops" in und[best]
    previous = speed.get("previous") or {}
    before = {b: f["undercomplete"] for b, f in (previous.get("fraction_of_peak") or {}).items()
              if "undercomplete" in f}
    prev_best = max(before, key=before.get) if before else None
    prev_paired = bool((previous.get("fraction_of_peak_paired") or {}).get(prev_best))
    measured = (f"{now:.1%} ({BACKEND_NAMES.get(best, best)}" + ("" if paired else ", peak timed once at start, not "
                                                                               "paired") + ")")
    if prev_best:
        measured += (f"; run before {before[prev_best]:.1%} ({BACKEND_NAMES.get(prev_best, prev_best)}"
                     + ("" if prev_paired else ", peak not paired") + ")")
    shortfalls = [(v, which) for v, which in ((now, "this run"), (before.get(prev_best), "the run before"))
                  if v is not None and v < DENSE_PEAK_TARGET]
    if shortfalls:
        worst, which = min(shortfalls)
        how = f"**missed** by {(DENSE_PEAK_TARGET - worst) * 100:.1f} points" + (
            f" ({which})" if len(shortfalls) == 1 and prev_best else "")
    elif prev_best is None:
        how = "met in one run; the run before is not recorded"
    elif paired and not prev_paired:
        how = "met in both runs, but the run before's peak was not paired: one paired run so far"
    else:
        how = "met in both runs"
    if not paired:
        how += "; the peak is not paired with the timing yet"
    return [measure, "fp32 2048×2048 matmul", target, measured, how, SPEED_SECTION]


def _jax_tf_row(speed):
    measure = "JAX conv ÷ TensorFlow conv, same model (the worst conv variant)"
    runs = _runs(speed)
    if "jax" not in runs or "tensorflow" not in runs:
        return _not_measured(measure, "TensorFlow, same model", "≥ 0.5, or auto never picks JAX")
    tf = {t["variant"]: t["keras_ae"] for t in runs["tensorflow"].get("training", [])}
    ratios = {t["variant"]: t["keras_ae"] / tf[t["variant"]] for t in runs["jax"].get("training", [])
              if t["variant"] in CONV_VARIANTS and t["variant"] in tf}
    if not ratios:
        return _not_measured(measure, "TensorFlow, same model", "≥ 0.5, or auto never picks JAX")
    v = min(ratios, key=ratios.get)
    target = "≥ 0.5, or auto never picks JAX"
    if ratios[v] >= JAX_TF_TARGET:
        return [measure, "TensorFlow, same model", target, f"{ratios[v]:.2f} ({v})",
                _met(True, f"{ratios[v] - JAX_TF_TARGET:.2f} over"), SPEED_SECTION]
    # The routing clause: `--backend auto` reads the table these same speed figures write.
    picks = {variant: _auto_choice(speed, variant) for variant in ratios}
    jax_picked = sorted(variant for variant, b in picks.items() if b == "jax")
    how = (_met(False, f"{JAX_TF_TARGET - ratios[v]:.2f}; auto picks JAX for {', '.join(jax_picked)}") if jax_picked
           else f"met by routing: auto picks {', '.join(sorted(set(picks.values())))} for all {len(picks)} conv "
                f"variants (the ratio itself misses 0.5 by {JAX_TF_TARGET - ratios[v]:.2f})")
    return [measure, "TensorFlow, same model", target, f"{ratios[v]:.2f} ({v})", how, SPEED_SECTION]


def issue_40_rows(results):
    speed = results.get("speed")
    return (_conv_speed_rows(results.get("conv_speed")) + _twin_rows(speed) + [_dense_peak_row(speed)]
            + [_jax_tf_row(speed)]
            + _with_section([torch_target_row(results.get("data_parallel"))],
                            DATA_PARALLEL_HEADING if results.get("data_parallel") else "—"))


def open_targets_sections(results):
    """The targets tables of issues 35, 39 and 40, each shown when one of the parts it reads is in `results`."""
    lines = []
    if "images" in results:
        lines += _table_lines(35, issue_35_rows(results["images"]))
    if any(k in results for k in ("vq", "conditional")):
        lines += _table_lines(39, issue_39_rows(results))
    if any(k in results for k in ("speed", "conv_speed", "data_parallel")):
        lines += _table_lines(40, issue_40_rows(results),
                              "Speed ratios are from one run each, as the issue asks; the sections give the pair "
                              "ranges.")
    return lines
