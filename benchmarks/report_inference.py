"""The RESULTS.md section of `python -m benchmarks --inference` (benchmarks/inference_speed.py): images/s of the zoo's
conv entries' verbs and of the FID features, each against the conv peak timed beside it, and the memory of scoring
50,000 CIFAR-sized uint8 images."""

from benchmarks.report_conv_speed import BACKEND_NAMES, _n, busy_lines
from benchmarks.report_format import _table, made_by

MIB = 2 ** 20
PATHS = {"api": "`ReconstructionDetector.decision_function(x)`, x uint8 in memory",
         "cli": "`keras-ae score detector.keras --data x.npy` (uint8 .npy file)"}


def _cell(row):
    return f"{row['images_per_s']:.0f} ({row['fraction_of_peak']:.1%})"


def _verb_lines(record):
    sizes = record["batch_sizes"]
    rows, skipped, peaks = [], [], []
    for backend, rec in record["backends"].items():
        name = BACKEND_NAMES.get(backend, backend)
        if "skipped" in rec:
            skipped.append(f"{name}: {rec['skipped']}.")
            continue
        for entry in rec["entries"]:
            by = {(r["verb"], r["batch_size"]): r for r in entry["rows"]}
            for verb in dict.fromkeys(r["verb"] for r in entry["rows"]):
                gflops = next(r["gflops_per_image"] for r in entry["rows"] if r["verb"] == verb)
                rows.append([f"`{entry['name']}`", verb, name, f"{gflops:.3f}"]
                            + [_cell(by[verb, b]) if (verb, b) in by else "—" for b in sizes])
            peaks += [r["peak_gflops"] for r in entry["rows"]]
    lines = [_table(["zoo entry", "verb", "backend", "GFLOP per image"] + [f"batch {b}" for b in sizes], rows), ""]
    if peaks:
        lines += [f"Conv peaks timed beside the rows: {min(peaks):.1f}–{max(peaks):.1f} GFLOP/s.", ""]
    return lines + skipped + ([""] if skipped else [])


def _fid_lines(fid):
    if "skipped" in fid:
        return [f"FID features: skipped: {fid['skipped']}.", ""]
    v = fid["versions"]
    h, w, c = fid["shape"]
    rows = [[r["batch_size"], f"{r['images']}", f"{r['images_per_s']:.2f}", f"{r['fraction_of_peak']:.1%}",
             f"{r['peak_gflops']:.1f}"] for r in fid["rows"]]
    return ["### FID Inception features (`keras_ae.fid.inception_features`)", "",
            f"{h}x{w}x{c} uint8 images resized to 299x299 inside, PyTorch {v['torch']} ({v['torch_threads']} "
            f"threads), {fid['gflops_per_image']:.2f} GFLOP per image (PyTorch's `FlopCounterMode` on one image). "
            "Per batch size: the median of the pairs (conv peak through `keras.ops.conv` on PyTorch, then one "
            "timed call on whole batches). Batch 512 is not timed here: one call would take 512 ÷ the images/s below.", "",
            _table(["batch", "images per timing", "images/s", "of the conv peak", "conv peak (GFLOP/s)"], rows), ""]


def _rss_lines(scoring):
    rows, growth = [], []
    for backend, runs in scoring.items():
        api = sorted((r for r in runs if r["path"] == "api"), key=lambda r: r["images"])
        if len(api) > 1 and api[0]["added"] > 0:
            growth.append(f"{BACKEND_NAMES.get(backend, backend)} {api[-1]['added'] / api[0]['added']:.2f}")
        for r in runs:
            path = r["path"]
            rows.append([BACKEND_NAMES.get(backend, backend), PATHS.get(path, path), f"{r['images']:,}",
                         f"{r['nbytes'] / MIB:.0f}", f"{r['baseline_rss'] / MIB:.0f}",
                         f"{r['added'] / MIB:.0f}", f"{r['ratio']:.2f}", f"{r['images_per_s']:.0f}"])
    if not rows:
        return []
    first = max((r for runs in scoring.values() for r in runs), key=lambda r: r["images"])
    reset = all(r.get("peak_reset") for runs in scoring.values() for r in runs)
    h, w, c = first["shape"]
    return ["### Memory of scoring CIFAR-sized images", "",
            f"Each row is a fresh process: `{first['entry']}` loaded, a `ReconstructionDetector` fitted (its threshold) "
            f"on other images of the same batch shapes, then synthetic {h}x{w}x{c} uint8 images made; the peak resident memory (VmHWM) is {'reset' if reset else 'NOT reset (no /proc/self/clear_refs)'}"
            " just before scoring, and the memory scoring added is that peak minus the resident memory then (the "
            "images already in it). The ratio divides it by the uint8 images' bytes; a float32 copy of them would "
            "add 4.00 by itself.", "",
            _table(["backend", "scoring path", "images", "uint8 images (MiB)", "before scoring (MiB)",
                    "added by scoring (MiB)", "added ÷ uint8 images", "images/s"], rows), ""] \
        + ([f"Memory added by the detector's scoring of the most images ÷ that of a tenth of them (about 1 when it is "
            f"bounded by the batch, 10 when it grows with the images): {', '.join(growth)}.", ""] if growth else [])


def inference_section(record, run=None):
    """The section for results.json's `inference` record; `run` names the command that made it."""
    lines = ["## Inference and FID throughput", "", made_by(run), "",
             f"Images/s of each zoo entry's `encode`, `reconstruct` and `sample` (a VAE from its prior, an "
             f"autoencoder through its shipped sampler) at each batch size, one fresh process per backend, float32. "
             f"Each cell is the median of {_n(record['rounds'], 'pair')}: the backend's conv peak (a 3x3 convolution "
             f"through `keras.ops.conv`, `benchmarks/conv_flops.py`) timed, then the verb on whole batches of "
             f"random images, right after: at least one batch, at most {record.get('min_images', '?')} images or "
             f"one batch, as many as take about {record.get('seconds', '?')} s at the rate of an untimed batch. In brackets: the verb's FLOP rate (images/s × the forward FLOPs of "
             f"the encoder, decoder or both, counted from the layers) ÷ that peak, the figure a busy machine moves "
             f"least. An untimed call at the same batch size comes first.", ""]
    lines += _verb_lines(record)
    if "fid" in record:
        lines += _fid_lines(record["fid"])
    lines += _rss_lines(record.get("scoring_rss", {}))
    busy = [rec["busy_cpus"] for rec in record["backends"].values() if "busy_cpus" in rec]
    busy += [record["fid"]["busy_cpus"]] if "busy_cpus" in record.get("fid", {}) else []
    busy += [r["busy_cpus"] for runs in record.get("scoring_rss", {}).values() for r in runs if "busy_cpus" in r]
    return lines + busy_lines(busy, record.get("cpus"), "the fractions of the peak move less than images/s",
                              "images/s are lower than on a quiet machine", process="timed process")
