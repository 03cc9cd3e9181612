"""The backend's start-up noise is held back; every other line written to stderr meanwhile comes through."""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_ae import _quiet

NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795991806.862627   19625 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1795991806.863131   19625 cudart_stub.cc:31] Could not find cuda drivers on your machine.",
    "E0000 00:00:1795991812.372320   19625 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
]
KEPT = [
    "E0000 00:00:1795991812.372320   19625 some_op.cc:12] a real error from C++",
    "W0000 00:00:1795991812.372320   19625 allocator.cc:12] Allocation of 1000 exceeds 10% of free memory",
    "UserWarning: something the user should see",
]


def test_held_stderr_writes_back_all_but_the_noise(capfd, monkeypatch):
    monkeypatch.delenv(_quiet.ENV, raising=False)
    with _quiet.held_stderr():
        for line in NOISE[:2] + KEPT[:1] + NOISE[2:] + KEPT[1:]:
            os.write(2, (line + "\n").encode())
    assert capfd.readouterr().err.splitlines() == KEPT


def test_held_stderr_writes_back_on_error(capfd, monkeypatch):
    monkeypatch.delenv(_quiet.ENV, raising=False)
    try:
        with _quiet.held_stderr():
            os.write(2, b"a line before the error\n")
            raise KeyError("boom")
    except KeyError:
        pass
    assert capfd.readouterr().err == "a line before the error\n"


def test_everything_with_the_environment_variable(capfd, monkeypatch):
    monkeypatch.setenv(_quiet.ENV, "1")
    with _quiet.held_stderr():
        os.write(2, (NOISE[1] + "\n").encode())
    assert capfd.readouterr().err == NOISE[1] + "\n"


@pytest.mark.slow  # trains the tabular recipe for an epoch in a fresh process: 15 to 60 s
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_train_on_a_csv_is_as_quiet_on_jax_and_torch_as_on_tensorflow(backend, tmp_path):
    """Issue 37's repro: under --backend auto (JAX for a CSV) TensorFlow, imported later on demand, printed its
    absl preamble and cudart line; its first import is held back on every backend now."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    rng = np.random.default_rng(0)
    np.savetxt(tmp_path / "t.csv", rng.normal(size=(40, 4)), delimiter=",", fmt="%.5f")
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", _quiet.ENV, "KERAS_BACKEND")}
    proc = subprocess.run([sys.executable, "-m", "keras_ae.cli", "train", "--data", "t.csv", "--backend", backend,
                           "--epochs", "1", "--out", "t.keras"], capture_output=True, text=True, env=env,
                          cwd=str(tmp_path), timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert f"({backend} backend)" in proc.stdout  # trained on the backend asked for
    noise = [line for line in proc.stderr.splitlines() if _quiet.NOISE.match(line) or "absl" in line
             or "cudart" in line or "cuda drivers" in line]
    assert noise == [], proc.stderr
