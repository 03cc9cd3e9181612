"""Boundary checks for every array type: NumPy, tf.Tensor, JAX, torch, pandas, and batched data sets."""

import importlib.util

import keras
import numpy as np
import pytest

from model_check import small_model


def _have(module):
    return importlib.util.find_spec(module) is not None


def as_numpy(a):
    return a


def as_tf(a):
    tf = pytest.importorskip("tensorflow")
    return tf.constant(a)


def as_jax(a):
    jnp = pytest.importorskip("jax.numpy")
    return jnp.asarray(a)


def as_torch(a):
    torch = pytest.importorskip("torch")
    return torch.from_numpy(np.ascontiguousarray(a))


def as_pandas(a):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(a.reshape(len(a), -1))


CONVERTERS = [as_numpy, as_tf, as_jax, as_torch, as_pandas]
IDS = ["numpy", "tf", "jax", "torch", "pandas"]


@pytest.fixture(scope="module")
def model():
    m = small_model("undercomplete")
    m.compile(optimizer="adam")
    return m


@pytest.mark.parametrize("convert", CONVERTERS, ids=IDS)
def test_every_array_type_is_accepted_and_gives_the_same_codes(model, x_small, convert):
    x = x_small[:8]
    np.testing.assert_allclose(model.encode(convert(x)), model.encode(x), atol=1e-6)
    np.testing.assert_allclose(model.reconstruct(convert(x)), model.reconstruct(x), atol=1e-6)
    assert model.reconstruction_error(convert(x)).shape == (8,)


@pytest.mark.parametrize("convert", CONVERTERS, ids=IDS)
def test_nan_is_refused_in_every_array_type(model, x_small, convert):
    bad = x_small[:8].copy()
    bad[2, 3] = np.nan
    for verb in (model.encode, model.reconstruct, model.reconstruction_error, model.predict):
        with pytest.raises(ValueError, match="finite values. Received 1 NaN"):
            verb(convert(bad))
    with pytest.raises(ValueError, match="Received 1 NaN"):
        model.fit(convert(bad), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data\[0\].*Received 1 NaN"):
        model.fit(x_small[:8], validation_data=(convert(bad),), epochs=1, verbose=0)


@pytest.mark.parametrize("convert", CONVERTERS, ids=IDS)
def test_unscaled_images_are_refused_in_every_array_type(model, x_small, convert):
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\] \(scale uint8 images with x / 255.0\)"):
        model.fit(convert(x_small[:8] * 255), epochs=1, verbose=0)


@pytest.mark.parametrize("convert", CONVERTERS, ids=IDS)
def test_wrong_shape_is_refused_in_every_array_type(model, x_small, convert):
    with pytest.raises(ValueError, match=r"wrong sample shape: expected \(batch,\) \+ \(784,\)"):
        model.encode(convert(x_small[:4, :100]))


def test_half_precision_arrays_are_accepted(model, x_small):
    x = x_small[:4]
    np.testing.assert_allclose(model.encode(x.astype("float16")), model.encode(x), atol=5e-2)
    if _have("torch"):
        import torch

        t = torch.from_numpy(x).to(torch.bfloat16)
        np.testing.assert_allclose(model.encode(t), model.encode(x), atol=5e-2)


def test_pydataset_is_encoded_batch_by_batch(model, x_small):
    from keras_ae.data import ArrayBatches

    batches = ArrayBatches(x_small[:20], batch_size=8, shuffle=False)
    np.testing.assert_allclose(model.encode(batches), model.encode(x_small[:20]), atol=1e-6)
    np.testing.assert_allclose(model.reconstruct(batches), model.reconstruct(x_small[:20]), atol=1e-6)
    np.testing.assert_allclose(model.reconstruction_error(batches),
                               model.reconstruction_error(x_small[:20]), rtol=1e-5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow" or not _have("tensorflow"),
                    reason="tf.data on the TensorFlow backend")
def test_tf_dataset_is_encoded_batch_by_batch_and_checked(model, x_small):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x_small[:20], x_small[:20])).batch(8)
    np.testing.assert_allclose(model.encode(ds), model.encode(x_small[:20]), atol=1e-6)
    bad = x_small[:20].copy()
    bad[12, 0] = np.inf
    with pytest.raises(ValueError, match=r"`x \(batch 1\)` must hold finite values"):
        model.encode(tf.data.Dataset.from_tensor_slices(bad).batch(8))


def test_vae_encode_distribution_of_a_data_set(x_small):
    from keras_ae.data import ArrayBatches

    vae = small_model("vae")
    mean, log_var = vae.encode_distribution(ArrayBatches(x_small[:20], batch_size=8, shuffle=False))
    ref_mean, ref_log_var = vae.encode_distribution(x_small[:20])
    np.testing.assert_allclose(mean, ref_mean, atol=1e-6)
    np.testing.assert_allclose(log_var, ref_log_var, atol=1e-6)


def test_training_dataset_off_tensorflow_is_a_pydataset(x_small, monkeypatch):
    from keras_ae import data

    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    ds = data.training_dataset(x_small[:20], 8, seed=0, input_noise=0.1)
    assert isinstance(ds, keras.utils.PyDataset) and len(ds) == 3
    xb, yb = ds[0]
    assert xb.shape == yb.shape == (8, 784) and not np.array_equal(xb, yb)
    assert xb.min() >= 0 and xb.max() <= 1
    # Every image once per epoch.
    seen = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert sorted(map(bytes, seen)) == sorted(map(bytes, x_small[:20]))
