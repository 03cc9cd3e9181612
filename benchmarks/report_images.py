"""The image data sets' sections of RESULTS.md (`python -m benchmarks --images`, benchmarks/images.py): per data
set the issue's targets with how far each figure is from its own, the entries against PCA, and FID.

The targets are here, not in benchmarks/images.py, so that rendering needs no Keras; the measuring
module records them in results.json next to each figure.
"""

from benchmarks.report_format import _table, made_by

PARTS = ("reconstruction", "fid")
INCEPTION_FEATURES = "inception-2015-12-05-pool3"  # benchmarks.images.INCEPTION's name
# The targets (issue 35, "Beyond MNIST"), as ratios model / PCA and FID values.
PCA_TARGET = {"what": "every deterministic AE", "ratio": 0.8}
FASHION_CODE32_TARGET = {"what": "Fashion-MNIST conv AE, code 32", "ratio": 0.4}
PYTHAE_SOURCE = ("pythae's table of reproduced results (rows RAE_L2 and RAE_GP: MNIST, FID; WAE and AAE: CELEBA 64, "
                 "FID), https://github.com/clementchadebec/benchmark_VAE/tree/main/examples/scripts/reproducibility "
                 "(its README)")
FID_TARGETS = {
    "mnist": {"target": 9.0, "shown": "≤ 9.0", "anchor": "pythae reproductions: RAE-L2 9.1, RAE-GP 9.7",
              "source": PYTHAE_SOURCE},
    "celeba": {"target": 40.0, "shown": "≤ 40", "anchor": "pythae on CelebA-64: WAE 56.5, AAE 43.3",
               "source": PYTHAE_SOURCE,
               "note": "pythae's CELEBA 64 is CelebA at 64×64 (the setting of the WAE paper it reproduces), not "
                       "CelebA-HQ downscaled: a different image set and test split, so its figures are a guide, "
                       "not a like-for-like comparison"},
}
TITLES = {"fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10 (JPEG copy)", "celeba": "CelebA-HQ 64×64",
          "mnist": "MNIST"}


def pca_targets(dataset, generative, code_size):
    """The issue's targets for an entry's squared error against PCA at its code size (ratios model / PCA)."""
    if generative:
        return []
    targets = [dict(PCA_TARGET)]
    if dataset == "fashion_mnist" and code_size == 32:
        targets.append(dict(FASHION_CODE32_TARGET))
    return targets


def run_key(dataset, part):
    """results.json's `runs` key of one data set's part (`reconstruction` or `fid`)."""
    return f"images.{dataset}.{part}"


def merge_images(old, new):
    """A run's `images` part merged into the one before: a data set's parts that ran replace theirs, its
    others stay (unless the data differ), and data sets not run stay whole."""
    datasets = dict((old or {}).get("datasets", {}))
    for name, record in new.get("datasets", {}).items():
        before = datasets.get(name, {})
        same_data = before.get("data", {}).get("source") == record.get("data", {}).get("source")
        datasets[name] = {**before, **record} if same_data else record
    return {**(old or {}), **new, "datasets": datasets}


def best_sampler(samplers, reference):
    """The sampler row with the lowest FID against `reference`, or None when none measured it."""
    measured = [s for s in samplers if s.get("fid", {}).get(reference) is not None]
    return min(measured, key=lambda s: s["fid"][reference]) if measured else None


def how_far(value, target, fmt="{:.2f}"):
    """"met, X under" or "**missed** by X": the figure's distance from a target it must not exceed."""
    if value <= target:
        return f"met, {fmt.format(target - value)} under"
    return f"**missed** by {fmt.format(value - target)}"


def _num(v, fmt="{:.2f}"):
    return "—" if v is None else fmt.format(v)


# ## The targets table

