"""The public check suite (keras_ae.testing) on every registered variant, on the current backend.

`.ci/run` runs this file under TensorFlow, JAX and PyTorch (KERAS_BACKEND).
"""

import keras
import pytest

from keras_ae.models.registry import list_variants
from keras_ae.testing import (
    CHECKS,
    check_jit_compile,
    check_mixed_bfloat16,
    check_mixed_float16,
    parametrize_with_checks,
    run_checks,
    small_model,
)

# On TensorFlow (the default test run) these compile a second graph per variant; to keep the
# default run short they are marked slow there, and `.ci/run` runs them with `-m slow`. On JAX and
# PyTorch, `.ci/run` runs the non-slow tests only: float16 there covers the mixed-precision path
# (with loss scaling, which bfloat16 does not use), and bfloat16 is marked slow to keep the whole
# run near 30 minutes (about 2 minutes on the JAX lane); it runs on TensorFlow.
SLOW_HERE = ((check_mixed_float16, check_mixed_bfloat16, check_jit_compile)
             if keras.backend.backend() == "tensorflow" else (check_mixed_bfloat16,))
# The residual colour family is the heaviest to check (about 2 minutes of the default run on
# TensorFlow): there its whole suite is marked slow and runs in `.ci/run`'s TensorFlow slow lane, and
# the JAX and PyTorch blocks check it among the non-slow tests.
# The VQ-VAE (built on the same trunks) and the conditional VAE (about 25 s) join it there, to keep the
# default run under its ceiling.
HEAVY_HERE = ([v for v in list_variants() if v.startswith("resnet") or v in ("vqvae", "cvae")]
              if keras.backend.backend() == "tensorflow" else [])


@parametrize_with_checks([v for v in list_variants() if v not in HEAVY_HERE], slow=SLOW_HERE)
def test_variant(factory, check):
    check(factory)


@parametrize_with_checks(HEAVY_HERE, slow=CHECKS)
def test_heavy_variant(factory, check):
    check(factory)


def test_every_variant_has_a_small_configuration_beside_its_class():
    from keras_ae.models.registry import VARIANTS

    for name, cls in VARIANTS.items():
        assert "test_config" in vars(cls) or any("test_config" in vars(b) for b in cls.__mro__[1:-1]), name
        small_model(name)


def test_a_check_fails_on_a_model_that_ignores_sample_weight():
    """The suite can fail: a model whose loss drops `sample_weight` is caught."""
    import keras_ae
    from keras_ae.testing import check_sample_weight

    class Careless(keras_ae.UndercompleteAutoencoder):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return super().compute_loss(x, y, y_pred, None, training)

    with pytest.raises(AssertionError, match="zero weights"):
        check_sample_weight(lambda **kw: Careless(hidden_units=(8,), latent_dim=2, **kw))


def test_run_checks_on_a_users_own_model():
    import keras_ae

    skipped = run_checks(lambda **kw: keras_ae.UndercompleteAutoencoder(hidden_units=(8,), latent_dim=3, **kw),
                         checks=CHECKS[:4])
    assert skipped == []
