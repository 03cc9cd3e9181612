"""Reliability: atomic zoo updates and saves, signed manifests, NaN guards, clear errors, seeds."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_ae import zoo
from keras_ae._io import atomic_write, check_history_finite, clean_stale_temporaries
from keras_ae.cli import main as cli_main
from model_check import small_model


@pytest.fixture
def tmp_zoo(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path))
    model = small_model("undercomplete")
    zoo.save_entry("undercomplete.tiny", model, {"description": "test"}, directory=str(tmp_path))
    return tmp_path, model


def poison(model):
    weights = model.get_weights()
    weights[-1] = np.full_like(weights[-1], np.nan)   # the output bias: every output is NaN
    model.set_weights(weights)
    return model


# ---- zoo updates are one atomic step ----------------------------------------------------

def test_failed_update_keeps_the_old_entry_loadable(tmp_zoo, x_small):
    path, model = tmp_zoo
    before = sorted(os.listdir(path))
    other = small_model("undercomplete")
    with pytest.raises(TypeError, match="not JSON serializable"):
        zoo.save_entry("undercomplete.tiny", other, {"x": np.float32(1)}, directory=str(path))
    assert sorted(os.listdir(path)) == before
    np.testing.assert_array_equal(zoo.load("undercomplete.tiny").predict(x_small, verbose=0),
                                  model.predict(x_small, verbose=0))


def test_update_replaces_the_weights_and_removes_the_old_file(tmp_zoo, x_small):
    path, _ = tmp_zoo
    old = zoo.info("undercomplete.tiny")["weights"]["file"]
    keras.utils.set_random_seed(5)
    other = small_model("undercomplete")
    zoo.save_entry("undercomplete.tiny", other, {"description": "v2"}, directory=str(path))
    new = zoo.info("undercomplete.tiny")["weights"]["file"]
    assert new != old and not (path / old).exists() and (path / new).exists()
    assert sorted(os.listdir(path)) == sorted(["undercomplete.tiny.json", new])
    np.testing.assert_array_equal(zoo.load("undercomplete.tiny").predict(x_small, verbose=0),
                                  other.predict(x_small, verbose=0))


def test_nan_weights_are_never_written_or_loaded(tmp_zoo, tmp_path):
    path, model = tmp_zoo
    with pytest.raises(ValueError, match="NaN or infinite value.*diverged"):
        zoo.save_entry("undercomplete.nan", poison(small_model("undercomplete")), {}, directory=str(path))
    assert not any(n.startswith("undercomplete.nan") for n in os.listdir(path))
    # A NaN weights file that passes its hash (signed as it is) is still refused on load.
    bad = poison(small_model("undercomplete"))
    w = path / zoo.info("undercomplete.tiny")["weights"]["file"]
    os.chmod(w, 0o644)
    bad.save_weights(str(w))
    m = path / "undercomplete.tiny.json"
    entry = json.loads(m.read_text())
    entry["weights"].update(sha256=zoo.sha256_of(str(w)), size=os.path.getsize(w))
    m.write_text(json.dumps(entry))
    zoo.sign_manifest("undercomplete.tiny", directory=str(path))
    with pytest.raises(zoo.ZooError, match="NaN or infinite"):
        zoo.load("undercomplete.tiny")


# ---- what defines the model is signed; weights stay inside the zoo --------------------------

@pytest.mark.parametrize("key, value", [("output_activation", "linear"), ("activation", "tanh"),
                                        ("latent_activation", "relu"), ("reconstruction_loss", "bce")])
def test_an_edited_config_is_refused(tmp_zoo, key, value):
    path, _ = tmp_zoo
    m = path / "undercomplete.tiny.json"
    entry = json.loads(m.read_text())
    entry["config"]["config"][key] = value
    m.write_text(json.dumps(entry))
    with pytest.raises(zoo.ZooError, match="fails its signature check"):
        zoo.load("undercomplete.tiny")


def test_an_edited_class_is_refused(tmp_zoo):
    path, _ = tmp_zoo
    m = path / "undercomplete.tiny.json"
    entry = json.loads(m.read_text())
    entry["config"]["class_name"] = "StackedAutoencoder"
    m.write_text(json.dumps(entry))
    with pytest.raises(zoo.ZooError, match="fails its signature check"):
        zoo.load("undercomplete.tiny")


@pytest.mark.parametrize("bad", ["../outside/x.weights.h5", "/etc/passwd", "sub/x.weights.h5", "..", ""])
def test_weights_outside_the_zoo_folder_are_refused(tmp_zoo, bad):
    path, _ = tmp_zoo
    m = path / "undercomplete.tiny.json"
    entry = json.loads(m.read_text())
    entry["weights"]["file"] = bad
    m.write_text(json.dumps(entry))
    with pytest.raises(zoo.ZooError, match="must be a file name inside the zoo folder"):
        zoo.load("undercomplete.tiny")


# ---- malformed manifests are ZooErrors that name the file ------------------------------------

def _corrupt(path, how):
    m = path / "undercomplete.tiny.json"
    if how == "nested":
        m.write_text("[" * 100_000 + "]" * 100_000)
    elif how == "not_utf8":
        m.write_bytes(b"\xff\xfe\x00{")
    else:
        entry = json.loads(m.read_text())
        if how == "weights_string":
            entry["weights"] = "x.weights.h5"
        elif how == "size_string":
            entry["weights"]["size"] = str(entry["weights"]["size"])
        elif how == "not_object":
            entry = [entry]
        m.write_text(json.dumps(entry))


@pytest.mark.parametrize("how, message", [
    ("nested", "nested too deeply"), ("not_utf8", "is not UTF-8"),
    ("weights_string", "`weights` must be an object"), ("size_string", "weights.size must be a whole number"),
    ("not_object", "must hold a JSON object"),
])
def test_malformed_manifests_raise_zoo_errors(tmp_zoo, how, message):
    path, _ = tmp_zoo
    _corrupt(path, how)
    with pytest.raises(zoo.ZooError, match=f"undercomplete.tiny.json.*{message}"):
        zoo.load("undercomplete.tiny")


def test_list_shows_the_good_entries_and_flags_the_bad_one(tmp_zoo, capsys):
    path, model = tmp_zoo
    zoo.save_entry("undercomplete.good", model, {"description": "ok"}, directory=str(path))
    _corrupt(path, "not_utf8")
    assert cli_main(["list"]) == 1
    out, err = capsys.readouterr()
    assert "undercomplete.good" in out and "params" in out
    assert "undercomplete.tiny" in out and "BROKEN" in out and "1 zoo entry is broken" in err


def test_list_of_a_missing_zoo_folder_is_an_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path / "nonexistent"))
    assert cli_main(["list"]) == 1
    assert "does not exist" in capsys.readouterr().err


# ---- atomic files, checked paths, no stray temporaries ---------------------------------------

def test_keras_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, x_small, monkeypatch):
    model = small_model("undercomplete")
    target = tmp_path / "m.keras"
    model.save(str(target))
    good = target.read_bytes()

    def crash(self, filepath, *a, **k):
        with open(filepath, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        model.save(str(target))
    monkeypatch.undo()
    assert target.read_bytes() == good
    assert os.listdir(tmp_path) == ["m.keras"]
    keras.models.load_model(str(target))


@pytest.mark.parametrize("bad, message", [("m.h5", "must end in .keras"), ("m", "must end in .keras"),
                                          ("", "path is empty")])
def test_save_refuses_paths_keras_cannot_read_back(tmp_path, bad, message):
    model = small_model("undercomplete")
    with pytest.raises(ValueError, match=message):
        model.save(str(tmp_path / bad) if bad else bad)
    assert os.listdir(tmp_path) == []


def test_save_refuses_nan_weights(tmp_path):
    with pytest.raises(ValueError, match="NaN or infinite"):
        poison(small_model("undercomplete")).save(str(tmp_path / "m.keras"))
    assert os.listdir(tmp_path) == []


def test_stale_temporaries_of_dead_processes_are_cleaned(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".tmp-{dead}-abc.keras"
    stale.write_bytes(b"x" * 10)
    mine = tmp_path / f".tmp-{os.getpid()}-abc.keras"
    mine.write_bytes(b"x")
    atomic_write(str(tmp_path / "out.txt"), lambda tmp: open(tmp, "w").write("ok"))
    assert not stale.exists() and mine.exists()
    assert clean_stale_temporaries(str(tmp_path)) == []


@pytest.mark.parametrize("out, message", [("samples", "must end in .png"), ("", "path is empty"),
                                          (".", "is a folder")])
def test_cli_figure_paths_are_checked_before_any_work(tmp_path, monkeypatch, capsys, out, message):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["sample", "vae.mnist_z2", "--out", out]) == 1
    assert message in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("out, message", [("noext_model", "must end in .keras"), ("m.h5", "must end in .keras"),
                                          (".", "is a folder"), ("/proc/nope/x.keras", "Cannot create")])
def test_cli_train_checks_out_before_training(tmp_path, monkeypatch, capsys, out, message):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["train", "vae", "--epochs", "1", "--out", out]) == 1
    err = capsys.readouterr().err
    assert message in err and "Training" not in err
    assert os.listdir(tmp_path) == []


def test_asking_for_more_images_than_exist_is_an_error_not_a_hang():
    from keras_ae.cli.common import CLIError
    from keras_ae.cli.figures import _spread

    labels = np.repeat(np.arange(10), 3)
    assert sorted(_spread(labels, 30)) == list(range(30))
    with pytest.raises(CLIError, match="-n 31 asks for more images than the 30 test images"):
        _spread(labels, 31)


# ---- NaN guards -----------------------------------------------------------------------------

def test_a_diverged_history_is_refused():
    class H:
        history = {"loss": [1.0, float("nan")]}

    with pytest.raises(ValueError, match="diverged: the loss was nan in epoch 2"):
        check_history_finite(H())


def test_nan_training_stops_and_is_reported(x_small):
    vae = small_model("vae")
    vae.compile(optimizer=keras.optimizers.SGD(1e6))
    h = vae.fit(x_small, epochs=5, batch_size=16, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    with pytest.raises(ValueError, match="diverged"):
        check_history_finite(h)


def test_detector_refuses_a_nan_threshold(x_small):
    from keras_ae.anomaly import AnomalyDetector

    with pytest.raises(ValueError, match="NaN or infinite score"):
        AnomalyDetector(poison(small_model("undercomplete"))).fit(x_small)


# ---- seeds and streaming ----------------------------------------------------------------------

def test_elbo_and_log_likelihood_take_a_seed(x_small):
    vae = small_model("vae")
    x = x_small[:16]
    np.testing.assert_array_equal(vae.elbo(x, num_samples=3, seed=1), vae.elbo(x, num_samples=3, seed=1))
    assert not np.array_equal(vae.elbo(x, num_samples=3, seed=1), vae.elbo(x, num_samples=3, seed=2))
    np.testing.assert_array_equal(vae.log_likelihood(x, num_samples=10, seed=4),
                                  vae.log_likelihood(x, num_samples=10, seed=4))


@pytest.mark.parametrize("call, message", [
    (lambda m, x: m.encode(x, batch_size=0), "batch_size=0"),
    (lambda m, x: m.reconstruct(x, batch_size=2.5), "batch_size=2.5"),
    (lambda m, x: m.elbo(x, batch_size=-1), "batch_size=-1"),
    (lambda m, x: m.log_likelihood(x, batch_size="8"), "batch_size='8'"),
    (lambda m, x: m.log_likelihood(x, chunk=-1), "chunk=-1"),
    (lambda m, x: m.sample(4, seed=-1), "seed=-1"),
    (lambda m, x: m.elbo(x, seed="abc"), "seed='abc'"),
])
def test_bad_sizes_and_seeds_name_the_argument(x_small, call, message):
    vae = small_model("vae")
    with pytest.raises(ValueError, match=message):
        call(vae, x_small[:4])


def test_bad_constructor_arguments_name_the_argument():
    import keras_ae

    for factory, message in [(lambda: keras_ae.VAE(seed="abc"), "seed='abc'"),
                             (lambda: keras_ae.VAE(seed=1.5), "seed=1.5"),
                             (lambda: keras_ae.VAE(activation="nope"), "activation='nope'"),
                             (lambda: keras_ae.ConvVAE(activation="nope"), "activation='nope'"),
                             (lambda: keras_ae.ConvolutionalAutoencoder(activation="nope"), "activation='nope'")]:
        with pytest.raises(ValueError, match=message):
            factory()
    assert keras_ae.VAE(latent_dim=np.int64(4)).latent_dim == 4


def test_reconstruction_error_streams_in_chunks(x_small):
    model = small_model("undercomplete")
    whole = model.reconstruction_error(x_small, batch_size=64)
    chunked = model.reconstruction_error(x_small, batch_size=1)   # chunks of 16 images
    np.testing.assert_allclose(chunked, whole, rtol=1e-5)


# ---- checkpoints and resume ---------------------------------------------------------------------

def test_a_corrupt_checkpoint_is_set_aside_not_a_crash(tmp_path, x_small):
    from keras_ae.callbacks import CheckpointWarning, SafeBackupAndRestore

    backup = tmp_path / "run"
    backup.mkdir()
    (backup / "latest.weights.h5").write_bytes(b"\x89HDF\r\n half a file")
    (backup / "training_metadata.json").write_text('{"epoch": 3, "batch": 0}')
    model = small_model("undercomplete")
    model.compile(optimizer="adam")
    with pytest.warns(CheckpointWarning, match="could not be read.*set aside.*Training starts from epoch 1"):
        h = model.fit(x_small, epochs=2, batch_size=32, verbose=0,
                      callbacks=[SafeBackupAndRestore(str(backup), delete_checkpoint=False)])
    assert len(h.history["loss"]) == 2
    names = sorted(os.listdir(backup))
    assert any(n.startswith("latest.weights.h5.corrupt-") for n in names)
    meta = json.loads((backup / "training_metadata.json").read_text())
    assert meta["epoch"] == 2 and meta["weights"] in names and "latest.weights.h5" not in names
    assert not any(n.startswith(".tmp-") for n in names)


def test_training_resumes_after_the_last_checkpointed_epoch(tmp_path, x_small):
    from keras_ae.callbacks import SafeBackupAndRestore

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt  # as if killed after epoch 2 was saved

    backup = str(tmp_path / "run")
    model = small_model("undercomplete")
    model.compile(optimizer="adam")
    with pytest.raises(KeyboardInterrupt):
        model.fit(x_small, epochs=4, batch_size=32, verbose=0,
                  callbacks=[SafeBackupAndRestore(backup, delete_checkpoint=False), Stop()])
    again = small_model("undercomplete")
    again.compile(optimizer="adam")
    h = again.fit(x_small, epochs=4, batch_size=32, verbose=0, callbacks=[SafeBackupAndRestore(backup)])
    assert len(h.history["loss"]) == 2  # epochs 3 and 4 only
    assert not os.path.exists(backup)


def test_a_second_fit_with_a_fresh_checkpoint_folder_starts_at_epoch_1(tmp_path, x_small):
    # Keras keeps the resumed epoch on the model; a later stage (e.g. zoo_train's fine-tuning) must
    # not inherit it and skip its epochs.
    from keras_ae.callbacks import SafeBackupAndRestore

    model = small_model("undercomplete")
    model.compile(optimizer="adam")
    model.fit(x_small, epochs=3, verbose=0, callbacks=[SafeBackupAndRestore(str(tmp_path / "a"), False)])
    model.fit(x_small, epochs=3, verbose=0, callbacks=[SafeBackupAndRestore(str(tmp_path / "a"), False)])
    h = model.fit(x_small, epochs=2, verbose=0, callbacks=[SafeBackupAndRestore(str(tmp_path / "b"), False)])
    assert len(h.history["loss"]) == 2


def test_checkpoints_touch_only_their_own_files(tmp_path, x_small):
    from keras_ae.callbacks import SafeBackupAndRestore

    backup = tmp_path / "run"
    backup.mkdir()
    (backup / "mine.weights.h5").write_bytes(b"a user's file")
    model = small_model("undercomplete")
    model.compile(optimizer="adam")
    model.fit(x_small, epochs=2, verbose=0, callbacks=[SafeBackupAndRestore(str(backup), delete_checkpoint=False)])
    names = sorted(os.listdir(backup))
    assert names == ["epoch-2-batch-0.weights.h5", "mine.weights.h5", "training_metadata.json"], names


def test_a_checkpoint_of_another_model_is_set_aside_before_any_weight_is_loaded(tmp_path, x_small):
    from keras_ae.callbacks import CheckpointWarning, SafeBackupAndRestore

    backup = str(tmp_path / "run")
    vae = small_model("vae")  # has random generators; the undercomplete model has none
    vae.compile(optimizer="adam")
    vae.fit(x_small, epochs=1, verbose=0, callbacks=[SafeBackupAndRestore(backup, delete_checkpoint=False)])
    other = small_model("undercomplete")
    other.compile(optimizer="adam")
    other.optimizer.build(other.trainable_variables)
    before = [np.array(v) for v in other.get_weights()]
    cb = SafeBackupAndRestore(backup, delete_checkpoint=False)
    cb.set_model(other)
    with pytest.warns(CheckpointWarning):
        cb.on_train_begin()
    assert all(np.array_equal(a, b) for a, b in zip(before, other.get_weights()))


def test_stacked_pretrain_takes_callbacks(x_small):
    model = small_model("stacked")
    seen = []
    cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))
    model.pretrain(x_small, epochs=2, batch_size=32, verbose=0, callbacks=lambda level: [cb])
    assert len(seen) == 2 * len(model.layer_pairs())


def test_cli_train_checkpoints_next_to_out_and_resumes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["train", "undercomplete", "--epochs", "1", "--latent-dim", "4", "--out", "m.keras"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]  # the checkpoint is gone once the model is saved
    first = keras.models.load_model("m.keras")
    # A checkpoint left by a killed run (after its only epoch): the rerun resumes from it.
    os.makedirs("m.keras.checkpoint")
    first.save_weights("m.keras.checkpoint/latest.weights.h5")
    with open("m.keras.checkpoint/training_metadata.json", "w") as f:
        json.dump({"epoch": 1, "batch": 0}, f)
    os.remove("m.keras")
    capsys.readouterr()
    assert cli_main(["train", "undercomplete", "--epochs", "1", "--latent-dim", "4", "--out", "m.keras"]) == 0
    assert "Resuming from the checkpoint in m.keras.checkpoint" in capsys.readouterr().out
    resumed = keras.models.load_model("m.keras")
    for a, b in zip(first.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---- bad arguments name themselves --------------------------------------------------------------

def test_bad_arguments_of_the_helpers_name_themselves(x_small):
    import keras_ae
    from keras_ae import latent, plotting

    ae = small_model("undercomplete")
    cases = [
        (lambda: keras_ae.get_model(["vae"]), TypeError, "variant"),
        (lambda: zoo.list_models(None), TypeError, "pattern"),
        (lambda: plotting.image_grid(x_small[:4], ncols=0), ValueError, "ncols=0"),
        (lambda: plotting.image_grid(x_small[:0]), ValueError, "`images` is empty"),
        (lambda: plotting.reconstruction_grid(x_small[:8], x_small[:3]), ValueError, "same number of images"),
        (lambda: latent.traversal_grid(ae, base=np.zeros(3)), ValueError, "`base` must be one code of 8"),
        (lambda: latent.precision_at_k(np.full((5, 2), 3), [1], [1, 2, 3, 4, 5]), ValueError,
         "`database_labels` has 1 labels"),
        (lambda: latent.interpolate(ae, x_small[:5], x_small[5:10]), ValueError, "`a` must be one input"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


def test_load_mnist_of_a_file_that_is_not_npz_says_so(tmp_path):
    from keras_ae.datasets import load_mnist

    text = tmp_path / "passwd"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n")
    with pytest.raises(ValueError, match="Could not read MNIST from .*passwd: it is not an .npz file"):
        load_mnist(path=str(text))


@pytest.mark.parametrize("argv, message", [
    (["train", "vae", "--latent-dim", "1000000000"], "--latent-dim: expected an integer from 1 to 4096"),
    (["sample", "vae.mnist_z2", "-n", "200000"], "-n: expected an integer from 1 to 1024"),
    (["sample", "vae.mnist_z2", "--seed", "-1"], "--seed: expected an integer from 0"),
    (["sample", "vae.mnist_z2", "--seed", "abc"], "--seed: expected an integer, got 'abc'"),
])
def test_cli_refuses_arguments_too_large_to_run_up_front(argv, message, capsys):
    assert cli_main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux's peak-RSS reset")
def test_scoring_200k_images_keeps_memory_bounded():
    """Scoring adds memory bounded by the batch, not by the number of images (issue: 7.5 GB at 200k).

    The peak RSS (VmHWM) is reset just before scoring, so an earlier peak (imports, start-up)
    cannot hide the scoring's own.
    """
    code = """
import json, numpy as np, keras_ae
def status(key):
    with open("/proc/self/status") as f:
        return [int(line.split()[1]) / 1024 for line in f if line.startswith(key)][0]
m = keras_ae.UndercompleteAutoencoder()
m.reconstruction_error(np.zeros((10, 784), "float32")), m.encode(np.zeros((10, 784), "float32"))
x = np.random.default_rng(0).random((200_000, 784), dtype=np.float32)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS:")
err, codes = m.reconstruction_error(x), m.encode(x)
print("RESULT" + json.dumps({"before": before, "peak": status("VmHWM:"), "n": len(err),
                             "images": x.nbytes / 2**20}))
"""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": root, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][0][6:])
    print(r)
    assert r["n"] == 200_000
    # The 200k float32 images are 598 MiB themselves; scoring them may add at most 100 MiB.
    assert r["peak"] - r["before"] < 100, r