# What was tried for an entry that misses its PCA target: shown under the targets table while it misses.
TRIED = {
    "resnet.cifar10_z64": "one recipe, trained once: 32-64-128 filters, one residual block per stage, a 64-D code, "
                          "20 epochs of batch 128, Adam with cosine decay from 1e-3, random left-right flips, "
                          "mixed_bfloat16 on TensorFlow (48 minutes here); the training loss was still falling "
                          "slowly (0.0074 per value after 12 epochs, 0.00708 after 20). Not tried yet: more "
                          "epochs, two blocks per stage, wider stages.",
}


# What was tried for an entry that misses its FID target (the samplers' figures are computed from the record).
FID_TRIED = {
    "conv_vae.mnist_z16": "its two samplers, the prior and a 10-component Gaussian mixture fitted to the 60,000 "
                          "training codes (pythae's GaussianMixtureSampler setting). Not tried yet: a decoder with "
                          "sharper samples (this entry is a Bernoulli VAE: a sample is the decoder's mean, grey at "
                          "the strokes' edges, where the RAE anchors are deterministic autoencoders), a larger "
                          "mixture.",
    "resnet_vae.celeba64_z128": "its two samplers, the prior and the shipped 10-component Gaussian mixture fitted to "
                                "the 27,000 training codes, on the one recipe trained (40 epochs, a 128-D code, a "
                                "Gaussian decoder whose learned σ ended at 0.059). Not tried yet: longer training, "
                                "a second-stage density over the codes (a larger mixture, a second VAE), a decoder "
                                "with sharper samples (a sample is the decoder's mean).",
}


def _fid_tried_lines(fid):
    """`FID_TRIED`'s line for each entry that misses its FID target, with how far the best sampler moved it."""
    targets = (fid or {}).get("targets")
    out = []
    for row in (fid or {}).get("rows", []) if targets else []:
        if not row.get("trained", True) or row["name"] not in FID_TRIED:
            continue
        bests = [(r, best_sampler(row["samplers"], r["key"])) for r in fid["references"]]
        missed = [(r, b) for r, b in bests if b is not None and b["fid"][r["key"]] > targets["target"]]
        if not missed:
            continue
        reference, best = missed[0]
        ref, label = reference["key"], reference["label"]
        prior = next((s["fid"][ref] for s in row["samplers"] if s["sampler"] == "prior"), None)
        moved = (f" Against {label}, the best sampler ({best['sampler']}) is {prior - best['fid'][ref]:.2f} below "
                 f"the prior's {prior:.2f}."
                 if prior is not None and best["sampler"] != "prior" else "")
        out.append(f"Tried for `{row['name']}`: {FID_TRIED[row['name']]}{moved}")
    return out + ([""] if out else [])


def _tried_lines(rec):
    missed = [row["name"] for row in (rec or {}).get("rows", []) if row.get("trained", True) and row["name"] in TRIED
              and any(row["ratio"] > t["ratio"] for t in row.get("targets", []))]
    return [f"Tried for `{name}`: {TRIED[name]}" for name in missed] + ([""] if missed else [])


def _pca_target_rows(dataset, rec):
    if rec is None:
        if dataset == "mnist":
            return []
        target = [["every deterministic AE vs PCA at its code size, squared error", "PCA", "≤ 0.8 × PCA",
                   "not measured yet", "—"]]
        if dataset == "fashion_mnist":
            target.append(["Fashion-MNIST conv AE, code 32", "PCA-32", "≤ 0.4 × PCA-32", "not measured yet", "—"])
        return target
    out = []
    for row in rec["rows"]:
        for t in row.get("targets", []):
            k = row.get("code_size")
            measure = f"`{row['name']}` ({t['what']}), squared error"
            if not row.get("trained", True):
                out.append([measure, f"PCA-{k}", f"≤ {t['ratio']} × PCA-{k}", "not trained yet", "—"])
                continue
            out.append([measure, f"PCA-{k}: {row['pca_squared_error']:.2f}", f"≤ {t['ratio']} × PCA-{k}",
                        f"{row['ratio']:.3f} × PCA-{k} ({row['squared_error']:.2f})",
                        how_far(row["ratio"], t["ratio"], "{:.3f}")])
    return out


