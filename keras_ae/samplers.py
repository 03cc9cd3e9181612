"""Samplers: draw new codes for a trained autoencoder, then decode them with its `decode`.

Besides a VAE's prior N(0, I), a density fitted *ex post* to the training codes often gives sharper
samples, and makes a deterministic autoencoder generative (Ghosh et al. 2020, "From variational to
deterministic autoencoders"; pythae's `GaussianMixtureSampler`). Drawing is NumPy (a seeded `Generator`).

- `"normal"` (`NormalSampler`): N(0, temperature^2 I), the VAE prior; nothing to fit.
- `"gaussian"` (`GaussianSampler`): one Gaussian, the codes' mean and full covariance.
- `"gmm"` (`GaussianMixtureSampler`): a mixture fitted by scikit-learn's `GaussianMixture`.
- `"code_prior"` (`keras_ae.models.code_prior.CodePriorSampler`): a VQ-VAE's PixelCNN prior.

Any model with `encode`, `decode` and a flat code works; a VAE is encoded to its posterior means. Example:

```python
sampler = keras_ae.get_sampler("gmm", n_components=10).fit(vae, x_train)
images = sampler.sample(16, seed=0)  # decoded with vae.decode
sampler.save("vae_gmm.npz")
sampler = keras_ae.load_sampler("vae_gmm.npz", model=vae)
```
"""

import difflib
import json
import os
import warnings
import zipfile

import numpy as np

from keras_ae._io import atomic_write, check_output_path
from keras_ae._validation import check_choice, check_float, check_positive_int, check_seed, check_value_range

__all__ = ["GaussianMixtureSampler", "GaussianSampler", "NormalSampler", "NotFittedError", "SAMPLERS", "Sampler",
           "code_size_of", "get_sampler", "list_samplers", "load_sampler", "register_sampler"]
SAMPLERS = {}  # name -> class, filled by `register_sampler`
FORMAT = 1  # the sampler file's layout version
METADATA = "metadata"  # the array holding the file's JSON (a 0-d unicode array: no pickle)


class NotFittedError(ValueError, AttributeError):  # scikit-learn's bases; sklearn is not needed to sample
    """A sampler was used before `fit`."""


def register_sampler(name):
    """Class decorator: make a `Sampler` subclass available as `get_sampler(name)` and in sampler files."""

    def wrap(cls):
        if name in SAMPLERS:
            raise ValueError(f"Sampler {name!r} is already registered to {SAMPLERS[name].__name__}")
        SAMPLERS[name] = cls
        cls.kind = name
        return cls
    return wrap


def _registered(name):  # "code_prior" (a VQ-VAE's prior) registers with the models, keras_ae.models
    if name == "code_prior" and name not in SAMPLERS:
        from keras_ae import register_with_keras
        register_with_keras()
    return name in SAMPLERS


def list_samplers():
    """Names of the registered samplers, sorted (with "code_prior", which registers with the models)."""
    _registered("code_prior")
    return sorted(SAMPLERS)


