"""`keras-ae train --data NAME` on tiny fixture data sets, the data set and licence in `list`, `info` and the
zoo's Markdown tables, and `load_mnist(dtype=...)`.

Every fixture is written here, in tmp_path, and found through the loaders' own environment variables or
`$KERAS_HOME`; no test reads the shared development data or the network.
"""

import io
import json

import numpy as np
import pytest

from keras_ae import cli, data, zoo
from keras_ae.cli import train as cli_train
from model_check import small_model

ENVS = ("KERAS_AE_MNIST", "KERAS_AE_FASHION_MNIST", "KERAS_AE_CIFAR10", "KERAS_AE_CELEBA", "KERAS_AE_DOWNLOAD")
CELEBA_LICENCE = "non-commercial research and education only"


def run(args, capsys):
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(tmp_path, monkeypatch):
    """No data set anywhere: an empty Keras cache and none of the loaders' environment variables."""
    for name in ENVS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path


def pixels(shape, seed):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype="uint8")


@pytest.fixture
def fashion(home, monkeypatch):
    """A 120 + 30 image Fashion-MNIST in the keras.datasets npz layout, named by $KERAS_AE_FASHION_MNIST."""
    path = home / "fashion.npz"
    np.savez(path, x_train=pixels((120, 28, 28), 0), y_train=np.arange(120) % 10,
             x_test=pixels((30, 28, 28), 1), y_test=np.arange(30) % 10)
    monkeypatch.setenv("KERAS_AE_FASHION_MNIST", str(path))
    return path


# ---- keras-ae train --data NAME ----------------------------------------------------------------------

@pytest.mark.parametrize("variant, input_shape", [("undercomplete", (784,)), ("convolutional", (28, 28, 1))])
def test_train_on_a_named_data_set(variant, input_shape, fashion, capsys, monkeypatch):
    from keras_ae.anomaly import AnomalyDetector

    monkeypatch.setattr(cli_train, "SCORE_CHUNK", 50)  # the detector's scores in three chunks
    out_file = fashion.parent / "m.keras"
    code, out, err = run(["train", variant, "--data", "Fashion-MNIST", "--epochs", "1", "--latent-dim", "4",
                          "--batch-size", "64", "--backend", "tensorflow", "--out", str(out_file)], capsys)
    assert code == 0, err
    assert f"on Fashion-MNIST (env:{fashion}): 120 train, 30 validation samples" in out
    assert out.count("Data set licence: MIT (Zalando SE)") == 1
    detector = AnomalyDetector.load(str(out_file))
    model = detector.model
    assert model.input_shape == input_shape  # a dense model gets flat images
    # The chunked fit sets the threshold a fit on all the training images as float32 sets.
    (x, _), _ = data.load_fashion_mnist(path=fashion, shape="image" if len(input_shape) == 3 else "flat")
    twin = AnomalyDetector(model).fit(x)
    assert detector.threshold_ == pytest.approx(twin.threshold_, rel=1e-5)
    np.testing.assert_allclose(detector.decision_scores_, twin.decision_scores_, rtol=1e-5)
    _, (x_test, _) = data.load_fashion_mnist(path=fashion)  # the test split validates
    assert f"validation mean {np.mean(detector.decision_function(x_test.reshape((-1,) + input_shape))):.6g}" in out


def test_fit_detector_on_uint8_equals_fit_on_float32(monkeypatch):
    model = small_model("undercomplete")
    x = pixels((45, *model.sample_shape), 2)
    monkeypatch.setattr(cli_train, "SCORE_CHUNK", 16)
    detector = cli_train.fit_detector(model, x)
    from keras_ae.anomaly import AnomalyDetector

    twin = AnomalyDetector(model).fit(x.astype("float32") / 255.0)
    assert detector.scoring_ == twin.scoring_ and len(detector.decision_scores_) == 45
    assert detector.threshold_ == pytest.approx(twin.threshold_, rel=1e-6)
    np.testing.assert_allclose(cli_train.squared_error(model, x),
                               model.reconstruction_error(x.astype("float32") / 255.0, metric="sse"), rtol=1e-6)


