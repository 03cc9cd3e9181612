"""keras_ae.restoration: seeded corruptions of colour images, PSNR, the classical baselines and the model's
restoration (issue 38, item 4). Tiny arrays and a tiny untrained model; no data read."""

import numpy as np
import pytest

from keras_ae import restoration as R


def images(n=6, h=16, w=16, c=3, seed=0):
    return np.random.default_rng(seed).random((n, h, w, c)).astype("float32")


class Shift:
    """A stand-in model whose reconstruction is known: every value moved halfway to 0.5."""

    calls = 0

    def reconstruct(self, x, batch_size=256):
        Shift.calls += 1
        return 0.5 * x + 0.25


def test_gaussian_noise_has_the_asked_spread_and_is_seeded():
    x = np.full((4, 32, 32, 3), 0.5, "float32")  # mid-gray: clipping at 0 and 1 is negligible for sigma 0.1
    noisy = R.gaussian_noise(x, 0.1, seed=3)
    assert noisy.dtype == np.float32 and noisy.shape == x.shape
    assert np.std(noisy - x) == pytest.approx(0.1, rel=0.03) and abs(np.mean(noisy - x)) < 0.005
    np.testing.assert_array_equal(noisy, R.gaussian_noise(x, 0.1, seed=3))
    assert not np.array_equal(noisy, R.gaussian_noise(x, 0.1, seed=4))
    assert R.gaussian_noise(images(), 2.0).min() >= 0 and R.gaussian_noise(images(), 2.0).max() <= 1  # clipped
    np.testing.assert_array_equal(R.gaussian_noise(x, 0.0), x)


def test_salt_and_pepper_hits_the_asked_fraction_of_pixels_all_channels_alike():
    x = np.full((8, 32, 32, 3), 0.5, "float32")
    out = R.salt_and_pepper(x, 0.1, seed=1)
    changed = (out != x).any(axis=-1)
    assert changed.mean() == pytest.approx(0.1, abs=0.01)
    assert ((out != x).all(axis=-1) == changed).all()  # a hit pixel changes in every channel
    hit = out[changed]
    assert set(np.unique(hit)) == {0.0, 1.0} and (hit == 1.0).mean() == pytest.approx(0.5, abs=0.05)
    np.testing.assert_array_equal(out, R.salt_and_pepper(x, 0.1, seed=1))
    np.testing.assert_array_equal(R.salt_and_pepper(x, 0.0), x)


def test_mask_square_places_one_square_of_the_asked_size_inside_each_image():
    x = images(n=50, h=12, w=10)
    out, mask = R.mask_square(x, 4, seed=2, fill=0.0)
    assert mask.shape == (50, 12, 10) and mask.dtype == bool
    for m in mask:
        rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
        assert len(rows) == len(cols) == 4 and m.sum() == 16  # one whole 4x4 square
        assert rows[-1] - rows[0] == 3 and cols[-1] - cols[0] == 3
    assert (out[mask] == 0).all() and np.array_equal(out[~mask], x[~mask])
    corners = {(int(np.argmax(m.any(axis=1))), int(np.argmax(m.any(axis=0)))) for m in mask}
    assert len(corners) > 20  # random places, not one
    again, mask2 = R.mask_square(x, 4, seed=2)
    np.testing.assert_array_equal(mask, mask2)
    np.testing.assert_array_equal(out, again)
    assert not np.array_equal(mask, R.mask_square(x, 4, seed=3)[1])


def test_psnr_of_known_errors():
    x = np.zeros((2, 4, 4, 3), "float32")
    y = x.copy()
    y[0] += 0.1  # MSE 0.01: 20 dB
    y[1, 0, 0] = 1.0  # one pixel of 16 all wrong: MSE 1/16, 12.04 dB
    np.testing.assert_allclose(R.psnr(x, y), [20.0, 10 * np.log10(16)], rtol=1e-5)
    mask = np.zeros((2, 4, 4), bool)
    mask[:, 0, 0] = True  # inside the mask: the first image still 20 dB, the second all wrong, 0 dB
    np.testing.assert_allclose(R.psnr(x, y, mask), [20.0, 0.0], atol=1e-4)
    assert R.psnr(x, x).tolist() == [120.0, 120.0]  # identical: the ceiling, finite


def test_median_filter_removes_isolated_salt_and_pepper():
    x = np.full((2, 8, 8, 3), 0.4, "float32")
    bad = x.copy()
    bad[0, 3, 3], bad[1, 5, 2] = 1.0, 0.0
    np.testing.assert_array_equal(R.median_filter(bad), x)
    assert R.classical(bad) is not None and np.array_equal(R.classical(bad), x)


