"""Presets the way KerasHub and timm load them: from_preset, get_model(pretrained=...), list_models."""

import numpy as np
import pytest

import keras_ae
from keras_ae import zoo


def test_from_preset_loads_the_zoo_model_on_its_class_and_the_base_class(x_small):
    model = keras_ae.VAE.from_preset("vae.mnist_z2")
    assert type(model) is keras_ae.VAE and model.latent_dim == 2
    np.testing.assert_allclose(model.encode(x_small[:4]), zoo.load("vae.mnist_z2").encode(x_small[:4]))
    assert isinstance(keras_ae.BaseAutoencoder.from_preset("undercomplete.mnist_z20"),
                      keras_ae.UndercompleteAutoencoder)
    # A subclass's preset loads through its parent class too.
    assert isinstance(keras_ae.BaseVAE.from_preset("vae.mnist_z2"), keras_ae.VAE)


def test_from_preset_refuses_another_class_and_unknown_names():
    with pytest.raises(ValueError, match=r"'vae.mnist_z2' is a VAE, not a ConvVAE.*ConvVAE presets: conv_vae"):
        keras_ae.ConvVAE.from_preset("vae.mnist_z2")
    with pytest.raises(zoo.ZooError, match="Did you mean 'vae.mnist_z2'"):
        keras_ae.VAE.from_preset("vae.mnist_z3")
    with pytest.raises(TypeError, match="zoo name"):
        keras_ae.VAE.from_preset(None)


def _count_zoo_work(monkeypatch):
    """Count what a zoo call does: folder listings, manifest file reads, builds, weight hashes and loads."""
    import collections

    from keras_ae.zoo import index, manifest

    manifest.clear_cache()
    monkeypatch.setattr(manifest, "_SETTLED_NS", -1)  # cache even a freshly checked-out zoo
    calls = collections.Counter()

    def counting(module, attr, what):
        real = getattr(module, attr)

        def counted(*args, **kwargs):
            calls[what] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, attr, counted)

    counting(index, "_manifests", "listings")
    counting(manifest, "_load_json", "manifest reads")
    counting(index, "_build", "builds")
    counting(index, "verify_file", "weight hashes")
    counting(index, "_load_weights", "weight loads")
    return calls


def test_from_preset_of_another_class_reads_one_manifest_and_loads_nothing(monkeypatch):
    # KerasHub checks the preset's class from its config before it builds anything; so do we.
    calls = _count_zoo_work(monkeypatch)
    with pytest.raises(ValueError, match=r"'vae.mnist_z2' is a VAE, not a ConvVAE.*ConvVAE presets: conv_vae"):
        keras_ae.ConvVAE.from_preset("vae.mnist_z2")
    assert calls["manifest reads"] == 1, calls
    assert calls["builds"] == calls["weight hashes"] == calls["weight loads"] == 0, calls
    assert calls["listings"] <= 2, calls  # the name's, and the names of the ConvVAE presets for the hint
    # The right class reads the manifest once too (the second look is a cache hit) and loads the weights once.
    calls.clear()
    from keras_ae.zoo import manifest

    manifest.clear_cache()
    assert isinstance(keras_ae.BaseVAE.from_preset("vae.mnist_z2"), keras_ae.VAE)
    assert calls["manifest reads"] == 1 and calls["builds"] == calls["weight loads"] == 1, calls


def test_overrides_that_keep_the_shapes(x_small):
    model = keras_ae.VAE.from_preset("vae.mnist_z2", name="my_vae", dtype="float64")
    assert model.name == "my_vae" and model.dtype_policy.name == "float64"
    ref = zoo.load("vae.mnist_z2")
    np.testing.assert_allclose(model.encode(x_small[:3]), ref.encode(x_small[:3]), rtol=1e-4, atol=1e-5)


def test_overrides_that_change_the_shapes_or_do_not_exist_are_refused():
    with pytest.raises(ValueError, match="change the shapes"):
        keras_ae.VAE.from_preset("vae.mnist_z2", latent_dim=3)
    with pytest.raises(ValueError, match="no setting 'latnt_dim'"):
        keras_ae.get_model("vae.mnist_z2", pretrained=True, latnt_dim=3)


def test_get_model_builds_variants_and_zoo_architectures(x_small):
    fresh = keras_ae.get_model("vae.mnist_z2")  # the architecture, untrained
    trained = keras_ae.get_model("vae.mnist_z2", pretrained=True)
    assert type(fresh) is type(trained) and fresh.count_params() == trained.count_params()
    assert not np.allclose(fresh.encode(x_small[:3]), trained.encode(x_small[:3]))
    assert keras_ae.get_model("vae", latent_dim=3).latent_dim == 3
    with pytest.raises(ValueError, match="variant, which has no weights.*vae.mnist_z2"):
        keras_ae.get_model("vae", pretrained=True)
    with pytest.raises(ValueError, match="Did you mean 'vae'"):
        keras_ae.get_model("vea")
    with pytest.raises(TypeError, match="True or False"):
        keras_ae.get_model("vae", pretrained="yes")


def test_list_models_with_and_without_weights():
    pretrained = keras_ae.list_models(pretrained=True)
    assert pretrained == zoo.list_models()
    everything = keras_ae.list_models()
    assert set(pretrained) < set(everything) and set(keras_ae.list_variants()) <= set(everything)
    assert keras_ae.list_models("*vae*", pretrained=True) == zoo.list_models("*vae*")
    assert "conv_vae" in keras_ae.list_models("conv_*")


def test_what_a_variant_is_comes_from_its_class():
    from keras_ae.cli import backend as keras_ae_cli
    from keras_ae.models.registry import VARIANTS
    from keras_ae.testing import is_vae, small_model

    for name, cls in VARIANTS.items():
        assert isinstance(cls.image_input, bool) and isinstance(cls.generative, bool), name
        assert cls.generative == issubclass(cls, keras_ae.BaseVAE), name
        assert cls.image_input == (len(cls.test_config.get("input_shape", (784,))) == 3), name
        # The console script guesses from the name (it picks a backend before Keras is imported).
        assert keras_ae_cli.looks_convolutional(name) == cls.image_input, name
        assert is_vae(cls) == cls.generative
    assert is_vae(small_model("beta_vae")) and not is_vae(small_model("denoising"))