def celeba_folder(root, numbers=(1, 2, 3, 27001, 27002)):
    """A CelebA-HQ folder: images/N.jpg (64x64) and the attribute file, every attribute -1."""
    from PIL import Image

    from keras_ae.data import celeba

    (root / "images").mkdir(parents=True)
    for n in numbers:
        buffer = io.BytesIO()
        Image.fromarray(pixels((64, 64, 3), n), mode="RGB").save(buffer, "JPEG")
        (root / "images" / f"{n}.jpg").write_bytes(buffer.getvalue())
    lines = [str(len(numbers)), " ".join(data.CELEBA_ATTRIBUTES)]
    lines += [f"{n}.jpg " + " ".join(["-1"] * len(data.CELEBA_ATTRIBUTES)) for n in numbers]
    (root / celeba.ATTRIBUTE_FILES[0]).write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_training_on_celeba_prints_its_licence_once(home, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_AE_CELEBA", str(celeba_folder(home / "celeba")))
    code, out, err = run(["train", "undercomplete", "--data", "celeba", "--epochs", "1", "--latent-dim", "2",
                          "--backend", "tensorflow", "--out", str(home / "faces.keras")], capsys)
    assert code == 0, err
    assert "3 train, 2 validation samples" in out
    assert out.count(CELEBA_LICENCE) == 1


@pytest.mark.parametrize("given, message", [
    ("fashon_mnist", "--data 'fashon_mnist' is neither a file or folder nor a data set name; did you mean "
                     "'fashion_mnist'? (data sets: mnist, fashion_mnist, cifar10, celeba)"),
    ("no/such/file.npy", "--data 'no/such/file.npy' is neither a file or folder nor a data set name (data sets:"),
])
def test_an_unknown_name_is_one_line_with_a_suggestion(given, message, home, capsys):
    code, out, err = run(["train", "vae", "--data", given, "--backend", "tensorflow",
                          "--out", str(home / "m.keras")], capsys)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith(f"keras-ae: error: {message}"), err
    assert not (home / "m.keras").exists()


def test_an_existing_path_wins_over_a_name(home, capsys, monkeypatch):
    monkeypatch.chdir(home)
    (home / "cifar10").write_bytes(b"1,2\n")  # a file called like a data set: the user's data
    code, out, err = run(["train", "--data", "cifar10", "--backend", "tensorflow", "--out", "m.keras"], capsys)
    assert code == 1 and "'cifar10': expected a .npy, .npz or .csv file" in err


def test_a_named_data_set_not_found_says_where_it_looked(home, capsys):
    code, out, err = run(["train", "resnet", "--data", "fashion_mnist", "--backend", "tensorflow",
                          "--out", str(home / "m.keras")], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "Fashion-MNIST was not found" in err and "KERAS_AE_FASHION_MNIST" in err
    assert "download not requested" in err


def test_train_help_names_every_data_set(capsys):
    code, out, _ = run(["train", "--help"], capsys)
    help_text = " ".join(out.split())
    assert code == 0 and "--data" in help_text
    for name in data.DATASETS:  # the parser imports no keras_ae.data: its help names them itself
        assert name in help_text, name


# ---- load_mnist(dtype=...) ---------------------------------------------------------------------------

def test_load_mnist_uint8(home, monkeypatch):
    path = home / "mnist.npz"
    np.savez(path, x_train=pixels((20, 28, 28), 3), y_train=np.arange(20) % 10,
             x_test=pixels((10, 28, 28), 4), y_test=np.arange(10) % 10)
    (x, y), (xt, _) = data.load_mnist(path=path, dtype="uint8")
    (xf, yf), (xtf, _) = data.load_mnist(path=path)
    assert x.dtype == np.uint8 and x.shape == (20, 784) and xf.dtype == np.float32
    np.testing.assert_array_equal(x.astype("float32") / 255.0, xf)
    np.testing.assert_array_equal(xt.astype("float32") / 255.0, xtf)
    np.testing.assert_array_equal(y, yf)
    monkeypatch.setenv("KERAS_AE_MNIST", str(path))
    (x, _), (xt, _), source = data.load_dataset("mnist", dtype="uint8")
    assert x.dtype == np.uint8 and x.shape == (20, 28, 28, 1) and xt.shape == (10, 28, 28, 1)
    assert source == f"env:{path}"
    with pytest.raises(ValueError, match="dtype"):
        data.load_mnist(path=path, dtype="float16")
    np.savez(path, x_train=np.zeros((2, 28, 28), "float32"), y_train=np.zeros(2), x_test=np.zeros((1, 28, 28)),
             y_test=np.zeros(1))
    with pytest.raises(ValueError, match="needs uint8 pixels"):
        data.load_mnist(path=path, dtype="uint8")


# ---- the data set and licence of each zoo entry ---------------------------------------------------------

IMAGE_METRICS = {"n_test": 10000, "squared_error": 8.25, "psnr_db": 24.5, "pca_squared_error": 20.625,
                 "pca_psnr_db": 20.25}
VAE_METRICS = {**IMAGE_METRICS, "neg_elbo": -2500.5, "bits_per_dim": 1.2345, "decoder_scale": 0.05123,
               "fid_samples": 10000, "fid_prior": 31.4159, "fid_gmm": 27.18}


@pytest.fixture
def data_zoo(tmp_path, monkeypatch):
    """A zoo of four entries: an older MNIST manifest (no licence field), two on Fashion-MNIST, one on CelebA."""
    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    ae, vae = small_model("undercomplete"), small_model("vae")

    def entry(dataset, metrics, licence=None):
        record = {"name": dataset, "train_images": 60000, "test_images": metrics["n_test"]}
        return {"description": "test", "dataset": record, "metrics": {"test": metrics},
                **({"licence": licence} if licence else {})}

    zoo.save_entry("undercomplete.mnist_tiny", ae,
                   entry("MNIST", {"n_test": 10000, "squared_error": 5.0, "pca_squared_error": 10.0}),
                   directory=str(tmp_path))
    fashion = data.DATASETS["fashion_mnist"].licence
    zoo.save_entry("undercomplete.fashion_mnist_tiny", ae, entry("fashion_mnist", IMAGE_METRICS, fashion),
                   directory=str(tmp_path))
    zoo.save_entry("vae.fashion_mnist_tiny", vae, entry("fashion_mnist", VAE_METRICS, fashion),
                   directory=str(tmp_path))
    celeba = dict(IMAGE_METRICS, n_test=3000)
    zoo.save_entry("undercomplete.celeba64_tiny", ae, entry("celeba", celeba, data.DATASETS["celeba"].licence),
                   directory=str(tmp_path))
    return tmp_path


def test_list_shows_each_entrys_data_set_and_licence(data_zoo, capsys):
    code, out, err = run(["list"], capsys)
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert set(lines) == set(zoo.list_models())
    assert " mnist " in lines["undercomplete.mnist_tiny"]
    assert lines["undercomplete.mnist_tiny"].endswith("licence: " + data.DATASETS["mnist"].licence)  # from DATASETS
    assert " fashion_mnist " in lines["vae.fashion_mnist_tiny"] and "licence: MIT (Zalando SE)" in out
    assert " celeba " in lines["undercomplete.celeba64_tiny"] and CELEBA_LICENCE in lines["undercomplete.celeba64_tiny"]


def test_info_shows_the_licence_first(data_zoo, capsys):
    code, out, err = run(["info", "undercomplete.celeba64_tiny"], capsys)
    assert code == 0, err
    entry = json.loads(out)
    assert list(entry)[:2] == ["name", "licence"] and CELEBA_LICENCE in entry["licence"]
    assert "config" not in entry and out.count(CELEBA_LICENCE) == 1
    code, out, err = run(["info", "undercomplete.mnist_tiny", "--config"], capsys)
    entry = json.loads(out)
    assert entry["licence"] == data.DATASETS["mnist"].licence and "config" in entry


def test_markdown_makes_one_table_per_data_set(data_zoo):
    text = zoo.markdown_table()
    blocks = text.split("### ")[1:]
    assert [b.splitlines()[0] for b in blocks] == ["MNIST", "Fashion-MNIST", "CelebA"]  # DATASETS order
    mnist, fashion, celeba = (b.split("\n\n") for b in blocks)
    assert mnist[1] == "Licence: " + data.DATASETS["mnist"].licence
    assert mnist[2].splitlines() == [
        "| name | params | test metric (10k MNIST test set) | baseline | ratio |",
        "|---|---:|---|---|---:|",
        f"| `undercomplete.mnist_tiny` | {zoo.info('undercomplete.mnist_tiny')['params']:,} | squared error 5.00 "
        "| PCA 10.00 | 2.00× |"]
    assert fashion[1] == "Licence: MIT (Zalando SE)"
    header, rule, ae_row, vae_row = fashion[2].strip().splitlines()
    assert header == ("| name | params | squared error (10k test images) | PSNR (dB) | PCA squared error | "
                      "PCA PSNR (dB) | ratio | −ELBO (nats) | bits/dim | decoder σ | FID, prior | FID, GMM |")
    assert rule.count("|") == header.count("|")
    assert ae_row.endswith("| 8.25 | 24.50 | 20.62 | 20.25 | 2.50× |  |  |  |  |  |")
    assert vae_row.endswith("| 8.25 | 24.50 | 20.62 | 20.25 | 2.50× | -2500.50 | 1.234 | 0.0512 | 31.42 | 27.18 |")
    assert celeba[1] == "Licence: " + data.DATASETS["celeba"].licence
    header = celeba[2].splitlines()[0]  # no VAE here: no −ELBO columns
    assert header == ("| name | params | squared error (3k test images) | PSNR (dB) | PCA squared error | "
                      "PCA PSNR (dB) | ratio |")
    assert zoo.markdown_table("vae.*").startswith("### Fashion-MNIST\n\nLicence: MIT (Zalando SE)\n\n| name |")


def test_an_mnist_vaes_row_gives_its_recorded_fid_best_sampler_first():
    from keras_ae.zoo.index import _mnist_row

    entry = {"params": 10, "metrics": {"test": {"neg_elbo": 97.4759, "fid_prior": 23.297, "fid_gmm": 22.459}}}
    assert _mnist_row("conv_vae.x", entry) == "| `conv_vae.x` | 10 | −ELBO 97.48 nats; FID 22.46 (GMM), 23.30 (prior) |  |  |"
    entry["metrics"]["test"] = {"neg_elbo": 97.4759}  # not measured: nothing said
    assert _mnist_row("conv_vae.x", entry) == "| `conv_vae.x` | 10 | −ELBO 97.48 nats |  |  |"


def test_list_markdown_prints_the_tables(data_zoo, capsys):
    code, out, err = run(["list", "--markdown"], capsys)
    assert code == 0 and out == zoo.markdown_table() + "\n"


def test_reconstruct_uses_the_entrys_own_data_set_or_the_probe_photos(fashion, data_zoo, capsys, monkeypatch):
    # An entry trained on Fashion-MNIST reconstructs Fashion-MNIST test images where the data is found,
    # and the probe photos (no data needed) where it is not; never MNIST digits.
    from keras_ae.cli import figures
    from keras_ae.zoo.images import probe_images

    name = "undercomplete.fashion_mnist_tiny"
    model = zoo.load(name)
    x, labels = figures._test_images(model, 10, name=name)
    _, (x_test, y_test) = data.load_fashion_mnist(path=fashion, shape="flat")
    idx = figures._spread(y_test, 10, 0)
    np.testing.assert_array_equal(x, x_test[idx])
    assert sorted(labels) == list(range(10))  # one of each class
    code, out, err = run(["reconstruct", name, "-n", "4", "--out", str(data_zoo / "a.png")], capsys)
    assert code == 0 and "probe photos" not in out, err
    monkeypatch.delenv("KERAS_AE_FASHION_MNIST")
    code, out, err = run(["reconstruct", name, "-n", "4", "--out", str(data_zoo / "b.png")], capsys)
    assert code == 0, err
    assert "Fashion-MNIST was not found" in out and "KERAS_AE_FASHION_MNIST" in out
    assert "Using the probe photos" in out
    x, labels = figures._test_images(model, 4, name=name)
    probes = probe_images((28, 28, 1)).reshape(-1, 784)
    assert labels is None and all(any(np.array_equal(row, p) for p in probes) for row in x)
    assert (data_zoo / "a.png").exists() and (data_zoo / "b.png").exists()
