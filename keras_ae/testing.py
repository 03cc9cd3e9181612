"""A public check suite for keras-ae models, in the spirit of scikit-learn's `check_estimator`.

Each check is a function `check_NAME(factory, x)`: `factory(**overrides)`
builds a fresh model, `x` is a small batch of inputs in the model's range. A
check raises `AssertionError` (saying what went wrong) or returns `None`.
They run on the current Keras backend, whichever it is.

Run them all on your own variant:

```python
from keras_ae.testing import run_checks
run_checks(lambda **kw: MyAutoencoder(latent_dim=4, **kw))   # raises on the first failure
```

or, under pytest, one test per check:

```python
import pytest
from keras_ae.testing import parametrize_with_checks

@parametrize_with_checks(["vae", "undercomplete"])      # registered variant names
def test_variant(factory, check):
    check(factory)
```

A registered variant's small configuration for these checks is its class
attribute `test_config` (next to the class); `small_model(variant)` builds it.

Two class facts change what the checks feed and expect. `conditional = True` (a
`ConditionalVAE`): `fit` and `evaluate` get class labels as `y`, the verbs get them
beside the data (`encode(x, y)`, `decode(z, y)`, ...), `model((x, y))` and
`predict((x, y))` reconstruct, and `fit(x)` must refuse to train without labels.
`code_dtype = "int32"` (a `VQVAE`): `encode` returns a grid of code indices, and the
encoder's output and the decoder's input hold one vector per index.
"""

import contextlib
import functools
import os
import tempfile

import keras
import numpy as np

from keras_ae.models.registry import VARIANTS


def small_model(variant, **overrides):
    """The registered variant built with its class's small `test_config` (plus overrides)."""
    cls = VARIANTS[variant]
    return cls(**{**getattr(cls, "test_config", {}), **overrides})


def small_inputs(model, n=32, seed=0):
    """`n` random inputs in [0, 1] of the model's sample shape (float32)."""
    rng = np.random.default_rng(seed)
    return rng.random((n,) + tuple(model.sample_shape)).astype("float32")


def is_vae(model):
    """Whether `model` (or a model class) is a VAE: its class says so (`generative`)."""
    return bool(getattr(model, "generative", False))


def is_conditional(model):
    """Whether `model` takes class labels beside its inputs (its class says so: `conditional`)."""
    return bool(getattr(model, "conditional", False))


def labels_for(model, x):
    """Integer class labels for the batch `x` (`0, 1, ..., K - 1, 0, ...`) for a conditional model, else None."""
    return (np.arange(len(x)) % model.num_classes).astype("int32") if is_conditional(model) else None


def _target(model, x):
    """What `fit` and `evaluate` get as `y`: the labels for a conditional model, else `x` itself."""
    return labels_for(model, x) if is_conditional(model) else x


def _pair(model, x):
    return (x, _target(model, x))


def _inputs(model, x):
    """What `model(...)` and `predict` take: `(x, labels)` for a conditional model, else `x`."""
    return (x, labels_for(model, x)) if is_conditional(model) else x


def _given(model, x):
    """The verbs' arguments after `x` (or the codes): `(labels,)` for a conditional model, else `()`."""
    return (labels_for(model, x),) if is_conditional(model) else ()


def _code_dtype(model):
    return np.dtype(getattr(model, "code_dtype", "float32"))


def _data(factory, x):
    model = factory()
    return model, (small_inputs(model) if x is None else x.reshape((-1,) + tuple(model.sample_shape)))


def _compile(model, **kwargs):
    model.compile(optimizer=keras.optimizers.Adam(1e-3), **kwargs)
    return model


def _finite(values, what):
    values = np.asarray(values, "float64")
    assert np.all(np.isfinite(values)), f"{what} is not finite: {values}"


@contextlib.contextmanager
def dtype_policy(name):
    """Set the global dtype policy inside the block, and restore it after."""
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


# ---- the checks -------------------------------------------------------------------

