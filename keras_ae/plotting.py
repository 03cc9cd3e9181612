"""Figures for autoencoders. Every helper returns a `matplotlib.figure.Figure`.

Nothing here opens a window: save the figure with `save_figure` or `fig.savefig(...)`, or
let a notebook display it.
"""

import os

import numpy as np
from matplotlib.figure import Figure

from keras_ae._io import atomic_write, check_output_path


def _as_images(x):
    """Turn a batch into `(n, H, W)` grey or `(n, H, W, C)` colour images."""
    x = np.asarray(x)
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(f"Cannot show flat samples of {x.shape[1]} values as square images")
        return x.reshape(-1, side, side)
    if x.ndim == 4 and x.shape[-1] == 1:
        return x[..., 0]
    if x.ndim in (3, 4):
        return x
    raise ValueError(f"Expected a batch of images or flat square images. Received: shape={x.shape}")


def _show(ax, img):
    ax.imshow(np.clip(img, 0, 1), cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


def image_rows(rows, labels=None, title=None, cell=1.2):
    """A grid with one row per batch, e.g. original / noisy / reconstructed.

    Args:
        rows: a list of batches with the same number of images.
        labels: a label per row, shown at its left.
        title: the figure title.

    Returns:
        A `Figure`.
    """
    rows = [_as_images(r) for r in rows]
    n = len(rows[0])
    fig = Figure(figsize=(cell * n + (1.2 if labels else 0), cell * len(rows) + (0.4 if title else 0)))
    axes = fig.subplots(len(rows), n, squeeze=False)
    for i, batch in enumerate(rows):
        for j in range(n):
            _show(axes[i, j], batch[j])
        if labels:
            axes[i, 0].set_ylabel(labels[i], rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def reconstruction_grid(original, reconstructed, noisy=None, n=8, title="Reconstructions",
                        labels=None):
    """Original (and noisy) images above their reconstructions, `n` columns."""
    lengths = {"original": len(original), "reconstructed": len(reconstructed)}
    if noisy is not None:
        lengths["noisy"] = len(noisy)
    if len(set(lengths.values())) != 1:
        raise ValueError(f"The rows must hold the same number of images. Received: {lengths}")
    rows = [original[:n]] + ([noisy[:n]] if noisy is not None else []) + [reconstructed[:n]]
    default = ["original"] + (["noisy"] if noisy is not None else []) + ["reconstructed"]
    return image_rows(rows, labels=labels or default, title=title)


def image_grid(images, ncols=8, title=None, cell=1.0):
    """Images in a grid of `ncols` columns, e.g. samples from a VAE."""
    from keras_ae._validation import check_positive_int

    ncols = check_positive_int("ncols", ncols)
    images = _as_images(images)
    if len(images) == 0:
        raise ValueError("`images` is empty; expected at least one image")
    nrows = int(np.ceil(len(images) / ncols))
    fig = Figure(figsize=(cell * ncols, cell * nrows + (0.4 if title else 0)))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < len(images):
            _show(ax, images[k])
        else:
            ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def sample_grid(samples, ncols=8, title="Samples"):
    """A grid of generated samples."""
    return image_grid(samples, ncols=ncols, title=title)


def latent_scatter(codes, labels=None, title="Latent space", dims=(0, 1)):
    """Codes projected on two of their dimensions, coloured by label."""
    codes = np.asarray(codes).reshape(len(codes), -1)
    if codes.shape[1] < 2:
        raise ValueError(f"A latent scatter needs codes with 2 or more dimensions. Received: {codes.shape}")
    fig = Figure(figsize=(6, 5))
    ax = fig.subplots()
    sc = ax.scatter(codes[:, dims[0]], codes[:, dims[1]], c=labels, cmap="tab10", s=4, alpha=0.8)
    if labels is not None:
        fig.colorbar(sc, ax=ax, ticks=np.unique(labels), label="label")
    ax.set_xlabel(f"z[{dims[0]}]")
    ax.set_ylabel(f"z[{dims[1]}]")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def tsne_plot(codes, labels=None, perplexity=30.0, seed=0, title="t-SNE of latent codes"):
    """A 2-D t-SNE (scikit-learn) of the codes, coloured by label."""
    from sklearn.manifold import TSNE

    codes = np.asarray(codes, "float32").reshape(len(codes), -1)
    perplexity = min(perplexity, max(2.0, (len(codes) - 1) / 3))
    emb = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)
    fig = latent_scatter(emb, labels, title=title)
    fig.axes[0].set_xlabel("t-SNE 1")
    fig.axes[0].set_ylabel("t-SNE 2")
    return fig


def manifold_grid(model, n=15, span=None, title="Decoded latent grid"):
    """Decode a regular `n x n` grid over a 2-D latent space, in one batched call.

    For a VAE the grid covers the prior's central mass (normal quantiles
    from 5% to 95%); for another model pass `span=(low, high)`.
    """
    if model.latent_dim != 2:
        raise ValueError(f"manifold_grid needs a 2-D latent space. Received: latent_dim={model.latent_dim}")
    if span is None:
        from statistics import NormalDist  # the standard library: no SciPy needed

        axis = np.array([NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, n)])
    else:
        axis = np.linspace(span[0], span[1], n)
    zx, zy = np.meshgrid(axis, axis[::-1])
    z = np.stack([zx.ravel(), zy.ravel()], axis=1).astype("float32")
    images = _as_images(model.decode(z, batch_size=len(z)))
    h, w = images.shape[1:3]
    canvas = np.zeros((n * h, n * w) + images.shape[3:], "float32")
    for k, img in enumerate(images):
        i, j = divmod(k, n)
        canvas[i * h:(i + 1) * h, j * w:(j + 1) * w] = img
    fig = Figure(figsize=(7, 7))
    ax = fig.subplots()
    ax.imshow(canvas, cmap="gray" if canvas.ndim == 2 else None,
              extent=[axis[0], axis[-1], axis[0], axis[-1]])
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def interpolation_strip(images, title="Interpolation", alphas=None):
    """A row of images, e.g. decoded points on a line between two codes."""
    images = _as_images(images)
    fig = image_rows([images], title=title)
    if alphas is not None:
        for ax, a in zip(fig.axes, alphas):
            ax.set_xlabel(f"{a:.2f}", fontsize=8)
    return fig


