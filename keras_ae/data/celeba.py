"""CelebA-HQ faces at 64x64 with their 40 binary attributes (`Smiling`, `Eyeglasses`, `Male`, ...).

**Licence: CelebA / CelebA-HQ are for non-commercial research and education only.** Weights trained
on them carry that condition (CelebA: Liu et al. 2015; CelebA-HQ: Karras et al. 2018; attributes as
in CelebAMask-HQ, Lee et al. 2020).

`load_celeba` looks, in this order (`keras_ae.data.find_data`), at:

1. the `path=` argument;
2. the `KERAS_AE_CELEBA` environment variable;
3. the Keras cache: `$KERAS_HOME/datasets/celeba_hq_64.zip`, then the folder
   `$KERAS_HOME/datasets/celeba_hq_64/`;
4. a download, only when `download=True` (or `$KERAS_AE_DOWNLOAD=1`) **and**
   the caller gives `origin=` and `sha256=`: there is no official URL, so
   keras-ae never guesses one; `keras.utils.get_file` checks the hash and
   keeps the file in the Keras cache.

The layout is a folder, or a zip of one (with or without one top folder),
holding the images as `images/N.jpg` (or `N.jpg` beside the attribute file)
and one attribute file, either:

- `CelebAMask-HQ-attribute-anno.txt`: line 1 the image count, line 2 the 40
  attribute names, then `N.jpg v1 ... v40` with values 1 or -1; or
- CelebA's `list_attr_celeba.txt`: the same, with names like `000001.jpg`.

Attributes are read by name, never by column position, so files that order
their columns differently give the same arrays. The split is the CelebA-HQ
64x64 convention: images 1-27000 train, 27001-30000 test (a file numbering
its images from 0, as CelebAMask-HQ's own does, is read as 0-26999 and
27000-29999).

Images stay uint8 while they are read: each JPEG is decoded straight into its
row of one preallocated array; `dtype="float32"` makes the one copy.
"""

import dataclasses
import logging
import os
import re

import numpy as np

from keras_ae._validation import check_choice
from keras_ae.data import _archive
from keras_ae.data.mnist import DataSource, find_data, keras_cache_path

logger = logging.getLogger("keras_ae")

ENV_PATH = "KERAS_AE_CELEBA"
CACHE_NAME = "celeba_hq_64.zip"
CACHE_FOLDER = "celeba_hq_64"
LICENCE = "CelebA / CelebA-HQ are for non-commercial research and education only."
ATTRIBUTE_FILES = ("CelebAMask-HQ-attribute-anno.txt", "list_attr_celeba.txt")
IMAGE_SIZE = 64
TRAIN_SIZE, TOTAL_SIZE = 27000, 30000
SPLITS = ("both", "train", "test")
# The 40 attributes in CelebA's order (a file may order its columns differently; they are read by name).
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclasses.dataclass
class AttributeTable:
    """An attribute file, parsed: image names in file order, attribute names, values as bools `(n, k)`."""

    where: str
    images: list
    names: list
    values: np.ndarray

    def column(self, name, rows):
        return np.ascontiguousarray(self.values[rows, self.names.index(name)])

    def check(self, attributes):
        """The attribute names to return: all (file order) for `None`, else `attributes`, each checked."""
        if attributes is None:
            return list(self.names)
        attributes = [attributes] if isinstance(attributes, str) else list(attributes)
        for name in attributes:
            if name not in self.names:
                raise ValueError(f"{self.where} has no attribute {name!r}"
                                 f"{_archive.did_you_mean(name, self.names)} It has: {', '.join(self.names)}")
        return attributes


