"""Quality metrics shared by the zoo, the tests and the benchmarks."""

import numpy as np

from keras_ae.data import add_noise, binarize

NOISE_SEED = 1234
BINARIZE_SEED = 0
ELBO_SEED = 0


def squared_error_per_image(model, x, batch_size=512):
    """Squared error summed over the values of an image, averaged over images."""
    return float(model.reconstruction_error(x, metric="sse", batch_size=batch_size).mean())


def pca_squared_error(x_train, x_test, n_components):
    """The same figure for PCA with `n_components`, fitted on `x_train`."""
    from sklearn.decomposition import PCA

    x_train = np.asarray(x_train, "float64").reshape(len(x_train), -1)
    x_test = np.asarray(x_test, "float64").reshape(len(x_test), -1)
    k = min(n_components, *x_train.shape)
    if n_components >= x_train.shape[1]:
        return 0.0  # as many components as values: PCA is exact
    pca = PCA(k, svd_solver="randomized" if k < 200 else "full", random_state=0).fit(x_train)
    recon = pca.inverse_transform(pca.transform(x_test))
    return float(((recon - x_test) ** 2).sum(axis=1).mean())


def noisy_squared_error(model, x, noise_factor=0.5, seed=NOISE_SEED):
    """Squared error between `model(noisy x)` and the clean `x`, Gaussian noise as in the course."""
    noisy = add_noise(x, "gaussian", noise_factor, seed=seed)
    recon = model.reconstruct(noisy)
    return float(((recon.reshape(len(x), -1) - np.asarray(x).reshape(len(x), -1)) ** 2).sum(1).mean())


def negative_elbo(model, x, num_samples=10, seed=ELBO_SEED, binarized=False):
    """Mean negative ELBO in nats per image (BCE summed over pixels plus KL).

    With `binarized=True` the images are first binarized with one fixed
    Bernoulli draw (seed `BINARIZE_SEED`), the usual test protocol for
    dynamically binarized MNIST. The sampling noise is reseeded with `seed`,
    so the figure is reproducible.
    """
    if binarized:
        x = binarize(x, "static", seed=BINARIZE_SEED)
    reseed(model, seed)
    return float(-model.elbo(x, num_samples=num_samples).mean())


def negative_log_likelihood(model, x, num_samples, seed=ELBO_SEED, verbose=0, binarized=False):
    """Per-image importance-sampled NLL in nats of binary images (`num_samples` draws each, reseeded).

    With `binarized=True`, `x` in [0, 1] is first binarized as in `negative_elbo`: one fixed Bernoulli
    draw (seed `BINARIZE_SEED`), the test protocol of the NLL table and of the zoo's `nll_k*` metrics.
    """
    if binarized:
        x = binarize(x, "static", seed=BINARIZE_SEED)
    reseed(model, seed)
    return -model.log_likelihood(x, num_samples=num_samples, batch_size=20, verbose=verbose)


def reseed(model, seed):
    """Reset the sampling noise of a VAE so the next draws are reproducible."""
    state = model.sampling.seed_generator.state
    state.assign(np.array([seed, 0], dtype=state.dtype))
