"""Kill tests: `kill -9` a process while it writes, at random moments, 10 times per writer.

After each kill every target must be the old file or the new one, and load; the next write
into the folder removes the killed process's temporary files. Marked slow: `.ci/run` runs them.
"""

import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRIALS = 6

# The child writes the target over and over, alternating two versions (weights of A, then of B),
# and says READY once the first complete write is on disk. A zoo entry's A comes with a sampler and
# its B without, so the sampler file is written, replaced and removed too.
CHILD = textwrap.dedent("""
    import os, sys, itertools
    import numpy as np, keras
    from keras_ae.testing import small_model
    mode, folder = sys.argv[1], sys.argv[2]
    a = small_model("undercomplete")
    b = small_model("undercomplete")
    b.set_weights([w + 1.0 for w in a.get_weights()])
    x = np.random.default_rng(0).random((64, 784)).astype("float32")
    def write(model):
        if mode == "save":
            model.save(os.path.join(folder, "m.keras"))
        elif mode == "save_entry":
            from keras_ae import zoo
            from keras_ae.samplers import GaussianSampler
            sampler = GaussianSampler().fit(a, x) if model is a else None
            zoo.save_entry("e", model, {"description": "kill test"}, directory=folder, sampler=sampler)
        elif mode == "figure":
            from keras_ae.plotting import image_grid, save_figure
            save_figure(image_grid(model.reconstruct(x[:16]), ncols=4), os.path.join(folder, "f.png"))
    if mode == "checkpoint":
        from keras_ae.callbacks import SafeBackupAndRestore
        a.compile(optimizer="adam")
        cb = SafeBackupAndRestore(os.path.join(folder, "run"), save_freq=1, delete_checkpoint=False)
        class Ready(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if batch == 1:
                    print("READY", flush=True)
        a.fit(x, epochs=100000, batch_size=8, verbose=0, callbacks=[cb, Ready()])
    else:
        for i in itertools.count():
            write(a if i % 2 == 0 else b)
            if i == 0:
                print("READY", flush=True)
""")


def run_and_kill(mode, folder, rng):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    # The writers are backend-neutral; JAX starts in half TensorFlow's time, and 40 children start here.
    if importlib.util.find_spec("jax") is not None:
        env["KERAS_BACKEND"] = "jax"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(folder)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "READY", proc.stderr.read()[-3000:]
        time.sleep(rng.uniform(0.0, 1.0))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def temporaries(folder):
    return [os.path.join(d, n) for d, _, names in os.walk(folder) for n in names if n.startswith(".tmp-")]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["save", "save_entry", "checkpoint", "figure"])
def test_kill_9_during_writes_leaves_old_or_new_and_no_temporaries(mode, tmp_path):
    import keras

    from keras_ae import zoo
    from keras_ae._io import clean_stale_temporaries
    from keras_ae.callbacks import SafeBackupAndRestore
    from keras_ae.testing import small_model

    rng = random.Random(hash(mode) % 1000)
    corrupt, left = 0, 0
    for trial in range(TRIALS):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        run_and_kill(mode, folder, rng)
        try:
            if mode == "save":
                keras.models.load_model(str(folder / "m.keras"))
            elif mode == "save_entry":
                os.environ[zoo.ENV_ZOO] = str(folder)
                try:
                    zoo.load("e")
                    if "sampler" in zoo.info("e"):  # A's manifest: its sampler, checked and read
                        zoo.load_sampler("e")
                finally:
                    del os.environ[zoo.ENV_ZOO]
                for suffix in (".weights.h5", zoo.SAMPLER_SUFFIX):
                    files = [n for n in os.listdir(folder) if n.endswith(suffix) and not n.startswith(".tmp-")]
                    assert len(files) <= 2, files  # the entry's file, and at most one not yet removed
            elif mode == "checkpoint":
                model = small_model("undercomplete")
                model.compile(optimizer="adam")
                cb = SafeBackupAndRestore(str(folder / "run"), delete_checkpoint=False)
                cb.set_model(model)
                import warnings

                from keras_ae.callbacks import CheckpointWarning
                with warnings.catch_warnings():
                    # A corrupt checkpoint fails; other libraries' deprecation warnings do not.
                    warnings.simplefilter("error", CheckpointWarning)
                    cb.on_train_begin()
                json.loads((folder / "run" / "training_metadata.json").read_text())
            elif mode == "figure":
                data = (folder / "f.png").read_bytes()
                assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.rstrip().endswith(b"IEND\xaeB`\x82")
        except Exception as e:  # count, then fail with every count at the end
            corrupt += 1
            print(f"trial {trial}: {type(e).__name__}: {e}")
        # The next write into the folder removes what the killed process left.
        clean_stale_temporaries(str(folder))
        clean_stale_temporaries(str(folder / "run"))
        left += len(temporaries(folder))
    print(f"{mode}: {TRIALS} kills, {corrupt} corrupt targets, {left} temporary files left")
    assert corrupt == 0 and left == 0, (mode, corrupt, left)
