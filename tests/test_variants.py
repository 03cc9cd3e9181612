"""Behaviour tests of each variant: what makes it that variant."""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.layers import Corruption, Sampling, kl_sparsity
from keras_ae.models.vae import gaussian_kl
from model_check import small_model


def to_np(t):
    return keras.ops.convert_to_numpy(keras.ops.stop_gradient(t))


# ---- denoising ---------------------------------------------------------------

def test_corruption_only_in_training(x_small):
    layer = Corruption("gaussian", 0.5, seed=0)
    x = keras.ops.convert_to_tensor(x_small)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x_small)
    noisy = keras.ops.convert_to_numpy(layer(x, training=True))
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert np.abs(noisy - x_small).mean() > 0.1


@pytest.mark.parametrize("noise", ["masking", "salt_and_pepper"])
def test_fractional_noise_hits_the_requested_fraction(noise):
    x = np.full((200, 784), 0.5, "float32")
    noisy = keras.ops.convert_to_numpy(Corruption(noise, 0.3, seed=0).corrupt(keras.ops.convert_to_tensor(x)))
    changed = np.mean(noisy != 0.5)
    assert changed == pytest.approx(0.3, abs=0.01)
    if noise == "masking":
        assert set(np.unique(noisy)) == {0.0, 0.5}
    else:
        assert set(np.unique(noisy)) == {0.0, 0.5, 1.0}


@pytest.mark.parametrize("variant", ["denoising", "conv_denoising"])
def test_corruption_probability_corrupts_that_fraction_of_samples(variant):
    model = small_model(variant, noise="masking", noise_factor=0.5, corruption_probability=0.3, seed=0)
    assert type(model).from_config(model.get_config()).corruption_probability == 0.3
    x = np.full((2000,) + model.sample_shape, 0.5, "float32")
    noisy = keras.ops.convert_to_numpy(model.corruption(keras.ops.convert_to_tensor(x), training=True))
    hit = (noisy != 0.5).reshape(len(x), -1)
    # Whole samples are corrupted or left alone, about 30% of them.
    assert hit.any(axis=1).mean() == pytest.approx(0.3, abs=0.04)
    assert hit[hit.any(axis=1)].mean() == pytest.approx(0.5, abs=0.02)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.corruption(x, training=False)), x)


@pytest.mark.parametrize("p", [0, -0.1, 1.5, float("nan")])
def test_corruption_probability_outside_zero_one_is_refused(p):
    with pytest.raises(ValueError, match=r"corruption_probability.*\(0.0, 1.0\]"):
        keras_ae.DenoisingAutoencoder(corruption_probability=p)


