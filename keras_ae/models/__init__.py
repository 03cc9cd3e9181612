"""All keras-ae model variants, one module per variant."""

from keras_ae.models.base import BaseAutoencoder, DenseAutoencoder
from keras_ae.models.code_prior import CodePrior
from keras_ae.models.colorization import ColorizationAutoencoder
from keras_ae.models.contractive import ContractiveAutoencoder
from keras_ae.models.convolutional import ConvolutionalAutoencoder
from keras_ae.models.cvae import ConditionalVAE
from keras_ae.models.denoising import ConvDenoisingAutoencoder, DenoisingAutoencoder
from keras_ae.models.overcomplete import OvercompleteAutoencoder
from keras_ae.models.registry import VARIANTS, get_model, list_models, list_variants, register_variant
from keras_ae.models.resnet import ResNetAutoencoder, ResNetBetaVAE, ResNetDenoisingAutoencoder, ResNetVAE
from keras_ae.models.sparse import SparseAutoencoder
from keras_ae.models.stacked import StackedAutoencoder
from keras_ae.models.undercomplete import UndercompleteAutoencoder
from keras_ae.models.vae import IWAE, VAE, BaseVAE, BetaAnnealing, BetaVAE, ConvVAE, gaussian_kl
from keras_ae.models.vqvae import VQVAE, VectorQuantizer