def _fid_target_rows(dataset, title, fid):
    targets = (fid or {}).get("targets") or FID_TARGETS.get(dataset)
    anchor = targets["anchor"] if targets else "—"
    target = (targets.get("shown") or f"≤ {targets['target']:g}") if targets else "measured and recorded"
    what = "conv VAE" if dataset == "mnist" else "VAE"
    if fid is None:
        return [[f"{title} {what} FID, best sampler", anchor, target, "not measured yet", "—"]]
    out = []
    for row in fid["rows"]:
        for ref in fid["references"]:
            measure = (f"`{row['name']}` FID, best sampler, {fid['samples']:,} samples vs {ref['label']}")
            if not row.get("trained", True):
                out.append([measure, anchor, target, "not trained yet", "—"])
                continue
            best = best_sampler(row["samplers"], ref["key"])
            value = best["fid"][ref["key"]]
            verdict = how_far(value, targets["target"]) if targets else "met: measured and recorded"
            out.append([measure, anchor, target, f"{value:.2f} ({best['sampler']})", verdict])
    if not out:
        out.append([f"{title} {what} FID, best sampler", anchor, target, "no VAE on this data set", "—"])
    return out


# ## The detail tables

def _reconstruction_lines(data, rec):
    rows = []
    jpeg_cifar = data["name"] == "cifar10" and data.get("jpeg")
    for r in rec["rows"]:
        if not r.get("trained", True):
            rows.append([f"`{r['name']}`", _num(r.get("code_size"), "{}"), "not trained yet", *["—"] * 6])
            continue
        rows.append([f"`{r['name']}`", r["code_size"], _num(r["squared_error"]), _num(r["psnr_db"]),
                     _num(r["pca_squared_error"]), _num(r["pca_psnr_db"]), _num(r["ratio"], "{:.3f}"),
                     _num(r.get("neg_elbo")), _num(r.get("bits_per_dim"), "{:.3f}")])
    bits = "bits/dim (not comparable with published CIFAR-10 figures)" if jpeg_cifar else "bits/dim"
    lines = [f"### {data['title']}: every entry against PCA at the same code size", "",
             f"Squared error summed over the pixels in [0, 1], averaged over the {rec['n_test']:,} test images, "
             "and PSNR in dB averaged per image; PCA with as many components as the code, fitted on "
             f"{rec['pca_train']:,} training images (randomized SVD, seed 0). Model ÷ PCA is the issue's ratio "
             "(lower is better). For a VAE the reconstruction is decoded from the posterior mean, and −ELBO "
             "(10 samples of z, seed 0) is given in nats per image and in bits per dimension (256 levels).", "",
             _table(["entry", "code", "squared error", "PSNR (dB)", "PCA squared error", "PCA PSNR (dB)",
                     "model ÷ PCA", "−ELBO (nats)", bits], rows), ""]
    if jpeg_cifar and any(r.get("bits_per_dim") is not None for r in rec["rows"]):
        lines += ["Bits per dimension on CIFAR-10 (JPEG copy) are not comparable with published CIFAR-10 "
                  "figures: the JPEG copies are not the original pixels (JPEG smooths them).", ""]
    return lines


