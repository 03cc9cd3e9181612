"""Fashion-MNIST and CIFAR-10 loaders, the data set registry and folder records, on tiny fixtures of each layout.

Every fixture is written here, in tmp_path; no test reads the shared development data or the network, and a download is
a test failure unless the test asks for one (then a fake `get_file` serves it and checks the hash it got).
"""

import gzip
import hashlib
import io
import os
import pickle
import shutil
import struct
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from keras_ae import data
from keras_ae.data import _archive, cifar10, fashion_mnist

ENVS = ("KERAS_AE_MNIST", "KERAS_AE_FASHION_MNIST", "KERAS_AE_CIFAR10", "KERAS_AE_CELEBA", "KERAS_AE_DOWNLOAD")


@pytest.fixture
def home(monkeypatch, tmp_path):
    """A clean environment: no data set variables, an empty Keras home, and no download unless a test allows it."""
    for name in ENVS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))

    def no_download(**kwargs):
        pytest.fail(f"a download was attempted without being asked for: {kwargs.get('origin')}")

    monkeypatch.setattr(_archive, "get_file", no_download)
    return tmp_path


# ---------------------------------------------------------------- Fashion-MNIST fixtures

def write_idx(path, array):
    header = struct.pack(">II", 2049, len(array)) if array.ndim == 1 else struct.pack(">IIII", 2051, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype("uint8").tobytes())


def fashion_arrays(n_train=12, n_test=6, value=5):
    x = np.full((n_train, 28, 28), value, "uint8")
    x[:, 0, 0] = np.arange(n_train)  # each image tells which it is
    xt = np.full((n_test, 28, 28), value, "uint8")
    return (x, np.arange(n_train) % 10), (xt, np.arange(n_test) % 10)


def fashion_folder(folder, **kwargs):
    (x, y), (xt, yt) = fashion_arrays(**kwargs)
    os.makedirs(folder, exist_ok=True)
    for name, array in zip(fashion_mnist.FILES, (x, y, xt, yt)):  # FILES order: x_train, y_train, x_test, y_test
        write_idx(os.path.join(folder, name), array)
    return str(folder)


def fashion_npz(path, **kwargs):
    (x, y), (xt, yt) = fashion_arrays(**kwargs)
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return str(path)


def test_fashion_mnist_folder_and_npz_give_the_same_arrays(home):
    folder = fashion_folder(home / "fm")
    npz = fashion_npz(home / "fm.npz")
    for path in (folder, npz):
        (x, y), (xt, yt) = data.load_fashion_mnist(path=path)
        assert x.shape == (12, 28, 28, 1) and xt.shape == (6, 28, 28, 1) and x.dtype == np.float32
        assert y.dtype == np.int64 and y.tolist() == [i % 10 for i in range(12)]
        assert x.max() == pytest.approx(11 / 255) and x[3, 0, 0, 0] == pytest.approx(3 / 255)
    (x, _), _ = data.load_fashion_mnist(path=folder, shape="flat", dtype="uint8")
    assert x.shape == (12, 784) and x.dtype == np.uint8 and x[:, 0].tolist() == list(range(12))
    with pytest.raises(ValueError, match="shape='round'"):
        data.load_fashion_mnist(path=folder, shape="round")
    with pytest.raises(ValueError, match="dtype='float64'"):
        data.load_fashion_mnist(path=folder, dtype="float64")


def test_fashion_mnist_search_order_path_env_cache_and_no_download(home, monkeypatch):
    cache = fashion_folder(home / "keras_home" / "datasets" / "fashion-mnist", value=30)
    env = fashion_npz(home / "env.npz", value=40)
    mine = fashion_npz(home / "mine.npz", value=50)
    monkeypatch.setenv("KERAS_AE_FASHION_MNIST", env)
    (x, _), _ = data.load_fashion_mnist(path=mine, dtype="uint8")
    assert x[0, 5, 5, 0] == 50
    ((x, _), _), source = data.load_fashion_mnist(dtype="uint8", return_source=True)
    assert x[0, 5, 5, 0] == 40 and source == f"env:{env}"
    monkeypatch.delenv("KERAS_AE_FASHION_MNIST")
    ((x, _), _), source = data.load_fashion_mnist(dtype="uint8", return_source=True)
    assert x[0, 5, 5, 0] == 30 and source == f"keras-cache:{cache}"
    shutil.rmtree(cache)
    with pytest.raises(FileNotFoundError) as e:
        data.load_fashion_mnist()
    message = str(e.value)
    for said in ("no path=", "$KERAS_AE_FASHION_MNIST", cache, "download not requested", "download=True",
                 "train-images-idx3-ubyte.gz"):
        assert said in message


