"""`import keras_ae` is quick and imports no Keras; the CLI's backend choice reads the classes' own facts."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(code, env=None):
    base = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_AE_BACKEND_LOGS")}
    # TensorFlow is the backend whose C++ start-up lines keras-ae holds back
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**base, "KERAS_BACKEND": "tensorflow", **(env or {})})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_import_keras_ae_imports_no_keras():
    proc = _run("import sys, keras_ae\n"
                "print('HEAVY', sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch', 'sklearn', 'keras_ae.models')"
                " if m in sys.modules))\n"
                "print('DIR', 'VAE' in dir(keras_ae), 'zoo' in dir(keras_ae))\n")
    assert "HEAVY []" in proc.stdout and "DIR True True" in proc.stdout


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_names_load_on_first_use_and_keras_files_load_after_import(tmp_path):
    """The user's own `import keras` after keras_ae holds back the backend's lines and registers the classes."""
    path = str(tmp_path / "m.keras")
    proc = _run("import keras_ae, numpy as np\n"
                "model = keras_ae.UndercompleteAutoencoder(input_shape=(8,), hidden_units=(4,), latent_dim=2)\n"
                "model(np.zeros((1, 8), 'float32'))\n"
                f"model.save({path!r})\n")
    assert proc.stderr == "", proc.stderr
    proc = _run("import keras_ae\nimport keras\n"
                f"m = keras.models.load_model({path!r})\n"
                "print('LOADED', type(m).__name__)\n")
    assert "LOADED UndercompleteAutoencoder" in proc.stdout
    assert proc.stderr == "", proc.stderr  # TensorFlow's C++ start-up lines are held back
    assert _run("import keras_ae\nprint(getattr(keras_ae, 'nothing_here', 'MISSING'))").stdout.strip() == "MISSING"


def test_backend_facts_read_from_source_equal_the_classes():
    from keras_ae.cli import backend
    from keras_ae.models.registry import VARIANTS

    assert backend.variants() == sorted(VARIANTS)
    for name, cls in VARIANTS.items():
        for fact in backend.FACTS:
            assert backend.variant_fact(name, fact) == getattr(cls, fact), (name, fact)
    assert backend.variant_fact("no_such_variant", "image_input") is None
