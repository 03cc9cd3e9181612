"""Every lecture script is also a notebook (one source), and every notebook runs in quick mode."""

import json
import os

import pytest

from keras_ae import notebooks
from test_scripts import EXPECTED, SCRIPTS

nbformat = pytest.importorskip("nbformat")


def as_notebook(name):
    with open(os.path.join(notebooks.scripts_dir(), f"{name}.py"), encoding="utf-8") as f:
        nb = notebooks.script_to_notebook(f.read(), name)
    return nbformat.reads(json.dumps(nb), as_version=4)


def test_every_lecture_script_is_a_notebook():
    assert [f"{n}.py" for n in notebooks.list_scripts()] == SCRIPTS


@pytest.mark.parametrize("name", notebooks.list_scripts())
def test_notebook_is_valid_and_follows_the_script(name):
    nb = as_notebook(name)
    nbformat.validate(nb)
    cells = nb.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    headings = [c.source for c in cells[1:] if c.cell_type == "markdown"]
    assert headings and all(h.startswith("## ") for h in headings), headings
    # The code cells are the script's code, in order: joined, they are the script minus docstring and markers.
    with open(os.path.join(notebooks.scripts_dir(), f"{name}.py"), encoding="utf-8") as f:
        script = f.read()
    code = [c.source for c in cells if c.cell_type == "code"]
    position = 0
    for block in code:
        position = script.index(block, position)
    assert "__doc__" not in cells[0].source


def test_script_to_notebook_refuses_other_forms():
    with pytest.raises(ValueError, match="found none"):
        notebooks.script_to_notebook('"""Doc."""\nx = 1\n', "x")
    with pytest.raises(ValueError, match="module docstring"):
        notebooks.script_to_notebook('import os\n# %%\nx = 1\n', "x")
    with pytest.raises(ValueError, match="only comment lines"):
        notebooks.script_to_notebook('"""Doc."""\n# %% [markdown]\nx = 1\n', "x")


def test_write_notebooks(tmp_path):
    paths = notebooks.write_notebooks(str(tmp_path / "nb"), ["vae_2d", "dense_autoencoder"])
    assert sorted(os.listdir(tmp_path / "nb")) == ["dense_autoencoder.ipynb", "vae_2d.ipynb"]
    nbformat.validate(nbformat.read(paths[0], as_version=4))
    with pytest.raises(ValueError, match="Unknown lecture script.*'nope'"):
        notebooks.write_notebooks(str(tmp_path / "other"), ["vae_2d", "nope"])
    assert not (tmp_path / "other").exists()  # nothing written for a bad request
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="must be a folder"):
        notebooks.write_notebooks(str(tmp_path / "file"))


def test_cli_notebooks(tmp_path, capsys):
    from keras_ae import cli

    assert cli.main(["notebooks", "--out", str(tmp_path), "tsne_latent"]) == 0
    assert (tmp_path / "tsne_latent.ipynb").exists()
    assert cli.main(["notebooks", "--list"]) == 0
    assert "vae_2d" in capsys.readouterr().out


def test_parse_args_in_a_notebook_reads_the_environment(monkeypatch):
    from keras_ae import course

    monkeypatch.setattr(course, "in_notebook", lambda: True)
    monkeypatch.setenv(course.ARGS_VARIABLE, "--quick --out somewhere")
    args = course.parser("Doc.").parse_args()
    assert args.quick and args.out == "somewhere"
    assert course.parser("Doc.").parse_args(["--epochs", "3"]).epochs == 3
    monkeypatch.delenv(course.ARGS_VARIABLE)
    assert course.parser("Doc.").parse_args().out == "figures"


@pytest.mark.slow
@pytest.mark.parametrize("name", notebooks.list_scripts())
def test_notebook_runs(name, tmp_path):
    """Run the notebook in a fresh kernel in quick mode: it writes and shows its figures, and says nothing on stderr
    but its own lines (no TensorFlow start-up lines)."""
    nbclient = pytest.importorskip("nbclient")
    nb = as_notebook(name)
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_AE_MNIST", "DISPLAY", "MPLBACKEND")}
    env.update(KERAS_AE_ARGS=f"--quick --out {tmp_path}", KERAS_HOME=str(tmp_path / "keras_home"))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    for png in EXPECTED[f"{name}.py"]:
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG", png
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(shown) >= len(EXPECTED[f"{name}.py"])
    stderr = "".join(o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs
                     if o.output_type == "stream" and o.name == "stderr")
    assert "I0000" not in stderr and "cuInit" not in stderr, stderr[:2000]
