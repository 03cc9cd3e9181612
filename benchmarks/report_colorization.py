"""The colorization section of RESULTS.md: the zoo's colorization entries against the gray copy and the
mean colour, and issue 38's target (item 3)."""

from benchmarks.report_format import _table, made_by
from benchmarks.report_images import TITLES as DATA_TITLES
from benchmarks.report_images import how_far

TITLES = {"celeba": "CelebA test faces", "cifar10": "CIFAR-10 test images"}
# The figures drawn with an entry, and the command that drew them (the data set's path left to the reader).
FIGURES = {"conv_colorization.celeba64": (
    "docs/gallery/colorization_celeba.png",
    "KERAS_AE_CELEBA=/path/to/celeba_hq_64.zip python scripts/colorization.py --zoo conv_colorization.celeba64 "
    "--out DIR"),
    "conv_colorization.cifar10": (
        "docs/gallery/colorization_cifar10.png",
        "KERAS_AE_CIFAR10=/path/to/cifar-10-batches-py python scripts/colorization.py --zoo conv_colorization.cifar10 "
        "--out DIR")}


def _target_what(row):
    return (f"colorization error on {TITLES.get(row['dataset'], row['dataset'])} ≤ {row['target']:g} × the better "
            "baseline")


def target_text(row):
    """Issue 38's target row for a measured entry, e.g. "colorization error on CelebA test faces ≤ 0.5 × the
    better baseline: **missed** by 0.172 (0.672)"; None where the data set has no target."""
    if row.get("target") is None:
        return None
    ratio = row.get("colour_ratio")
    if ratio is None:
        return f"{_target_what(row)}: not measured (neither baseline has any error on these images)"
    return f"{_target_what(row)}: {how_far(ratio, row['target'], '{:.3f}')} ({ratio:.3f})"


def tried_text(recipe):
    """What was tried, from the recipe the entry records: one recipe, its layers, code, epochs and precision."""
    code = recipe["code_shape"]
    backend = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}.get(recipe.get("backend"),
                                                                                 recipe.get("backend"))
    precision = ", ".join(str(p) for p in (backend, recipe.get("dtype_policy")) if p)
    return (f"Tried: one recipe only ({'-'.join(str(f) for f in recipe['filters'])} conv, a "
            f"{'x'.join(str(d) for d in code)} spatial code, no skip connections, {recipe.get('epochs')} epochs"
            + (f", {precision}" if precision else "") + "), trained once. "
            f"The decoder places the colour from a {code[0]}x{code[1]} code; skip connections from the "
            "luminance to the decoder are the untried next step.")


def _entry_lines(row):
    if not row["trained"]:
        target = f" Target (issue 38): {_target_what(row)}: not measured yet." if row.get("target") is not None else ""
        return [f"### `{row['name']}` ({DATA_TITLES.get(row['dataset'], row['dataset'])})", "",
                "Not trained yet: the recipe is in `keras_ae/zoo/recipes.py` "
                f"(`python -m keras_ae.zoo_train {row['name']}`); nothing measured.{target}", ""]
    d = row["data"]
    celeba = row["dataset"] == "celeba"
    licence = ("**CelebA is for non-commercial research and education only**, and so are this entry and its "
               "figures." if celeba else f"Licence: {d['licence']}.")
    table = _table(["colours from", "squared error per image", "PSNR (dB)"], [
        ["the model", f"{row['squared_error']:.2f}", f"{row['psnr_db']:.2f}"],
        ["gray copy", f"{row['gray_squared_error']:.2f}", f"{row['gray_psnr_db']:.2f}"],
        ["mean colour", f"{row['mean_colour_squared_error']:.2f}", f"{row['mean_colour_psnr_db']:.2f}"]])
    better = "gray copy" if row["gray_squared_error"] <= row["mean_colour_squared_error"] else "mean colour"
    ratio = row.get("colour_ratio")
    lines = [f"### `{row['name']}` ({d['title']})", "",
             f"Data: {d['source']}; {d['train_images']:,} training and {d['test_images']:,} test images, measured "
             f"on all {row['n_test']:,} of the test images. {licence} Weights `{row['weights']}`, {row['params']:,} "
             "parameters.", "", table, "",
             f"Ratio model / the better baseline ({better}): "
             + (f"**{ratio:.3f}**." if ratio is not None else "— (neither baseline has any error)."), ""]
    target = target_text(row)
    if target:
        lines += [f"Target (issue 38): {target}.", ""]
    if row["name"] in FIGURES:
        figure, command = FIGURES[row["name"]]
        lines += [f"Figure: `{figure}` (gray input / colorized / original test images), drawn by "
                  f"`{command}`.", ""]
    if row.get("recipe"):
        lines += [tried_text(row["recipe"]), ""]
    return lines


def colorization_section(c, run=None):
    lines = ["## Colorization: luminance in, colour out", "", made_by(run), "",
             "Every zoo entry whose variant is `conv_colorization`, on the whole test split of its data set "
             "(`keras_ae.zoo.colorization.measure_colorization`). The model sees only each image's luminance "
             "Y = 0.299 R + 0.587 G + 0.114 B and gives back RGB; its error is against the colour original. "
             "The baselines: the **gray copy** is Y in all three channels (no colour at all); the **mean colour** "
             "is each pixel's Y plus the training split's mean chroma offset, mean over training pixels of "
             "(RGB − Y), one value per channel, clipped to [0, 1]: the best one colour cast for every pixel of "
             "every image can do. Squared error is summed over an image's values (in [0, 1]) and averaged over "
             "the images; PSNR is 10 log10(1 / mean squared error per value), averaged over the images. The "
             "ratio is the model's squared error over the better (smaller) baseline's.", ""]
    for row in c["rows"]:
        lines += _entry_lines(row)
    return lines
