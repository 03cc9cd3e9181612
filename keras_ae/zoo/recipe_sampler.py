"""A recipe's `sampler` key: the density a zoo entry ships, fitted to its training codes after training.

`sampler=dict(kind="gmm", n_components=10)` in a recipe (`keras_ae.zoo.recipes`)
builds `keras_ae.samplers.get_sampler("gmm", n_components=10)` before training
(so a misspelt setting fails at once, not after hours of training), fits it to
the codes of the training images once the model is trained, and
`keras_ae.zoo.writer.save_entry` writes it beside the weights.

The training images of the data sets beyond MNIST stay uint8 in memory: they
are converted to float32 in [0, 1] one chunk at a time (`encode_images`), so
fitting never holds a float32 copy of the whole training set (CelebA's would
be 1.3 GB), only one chunk's and the codes.
"""

import numpy as np

CHUNK = 2048  # images converted and encoded at a time


def recipe_sampler(settings, model=None):
    """The unfitted sampler a recipe's `sampler` settings describe, or `None` for none.

    Args:
        settings: `None`, or a dict with `kind` (a name from `keras_ae.samplers.list_samplers()`)
            and that sampler's keyword arguments.
        model: if given, checked to have a code the sampler can fit (flat, decoded alone).
    """
    from keras_ae.samplers import get_sampler

    if settings is None:
        return None
    if not isinstance(settings, dict) or not isinstance(settings.get("kind"), str):
        raise ValueError("A recipe's `sampler` must be a dict with a `kind`, e.g. "
                         f"dict(kind='gmm', n_components=10). Received: sampler={settings!r}")
    kwargs = {k: v for k, v in settings.items() if k != "kind"}
    try:
        sampler = get_sampler(settings["kind"], **kwargs)
    except (TypeError, ValueError) as e:
        raise ValueError(f"A recipe's `sampler` {settings!r} does not build a sampler: {e}") from None
    if model is not None:
        try:
            sampler.check_model(model)
        except (TypeError, ValueError) as e:
            raise ValueError(f"A recipe's `sampler` {settings!r} cannot sample from its model: {e}") from None
    return sampler


def encode_images(model, x, chunk=None, batch_size=256):
    """`model.encode` of `x`, `chunk` images (default `CHUNK`) at a time; uint8 images become float32 in
    [0, 1] a chunk at a time.

    Returns the codes, of shape `(len(x),) + model.code_shape` (float32; a VQVAE's: int32 indices).
    """
    chunk = chunk or CHUNK
    parts = []
    for start in range(0, len(x), chunk):
        part = x[start:start + chunk]
        if part.dtype == np.uint8:
            part = part.astype("float32") / 255.0
        parts.append(np.asarray(model.encode(part, batch_size=batch_size)))
    return np.concatenate(parts)


def fit_recipe_sampler(sampler, model, x_train, chunk=None):
    """Fit `sampler` to `model`'s codes of the training images `x_train` (uint8 or float32); return it,
    attached to `model`."""
    sampler.attach(model)  # a code prior takes the model's code grid and codebook size
    sampler.fit_codes(encode_images(model, x_train, chunk=chunk))
    return sampler.attach(model)  # and a VQVAE gets the fitted prior as `model.prior`
