"""Readers of a user's own data: `.npy`, `.npz`, `.csv` files and folders of images."""

import os
import warnings

import numpy as np

from keras_ae._validation import FLOAT32_MAX, first_beyond_float32
from keras_ae.data.csv_table import HEADER_CHOICES, UserDataNote, column_name, read_csv

__all__ = ["IMAGE_SUFFIXES", "UserDataNote", "load_user_data"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def load_user_data(path, header="auto", beyond_float32="error", image_size=None, return_files=False,
                   keep_uint8=False):
    """Read a user's data set for training or scoring; return `(x, kind)`.

    Accepted:

    - `.npy`: one array, `(n, features)` or `(n, height, width[, channels])`;
    - `.npz`: the array named `x`, `x_train` or `data`, else the only array in it;
    - `.csv`: a table of numbers, comma-separated, read with pandas as
      spreadsheets write it (see `keras_ae.data.csv_table`): with or without
      a header row, a byte-order mark, quoted numbers, `#` comments, trailing
      commas, a pandas index column (dropped), Latin-1 text (with a note);
    - a folder of images (PNG, JPEG, BMP, GIF; in sub-folders or not, read
      in sorted order), at `image_size`, else at the size of the first image
      (others are resized, with a note that suggests `image_size`), and
      scaled to [0, 1]. Hidden files and folders (names
      starting with `.`, such as macOS's `._name.png`) are skipped, with a
      note that counts them; a file that is not a readable image is an
      error that names it.

    Notes are `UserDataNote` warnings (the command line prints them).

    Args:
        path: the file or folder.
        header: for a CSV file, `"auto"` (a first row with text, or of
            consecutive integers such as `2019,2020,2021`, is a header; see
            `keras_ae.data.csv_table.has_header`), `"yes"` or `"no"`.
        beyond_float32: what to do with finite values beyond float32's range
            (|v| > 3.4e38), in which keras-ae computes: `"error"` (training
            data: a `ValueError` naming the first one's row and column) or
            `"keep"` (scoring: the data comes back as float64, and the
            detectors score those samples as anomalies).
        image_size: `(height, width)`: a folder's images are all resized to
            it (bilinear, as Keras's `image_dataset_from_directory` does);
            `None`: the first image's size. Only for folders.
        return_files: also return the image files read, relative to the
            folder (`/`-separated, in the order of `x`); `None` for files.
        keep_uint8: a `.npy` or `.npz` file of uint8 images (3-D or 4-D)
            comes back as those uint8 pixels (0-255), not divided by 255 as
            float32: a quarter of the memory, for a caller that converts a
            batch at a time (`keras-ae score`, through the detectors).

    Returns:
        `(x, kind)`. `kind` is `"images"` for image arrays and folders
        (`(n, h, w, c)` in [0, 1]), `"tabular"` for CSV tables and other 2-D
        data not in [0, 1] (see `keras_ae.anomaly.TabularDetector`), and
        `"flat"` for 2-D arrays in [0, 1] (such as flattened images). Values
        come back as float32 (float64 only as `beyond_float32="keep"` says;
        uint8 images only as `keep_uint8` says);
        NaN, infinite, text and empty data are refused. Rows are counted from
        1 in messages. With `return_files=True`, `(x, kind, files)`.

    Example:

    ```python
    x, kind, files = load_user_data("photos/", image_size=(64, 64), return_files=True)
    ```
    """
    path = os.fspath(path)
    if beyond_float32 not in ("error", "keep"):
        raise ValueError(f"`beyond_float32` must be 'error' or 'keep'. Received: beyond_float32={beyond_float32!r}")
    if header not in HEADER_CHOICES:
        raise ValueError(f"`header` must be one of {list(HEADER_CHOICES)}. Received: header={header!r}")
    image_size = _check_image_size(image_size)
    names = files = None
    if os.path.isdir(path):
        x, files = _read_images(path, image_size)
    elif not os.path.exists(path):
        raise FileNotFoundError(f"No data at {path!r} (expected a .npy, .npz or .csv file, or a folder "
                                "of images)")
    else:
        suffix = os.path.splitext(path)[1].lower()
        if suffix == ".csv":
            x, names = read_csv(path, header)
        elif suffix in _READERS:
            x = _READERS[suffix](path)
        else:
            raise ValueError(f"Cannot read {path!r}: expected a .npy, .npz or .csv file, or a folder of "
                             f"images. Received a {suffix or 'suffix-less'} file")
        if image_size is not None:
            raise ValueError(f"`image_size` resizes a folder of images; {path!r} is a file. Received: "
                             f"image_size={image_size}")
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{path!r} must hold numbers. Received dtype {x.dtype}")
    if x.ndim < 2 or x.shape[0] == 0 or x.ndim > 4:
        raise ValueError(f"{path!r}: expected (n, features) or (n, height, width[, channels]) with n >= 1. "
                         f"Received shape {x.shape}")
    if 0 in x.shape[1:]:
        raise ValueError(f"{path!r} holds no values per sample: expected (n, features) or (n, height, width"
                         f"[, channels]) with every size >= 1. Received shape {x.shape}")
    if keep_uint8 and x.dtype == np.uint8 and x.ndim >= 3:  # 0-255 by its dtype: nothing to check
        x = x if x.ndim == 4 else x[..., None]
        return (x, "images", files) if return_files else (x, "images")
    x = _as_float(path, x, names, beyond_float32)
    finite = np.isfinite(x)
    if not finite.all():
        bad = int(np.size(x) - np.count_nonzero(finite))
        raise ValueError(f"{path!r} holds {bad} NaN or infinite value(s) (the first at "
                         f"{_where(np.unravel_index(int(np.argmin(finite)), x.shape), names)}); impute or drop "
                         "them first")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim == 4:
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"{path!r}: image values must be in [0, 1] (or uint8). Received "
                             f"[{x.min():g}, {x.max():g}]")
        return (x, "images", files) if return_files else (x, "images")
    in_unit_range = x.min() >= 0 and x.max() <= 1
    kind = "flat" if in_unit_range and not path.lower().endswith(".csv") else "tabular"
    return (x, kind, files) if return_files else (x, kind)