def _fid_lines(data, fid, rec):
    refs = fid["references"]
    trained = [r for r in fid["rows"] if r.get("trained", True)]
    weights = {r["name"]: r.get("weights") for r in (rec or {}).get("rows", []) if r.get("trained", True)}
    rows = []
    for r in fid["rows"]:
        if not r.get("trained", True):
            rows.append([f"`{r['name']}`", "not trained yet", *["—"] * len(refs)])
            continue
        bests = {ref["key"]: best_sampler(r["samplers"], ref["key"]) for ref in refs}
        for s in r["samplers"]:
            cells = [f"**{s['fid'][ref['key']]:.2f}**" if bests[ref["key"]] is s else f"{s['fid'][ref['key']]:.2f}"
                     for ref in refs]
            rows.append([f"`{r['name']}`", s["label"], *cells])
    cached = [ref["label"] for ref in refs if ref.get("cached")]
    features = ("the 2048 pool3 features of the 2015 Inception graph (`keras_ae.fid`)"
                if fid["features"] == INCEPTION_FEATURES else
                f"features `{fid['features']}`, a stand-in: these are not FIDs")
    lines = [f"### {data['title']}: FID of generated images", "",
             f"{fid['samples']:,} images per sampler (seed {fid['seed']}), decoded, clipped to [0, 1] and "
             "rounded to 8 bits, against " + " and against ".join(ref["label"] for ref in refs)
             + f"; Fréchet distance on {features}. FID is biased upwards for small sets, so only figures at "
               "the same counts compare. The lower per reference set is in bold: the best sampler. Reference "
               "statistics are cached by the data file's sha256, split and count"
             + (f" (read from the cache this run: {', '.join(cached)})" if cached else "") + ".", ""]
    if not rows:
        return lines + ["No VAE on this data set.", ""]
    lines += [_table(["entry", "sampler", *(f"FID vs {ref['label']}" for ref in refs)], rows), ""]
    stale = [r["name"] for r in trained if weights.get(r["name"]) and weights[r["name"]] != r.get("weights")]
    if stale:
        lines += [f"FID of {', '.join(f'`{n}`' for n in stale)} was measured on earlier weights than the "
                  "reconstruction figures above: rerun with FID to update it.", ""]
    if data.get("jpeg") and data["name"] == "cifar10":
        lines += ["The reference images are the JPEG copies too: these FIDs are not comparable with published "
                  "CIFAR-10 FIDs.", ""]
    return lines


def dataset_section(dataset, record, runs=None):
    """One data set's section: made-by line, data and licence, the targets table, then the detail tables."""
    runs = runs or {}
    data = record["data"]
    title = data.get("title") or TITLES.get(dataset, dataset)
    rec, fid = record.get("reconstruction"), record.get("fid")
    parts = [(runs.get(run_key(dataset, "reconstruction")), "squared error and PSNR")] if rec else []
    parts += [(runs.get(run_key(dataset, "fid")), "FID")] if fid else []
    heading = "## MNIST: FID of the conv VAE" if dataset == "mnist" else \
        f"## {title}: autoencoders against PCA, and FID"
    lines = [heading, "", made_by(*parts), "",
             f"Data: {data['source']}; {data['train_images']:,} training and {data['test_images']:,} test images. "
             f"Licence: {data['licence'].rstrip('.')}.", ""]
    if dataset == "celeba":
        lines += ["**Licence: non-commercial research and education only** (CelebA's terms): the entries trained "
                  "on these faces carry the same condition.", ""]
    if data.get("jpeg"):
        lines += [f"Measured on the JPEG copies, not the original pixels: every figure here is for {title}.", ""]
    targets = _pca_target_rows(dataset, rec) + _fid_target_rows(dataset, title, fid)
    lines += ["Targets (issue 35):", "",
              _table(["measure", "anchor", "target", "measured", "how far from the target"], targets), ""]
    lines += _tried_lines(rec) + _fid_tried_lines(fid)
    fid_targets = (fid or {}).get("targets") or FID_TARGETS.get(dataset)
    if fid_targets:
        lines += [f"Anchors: {fid_targets['source']}." + (f" {fid_targets['note']}." if fid_targets.get("note")
                                                          else ""), ""]
    if rec:
        lines += _reconstruction_lines(data, rec)
    if fid:
        lines += _fid_lines(data, fid, rec)
    return lines


def images_sections(images, runs=None):
    """Every measured data set's section, in the order Fashion-MNIST, CIFAR-10, CelebA, MNIST; data sets never
    measured are left out, as RESULTS.md leaves out the parts results.json lacks."""
    datasets = images.get("datasets", {})
    order = [d for d in TITLES if d in datasets] + sorted(d for d in datasets if d not in TITLES)
    lines = []
    for dataset in order:
        lines += dataset_section(dataset, datasets[dataset], runs)
    return lines
