"""Synthetic defects for images: a scratch, a hole or a stain pasted on an item, with its ground-truth mask.

The "defects in manufacturing" use of anomaly maps needs defective images
whose defect pixels are known. `paste_defects` makes them from clean ones,
as industrial benchmarks (MVTec AD) provide them annotated:

- `"scratch"`: a thin straight line across the item, one pixel wide, at a
  grey level that contrasts with what it crosses (white on dark, black on light);
- `"hole"`: a filled disc punched out of the item, set to the background (0);
- `"stain"`: a blob of blended intensity (three overlapping Gaussians),
  darkening a light item or lightening a dark one, at most 70% opaque.

Each defect lies on the item (the pixels brighter than a quarter of the
image's maximum), not on the empty background around it. The mask
holds the pixels the defect changed by at least `min_change` (in any channel):
what a viewer can see, and what a pixel-level AUROC should find.

Example:

```python
kinds = np.resize(DEFECT_KINDS, len(x_test))               # scratch, hole, stain, scratch, ...
x_bad, masks = paste_defects(x_test, kinds, seed=0)        # masks: (n, H, W) booleans
```
"""

import numpy as np

from keras_ae._validation import check_float, check_seed, to_numpy

__all__ = ["DEFECT_KINDS", "paste_defects"]

DEFECT_KINDS = ("scratch", "hole", "stain")
STAIN_OPACITY = 0.7
_TRIES = 10  # draws per image until a defect changes some pixel (an item of one flat shade can hide one)


def _item(grey):
    """The item's pixels: brighter than a quarter of the image's maximum (every pixel of a blank image)."""
    top = grey.max()
    return grey > 0.25 * top if top > 0 else np.ones(grey.shape, bool)


def _centre(item, rng):
    """A random pixel `[row, col]` of the item."""
    rows, cols = np.nonzero(item)
    k = rng.integers(len(rows))
    return np.array([rows[k], cols[k]], "float64")


def _contrast(grey, where):
    """White on a dark region, black on a light one."""
    return 1.0 if not where.any() or grey[where].mean() < 0.5 else 0.0


def _squared_distance(shape, row, col):
    """The squared distance of every pixel of an image of `shape` from `(row, col)`."""
    rr, cc = np.indices(shape)
    return (rr - row) ** 2 + (cc - col) ** 2


def _scratch(image, grey, item, centre, rng):
    h, w = grey.shape
    length = rng.uniform(0.3, 0.6) * min(h, w)
    angle = rng.uniform(0.0, np.pi)
    t = np.linspace(-0.5, 0.5, int(np.ceil(2 * length)) + 1)
    rows = np.clip(np.round(centre[0] + t * length * np.sin(angle)), 0, h - 1).astype(int)
    cols = np.clip(np.round(centre[1] + t * length * np.cos(angle)), 0, w - 1).astype(int)
    line = np.zeros((h, w), bool)
    line[rows, cols] = True
    line &= item  # a scratch on the item, not on the empty background around it
    return np.where(line[..., None], _contrast(grey, line), image)


def _hole(image, grey, item, centre, rng):
    radius = rng.uniform(0.07, 0.14) * min(grey.shape)
    return np.where((_squared_distance(grey.shape, *centre) <= radius ** 2)[..., None], 0.0, image)


def _stain(image, grey, item, centre, rng):
    size = rng.uniform(0.06, 0.1) * min(grey.shape)
    # Three Gaussians around the centre: an irregular blob, not a disc. It soaks the item, not the background.
    weight = item * np.max([np.exp(-_squared_distance(grey.shape, *(centre + rng.normal(0.0, size, 2)))
                                   / (2 * size ** 2)) for _ in range(3)], axis=0)
    alpha = (STAIN_OPACITY * weight)[..., None]
    return (1.0 - alpha) * image + alpha * _contrast(grey, weight > 0.5 * weight.max())


_PASTE = {"scratch": _scratch, "hole": _hole, "stain": _stain}


def _checked_images(images):
    x = np.asarray(to_numpy(images, "images"))
    shape = x.shape
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or len(x) == 0 or min(x.shape[1:3]) < 4 or not np.issubdtype(x.dtype, np.number):
        raise ValueError("`images` must be a batch of images, (n, H, W) or (n, H, W, channels), at least 4x4. "
                         f"Received: shape={shape}, dtype={x.dtype}")
    x = x.astype("float32")
    bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    if bad:
        raise ValueError(f"`images` holds {bad} NaN or infinite value(s)")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"`images` must hold values in [0, 1]. Received: min {x.min():.4g}, max {x.max():.4g}")
    return x, len(shape) == 3


def paste_defects(images, kinds, seed=0, min_change=0.1):
    """Paste one synthetic defect on each image; return the defective images and their masks.

    Args:
        images: clean images in [0, 1], `(n, H, W)` or `(n, H, W, channels)`
            (an item on a dark background, as Fashion-MNIST's).
        kinds: one of `DEFECT_KINDS` for every image, or a sequence of `n` of
            them, one per image.
        seed: the seed of the defects' places and sizes (the same seed gives
            the same defects), or `None` for fresh ones.
        min_change: a pixel is in the mask when the defect changed it by at
            least this much, in any channel.

    Returns:
        `(defective, masks)`: float32 images shaped like `images`, and
        `(n, H, W)` boolean masks of the defects' pixels.
    """
    x, grey_input = _checked_images(images)
    seed = check_seed(seed)
    min_change = check_float("min_change", min_change, 0.0, 1.0, low_inclusive=False)
    if isinstance(kinds, str):
        kinds = [kinds] * len(x)
    kinds = list(kinds)
    if len(kinds) != len(x):
        raise ValueError(f"`kinds` must name one defect per image ({len(x)}). Received: {len(kinds)} kinds")
    unknown = sorted({str(k) for k in kinds} - set(DEFECT_KINDS))
    if unknown:
        raise ValueError(f"`kinds` must be among {DEFECT_KINDS}. Received: {unknown}")
    rng = np.random.default_rng(seed)
    out, masks = x.copy(), np.zeros(x.shape[:3], bool)
    for i, kind in enumerate(kinds):
        grey = x[i].mean(axis=-1)
        item = _item(grey)
        for _ in range(_TRIES):
            pasted = np.clip(_PASTE[kind](x[i], grey, item, _centre(item, rng), rng), 0.0, 1.0)
            changed = np.abs(pasted - x[i]).max(axis=-1) >= min_change
            if changed.any():
                break
        out[i], masks[i] = pasted, changed
    return (out[..., 0] if grey_input else out), masks
