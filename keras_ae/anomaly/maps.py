"""Anomaly maps: where in an image a detector (or an autoencoder) sees the anomaly.

`anomaly_map(source, x)` is the per-pixel view of anomalib (its
`anomaly_map` output, shown as a heat map over the image): the per-pixel
error of the source's reconstruction, averaged over colour channels and
smoothed with a Gaussian, one `(H, W)` map per image. `pixel_auroc` scores
such maps against ground-truth defect masks (anomalib's pixel-level AUROC),
and `keras_ae.plotting.anomaly_map_overlay` draws them over the images.

It is a function, not a method of each detector, because one rule serves
every image source: a detector's own `score_map` (the squared error of a
`ReconstructionDetector`, the restoration error of a `RestorationDetector`)
or, for a bare keras-ae model, its squared reconstruction error; the
channel mean and the smoothing are the same for all of them.

Example:

```python
detector = keras_ae.anomaly.ReconstructionDetector(model).fit(x_normal)
maps = keras_ae.anomaly.anomaly_map(detector, x_test)          # (n, 28, 28), higher = more abnormal
fig = keras_ae.plotting.anomaly_map_overlay(x_test[:8], maps[:8])
```
"""

import numpy as np

from keras_ae._validation import check_float, to_numpy

__all__ = ["anomaly_map", "pixel_auroc"]


def _raw_map(source, x):
    """The source's per-value error of `x` (any shape holding one value per input value), higher = worse."""
    from keras_ae.anomaly.base import BaseDetector
    from keras_ae.anomaly.tabular import TabularDetector

    if isinstance(source, TabularDetector):
        raise ValueError("anomaly_map needs an image detector or model; a TabularDetector scores table rows, "
                         "whose columns are no pixels. Received: TabularDetector")
    if isinstance(source, BaseDetector):
        return source.score_map(x)
    if callable(getattr(source, "reconstruct", None)) and callable(getattr(source, "check_inputs", None)):
        checked = source.check_inputs(x)  # shape, finiteness and range, with the model's own errors
        return (source.reconstruct(checked) - checked) ** 2
    raise ValueError("anomaly_map needs a keras-ae image detector (ReconstructionDetector, RestorationDetector) "
                     f"or a keras-ae model. Received: {type(source).__name__}")


def _image_shape(x, raw):
    """`(H, W)` of the images: from `x` when it is images, else from the map, else the square of a flat row."""
    for shape in (np.shape(x)[1:], np.shape(raw)[1:]):
        if len(shape) >= 2:
            return int(shape[0]), int(shape[1])
    size = int(np.prod(np.shape(raw)[1:]))
    side = int(round(np.sqrt(size)))
    if side * side != size:
        raise ValueError("anomaly_map needs images, (n, H, W[, channels]), or flat rows of side * side values. "
                         f"Received: shape={np.shape(x)}")
    return side, side


def anomaly_map(source, x, sigma=1.0):
    """Per-pixel anomaly maps of images: the reconstruction error, channel-averaged and Gaussian-smoothed.

    Args:
        source: an image detector (`ReconstructionDetector`, `RestorationDetector`:
            its `score_map`) or a keras-ae model (its squared reconstruction error).
        x: images, `(n, H, W)`, `(n, H, W, C)`, or flat rows the model takes
            (a flat row of `side * side` values is a square grey image). The
            source checks them (shape, NaN, value range) as its scores do.
        sigma: the standard deviation, in pixels, of the Gaussian the maps
            are smoothed with (`scipy.ndimage.gaussian_filter`, "reflect"
            edges); 0 leaves them as they are. anomalib smooths with 4 pixels
            on 256-pixel images; 1 is the same scale on 28-pixel ones.

    Returns:
        A float32 array `(n, H, W)`: higher is more abnormal.

    Raises:
        ValueError: for a source that is not an image detector or a keras-ae
            model, a bad `sigma`, or images the source refuses.
    """
    check_float("sigma", sigma, 0.0, 100.0)
    raw = np.asarray(to_numpy(_raw_map(source, x)), dtype="float32")
    height, width = _image_shape(to_numpy(x), raw)
    n = len(raw)
    maps = raw.reshape(n, height, width, -1).mean(axis=-1)  # colour: the mean over the channels
    if sigma:
        from scipy.ndimage import gaussian_filter

        maps = gaussian_filter(maps, sigma=(0, float(sigma), float(sigma)), mode="reflect")
    return maps.astype("float32")


def pixel_auroc(maps, masks):
    """The pixel-level AUROC of anomaly maps against ground-truth masks (anomalib's pixel AUROC).

    Every pixel of every image is one sample: a masked pixel is an anomaly,
    the rest normal, and the map's value is its score.

    Args:
        maps: `(n, H, W)` anomaly maps (`anomaly_map`), finite.
        masks: `(n, H, W)` booleans (or 0/1), with both values present.

    Returns:
        The AUROC, a float in [0, 1].
    """
    from sklearn.metrics import roc_auc_score

    maps, masks = np.asarray(maps), np.asarray(masks)
    if maps.shape != masks.shape or maps.ndim != 3:
        raise ValueError(f"`maps` and `masks` must both be (n, H, W), of one shape. Received: {maps.shape} and "
                         f"{masks.shape}")
    if masks.dtype != np.bool_:
        if not np.isin(masks, (0, 1)).all():
            raise ValueError("`masks` must hold booleans or 0/1. Received values: "
                             f"{np.unique(masks)[:5].tolist()}")
        masks = masks.astype(bool)
    if not np.all(np.isfinite(maps)):
        raise ValueError(f"`maps` holds {int(maps.size - np.count_nonzero(np.isfinite(maps)))} NaN or infinite "
                         "value(s)")
    if masks.all() or not masks.any():
        raise ValueError("`masks` must mark some pixels and leave some unmarked: an AUROC needs both. Received: "
                         f"{int(masks.sum())} of {masks.size} pixels marked")
    return float(roc_auc_score(masks.ravel(), maps.ravel()))
