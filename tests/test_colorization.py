"""Colorization: luminance in, colour out; it learns colour from scikit-learn's sample photographs."""

import numpy as np
import pytest

import keras
import keras_ae
from keras_ae.models.colorization import to_grayscale


@pytest.fixture(scope="module")
def photo_patches():
    """16x16 patches of scikit-learn's two sample photographs (offline): left 3/4 train, right 1/4 held out."""
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(0)
    images = [im.astype("float32") / 255.0 for im in load_sample_images().images]

    def cut(n, part):
        out = []
        for k in range(n):
            im = images[k % 2]
            h, w, _ = im.shape
            low, high = (0, int(0.75 * w) - 16) if part == "train" else (int(0.75 * w), w - 16)
            i, j = rng.integers(0, h - 16), rng.integers(low, high)
            out.append(im[i:i + 16, j:j + 16])
        return np.stack(out)

    return cut(1024, "train"), cut(256, "test")


def test_the_encoder_sees_luminance_only():
    model = keras_ae.ColorizationAutoencoder(input_shape=(16, 16, 3), filters=(4, 8), latent_filters=8)
    rgb = np.random.default_rng(0).random((4, 16, 16, 3)).astype("float32")
    same_gray = np.repeat(to_grayscale(rgb), 3, axis=-1)  # other colours, the same luminance
    np.testing.assert_allclose(model.encode(rgb), model.encode(same_gray), atol=1e-5)
    assert model.colorize(to_grayscale(rgb)[..., 0]).shape == (4, 16, 16, 3)


def test_it_beats_the_grayscale_copy_on_held_out_patches(photo_patches):
    x_train, x_test = photo_patches
    keras.utils.set_random_seed(0)
    model = keras_ae.ColorizationAutoencoder(input_shape=(16, 16, 3), filters=(16, 32), latent_filters=32)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    model.fit(x_train, epochs=8, batch_size=32, verbose=0)
    gray = to_grayscale(x_test)
    mse = np.mean((model.colorize(gray) - x_test) ** 2)
    baseline = np.mean((np.repeat(gray, 3, axis=-1) - x_test) ** 2)
    assert mse < 0.6 * baseline, (mse, baseline)  # 0.18-0.33 over seeds 0-2 when written


def test_bad_input():
    with pytest.raises(ValueError, match=r"RGB images, input_shape \(height, width, 3\)"):
        keras_ae.ColorizationAutoencoder(input_shape=(16, 16, 1))
    model = keras_ae.ColorizationAutoencoder(input_shape=(16, 16, 3), filters=(4,), latent_filters=4)
    with pytest.raises(ValueError, match="16, 16, 1"):
        model.colorize(np.zeros((2, 8, 8), "float32"))
    with pytest.raises(ValueError, match=r"\(n, height, width, 3\)"):
        to_grayscale(np.zeros((2, 8, 8)))


def test_the_encoder_clones_and_its_luminance_layer_round_trips():
    import keras

    model = keras_ae.ColorizationAutoencoder(**keras_ae.ColorizationAutoencoder.test_config)
    clone = keras.models.clone_model(model.encoder)
    x = np.random.default_rng(0).random((2, 16, 16, 3)).astype("float32")
    assert clone(x).shape == model.encoder(x).shape
    layer = model.luminance
    again = type(layer).from_config(layer.get_config())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(x)), keras.ops.convert_to_numpy(layer(x)))