def _unknown(name, what="sampler"):
    close = difflib.get_close_matches(str(name), list(SAMPLERS), n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return f"Unknown {what} {name!r}.{hint} Expected one of: {', '.join(list_samplers())}"


def get_sampler(name, **kwargs):
    """A sampler by name (`"normal"`, `"gaussian"`, `"gmm"`) built with `kwargs`; a `Sampler` is returned as is.

    Example: `get_sampler("gmm", n_components=5, seed=1)`.
    """
    if isinstance(name, Sampler):
        if kwargs:
            raise ValueError(f"Settings go with a sampler's name; {name!r} is built. Received: {sorted(kwargs)}")
        return name
    if not isinstance(name, str):
        raise TypeError(f"`sampler` must be a name such as 'gmm' or a Sampler. Received: {name!r}")
    if not _registered(name):
        raise ValueError(_unknown(name))
    return SAMPLERS[name](**kwargs)


def code_size_of(model):
    """The size of `model`'s flat code, read from `code_shape`, else `latent_dim`, else `code_size`.

    Raises a `ValueError` for a spatial code (a convolutional model built with
    `latent_dim=None`) and for a decoder that also needs the input (`decodes_from_code_alone=False`).
    """
    name = type(model).__name__
    for verb in ("encode", "decode"):
        if not callable(getattr(model, verb, None)):
            raise TypeError(f"A sampler needs a model with `encode` and `decode`. Received: {name} without `{verb}`")
    if getattr(model, "decodes_from_code_alone", True) is False:
        raise ValueError(f"{name} decodes from the code and its input together, so decoded codes alone are not "
                         "samples of the data: a sampler cannot generate from it")
    shape = getattr(model, "code_shape", None)
    if shape is None:
        size = next((v for v in (getattr(model, a, None) for a in ("latent_dim", "code_size")) if v is not None), None)
        if size is None:
            raise TypeError(f"A sampler needs the model's code size: `code_shape`, `latent_dim` or `code_size`. "
                            f"Received: {name} with none of them")
        shape = (size,)
    shape = tuple(int(s) for s in shape)
    if len(shape) != 1:
        raise ValueError(f"A sampler needs a flat code of shape (latent_dim,). Received: {name} with code shape "
                         f"{shape} (a spatial code; build the model with latent_dim=<int> for a flat one)")
    return shape[0]


class Sampler:
    """Base class of samplers: a density over a model's codes, fitted *ex post*, then decoded.

    A subclass is registered with `@register_sampler("name")`; its keyword arguments are its config. It
    implements `_fit(z)` (codes `(n, d)`, float64) and `_draw(rng, n, d)` (from a NumPy `Generator`); one with
    fitted arrays names them in `_ARRAYS` (attributes `name + "_"`) and checks a file's in `_set_arrays`.

    Attributes:
        code_size_: the code size it was fitted for, or `None`.
        n_fit_: how many codes it was fitted to, or `None`.
        model: the model given to `fit` or `attach` (not saved); `sample` decodes with it.
    """

    kind = None  # set by `register_sampler`
    needs_fit = True  # False: it draws without data (the VAE prior)
    _ARRAYS = ()

    def __init__(self):
        self.code_size_ = self.n_fit_ = self.model = None

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"

    def check_model(self, model):
        """Return `model`'s code size; a `ValueError` if its code is not flat or not the size fitted to."""
        size = code_size_of(model)
        if self.needs_fit and self.code_size_ is not None and size != self.code_size_:
            raise ValueError(f"This {type(self).__name__} was fitted to codes of size {self.code_size_}, but "
                             f"{type(model).__name__} has codes of size {size}")
        return size

    def attach(self, model):
        """Decode with `model` (checked by `check_model`) in `sample`; returns the sampler."""
        size = self.check_model(model)
        if not self.needs_fit:
            self.code_size_ = size
        self.model = model
        return self

    def fit(self, model, x=None, batch_size=256):
        """Encode `x` with `model.encode` (a VAE: the posterior means), fit the density to the codes; return `self`.

        Args:
            model: the autoencoder; `sample` decodes with it.
            x: training inputs, in any form `model.encode` takes. `"normal"` needs none.
            batch_size: samples per forward pass.
        """
        size = code_size_of(model)
        if x is not None:
            z = np.asarray(model.encode(x, batch_size=batch_size))
            if z.ndim != 2 or z.shape[1] != size:
                raise ValueError(f"{type(model).__name__}.encode gave codes of shape {z.shape}; expected (n, {size})")
            self.fit_codes(z)
        elif self.needs_fit:
            raise ValueError(f"{type(self).__name__}.fit needs the training inputs `x` to encode. Received: x=None")
        self.code_size_, self.model = size, model
        return self

    def fit_codes(self, z):
        """Fit the density to codes `z` of shape `(n, code_size)` directly (no model); returns the sampler."""
        z = np.asarray(z)
        if z.ndim != 2 or z.shape[0] < 2 or not np.issubdtype(z.dtype, np.number):
            raise ValueError(f"`z` must be 2 or more codes, of shape (n, code_size). Received: shape={z.shape}, "
                             f"dtype={z.dtype}")
        z = z.astype("float64")
        check_value_range(z, "z")  # finite
        self._fit(z)
        self.code_size_, self.n_fit_ = int(z.shape[1]), int(z.shape[0])
        return self

    def _require_fitted(self):
        if self.code_size_ is None:
            hint = "fit(model, x) or fit_codes(z)" if self.needs_fit else "fit(model) or attach(model)"
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call {hint} before sampling")

    def sample_codes(self, n, seed=None):
        """Draw `n` codes: a float32 array of shape `(n, code_size)`. The same `seed` gives the same codes."""
        self._require_fitted()
        return self._codes(n, seed, self.code_size_)

    def _codes(self, n, seed, size):
        rng = np.random.default_rng(check_seed(seed))
        return np.asarray(self._draw(rng, check_positive_int("n", n), size), dtype="float32")

    def sample(self, n, seed=None, batch_size=256, model=None):
        """Draw `n` codes and decode them: an array of shape `(n,) + model.sample_shape`.

        Args:
            n: number of samples.
            seed: int seed; the same seed gives the same samples, whatever `batch_size`.
            batch_size: codes per decoder pass.
            model: the model to decode with; by default the one given to `fit` or `attach`.
        """
        model = self.model if model is None else model
        if model is None:
            raise ValueError(f"This {type(self).__name__} has no model to decode with: pass model=..., or call "
                             "fit(model, ...) or attach(model)")
        size = self.check_model(model)
        if self.needs_fit:
            self._require_fitted()
        return model.decode(self._codes(n, seed, size), batch_size=batch_size)

    def get_config(self):
        """The constructor's arguments (JSON values)."""
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save(self, filepath):
        """Write the sampler to an `.npz` file atomically: its fitted arrays and a JSON `metadata` string.

        No pickle: `load_sampler` reads it with `allow_pickle=False` and checks every field.
        """
        path = check_output_path(filepath, (".npz",), what="sampler file")
        if self.needs_fit:
            self._require_fitted()
        arrays = {name: getattr(self, name + "_") for name in self._ARRAYS}
        meta = {"format": FORMAT, "kind": self.kind, "config": self.get_config(), "code_size": self.code_size_,
                "n_fit": self.n_fit_}
        text = json.dumps(meta, allow_nan=False)
        _from_contents(path, json.loads(text), arrays)  # never write what load_sampler refuses
        arrays[METADATA] = np.array(text)

        def write(tmp):
            with open(tmp, "wb") as f:  # a file object: NumPy adds no second ".npz"
                np.savez(f, **arrays)
        return atomic_write(path, write)


def load_sampler(filepath, model=None):
    """Read a sampler written by `Sampler.save`, checking every field.

    Args:
        filepath: the `.npz` file.
        model: optional; attached to the sampler, and its code size must match the file's.

    Returns the sampler, fitted as it was saved. Raises a `ValueError` naming the file and the field for an
    unknown kind, missing or unexpected arrays, wrong shapes, weights that are negative or do not sum to 1,
    non-finite values, covariances that are not symmetric positive definite, or a code size other than `model`'s.
    """
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No sampler file at {path!r}")
    if not zipfile.is_zipfile(path):  # np.load would take any other file for a pickle
        raise ValueError(f"{path!r} is not a sampler file (an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise ValueError(f"{path!r} is not a sampler file (an .npz archive): {e}") from None
    except ValueError as e:  # e.g. an object array, which only pickle could read
        raise ValueError(f"{path!r}: an array cannot be read without pickle, or is damaged: {e}") from None
    text = arrays.pop(METADATA, None)
    if text is None or text.shape != () or text.dtype.kind != "U":
        got = "missing" if text is None else f"dtype={text.dtype}, shape={text.shape}"
        raise ValueError(f"{path!r}: field {METADATA!r} must be a JSON string (a keras-ae sampler file). "
                         f"Received: {got}")
    try:
        meta = json.loads(str(text))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path!r}: field {METADATA!r} is not valid JSON: {e}") from None
    sampler = _from_contents(path, meta, arrays)
    if model is not None:
        try:
            sampler.attach(model)
        except ValueError as e:
            raise ValueError(f"{path!r}: field 'code_size': {e}") from None
    return sampler


def _from_contents(path, meta, arrays):
    """The sampler that a file's metadata and arrays describe; a `ValueError` naming `path` and the field."""
    if not isinstance(meta, dict):
        raise ValueError(f"{path!r}: field {METADATA!r} must be a JSON object. Received: {type(meta).__name__}")
    for field in ("format", "kind", "config", "code_size", "n_fit"):
        if field not in meta:
            raise ValueError(f"{path!r}: field {field!r} is missing from the metadata")
    if meta["format"] != FORMAT:
        raise ValueError(f"{path!r}: field 'format' must be {FORMAT}. Received: {meta['format']!r}")
    kind = meta["kind"]
    if not isinstance(kind, str) or not _registered(kind):
        raise ValueError(f"{path!r}: field 'kind': {_unknown(kind, 'kind of sampler')}")
    try:
        if not isinstance(meta["config"], dict):
            raise TypeError(f"a JSON object is expected. Received: {meta['config']!r}")
        sampler = SAMPLERS[kind].from_config(meta["config"])
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path!r}: field 'config' does not build a {SAMPLERS[kind].__name__}: {e}") from None
    for field in ("code_size", "n_fit"):
        v = meta[field]
        if (v is None and sampler.needs_fit) or (v is not None and (isinstance(v, bool) or not isinstance(v, int)
                                                                    or v < 1)):
            raise ValueError(f"{path!r}: field {field!r} must be a positive integer"
                             f"{'' if sampler.needs_fit else ' or null'}. Received: {v!r}")
    expected = set(sampler._ARRAYS)
    missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
    if missing or extra:
        raise ValueError(f"{path!r}: array {(missing or extra)[0]!r} is {'missing' if missing else 'unexpected'} "
                         f"(a {kind!r} sampler file has: {', '.join(sorted(expected)) or 'no arrays'})")
    if expected:
        sampler._set_arrays(arrays, repr(path))
        if sampler.code_size_ != meta["code_size"]:
            raise ValueError(f"{path!r}: field 'code_size' is {meta['code_size']}, but the arrays hold codes of "
                             f"size {sampler.code_size_}")
    sampler.code_size_, sampler.n_fit_ = meta["code_size"], meta["n_fit"]
    return sampler


