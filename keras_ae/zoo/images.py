"""The zoo's image data sets beyond MNIST: loading them for a recipe, measuring an entry, probe images.

A recipe with `dataset="fashion_mnist"`, `"cifar10"` or `"celeba"` trains on
that data set's training split (`keras_ae.data.load_dataset`, uint8 in memory,
converted a batch at a time) and is measured on its test split by
`measure_images`: squared error and PSNR beside PCA with as many components
as the code, and for a VAE the negative ELBO in nats and in bits per
dimension.

The tests have none of these data sets, so each entry also records its
metrics on `probe_images`: patches of the two photos scikit-learn ships
(`sklearn.datasets.load_sample_images`), cut to the entry's image shape. That
figure checks that the model loads and computes as recorded; it is not a
held-out score.
"""

import math

import numpy as np

from keras_ae import evaluation

# How the photos are scaled down before the patches are cut: a patch then holds a
# recognisable part of a scene, not a few pixels of texture.
_PROBE_SCALE = {28: 4, 32: 4, 64: 2}


def load_images(dataset):
    """`(x_train, x_test, source, info)` of a named data set: uint8 images, the loader's source, its facts."""
    from keras_ae.data.registry import DATASETS, load_dataset

    (x_train, _), (x_test, _), source = load_dataset(dataset, dtype="uint8")
    return x_train, x_test, source, DATASETS[dataset]


def dataset_record(info, source, n_train, n_test):
    """The manifest's `dataset` field: name, the copy read (layout and sha256, no machine path), licence."""
    record = {"name": info.name, "description": info.description, "source": info.describe(source),
              "licence": info.licence, "train_images": int(n_train), "test_images": int(n_test)}
    if "JPEG" in record["source"] or "lossy" in record["source"]:
        record["note"] = "figures measured on this copy are for the JPEG copy, not the original pixels"
    return record


def _block_mean(image, factor):
    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    image = image[:h, :w].astype("float64")
    return image.reshape(h // factor, factor, w // factor, factor, -1).mean(axis=(1, 3))


def probe_images(image_shape):
    """Deterministic patches of scikit-learn's two sample photos, in the shape `(H, W, C)` of one image.

    The photos are block-averaged by a factor that depends on the size, made
    grey for one channel, and cut on a grid with half-patch strides. Returns
    float32 images in [0, 1].
    """
    from sklearn.datasets import load_sample_images

    h, w, c = image_shape
    factor = _PROBE_SCALE.get(max(h, w), max(1, 128 // max(h, w)))
    patches = []
    for photo in load_sample_images().images:
        small = _block_mean(photo, factor) / 255.0
        if c == 1:
            small = small @ np.array([0.299, 0.587, 0.114])[:, None]
        elif c != 3:
            raise ValueError(f"probe images come in 1 or 3 channels. Received: image_shape={image_shape}")
        for top in range(0, small.shape[0] - h + 1, max(1, h // 2)):
            for left in range(0, small.shape[1] - w + 1, max(1, w // 2)):
                patches.append(small[top:top + h, left:left + w])
    return np.clip(np.stack(patches), 0.0, 1.0).astype("float32")


def psnr_per_image(x, reconstruction):
    """Peak signal-to-noise ratio per image in dB, for values in [0, 1]: `10 log10(1 / MSE)`."""
    mse = np.mean(np.square(x.reshape(len(x), -1) - reconstruction.reshape(len(x), -1)), axis=1)
    return 10.0 * np.log10(1.0 / np.maximum(mse, 1e-12))


def pca_reconstruction(x_train, x_test, n_components, seed=0):
    """PCA with `n_components`, fitted on `x_train` (randomized SVD), applied to `x_test`: the reconstruction."""
    from sklearn.decomposition import PCA

    flat = x_train.reshape(len(x_train), -1).astype("float32")
    pca = PCA(n_components=n_components, svd_solver="randomized", random_state=seed).fit(flat)
    test = x_test.reshape(len(x_test), -1).astype("float32")
    return pca.inverse_transform(pca.transform(test)).reshape(x_test.shape)


def bits_per_dim(neg_elbo_nats, dims):
    """A continuous density's negative ELBO (nats per image, values in [0, 1]) in bits per dimension.

    With 256 levels per value, `(nats + dims * ln 256) / (dims * ln 2)`: the
    usual convention, which counts the density times the bin width as the
    probability of the bin.
    """
    return (neg_elbo_nats + dims * math.log(256.0)) / (dims * math.log(2.0))


def measure_images(model, x_train, x_test, pca=True, batch_size=128):
    """The metrics an image entry records on `x_test` (float32 in [0, 1]); PCA fitted on `x_train` if asked."""
    x_test = np.asarray(x_test, "float32")
    dims = int(np.prod(x_test.shape[1:]))
    recon = model.reconstruct(x_test, batch_size=batch_size)
    out = {"n_test": int(len(x_test)),
           "squared_error": float(np.mean(np.sum(np.square(x_test - recon).reshape(len(x_test), -1), axis=1))),
           "psnr_db": float(np.mean(psnr_per_image(x_test, recon)))}
    if pca:
        x_train = x_train.astype("float32") / 255.0 if x_train.dtype == np.uint8 else x_train
        pca_recon = pca_reconstruction(x_train, x_test, model.code_size)
        out["pca_squared_error"] = float(np.mean(np.sum(np.square(x_test - pca_recon).reshape(len(x_test), -1),
                                                        axis=1)))
        out["pca_psnr_db"] = float(np.mean(psnr_per_image(x_test, pca_recon)))
    if getattr(model, "generative", False):
        out["neg_elbo"] = evaluation.negative_elbo(model, x_test)
        if model.reconstruction_loss == "gaussian":
            out["bits_per_dim"] = bits_per_dim(out["neg_elbo"], dims)
            out["decoder_scale"] = model.decoder_scale
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}