def parse_attributes(text, where):
    """Parse an attribute file's text (either format of the module docstring), or raise a `ValueError`
    naming `where` and the line."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 2 or not lines[0].strip().isdigit():
        first = lines[0][:40] if lines else ""
        raise ValueError(f"{where}: expected the image count on line 1 and the attribute names on line 2. "
                         f"Received line 1: {first!r}")
    names = lines[1].split()
    repeated = sorted({n for n in names if names.count(n) > 1})
    if not names or repeated:
        raise ValueError(f"{where}, line 2: expected the attribute names, each once. Received: "
                         f"{'repeated ' + str(repeated) if repeated else 'an empty line'}")
    rows = lines[2:]
    values = np.empty((len(rows), len(names)), bool)  # filled row by row: no list of 1.2M strings
    images = []
    for i, line in enumerate(rows):
        tokens = line.split()
        if len(tokens) != len(names) + 1:
            raise ValueError(f"{where}, line {i + 3}: expected an image name and {len(names)} values. "
                             f"Received {len(tokens)} fields")
        flags = tokens[1:]
        odd = set(flags) - {"1", "-1"}
        if odd:
            raise ValueError(f"{where}, line {i + 3}: attribute values must be 1 or -1. Received "
                             f"{sorted(odd)[0]!r}")
        values[i] = [v == "1" for v in flags]
        images.append(tokens[0])
    count = int(lines[0])
    if count != len(images):
        raise ValueError(f"{where}: line 1 says {count} images, but {len(images)} lines follow")
    if len(set(images)) != len(images):
        seen = set()
        twice = next(n for n in images if n in seen or seen.add(n))
        raise ValueError(f"{where}: the image {twice!r} is listed twice")
    return AttributeTable(where, images, names, values)


def _positions(table):
    """Each listed image's place in the 30,000-image numbering (0-based), from its file name."""
    numbers = []
    for name in table.images:
        stem = name.rsplit(".", 1)[0]
        if not stem.isdigit():
            raise ValueError(f"{table.where}: expected numbered images (N.jpg or 000001.jpg). Received {name!r}")
        numbers.append(int(stem))
    numbers = np.array(numbers, "int64")
    positions = numbers - (0 if numbers.size and numbers.min() == 0 else 1)
    if numbers.size and positions.max() >= TOTAL_SIZE:
        big = table.images[int(np.argmax(positions))]
        raise ValueError(f"{table.where} lists {big!r}, beyond the {TOTAL_SIZE:,} images of the CelebA-HQ "
                         f"64x64 split (1-{TRAIN_SIZE} train, {TRAIN_SIZE + 1}-{TOTAL_SIZE} test): keep images "
                         f"1-{TOTAL_SIZE} and their lines")
    return positions


def _open(tree):
    """Find the attribute file and the image folder in `tree`: `(attribute file name, image prefix)`."""
    if not tree.find_root(lambda names: any(n in ATTRIBUTE_FILES for n in names)):
        raise ValueError(f"{tree.path} holds no attribute file: expected {' or '.join(ATTRIBUTE_FILES)} beside "
                         "the images (or in its one top folder)")
    found = [n for n in ATTRIBUTE_FILES if n in tree.names]
    if len(found) > 1:
        raise ValueError(f"{tree.where('')} holds both {found[0]} and {found[1]}: keep the one that "
                         "belongs to these images")
    prefix = "images/" if any(n.startswith("images/") for n in tree.names) else ""
    return found[0], prefix


def _image_files(tree, prefix):
    return {n[len(prefix):] for n in tree.names if n.startswith(prefix) and "/" not in n[len(prefix):]
            and n.lower().endswith(_archive.IMAGE_SUFFIXES)}


