"""keras-ae: autoencoders for Keras 3, with a zoo of pretrained models.

`import keras_ae` is quick and imports no Keras: each name below is imported
the first time it is used (a module-level `__getattr__`, as scikit-learn and
SciPy do). Keras itself loads then, or at the user's own `import keras`, with
the backend's C++ start-up lines held back (keras_ae/_quiet.py), and keras-ae
registers its model classes with Keras as soon as Keras is loaded, so
`keras.models.load_model` reads keras-ae `.keras` files after `import keras_ae`.
"""

import importlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

# name -> the module that defines it
_LAZY = {
    **dict.fromkeys(("ContractiveEncoder", "Corruption", "Sampling", "SparsityPenalty"), "keras_ae.layers"),
    **dict.fromkeys((
        "IWAE", "VAE", "VQVAE", "BaseAutoencoder", "BaseVAE", "BetaAnnealing", "BetaVAE", "CodePrior",
        "ColorizationAutoencoder", "ConditionalVAE",
        "ContractiveAutoencoder", "ConvDenoisingAutoencoder", "ConvolutionalAutoencoder", "ConvVAE",
        "DenoisingAutoencoder", "DenseAutoencoder", "OvercompleteAutoencoder", "ResNetAutoencoder", "ResNetBetaVAE",
        "ResNetDenoisingAutoencoder", "ResNetVAE", "SparseAutoencoder",
        "StackedAutoencoder", "UndercompleteAutoencoder", "get_model", "list_models", "list_variants",
    ), "keras_ae.models"),
    **dict.fromkeys(("GaussianMixtureSampler", "GaussianSampler", "NormalSampler", "Sampler", "get_sampler",
                     "list_samplers", "load_sampler", "register_sampler"), "keras_ae.samplers"),
}
_SUBMODULES = ("anomaly", "callbacks", "cli", "course", "data", "datasets", "demo", "evaluation", "export", "fid",
               "inference", "latent", "layers", "losses", "models", "notebooks", "plotting", "samplers",
               "testing", "training", "widgets", "zoo")

__all__ = sorted(_LAZY) + list(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        _load_keras()
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        _load_keras()
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


def _register_with_keras():
    """Import the model classes (which registers them with Keras), unless a keras-ae module is being
    imported right now: it imports what it needs itself, and importing the models in the middle of it
    could meet a half-imported module."""
    busy = any(getattr(getattr(m, "__spec__", None), "_initializing", False)
               for n, m in list(sys.modules.items()) if n.startswith(__name__ + "."))
    if not busy:
        importlib.import_module(f"{__name__}.models")


def register_with_keras():
    """Register keras-ae's model classes with Keras now (import `keras_ae.models`); a no-op after the first time.

    Code that deserializes keras-ae models by their registered names (the zoo, detector files) calls it,
    since Keras may have been loaded in the middle of another keras-ae module's import, when the
    registration had to wait."""
    importlib.import_module(f"{__name__}.models")


def _load_keras():
    """Load Keras (held back start-up lines) and register the model classes; a no-op after the first time."""
    from keras_ae._quiet import import_keras

    import_keras()


from keras_ae import _quiet  # noqa: E402  (imports nothing heavy)

if "keras" in sys.modules:  # Keras came first: register now, so load_model finds keras-ae's classes
    _register_with_keras()
else:
    _quiet.install_keras_hook(after=_register_with_keras)
