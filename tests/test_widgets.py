"""The Jupyter latent explorer, driven headlessly: set sliders, press buttons, check the decoded image."""

import numpy as np
import pytest

from keras_ae.widgets import LatentExplorer, latent_explorer
from model_check import small_model


@pytest.fixture(scope="module")
def vae():
    return small_model("vae", latent_dim=3)


def test_sliders_drive_the_decoded_image(vae):
    pytest.importorskip("ipywidgets")
    explorer = latent_explorer(vae)
    assert explorer.widget is not None and len(explorer._sliders) == 3
    np.testing.assert_allclose(explorer.image, vae.decode(np.zeros((1, 3), "float32"))[0].reshape(28, 28))
    explorer._sliders[1].value = 1.5  # what a user's drag does
    np.testing.assert_allclose(explorer.code, [0, 1.5, 0])
    np.testing.assert_allclose(explorer.image, vae.decode(np.array([[0, 1.5, 0]], "float32"))[0].reshape(28, 28),
                               rtol=1e-5)
    assert explorer._image.value[:4] == b"\x89PNG"
    explorer.set_code([2.0, -1.0, 9.0])  # clipped to the span; the sliders follow
    assert [s.value for s in explorer._sliders] == [2.0, -1.0, 3.0]


def test_buttons(vae):
    pytest.importorskip("ipywidgets")
    explorer = latent_explorer(vae, seed=1)
    buttons = {b.description: b for b in explorer.widget.children[1].children[-2].children}
    assert set(buttons) == {"dream", "randomize", "reset"}
    buttons["randomize"].click()
    assert np.any(explorer.code != 0)
    buttons["reset"].click()
    assert np.all(explorer.code == 0)
    buttons["dream"].click()  # 30 steps of the walk
    assert np.any(explorer.code != 0) and np.all(np.abs(explorer.code) <= 3)
    frames = explorer.dream(steps=5)
    assert len(frames) == 5 and not np.allclose(frames[0], frames[-1])


def test_more_dimensions_than_sliders_get_a_chooser():
    pytest.importorskip("ipywidgets")
    explorer = latent_explorer(small_model("undercomplete"), max_sliders=3)  # 8 latent dimensions
    assert [s.description for s in explorer._sliders] == ["z[0]", "z[1]", "z[2]"]
    chooser = explorer.widget.children[1].children[-2]
    chooser.value = (2, 5, 7)
    assert [s.description for s in explorer._sliders] == ["z[2]", "z[5]", "z[7]"]
    explorer._sliders[1].value = -2.0
    assert explorer.code[5] == -2.0


def test_the_image_is_drawn_at_construction(vae):
    pytest.importorskip("ipywidgets")
    explorer = latent_explorer(vae)
    assert explorer._image.value[:4] == b"\x89PNG"  # not blank until the first slider move
    assert explorer.message == "" and explorer._status.value == ""


