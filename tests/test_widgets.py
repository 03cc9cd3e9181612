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
    buttons = {b.description: b for b in explorer.widget.children[1].children[-1].children}
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
    chooser = explorer.widget.children[1].children[-1]
    chooser.value = (2, 5, 7)
    assert [s.description for s in explorer._sliders] == ["z[2]", "z[5]", "z[7]"]
    explorer._sliders[1].value = -2.0
    assert explorer.code[5] == -2.0


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
