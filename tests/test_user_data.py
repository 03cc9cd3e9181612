"""A user's data files, read as users write them (issue 36, items 3 to 6).

CSV as spreadsheets and pandas write it (a byte-order mark, quoted numbers, `#` comments, trailing
commas, an index column, numeric headers, Latin-1 text), `.npy` edge shapes, values beyond float32,
and folders of images with broken or hidden files. Every fixture is made in `tmp_path`.
"""

import re
import warnings

import numpy as np
import pytest

from keras_ae.data import load_user_data
from keras_ae.data.files import UserDataNote


def _csv(tmp_path, text, name="d.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(path)


def _rows(n=50, cols=3, seed=0):
    return np.random.default_rng(seed).random((n, cols)).round(4) + 2.0  # a table: values not in [0, 1]


def _load(path, **kwargs):
    """`load_user_data`, with its notes (UserDataNote warnings) returned as strings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x, kind = load_user_data(path, **kwargs)
    return x, kind, [str(w.message) for w in caught if issubclass(w.category, UserDataNote)]


# ---- CSV ----------------------------------------------------------------------------------------

def test_a_headerless_csv_with_a_byte_order_mark_keeps_every_row(tmp_path):
    rows = _rows()
    text = "\n".join(",".join(f"{v:g}" for v in r) for r in rows) + "\n"
    x, kind, _ = _load(_csv(tmp_path, b"\xef\xbb\xbf" + text.encode()))  # Excel's "CSV UTF-8"
    assert x.shape == (50, 3) and kind == "tabular"  # not 49: the first row is data
    np.testing.assert_allclose(x, rows, rtol=1e-6)


def test_a_header_with_a_byte_order_mark_is_a_header(tmp_path):
    x, _, _ = _load(_csv(tmp_path, "\ufeffa,b\n1,2\n3,4\n"))
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])


@pytest.mark.parametrize("header", ["2019,2020,2021", "0,1,2", '"2019","2020","2021"'])
def test_a_numeric_header_of_consecutive_integers_is_a_header(tmp_path, header):
    rows = _rows(10)
    text = header + "\n" + "\n".join(",".join(f"{v:g}" for v in r) for r in rows) + "\n"
    x, _, notes = _load(_csv(tmp_path, text))
    assert x.shape == (10, 3)
    np.testing.assert_allclose(x, rows, rtol=1e-6)
    assert any("taken for a header" in n and "--header no" in n for n in notes), notes


def test_integer_rows_that_all_count_up_are_data(tmp_path):
    x, _, _ = _load(_csv(tmp_path, "1,2,3\n2,3,4\n3,4,5\n"))
    assert x.shape == (3, 3)
    x, _, notes = _load(_csv(tmp_path, "1,2\n3,5\n", "two.csv"))  # two integers count up by chance: data
    assert x.shape == (2, 2) and notes == []


def test_header_option_overrides_the_detection(tmp_path):
    path = _csv(tmp_path, "2019,2020,2021\n5,7,9\n6,8,10\n")
    assert _load(path)[0].shape == (2, 3)
    assert _load(path, header="no")[0].shape == (3, 3)
    assert _load(_csv(tmp_path, "1.5,2.5\n3,4\n", "f.csv"), header="yes")[0].tolist() == [[3, 4]]
    with pytest.raises(ValueError, match="header"):
        load_user_data(path, header="maybe")


def test_a_pandas_index_column_is_not_a_feature(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(_rows(8), columns=["a", "b", "c"])
    frame.to_csv(tmp_path / "p.csv")  # an empty first header cell, then the index 0..7 in each row
    x, _, _ = _load(str(tmp_path / "p.csv"))
    assert x.shape == (8, 3)
    np.testing.assert_allclose(x, frame.to_numpy(), rtol=1e-6)
    pd.DataFrame(_rows(8), columns=[2019, 2020, 2021]).to_csv(tmp_path / "y.csv")
    assert _load(str(tmp_path / "y.csv"))[0].shape == (8, 3)


def test_quoted_numbers_comments_and_trailing_commas_are_read(tmp_path):
    text = ('# exported 2024-01-01\n'
            'a,b,c,\n'
            '"1.5","2",3,\n'
            '# a comment line\n'
            '4,"5.25",6,\n'
            '\n'
            '7,8,"9",\n')
    x, _, _ = _load(_csv(tmp_path, text))
    np.testing.assert_array_equal(x, [[1.5, 2, 3], [4, 5.25, 6], [7, 8, 9]])
    x, _, _ = _load(_csv(tmp_path, "1,2,\n3,4,\n", "n.csv"))  # no header, a trailing comma
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])


def test_latin1_text_is_read_with_a_note(tmp_path):
    path = _csv(tmp_path, "température,pression\n1,2\n3,4\n", encoding="latin-1")
    x, _, notes = _load(path)
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    assert any("Latin-1" in n for n in notes), notes
    x, _, notes = _load(_csv(tmp_path, "température,pression\n1,2\n", "u.csv"))  # UTF-8: no note
    assert x.shape == (1, 2) and notes == []


def test_text_in_a_numeric_column_names_the_column_and_the_first_bad_row(tmp_path):
    with pytest.raises(ValueError, match=r"column 'b'.* row 3\b.*'oops'"):
        load_user_data(_csv(tmp_path, "a,b\n1,2\n3,4\n5,oops\n7,x\n"))
    with pytest.raises(ValueError, match=r"column 2\b.* row 2\b.*'x'"):
        load_user_data(_csv(tmp_path, "1,2\n3,x\n", "n.csv"))


def test_a_csv_with_no_rows_or_a_ragged_row_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        load_user_data(_csv(tmp_path, "a,b\n"))
    with pytest.raises(ValueError, match="same number of fields on every line: Expected 2 fields in line 2, saw 3"):
        load_user_data(_csv(tmp_path, "1,2\n3,4,5\n", "r.csv"))


# ---- arrays --------------------------------------------------------------------------------------

def test_an_npy_with_no_features_is_refused_clearly(tmp_path):
    np.save(tmp_path / "e.npy", np.zeros((5, 0), "float32"))
    with pytest.raises(ValueError, match=r"no values per sample.*\(5, 0\)"):
        load_user_data(str(tmp_path / "e.npy"))


# ---- values beyond float32 -----------------------------------------------------------------------

@pytest.mark.parametrize("big", ["1e40", "-1e300"])
def test_training_data_beyond_float32_gets_its_own_error(tmp_path, big):
    path = _csv(tmp_path, f"a,b\n1,2\n3,{big}\n")
    with pytest.raises(ValueError, match=re.escape(f"row 2, column 'b': {float(big):g} is outside the float32 range")) as e:
        load_user_data(path)
    assert "NaN" not in str(e.value)
    np.save(tmp_path / "big.npy", np.array([[0.5, 0.5], [0.5, float(big)]]))
    with pytest.raises(ValueError, match=r"row 2, column 2: .* outside the float32 range"):
        load_user_data(str(tmp_path / "big.npy"))


def test_scoring_data_beyond_float32_is_kept_as_float64(tmp_path):
    x, _, _ = _load(_csv(tmp_path, "a,b\n1,2\n3,1e40\n"), beyond_float32="keep")
    assert x.dtype == np.float64 and x[1, 1] == 1e40
    x, _, _ = _load(_csv(tmp_path, "a,b\n1,2\n", "s.csv"), beyond_float32="keep")
    assert x.dtype == np.float32


def test_nan_is_still_refused_as_nan(tmp_path):
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        load_user_data(_csv(tmp_path, "1,2\n3,nan\n"))


# ---- folders of images ---------------------------------------------------------------------------

def _image_folder(tmp_path, n=4):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8), mode="L").save(folder / f"{i}.png")
    return folder


@pytest.mark.parametrize("name, content", [
    ("bad.png", b"\x89PNG\r\n\x1a\nthis is not a png"),
    ("notes.jpg", b"just some text, not a JPEG\n"),
    ("cut.png", None),
], ids=["corrupt", "not an image", "truncated"])
def test_a_broken_image_names_the_file(tmp_path, name, content):
    folder = _image_folder(tmp_path)
    if content is None:  # a real PNG, cut in half
        content = (folder / "1.png").read_bytes()
        content = content[:len(content) // 2]
    (folder / name).write_bytes(content)
    with pytest.raises(ValueError, match=name.replace(".", r"\.")) as e:
        load_user_data(str(folder))
    assert "InvalidArgument" not in str(e.value)


def test_hidden_and_appledouble_files_are_skipped_and_counted(tmp_path):
    folder = _image_folder(tmp_path)
    (folder / "._0.png").write_bytes(b"\x00\x05\x16\x07AppleDouble junk")  # macOS resource fork
    (folder / ".thumb.png").write_bytes(b"junk")
    (folder / ".DS_Store").write_bytes(b"junk")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "x.png").write_bytes(b"junk")
    x, kind, notes = _load(str(folder))
    assert x.shape == (4, 8, 8, 1) and kind == "images"
    assert any("skipped 3 hidden file(s) and 1 hidden folder(s)" in n for n in notes), notes


def test_an_image_folder_reads_as_before(tmp_path):
    from PIL import Image

    folder = _image_folder(tmp_path, n=3)
    sub = folder / "class_b"
    sub.mkdir()
    Image.fromarray(np.full((8, 8), 255, np.uint8), mode="L").save(sub / "z.png")
    x, kind, notes = _load(str(folder))
    assert x.shape == (4, 8, 8, 1) and x.dtype == np.float32 and notes == []
    first = np.asarray(Image.open(folder / "0.png"), dtype="float32") / 255.0
    np.testing.assert_allclose(x[0, ..., 0], first, atol=1e-7)
    assert x[3].min() == 1.0  # the sub-folder's image comes after the top folder's
