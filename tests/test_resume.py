"""A run killed mid-training and resumed ends with the weights of an uninterrupted run, bit for bit.

Each phase runs in a fresh process (tests/resume_worker.py), as a user's
rerun would: SafeBackupAndRestore restores the weights, the optimizer and
the random generators' states, and the epoch-keyed data serves the epoch it
would have served. The last variant of the interrupted phase is ended by
SIGKILL. Runs under whichever backend KERAS_BACKEND names (.ci/run runs
this file on all three).
"""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import keras

from keras_ae.models.registry import VARIANTS as REGISTRY
from keras_ae.models.registry import list_variants

pytestmark = pytest.mark.slow  # about 1.5 min a backend: 36 short trainings in 3 processes

WORKER = os.path.join(os.path.dirname(__file__), "resume_worker.py")


def _draws_noise(variant):
    """Whether training draws from the backend's random generators (a VAE's sampling, a denoiser's noise)."""
    cls = REGISTRY[variant]
    return cls.generative or hasattr(cls, "_store_noise") or getattr(cls, "draws_noise", False)


# On TensorFlow, every variant and the staged (pretraining) resume. On JAX and PyTorch, the variants whose
# training draws noise (their generators' states are the backend's own), plus `undercomplete` for the
# weights, optimizer and data order; the rest of the resume path does not depend on the backend.
# The worker trains on unlabelled pipelines, so conditional variants (which need labels) are left out.
_UNLABELLED = [v for v in list_variants() if not getattr(REGISTRY[v], "conditional", False)]
VARIANTS = _UNLABELLED + ["stacked_pretrain"]
if keras.backend.backend() != "tensorflow":
    VARIANTS = [v for v in _UNLABELLED if v == "undercomplete" or _draws_noise(v)]


def _phase(tmp, phase, variants, expect_kill=False):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.environ.get("PYTHONPATH", "")]))
    # A guard against a hang, not a speed test: it grows with the variants one worker runs (on a
    # loaded 2-core machine the TensorFlow "cut" phase of 15 variants once overran 900 s).
    proc = subprocess.run([sys.executable, WORKER, str(tmp), phase, *variants], env=env,
                          capture_output=True, text=True, timeout=max(900, 90 * len(variants)))
    if expect_kill:
        assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    else:
        assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    _phase(tmp, "full", VARIANTS)
    _phase(tmp, "cut", VARIANTS, expect_kill=True)
    cut_at = {v: _checkpoint(tmp, v)["epoch"] for v in VARIANTS}
    _phase(tmp, "resume", VARIANTS)
    return tmp, cut_at


def _checkpoint(tmp, variant):
    stage = "level1" if variant == "stacked_pretrain" else "fit"
    return json.loads((tmp / variant / "cut" / stage / "training_metadata.json").read_text())


@pytest.mark.parametrize("variant", VARIANTS)
def test_resumed_run_is_bit_identical(resumed, variant):
    resumed, _ = resumed
    full = np.load(resumed / f"{variant}.full.npy")
    again = np.load(resumed / f"{variant}.resumed.npy")
    assert full.shape == again.shape
    diff = np.flatnonzero(full != again)
    assert diff.size == 0, f"{diff.size} of {full.size} weights differ (max {np.abs(full - again).max():.3g})"


def test_the_runs_were_cut_after_one_epoch_and_resumed_from_there(resumed):
    # The comparison above means something only if the cut runs stopped part-way and the resumed
    # runs restored the checkpoint instead of training again from the start.
    tmp, cut_at = resumed
    assert cut_at == {v: 1 for v in VARIANTS}
    for variant in VARIANTS:
        ran = json.loads((tmp / f"{variant}.resume.epochs.json").read_text())
        full = json.loads((tmp / f"{variant}.full.epochs.json").read_text())
        if variant == "stacked_pretrain":
            assert full["level1"] == [0, 1, 2] and ran["level0"] == [] and ran["level1"] == [1, 2], ran
            assert ran["fit"] == [0, 1, 2]
        else:
            assert full["fit"] == [0, 1, 2] and ran["fit"] == [1, 2], (variant, ran)
        stage = tmp / variant / "cut" / ("level1" if variant == "stacked_pretrain" else "fit")
        meta = _checkpoint(tmp, variant)
        assert meta["epoch"] == 3 and (stage / meta["weights"]).exists()
        assert not [p for p in os.listdir(stage) if ".corrupt-" in p]
