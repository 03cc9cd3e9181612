"""The shared model check, run against every registered variant."""

import os

import numpy as np
import pytest

import keras_ae
from model_check import check_model, small_model


@pytest.mark.parametrize("variant", ["convolutional", "conv_denoising", "conv_vae"])
def test_conv_models_on_color_images(variant):
    x = np.random.default_rng(0).random((24, 32, 32, 3)).astype("float32")
    check_model(lambda **kw: small_model(variant, input_shape=(32, 32, 3), **kw), x)


@pytest.mark.parametrize("variant", ["undercomplete", "vae", "denoising"])
def test_dense_models_accept_image_inputs(variant, x_small):
    check_model(lambda **kw: small_model(variant, input_shape=(28, 28, 1), **kw),
                x_small[:32].reshape(-1, 28, 28, 1))


def test_flat_batch_is_accepted_by_image_model(x_small):
    model = small_model("convolutional")
    assert model.reconstruct(x_small[:4]).shape == (4, 28, 28, 1)


def test_fit_without_target_reconstructs_input(x_small):
    model = small_model("undercomplete")
    model.compile(optimizer="adam")
    history = model.fit(x_small, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_compiled_loss_replaces_default(x_small):
    model = small_model("undercomplete")
    model.compile(optimizer="adam", loss="mae")
    history = model.fit(x_small, x_small, epochs=1, batch_size=64, verbose=0)
    assert history.history["loss"][0] == pytest.approx(history.history["reconstruction_loss"][0])
    recon = model.predict(x_small, verbose=0)
    # evaluate with the compiled MAE equals the MAE computed by hand
    mae = float(np.mean(np.abs(recon - x_small)))
    result = model.evaluate(x_small, x_small, verbose=0, batch_size=64, return_dict=True)
    assert result["loss"] == pytest.approx(mae, rel=1e-4)


def test_get_model_unknown_name_suggests():
    with pytest.raises(ValueError, match="Did you mean 'vae'"):
        keras_ae.get_model("vea")


def test_undercomplete_defaults_follow_the_course():
    model = keras_ae.UndercompleteAutoencoder()
    dims = [layer.units for layer in model.encoder.layers if hasattr(layer, "units")]
    assert dims == [512, 256, 128, 20]
    assert model.latent_dim == 20


def test_convolutional_defaults_follow_the_course_with_a_real_bottleneck():
    model = keras_ae.ConvolutionalAutoencoder()
    filters = [layer.filters for layer in model.encoder.layers if hasattr(layer, "filters")]
    assert filters == [32, 64, 128]
    assert model.code_shape == (32,) and model.latent_dim == model.code_size == 32
    assert keras_ae.ConvolutionalAutoencoder(input_shape=(32, 32, 3)).code_size == 32 < 32 * 32 * 3
    assert keras_ae.ConvDenoisingAutoencoder().code_size == 32
    course = keras_ae.ConvolutionalAutoencoder(latent_dim=None)  # the course's spatial code
    assert course.code_shape == (7, 7, 128) and course.code_size == 6272
    assert any(type(layer).__name__ == "UpSampling2D" for layer in model.decoder.layers)
    t = keras_ae.ConvolutionalAutoencoder(upsampling="transpose")
    assert any(type(layer).__name__ == "Conv2DTranspose" for layer in t.decoder.layers)


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_progress_is_one_line_per_epoch_in_a_pipe():
    """Keras draws its bar with carriage returns on any POSIX system; logs and pipes get lines."""
    import subprocess
    import sys

    code = ("import numpy as np\n"
            "from keras_ae.testing import small_model\n"
            "x = np.random.default_rng(0).random((64, 784)).astype('float32')\n"
            "m = small_model('stacked'); m.compile(optimizer='adam')\n"
            "m.pretrain(x, epochs=2, batch_size=32)\n"
            "m.fit(x, x, epochs=3, batch_size=32)\n"
            "m.evaluate(x, x); m.predict(x)\n"
            "m.fit(x, x, epochs=1, batch_size=32, verbose=0)\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "\r" not in proc.stdout and "\b" not in proc.stdout
    # Three pretraining levels (784-32, 32-16, 16-8) of 2 epochs each, then 3 epochs of fit.
    assert sum(line.startswith("Epoch ") for line in proc.stdout.splitlines()) == 3 * 2 + 3


@pytest.mark.parametrize("variant", ["undercomplete", "vae"])
def test_verbs_match_predict_in_any_batching(variant, x_small):
    """encode / reconstruct / reconstruction_error batch by batch (a jitted call on JAX) equal predict."""
    import gc
    import weakref

    import keras

    model = small_model(variant)
    x = x_small[:50]
    for batch_size in (7, 50, 64):
        np.testing.assert_allclose(model.encode(x, batch_size=batch_size),
                                   model.encoder.predict(x, verbose=0)[0 if variant == "vae" else slice(None)],
                                   rtol=1e-5, atol=1e-6)
        recon = model.predict(x, verbose=0)
        np.testing.assert_allclose(model.reconstruct(x, batch_size=batch_size), recon, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(model.reconstruction_error(x, metric="sse", batch_size=batch_size),
                                   ((x.astype("float64") - recon) ** 2).sum(1), rtol=1e-4)
    # After training the verbs see the new weights.
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    model.fit(x, epochs=1, batch_size=25, verbose=0)
    np.testing.assert_allclose(model.reconstruct(x, batch_size=16), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    # Nothing the verbs cache keeps a model alive.
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_the_verbs_are_keras_ae_inference_on_the_model(x_small):
    """The batching lives in keras_ae.inference; the model's verbs call it, and the old names still import."""
    from keras_ae import inference
    from keras_ae.models.base import ERROR_METRICS, reconstruction_error, to_float32

    model = small_model("vae")
    x = x_small[:20]
    z_mean, z_log_var = inference.encode(model, x, batch_size=8)  # the encoder's outputs
    np.testing.assert_array_equal(model.encode(x, batch_size=8), z_mean)
    np.testing.assert_array_equal(model.encode_distribution(x, batch_size=8)[1], z_log_var)
    np.testing.assert_array_equal(model.decode(z_mean), inference.decode(model, z_mean))
    recon = inference.reconstruct(model, x, batch_size=8)
    np.testing.assert_array_equal(model.reconstruct(x, batch_size=8), recon)
    errors = inference.reconstruction_error(model, x, "bce", batch_size=8)
    np.testing.assert_array_equal(model.reconstruction_error(x, "bce", batch_size=8), errors)
    np.testing.assert_allclose(reconstruction_error(x, recon, "bce"), errors, rtol=1e-6)
    assert reconstruction_error is inference.per_sample_error and to_float32 is inference.to_float32
    assert ERROR_METRICS == inference.ERROR_METRICS == ("mse", "sse", "bce")
    with pytest.raises(ValueError, match="metric"):
        inference.reconstruction_error(model, x, "mae")
