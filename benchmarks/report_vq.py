"""The VQ-VAE section of RESULTS.md (`python -m benchmarks --vq`, benchmarks/vq.py): reconstruction at equal code
bits against the continuous conv AE, the codebook's use, the prior's NLL, and FID of prior samples beside the
conv VAE's (read from the `images` part), each issue-39 target met or missed by how much.

`vq_target_rows` is the one place these verdicts are made: the section and the targets table at the top of
RESULTS (benchmarks/report_targets_open.py) both call it, so they cannot disagree. No Keras here.
"""

import math

from benchmarks.report_format import _table, made_by
from benchmarks.report_images import TITLES, best_sampler

USAGE_TARGET = 0.90  # issue 39: codebook in use after training
HEADING = "VQ-VAE: reconstruction at equal bits, codebook use and the prior"


def _met(ok, text):
    return ("met, " if ok else "**missed** by ") + text


def conv_vae_fid(images, dataset, fid):
    """The same data's conv VAE with its best sampler in the `images` part, at the counts and features of the
    VQ-VAE's `fid` record: `(entry, sampler, value)`, or None when that part has no such figure."""
    rec = ((images or {}).get("datasets", {}).get(dataset) or {}).get("fid")
    if not rec or rec.get("samples") != fid["samples"] or rec.get("features") != fid["features"]:
        return None
    ref = next((r for r in rec.get("references", []) if r["split"] == "test" and r["count"] == fid["reference_count"]),
               None)
    if ref is None:
        return None
    best = [(r["name"], best_sampler(r["samplers"], ref["key"])) for r in rec.get("rows", []) if r.get("trained")]
    best = [(name, s) for name, s in best if s is not None]
    if not best:
        return None
    name, s = min(best, key=lambda b: b[1]["fid"][ref["key"]])
    return name, s["sampler"], s["fid"][ref["key"]]


def vq_target_rows(vq, images=None):
    """Issue 39's VQ-VAE targets, one row per entry and target: `[measure, anchor, target, measured, how far]`.

    With no `vq` part every target is "not measured yet"; a missing FID or anchor figure says which is missing.
    """
    entries = (vq or {}).get("entries")
    if not entries:
        return [["VQ-VAE squared error at equal code bits (grid × log2 K)", "the conv AE of the same bits",
                 "≤ the AE's", "not measured yet", "—"],
                ["VQ-VAE codebook in use after training", "dead codes are the known failure",
                 f"≥ {USAGE_TARGET:.0%} of codes", "not measured yet", "—"],
                ["VQ-VAE prior samples, FID", "the same data's conv VAE with its best sampler", "lower FID than it",
                 "not measured yet", "—"]]
    rows = []
    for e in entries:
        name = f"`{e['entry']}`"
        ae = e.get("equal_bits")
        measure = f"{name} squared error at {e['code_bits']:.0f} code bits"
        if not ae:
            rows.append([measure, "no equal-bits conv AE named", "≤ the AE's", f"{e['squared_error']:.3f}", "—"])
        elif not ae.get("trained"):
            rows.append([measure, f"`{ae['entry']}` (not shipped)", "≤ the AE's", f"{e['squared_error']:.3f}", "—"])
        else:
            gap = ae["squared_error"] - e["squared_error"]
            rows.append([measure, f"`{ae['entry']}`, {ae['code_bits']:.0f} bits: {ae['squared_error']:.3f}",
                         "≤ the AE's", f"{e['squared_error']:.3f} ({e['squared_error'] / ae['squared_error']:.3f} × "
                                       "the AE's)", _met(gap >= 0, f"{abs(gap):.3f}" + (" under" if gap >= 0 else ""))])
        usage = e["codebook_usage"]
        rows.append([f"{name} codebook in use on the test images", "dead codes are the known failure",
                     f"≥ {USAGE_TARGET:.0%} of codes",
                     f"{usage:.1%} ({round(usage * e['num_codes'])} of {e['num_codes']})",
                     _met(usage >= USAGE_TARGET, f"{abs(usage - USAGE_TARGET) * 100:.1f} points"
                          + (" over" if usage >= USAGE_TARGET else ""))])
        rows.append(_fid_row(e, images))
    return rows


def _fid_row(e, images):
    measure, target = f"`{e['entry']}` prior samples, FID", "lower FID than it"
    anchor = "the same data's conv VAE with its best sampler"
    fid = e.get("fid")
    if not e.get("has_prior"):
        return [measure, anchor, target, "no prior shipped", "—"]
    if not fid:
        return [measure, anchor, target, "not measured yet", "—"]
    vae = conv_vae_fid(images, e["dataset"], fid)
    measured = f"{fid['prior']:.2f} ({fid['samples']:,} samples{_at_temperature(fid)})"
    if vae is None:
        return [measure, f"{anchor}: not measured at {fid['samples']:,} samples", target, measured, "—"]
    gap = vae[2] - fid["prior"]
    return [measure, f"`{vae[0]}` ({vae[1]}): {vae[2]:.2f}", target, measured,
            _met(gap > 0, f"{abs(gap):.2f}" + (" lower" if gap > 0 else ""))]


