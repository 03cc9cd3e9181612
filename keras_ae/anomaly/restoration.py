"""`RestorationDetector`: an image anomaly detector that learns to turn rotated normal images upright."""

import numpy as np

from keras_ae.anomaly import trained as checks
from keras_ae.anomaly._schema import said
from keras_ae.anomaly.base import register_detector
from keras_ae.anomaly.trained import TrainedDetector

__all__ = ["RestorationDetector"]


@register_detector
class RestorationDetector(TrainedDetector):
    """An image anomaly detector that learns to turn rotated normal images upright.

    Attribute restoration (ARNet, Fei et al. 2020) with an autoencoder: `fit`
    trains a dense autoencoder to map each normal image, rotated by 0, 90, 180
    or 270 degrees, back to the upright image. Putting an image back upright
    takes knowing what the normal class looks like, so an image of another
    kind is restored worse than by a plain reconstruction, which copies any
    shape it can. The score is the restoration error of each rotation (one
    minus the cosine similarity of the restored and the upright image, by
    default), divided by its median on held-out normal images (so a rotation
    the normal class looks alike under, as a 0 turned by 90 degrees, weighs no
    more than the others), averaged over the rotations. Both images are
    smoothed with a Gaussian first (`smoothing`), so a misplaced stroke counts
    more than pixel-level jitter along the edges of a well-restored one.

    It takes square images, `(n, side, side)` or `(n, side, side, channels)`,
    or flat rows whose length is `side * side` (one channel), in [0, 1].

    Args:
        hidden_units, latent_dim: the dense autoencoder.
        epochs: passes over the rotated copies (4 per image, so 15 epochs
            show each image 60 times).
        batch_size, learning_rate: Adam settings.
        smoothing: the standard deviation, in pixels, of the Gaussian the
            restored and the upright image are smoothed with before they are
            compared; 0 compares them as they are.
        error: how a restoration is compared with the upright image:
            `"cosine"` (one minus the cosine similarity of the two images,
            which does not count a restoration fainter or bolder than the
            input as an error) or `"squared"` (the mean squared difference).
            benchmarks/RESULTS.md compares the two.
        calibration_fraction: the part of the normal images held out of
            training; the per-rotation medians come from it.
        percentile, contamination: the threshold, as in `ReconstructionDetector`
            (set from the scores of all the images passed to `fit`).
        random_state: an integer seed of the split and of the weights, or `None`.
        verbose: Keras's `verbose` for training.

    `epochs`, `batch_size`, `smoothing`, `error`, `calibration_fraction`,
    `percentile` and `contamination` are refused at construction if bad;
    every setting is checked by `fit`, before any training.

    Attributes (set by `fit`): `model_` (also `model`), `image_shape_`,
    `rotation_medians_`, `history_`, and those of `BaseDetector`.

    Example:

    ```python
    detector = keras_ae.anomaly.RestorationDetector().fit(x_normal)   # images of the normal class
    scores = detector.decision_function(x_new)                         # higher = more abnormal
    ```
    """

    ROTATIONS = 4

    ERRORS = ("cosine", "squared")

    _SECTION = "restoration"
    _PARAM_CHECKS = {
        "hidden_units": checks.units, "latent_dim": checks.positive_int, "epochs": checks.positive_int,
        "batch_size": checks.positive_int, "learning_rate": checks.positive_float,
        "smoothing": lambda name, value: checks.check_float(name, value, 0.0, 10.0),
        "error": lambda name, value: RestorationDetector._check_error_value(value),
        "calibration_fraction": checks.fraction, "percentile": checks.percentile,
        "contamination": checks.contamination, "random_state": checks.random_state, "verbose": checks.verbose,
    }
    _CHECKED_IN_INIT = ("epochs", "batch_size", "calibration_fraction", "smoothing", "error", "percentile",
                        "contamination")

    def __init__(self, hidden_units=(512, 256, 128), latent_dim=32, epochs=15, batch_size=128,
                 learning_rate=1e-3, smoothing=1.0, error="cosine", calibration_fraction=0.1, percentile=95.0,
                 contamination=None, random_state=0, verbose=0):
        self.hidden_units = hidden_units
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.smoothing = smoothing
        self.error = error
        self.calibration_fraction = calibration_fraction
        self.percentile = percentile
        self.contamination = contamination
        self.random_state = random_state
        self.verbose = verbose
        self._check_init()

    def _scoring_in_use(self):
        return "restoration"

    @classmethod
    def _check_error_value(cls, error):
        if not isinstance(error, str) or error not in cls.ERRORS:
            raise ValueError(f"`error` must be one of {cls.ERRORS}. Received: error={error!r}")

    def _check_error(self):
        self._check_error_value(self.error)

    # ---- the images and their restoration errors -----------------------------------------------------------
    def _images(self, X, name="X"):
        """`X` as float32 `(n, side, side, channels)` images, checked."""
        from keras_ae._validation import to_numpy

        x = np.asarray(to_numpy(X, name))
        shape = x.shape
        if x.ndim == 2 and x.shape[1] > 0 and round(np.sqrt(x.shape[1])) ** 2 == x.shape[1]:
            side = int(round(np.sqrt(x.shape[1])))
            x = x.reshape(-1, side, side, 1)
        elif x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or x.shape[1] != x.shape[2] or len(x) == 0 or not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"`{name}` must be square images, (n, side, side[, channels]), or flat rows of "
                             f"side * side values. Received: shape={shape}, dtype={x.dtype}")
        x = x.astype("float32")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"`{name}` holds {int(x.size - np.count_nonzero(np.isfinite(x)))} NaN or infinite "
                             "value(s)")
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"`{name}` must hold values in [0, 1]. Received: min {x.min():.4g}, "
                             f"max {x.max():.4g}")
        if hasattr(self, "image_shape_") and tuple(x.shape[1:]) != tuple(self.image_shape_):
            raise ValueError(f"`{name}` must be images of shape {tuple(self.image_shape_)}, as in fit. "
                             f"Received: {tuple(x.shape[1:])}")
        return x

    def _restored(self, images, k=0):
        """The restoration of `images` turned by `k` quarter turns, shaped like `images`."""
        flat = np.rot90(images, k, axes=(1, 2)).reshape(len(images), -1)
        return self.model_.reconstruct(flat).reshape(images.shape)

    def _smoothed(self, images):
        if not self.smoothing:
            return images
        from scipy.ndimage import gaussian_filter

        return gaussian_filter(images, sigma=(0, self.smoothing, self.smoothing, 0))

    def _error_map(self, images, k=0):
        """The restoration error of `images` turned by `k` quarter turns: restored minus upright, smoothed."""
        return self._smoothed(self._restored(images, k) - images)

    def _rotation_errors(self, images):
        """`(ROTATIONS, n)` restoration errors of each rotation: the mean squared error per value, or one minus
        the cosine similarity of the (smoothed) restored and upright images (`error`)."""
        self._check_error()  # set_params does not check
        if self.error == "squared":
            return np.stack([np.mean(self._error_map(images, k).reshape(len(images), -1) ** 2, axis=1,
                                     dtype="float64") for k in range(self.ROTATIONS)])
        upright = self._smoothed(images).reshape(len(images), -1).astype("float64")
        norms = np.linalg.norm(upright, axis=1)
        errors = []
        for k in range(self.ROTATIONS):
            restored = self._smoothed(self._restored(images, k)).reshape(len(images), -1).astype("float64")
            cos = np.einsum("ij,ij->i", upright, restored) / np.maximum(norms * np.linalg.norm(restored, axis=1),
                                                                        1e-12)
            errors.append(1.0 - cos)
        return np.stack(errors)

    def _raw_scores(self, x):
        self._check_params()  # NotFittedError before fit
        errors = self._rotation_errors(self._images(x))
        return (errors / self.rotation_medians_[:, None]).mean(axis=0)

    def _score_input_shape(self):
        return tuple(self.image_shape_)  # (side, side, channels) images

    def _score_graph(self, x):
        from keras import ops

        from keras_ae.anomaly import graph

        self._check_error()
        matrix = graph.smoothing_matrix(self.image_shape_[0], self.smoothing) if self.smoothing else None
        smooth = (lambda v: graph.smooth(v, matrix)) if matrix is not None else (lambda v: v)
        n_values = int(np.prod(self.image_shape_))
        upright = ops.reshape(smooth(x), (-1, n_values))
        nu = ops.sqrt(ops.sum(ops.square(upright), axis=-1, keepdims=True))
        errors = []
        for k in range(self.ROTATIONS):
            flat = ops.reshape(graph.rot90(x, k), (-1, n_values))
            restored = ops.reshape(graph.reconstruction(self.model_, flat), (-1,) + tuple(self.image_shape_))
            if self.error == "squared":
                errors.append(ops.mean(ops.square(ops.reshape(smooth(restored - x), (-1, n_values))), axis=-1))
                continue
            restored = ops.reshape(smooth(restored), (-1, n_values))
            # 1 - cos as half the squared distance of the unit vectors: float32 keeps it accurate where
            # 1 - cos would cancel (a good restoration); 1 where either image is 0, as in `_rotation_errors`.
            nr = ops.sqrt(ops.sum(ops.square(restored), axis=-1, keepdims=True))
            half = 0.5 * ops.sum(ops.square(upright / ops.maximum(nu, 1e-30) - restored / ops.maximum(nr, 1e-30)),
                                 axis=-1)
            errors.append(ops.where(ops.squeeze(nu * nr, -1) > 1e-12, half, 1.0))
        return ops.mean(ops.stack([e / float(m) for e, m in zip(errors, self.rotation_medians_)]), axis=0)

    def score_map(self, x):
        """Per-pixel squared error of restoring the upright image (rotation 0), smoothed as in the score,
        shaped like the images: where the restoration differs (with `error="cosine"` too, whose score is
        not a sum over this map)."""
        self._check_params()
        return self._error_map(self._images(x)) ** 2

    def _calibration_split(self, images):
        """`(calibration, train)`: the held-out part of the normal images (`calibration_fraction`, drawn with
        `random_state`) and the rest."""
        cal, train = self._split_order(len(images))
        return images[cal], images[train]

    def _split_order(self, n):
        order = np.random.default_rng(self.random_state).permutation(n)
        n_cal = max(10, int(round(self.calibration_fraction * n)))
        return order[:n_cal], order[n_cal:]

    # ---- the hooks of `fit` -------------------------------------------------------------------------------
    def _prepare(self, X, sample_weight):
        images = self._images(X)
        if len(images) < 20:
            raise ValueError(f"RestorationDetector needs at least 20 normal images. Received: {len(images)}")
        weights = self._sample_weight(sample_weight, len(images))
        cal, train = self._split_order(len(images))
        calibration, train_images = images[cal], images[train]
        rotated = np.concatenate([np.rot90(train_images, k, axes=(1, 2)) for k in range(self.ROTATIONS)])
        return {"images": images, "calibration": calibration, "rotated": rotated.reshape(len(rotated), -1),
                "upright": np.tile(train_images.reshape(len(train_images), -1), (self.ROTATIONS, 1)),
                "weights": None if weights is None else np.tile(weights[train], self.ROTATIONS)}

    def _build_model(self, data):
        from keras_ae.models import UndercompleteAutoencoder

        return UndercompleteAutoencoder(input_shape=(data["rotated"].shape[1],), hidden_units=self.hidden_units,
                                        latent_dim=self.latent_dim, reconstruction_loss="bce")

    def _fit_model(self, model, data):
        import keras

        from keras_ae.training import fit_model

        return fit_model(model, data["rotated"], data["upright"], epochs=int(self.epochs),
                         optimizer=keras.optimizers.Adam(self.learning_rate), what="RestorationDetector training",
                         batch_size=int(self.batch_size), shuffle=True, verbose=self.verbose,
                         sample_weight=data["weights"])

    def _calibrate(self, data):
        self.image_shape_ = tuple(int(d) for d in data["images"].shape[1:])
        medians = np.median(self._rotation_errors(data["calibration"]), axis=1)
        self.rotation_medians_ = np.maximum(medians, 1e-12)

    # ---- the detector file --------------------------------------------------------------------------------
    def _section(self):
        self._check_error()
        return {"image_shape": list(self.image_shape_), "rotation_medians": self.rotation_medians_.tolist(),
                "smoothing": float(self.smoothing), "error": self.error}

    @classmethod
    def _check_settings(cls, reader, settings):
        super()._check_settings(reader, settings)
        reader.choice("scoring", settings["scoring"], ("restoration",))
        # Files written before `smoothing` and `error` existed lack them (they scored the raw squared error).
        r = reader.keys("restoration", settings["restoration"], ["image_shape", "rotation_medians"],
                        ["smoothing", "error"], owner="the 'restoration' section of a RestorationDetector file")
        shape = r["image_shape"]
        if not (isinstance(shape, list) and len(shape) == 3 and shape[0] == shape[1]
                and all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape)):
            reader.fail("restoration.image_shape", "[side, side, channels], three positive integers", shape)
        reader.array("restoration.rotation_medians", r["rotation_medians"], (cls.ROTATIONS,),
                     low=float(np.finfo("float64").tiny))
        if "smoothing" in r:
            reader.number("restoration.smoothing", r["smoothing"], 0.0, 10.0)
        if "error" in r:
            reader.choice("restoration.error", r["error"], cls.ERRORS)

    @classmethod
    def _check_model(cls, reader, settings, model):
        shape = settings["restoration"]["image_shape"]
        inputs = int(np.prod(getattr(model, "sample_shape", (0,))))
        if int(np.prod(shape)) != inputs:
            reader.fail("restoration.image_shape", f"images of {inputs} values, the input of the file's model",
                        said(f"{shape}, {int(np.prod(shape))} values"))

    @classmethod
    def _from_settings(cls, model, settings):
        r = settings["restoration"]
        # Detectors saved before `smoothing` and `error` existed scored the raw squared error.
        detector = cls(**{**cls._params_from(settings), "percentile": settings["percentile"],
                          "contamination": settings["contamination"], "smoothing": r.get("smoothing", 0.0),
                          "error": r.get("error", "squared")})
        detector.model_ = model
        detector.image_shape_ = tuple(r["image_shape"])
        detector.rotation_medians_ = np.asarray(r["rotation_medians"], "float64")
        return detector