def _check_image_size(image_size):
    """`image_size` as a `(height, width)` tuple of positive ints, or None."""
    if image_size is None:
        return None
    try:
        size = tuple(image_size)
    except TypeError:
        size = ()
    if len(size) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                                  for v in size):
        raise ValueError(f"`image_size` must be (height, width), two positive integers. Received: "
                         f"image_size={image_size!r}")
    return tuple(int(v) for v in size)


def _where(index, names=None):
    """`"row R, column C"` (rows and columns counted from 1; a CSV column by its header) for an index."""
    index = tuple(int(i) for i in index)
    where = f"row {index[0] + 1}"
    if len(index) == 2:
        return f"{where}, column {column_name(names, index[1])}"
    return f"{where}, value {index[1:]}" if len(index) > 2 else where


def _as_float(path, x, names, beyond_float32):
    """`x` as float32 (uint8 divided by 255); values beyond float32's range refused, or kept as float64."""
    if x.dtype == np.uint8:
        return x.astype("float32") / 255.0
    found = first_beyond_float32(x)  # a block of rows at a time: no float64 temporary of the whole of x
    if found is not None:
        if beyond_float32 == "keep":
            return x.astype("float64", copy=False)
        index, n = found
        # Its own error: cast to float32 the value would become infinite, and be reported as one.
        raise ValueError(f"{path!r}, {_where(index, names)}: {float(x[index]):g} is outside the float32 range "
                         f"(magnitudes up to {FLOAT32_MAX:.3g}) that keras-ae computes in ({n} row(s) hold such "
                         "values); rescale that column or drop those rows")
    return x.astype("float32", copy=False)  # float32 already: no second copy of the whole file


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
    """The values of a CSV file (the name `keras_ae.datasets._read_csv` had); see `csv_table.read_csv`."""
    return read_csv(path)[0]