def check_build(factory, x=None):
    """The model is built by its constructor: encoder, decoder, code shape, parameters."""
    model, x = _data(factory, x)
    assert model.built, "the constructor should build the model"
    assert model.count_params() > 0, "the model has no parameters"
    assert tuple(model.encoder.inputs[0].shape[1:]) == tuple(model.sample_shape)
    # The built graph agrees with the declared shapes: encoder out = code = decoder in.
    code_out = tuple(model.encoder.outputs[0].shape[1:])
    code_in = tuple(model.decoder.inputs[0].shape[1:])
    if _code_dtype(model) != np.float32:
        # Discrete codes: one vector per index of the grid (the vectors the codebook replaces).
        code_out, code_in = code_out[:-1], code_in[:-1]
    assert code_out == tuple(model.code_shape), (code_out, model.code_shape)
    assert code_in == tuple(model.code_shape), (code_in, model.code_shape)
    assert tuple(model.decoder.outputs[0].shape[1:]) == tuple(model.sample_shape)
    if model.latent_dim is not None:
        assert model.code_size == model.latent_dim, (model.code_size, model.latent_dim)
    out = model(_inputs(model, x[:2]), training=False)
    assert tuple(out.shape) == (2,) + tuple(model.sample_shape), tuple(out.shape)


def check_fit(factory, x=None):
    """`fit` with `validation_data` and a callback logs finite losses and runs the callback."""
    model, x = _data(factory, x)
    _compile(model)
    seen = []
    callback = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(dict(logs)))
    history = model.fit(*_pair(model, x), epochs=2, batch_size=16, validation_data=_pair(model, x[:16]),
                        callbacks=[callback], verbose=0)
    expected = {"loss", "reconstruction_loss", "val_loss", "val_reconstruction_loss"}
    assert expected <= set(history.history), f"missing logs: {expected - set(history.history)}"
    if is_vae(model):
        assert {"kl_loss", "val_kl_loss"} <= set(history.history)
    assert len(seen) == 2, f"the callback ran {len(seen)} times, expected 2"
    _finite(history.history["loss"], "the training loss")
    _finite(history.history["val_loss"], "the validation loss")


def check_fit_without_targets(factory, x=None):
    """`fit(x)` trains on the input as its own target, like `fit(x, x)`; a conditional model refuses it,
    saying that it needs labels."""
    model, x = _data(factory, x)
    _compile(model)
    if is_conditional(model):
        try:
            model.fit(x, epochs=1, batch_size=16, verbose=0)
        except ValueError as e:
            assert "label" in str(e), f"the error does not say that labels are needed: {e}"
            return
        raise AssertionError("a conditional model trained without labels")
    history = model.fit(x, epochs=1, batch_size=16, verbose=0)
    _finite(history.history["loss"], "the training loss")


def check_sample_weight(factory, x=None):
    """`sample_weight` weighs each sample's loss: zeros remove it, twos double it."""
    model, x = _data(factory, x)
    _compile(model)
    n = len(x)
    zero = model.evaluate(*_pair(model, x), sample_weight=np.zeros(n, "float32"), batch_size=n, verbose=0,
                          return_dict=True)
    assert zero["reconstruction_loss"] == 0.0, f"zero weights left a loss: {zero}"
    penalty = zero.get(getattr(model, "penalty_name", None) or "", 0.0)
    np.testing.assert_allclose(zero["loss"], penalty, rtol=1e-5, atol=1e-7,
                               err_msg="with all-zero weights the loss is the penalty alone")
    one = model.evaluate(*_pair(model, x), batch_size=n, verbose=0, return_dict=True)
    two = model.evaluate(*_pair(model, x), sample_weight=np.full(n, 2.0, "float32"), batch_size=n, verbose=0,
                         return_dict=True)
    # VAEs sample z in evaluation, so their figures agree in distribution only.
    rtol = 0.05 if is_vae(model) else 1e-4
    np.testing.assert_allclose(two["reconstruction_loss"], 2 * one["reconstruction_loss"], rtol=rtol,
                               err_msg="weights of 2 should double the reconstruction loss")
    # Training honours it too: all-zero weights leave a penalty-free model's trainable weights
    # unchanged (a BatchNormalization layer's moving statistics follow the batch, as in Keras).
    if not penalty and not model.losses:
        before = [np.array(w) for w in model.trainable_weights]
        model.fit(*_pair(model, x), sample_weight=np.zeros(n, "float32"), epochs=1, batch_size=n, verbose=0)
        for a, b in zip(before, model.trainable_weights):
            np.testing.assert_array_equal(a, b, err_msg="zero weights changed the model in fit")


def check_compiled_metric(factory, x=None):
    """A metric passed to `compile` is logged by `fit` and returned by `evaluate`."""
    model, x = _data(factory, x)
    _compile(model, metrics=["mae"])
    history = model.fit(*_pair(model, x), epochs=1, batch_size=16, validation_data=_pair(model, x[:16]),
                        verbose=0)
    assert {"mae", "val_mae"} <= set(history.history), f"no compiled metric in {sorted(history.history)}"
    result = model.evaluate(*_pair(model, x), verbose=0, return_dict=True)
    assert "mae" in result and 0 <= result["mae"] <= 1, result


