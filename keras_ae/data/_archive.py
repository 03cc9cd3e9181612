"""What the image data set loaders share: a folder or zip seen as one list of files, image decoding into a
preallocated array, the hidden-file rule, a digest of a folder, and the one call that downloads.

Numpy only at import; Pillow and Keras are imported where they are used.
"""

import difflib
import hashlib
import io
import os
import re
import zipfile

import numpy as np

from keras_ae._io import sha256_file
from keras_ae._validation import check_choice

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def is_hidden(relpath):
    """Whether any part of `relpath` is hidden (`.name`, macOS `._name.jpg`) or macOS's `__MACOSX/` folder."""
    return any(part.startswith(".") or part == "__MACOSX" for part in re.split(r"[/\\]", relpath) if part)


def natural_key(name):
    """Sort key that puts `2.jpg` before `10.jpg`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def did_you_mean(name, choices):
    """`"; did you mean 'x'?"` for the closest of `choices`, or `""`."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _walk(path):
    """Relative paths (with `/`) of the files under folder `path`, hidden ones left out, sorted."""
    out = []
    for here, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not is_hidden(d)]
        rel = os.path.relpath(here, path)
        for f in files:
            if not is_hidden(f):
                out.append(f if rel == "." else f"{rel}/{f}".replace(os.sep, "/"))
    return sorted(out)


class Tree:
    """A folder or a zip archive as one sorted list of relative file names (hidden files left out).

    `root` is a prefix inside it (`""` or `"top/"`) that `names` are relative to;
    `read(name)` returns a file's bytes; `where(name)` says where a file is, for
    error messages. Use it as a context manager (a zip is closed on exit).
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.zip = None
        if os.path.isdir(self.path):
            self.all_names = _walk(self.path)
        else:
            try:
                self.zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as e:
                raise ValueError(f"Could not read {self.path} as a zip archive: {type(e).__name__}: {e}") from None
            self.all_names = sorted(n for n in self.zip.namelist() if not n.endswith("/") and not is_hidden(n))
        self.root = ""
        self.names = self.all_names

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.zip is not None:
            self.zip.close()

    def set_root(self, root):
        self.root = root
        self.names = [n[len(root):] for n in self.all_names if n.startswith(root)]

    def find_root(self, holds):
        """Use as root the tree itself or, failing that, its one top folder, whichever `holds(names)`;
        return whether one did (a zip may hold the data set's folder or its contents)."""
        if holds(self.all_names):
            return True
        tops = {n.split("/", 1)[0] for n in self.all_names if "/" in n}
        if len(tops) == 1:
            self.set_root(tops.pop() + "/")
            if holds(self.names):
                return True
            self.set_root("")
        return False

    def read(self, name):
        full = self.root + name
        if self.zip is not None:
            return self.zip.read(full)
        with open(os.path.join(self.path, *full.split("/")), "rb") as f:
            return f.read()

    def where(self, name):
        full = (self.root + name).rstrip("/")
        if self.zip is not None:
            return f"{full} in {self.path}" if full else self.path
        return os.path.join(self.path, *full.split("/")) if full else self.path


def decode_into(out, data, where):
    """Decode the image bytes `data` into the uint8 array `out` (height, width, 3), or raise a
    `ValueError` naming `where`: an image of another size, or one Pillow cannot read (corrupt, truncated)."""
    from PIL import Image

    height, width = out.shape[:2]
    try:
        with Image.open(io.BytesIO(data)) as im:
            size = im.size
            if size == (width, height):
                im.load()  # a truncated or corrupt file fails here, not later
                pixels = np.asarray(im if im.mode == "RGB" else im.convert("RGB"))
    except Exception as e:  # PIL.UnidentifiedImageError, OSError ("image file is truncated"), SyntaxError ...
        raise ValueError(f"{where} is not a readable image (corrupt or truncated?): "
                         f"{type(e).__name__}: {e}") from None
    if size != (width, height):
        raise ValueError(f"{where}: expected a {width}x{height} image. Received: a {size[0]}x{size[1]} image")
    out[...] = pixels


def convert(x, dtype):
    """`x` (uint8) as it is (`dtype="uint8"`) or as float32 in [0, 1]: one new array, no temporary."""
    check_choice("dtype", dtype, ("float32", "uint8"))
    if dtype == "uint8":
        return x
    return np.divide(x, np.float32(255), dtype=np.float32)


def check_labels(labels, n, where, what="labels"):
    """`labels` as an int64 array of `n` class numbers 0-9, or a `ValueError` naming `where`."""
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1:] == (1,):  # Keras's own (n, 1) label arrays
        y = y[:, 0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{where}: expected {n} integer {what} (one per image). Received: "
                         f"shape {y.shape}, dtype {y.dtype}")
    bad = np.flatnonzero((y < 0) | (y > 9))
    if bad.size:
        raise ValueError(f"{where}: {what} must be class numbers 0-9. Received: {y[bad[0]]} at index "
                         f"{bad[0]} ({bad.size} out of range)")
    return y.astype("int64")


def folder_digest(path):
    """A sha256 over a folder: its files' relative paths (sorted, with `/`) and their contents' sha256.

    Hidden files (`.name`, `__MACOSX/`) are left out, as the loaders leave them
    out, so the digest is the same on every machine that has the same data.
    """
    h = hashlib.sha256()
    for rel in _walk(path):
        h.update(f"{rel}\0{sha256_file(os.path.join(path, *rel.split('/')))}\n".encode("utf-8"))
    return h.hexdigest()


def get_file(**kwargs):
    """`keras.utils.get_file(**kwargs)`: the one place where a keras-ae data loader touches the network
    (tests replace it). Every call passes a `file_hash`."""
    if not kwargs.get("file_hash"):
        raise ValueError(f"Refusing a download without a file hash: {kwargs.get('origin')!r}")
    from keras_ae._quiet import import_keras

    import_keras()
    import keras

    return keras.utils.get_file(**kwargs)