def _image_files(path):
    """The image files under `path`, in the order Keras's `image_dataset_from_directory` lists them (folder
    by folder, sorted), with a note on the files skipped: hidden ones and ones that are not images."""
    found, hidden, hidden_dirs, other = [], 0, 0, set()
    walked = []
    for root, dirs, names in os.walk(path):
        hidden_dirs += sum(d.startswith(".") for d in dirs)
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # .git, .ipynb_checkpoints, ...: not the data
        walked.append((root, names))
    for root, names in sorted(walked, key=lambda w: w[0]):
        for name in sorted(names):
            if name.startswith("."):  # .DS_Store, macOS's ._name.png (AppleDouble): never images
                hidden += 1
            elif name.lower().endswith(IMAGE_SUFFIXES):
                found.append(os.path.join(root, name))
            else:
                other.add(os.path.splitext(name)[1].lower() or "no suffix")
    skipped = []
    if hidden or hidden_dirs:
        folders = f" and {hidden_dirs} hidden folder(s)" if hidden_dirs else ""
        skipped.append(f"{hidden} hidden file(s){folders} (names starting with '.', such as macOS's ._name.png)")
    if other:
        skipped.append(f"files that are not images ({', '.join(sorted(other))})")
    if skipped:
        warnings.warn(f"{path}: skipped {' and '.join(skipped)}", UserDataNote, stacklevel=4)
    return found


def _read_image(file, folder):
    """The PIL image in `file`, fully read; a file that is not a readable image is a `ValueError` naming it."""
    from PIL import Image

    try:
        with Image.open(file) as im:
            im.load()  # Image.open reads the header only: a truncated or corrupt body fails here
            if im.mode.startswith("I;16"):  # 16-bit grey, scaled to 8 bits as TensorFlow's decoder does
                return Image.fromarray(((np.asarray(im, np.uint32) * 255 + 32767) // 65535).astype(np.uint8), "L")
            return im.copy()
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError, DecompressionBombError...
        raise ValueError(f"{file!r} is not a readable image ({type(e).__name__}: {e}); remove it from {folder!r} "
                         "or replace it") from None


def _read_image_folder(path, image_size=None):
    """The images in the folder `path` as uint8 `(n, height, width, channels)` (see `_read_images`)."""
    return _read_images(path, image_size)[0]


def _read_images(path, image_size=None):
    """The images in the folder `path` as uint8 `(n, height, width, channels)`, and their files relative to
    `path`; at `image_size` (height, width), else at the first one's size.

    Read with Pillow (no TensorFlow, so on every backend): grey (1 channel) if the first image is grey,
    else RGB (an alpha channel is dropped). Other sizes are resized bilinearly; without `image_size`, with a
    note that suggests it.
    """
    from PIL import Image

    files = _image_files(path)
    if not files:
        raise ValueError(f"{path!r} holds no images (expected {', '.join(IMAGE_SUFFIXES)} files)")
    first = _read_image(files[0], path)
    size = first.size if image_size is None else (image_size[1], image_size[0])  # PIL's is (width, height)
    mode = "L" if first.mode in ("L", "1", "I", "F") else "RGB"
    out = np.empty((len(files), size[1], size[0], 1 if mode == "L" else 3), np.uint8)
    resized, other_sizes = 0, set()
    for i, file in enumerate(files):
        im = (first if i == 0 else _read_image(file, path)).convert(mode)
        if im.size != size:
            other_sizes.add(im.size)
            im = im.resize(size, Image.Resampling.BILINEAR)
            resized += 1
        out[i] = np.asarray(im).reshape(out.shape[1:])
    if resized and image_size is None:
        sizes = sorted(other_sizes)[:3]
        warnings.warn(f"{path}: resized {resized} image(s) (of sizes such as "
                      f"{', '.join(f'{w}x{h}' for w, h in sizes)}) to {size[0]}x{size[1]} (width x height), the "
                      f"size of the first ({files[0]}); choose the size with --image-size HEIGHT WIDTH "
                      "(image_size=(height, width))", UserDataNote, stacklevel=3)
    return out, [os.path.relpath(f, path).replace(os.sep, "/") for f in files]


# file suffix -> reader; a folder of images is read by `_read_images`
_READERS = {".npy": _read_npy, ".npz": _read_npz_array, ".csv": _read_csv}