def check_evaluate_predict(factory, x=None):
    """`evaluate`, `predict` and the shared verbs agree, with float32 outputs of the right shapes."""
    model, x = _data(factory, x)
    _compile(model)
    result = model.evaluate(*_pair(model, x), verbose=0, return_dict=True)
    _finite(result["loss"], "the evaluation loss")
    recon = model.predict(_inputs(model, x), verbose=0)
    assert recon.shape == x.shape, (recon.shape, x.shape)
    given = _given(model, x)
    codes = model.encode(x, *given)
    assert codes.shape == (len(x),) + tuple(model.code_shape)
    assert codes.dtype == _code_dtype(model), codes.dtype
    decoded = model.decode(codes, *given)
    reconstructed = model.reconstruct(x, *given)
    assert reconstructed.dtype == np.float32, reconstructed.dtype
    np.testing.assert_allclose(reconstructed, recon, atol=1e-5)
    assert decoded.shape[0] == len(x)
    if model.decodes_from_code_alone:
        # No corruption or sampling at inference: reconstruct == decode(encode(x)).
        np.testing.assert_allclose(decoded, reconstructed, atol=1e-5)
    err = model.reconstruction_error(x, *given)
    assert err.shape == (len(x),) and np.all(err >= 0)


def check_config_round_trip(factory, x=None):
    """`get_config` holds the constructor's arguments; `from_config` rebuilds the same model,
    `name`, `trainable` and `dtype` included."""
    model = factory(dtype="float64", name="round_trip")
    config = model.get_config()
    for key in ("name", "trainable", "dtype"):
        assert key in config, f"get_config lacks {key!r}"
    clone = type(model).from_config(config)
    assert clone.get_config() == config, "from_config(get_config()) changed the config"
    assert clone.name == "round_trip"
    assert clone.dtype_policy.name == "float64", clone.dtype_policy.name
    assert {v.dtype for v in clone.trainable_variables} == {"float64"}, \
        {v.dtype for v in clone.trainable_variables}
    assert clone.count_params() == model.count_params()
    # The constructor's arguments are attributes of the same name.
    for key, value in config.items():
        if key in ("name", "trainable", "dtype"):
            continue
        assert hasattr(model, key), f"argument {key!r} is not stored under its own name"
        stored = getattr(model, key)
        if isinstance(stored, tuple):
            stored = list(stored)
        if isinstance(value, tuple):
            value = list(value)
        assert stored == value or (isinstance(value, list) and list(np.ravel(stored)) == value), \
            f"{key}: stored {stored!r}, config {value!r}"


def check_saved_model(factory, x=None):
    """A `.keras` file round trip gives the same class and identical outputs."""
    model, x = _data(factory, x)
    _compile(model)
    model.fit(*_pair(model, x), epochs=1, batch_size=16, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded.predict(_inputs(model, x), verbose=0),
                               model.predict(_inputs(model, x), verbose=0), atol=1e-6)


def _encoder_inputs(model, x):
    if is_conditional(model):
        return [x, np.eye(model.num_classes, dtype="float32")[labels_for(model, x)]]
    return x


def _check_policy(factory, x, policy):
    compute = policy.split("_")[1]
    with dtype_policy(policy):
        model, x = _data(factory, x)
        # The policy reaches the layers (they compute in half precision) ...
        raw = model.encoder(_encoder_inputs(model, x[:4]), training=False)
        raw = raw[0] if isinstance(raw, (list, tuple)) else raw
        assert keras.backend.standardize_dtype(raw.dtype) == compute, (raw.dtype, compute)
        # ... and the loss is computed in float32.
        loss = model.compute_loss(x=x[:4], y=x[:4], y_pred=model(_inputs(model, x[:4]), training=True))
        assert keras.backend.standardize_dtype(loss.dtype) == "float32", loss.dtype
        _compile(model)
        history = model.fit(*_pair(model, x), epochs=1, batch_size=16, validation_data=_pair(model, x[:16]),
                            verbose=0)
        _finite(history.history["loss"], f"the training loss under {policy}")
        _finite(history.history["val_loss"], f"the validation loss under {policy}")
        codes, recon = model.encode(x, *_given(model, x)), model.reconstruct(x, *_given(model, x))
    assert codes.dtype == _code_dtype(model) and recon.dtype == np.float32, (codes.dtype, recon.dtype)
    _finite(recon, f"the reconstruction under {policy}")


def check_mixed_float16(factory, x=None):
    """Trains under the `mixed_float16` policy; losses in float32, outputs float32."""
    _check_policy(factory, x, "mixed_float16")


