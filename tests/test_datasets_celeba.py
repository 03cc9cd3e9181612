"""CelebA loader on tiny fixtures of each layout: both attribute formats, read by name; the split; errors.

Every fixture is written here, in tmp_path; no test reads the shared development data or the network.
"""

import io
import os
import random
import shutil

import numpy as np
import pytest
from PIL import Image

from keras_ae import data
from keras_ae.data import _archive, celeba
from test_datasets_real import zip_folder  # tests/ is on sys.path under pytest's default import mode

ENVS = ("KERAS_AE_CELEBA", "KERAS_AE_DOWNLOAD")
NAMES = list(data.CELEBA_ATTRIBUTES)
SHA = "ab" * 32


@pytest.fixture
def home(monkeypatch, tmp_path):
    for name in ENVS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))

    def no_download(**kwargs):
        pytest.fail(f"a download was attempted without being asked for: {kwargs.get('origin')}")

    monkeypatch.setattr(_archive, "get_file", no_download)
    return tmp_path


def colour(number):
    """Each face is one flat colour, so its place in the arrays says which file it came from."""
    return ((number * 37) % 256, (number * 11) % 256, 90)


def attribute(number, name):
    return (number + NAMES.index(name)) % 3 == 0


def jpeg(number, size=64):
    buffer = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), colour(number), "uint8")).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def attribute_text(numbers, style="hq", columns=NAMES):
    lines = [str(len(numbers)), " ".join(columns) + (" " if style == "celeba" else "")]
    for n in numbers:
        image = f"{n:06d}.jpg" if style == "celeba" else f"{n}.jpg"
        values = ["1" if attribute(n, c) else "-1" for c in columns]
        lines.append(image + "  " + ("  " if style == "celeba" else " ").join(values))  # CelebA's double spaces
    return "\n".join(lines) + "\n"


def make_celeba(root, numbers=(1, 2, 3, 27001, 27002), style="hq", columns=NAMES, images_dir=True):
    """A CelebA folder: images/N.jpg (or 000001.jpg) and the attribute file of `style`."""
    folder = root / "images" if images_dir else root
    os.makedirs(folder, exist_ok=True)
    for n in numbers:
        (folder / (f"{n:06d}.jpg" if style == "celeba" else f"{n}.jpg")).write_bytes(jpeg(n))
    name = celeba.ATTRIBUTE_FILES[0] if style == "hq" else celeba.ATTRIBUTE_FILES[1]
    (root / name).write_text(attribute_text(numbers, style, columns))
    return root


zip_of = zip_folder  # the zip writer of the Fashion-MNIST and CIFAR-10 tests


def check_faces(x, numbers):
    assert x.shape == (len(numbers), 64, 64, 3) and x.dtype == np.uint8
    means = x.reshape(len(x), -1, 3).mean(axis=1)
    np.testing.assert_allclose(means, [colour(n) for n in numbers], atol=3)


def test_folder_and_zips_give_images_and_attributes_by_split(home):
    folder = make_celeba(home / "celeba")
    hidden = [("images/._1.jpg", b"AppleDouble"), ("__MACOSX/images/._2.jpg", b"x"), (".DS_Store", b"x")]
    for path in (str(folder), zip_of(folder, home / "flat.zip", extra=hidden),
                 zip_of(folder, home / "top.zip", top="celeba_hq_64", extra=hidden)):
        ((x, a), (xt, at)), source = data.load_celeba(path=path, dtype="uint8", return_source=True)
        check_faces(x, [1, 2, 3])
        check_faces(xt, [27001, 27002])
        assert list(a) == NAMES and a["Smiling"].dtype == bool
        assert a["Smiling"].tolist() == [attribute(n, "Smiling") for n in (1, 2, 3)]
        assert at["Male"].tolist() == [attribute(n, "Male") for n in (27001, 27002)]
        record = data.describe_source(source, data.CELEBA)
        assert "images/N.jpg, JPEG: lossy" in record and "non-commercial research and education only" in record
        assert str(home) not in record
    (x, _), (xt, _) = data.load_celeba(path=str(folder))
    assert x.dtype == np.float32 and xt.shape == (2, 64, 64, 3) and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(x, data.load_celeba(path=str(folder), dtype="uint8")[0][0] / np.float32(255))


def test_split_and_attribute_selection(home):
    folder = str(make_celeba(home / "celeba"))
    x, a = data.load_celeba(path=folder, split="test", attributes=["Smiling", "Eyeglasses"], dtype="uint8")
    check_faces(x, [27001, 27002])
    assert list(a) == ["Smiling", "Eyeglasses"]
    x, a = data.load_celeba(path=folder, split="train", attributes="Young", dtype="uint8")
    check_faces(x, [1, 2, 3])
    assert list(a) == ["Young"]
    with pytest.raises(ValueError, match=r"CelebAMask-HQ-attribute-anno.txt has no attribute 'Smilling'; "
                                         r"did you mean 'Smiling'\?"):
        data.load_celeba(path=folder, attributes=["Smilling"])
    with pytest.raises(ValueError, match="split='validation'"):
        data.load_celeba(path=folder, split="validation")
    with pytest.raises(ValueError, match="`attributes` must be None or a list of attribute names"):
        data.load_celeba(path=folder, attributes=[3])


