"""Sparse autoencoder: a KL-divergence (or L1) activity penalty on the code."""

import keras

from keras_ae._validation import check_choice, check_float
from keras_ae.layers import SparsityPenalty
from keras_ae.models.base import DenseAutoencoder
from keras_ae.models.registry import register_variant


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("sparse")
class SparseAutoencoder(DenseAutoencoder):
    """A dense autoencoder with a sparsity penalty on its sigmoid code units.

    With `sparsity="kl"` the penalty is Ng's `beta * sum_j KL(rho || rho_hat_j)`,
    where `rho_hat_j` is unit j's mean activation over the batch: it pushes
    every unit to fire for about a fraction `rho` of the inputs. With
    `sparsity="l1"` it is `beta * mean_batch(sum_j |h_j|)`. The penalty is
    reported during `fit` as the metric `sparsity_loss`.

    Args:
        input_shape: shape of one sample.
        hidden_units: encoder hidden sizes; the decoder mirrors them.
        latent_dim: number of code units.
        sparsity: `"kl"` or `"l1"`.
        rho: target mean activation for `"kl"`, in (0, 1).
        beta: penalty weight, `>= 0`.
        activation, output_activation, reconstruction_loss: as in `DenseAutoencoder`.
        latent_activation: must be `"sigmoid"` for `"kl"` (the KL needs means in (0, 1)).

    Example:

    ```python
    model = keras_ae.SparseAutoencoder(latent_dim=64, rho=0.05, beta=1e-3)
    model.compile(optimizer="adam")
    history = model.fit(x_train, epochs=10)   # logs loss, reconstruction_loss, sparsity_loss
    ```
    """

    # The small configuration the check suite (keras_ae.testing) and the tests use.
    test_config = dict(hidden_units=(32,), latent_dim=16)

    penalty_name = "sparsity_loss"

    def __init__(self, input_shape=(784,), hidden_units=(256,), latent_dim=64, sparsity="kl",
                 rho=0.05, beta=1e-3, activation="relu", latent_activation="sigmoid",
                 output_activation="sigmoid", reconstruction_loss="mse", **kwargs):
        self.sparsity = check_choice("sparsity", sparsity, ("kl", "l1"))
        self.rho = check_float("rho", rho, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
        self.beta = check_float("beta", beta, 0.0)
        if sparsity == "kl" and latent_activation != "sigmoid":
            raise ValueError(
                "The KL sparsity penalty needs code activations in (0, 1): use "
                f"latent_activation='sigmoid'. Received: latent_activation={latent_activation!r}"
            )
        super().__init__(input_shape=input_shape, hidden_units=hidden_units,
                         latent_dim=latent_dim, activation=activation,
                         latent_activation=latent_activation,
                         output_activation=output_activation,
                         reconstruction_loss=reconstruction_loss, **kwargs)

    def encoder_head(self, h):
        return SparsityPenalty(self.sparsity, rho=self.rho, weight=self.beta, name="sparsity",
                               dtype=self.dtype_policy)(h)

    def get_config(self):
        config = super().get_config()
        config.update(sparsity=self.sparsity, rho=self.rho, beta=self.beta)
        return config
