"""keras-ae: autoencoders for Keras 3, with a zoo of pretrained models."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_ae._quiet import import_keras  # noqa: E402

import_keras()  # TensorFlow's C++ start-up lines are held back (keras_ae/_quiet.py says which)

from keras_ae.layers import ContractiveEncoder, Corruption, Sampling, SparsityPenalty  # noqa: E402
from keras_ae.models import (  # noqa: E402
    IWAE,
    VAE,
    BaseAutoencoder,
    BaseVAE,
    BetaAnnealing,
    BetaVAE,
    ColorizationAutoencoder,
    ContractiveAutoencoder,
    ConvDenoisingAutoencoder,
    ConvolutionalAutoencoder,
    ConvVAE,
    DenoisingAutoencoder,
    DenseAutoencoder,
    OvercompleteAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    UndercompleteAutoencoder,
    get_model,
    list_models,
    list_variants,
)

from keras_ae import anomaly, callbacks, datasets, latent, testing, zoo  # noqa: E402

__version__ = "0.1.0"