def test_denoising_loss_is_against_clean_input(x_small):
    model = small_model("denoising", noise_factor=0.5)
    model.compile(optimizer="adam")
    # The training loss on a clean target is what compute_loss reports:
    # reconstruct(noisy) vs clean. With noise, the train-mode loss exceeds the clean eval loss.
    x = keras.ops.convert_to_tensor(x_small)
    noisy_pred = model(x, training=True)
    loss = model.compute_loss(x=x, y=None, y_pred=noisy_pred)
    expected = np.mean((keras.ops.convert_to_numpy(noisy_pred) - x_small) ** 2)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_denoising_course_style_fit_noisy_to_clean(x_small):
    from keras_ae.datasets import add_noise

    model = small_model("denoising", noise_factor=0.0)
    model.compile(optimizer="adam")
    noisy = add_noise(x_small, noise_factor=0.5, seed=0)
    h = model.fit(noisy, x_small, epochs=3, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_denoising_learns_to_denoise(mnist_sample):
    """After training, reconstructing noisy inputs gets closer to the clean ones than the noisy inputs are."""
    from keras_ae.datasets import add_noise

    (x, _), (xt, _) = mnist_sample
    model = keras_ae.DenoisingAutoencoder(hidden_units=(128,), latent_dim=32, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    model.fit(x, epochs=8, batch_size=64, verbose=0)
    noisy = add_noise(xt[:300], noise_factor=0.5, seed=1)
    denoised = model.reconstruct(noisy)
    assert ((denoised - xt[:300]) ** 2).sum(1).mean() < 0.5 * ((noisy - xt[:300]) ** 2).sum(1).mean()


# ---- stacked -------------------------------------------------------------------

def test_stacked_pretraining_weights_are_used(x_small):
    model = small_model("stacked")
    histories = model.pretrain(x_small, epochs=1, batch_size=16, verbose=0)
    assert len(histories) == len(model.layer_pairs()) == 3
    for hist, (enc, dec) in zip(histories, model.layer_pairs()):
        shallow = hist.model
        np.testing.assert_array_equal(to_np(enc.kernel), to_np(shallow.get_layer("shallow_encoder").kernel))
        np.testing.assert_array_equal(to_np(dec.kernel), to_np(shallow.get_layer("shallow_decoder").kernel))
        np.testing.assert_array_equal(to_np(dec.bias), to_np(shallow.get_layer("shallow_decoder").bias))
    # The first level's shallow model computes exactly the deep model's first layer.
    first = histories[0].model.get_layer("shallow_encoder")(x_small)
    deep_first = model.encoder.get_layer("encoder_dense_0")(x_small)
    np.testing.assert_allclose(to_np(first), to_np(deep_first), atol=1e-6)


def test_stacked_pretraining_lowers_loss_before_finetuning(mnist_sample):
    x = mnist_sample[0][0][:1000]
    keras.utils.set_random_seed(0)
    random_init = keras_ae.StackedAutoencoder(hidden_units=(128, 64), latent_dim=16)
    keras.utils.set_random_seed(0)
    pretrained = keras_ae.StackedAutoencoder(hidden_units=(128, 64), latent_dim=16)
    pretrained.pretrain(x, epochs=3, batch_size=64, verbose=0, seed=0)
    err_random = random_init.reconstruction_error(x).mean()
    err_pre = pretrained.reconstruction_error(x).mean()
    assert err_pre < 0.7 * err_random


# ---- sparse ---------------------------------------------------------------------

def test_kl_sparsity_matches_formula():
    rho, rho_hat = 0.05, np.array([0.05, 0.2, 0.5], "float32")
    expected = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    assert float(kl_sparsity(rho, rho_hat)) == pytest.approx(expected, rel=1e-5)
    assert float(kl_sparsity(rho, np.full(3, rho, "float32"))) == pytest.approx(0, abs=1e-6)


def test_sparse_training_pushes_mean_activation_toward_rho(mnist_sample):
    x = mnist_sample[0][0][:1000]
    rho = 0.05
    model = keras_ae.SparseAutoencoder(hidden_units=(64,), latent_dim=32, rho=rho, beta=0.5)
    before = np.abs(model.encode(x).mean(0) - rho).mean()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    h = model.fit(x, epochs=10, batch_size=64, verbose=0)
    after_codes = model.encode(x)
    after = np.abs(after_codes.mean(0) - rho).mean()
    assert "sparsity_loss" in h.history and h.history["sparsity_loss"][-1] < h.history["sparsity_loss"][0]
    assert after < 0.25 * before
    assert after_codes.mean() == pytest.approx(rho, abs=0.02)


def test_sparse_kl_requires_sigmoid_code():
    with pytest.raises(ValueError, match="latent_activation='sigmoid'"):
        keras_ae.SparseAutoencoder(latent_activation="relu")


@pytest.mark.parametrize("regularizer, logged", [("sparse", True), ("noise", False)])
def test_overcomplete_logs_a_sparsity_loss_only_when_it_has_one(x_small, regularizer, logged):
    model = small_model("overcomplete", regularizer=regularizer)
    model.compile(optimizer="adam")
    history = model.fit(x_small, epochs=1, batch_size=16, verbose=0)
    assert ("sparsity_loss" in history.history) == logged
    if logged:
        assert history.history["sparsity_loss"][0] > 0


# ---- contractive ------------------------------------------------------------------

def numeric_jacobian_sq(encoder, x, eps=1e-2):
    """||J||_F^2 per sample by central differences, in float64 arithmetic on outputs."""
    n, d = x.shape
    out = []
    for i in range(n):
        xs = np.repeat(x[i:i + 1], d, axis=0).astype("float64")
        plus, minus = xs + eps * np.eye(d), xs - eps * np.eye(d)
        fp = to_np(encoder(plus.astype("float32"))).astype("float64")
        fm = to_np(encoder(minus.astype("float32"))).astype("float64")
        jac = (fp - fm) / (2 * eps)
        out.append((jac ** 2).sum())
    return np.array(out)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_contractive_penalty_matches_numerical_jacobian(x_small, activation):
    model = keras_ae.ContractiveAutoencoder(input_shape=(784,), hidden_units=(16,), latent_dim=6,
                                            activation=activation, lam=1.0)
    x = x_small[:3]
    closed_form = model.jacobian_penalty(x)
    layer = model.encoder.get_layer("contractive")
    numeric = numeric_jacobian_sq(lambda v: layer.code_and_jacobian(keras.ops.convert_to_tensor(v))[0], x)
    np.testing.assert_allclose(closed_form, numeric, rtol=2e-3)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="uses tf.GradientTape")
def test_contractive_penalty_matches_autodiff_for_relu(x_small):
    import tensorflow as tf

    model = keras_ae.ContractiveAutoencoder(hidden_units=(32, 16), latent_dim=5, activation="relu")
    x = tf.constant(x_small[:4])
    with tf.GradientTape() as tape:
        tape.watch(x)
        code = model.encoder.get_layer("contractive").code_and_jacobian(x)[0]
    jac = tape.batch_jacobian(code, x).numpy()
    np.testing.assert_allclose(model.jacobian_penalty(x_small[:4]), (jac ** 2).sum((1, 2)), rtol=1e-4)
    # In batches of 3 (4 = 3 + 1) the figures are the same.
    np.testing.assert_allclose(model.jacobian_penalty(x_small[:4], batch_size=3),
                               model.jacobian_penalty(x_small[:4]), rtol=1e-6)


def test_contractive_penalty_is_reported_and_weighted(x_small):
    model = keras_ae.ContractiveAutoencoder(hidden_units=(16,), latent_dim=4, lam=0.1)
    model.compile(optimizer="adam")
    h = model.fit(x_small, epochs=1, batch_size=64, verbose=0, shuffle=False)
    assert h.history["contractive_loss"][0] > 0
    assert h.history["loss"][0] == pytest.approx(
        h.history["reconstruction_loss"][0] + h.history["contractive_loss"][0], rel=1e-5)


# ---- VAE -------------------------------------------------------------------------

def test_kl_closed_form_matches_monte_carlo():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(3, 4)).astype("float32")
    log_var = rng.normal(scale=0.5, size=(3, 4)).astype("float32")
    closed = keras.ops.convert_to_numpy(gaussian_kl(mean, log_var))
    std = np.exp(0.5 * log_var)
    z = mean + std * rng.standard_normal((200_000, 3, 4))
    log_q = -0.5 * (((z - mean) / std) ** 2 + np.log(2 * np.pi) + log_var)
    log_p = -0.5 * (z ** 2 + np.log(2 * np.pi))
    mc = (log_q - log_p).sum(-1).mean(0)
    np.testing.assert_allclose(closed, mc, rtol=0.02, atol=0.01)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="uses tf.GradientTape")
