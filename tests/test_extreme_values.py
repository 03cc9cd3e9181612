"""Values beyond float32, in scoring and on the command line; the CLI's notes on user data (issue 36, items 3-6).

In scoring, a sample with a finite value beyond float32's range (1e40, 1e300) cannot be computed by
the model; it is scored +inf (an anomaly), with a warning that counts such samples, and the other
samples of the batch are scored as usual. In training data it is an error of its own.
"""

import warnings

import numpy as np
import pytest

from keras_ae.anomaly import AnomalyDetector, BeyondFloat32Warning, TabularDetector
from keras_ae.cli import main as cli_main
from model_check import small_model


def _run(args, capsys):
    code = cli_main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def table():
    return np.random.default_rng(0).normal(5.0, 2.0, size=(60, 4))


@pytest.fixture(scope="module")
def tabular(table):
    return TabularDetector(epochs=2, random_state=0).fit(table)


def test_a_reconstruction_detector_scores_values_beyond_float32_as_anomalies(x_small):
    detector = AnomalyDetector(small_model("undercomplete")).fit(x_small)
    x = x_small[:6].astype("float64")
    x[2, 5], x[4, 0] = 1e40, -1e300
    with pytest.warns(BeyondFloat32Warning, match=r"2 of 6 sample\(s\).*the first at index 2"):
        scores = detector.decision_function(x)
    assert np.isinf(scores[[2, 4]]).all() and scores[2] > 0
    keep = [0, 1, 3, 5]
    np.testing.assert_allclose(scores[keep], detector.decision_function(x_small[keep]), rtol=1e-6)
    with pytest.warns(BeyondFloat32Warning):
        labels = detector.predict(x)
    assert labels.tolist() == [int(s > detector.threshold_) for s in scores] and labels[2] == labels[4] == 1
    with pytest.warns(BeyondFloat32Warning):
        assert detector.score_samples(x)[2] == -np.inf


def test_every_sample_beyond_float32(x_small):
    detector = AnomalyDetector(small_model("undercomplete")).fit(x_small)
    x = np.full((2, 784), 1e300)
    with pytest.warns(BeyondFloat32Warning, match=r"2 of 2 sample"):
        assert np.isinf(detector.decision_function(x)).all()


def test_a_tabular_detector_scores_values_beyond_float32_as_anomalies(tabular, table):
    x = table[:5].copy()
    x[3, 1] = 1e300
    with pytest.warns(BeyondFloat32Warning, match=r"1 of 5 sample"):
        scores = tabular.decision_function(x)
    assert scores[3] == np.inf
    np.testing.assert_allclose(scores[[0, 1, 2, 4]], tabular.decision_function(table[[0, 1, 2, 4]]), rtol=1e-6)
    import pandas as pd

    frame = pd.DataFrame(x, columns=list("abcd"))
    fitted = TabularDetector(epochs=2, random_state=0).fit(pd.DataFrame(table, columns=list("abcd")))
    with pytest.warns(BeyondFloat32Warning):
        assert fitted.predict(frame)[3] == 1


def test_ordinary_float64_data_gives_no_warning(x_small):
    detector = AnomalyDetector(small_model("undercomplete")).fit(x_small)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BeyondFloat32Warning)
        detector.decision_function(x_small[:4].astype("float64"))


def test_a_model_names_values_beyond_float32_when_it_refuses_them(x_small):
    x = x_small[:4].astype("float64")
    x[1, 3] = 1e40
    with pytest.raises(ValueError, match=r"outside the float32 range.*1e\+40") as e:
        small_model("undercomplete").reconstruction_error(x)
    assert "NaN" not in str(e.value)


# ---- the command line --------------------------------------------------------------------------

def test_cli_scores_a_row_beyond_float32_as_an_anomaly(tmp_path, capsys, table):
    header = "a,b,c,d\n"
    (tmp_path / "train.csv").write_text(header + "\n".join(",".join(f"{v:.6g}" for v in r) for r in table) + "\n")
    rows = [",".join(f"{v:.6g}" for v in r) for r in table[:4]]
    rows[1] = "1,1e300,2,3"
    (tmp_path / "new.csv").write_text(header + "\n".join(rows) + "\n")
    model = str(tmp_path / "t.keras")
    code, out, err = _run(["train", "--data", str(tmp_path / "train.csv"), "--epochs", "2", "--out", model], capsys)
    assert code == 0, err
    code, out, err = _run(["score", model, "--data", str(tmp_path / "new.csv"), "--out", str(tmp_path / "s.csv")],
                          capsys)
    assert code == 0, err
    assert "warning: 1 of 4 sample(s)" in err and "+inf" in err
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[2] == "1,inf,1" and len(lines) == 5


def test_cli_training_data_beyond_float32_is_refused_with_its_own_error(tmp_path, capsys):
    (tmp_path / "big.csv").write_text("a,b\n1,2\n3,1e40\n" + "5,6\n" * 20)
    code, out, err = _run(["train", "--data", str(tmp_path / "big.csv"), "--out", str(tmp_path / "m.keras")], capsys)
    assert code == 1 and "row 2, column 'b': 1e+40 is outside the float32 range" in err, err
    assert "NaN" not in err and len(err.strip().splitlines()) == 1


def test_cli_header_option_and_notes(tmp_path, capsys):
    rng = np.random.default_rng(1)
    body = "\n".join(",".join(f"{v:.4f}" for v in r) for r in rng.normal(3, 1, (30, 3)))
    (tmp_path / "years.csv").write_text("2019,2020,2021\n" + body + "\n")
    out_model = str(tmp_path / "m.keras")
    code, out, err = _run(["train", "--data", str(tmp_path / "years.csv"), "--epochs", "2", "--out", out_model],
                          capsys)
    assert code == 0, err
    assert "30 samples" in out and "note: " in out and "taken for a header" in out
    code, out, err = _run(["train", "--data", str(tmp_path / "years.csv"), "--epochs", "2", "--header", "no",
                           "--out", out_model], capsys)
    assert code == 0, err
    assert "31 samples" in out
    (tmp_path / "latin.csv").write_bytes(("température,b,c\n" + body + "\n").encode("latin-1"))
    code, out, err = _run(["score", out_model, "--data", str(tmp_path / "latin.csv"), "--out",
                           str(tmp_path / "s.csv")], capsys)
    assert code == 0, err
    assert "note: " in out and "Latin-1" in out and "Scored 30 samples" in out


def test_cli_names_a_broken_image_and_counts_hidden_files(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8), mode="L").save(folder / f"{i:02d}.png")
    (folder / "._00.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    out_model = str(tmp_path / "c.keras")
    code, out, err = _run(["train", "--data", str(folder), "--epochs", "1", "--latent-dim", "2", "--out", out_model],
                          capsys)
    assert code == 0, err
    assert "12 samples" in out and "skipped 1 hidden file(s)" in out
    (folder / "05.png").write_bytes((folder / "04.png").read_bytes()[:60])  # truncated
    code, out, err = _run(["score", out_model, "--data", str(folder), "--out", str(tmp_path / "s.csv")], capsys)
    assert code == 1 and "05.png" in err and "not a readable image" in err and "Traceback" not in err, err
