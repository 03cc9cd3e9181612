"""benchmarks/jax_conv.py and its worker: the op rewrites compute what Keras's JAX ops compute, the
channels_first twin has the same layers, the settings are well formed, and the report on a fabricated record."""

import keras
import numpy as np
import pytest

import benchmark_fixtures  # noqa: F401  (puts the repository on sys.path for `benchmarks`)
from benchmarks import jax_conv
from benchmarks.report_jax_conv import jax_conv_section

on_jax = pytest.mark.skipif(keras.backend.backend() != "jax", reason="rewrites of Keras's JAX ops")


@on_jax
@pytest.mark.slow  # compiles four gradients (seconds)
def test_the_conv_transpose_rewrite_has_the_same_values_and_gradients():
    import jax
    import jax.numpy as jnp
    from keras.src.backend.jax import nn

    from benchmarks.jax_conv_worker import conv_transpose_vjp

    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, 5, 5, 4)).astype("float32"))
    k = jnp.asarray(rng.normal(size=(3, 3, 3, 4)).astype("float32"))  # (h, w, out, in), as Keras stores it
    patched = conv_transpose_vjp(nn.conv_transpose)
    for padding in ("same", "valid"):
        def loss(f):
            return lambda x, k: jnp.sum(jnp.sin(f(x, k, strides=2, padding=padding)))

        np.testing.assert_allclose(patched(x, k, 2, padding), nn.conv_transpose(x, k, 2, padding), rtol=1e-6)
        ours = jax.grad(loss(patched), (0, 1))(x, k)
        theirs = jax.grad(loss(nn.conv_transpose), (0, 1))(x, k)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@on_jax
def test_the_max_pool_rewrite_has_the_same_values_and_falls_back_elsewhere():
    import jax.numpy as jnp
    from keras.src.backend.jax import nn

    from benchmarks.jax_conv_worker import maxpool_reshape

    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 6, 4, 3)).astype("float32"))
    patched = maxpool_reshape(nn.max_pool)
    # strides given, as keras.ops.max_pool passes them (the JAX op converts pool_size twice without)
    np.testing.assert_array_equal(patched(x, (2, 2), (2, 2), "same", "channels_last"),
                                  nn.max_pool(x, (2, 2), (2, 2), "same", "channels_last"))
    odd = x[:, :5]  # an odd side: the stock op
    np.testing.assert_array_equal(patched(odd, (2, 2), (2, 2), "same", "channels_last"),
                                  nn.max_pool(odd, (2, 2), (2, 2), "same", "channels_last"))


@pytest.mark.slow  # builds four functional models (seconds); .ci/run's slow block runs it
def test_the_channels_first_twin_has_the_same_layers():
    from benchmarks.jax_conv_worker import channels_first_clone
    from benchmarks.speed_worker import twin
    from keras_ae.testing import small_model

    for variant in ("conv_vae", "convolutional"):
        model = small_model(variant)
        h, w, c = model.sample_shape
        nchw, _ = twin(model, clone=channels_first_clone((h, w, c)), sample_shape=(c, h, w))
        nhwc, _ = twin(model)
        assert nchw.count_params() == nhwc.count_params()
        assert tuple(nchw.output.shape[1:]) == (c, h, w) and tuple(nhwc.output.shape[1:]) == (h, w, c)
        assert {layer.get_config().get("data_format") for layer in nchw.layers[-1].layers} <= {
            None, "channels_first"}


def test_the_settings_name_known_keys_and_variants():
    for name, (setting, only) in jax_conv.SETTINGS.items():
        assert set(setting) <= {"batch_size", "xla_flags", "precision", "data_format", "patch"}, name
        assert only is None or set(only) <= set(jax_conv.VARIANTS), name
    with pytest.raises(ValueError, match="unknown jax-conv settings"):
        jax_conv.run_jax_conv(lambda m: None, settings=["no such setting"])


def _row(variant, setting, ratio, pairs=2):
    return {"variant": variant, "setting": setting, "batch_size": 128, "pairs": pairs, "jax_samples_per_s": ratio * 100,
            "tensorflow_samples_per_s": 100.0, "ratios": [ratio] * pairs, "ratio": ratio, "ratio_min": ratio * 0.9,
            "ratio_max": ratio * 1.1, "busy_cpus": [1.0] * 2 * pairs}


def test_the_section_divides_by_the_default_row_and_judges_the_target():
    record = {"cpus": 2, "pairs": 2, "warmup_steps": 1, "timed_steps": 3,
              "rows": [_row("conv_vae", "default", 0.05), _row("conv_vae", "batch 32", 0.1),
                       _row("conv_vae", "XLA_FLAGS=--xla_cpu_use_thunk_runtime=false", 0.06),
                       _row("convolutional", "default", 0.6)]}
    speed = {"backends": {"tensorflow": {"training": [{"variant": "conv_vae", "keras_ae": 900.0}]},
                          "jax": {"training": [{"variant": "conv_vae", "keras_ae": 100.0}]}}}
    text = "\n".join(jax_conv_section(record, {"command": "python -m benchmarks --jax-conv", "date": "d"}, speed))
    assert "| batch 32 | 128 | 10 | 100 | 0.100 (0.090–0.110) | 2.00 |" in text
    assert "The ignored flag's row is 1.20 × the default" in text
    assert "- conv_vae: JAX ÷ TensorFlow 0.05 by default, 0.10 at best (batch 32); `--backend auto` picks " \
           "tensorflow from the speed figures: met." in text
    assert "- convolutional: JAX ÷ TensorFlow 0.60 by default" in text and "**not met**" not in text
    record["rows"][2] = _row("convolutional", "default", 0.3)
    speed["backends"]["jax"]["training"].append({"variant": "convolutional", "keras_ae": 500.0})
    text = "\n".join(jax_conv_section(record, None, speed))
    assert "picks jax from the speed figures: **not met**" in text