def test_gradients_reach_encoder_through_sampling(x_small):
    import tensorflow as tf

    vae = small_model("vae", beta=0.0)  # no KL: any encoder gradient must come through z
    x = tf.constant(x_small[:16])
    with tf.GradientTape() as tape:
        total = vae.compute_loss(x=x, y_pred=vae(x, training=True))
    z_mean_k = vae.encoder.get_layer("z_mean").kernel
    z_log_var_k = vae.encoder.get_layer("z_log_var").kernel
    g_mean, g_var = tape.gradient(total, [z_mean_k, z_log_var_k])
    assert np.abs(g_mean.numpy()).sum() > 0
    assert np.abs(g_var.numpy()).sum() > 0


def test_same_seed_same_samples():
    mean = keras.ops.zeros((5, 3))
    a = Sampling(seed=7)([mean, mean])
    b = Sampling(seed=7)([mean, mean])
    c = Sampling(seed=8)([mean, mean])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    vae = small_model("vae")
    np.testing.assert_array_equal(vae.sample(4, seed=3), vae.sample(4, seed=3))
    assert not np.allclose(vae.sample(4, seed=3), vae.sample(4, seed=4))
    assert vae.sample(4, seed=3).shape == (4, 784)


def test_vae_metrics_and_beta(x_small):
    vae = small_model("vae", beta=2.0)
    vae.compile(optimizer="adam")
    h = vae.fit(x_small, epochs=1, batch_size=64, verbose=0, shuffle=False)
    assert set(h.history) == {"loss", "reconstruction_loss", "kl_loss"}
    assert vae.beta == 2.0 and float(keras.ops.convert_to_numpy(vae.kl_weight)) == 2.0
    res = vae.evaluate(x_small, verbose=0, return_dict=True)
    assert res["loss"] == pytest.approx(res["reconstruction_loss"] + 2.0 * res["kl_loss"], rel=1e-4)


