"""Stacked autoencoder with greedy layer-wise pretraining (Hinton & Salakhutdinov, 2006)."""

import keras

from keras_ae._validation import check_positive_int
from keras_ae.callbacks import EpochSync
from keras_ae.data import ArrayBatches
from keras_ae.models.base import DenseAutoencoder, line_per_epoch_verbose, per_sample_reconstruction_loss
from keras_ae.models.registry import register_variant


@keras.saving.register_keras_serializable(package="keras_ae")
@register_variant("stacked")
class StackedAutoencoder(DenseAutoencoder):
    """A deep dense autoencoder that can be pretrained one layer at a time.

    `pretrain(x)` trains each encoder layer as a shallow autoencoder on the
    codes of the layer below, copies its encoder weights into that layer of
    the deep model and its decoder weights into the mirrored decoder layer,
    then moves up. `fit` then fine-tunes the whole stack.

    Args:
        input_shape: shape of one sample.
        hidden_units: encoder hidden sizes (default 1000-500-250, as in
            Hinton & Salakhutdinov 2006); the decoder mirrors them.
        latent_dim: code size (default 30).
        activation, latent_activation, output_activation, reconstruction_loss:
            as in `DenseAutoencoder`.

    Example:

    ```python
    model = keras_ae.StackedAutoencoder()
    model.pretrain(x_train, epochs=5)
    model.compile(optimizer="adam")
    model.fit(x_train, epochs=50)
    ```
    """

    # The small configuration the check suite (keras_ae.testing) and the tests use.
    test_config = dict(hidden_units=(32, 16), latent_dim=8)

    def __init__(self, input_shape=(784,), hidden_units=(1000, 500, 250), latent_dim=30,
                 activation="relu", latent_activation=None, output_activation="sigmoid",
                 reconstruction_loss="mse", **kwargs):
        super().__init__(input_shape=input_shape, hidden_units=hidden_units,
                         latent_dim=latent_dim, activation=activation,
                         latent_activation=latent_activation,
                         output_activation=output_activation,
                         reconstruction_loss=reconstruction_loss, **kwargs)

    def layer_pairs(self):
        """The (encoder layer, mirrored decoder layer) pairs, from the input up."""
        enc = [self.encoder.get_layer(f"encoder_dense_{i}") for i in range(len(self.hidden_units))]
        enc.append(self.encoder.get_layer("code"))
        dec = [self.decoder.get_layer("reconstruction")]
        n = len(self.hidden_units)
        dec += [self.decoder.get_layer(f"decoder_dense_{n - i}") for i in range(1, n + 1)]
        return list(zip(enc, dec))

    def pretrain(self, x, epochs=1, batch_size=256, optimizer="adam", verbose="auto", seed=None,
                 callbacks=None):
        """Greedy layer-wise pretraining; returns one `History` per layer.

        Each shallow autoencoder `h_{l-1} -> h_l -> h_{l-1}` has the same
        activations as the layers it initialises, so the copied weights mean
        the same thing in the deep model. The first one uses the model's
        reconstruction loss; the ones above it use MSE on the codes.

        Args:
            x: training inputs.
            epochs: epochs per layer.
            batch_size: batch size.
            optimizer: an optimizer name or config; a fresh copy per layer.
            verbose: passed to `fit`.
            seed: shuffling seed for reproducible pretraining (each level's order
                is a function of the seed, the level and the epoch, so a level
                resumed from a checkpoint continues exactly; without a seed a
                resumed level continues, but not bit for bit).
            callbacks: Keras callbacks passed to every level's `fit` (each level
                is a separate model, so checkpointing callbacks should write
                to a folder per level: a callable `level -> list` is accepted).

        Returns:
            A list of `History` objects; `history.model` is the shallow model.
        """
        check_positive_int("epochs", epochs)
        h = self.check_inputs(x).reshape(len(x), -1)
        histories = []
        pairs = self.layer_pairs()
        if seed is not None:
            keras.utils.set_random_seed(seed)
        for level, (enc_layer, dec_layer) in enumerate(pairs):
            dim = h.shape[1]
            inp = keras.Input((dim,))
            hidden = keras.layers.Dense(enc_layer.units, activation=enc_layer.activation,
                                        name="shallow_encoder", dtype=self.dtype_policy)
            out = keras.layers.Dense(dim, activation=dec_layer.activation, name="shallow_decoder",
                                     dtype=self.dtype_policy)
            shallow = keras.Model(inp, out(hidden(inp)), name=f"pretrain_level_{level}")
            kind = self.reconstruction_loss if level == 0 else "mse"
            shallow.compile(
                optimizer=keras.optimizers.get(optimizer if isinstance(optimizer, str)
                                               else keras.optimizers.serialize(optimizer)),
                loss=lambda t, p, kind=kind: per_sample_reconstruction_loss(kind, t, p),
            )
            if verbose:
                print(f"Pretraining level {level + 1}/{len(pairs)}: {dim} -> {enc_layer.units}")
            level_callbacks = list((callbacks(level) if callable(callbacks) else callbacks) or [])
            data = ArrayBatches(h, batch_size, seed=None if seed is None else seed * 1000 + level)
            histories.append(shallow.fit(data, epochs=epochs, verbose=line_per_epoch_verbose(verbose),
                                         shuffle=False, callbacks=[EpochSync(data), *level_callbacks]))
            enc_layer.set_weights(hidden.get_weights())
            dec_layer.set_weights(out.get_weights())
            h = keras.Model(inp, hidden(inp)).predict(h, batch_size=1024, verbose=0)
        return histories
