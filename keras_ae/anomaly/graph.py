"""The pieces of a detector's exportable score graph: Keras ops on symbolic tensors, no NumPy at run time.

`BaseDetector.scoring_model()` builds a functional `keras.Model` from raw
input to `{"score", "threshold"}`; each detector class writes its score as a
graph with these helpers (`_score_graph`), so `keras_ae.export` can write it
to ONNX, SavedModel, LiteRT or OpenVINO from any backend. Every fitted
constant (a transform's parameters, a median, a reference set) is a float32
constant of the graph.
"""

import keras
import numpy as np
from keras import ops

__all__ = ["NearestNeighbourDistance", "bce_per_sample", "constant", "mahalanobis", "mse_per_sample",
           "reconstruction", "rot90", "smoothing_matrix", "yeo_johnson"]


def constant(value):
    """`value` as a float32 NumPy array, the dtype of every constant of a score graph."""
    return np.asarray(value, dtype="float32")


def _flat(x):
    return ops.reshape(x, (-1, int(np.prod(x.shape[1:]))))


def reconstruction(model, x):
    """A keras-ae model's deterministic reconstruction of `x`: a VAE decodes its posterior mean."""
    code = model.encoder(x, training=False)
    if isinstance(code, (list, tuple)):  # a VAE's (z_mean, z_log_var): the mean, never a sample
        code = code[0]
    return model.decoder(code, training=False)


def mse_per_sample(x, recon):
    """Mean squared error per sample, shape `(batch,)` (`keras_ae.inference.per_sample_error`'s "mse")."""
    diff = _flat(ops.cast(x, "float32")) - _flat(ops.cast(recon, "float32"))
    return ops.mean(ops.square(diff), axis=-1)


def bce_per_sample(x, recon):
    """Binary cross-entropy summed over values, `recon` clipped to `[1e-7, 1 - 1e-7]` (its "bce")."""
    x, p = _flat(ops.cast(x, "float32")), ops.clip(_flat(ops.cast(recon, "float32")), 1e-7, 1 - 1e-7)
    return -ops.sum(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p), axis=-1)


def _log1p(a):
    """`log(1 + a)` for `a >= 0`, accurate for small `a` (Goldberg's `a * log(u) / (u - 1)`, `u = 1 + a`)."""
    u = a + 1.0
    return ops.where(u == 1.0, a, a * ops.log(u) / ops.where(u == 1.0, 1.0, u - 1.0))


def _expm1(y):
    """`exp(y) - 1`, accurate for small `y` (`2 t / (1 - t)` with `t = tanh(y / 2)` there)."""
    t = ops.tanh(ops.clip(y, -1.0, 1.0) * 0.5)
    return ops.where(ops.abs(y) < 0.5, 2.0 * t / (1.0 - t), ops.exp(y) - 1.0)


def yeo_johnson(x, lambdas):
    """scikit-learn's Yeo-Johnson transform (`PowerTransformer(standardize=False)`) with fitted `lambdas`.

    Written as `((1 + x)**l - 1) / l = expm1(l * log1p(x)) / l`, with `expm1` and `log1p` made of ops
    every exporter has (ONNX has neither), which keeps float32 accurate where a small lambda would
    cancel. The lambda-is-0 (or 2) cases are chosen per column, as scikit-learn chooses them.
    """
    lam = np.asarray(lambdas, dtype="float64")
    eps = np.spacing(1.0)
    pos_log, neg_log = np.abs(lam) < eps, np.abs(lam - 2.0) < eps
    lp = constant(np.where(pos_log, 1.0, lam))  # no division by a zero lambda: that column takes log1p
    ln = constant(np.where(neg_log, 1.0, 2.0 - lam))
    a = _log1p(ops.abs(x))  # log1p(x) for x >= 0, log1p(-x) for x < 0
    pos = ops.where(constant(pos_log), a, _expm1(a * lp) / lp)
    neg = -ops.where(constant(neg_log), a, _expm1(a * ln) / ln)
    return ops.where(x >= 0, pos, neg)


def mahalanobis(codes, mean, precision):
    """The squared Mahalanobis distance `(c - mean) P (c - mean)` per sample."""
    d = ops.cast(codes, "float32") - constant(mean)
    return ops.sum(ops.matmul(d, constant(precision)) * d, axis=-1)