def _check_listing(table, files, folder):
    listed = set(table.images)
    missing = [n for n in table.images if n not in files]
    if missing:
        raise ValueError(f"{table.where} lists {len(missing)} image(s) that are not in {folder}: "
                         f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    extra = sorted((n for n in files if n not in listed), key=_archive.natural_key)
    if extra:
        raise ValueError(f"{len(extra)} image(s) in {folder} are not listed in {table.where}: "
                         f"{', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}. Add their lines, or "
                         "remove the images")


def read_celeba(path, attributes=None, split="both"):
    """Read the layout of the module docstring: `((x_train, a_train), (x_test, a_test))` (uint8 images
    `(n, 64, 64, 3)`, attribute dicts of bool arrays); for `split="train"` or `"test"` the other pair is
    `None` and its images are not decoded."""
    path = os.fspath(path)
    with _archive.Tree(path) as tree:
        attr_file, prefix = _open(tree)
        try:
            text = tree.read(attr_file).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{tree.where(attr_file)} is not a text file: {e}") from None
        table = parse_attributes(text, tree.where(attr_file))
        chosen = table.check(attributes)  # before decoding 30,000 images
        positions = _positions(table)
        _check_listing(table, _image_files(tree, prefix), tree.where(prefix.rstrip("/")))
        out = []
        for name in ("train", "test"):
            if split not in ("both", name):
                out.append(None)
                continue
            rows = np.flatnonzero(positions < TRAIN_SIZE if name == "train" else positions >= TRAIN_SIZE)
            x = np.empty((len(rows), IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
            for i, row in enumerate(rows):
                image = prefix + table.images[row]
                _archive.decode_into(x[i], tree.read(image), tree.where(image))
            out.append((x, {a: table.column(a, rows) for a in chosen}))
    return tuple(out)


def _layout(path):
    with _archive.Tree(path) as tree:
        attr_file, prefix = _open(tree)
        kinds = {os.path.splitext(n)[1].lower() for n in _image_files(tree, prefix)}
    if kinds <= {".jpg", ".jpeg"}:
        images = f"{prefix}N.jpg, JPEG: lossy"
    elif kinds == {".png"}:
        images = f"{prefix}N.png, lossless"
    else:
        images = f"{prefix}N.jpg and .png, partly JPEG: lossy"
    return f"CelebA 64x64 faces ({images}) with {attr_file} (licence: non-commercial research and education only)"


def _no_origin():
    raise ValueError("CelebA has no official download URL: pass origin= (the URL of a zip in this layout) "
                     "and sha256= (its hash) to download it")


def _download(origin, sha256):
    home = os.path.dirname(os.path.dirname(keras_cache_path(CACHE_NAME)))
    return _archive.get_file(fname=CACHE_NAME, origin=origin, file_hash=sha256, cache_dir=home,
                             cache_subdir="datasets")


CELEBA = DataSource(
    name="CelebA", env_path=ENV_PATH, cache_name=CACHE_NAME, cache_alternatives=(CACHE_FOLDER,),
    read=read_celeba, download=_no_origin, layout=_layout,
    download_name="celeba_hq_64.zip from the caller's origin= (checked against the caller's sha256=)",
    cache_hint="celeba_hq_64.zip (images/N.jpg and CelebAMask-HQ-attribute-anno.txt)",
    download_hint="pass download=True with origin= and sha256= (there is no official URL)")


def load_celeba(path=None, dtype="float32", attributes=None, download=None, origin=None, sha256=None,
                return_source=False, split="both"):
    """Load CelebA-HQ at 64x64: 27,000 training and 3,000 test faces with their attributes.

    **Licence: CelebA / CelebA-HQ are for non-commercial research and education only.**

    Args:
        path: a folder or zip in the layout of the module docstring; when
            `None`, the search order there.
        dtype: `"float32"` for values in [0, 1] or `"uint8"` for the pixels
            0-255 (a quarter of the memory: 369 MB for all 30,000 images).
        attributes: `None` for all attributes (in file order), or a list of
            names, e.g. `["Smiling", "Eyeglasses"]`.
        download: allow the download from `origin`; `None` reads `$KERAS_AE_DOWNLOAD`.
        origin: the URL of a zip in this layout (there is no official one).
        sha256: the zip's sha256; required with `origin`.
        return_source: also return where the data came from (`describe_source(source,
            CELEBA)` turns it into a record without machine paths).
        split: `"both"`, or `"train"` / `"test"` to read (and decode) only that part.

    Returns:
        `(x_train, a_train), (x_test, a_test)` for `split="both"`, else the one
        pair `(x, a)`: images `(n, 64, 64, 3)` and a dict attribute name -> bool
        array `(n,)`; and the source if asked.

    Example:

    ```python
    (x_train, a_train), (x_test, a_test) = keras_ae.data.load_celeba(attributes=["Smiling"])
    smiling = x_train[a_train["Smiling"]]
    ```
    """
    check_choice("dtype", dtype, ("float32", "uint8"))
    check_choice("split", split, SPLITS)
    if sha256 is not None and not (isinstance(sha256, str) and _SHA256.match(sha256)):
        raise ValueError(f"`sha256` must be 64 hexadecimal digits. Received: sha256={sha256!r}")
    if (origin is None) != (sha256 is None):
        raise ValueError("A CelebA download needs both origin= and sha256= (every download is checked). "
                         f"Received: origin={origin!r}, sha256={sha256!r}")
    if attributes is not None and not all(isinstance(a, str) for a in
                                          ([attributes] if isinstance(attributes, str) else attributes)):
        raise ValueError(f"`attributes` must be None or a list of attribute names. Received: {attributes!r}")

    def read(p):
        return read_celeba(p, attributes=attributes, split=split)

    def fetch():
        return read(_download(origin, sha256))

    source = dataclasses.replace(
        CELEBA, read=read, download=fetch if origin is not None else _no_origin,
        download_hint="pass download=True to fetch origin=" if origin is not None else CELEBA.download_hint)
    (train, test), where = find_data(source, path, download)
    logger.info("CelebA source: %s", where)

    def converted(pair):  # the uint8 images are freed as soon as their float copy replaces them
        return None if pair is None else (_archive.convert(pair[0], dtype), pair[1])

    train = converted(train)
    test = converted(test)
    out = (train, test) if split == "both" else train if split == "train" else test
    return (out, where) if return_source else out
