"""One shared check that every registered model runs through (cf. sklearn's check_estimator)."""

import os

import keras
import numpy as np

import keras_ae

# Small configurations of every registered variant, for fast tests.
SMALL = {
    "undercomplete": dict(hidden_units=(32,), latent_dim=8),
    "overcomplete": dict(latent_dim=800),
    "denoising": dict(hidden_units=(32,), latent_dim=8, seed=1),
    "conv_denoising": dict(input_shape=(28, 28, 1), filters=(4, 8), latent_filters=8, latent_dim=8, seed=1),
    "stacked": dict(hidden_units=(32, 16), latent_dim=8),
    "sparse": dict(hidden_units=(32,), latent_dim=16),
    "contractive": dict(hidden_units=(32,), latent_dim=8),
    "convolutional": dict(input_shape=(28, 28, 1), filters=(4, 8), latent_filters=8),
    "vae": dict(hidden_units=(32,), latent_dim=2, seed=1),
    "beta_vae": dict(hidden_units=(32,), latent_dim=3, seed=1),
    "conv_vae": dict(input_shape=(28, 28, 1), filters=(4, 8), hidden_units=16, latent_dim=4, seed=1),
}


def small_model(variant, **overrides):
    return keras_ae.get_model(variant, **{**SMALL[variant], **overrides})


def check_model(model, x, tmp_path):
    """Build, fit one epoch, evaluate, predict, round-trip config and `.keras` file."""
    n = len(x)
    x = x.reshape((n,) + model.sample_shape)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)
    history = model.fit(x, x, epochs=2, batch_size=16, validation_data=(x[:16], x[:16]),
                        callbacks=[stop], verbose=0)
    assert {"loss", "reconstruction_loss", "val_loss"} <= set(history.history)
    assert all(np.isfinite(history.history["loss"]))
    result = model.evaluate(x, x, verbose=0, return_dict=True)
    assert np.isfinite(result["loss"])

    # Shapes of the shared API.
    recon = model.predict(x, verbose=0)
    assert recon.shape == x.shape
    codes = model.encode(x)
    assert codes.shape == (n,) + model.code_shape
    assert int(np.prod(model.code_shape)) == model.latent_dim
    decoded = model.decode(codes)
    assert decoded.shape == x.shape
    np.testing.assert_allclose(model.reconstruct(x), recon, atol=1e-6)
    err = model.reconstruction_error(x)
    assert err.shape == (n,) and np.all(err >= 0)
    # reconstruct == decode(encode): no corruption or sampling at inference.
    np.testing.assert_allclose(decoded, recon, atol=1e-5)

    # Config round trip.
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config
    assert clone.count_params() == model.count_params()

    # `.keras` save and load give identical outputs.
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), recon)
    return history