def rot90(images, k):
    """`np.rot90(images, k, axes=(1, 2))` for `(batch, h, w, c)` images."""
    k %= 4
    if k == 0:
        return images
    if k == 2:
        return ops.flip(ops.flip(images, axis=1), axis=2)
    swapped = ops.transpose(images, (0, 2, 1, 3))
    return ops.flip(swapped, axis=1) if k == 1 else ops.flip(swapped, axis=2)


def smoothing_matrix(size, sigma):
    """The `(size, size)` matrix `S` with `S @ v == scipy.ndimage.gaussian_filter1d(v, sigma)` (its default
    "reflect" edges and truncation), so smoothing an image is two matrix products."""
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(np.eye(size), sigma, axis=0)


def smooth(images, matrix):
    """`scipy.ndimage.gaussian_filter(images, (0, sigma, sigma, 0))` for `(batch, side, side, c)` images,
    with `matrix = smoothing_matrix(side, sigma)`."""
    # Plain 2-D products with the constant (a Dense layer's): a broadcast batched product corrupted memory in
    # TensorFlow's SavedModel, and tf2onnx mishandles TF's tensordot.
    s_t, side = constant(matrix.T), int(matrix.shape[0])

    def along_last(v):
        return ops.reshape(ops.matmul(ops.reshape(v, (-1, side)), s_t), (-1,) + tuple(v.shape[1:]))

    v = along_last(ops.transpose(images, (0, 2, 3, 1)))  # (batch, w, c, h): smoothed along h
    v = along_last(ops.transpose(v, (0, 3, 2, 1)))  # (batch, h, c, w): smoothed along w
    return ops.transpose(v, (0, 1, 3, 2))


@keras.saving.register_keras_serializable(package="keras_ae")
class NearestNeighbourDistance(keras.layers.Layer):
    """`x -> ` the Euclidean distance to the nearest rows of a fixed reference set, shape `(batch,)`.

    A kNN anomaly score as a graph (PyOD's `KNN`): the distances to all
    `reference` rows, `ops.top_k` of the `k` smallest, and their largest
    (`method="largest"`, PyOD's default) or mean (`"mean"`). The reference
    rows are a constant of the layer (float32), centred on their mean first so
    the expanded form `|x|^2 - 2 x.r + |r|^2` that finds the nearest rows loses
    less to rounding; their distances are then computed from the differences.

    Args:
        reference: `(m, d)` rows, `m >= k`.
        k: the number of neighbours, a positive integer.
        method: `"largest"` or `"mean"`.
    """

    def __init__(self, reference, k=5, method="largest", **kwargs):
        super().__init__(**kwargs)
        ref = np.asarray(reference, dtype="float64")
        if ref.ndim != 2 or not np.all(np.isfinite(ref)):
            raise ValueError(f"`reference` must be a finite (m, d) table. Received: shape={ref.shape}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(ref):
            raise ValueError(f"`k` must be an integer from 1 to {len(ref)} (the reference rows). Received: k={k!r}")
        if method not in ("largest", "mean"):
            raise ValueError(f"`method` must be 'largest' or 'mean'. Received: method={method!r}")
        self.k, self.method = int(k), method
        self.centre = ref.mean(axis=0)
        self.reference = ref - self.centre
        self.reference_sq = (self.reference ** 2).sum(axis=1)

    def call(self, x):
        # Keras ops, never an operator, between a tensor and a NumPy constant: an operator lets NumPy convert
        # the tensor (which PyTorch refuses while it traces).
        x = ops.subtract(ops.cast(x, "float32"), constant(self.centre))
        sq = ops.add(ops.subtract(ops.sum(ops.square(x), axis=-1, keepdims=True),
                                  ops.matmul(x, constant(2.0 * self.reference.T))),
                     constant(self.reference_sq[None, :]))
        if keras.backend.backend() == "jax":
            # JAX lowers top_k to a composite op that TensorFlow's SavedModel loader cannot read: a sort
            index = ops.argsort(sq, axis=-1)[:, : self.k]
        else:
            index = ops.top_k(ops.negative(sq), self.k)[1]  # the k nearest rows
        # Their distances again, from the differences: near 0 the expanded form's rounding (1e-7 of |x|^2)
        # would be 1e-3 after the square root.
        diff = ops.subtract(ops.expand_dims(x, 1), ops.take(constant(self.reference), index, axis=0))
        dist = ops.sqrt(ops.sum(ops.square(diff), axis=-1))
        return dist[:, -1] if self.method == "largest" else ops.mean(dist, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    def get_config(self):
        return {**super().get_config(), "reference": (self.reference + self.centre).tolist(), "k": self.k,
                "method": self.method}