def check_mixed_bfloat16(factory, x=None):
    """Trains under the `mixed_bfloat16` policy; losses in float32, outputs float32."""
    _check_policy(factory, x, "mixed_bfloat16")


def check_jit_compile(factory, x=None):
    """Trains with `jit_compile=True` (XLA on TensorFlow and JAX; torch.compile on PyTorch)."""
    model, x = _data(factory, x)
    _compile(model, jit_compile=True)
    history = model.fit(*_pair(model, x), epochs=1, batch_size=16, verbose=0)
    _finite(history.history["loss"], "the training loss with jit_compile")


def check_steps_per_execution(factory, x=None):
    """Trains with `steps_per_execution=2`, as fast input paths ask."""
    model, x = _data(factory, x)
    _compile(model, steps_per_execution=2)
    history = model.fit(*_pair(model, x), epochs=1, batch_size=8, verbose=0)
    _finite(history.history["loss"], "the training loss with steps_per_execution")


CHECKS = (
    check_build,
    check_fit,
    check_fit_without_targets,
    check_sample_weight,
    check_compiled_metric,
    check_evaluate_predict,
    check_config_round_trip,
    check_saved_model,
    check_mixed_float16,
    check_mixed_bfloat16,
    check_jit_compile,
    check_steps_per_execution,
)


def _has_layer(factory, kind):
    """Whether models from `factory` hold a layer whose class name contains `kind`."""
    model = factory()
    return any(kind in type(layer).__name__
               for part in (model.encoder, model.decoder) for layer in part.layers)


@functools.lru_cache(maxsize=None)
def _torch_conv_backward_fails(dtype):
    """Whether one training step of plain Keras convolutions under `mixed_{dtype}` fails here.

    PyTorch's CPU convolution backward raises 'grad_weight must be contiguous'
    for half precision on some machines (seen for bfloat16 with Conv2DTranspose
    on 2026-11-30), with no keras-ae code involved.
    """
    policy = f"mixed_{dtype}"
    model = keras.Sequential([keras.Input((28, 28, 1)),
                              keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same", dtype=policy),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    try:
        model.fit(np.full((8, 28, 28, 1), 0.5, "float32"), np.ones((8, 1), "float32"), epochs=1, verbose=0)
    except RuntimeError as e:
        return "contiguous" in str(e)
    return False


def skip_reason(check, backend=None, factory=None):
    """Why a check cannot run on this backend (for models from `factory`), or `None`."""
    backend = backend or keras.backend.backend()
    half = {check_mixed_float16: "float16", check_mixed_bfloat16: "bfloat16"}.get(check)
    if (half and backend == "torch" and factory is not None and _has_layer(factory, "Conv")
            and _torch_conv_backward_fails(half)):
        return (f"PyTorch's CPU {half} convolution backward fails on this machine ('grad_weight must be "
                "contiguous'), for a plain Keras Conv2DTranspose too")
    if check is check_steps_per_execution and backend == "torch":
        return "Keras's torch backend refuses steps_per_execution > 1"
    return None


def slow_reason(check, backend=None):
    """Why a check is slow on this backend (tests mark it `slow`), or `None`."""
    backend = backend or keras.backend.backend()
    if check is check_jit_compile and backend == "torch":
        return "torch.compile compiles each model for far longer than the check trains it, on CPU"
    return None


def run_checks(factory, x=None, checks=CHECKS):
    """Run every check on models from `factory`; return the names of those skipped here."""
    skipped = []
    for check in checks:
        if skip_reason(check, factory=factory):
            skipped.append(check.__name__)
            continue
        check(factory, x)
    return skipped


def parametrize_with_checks(variants, checks=CHECKS, slow=()):
    """A pytest decorator: one test per (variant, check), with ids like `vae-check_fit`.

    The test function takes `factory` (builds the variant's small model) and
    `check`. Checks in `slow` (and those `slow_reason` names) are marked
    `pytest.mark.slow`; checks that cannot run here are skipped with the reason.
    """
    import pytest

    params = []
    for variant in variants:
        for check in checks:
            marks = []
            factory = (lambda v: lambda **kw: small_model(v, **kw))(variant)
            reason = skip_reason(check, factory=factory)
            if reason:
                marks.append(pytest.mark.skip(reason=reason))
            if slow_reason(check) or check in slow:
                marks.append(pytest.mark.slow)
            params.append(pytest.param(factory, check, id=f"{variant}-{check.__name__}", marks=marks))
    return pytest.mark.parametrize("factory, check", params)