def test_fashion_mnist_download_only_when_asked_and_always_hash_checked(home, monkeypatch):
    served = fashion_folder(home / "server")
    calls = []

    def fake_get_file(fname, origin, file_hash, cache_dir, cache_subdir):
        calls.append((fname, file_hash))
        assert origin == fashion_mnist.ORIGIN + fname
        target = os.path.join(cache_dir, cache_subdir, fname)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(os.path.join(served, fname), target)
        return target

    monkeypatch.setattr(_archive, "get_file", fake_get_file)
    monkeypatch.setenv("KERAS_AE_DOWNLOAD", "1")
    ((x, _), _), source = data.load_fashion_mnist(return_source=True)
    assert source == "download" and x.shape == (12, 28, 28, 1)
    assert dict(calls) == {name: sha for name, (_, sha) in fashion_mnist.FILES.items()}
    assert data.load_fashion_mnist(return_source=True)[1].startswith("keras-cache:")  # now in Keras's cache


def test_fashion_mnist_errors_name_the_file(home):
    folder = fashion_folder(home / "fm")
    name = "t10k-labels-idx1-ubyte.gz"
    os.remove(os.path.join(folder, name))
    with pytest.raises(ValueError, match=f"fm is not a Fashion-MNIST folder.*missing \\['{name}'\\]"):
        data.load_fashion_mnist(path=folder)
    write_idx(os.path.join(folder, name), np.array([1, 2, 12, 3, 4, 5]))
    with pytest.raises(ValueError, match=f"{name}: y_test labels must be class numbers 0-9. Received: 12"):
        data.load_fashion_mnist(path=folder)
    good = open(os.path.join(folder, "train-images-idx3-ubyte.gz"), "rb").read()
    open(os.path.join(folder, "train-images-idx3-ubyte.gz"), "wb").write(good[:len(good) // 2])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: not a complete gzip file"):
        data.load_fashion_mnist(path=folder)
    write_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"), np.zeros(12))  # a label file in its place
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: expected an idx image file"):
        data.load_fashion_mnist(path=folder)
    np.savez(home / "keys.npz", x_train=np.zeros((2, 28, 28), "uint8"))
    with pytest.raises(ValueError, match=r"keys.npz is not Fashion-MNIST in the Keras layout.*missing \['y_train'"):
        data.load_fashion_mnist(path=str(home / "keys.npz"))
    np.savez(home / "float.npz", x_train=np.zeros((2, 28, 28)), y_train=np.zeros(2, int),
             x_test=np.zeros((1, 28, 28)), y_test=np.zeros(1, int))
    with pytest.raises(ValueError, match="float.npz: expected x_train as uint8 pixels 0-255. Received dtype float64"):
        data.load_fashion_mnist(path=str(home / "float.npz"))
    np.savez(home / "cifar.npz", x_train=np.zeros((2, 32, 32, 3), "uint8"), y_train=np.zeros(2, int),
             x_test=np.zeros((1, 28, 28), "uint8"), y_test=np.zeros(1, int))
    with pytest.raises(ValueError, match=r"cifar.npz: expected x_train of shape \(n, 28, 28\)"):
        data.load_fashion_mnist(path=str(home / "cifar.npz"))


# ---------------------------------------------------------------- CIFAR-10 fixtures

def cifar_image(label, k, size=32):
    """A distinct image per (class, index): flat colours that survive JPEG."""
    return np.full((size, size, 3), (20 * label + 3 * k, 100, 200 - 10 * label), "uint8")


def cifar_tree(folder, per_class=2, classes=("airplane", "cat", "truck"), suffix=".png", size=32):
    for split, n in (("train", per_class), ("test", 1)):
        for name in classes:
            os.makedirs(folder / split / name, exist_ok=True)
            for k in range(n):
                Image.fromarray(cifar_image(cifar10.CIFAR10_CLASSES.index(name), k, size)).save(
                    folder / split / name / f"{k}{suffix}")
    return folder


def zip_folder(folder, target, top=None, extra=()):
    with zipfile.ZipFile(target, "w") as z:
        for here, _, files in os.walk(folder):
            for f in files:
                rel = os.path.relpath(os.path.join(here, f), folder).replace(os.sep, "/")
                z.write(os.path.join(here, f), f"{top}/{rel}" if top else rel)
        for name, payload in extra:
            z.writestr(name, payload)
    return str(target)


def batch_arrays(n, label_of=lambda i: i % 10, seed=0):
    x = np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype="uint8")
    return x, [label_of(i) for i in range(n)]


def write_batch(path, x, labels):
    # The real files' structure: a dict of bytes keys, the pixels as rows R(1024) G(1024) B(1024).
    rows = x.transpose(0, 3, 1, 2).reshape(len(x), 3072)
    with open(path, "wb") as f:
        pickle.dump({b"batch_label": b"fixture", b"data": rows, b"labels": list(labels)}, f, protocol=4)


def batches_folder(folder, n=3):
    os.makedirs(folder, exist_ok=True)
    arrays = {}
    for i, name in enumerate(cifar10.BATCHES):
        arrays[name] = batch_arrays(n, seed=i)
        write_batch(os.path.join(folder, name), *arrays[name])
    x_train = np.concatenate([arrays[name][0] for name in cifar10.TRAIN_BATCHES])
    y_train = sum((arrays[name][1] for name in cifar10.TRAIN_BATCHES), [])
    return str(folder), (x_train, y_train), arrays["test_batch"]


def test_cifar10_image_folder_and_its_zips(home):
    folder = cifar_tree(home / "c10")
    hidden = [("__MACOSX/train/cat/._0.png", b"junk"), ("train/cat/._0.png", b"junk"), ("train/.DS_Store", b"x")]
    for path in (str(folder), zip_folder(folder, home / "flat.zip", extra=hidden),
                 zip_folder(folder, home / "top.zip", top="cifar10_png", extra=hidden)):
        ((x, y), (xt, yt)), source = data.load_cifar10(path=path, dtype="uint8", return_source=True)
        assert x.shape == (6, 32, 32, 3) and xt.shape == (3, 32, 32, 3) and x.dtype == np.uint8
        assert y.tolist() == [0, 0, 3, 3, 9, 9] and yt.tolist() == [0, 3, 9] and y.dtype == np.int64
        np.testing.assert_array_equal(x[3], cifar_image(3, 1))  # PNG: exact pixels, class then file order
        assert "PNG images" in data.describe_source(source, data.CIFAR10)
    (x, _), _ = data.load_cifar10(path=str(folder))
    assert x.dtype == np.float32 and x[3, 0, 0, 0] == pytest.approx(63 / 255)
    jpeg = cifar_tree(home / "jpeg", suffix=".jpg")
    ((x, y), _), source = data.load_cifar10(path=str(jpeg), dtype="uint8", return_source=True)
    assert np.abs(x[3].astype(int) - cifar_image(3, 1)).max() <= 3
    assert "JPEG images" in data.describe_source(source, data.CIFAR10)
    assert "not the original pixels" in data.describe_source(source, data.CIFAR10)


def test_cifar10_batches_folder_keras3_cache_and_tarball_keep_the_original_pixels(home):
    folder, (x_train, y_train), (x_test, y_test) = batches_folder(home / "cifar-10-batches-py")
    ((x, y), (xt, yt)), source = data.load_cifar10(path=folder, dtype="uint8", return_source=True)
    np.testing.assert_array_equal(x, x_train)
    np.testing.assert_array_equal(xt, x_test)
    assert y.tolist() == y_train and yt.tolist() == y_test and y.dtype == np.int64
    assert data.describe_source(source, data.CIFAR10).startswith("cifar-10-batches-py (the original pixels), "
                                                                 "folder sha256 ")
    tar = home / "cifar-10-python.tar.gz"
    with tarfile.open(tar, "w:gz") as t:
        t.add(folder, arcname="cifar-10-batches-py")
    ((x2, _), (xt2, _)), source = data.load_cifar10(path=str(tar), dtype="uint8", return_source=True)
    np.testing.assert_array_equal(x2, x_train)
    np.testing.assert_array_equal(xt2, x_test)
    assert data.describe_source(source, data.CIFAR10).startswith("cifar-10-python.tar.gz (the original pixels)")
    # Keras 3 extracts its download to datasets/cifar-10-batches-py-target/cifar-10-batches-py/
    shutil.copytree(folder, home / "keras_home" / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py")
    ((x3, _), _), source = data.load_cifar10(dtype="uint8", return_source=True)
    assert source.startswith("keras-cache:") and source.endswith("cifar-10-batches-py-target")
    np.testing.assert_array_equal(x3, x_train)


def test_cifar10_search_order_and_download_only_when_asked(home, monkeypatch):
    cache = cifar_tree(home / "keras_home" / "datasets" / "cifar-10-batches-py", classes=("ship",))
    env = cifar_tree(home / "env", classes=("frog",))
    mine = cifar_tree(home / "mine", classes=("bird",))
    monkeypatch.setenv("KERAS_AE_CIFAR10", str(env))
    assert set(data.load_cifar10(path=str(mine))[0][1]) == {2}
    assert set(data.load_cifar10()[0][1]) == {6}
    monkeypatch.delenv("KERAS_AE_CIFAR10")
    assert set(data.load_cifar10()[0][1]) == {8}
    shutil.rmtree(cache)
    with pytest.raises(FileNotFoundError, match="CIFAR-10 was not found.*no Keras cache at .*cifar-10-batches-py "
                                                "or .*cifar-10-batches-py-target, download not requested"):
        data.load_cifar10()
    served, (x_train, _), _ = batches_folder(home / "server" / "cifar-10-batches-py")

    def fake_get_file(fname, origin, extract, file_hash, cache_dir, cache_subdir):
        assert (fname, origin, extract, file_hash) == (cifar10.KERAS3_DIR, cifar10.ORIGIN, True, cifar10.SHA256)
        target = os.path.join(cache_dir, cache_subdir, fname)
        shutil.copytree(served, os.path.join(target, "cifar-10-batches-py"))
        return target

    monkeypatch.setattr(_archive, "get_file", fake_get_file)
    ((x, _), _), source = data.load_cifar10(download=True, dtype="uint8", return_source=True)
    assert source == "download"
    np.testing.assert_array_equal(x, x_train)


def test_cifar10_restricted_unpickler_refuses_code_and_runs_nothing(home):
    folder, _, _ = batches_folder(home / "batches")
    marker = home / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with open(os.path.join(folder, "data_batch_3"), "wb") as f:
        pickle.dump({b"data": Payload(), b"labels": [0]}, f, protocol=4)
    with pytest.raises(ValueError, match=r"data_batch_3: refusing to unpickle (posix|nt)\.system"):
        data.load_cifar10(path=folder)
    assert not marker.exists()
    with open(os.path.join(folder, "data_batch_3"), "wb") as f:  # a builtin is refused too
        f.write(pickle.dumps({b"data": eval, b"labels": []}, protocol=4))
    with pytest.raises(ValueError, match="data_batch_3: refusing to unpickle builtins.eval"):
        data.load_cifar10(path=folder)


def test_cifar10_errors_name_the_file(home):
    folder, _, _ = batches_folder(home / "batches")
    write_batch(os.path.join(folder, "data_batch_2"), *batch_arrays(3, label_of=lambda i: 10 * i))
    with pytest.raises(ValueError, match="data_batch_2: labels must be class numbers 0-9. Received: 10 at index 1"):
        data.load_cifar10(path=folder)
    with open(os.path.join(folder, "data_batch_2"), "wb") as f:
        pickle.dump({b"data": np.zeros((3, 1024), "uint8"), b"labels": [0, 1, 2]}, f, protocol=4)
    with pytest.raises(ValueError, match=r"data_batch_2: expected 'data' as a uint8 array of shape \(n, 3072\)"):
        data.load_cifar10(path=folder)
    os.remove(os.path.join(folder, "data_batch_2"))
    with pytest.raises(ValueError, match=r"missing \['data_batch_2'\]"):
        data.load_cifar10(path=folder)
    open(os.path.join(folder, "data_batch_2"), "wb").write(b"\x80\x04not a pickle")
    with pytest.raises(ValueError, match="data_batch_2 is not a CIFAR-10 batch file"):
        data.load_cifar10(path=folder)

    tree = cifar_tree(home / "tree")
    os.rename(tree / "train" / "cat", tree / "train" / "cats")
    with pytest.raises(ValueError, match=r"cats.0.png: the class folder 'cats' is not a CIFAR-10 class; "
                                         r"did you mean 'cat'\?"):
        data.load_cifar10(path=str(tree))
    os.rename(tree / "train" / "cats", tree / "train" / "cat")
    Image.fromarray(cifar_image(3, 0, size=28)).save(tree / "test" / "cat" / "0.png")
    with pytest.raises(ValueError, match=r"test.cat.0.png: expected a 32x32 image. Received: a 28x28 image"):
        data.load_cifar10(path=str(tree))
    buffer = io.BytesIO()
    Image.fromarray(cifar_image(3, 0)).save(buffer, "JPEG")
    (tree / "test" / "cat" / "0.png").write_bytes(buffer.getvalue()[:200])
    with pytest.raises(ValueError, match=r"test.cat.0.png is not a readable image \(corrupt or truncated\?\)"):
        data.load_cifar10(path=str(tree))
    (tree / "test" / "cat" / "0.png").write_bytes(b"not an image at all")
    bad_zip = zip_folder(tree, home / "bad.zip")
    with pytest.raises(ValueError, match=r"test/cat/0.png in .*bad.zip is not a readable image"):
        data.load_cifar10(path=bad_zip)
    (home / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="Could not read CIFAR-10 from .*notes.txt"):
        data.load_cifar10(path=str(home / "notes.txt"))


# ---------------------------------------------------------------- records and the registry

def test_folder_digest_is_the_same_wherever_the_folder_is(home):
    a = fashion_folder(home / "a" / "fm")
    b = fashion_folder(home / "b" / "elsewhere")
    record = data.describe_source(f"path:{a}", data.FASHION_MNIST)
    assert record == data.describe_source(f"env:{b}", data.FASHION_MNIST)
    assert str(home) not in record and record.startswith("Fashion-MNIST as the four idx .gz files")
    expected = hashlib.sha256("".join(
        f"{name}\0{_archive.sha256_file(os.path.join(a, name))}\n" for name in sorted(os.listdir(a))).encode())
    assert record.endswith(f"folder sha256 {expected.hexdigest()}")
    open(os.path.join(b, ".DS_Store"), "w").write("Finder")  # hidden files are not data
    assert data.describe_source(f"path:{b}", data.FASHION_MNIST) == record
    write_idx(os.path.join(b, "t10k-labels-idx1-ubyte.gz"), np.array([9, 8, 7, 6, 5, 4]))
    assert data.describe_source(f"path:{b}", data.FASHION_MNIST) != record
    npz = fashion_npz(home / "fm.npz")
    assert data.describe_source(f"path:{npz}", data.FASHION_MNIST) == (
        f"fashion_mnist.npz in the keras.datasets layout, sha256 {_archive.sha256_file(npz)}")


def test_registry_facts_and_load_dataset(home, monkeypatch):
    assert list(data.DATASETS) == ["mnist", "fashion_mnist", "cifar10", "celeba"]
    facts = {name: (i.image_shape, i.num_classes, i.default_may_be_lossy) for name, i in data.DATASETS.items()}
    assert facts == {"mnist": ((28, 28, 1), 10, False), "fashion_mnist": ((28, 28, 1), 10, False),
                     "cifar10": ((32, 32, 3), 10, False), "celeba": ((64, 64, 3), None, True)}
    celeba = data.DATASETS["celeba"]
    assert celeba.loader is data.load_celeba and len(celeba.attribute_names) == 40 and "Smiling" in celeba.attribute_names
    assert celeba.licence == "CelebA / CelebA-HQ are for non-commercial research and education only."
    assert "Licence: CelebA / CelebA-HQ are for non-commercial research and education only." in \
        " ".join(data.registry.__doc__.split())
    assert data.DATASETS["cifar10"].class_names == data.CIFAR10_CLASSES and all(
        i.description and i.licence for i in data.DATASETS.values())

    monkeypatch.setenv("KERAS_AE_FASHION_MNIST", fashion_folder(home / "fm"))
    (x, y), (xt, yt), source = data.load_dataset("Fashion-MNIST", dtype="uint8")
    assert x.shape == (12, 28, 28, 1) and x.dtype == np.uint8 and source.startswith("env:")
    assert data.DATASETS["fashion_mnist"].describe(source).startswith("Fashion-MNIST as the four idx")
    mnist = fashion_npz(home / "mnist.npz")
    (x, _), _, _ = data.load_dataset("mnist", path=mnist)
    assert x.shape == (12, 28, 28, 1)  # images, as every data set here
    (x, _), _, _ = data.load_dataset("mnist", path=mnist, shape="flat")
    assert x.shape == (12, 784)
    with pytest.raises(ValueError, match=r"Unknown data set 'cifar'; did you mean 'cifar10'\? Known: mnist"):
        data.load_dataset("cifar")
    with pytest.raises(ValueError, match="load_dataset returns both splits"):
        data.load_dataset("celeba", split="train")