def training_curves(history, title="Training"):
    """Every metric in a Keras `History` (or its `.history` dict), with its `val_` twin."""
    logs = getattr(history, "history", history)
    names = [k for k in logs if not k.startswith("val_")]
    if not names:
        raise ValueError("The history holds no metrics to plot")
    fig = Figure(figsize=(4 * len(names), 3.2))
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], label="train")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def score_histogram(scores, labels=None, threshold=None, bins=50, title="Anomaly scores"):
    """Histogram of anomaly scores, split by label (0 normal, 1 anomaly), with the threshold."""
    scores = np.asarray(scores)
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    edges = np.histogram_bin_edges(scores, bins=bins)
    if labels is None:
        ax.hist(scores, bins=edges, alpha=0.8, label="all")
    else:
        labels = np.asarray(labels)
        ax.hist(scores[labels == 0], bins=edges, alpha=0.6, label="normal", density=True)
        ax.hist(scores[labels == 1], bins=edges, alpha=0.6, label="anomaly", density=True)
    if threshold is not None:
        ax.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold:.4g}")
    ax.set_xlabel("score (higher = more abnormal)")
    ax.set_ylabel("density" if labels is not None else "count")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def roc_curve_plot(labels, scores, title="ROC curve"):
    """ROC curve of scores against labels (1 = anomaly), with the AUROC in the legend."""
    from sklearn.metrics import RocCurveDisplay

    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    # scikit-learn's own display: the curve, and the AUROC in the legend.
    RocCurveDisplay.from_predictions(labels, scores, ax=ax, name="scores", plot_chance_level=True)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def anomaly_map_overlay(images, maps, masks=None, labels=None, ncols=8, alpha=0.5, vmax=None,
                        title="Anomaly maps", cell=1.2):
    """Each image above its anomaly map, drawn as a heat map over it (anomalib's overlay view).

    Args:
        images: `(n, H, W[, C])` images in [0, 1], or flat square rows.
        maps: `(n, H, W)` maps (`keras_ae.anomaly.anomaly_map`), higher = more abnormal.
        masks: optional `(n, H, W)` ground-truth masks, outlined in cyan on the images.
        labels: optional caption per image (e.g. its defect or its score).
        ncols: images per row; more images wrap onto further pairs of rows.
        alpha: the heat map's opacity over the image.
        vmax: the map value drawn at the top of the colour scale (the same
            for every image, so the maps compare); default the 99th
            percentile of `maps`.
        title: the figure title.

    Returns:
        A `Figure`, with a colour bar for the map's scale.
    """
    from keras_ae._validation import check_float, check_positive_int

    ncols = check_positive_int("ncols", ncols)
    alpha = check_float("alpha", alpha, 0.0, 1.0)
    images, maps = _as_images(images), np.asarray(maps, "float32")
    if len(images) == 0 or maps.shape != images.shape[:3]:
        raise ValueError(f"`maps` must be one (H, W) map per image, (n, H, W) = {images.shape[:3]}. "
                         f"Received: maps of shape {maps.shape}")
    if masks is not None and np.shape(masks) != maps.shape:
        raise ValueError(f"`masks` must be shaped like `maps`, {maps.shape}. Received: {np.shape(masks)}")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"`labels` must hold one caption per image ({len(images)}). Received: {len(labels)}")
    top = float(np.percentile(maps, 99)) if vmax is None else check_float("vmax", vmax, 0.0, None,
                                                                           low_inclusive=False)
    top = top if top > 0 else 1.0  # an all-zero map still gets a scale
    ncols = min(ncols, len(images))
    blocks = int(np.ceil(len(images) / ncols))
    fig = Figure(figsize=(cell * ncols + 1.0, 2 * cell * blocks + (0.4 if title else 0)), layout="constrained")
    axes = fig.subplots(2 * blocks, ncols, squeeze=False)
    heat = None
    for k, ax in enumerate(axes[0::2].flat):
        over = axes[1::2].flat[k]
        if k >= len(images):
            ax.axis("off")
            over.axis("off")
            continue
        _show(ax, images[k])
        _show(over, images[k])
        heat = over.imshow(maps[k], cmap="jet", alpha=alpha, vmin=0.0, vmax=top)
        if masks is not None and np.any(masks[k]):
            ax.contour(np.asarray(masks[k], "float32"), levels=[0.5], colors="cyan", linewidths=0.8)
        if labels is not None:
            ax.set_title(str(labels[k]), fontsize=8)
    for b in range(blocks):
        axes[2 * b, 0].set_ylabel("image", fontsize=9)
        axes[2 * b + 1, 0].set_ylabel("map", fontsize=9)
    fig.colorbar(heat, ax=axes, shrink=0.8, label="anomaly map")
    if title:
        fig.suptitle(title)
    return fig


FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def save_figure(fig, path, dpi=100):
    """Save a figure atomically (a temporary file, then a rename); return `path`.

    The path must end in an image suffix (.png, .pdf, .svg, .jpg); it is
    checked before anything is drawn or written.
    """
    path = check_output_path(path, FIGURE_SUFFIXES, what="figure")
    fmt = os.path.splitext(path)[1][1:].lower()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt))
