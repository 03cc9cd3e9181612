"""Zoo recipes on image data sets beyond MNIST: training, measuring and writing an entry, on fixtures."""

import math
import os

import numpy as np
import pytest

from keras_ae import zoo
from keras_ae.data.registry import DATASETS
from keras_ae.zoo import images


def test_probe_images_are_deterministic_patches_in_range():
    for shape in ((28, 28, 1), (32, 32, 3), (64, 64, 3)):
        a, b = images.probe_images(shape), images.probe_images(shape)
        assert a.shape[1:] == shape and len(a) >= 40, a.shape
        assert a.dtype == np.float32 and 0.0 <= a.min() and a.max() <= 1.0
        np.testing.assert_array_equal(a, b)
        assert a.std() > 0.05  # real photo content, not a flat field


def test_psnr_and_bits_per_dim():
    x = np.full((2, 4, 4, 1), 0.5, "float32")
    np.testing.assert_allclose(images.psnr_per_image(x, x + 0.1), [20.0, 20.0], rtol=1e-5)
    # A density of exactly 1 per value (nats = 0) is 8 bits per dimension with 256 levels.
    assert images.bits_per_dim(0.0, 3072) == pytest.approx(8.0)
    assert images.bits_per_dim(-3072 * math.log(2.0), 3072) == pytest.approx(7.0)


def _fake_dataset(name, n_train=96, n_test=24):
    info = DATASETS[name]
    rng = np.random.default_rng(0)
    x = (rng.random((n_train + n_test,) + info.image_shape) * 255).astype("uint8")
    return x[:n_train], x[n_train:], "path:fixture", info


# The VAE in the default run; the autoencoder (~8 s more) in .ci/run's slow lane.
@pytest.mark.parametrize("variant", [pytest.param("resnet", marks=pytest.mark.slow), "resnet_vae"])
def test_image_recipe_trains_measures_and_writes_an_entry(tmp_path, monkeypatch, variant):
    """A recipe on CIFAR-10 (faked): uint8 training data, mixed precision, the probe metric, the licence."""
    from keras_ae.zoo import train as zoo_train

    monkeypatch.setattr(images, "load_images", lambda name: _fake_dataset(name))
    monkeypatch.setattr(images, "dataset_record", lambda info, source, n_train, n_test: {
        "name": info.name, "source": "fixture", "licence": info.licence, "train_images": n_train,
        "test_images": n_test})
    name = f"{variant}.tiny_cifar"
    monkeypatch.setitem(zoo_train.RECIPES, name, dict(
        variant=variant, dataset="cifar10", description="tiny",
        kwargs=dict(filters=[4, 8], blocks_per_stage=1, latent_dim=6),
        epochs=1, batch_size=32, lr=1e-3, flip=True, dtype_policy="mixed_bfloat16"))
    entry = zoo_train.train(name, work_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "zoo"), verbose=0)
    assert entry["recipe"]["command"].startswith("KERAS_BACKEND=tensorflow KERAS_AE_CIFAR10=/path/to/")
    assert entry["recipe"]["flip"] is True and entry["recipe"]["dtype_policy"] == "mixed_bfloat16"
    assert entry["licence"] == DATASETS["cifar10"].licence
    test = entry["metrics"]["test"]
    assert test["n_test"] == 24 and test["squared_error"] > 0 and test["pca_squared_error"] > 0
    assert {"psnr_db", "pca_psnr_db"} <= set(test)
    if variant == "resnet_vae":
        assert {"neg_elbo", "bits_per_dim", "decoder_scale"} <= set(test)
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path / "zoo"))
    model = zoo.load(name)
    assert model.dtype_policy.name == "float32"  # trained mixed, saved as float32
    probe = zoo_train.measure(model, zoo_train.RECIPES[name], None, images.probe_images((32, 32, 3)), pca=False)
    assert probe == entry["metrics"]["probe"]
    assert not os.path.exists(tmp_path / "runs" / name)
