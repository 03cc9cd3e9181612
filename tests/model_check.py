"""Test helpers: the small model of each variant comes from its class (`test_config`)."""

from keras_ae.testing import check_evaluate_predict, check_fit, check_saved_model, small_model  # noqa: F401


def check_model(model_factory, x):
    """Fit, evaluate, predict and a `.keras` round trip on inputs `x` (the public checks)."""
    for check in (check_fit, check_evaluate_predict, check_saved_model):
        check(model_factory, x)