def test_harmonic_fill_keeps_known_pixels_and_fills_a_ramp_exactly():
    ramp = np.tile(np.linspace(0, 1, 16, dtype="float32")[None, :, None], (16, 1, 3))[None].repeat(3, 0)
    mask = np.zeros((3, 16, 16), bool)
    mask[0, 5:11, 4:10] = mask[1, 1:7, 8:14] = mask[2, 9:15, 1:7] = True  # inside: the border all around
    holed = np.where(mask[..., None], 1.0, ramp).astype("float32")
    filled = R.harmonic_fill(holed, mask)
    np.testing.assert_array_equal(filled[~mask], ramp[~mask])
    np.testing.assert_allclose(filled, ramp, atol=1e-3)  # a linear ramp solves Laplace's equation
    flat = np.full((1, 9, 9, 3), 0.3, "float32")
    edge_hole = np.zeros((1, 9, 9), bool)
    edge_hole[0, :3, :3] = True  # at the corner: the image's edge is no boundary
    np.testing.assert_allclose(R.harmonic_fill(np.where(edge_hole[..., None], 0, flat), edge_hole), flat, atol=1e-4)
    np.testing.assert_array_equal(R.harmonic_fill(flat, np.zeros((1, 9, 9), bool)), flat)  # no hole


def test_restore_gives_the_reconstruction_and_inpainting_keeps_the_known_pixels():
    x = images()
    np.testing.assert_allclose(R.restore(Shift(), x), 0.5 * x + 0.25)
    holed, mask = R.mask_square(x, 5, seed=0)
    Shift.calls = 0
    out = R.restore(Shift(), holed, mask=mask, iterations=3)
    assert Shift.calls == 3
    np.testing.assert_array_equal(out[~mask], holed[~mask])  # exactly, not approximately
    # inside: three steps of v -> v / 2 + 1/4 from each image's mean known colour
    mean = np.stack([holed[i][~mask[i]].mean(axis=0) for i in range(len(x))])
    expected = mean
    for _ in range(3):
        expected = 0.5 * expected + 0.25
    for i in range(len(x)):
        np.testing.assert_allclose(out[i][mask[i]], np.broadcast_to(expected[i], (25, 3)), rtol=1e-5)
    given = R.restore(Shift(), holed, mask=mask, iterations=1, start="given")  # the black square as it is
    np.testing.assert_allclose(given[mask], 0.25)
    harmonic = R.restore(Shift(), holed, mask=mask[..., None], iterations=1, start="harmonic")
    np.testing.assert_allclose(harmonic[mask], 0.5 * R.harmonic_fill(holed, mask)[mask] + 0.25, rtol=1e-5)


def test_restore_with_a_tiny_keras_model_keeps_known_pixels():
    import keras_ae

    model = keras_ae.ConvolutionalAutoencoder(input_shape=(8, 8, 3), filters=(4,), latent_filters=4, latent_dim=4)
    x = images(n=4, h=8, w=8)
    holed, mask = R.mask_square(x, 3, seed=5)
    out = R.restore(model, holed, mask=mask, iterations=2, batch_size=4)
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[~mask], x[~mask])
    assert np.isfinite(out).all() and 0 <= out.min() and out.max() <= 1
    np.testing.assert_allclose(R.restore(model, x), np.clip(model.reconstruct(x), 0, 1), atol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: R.gaussian_noise(np.zeros((2, 4, 4)), 0.1), "shape (n, height, width, channels)"),
    (lambda: R.gaussian_noise(np.full((1, 4, 4, 3), 255, "uint8"), 0.1), "x / 255.0"),
    (lambda: R.gaussian_noise(np.full((1, 4, 4, 3), np.nan), 0.1), "finite"),
    (lambda: R.gaussian_noise(np.array([["a"]]), 0.1), "real numbers"),
    (lambda: R.gaussian_noise(images(), -1), "sigma=-1"),
    (lambda: R.gaussian_noise(images(), 0.1, seed=-2), "seed=-2"),
    (lambda: R.salt_and_pepper(images(), 1.5), "amount=1.5"),
    (lambda: R.mask_square(images(h=8, w=8), 9), "fit in the images (8x8)"),
    (lambda: R.mask_square(images(), 0), "size=0"),
    (lambda: R.psnr(images(), images(n=5)), "same shape"),
    (lambda: R.psnr(images(), images(), mask=np.zeros((6, 16, 16), bool)), "empty"),
    (lambda: R.psnr(images(), images(), mask=np.zeros((6, 15, 16), bool)), "(6, 16, 16)"),
    (lambda: R.harmonic_fill(images(), np.full((6, 16, 16), 0.5)), "boolean"),
    (lambda: R.restore(object(), images()), "reconstruct"),
    (lambda: R.restore(Shift(), images(), mask=np.zeros((6, 16, 16), bool), start="zeros"), "start='zeros'"),
    (lambda: R.restore(Shift(), images(), mask=np.zeros((6, 16, 16), bool), iterations=0), "iterations=0"),
])
def test_bad_input_is_refused_with_what_was_expected_and_received(call, message):
    with pytest.raises(ValueError) as e:
        call()
    assert message in str(e.value)