def vq_section(vq, run=None, images=None):
    """The section for results.json's `vq` part; `images` is the `images` part (the conv VAEs' FID)."""
    lines = [f"## {HEADING}", "", made_by(run), ""]
    entries = vq.get("entries", [])
    if not entries:
        return lines + ["The zoo ships no VQ-VAE entry.", ""]
    n = {e["data"]["test_images"] for e in entries}
    lines += [
        "Each shipped VQ-VAE entry on its data set's test split (" + ", ".join(f"{k:,}" for k in sorted(n))
        + " images). Squared error summed over the pixels in [0, 1], averaged over the images; PSNR in dB "
        "averaged per image. Code bits: grid positions × log2 K for the VQ-VAE, code values × 32 (float32) for "
        "the continuous conv AE it is set beside (the shipped entry with the nearest code size in bits, "
        "`benchmarks/vq.py`'s `EQUAL_BITS`).", ""]
    rows = []
    for e in entries:
        ae = e.get("equal_bits") or {}
        trained = ae.get("trained")
        rows.append([f"`{e['entry']}`", TITLES.get(e["dataset"], e["dataset"]),
                     f"{e['grid'][0]}×{e['grid'][1]} × log2 {e['num_codes']}", f"{e['code_bits']:.0f}",
                     f"{e['squared_error']:.3f}", f"{e['psnr_db']:.2f}",
                     f"`{ae['entry']}`" if ae else "—", f"{ae['code_bits']:.0f}" if trained else "—",
                     f"{ae['squared_error']:.3f}" if trained else "not shipped" if ae else "—",
                     f"{ae['psnr_db']:.2f}" if trained else "—",
                     f"{e['squared_error'] / ae['squared_error']:.3f}" if trained else "—"])
    lines += [_table(["entry", "data", "code", "code bits", "squared error", "PSNR (dB)", "conv AE",
                      "its code bits", "its squared error", "its PSNR (dB)", "VQ ÷ AE"], rows), ""]
    rows = []
    for e in entries:
        positions = math.prod(e["grid"])
        bpc = e.get("prior_bits_per_code")
        rows.append([f"`{e['entry']}`", f"{round(e['codebook_usage'] * e['num_codes'])} of {e['num_codes']}",
                     f"{e['codebook_usage']:.1%}", f"{e['codebook_perplexity']:.2f}",
                     f"{bpc:.4f}" if bpc is not None else "no prior", f"{math.log2(e['num_codes']):.4f}",
                     f"{bpc * positions:.1f} of {e['code_bits']:.0f}" if bpc is not None else "—"])
    lines += ["The codebook on the test images: the codes some position takes, and the perplexity of the codes' "
              "shares over every position (K if all were used equally). The prior (the entry's shipped gated "
              "PixelCNN over the code grid) scores the test images' code grids: its negative log-likelihood in "
              "bits per code, against log2 K for a uniform guess, and per image against the code's bits.", "",
              _table(["entry", "codes used", "in use", "perplexity", "prior NLL (bits/code)", "uniform (bits/code)",
                      "prior NLL per image (bits)"], rows), ""]
    fids = [e for e in entries if e.get("fid")]
    if fids:
        f0 = fids[0]["fid"]
        lines += [f"FID of prior samples: {f0['samples']:,} images drawn from the prior (seed {f0['seed']}), decoded, "
                  "clipped to [0, 1] and rounded to 8 bits, against the whole test split, with the features, "
                  "protocol and cached reference statistics of the images part (`benchmarks/images.py`); the conv "
                  "VAE's figure is that part's, with its best sampler, only when it was measured at the same "
                  "counts.", "",
                  _table(["entry", "samples", "temperature", "FID of prior samples", "conv VAE (best sampler)"],
                         [[f"`{e['entry']}`", f"{e['fid']['samples']:,}", f"{_temperature(e['fid']):g}",
                           f"{e['fid']['prior']:.2f}",
                           (lambda v: f"{v[2]:.2f} (`{v[0]}`, {v[1]})" if v else "not measured at these counts")(
                               conv_vae_fid(images, e["dataset"], e["fid"]))] for e in fids]), ""]
    rows = vq_target_rows(vq, images)
    lines += ["Targets (issue 39):", "", _table(["measure", "anchor", "target", "measured", "how far from the target"],
                                                rows), ""]
    missed = {r[0] for r in rows if "FID" in r[0] and r[4].startswith("**missed**")}
    for e in fids:
        if f"`{e['entry']}` prior samples, FID" in missed:
            lines += [fid_tried(e), ""]
    return lines


def _temperature(fid):
    """The sampling temperature of a `fid` record (records before `--vq-temperatures` drew at 1)."""
    return fid.get("temperature", 1.0)


def _at_temperature(fid):
    return f", temperature {_temperature(fid):g}" if _temperature(fid) != 1.0 or fid.get("sweep") else ""


def fid_tried(e):
    """What was tried for entry record `e`'s prior FID, from its record: the temperatures ranked and the one
    measured in full; what has not been tried."""
    fid = e["fid"]
    sweep = fid.get("sweep") or []
    text = f"Tried for `{e['entry']}`'s prior FID: the shipped PixelCNN prior, as trained with the entry"
    if sweep:
        n = sweep[0]["samples"]
        text += (f"; sampling temperatures ranked on {n:,} samples each (FID against the same test images, "
                 "biased upward at so few samples): " + ", ".join(f"{r['temperature']:g}: {r['prior']:.2f}"
                                                                  for r in sweep)
                 + f"; the best, {_temperature(fid):g}, measured on {fid['samples']:,} samples: {fid['prior']:.2f}. "
                 "Not tried yet: a larger prior.")
    else:
        text += (f", sampled at temperature {_temperature(fid):g}. Not tried yet: other temperatures "
                 "(`python -m benchmarks --vq --vq-fid --vq-temperatures 1,0.8,0.6`), a larger prior.")
    return text