@register_sampler("normal")
class NormalSampler(Sampler):
    """Draws codes from N(0, temperature^2 I), a VAE's prior; nothing to fit.

    Its code size is the model's (`fit(model)`, `attach(model)` or `sample(n, model=...)`), any size. A
    deterministic autoencoder's codes are not trained toward N(0, I): for one, use `"gaussian"` or `"gmm"`
    (`sample` warns when the model says it is not generative).

    Args:
        temperature: standard deviation of the draws, `> 0` (below 1: more typical, less varied samples).
    """

    needs_fit = False

    def __init__(self, temperature=1.0):
        super().__init__()
        self.temperature = check_float("temperature", temperature, 0.0, low_inclusive=False)

    def sample(self, n, seed=None, batch_size=256, model=None):
        used = self.model if model is None else model
        if getattr(used, "generative", True) is False:
            warnings.warn(f"NormalSampler draws from N(0, I), the VAE prior, but {type(used).__name__} is not a "
                          "VAE: its codes are not trained toward N(0, I). get_sampler('gaussian') or "
                          "get_sampler('gmm') fit a density to them", UserWarning, stacklevel=2)
        return super().sample(n, seed=seed, batch_size=batch_size, model=model)

    def _fit(self, z):
        """Nothing to fit: `fit_codes` takes the code size only."""

    def _draw(self, rng, n, size):  # in BaseVAE.sample's order, so its draws are these, bit for bit
        return self.temperature * rng.standard_normal((n, size)).astype("float32")

    def get_config(self):
        return {"temperature": self.temperature}


