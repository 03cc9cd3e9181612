"""The backend's start-up noise is held back; every other line written to stderr meanwhile comes through."""

import os

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
