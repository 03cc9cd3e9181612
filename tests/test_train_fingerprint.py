"""`keras-ae train` resumes only the run its checkpoint belongs to (issue 36, item 2).

A checkpoint records the command's training settings and a sha256 of the data. A rerun with the same
`--out` but other data or settings is refused, naming what differs (`setting: old -> new`), unless
`--restart` is given; `--restart` removes only the checkpoint's own files.
"""

import json
import os

import numpy as np
import pytest

from keras_ae.cli import main as cli_main

TRAIN = ["train", "undercomplete", "--epochs", "2", "--latent-dim", "2", "--batch-size", "16", "--out", "m.keras"]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.save("a.npy", rng.random((40, 12), dtype="float32"))
    np.save("b.npy", rng.random((40, 12), dtype="float32"))
    return tmp_path


def _killed_run(monkeypatch, capsys, args):
    """Run `args` to the end of training, then stop it (Ctrl-C) before the model is saved: the checkpoint stays."""
    from keras_ae.cli import train

    def interrupted(model, x):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(train, "fit_detector", interrupted)
        assert cli_main(args) == 130
    capsys.readouterr()
    assert os.path.exists("m.keras.checkpoint/training_metadata.json") and not os.path.exists("m.keras")


def _run(args, capsys):
    code = cli_main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_checkpoint_records_the_settings_and_a_sha256_of_the_data(workdir, monkeypatch, capsys):
    _killed_run(monkeypatch, capsys, TRAIN + ["--data", "a.npy"])
    with open("m.keras.checkpoint/training_metadata.json", encoding="utf-8") as f:
        recorded = json.load(f)["fingerprint"]
    assert recorded["data"] == "a.npy" and recorded["seed"] == 0 and recorded["epochs"] == 2
    assert recorded["variant"] == "undercomplete" and recorded["batch_size"] == 16 and recorded["latent_dim"] == 2
    assert len(recorded["data_sha256"]) == 64


@pytest.mark.parametrize("change, what", [
    (["--data", "b.npy"], "data: a.npy -> b.npy"),
    (["--data", "a.npy", "--seed", "1"], "seed: 0 -> 1"),
    (["--data", "a.npy", "--validation-split", "0.2"], "validation_split: 0.1 -> 0.2"),
], ids=["other data", "other seed", "other split"])
def test_a_rerun_with_other_data_or_settings_is_refused(workdir, monkeypatch, capsys, change, what):
    _killed_run(monkeypatch, capsys, TRAIN + ["--data", "a.npy"])
    before = sorted(os.listdir("m.keras.checkpoint"))
    code, out, err = _run(TRAIN + change, capsys)
    assert code == 1 and "Resuming" not in out, out
    assert what in err and "--restart" in err, err
    assert sorted(os.listdir("m.keras.checkpoint")) == before and not os.path.exists("m.keras")


def test_the_same_file_with_other_contents_is_other_data(workdir, monkeypatch, capsys):
    _killed_run(monkeypatch, capsys, TRAIN + ["--data", "a.npy"])
    os.replace("b.npy", "a.npy")
    code, out, err = _run(TRAIN + ["--data", "a.npy"], capsys)
    assert code == 1 and "data_sha256: " in err and "Resuming" not in out, err


def test_the_same_command_resumes(workdir, monkeypatch, capsys):
    _killed_run(monkeypatch, capsys, TRAIN + ["--data", "a.npy"])
    code, out, err = _run(TRAIN + ["--data", "a.npy"], capsys)
    assert code == 0, err
    assert "Resuming from the checkpoint in m.keras.checkpoint" in out
    assert sorted(os.listdir(workdir)) == ["a.npy", "b.npy", "m.keras"]


def test_the_same_data_under_another_name_resumes(workdir, monkeypatch, capsys):
    _killed_run(monkeypatch, capsys, TRAIN + ["--data", "a.npy"])
    os.replace("a.npy", "renamed.npy")
    code, out, err = _run(TRAIN + ["--data", "./renamed.npy"], capsys)
    assert code == 0, err
    assert "Resuming from the checkpoint" in out


@pytest.mark.slow  # moved to the slow lane (.ci/run runs it) to keep the default run under 10 minutes
def test_restart_starts_afresh_and_removes_only_the_checkpoints_files(workdir, monkeypatch, capsys):
    _killed_run(monkeypatch, capsys, TRAIN + ["--data", "a.npy"])
    with open("m.keras.checkpoint/notes.txt", "w") as f:
        f.write("mine")
    code, out, err = _run(TRAIN + ["--data", "b.npy", "--restart"], capsys)
    assert code == 0, err
    assert "Resuming" not in out and "Starting afresh" in out
    # Only the checkpoint's own files are removed; a file of the user's in the folder stays, and so does the folder.
    assert os.listdir("m.keras.checkpoint") == ["notes.txt"] and os.path.exists("m.keras")


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_restart_without_a_checkpoint_just_trains(workdir, capsys):
    code, out, err = _run(TRAIN + ["--data", "a.npy", "--restart"], capsys)
    assert code == 0, err
    assert "Starting afresh" not in out
    assert sorted(os.listdir(workdir)) == ["a.npy", "b.npy", "m.keras"]


def test_the_callback_refuses_a_checkpoint_of_another_run(tmp_path, x_small):
    from keras_ae.callbacks import CheckpointMismatchError, SafeBackupAndRestore
    from model_check import small_model

    folder = str(tmp_path / "run")
    model = small_model("undercomplete")
    model.compile(optimizer="adam")
    model.fit(x_small, epochs=1, verbose=0,
              callbacks=[SafeBackupAndRestore(folder, delete_checkpoint=False, fingerprint={"data_sha256": "aa", "seed": 0})])
    again = small_model("undercomplete")
    again.compile(optimizer="adam")
    with pytest.raises(CheckpointMismatchError, match="seed: 0 -> 1"):
        again.fit(x_small, epochs=2, verbose=0,
                  callbacks=[SafeBackupAndRestore(folder, delete_checkpoint=False, fingerprint={"data_sha256": "aa", "seed": 1})])
    assert os.path.exists(os.path.join(folder, "training_metadata.json"))  # refused, not set aside as corrupt


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_a_run_in_progress_keeps_its_checkpoint_from_a_restart(workdir, monkeypatch, capsys):
    # While one `keras-ae train --out m.keras` runs (here: another process holds its lock), a second one
    # with --restart is refused before it removes anything, and names the folder and the holder.
    import subprocess
    import sys

    _killed_run(monkeypatch, capsys, TRAIN + ["--data", "a.npy"])
    before = sorted(os.listdir("m.keras.checkpoint"))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom keras_ae._io import file_lock\n"
         "with file_lock('m.keras.checkpoint'):\n    print('held', flush=True)\n    sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=str(workdir))
    try:
        assert holder.stdout.readline().strip() == "held"
        code, out, err = _run(TRAIN + ["--data", "a.npy", "--restart"], capsys)
    finally:
        holder.communicate("", timeout=60)
    assert code != 0 and "m.keras.checkpoint" in err and f"process {holder.pid}" in err, err
    assert sorted(os.listdir("m.keras.checkpoint")) == before and not os.path.exists("m.keras")
    code, out, err = _run(TRAIN + ["--data", "a.npy", "--restart"], capsys)  # the lock released: it runs
    assert code == 0 and os.path.exists("m.keras"), err
