"""Issue 38's targets in one table at the top of RESULTS.md, read from the sections that measure them.

Nothing here is measured: each row takes its figure from the part of results.json that its own section
renders (the one-class parts, `faces`, `colorization`), so the summary and the sections cannot disagree.
A target whose part has not been run says so.
"""

from benchmarks.report_format import _verdict


def _row(measure, anchor, target, value, fmt, section):
    if value is None:
        return [measure, anchor, target[0], "not measured yet", "—", section]
    ok = value >= target[1] if target[2] == ">=" else value <= target[1]
    gap = abs(value - target[1])
    how = f"{_verdict(ok)}, " + (f"{gap:{fmt}} {'over' if target[2] == '>=' else 'under'}" if ok else
                                 f"missed by {gap:{fmt}}")
    return [measure, anchor, target[0], f"{value:{fmt}}", how, section]


def _one_class_mnist(quality):
    oc = (quality or {}).get("one_class")
    if not oc:
        return None
    return max(oc["mean_auroc"], (oc.get("restoration") or {}).get("mean_auroc", 0.0))


def _one_class_images(quality, dataset):
    r = ((quality or {}).get("one_class_images") or {}).get("datasets", {}).get(dataset)
    if not r:
        return None
    return max(r["ae"]["mean_auroc"], r["restoration"]["mean_auroc"])


def _smile(faces):
    if not faces:
        return None
    return faces["read_smiling"].get("alpha = 1")


def _colorization(colorization, dataset):
    rows = [r for r in (colorization or {}).get("rows", []) if r.get("dataset") == dataset and r.get("trained")]
    return min((r["colour_ratio"] for r in rows), default=None)


def targets_section(results):
    """The issue-38 targets table: one row per target, its measured figure and how far it is."""
    quality = results.get("quality")
    rows = [
        _row("one-class CIFAR-10 (JPEG copy) mean AUROC, best keras-ae detector", "GEOM 0.860, ARNet 0.866",
             ("≥ 0.870", 0.870, ">="), _one_class_images(quality, "cifar10"), ".3f",
             "One-class CIFAR-10 (JPEG copy)"),
        _row("one-class Fashion-MNIST mean AUROC, best keras-ae detector", "GEOM 0.935",
             ("≥ 0.950", 0.950, ">="), _one_class_images(quality, "fashion_mnist"), ".3f",
             "One-class Fashion-MNIST"),
        _row("one-class MNIST mean AUROC, best keras-ae detector", "nearest-neighbour baseline 0.989",
             ("≥ 0.990", 0.990, ">="), _one_class_mnist(quality), ".3f", "One-class MNIST"),
        _row("smile vector: non-smiling test faces read as smiling after adding it once",
             "before: " + (f"{results['faces']['read_smiling']['faces']:.3f} of the faces"
                           if results.get("faces") else "the classifier's false-positive rate"),
             ("≥ 0.80", 0.80, ">="), _smile(results.get("faces")), ".3f", "Faces: the smile vector"),
        _row("colorization error on CelebA test faces, ÷ the better baseline", "the gray copy, the mean colour",
             ("≤ 0.5", 0.5, "<="), _colorization(results.get("colorization"), "celeba"), ".3f",
             "Colorization: luminance in, colour out"),
    ]
    header = ["measure", "anchor", "target", "measured", "how far", "section below"]
    return ["## Issue 38's targets at a glance", "",
            "Each figure is read from the section named in the last column, which gives the command that measured "
            "it, the settings, and what was tried where a target is missed.", "",
            "| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(row) + " |" for row in rows], ""]