class _MixtureSampler(Sampler):
    """A mixture of full-covariance Gaussians: `weights_` (k,), `means_` (k, d), `covariances_` (k, d, d);
    every fitted density here (one Gaussian is k = 1), so drawing and file checks are shared."""

    _ARRAYS = ("weights", "means", "covariances")

    def __init__(self):
        super().__init__()
        self.weights_ = self.means_ = self.covariances_ = self._cholesky = None

    def _set_mixture(self, weights, means, covariances, where="the fitted mixture"):
        """Check and take the mixture's arrays; `where` names their origin in errors."""
        arrays = {"weights": np.asarray(weights), "means": np.asarray(means), "covariances": np.asarray(covariances)}
        for name, a in arrays.items():
            if a.dtype.kind not in "fiu":
                raise ValueError(f"{where}: array {name!r} must hold real numbers. Received: dtype={a.dtype}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{where}: array {name!r} holds NaN or infinite values")
        w, mu, cov = (a.astype("float64") for a in arrays.values())
        if mu.ndim != 2 or 0 in mu.shape:
            raise ValueError(f"{where}: array 'means' must have shape (k, d). Received: shape={mu.shape}")
        k, d = mu.shape
        for name, a, shape in (("weights", w, (k,)), ("covariances", cov, (k, d, d))):
            if a.shape != shape:
                raise ValueError(f"{where}: array {name!r} must have shape {shape} for means of shape {mu.shape}. "
                                 f"Received: shape={a.shape}")
        if np.any(w < 0) or abs(w.sum() - 1.0) > 1e-6:
            raise ValueError(f"{where}: array 'weights' must be >= 0 and sum to 1. Received: min={w.min():g}, "
                             f"sum={w.sum():.9g}")
        for i, c in enumerate(cov):
            if not np.allclose(c, c.T, rtol=1e-6, atol=1e-12 * max(1.0, float(np.abs(c).max()))):
                raise ValueError(f"{where}: array 'covariances'[{i}] is not symmetric")
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError(f"{where}: array 'covariances' is not positive definite (its Cholesky "
                             "factorization failed)") from None
        self.weights_, self.means_, self.covariances_, self._cholesky = w / w.sum(), mu, cov, chol
        self.code_size_ = d

    def _set_arrays(self, arrays, where):
        self._set_mixture(arrays["weights"], arrays["means"], arrays["covariances"], where)

    def _draw(self, rng, n, size):
        k = len(self.weights_)
        labels = rng.choice(k, size=n, p=self.weights_)
        eps = rng.standard_normal((n, size))
        z = np.empty((n, size))
        for i in range(k):  # one component at a time: memory O(n d), not O(n d^2)
            rows = labels == i
            z[rows] = self.means_[i] + eps[rows] @ self._cholesky[i].T
        return z