def test_both_attribute_formats_are_read_by_name_whatever_the_column_order(home):
    numbers = (1, 2, 3, 27001)
    shuffled = NAMES[:]
    random.Random(0).shuffle(shuffled)
    hq = make_celeba(home / "hq", numbers)
    celeb = make_celeba(home / "celeb", numbers, style="celeba", columns=shuffled[:30])  # fewer columns, reordered
    (x1, a1), (xt1, at1) = data.load_celeba(path=str(hq), dtype="uint8")
    (x2, a2), (xt2, at2) = data.load_celeba(path=str(celeb), dtype="uint8")
    np.testing.assert_array_equal(x1, x2)
    assert list(a2) == shuffled[:30]  # file order
    for name in shuffled[:30]:
        np.testing.assert_array_equal(a1[name], a2[name])
        np.testing.assert_array_equal(at1[name], at2[name])
    record = data.describe_source(f"path:{celeb}", data.CELEBA)
    assert "list_attr_celeba.txt" in record and "folder sha256" in record
    with pytest.raises(ValueError, match="list_attr_celeba.txt has no attribute"):
        data.load_celeba(path=str(celeb), attributes=[n for n in NAMES if n not in shuffled[:30]][:1])


def test_numbering_from_zero_and_images_beside_the_attribute_file(home):
    folder = make_celeba(home / "zero", numbers=(0, 1, 26999, 27000, 29999), images_dir=False)
    (x, a), (xt, at) = data.load_celeba(path=str(folder), dtype="uint8")
    check_faces(x, [0, 1, 26999])
    check_faces(xt, [27000, 29999])
    far = make_celeba(home / "far", numbers=(1, 30001))
    with pytest.raises(ValueError, match=r"lists '30001.jpg', beyond the 30,000 images"):
        data.load_celeba(path=str(far))


def test_search_order_path_env_cache_and_download_only_when_asked(home, monkeypatch):
    datasets = home / "keras_home" / "datasets"
    cache_folder = make_celeba(datasets / "celeba_hq_64", numbers=(5,))
    env = make_celeba(home / "env", numbers=(6,))
    mine = make_celeba(home / "mine", numbers=(7,))
    monkeypatch.setenv("KERAS_AE_CELEBA", str(env))
    check_faces(data.load_celeba(path=str(mine), split="train", dtype="uint8")[0], [7])
    check_faces(data.load_celeba(split="train", dtype="uint8")[0], [6])
    monkeypatch.delenv("KERAS_AE_CELEBA")
    check_faces(data.load_celeba(split="train", dtype="uint8")[0], [5])
    zip_of(make_celeba(home / "z", numbers=(8,)), datasets / "celeba_hq_64.zip")  # the zip comes first
    (x, _), source = data.load_celeba(split="train", dtype="uint8", return_source=True)
    check_faces(x, [8])
    assert source.endswith("celeba_hq_64.zip")
    os.remove(datasets / "celeba_hq_64.zip")
    shutil.rmtree(cache_folder)
    with pytest.raises(FileNotFoundError, match=r"CelebA was not found \(no path=, no \$KERAS_AE_CELEBA, no Keras "
                                                r"cache at .*celeba_hq_64.zip or .*celeba_hq_64, download not "
                                                r"requested\).*origin= and sha256="):
        data.load_celeba()
    with pytest.raises(FileNotFoundError, match="download failed.*no official download URL: pass origin="):
        data.load_celeba(download=True)
    with pytest.raises(FileNotFoundError, match="download not requested.*pass download=True to fetch origin="):
        data.load_celeba(origin="https://example.org/faces.zip", sha256=SHA)
    with pytest.raises(ValueError, match="needs both origin= and sha256="):
        data.load_celeba(origin="https://example.org/faces.zip", download=True)
    with pytest.raises(ValueError, match="`sha256` must be 64 hexadecimal digits"):
        data.load_celeba(origin="https://example.org/faces.zip", sha256="abc", download=True)

    served = zip_of(make_celeba(home / "served", numbers=(9, 27009)), home / "served.zip")
    calls = []

    def fake_get_file(fname, origin, file_hash, cache_dir, cache_subdir):
        calls.append((fname, origin, file_hash))
        target = os.path.join(cache_dir, cache_subdir, fname)
        shutil.copy(served, target)
        return target

    monkeypatch.setattr(_archive, "get_file", fake_get_file)
    (_, (xt, _)), source = data.load_celeba(download=True, origin="https://example.org/faces.zip", sha256=SHA,
                                            dtype="uint8", return_source=True)
    check_faces(xt, [27009])
    assert source == "download" and calls == [("celeba_hq_64.zip", "https://example.org/faces.zip", SHA)]
    assert data.load_celeba(return_source=True)[1].startswith("keras-cache:")  # kept in Keras's cache


