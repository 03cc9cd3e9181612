"""Measuring a colorization entry (`ColorizationAutoencoder`) against the two baselines of issue 38.

The model sees only each test image's luminance Y (BT.601, `keras_ae.models.colorization.LUMA`)
and gives back RGB; its error is measured against the colour original. Beside it:

- the **gray copy**: Y in all three channels (no colour at all);
- the **mean colour**: each pixel's Y plus the training set's mean chroma offset
  `c = mean over training pixels of (RGB - Y)` (one value per channel), clipped to [0, 1].
  It is the best a model could do with one colour cast for every pixel of every image.

`colour_ratio` is the model's squared error over the better (smaller) of the two; issue 38's
target for CelebA test faces is at most 0.5.
"""

import numpy as np

from keras_ae.models.colorization import LUMA, to_grayscale

# Training images are read this many at a time for the mean chroma (uint8 in memory, float64 sums).
_CHUNK = 4096


def mean_chroma(x_train):
    """The training set's per-channel mean of (RGB - Y), as a float64 array of 3, for images in [0, 1] or uint8.

    Y is the BT.601 luminance of each pixel. Since Y is linear in RGB, this is
    the per-channel mean colour minus the mean luminance.
    """
    x_train = np.asarray(x_train)
    if x_train.ndim != 4 or x_train.shape[-1] != 3 or not len(x_train):
        raise ValueError(f"expected RGB training images of shape (n, height, width, 3). Received: {x_train.shape}")
    scale = 255.0 if x_train.dtype == np.uint8 else 1.0
    total = np.zeros(3)
    for start in range(0, len(x_train), _CHUNK):
        chunk = x_train[start:start + _CHUNK].astype("float64") / scale
        total += chunk.reshape(-1, 3).sum(axis=0)
    mean_rgb = total / (len(x_train) * x_train.shape[1] * x_train.shape[2])
    return mean_rgb - float(mean_rgb @ np.array(LUMA))


def gray_copy(x):
    """Baseline (a): the luminance of RGB images `x` (n, h, w, 3) in [0, 1], copied into all three channels."""
    return np.repeat(to_grayscale(x), 3, axis=-1)


def mean_colour(x, chroma):
    """Baseline (b): each pixel's luminance plus the offset `chroma` (3 values), clipped to [0, 1]."""
    chroma = np.asarray(chroma, "float32").reshape(3)
    return np.clip(to_grayscale(x) + chroma, 0.0, 1.0)


def _squared_error(x, y):
    return float(np.mean(np.sum(np.square(x - y).reshape(len(x), -1), axis=1)))


def measure_colorization(model, x_train, x_test, batch_size=128):
    """The metrics a colorization entry records on `x_test` (RGB float32 in [0, 1]).

    `squared_error` and `psnr_db` of the model's colours, the gray copy's
    (`gray_*`), and, when the training images `x_train` are given, the mean
    colour's (`mean_colour_*`) and `colour_ratio` (model / the better
    baseline); without them (the probe images) only the gray copy is a baseline.
    """
    from keras_ae.zoo.images import psnr_per_image

    x_test = np.asarray(x_test, "float32")
    colour = model.reconstruct(x_test, batch_size=batch_size)  # the model turns the input into Y itself
    gray = gray_copy(x_test)
    out = {"n_test": int(len(x_test)),
           "squared_error": _squared_error(x_test, colour), "psnr_db": float(np.mean(psnr_per_image(x_test, colour))),
           "gray_squared_error": _squared_error(x_test, gray), "gray_psnr_db": float(np.mean(psnr_per_image(x_test, gray)))}
    if x_train is not None:
        tinted = mean_colour(x_test, mean_chroma(x_train))
        out["mean_colour_squared_error"] = _squared_error(x_test, tinted)
        out["mean_colour_psnr_db"] = float(np.mean(psnr_per_image(x_test, tinted)))
        better = min(out["gray_squared_error"], out["mean_colour_squared_error"])
        if better > 0:  # both are 0 only for test images without any colour
            out["colour_ratio"] = out["squared_error"] / better
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def baselines(dataset):
    """The two baselines on a data set's test split, before any model: `{"mean_chroma": [...], "gray_...": ...}`."""
    from keras_ae.zoo.images import load_images, psnr_per_image

    x_train, x_test, _, _ = load_images(dataset)
    chroma = mean_chroma(x_train)
    x_test = x_test.astype("float32") / 255.0
    out = {"n_test": int(len(x_test)), "mean_chroma": [round(float(c), 4) for c in chroma]}
    for key, guess in (("gray", gray_copy(x_test)), ("mean_colour", mean_colour(x_test, chroma))):
        out[f"{key}_squared_error"] = round(_squared_error(x_test, guess), 4)
        out[f"{key}_psnr_db"] = round(float(np.mean(psnr_per_image(x_test, guess))), 4)
    return out


def main(argv=None):
    """`python -m keras_ae.zoo.colorization DATASET [...]`: print the baselines a colorization entry must beat."""
    import argparse

    parser = argparse.ArgumentParser(description="The gray-copy and mean-colour baselines on a data set's test split "
                                                 "(the data set's variable, e.g. $KERAS_AE_CELEBA, must be set).")
    parser.add_argument("datasets", nargs="+", choices=("cifar10", "celeba"))
    for dataset in parser.parse_args(argv).datasets:
        print(dataset, baselines(dataset), flush=True)


if __name__ == "__main__":
    main()