def test_a_plain_autoencoder_randomizes_from_its_training_codes():
    ae = small_model("undercomplete", latent_dim=3)
    x = np.random.default_rng(0).random((300, *ae.sample_shape)).astype("float32")
    codes = ae.encode(x)
    explorer = latent_explorer(ae, data=x)
    assert "Gaussian fitted to 300 training codes" in explorer.drawn_from
    np.testing.assert_allclose(explorer.center, codes.mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(explorer.code, codes.mean(0), rtol=1e-4, atol=1e-5)  # it starts at the codes' mean
    np.testing.assert_allclose(explorer.scale, codes.std(0), rtol=1e-3)
    before = explorer.code.copy()
    explorer.randomize()
    assert np.any(explorer.code != before)
    # "randomize" draws from the codes' distribution, not N(0, I): the draws' mean and spread are the codes'.
    draws = explorer.sampler.sample_codes(2000, seed=1)
    np.testing.assert_allclose(draws.mean(0), codes.mean(0), atol=4 * codes.std(0).max() / np.sqrt(2000))
    np.testing.assert_allclose(draws.std(0), codes.std(0), rtol=0.1)
    low, high = explorer.value_range(0)
    assert low == pytest.approx(codes[:, 0].mean() - 3 * codes[:, 0].std(), rel=1e-3)
    assert high == pytest.approx(codes[:, 0].mean() + 3 * codes[:, 0].std(), rel=1e-3)
    twin = latent_explorer(ae, codes=codes)
    np.testing.assert_allclose(twin.center, explorer.center, rtol=1e-5)
    if explorer.widget is not None:  # the sliders span the codes' range
        assert explorer._sliders[0].min == pytest.approx(low, rel=1e-5)
        assert explorer._sliders[0].max == pytest.approx(high, rel=1e-5)


def test_a_plain_autoencoder_without_codes_says_so_instead_of_drawing():
    ae = small_model("undercomplete", latent_dim=3)
    explorer = latent_explorer(ae)
    assert "randomize is off" in explorer.message and "data=x_train" in explorer.message
    with pytest.raises(ValueError, match="not a VAE"):
        explorer.randomize()
    assert np.all(explorer.code == 0)
    if explorer.widget is not None:  # visible under the explorer, and a click leaves the code alone
        assert "randomize is off" in explorer._status.value
        buttons = {b.description: b for b in explorer.widget.children[1].children[-2].children}
        buttons["randomize"].click()
        assert np.all(explorer.code == 0) and "randomize is off" in explorer._status.value


def test_a_vae_randomizes_from_its_prior_and_a_sampler_can_be_given(vae):
    from keras_ae.samplers import GaussianSampler

    explorer = latent_explorer(vae)
    assert explorer.drawn_from == "the prior N(0, I)" and np.all(explorer.center == 0)
    explorer.randomize()
    assert np.any(explorer.code != 0)
    codes = np.random.default_rng(0).normal(5.0, 0.5, (100, 3))
    explorer = latent_explorer(vae, sampler=GaussianSampler().fit_codes(codes))
    explorer.randomize()
    assert np.all(np.abs(explorer.code - 5.0) < 2.5)
    with pytest.raises(ValueError, match="one of `data`, `codes` or `sampler`"):
        latent_explorer(vae, codes=codes, data=codes)
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        latent_explorer(vae, codes=codes[:, :2])


def test_a_chooser_selection_of_the_wrong_size_is_refused_visibly():
    pytest.importorskip("ipywidgets")
    ae = small_model("undercomplete")  # 8 latent dimensions
    explorer = latent_explorer(ae, max_sliders=3, codes=np.random.default_rng(0).normal(size=(50, 8)))
    chooser = explorer.widget.children[1].children[-2]
    chooser.value = (4,)  # a selection being built a click at a time
    assert explorer.dims == [0, 1, 2]
    assert "choose exactly 3 dimensions" in explorer._status.value and "Received 1" in explorer._status.value
    chooser.value = (4, 5, 6)
    assert explorer.dims == [4, 5, 6] and explorer._status.value == ""
    with pytest.raises(ValueError, match="choose exactly 3"):
        explorer.choose_dims([1, 2])


def test_the_matplotlib_window_follows_the_explorer(vae):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    explorer = LatentExplorer(vae, use_widgets=False)
    fig = explorer.window()
    try:
        sliders = fig._keras_ae_explorer[0]
        sliders[2].set_val(1.25)  # a drag
        assert explorer.code[2] == pytest.approx(1.25)
        explorer.set_code([0.5, -0.5, 0.0])
        assert [s.val for s in sliders] == pytest.approx([0.5, -0.5, 0.0])
    finally:
        plt.close(fig)


def test_without_a_front_end_it_draws_a_static_figure(vae):
    explorer = LatentExplorer(vae, use_widgets=False)
    assert explorer.widget is None
    explorer.set_value(0, 1.0)
    fig = explorer.figure()
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="3 values"):
        explorer.set_code([1, 2])
    with pytest.raises(ValueError, match="flat code"):
        LatentExplorer(small_model("convolutional", latent_dim=None))
