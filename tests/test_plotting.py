"""Plot helpers return Figures, draw what they say, and never show."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from keras_ae import plotting
from model_check import small_model


@pytest.fixture(scope="module")
def vae2d():
    return small_model("vae")


def test_reconstruction_grid_rows(x_small):
    fig = plotting.reconstruction_grid(x_small, x_small, noisy=x_small, n=5)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 15
    assert [fig.axes[0].get_ylabel(), fig.axes[5].get_ylabel(), fig.axes[10].get_ylabel()] == \
        ["original", "noisy", "reconstructed"]


def test_image_grid_and_samples(x_small):
    fig = plotting.sample_grid(x_small[:10], ncols=4)
    assert len(fig.axes) == 12
    assert len(fig.axes[9].images) == 1 and len(fig.axes[11].images) == 0
    color = plotting.image_grid(np.random.default_rng(0).random((3, 32, 32, 3)), ncols=3)
    assert color.axes[0].images[0].get_array().shape == (32, 32, 3)
    with pytest.raises(ValueError, match="square images"):
        plotting.image_grid(np.zeros((2, 10)))


def test_latent_scatter_and_tsne(x_small):
    codes = np.random.default_rng(0).normal(size=(60, 5))
    labels = np.arange(60) % 10
    fig = plotting.latent_scatter(codes, labels)
    offsets = fig.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(offsets, codes[:, :2])
    t = plotting.tsne_plot(codes, labels)
    assert t.axes[0].collections[0].get_offsets().shape == (60, 2)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        plotting.latent_scatter(np.zeros((5, 1)))


def test_manifold_grid_is_one_batched_decode(vae2d, monkeypatch):
    calls = []
    original = vae2d.decode

    def counting(z, batch_size=256):
        calls.append((len(z), batch_size))
        return original(z, batch_size=batch_size)

    monkeypatch.setattr(vae2d, "decode", counting)
    fig = plotting.manifold_grid(vae2d, n=6)
    assert calls == [(36, 36)]
    assert fig.axes[0].images[0].get_array().shape == (6 * 28, 6 * 28)
    with pytest.raises(ValueError, match="latent_dim=8"):
        plotting.manifold_grid(small_model("undercomplete"))


def test_training_curves_and_anomaly_plots():
    fig = plotting.training_curves({"loss": [3, 2, 1], "val_loss": [3.5, 2.5, 2], "kl_loss": [1, 1, 1]})
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    scores = np.r_[np.random.default_rng(0).normal(0, 1, 100), np.random.default_rng(1).normal(3, 1, 100)]
    labels = np.r_[np.zeros(100), np.ones(100)]
    h = plotting.score_histogram(scores, labels, threshold=1.5)
    assert h.axes[0].lines[0].get_xdata()[0] == 1.5
    roc = plotting.roc_curve_plot(labels, scores)
    assert "AUC = 0.9" in roc.axes[0].get_legend().get_texts()[0].get_text()


def test_save_figure_is_atomic(tmp_path, x_small):
    fig = plotting.sample_grid(x_small[:4])
    path = plotting.save_figure(fig, str(tmp_path / "sub" / "f.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["f.png"]


def test_library_never_calls_show():
    import inspect

    import keras_ae.plotting as mod

    assert "plt.show" not in inspect.getsource(mod)