def test_beta_annealing_callback(x_small):
    vae = small_model("beta_vae")
    vae.compile(optimizer="adam")
    h = vae.fit(x_small, epochs=3, batch_size=64, verbose=0,
                callbacks=[keras_ae.BetaAnnealing(0.0, 1.0, epochs=2)])
    assert h.history["beta"] == [0.0, 0.5, 1.0]


def test_beta_annealing_refuses_a_model_that_is_not_a_vae(x_small):
    model = small_model("sparse")  # it has a `beta` too, but no KL term
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="BetaAnnealing anneals the KL weight.*SparseAutoencoder"):
        model.fit(x_small, epochs=1, verbose=0, callbacks=[keras_ae.BetaAnnealing()])


def test_vae_rejects_compiled_loss():
    with pytest.raises(ValueError, match="own ELBO loss"):
        small_model("vae").compile(optimizer="adam", loss="mse")


def test_vae_dynamic_binarization_trains(x_small):
    vae = small_model("vae", dynamic_binarization=True)
    vae.compile(optimizer="adam")
    h = vae.fit(x_small, epochs=2, batch_size=32, verbose=0)
    assert np.all(np.isfinite(h.history["loss"]))


def test_dynamic_binarization_is_a_training_only_layer(x_small):
    vae = small_model("vae", dynamic_binarization=True)
    x = keras.ops.convert_to_tensor(x_small[:16])
    parts = vae(x, training=True)
    target = keras.ops.convert_to_numpy(parts["target"])
    assert set(np.unique(target)) <= {0.0, 1.0}
    # Bernoulli(x): a pixel is 1 about as often as its value says.
    assert abs(target.mean() - x_small[:16].mean()) < 0.02
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(vae.binarization(x, training=False)), x_small[:16])
    # Inference decodes the posterior mean of the unbinarized input.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(vae(x)), vae.reconstruct(x_small[:16]), atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 7, 2**31 - 2])
