"""Readers of a user's own data: `.npy`, `.npz`, `.csv` files and folders of images."""

import os

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def load_user_data(path):
    """Read a user's data set for training or scoring; return `(x, kind)`.

    Accepted:

    - `.npy`: one array, `(n, features)` or `(n, height, width[, channels])`;
    - `.npz`: the array named `x`, `x_train` or `data`, else the only array in it;
    - `.csv`: a table of numbers, comma-separated, with or without a header row;
    - a folder of images (PNG, JPEG, BMP, GIF; in class sub-folders or not),
      read with `keras.utils.image_dataset_from_directory` at the size of the
      first image and scaled to [0, 1].

    `kind` is `"images"` for image arrays and folders (`(n, h, w, c)` in [0, 1]),
    `"tabular"` for CSV tables and other 2-D data not in [0, 1] (see
    `keras_ae.anomaly.TabularDetector`), and `"flat"` for 2-D arrays in [0, 1]
    (such as flattened images).
    Values come back as float32; NaN, infinite, text and empty data are refused.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        x = _read_image_folder(path)
    elif not os.path.exists(path):
        raise FileNotFoundError(f"No data at {path!r} (expected a .npy, .npz or .csv file, or a folder "
                                "of images)")
    else:
        suffix = os.path.splitext(path)[1].lower()
        if suffix not in _READERS:
            raise ValueError(f"Cannot read {path!r}: expected a .npy, .npz or .csv file, or a folder of "
                             f"images. Received a {suffix or 'suffix-less'} file")
        x = _READERS[suffix](path)
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{path!r} must hold numbers. Received dtype {x.dtype}")
    if x.ndim < 2 or x.shape[0] == 0 or x.ndim > 4:
        raise ValueError(f"{path!r}: expected (n, features) or (n, height, width[, channels]) with n >= 1. "
                         f"Received shape {x.shape}")
    if x.dtype == np.uint8:
        x = x.astype("float32") / 255.0
    x = x.astype("float32")
    bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
    if bad:
        raise ValueError(f"{path!r} holds {bad} NaN or infinite value(s); impute or drop them first")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim == 4:
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"{path!r}: image values must be in [0, 1] (or uint8). Received "
                             f"[{x.min():g}, {x.max():g}]")
        return x, "images"
    in_unit_range = x.min() >= 0 and x.max() <= 1
    return x, ("flat" if in_unit_range and not path.lower().endswith(".csv") else "tabular")


def _read_npy(path):
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:
        raise ValueError(f"Could not read {path!r} as a .npy array: {type(e).__name__}: {e}") from None


def _read_npz_array(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            for key in ("x", "x_train", "data"):
                if key in f.files:
                    return f[key]
            if len(f.files) == 1:
                return f[f.files[0]]
            names = sorted(f.files)
    except Exception as e:
        raise ValueError(f"Could not read {path!r} as a .npz archive: {type(e).__name__}: {e}") from None
    raise ValueError(f"{path!r}: expected an array named 'x', 'x_train' or 'data', or a single array. "
                     f"Received arrays: {names}")


def _read_csv(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    cells = [c.strip().strip('"') for c in first.split(",")]

    def number(c):
        try:
            float(c)
            return True
        except ValueError:
            return False

    header = not all(number(c) for c in cells if c)
    try:
        x = np.loadtxt(path, delimiter=",", skiprows=1 if header else 0, dtype="float64", ndmin=2)
    except ValueError as e:
        raise ValueError(f"{path!r} must be a comma-separated table of numbers (one header row allowed): "
                         f"{e}") from None
    return x


def _read_image_folder(path):
    from PIL import Image

    from keras_ae._quiet import import_keras

    import_keras()
    import keras

    files = sorted(os.path.join(d, n) for d, _, names in os.walk(path) for n in names
                   if n.lower().endswith(IMAGE_SUFFIXES))
    if not files:
        raise ValueError(f"{path!r} holds no images (expected {', '.join(IMAGE_SUFFIXES)} files)")
    with Image.open(files[0]) as im:
        width, height = im.size
        gray = im.mode in ("L", "1", "I", "I;16", "F")
    ds = keras.utils.image_dataset_from_directory(
        path, labels=None, color_mode="grayscale" if gray else "rgb", image_size=(height, width),
        batch_size=256, shuffle=False, verbose=False)
    return np.concatenate([np.asarray(b) for b in ds.as_numpy_iterator()]) / 255.0


# file suffix -> reader; a folder of images is read by `_read_image_folder`
_READERS = {".npy": _read_npy, ".npz": _read_npz_array, ".csv": _read_csv}