def test_listing_errors_say_what_is_missing_and_where(home):
    folder = make_celeba(home / "c")
    os.remove(folder / "images" / "2.jpg")
    with pytest.raises(ValueError, match=r"CelebAMask-HQ-attribute-anno.txt lists 1 image\(s\) that are not in "
                                         r".*images: 2.jpg"):
        data.load_celeba(path=str(folder))
    (folder / "images" / "2.jpg").write_bytes(jpeg(2))
    (folder / "images" / "4.jpg").write_bytes(jpeg(4))
    with pytest.raises(ValueError, match=r"1 image\(s\) in .*images are not listed in "
                                         r".*CelebAMask-HQ-attribute-anno.txt: 4.jpg"):
        data.load_celeba(path=str(folder))
    os.remove(folder / "images" / "4.jpg")
    (folder / "list_attr_celeba.txt").write_text(attribute_text((1, 2, 3, 27001, 27002), "celeba"))
    with pytest.raises(ValueError, match="holds both CelebAMask-HQ-attribute-anno.txt and list_attr_celeba.txt"):
        data.load_celeba(path=str(folder))
    os.remove(folder / "list_attr_celeba.txt")
    os.remove(folder / "CelebAMask-HQ-attribute-anno.txt")
    with pytest.raises(ValueError, match="holds no attribute file: expected CelebAMask-HQ-attribute-anno.txt or "
                                         "list_attr_celeba.txt"):
        data.load_celeba(path=str(folder))


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.replace("Smiling", "Smiling Smiling", 1), r"line 2: expected the attribute names, each once"),
    (lambda t: t.replace("2.jpg  1", "2.jpg  0", 1).replace("2.jpg  -1", "2.jpg  0", 1),
     r"line 4: attribute values must be 1 or -1. Received '0'"),
    (lambda t: "6" + t[1:], r"line 1 says 6 images, but 5 lines follow"),
    (lambda t: t.replace("3.jpg ", "3.jpg 1 ", 1), r"line 5: expected an image name and 40 values. Received 42"),
    (lambda t: t.replace("3.jpg", "2.jpg", 1), r"the image '2.jpg' is listed twice"),
    (lambda t: "count\n" + t, r"expected the image count on line 1"),
    (lambda t: t.replace("3.jpg", "three.jpg", 1), r"expected numbered images .* Received 'three.jpg'"),
])
def test_attribute_file_errors_name_the_file_and_line(home, edit, match):
    folder = make_celeba(home / "c")
    path = folder / "CelebAMask-HQ-attribute-anno.txt"
    path.write_text(edit(path.read_text()))
    with pytest.raises(ValueError, match="CelebAMask-HQ-attribute-anno.txt.*" + match):
        data.load_celeba(path=str(folder))


def test_image_errors_name_the_file(home):
    folder = make_celeba(home / "c")
    (folder / "images" / "3.jpg").write_bytes(jpeg(3, size=128))
    with pytest.raises(ValueError, match=r"images.3.jpg: expected a 64x64 image. Received: a 128x128 image"):
        data.load_celeba(path=str(folder))
    (folder / "images" / "3.jpg").write_bytes(jpeg(3)[:300])  # truncated
    with pytest.raises(ValueError, match=r"images.3.jpg is not a readable image \(corrupt or truncated\?\)"):
        data.load_celeba(path=str(folder))
    (folder / "images" / "3.jpg").write_bytes(b"\xff\xd8" + b"\0" * 500)  # a JPEG marker, then nothing valid
    archive = zip_of(folder, home / "bad.zip")
    with pytest.raises(ValueError, match=r"images/3.jpg in .*bad.zip is not a readable image"):
        data.load_celeba(path=archive)
    (folder / "images" / "3.jpg").write_bytes(jpeg(3))
    data.load_celeba(path=str(folder), split="train")  # mended: it reads again


def test_the_memory_benchmarks_synthetic_zip_is_a_valid_celeba(tmp_path):
    from benchmarks import data_memory

    (x, a), (xt, at) = data.load_celeba(path=data_memory.synthetic_celeba(str(tmp_path), 20), dtype="uint8")
    assert x.shape == (18, 64, 64, 3) and xt.shape == (2, 64, 64, 3) and list(a) == NAMES


@pytest.mark.slow
def test_loading_celeba_costs_little_more_than_its_uint8_images(tmp_path):
    """The benchmark's figure on a synthetic zip: a fresh process's peak memory above its baseline.

    This process holds 300 MB first (8x the images): the worker must not count its parent's peak, as
    `ru_maxrss` does across `exec` (a CI run late in a long pytest session once read 81x).
    """
    from benchmarks import data_memory

    ballast = np.ones(300 * 2**20, dtype="uint8")  # resident: np.ones writes every page
    result = data_memory.measure(data_memory.synthetic_celeba(str(tmp_path), 3000))
    del ballast
    assert result["images"] == 3000 and result["ratio"] < data_memory.TARGET
