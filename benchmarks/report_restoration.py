"""The restoration section of RESULTS.md: denoising and inpainting colour photos with the zoo's conv models,
against the corrupted input and a classical filter (issue 38, item 4)."""

from benchmarks.report_format import _table, made_by
from benchmarks.report_images import TITLES as DATA_TITLES

# The figures drawn with an entry, and the command that drew them (the data set's path left to the reader).
FIGURES = {"resnet_vae.celeba64_z128": (
    "docs/gallery/restoration_celeba.png",
    "KERAS_AE_CELEBA=/path/to/celeba_hq_64.zip python scripts/colour_restoration.py --dataset celeba --out DIR"),
    "resnet.cifar10_z64": (
    "docs/gallery/restoration_cifar10.png",
    "KERAS_AE_CIFAR10=/path/to/cifar-10-batches-py python scripts/colour_restoration.py --dataset cifar10 --out DIR")}
LABELS = {"gaussian": "Gaussian noise, σ = {sigma}", "salt_and_pepper": "salt and pepper, {amount:.0%} of the pixels",
          "square": "{side}×{side} masked square"}


def _entry_lines(row, settings):
    if not row["trained"]:
        return [f"### `{row['name']}` ({DATA_TITLES.get(row['dataset'], row['dataset'])})", "",
                "Not trained yet: the recipe is in `keras_ae/zoo/recipes.py` "
                f"(`python -m keras_ae.zoo_train {row['name']}`); nothing measured.", ""]
    d, p, side = row["data"], row["psnr"], row["square"]
    licence = ("**CelebA is for non-commercial research and education only**, and so are this entry's figures."
               if row["dataset"] == "celeba" else f"Licence: {d['licence']}.")
    labels = {k: v.format(side=side, **settings) for k, v in LABELS.items()}
    table = _table(["corruption", "corrupted input", "classical", "the model"], [
        [labels["gaussian"], f"{p['gaussian']['corrupted']:.2f}", f"{p['gaussian']['classical']:.2f} (3×3 median)",
         f"{p['gaussian']['model']:.2f}"],
        [labels["salt_and_pepper"], f"{p['salt_and_pepper']['corrupted']:.2f}",
         f"{p['salt_and_pepper']['classical']:.2f} (3×3 median)", f"{p['salt_and_pepper']['model']:.2f}"],
        [labels["square"] + ", whole image", f"{p['square']['corrupted']:.2f}",
         f"{p['square']['classical']:.2f} (harmonic fill)",
         f"{p['square']['model']:.2f}; from the harmonic fill {p['square']['model_from_harmonic']:.2f}"],
        [labels["square"] + ", inside the hole", f"{p['square']['corrupted_hole']:.2f}",
         f"{p['square']['classical_hole']:.2f} (harmonic fill)",
         f"{p['square']['model_hole']:.2f}; from the harmonic fill {p['square']['model_from_harmonic_hole']:.2f}"]])
    names = {"corrupted": "corrupted input", "classical": "classical", "model": "the model",
             "model_from_harmonic": "the model from the harmonic fill"}
    best = {kind: names[max((k for k in names if k in p[kind]), key=lambda k: p[kind][k])] for kind in p}
    lines = [f"### `{row['name']}` ({d['title']})", "",
             f"Data: {d['source']}; measured on "
             + ("all " if row["n_test"] == d.get("test_images") else "the first ")
             + f"{row['n_test']:,} test images. {licence} Weights "
             f"`{row['weights']}`, {row['params']:,} parameters. PSNR in dB against the original, per image, "
             "averaged:", "", table, "",
             f"The model's reconstruction of the uncorrupted test images: {row['clean_psnr_db']:.2f} dB, the most "
             "it can give back. Highest PSNR over the whole image: "
             + "; ".join(f"{labels[k].split(',')[0]}: {v}" for k, v in best.items()) + ".", ""]
    if row["name"] in FIGURES:
        figure, command = FIGURES[row["name"]]
        lines += [f"Figure: `{figure}` (original; per corruption the corrupted input, the classical answer, the "
                  f"model's), drawn by `{command}`.", ""]
    return lines


def restoration_section(r, run=None):
    s = r["settings"]
    lines = ["## Restoration: denoising and inpainting colour photos", "", made_by(run), "",
             "The zoo's convolutional models of CelebA and CIFAR-10 (the plain autoencoder where the zoo has it, "
             "else the VAE, whose answer is its decoded posterior mean), on the whole test split "
             "(`keras_ae.restoration.compare`). None was trained on corrupted images. The corruptions, seeded "
             f"(seed {s['seed']}): Gaussian noise of σ = {s['sigma']} on every value, clipped to [0, 1]; salt and "
             f"pepper, {s['amount']:.0%} of the pixels set to black or white; a black square of a quarter of the "
             "image's side at a random place. The classical answers: a 3×3 median filter per channel for the "
             "noises; for the square, the harmonic fill (Laplace's equation inside the hole, the known border "
             f"as its boundary). The model inpaints with {s['iterations']} reconstructions, the known pixels put "
             "back after each, starting from the image's mean known colour; the second number in the "
             "model's cells starts from the harmonic fill instead. PSNR is 10 log10(1 / mean squared error per "
             "value), over the whole image or inside the hole only, averaged over the images.", ""]
    for row in r["rows"]:
        lines += _entry_lines(row, s)
    return lines
