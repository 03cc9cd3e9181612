"""The VQ-VAE (EMA codebook, restarts of dead codes, index codes) and its PixelCNN prior, on the current backend."""

import itertools

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.models.code_prior import MaskedConv2D
from keras_ae.models.vqvae import VectorQuantizer, codebook_perplexity
from keras_ae.testing import small_inputs, small_model

# Fits that trace TensorFlow graphs are in the slow lane there (.ci/run runs it); the JAX and PyTorch
# blocks of .ci/run run them among their quick tests.
SLOW_ON_TF = pytest.mark.slow if keras.backend.backend() == "tensorflow" else pytest.mark.usefixtures()


def to_np(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def quantizer(k=4, d=2, **kw):
    q = VectorQuantizer(k, d, seed=0, **kw)
    q.build((None, 2, 2, d))
    return q


# ---- the quantizer ------------------------------------------------------------------------

def test_each_vector_takes_its_nearest_code():
    q = quantizer()
    codebook = np.array([[0, 0], [1, 0], [0, 1], [5, 5]], "float32")
    q.codebook.assign(codebook)
    z = np.random.default_rng(0).normal(size=(3, 2, 2, 2)).astype("float32")
    idx, z_q, counts = q(z, training=False)
    want = np.argmin(((z[..., None, :] - codebook) ** 2).sum(-1), axis=-1)
    np.testing.assert_array_equal(to_np(idx), want)
    np.testing.assert_allclose(to_np(z_q), codebook[want])
    np.testing.assert_array_equal(to_np(counts), np.bincount(want.ravel(), minlength=4))


def test_the_first_training_step_starts_every_code_at_a_batch_vector():
    q = quantizer(k=6)
    z = np.random.default_rng(1).normal(size=(4, 2, 2, 2)).astype("float32")
    q(z, training=True)
    rows = z.reshape(-1, 2)
    for code in to_np(q.codebook):
        assert np.min(np.abs(rows - code).sum(1)) < 1e-6, code
    assert int(to_np(q.steps)) == 1


def test_ema_moves_a_used_code_to_the_mean_of_its_vectors():
    q = quantizer(decay=0.0, restart_every=None)
    q.steps.assign(5)  # past the first step's start
    q.codebook.assign(np.array([[0, 0], [10, 10], [-10, 10], [10, -10]], "float32"))
    z = np.array([[0.5, 0.1], [-0.3, 0.2], [9, 11], [11, 9]], "float32").reshape(1, 2, 2, 2)
    q(z, training=True)
    book = to_np(q.codebook)
    np.testing.assert_allclose(book[0], [0.1, 0.15], atol=1e-3)
    np.testing.assert_allclose(book[1], [10, 10], atol=1e-3)


def test_codes_unused_over_the_window_restart_at_batch_vectors_and_used_ones_stay():
    q = quantizer(k=4, decay=0.99, restart_every=3)
    q.steps.assign(1)
    far = np.array([[0, 0], [100, 100], [-100, 100], [100, -100]], "float32")
    q.codebook.assign(far)
    q.embed_sum.assign(far / 4)
    z = np.random.default_rng(2).normal(scale=0.1, size=(2, 2, 2, 2)).astype("float32")
    q(z, training=True)  # step 2: not due
    np.testing.assert_allclose(to_np(q.codebook)[1:], far[1:], atol=1e-3)
    np.testing.assert_array_equal(to_np(q.usage), [8, 0, 0, 0])
    q(z, training=True)  # step 3: codes 1-3 took no vector since the last check
    book, rows = to_np(q.codebook), z.reshape(-1, 2)
    for code in book[1:]:
        assert np.min(np.abs(rows - code).sum(1)) < 1e-6, code
    assert np.abs(book[0]).max() < 1.0  # the used code keeps its place near the data
    np.testing.assert_array_equal(to_np(q.usage), [0, 0, 0, 0])


def test_perplexity_is_the_number_of_codes_used_evenly():
    assert float(to_np(codebook_perplexity(keras.ops.convert_to_tensor([5.0, 5.0, 5.0, 5.0])))) == pytest.approx(4)
    assert float(to_np(codebook_perplexity(keras.ops.convert_to_tensor([9.0, 0.0, 0.0, 0.0])))) == pytest.approx(1)


@SLOW_ON_TF
@pytest.mark.parametrize("restart_every", [1, 3])
def test_fit_with_restarts_on_this_backend(restart_every):
    """Restarts assign the state inside the jitted step; fit logs the codebook's perplexity and usage."""
    model = small_model("vqvae", restart_every=restart_every)
    x = small_inputs(model)
    model.compile(optimizer="adam")
    history = model.fit(x, epochs=2, batch_size=8, verbose=0)
    assert int(to_np(model.quantizer.steps)) == 8
    for key in ("perplexity", "codebook_usage", "commitment_loss", "reconstruction_loss"):
        assert np.all(np.isfinite(history.history[key])), key
    assert 1.0 <= history.history["perplexity"][-1] <= model.num_codes
    assert 0.0 < history.history["codebook_usage"][-1] <= 1.0
    # The window's usage counts restart at each check: the steps since the last one (8 vectors of 4x4 codes each).
    since = 8 % restart_every
    assert float(to_np(model.quantizer.usage).sum()) == since * 8 * 16
    assert np.all(np.isfinite(model.codebook))


# ---- the model's verbs ----------------------------------------------------------------------

def test_encode_gives_indices_and_decode_takes_them():
    model = small_model("vqvae")
    x = small_inputs(model, n=5)
    codes = model.encode(x)
    assert codes.dtype == np.int32 and codes.shape == (5,) + model.code_shape
    assert codes.min() >= 0 and codes.max() < model.num_codes
    np.testing.assert_allclose(model.decode(codes), model.reconstruct(x), atol=1e-5)
    assert 0 < model.codebook_usage(x) <= 1


@pytest.mark.parametrize("codes, match", [
    (np.full((2, 4, 4), 8), r"\[0, 8\)"),
    (np.full((2, 4, 4), 0.5), "whole numbers"),
    (np.zeros((2, 3, 4), "int32"), r"shape \(n,\) \+ \(4, 4\)"),
    (np.zeros((4, 4), "int32"), "batch axis"),
])
def test_decode_refuses_what_is_not_a_batch_of_codes(codes, match):
    with pytest.raises(ValueError, match=match):
        small_model("vqvae").decode(codes)


def test_latent_dim_is_refused_with_what_to_set_instead():
    with pytest.raises(TypeError, match="num_codes"):
        keras_ae.VQVAE(latent_dim=3)


def test_sampling_needs_a_prior_and_the_prior_must_fit_the_grid():
    model = small_model("vqvae")
    with pytest.raises(ValueError, match="CodePrior.for_model"):
        model.sample(2)
    with pytest.raises(ValueError, match="grid"):
        model.prior = keras_ae.CodePrior(grid_shape=(3, 3), num_codes=model.num_codes, filters=4, num_layers=1)
    with pytest.raises(TypeError, match="CodePrior"):
        model.prior = "pixelcnn"


def test_a_keras_file_keeps_the_attached_prior(tmp_path):
    model = small_model("vqvae")
    prior = keras_ae.CodePrior.for_model(model, filters=4, num_layers=2)
    model.prior = prior
    assert not any(v is w for v in model.weights for w in prior.weights), "the prior's weights joined the VQ-VAE's"
    path = str(tmp_path / "vq.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.prior, keras_ae.CodePrior)
    for a, b in zip(loaded.prior.get_weights(), prior.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.sample(3, seed=4), model.sample(3, seed=4), atol=1e-6)
    # Without a prior, the file has none.
    model.prior = None
    model.save(path)
    assert keras.models.load_model(path).prior is None


# ---- the prior ----------------------------------------------------------------------------

def tiny_prior(grid=(3, 3), k=3, **kw):
    kw = {"filters": 8, "num_layers": 3, "kernel_size": 3, "first_kernel_size": 3, **kw}
    return keras_ae.CodePrior(grid_shape=grid, num_codes=k, **kw)


def test_each_position_sees_exactly_the_positions_before_it():
    """Changing the code at q changes no logits at q or before it (raster order), and some after it,
    the position to the upper right included (no blind spot)."""
    prior = tiny_prior(grid=(3, 3))
    rng = np.random.default_rng(0)
    base = rng.integers(0, 3, (1, 3, 3)).astype("int32")
    out = prior.predict_on_batch(base)  # compiled once: eager calls are slow on JAX
    order = list(itertools.product(range(3), range(3)))
    for qi, (i, j) in enumerate(order):
        changed = base.copy()
        changed[0, i, j] = (changed[0, i, j] + 1) % 3
        diff = np.abs(prior.predict_on_batch(changed) - out).max(axis=-1)[0]
        for pi, (a, b) in enumerate(order):
            if pi <= qi:
                assert diff[a, b] == 0, f"position {(a, b)} saw the code at {(i, j)}"
    # The upper-right neighbour (0, 2) reaches (1, 1): the gated PixelCNN's two stacks leave no blind spot.
    changed = base.copy()
    changed[0, 0, 2] = (changed[0, 0, 2] + 1) % 3
    assert np.abs(prior.predict_on_batch(changed) - out)[0, 1, 1].max() > 0


def test_log_prob_is_a_normalized_distribution_over_all_grids():
    prior = tiny_prior(grid=(2, 2), k=3)
    grids = np.array(list(itertools.product(range(3), repeat=4)), "int32").reshape(-1, 2, 2)
    assert np.exp(prior.log_prob(grids)).sum() == pytest.approx(1.0, abs=1e-4)
    bits = prior.bits_per_code(grids[:10])
    assert bits == pytest.approx(-prior.log_prob(grids[:10]).mean() / 4 / np.log(2))


def test_sample_is_seeded_and_in_range():
    prior = tiny_prior()
    a, b = prior.sample(5, seed=3), prior.sample(5, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int32 and a.shape == (5, 3, 3) and a.min() >= 0 and a.max() < 3
    assert not np.array_equal(a, prior.sample(5, seed=4))
    with pytest.raises(ValueError, match="temperature"):
        prior.sample(2, temperature=0)


def test_prior_fit_refuses_targets_and_bad_codes():
    prior = tiny_prior()
    prior.compile(optimizer="adam")
    codes = np.zeros((4, 3, 3), "int32")
    with pytest.raises(ValueError, match="without `y`"):
        prior.fit(codes, codes)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        prior.fit(codes + 3)
    with pytest.raises(ValueError, match="loss"):
        prior.compile(optimizer="adam", loss="mse")


@SLOW_ON_TF
def test_prior_sample_weight_and_keras_file(tmp_path):
    prior = tiny_prior()
    prior.compile(optimizer="adam")
    codes = np.random.default_rng(0).integers(0, 3, (8, 3, 3)).astype("int32")
    zero = prior.evaluate(codes, sample_weight=np.zeros(8, "float32"), verbose=0, return_dict=True)
    assert zero["loss"] == 0.0
    history = prior.fit(codes, epochs=1, batch_size=4, verbose=0)
    assert history.history["bits_per_code"][0] == pytest.approx(history.history["loss"][0] / np.log(2), rel=1e-5)
    path = str(tmp_path / "prior.keras")
    prior.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.log_prob(codes), prior.log_prob(codes), rtol=1e-6)


def test_masked_conv_refuses_even_kernels():
    with pytest.raises(ValueError, match="odd"):
        MaskedConv2D(4, 2)


@pytest.mark.slow
def test_prior_learns_structured_codes():
    """Grids whose every code equals the first one: after training, well under the uniform log2 K bits."""
    rng = np.random.default_rng(0)
    codes = np.repeat(rng.integers(0, 4, 512), 9).reshape(-1, 3, 3).astype("int32")
    prior = tiny_prior(k=4)
    prior.compile(optimizer=keras.optimizers.Adam(1e-2))
    prior.fit(codes, epochs=15, batch_size=64, verbose=0)
    # The first code carries log2(4) = 2 bits, the other 8 none: 2 / 9 = 0.22 bits per code at best.
    assert prior.bits_per_code(codes) < 0.5
    samples = prior.sample(20, seed=0, temperature=0.5)
    assert np.mean(samples == samples[:, :1, :1]) > 0.9