@register_sampler("gaussian")
class GaussianSampler(_MixtureSampler):
    """Fits one Gaussian to the codes: their mean and full covariance (maximum likelihood).

    The simple choice for a deterministic autoencoder; `"gmm"` fits more shape.

    Args:
        reg_covar: added to the covariance's diagonal so it stays positive
            definite (scikit-learn's `GaussianMixture` default, 1e-6).
    """

    def __init__(self, reg_covar=1e-6):
        super().__init__()
        self.reg_covar = check_float("reg_covar", reg_covar, 0.0)

    def _fit(self, z):
        d = z.shape[1]
        cov = np.cov(z, rowvar=False, bias=True).reshape(d, d) + self.reg_covar * np.eye(d)
        self._set_mixture(np.ones(1), z.mean(axis=0)[None], cov[None])

    def get_config(self):
        return {"reg_covar": self.reg_covar}


# scikit-learn's `covariances_` of each `covariance_type`, as the (k, d, d) matrices sampler files hold.
_FULL_COVARIANCES = {
    "full": lambda c, k, d: c,
    "tied": lambda c, k, d: np.broadcast_to(c, (k, d, d)).copy(),  # one (d, d) for all
    "diag": lambda c, k, d: c[:, :, None] * np.eye(d),  # (k, d) variances
    "spherical": lambda c, k, d: c[:, None, None] * np.eye(d),  # (k,) variances
}


@register_sampler("gmm")
class GaussianMixtureSampler(_MixtureSampler):
    """Fits a Gaussian mixture to the codes with scikit-learn's `GaussianMixture`.

    The defaults are pythae's: 10 components (`GaussianMixtureSamplerConfig`); full covariances,
    `max_iter=2000`, `tol=1e-3` (`GaussianMixtureSampler.fit`); as there, `n_components` drops to the number
    of codes if there are fewer (with a warning). Unlike pythae, the fit is seeded. scikit-learn fits only:
    the weights, means and covariances (stored full, whatever `covariance_type`) are drawn from with NumPy.

    Args:
        n_components: number of Gaussians.
        covariance_type: `"full"`, `"diag"`, `"tied"` or `"spherical"`, as in scikit-learn.
        max_iter: EM iterations at most.
        tol: EM stops when the lower bound gains less.
        reg_covar: added to each covariance's diagonal.
        n_init: EM runs; the best is kept.
        seed: seed of the fit's initialization (`random_state`); `None`: a different fit each time.
    """

    def __init__(self, n_components=10, covariance_type="full", max_iter=2000, tol=1e-3, reg_covar=1e-6,
                 n_init=1, seed=0):
        super().__init__()
        self.n_components = check_positive_int("n_components", n_components)
        self.covariance_type = check_choice("covariance_type", covariance_type, _FULL_COVARIANCES)
        self.max_iter = check_positive_int("max_iter", max_iter)
        self.tol = check_float("tol", tol, 0.0)
        self.reg_covar = check_float("reg_covar", reg_covar, 0.0)
        self.n_init = check_positive_int("n_init", n_init)
        self.seed = check_seed(seed)

    def _fit(self, z):
        from sklearn.mixture import GaussianMixture

        k = self.n_components
        if k > len(z):
            warnings.warn(f"n_components={k} is more than the {len(z)} codes: fitting {len(z)} components",
                          UserWarning, stacklevel=3)
            k = len(z)
        gmm = GaussianMixture(n_components=k, covariance_type=self.covariance_type, max_iter=self.max_iter,
                              tol=self.tol, reg_covar=self.reg_covar, n_init=self.n_init, random_state=self.seed)
        gmm.fit(z)
        if not gmm.converged_:
            warnings.warn(f"The Gaussian mixture did not converge in max_iter={self.max_iter} EM iterations",
                          UserWarning, stacklevel=3)
        self._set_mixture(gmm.weights_, gmm.means_, _FULL_COVARIANCES[self.covariance_type](gmm.covariances_, k,
                                                                                            z.shape[1]))

    def get_config(self):
        return {"n_components": self.n_components, "covariance_type": self.covariance_type, "max_iter": self.max_iter,
                "tol": self.tol, "reg_covar": self.reg_covar, "n_init": self.n_init, "seed": self.seed}