def test_binarization_noise_does_not_repeat_the_sampling_noise(seed):
    """Keras's PyTorch backend seeds draw n of `SeedGenerator(s)` with `s + n` (keras/src/backend/
    torch/random.py): generators seeded s and s + 1 repeat each other one step apart. The model's
    two streams must be further apart than any training run has steps."""
    vae = small_model("vae", dynamic_binarization=True, seed=seed)
    assert vae.sampling.seed == seed
    assert abs(vae.binarization.seed - seed) > 10**7
    # Still one seed, one model: the same seed gives the same binarization seed.
    assert small_model("vae", dynamic_binarization=True, seed=seed).binarization.seed == vae.binarization.seed
    assert small_model("vae", seed=None).binarization.seed is None


def test_vae_elbo_is_negative_loss(x_small):
    vae = small_model("vae")
    elbo = vae.elbo(x_small[:32], num_samples=50)
    x = keras.ops.convert_to_tensor(x_small[:32])
    # The loss is a one-draw estimate of -ELBO: average 50 draws of it, as `elbo` does. (A single
    # draw differs from the 50-draw mean by up to ~6% per image with the default initialiser.)
    draws = [sum(keras.ops.convert_to_numpy(t) for t in vae.elbo_terms(x)) for _ in range(50)]
    assert elbo.shape == (32,)
    np.testing.assert_allclose(elbo, -np.mean(draws, axis=0), rtol=0.02)  # worst seen 0.0075, 8 seeds


# ---- dense VAE initialisation ------------------------------------------------

def _kernels(model):
    layers = model.encoder.layers + model.decoder.layers
    return {layer.name: to_np(layer.kernel) for layer in layers if isinstance(layer, keras.layers.Dense)}


@pytest.mark.parametrize("variant", ["vae", "beta_vae", "iwae"])
def test_dense_vae_default_kernels_are_uniform_fan_in(variant):
    keras.utils.set_random_seed(0)
    model = keras_ae.get_model(variant, hidden_units=(64, 32), latent_dim=8)
    model(np.zeros((2, 784), "float32"))
    kernels = _kernels(model)
    assert len(kernels) == 7  # two hidden layers each way, the two heads, the output
    for name, k in kernels.items():
        bound = 1 / np.sqrt(k.shape[0])
        # U(+-1/sqrt(fan_in)): within the bound, and spread over it (std of a uniform: bound/sqrt(3))
        assert np.abs(k).max() <= bound, name
        assert np.std(k) == pytest.approx(bound / np.sqrt(3), rel=0.1), name
    # One initializer per layer: the two heads have the same shape but must not start equal.
    assert not np.allclose(kernels["z_mean"], kernels["z_log_var"])


def test_dense_vae_kernel_initializer_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    glorot = keras_ae.VAE(hidden_units=(64,), latent_dim=8, kernel_initializer="glorot_uniform")
    glorot(np.zeros((2, 784), "float32"))
    k = _kernels(glorot)["z_mean"]
    assert np.abs(k).max() > 1 / np.sqrt(64)  # glorot's bound for 64 -> 8 is sqrt(6 / 72) = 0.29
    path = str(tmp_path / "vae.keras")
    glorot.save(path)
    assert keras.saving.load_model(path).get_config()["kernel_initializer"] == "glorot_uniform"
    instance = keras_ae.VAE(kernel_initializer=keras.initializers.HeNormal())
    config = instance.get_config()["kernel_initializer"]
    assert config["class_name"] == "HeNormal"
    assert keras_ae.VAE.from_config(instance.get_config()).get_config()["kernel_initializer"] == config
    assert keras_ae.VAE().get_config()["kernel_initializer"] is None


def test_dense_vae_refuses_an_unknown_initializer():
    with pytest.raises(ValueError, match="kernel_initializer.*Received: kernel_initializer='nope'"):
        keras_ae.VAE(kernel_initializer="nope")


def test_vae_recipes_pin_the_initializer_their_entries_were_trained_with():
    from keras_ae.zoo_train import RECIPES

    for name in ("vae.mnist_z2", "vae.binarized_mnist_iwae", "beta_vae.mnist_b4_z10"):
        assert RECIPES[name]["kwargs"]["kernel_initializer"] == "glorot_uniform", name
