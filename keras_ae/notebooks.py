"""The lecture scripts as Jupyter notebooks: one source, two forms.

Each lecture script is written in the "percent" format that Jupytext, VS Code
and Spyder read: `# %%` starts a code cell and `# %% [markdown]` a markdown
cell whose lines are comments. The file runs unchanged as a script;
`write_notebooks` (or `keras-ae notebooks --out DIR`) turns it into an
`.ipynb` whose cells follow the script, with the module docstring as the title
cell. No copy is kept in sync by hand: the notebooks are made from the
installed scripts each time.

In a notebook the scripts read their options from the `KERAS_AE_ARGS`
environment variable (for example `KERAS_AE_ARGS=--quick jupyter lab`), or
from a list passed to `parse_args([...])` in the first code cell.
"""

import ast
import importlib.resources
import os
import re

from keras_ae._io import write_json_atomic

_MARKER = re.compile(r"^# %%(.*)$")
NOTE = ("*Made from `scripts/{name}.py` by `keras-ae notebooks`. In a notebook the script's options come from "
        "the `KERAS_AE_ARGS` environment variable (e.g. `KERAS_AE_ARGS=--quick` for a smoke test), or from a list: "
        "`parser(...).parse_args([\"--quick\"])`.*")


def scripts_dir():
    """The folder of the installed lecture scripts (the repository's `scripts/`)."""
    return str(importlib.resources.files("keras_ae_scripts"))


def list_scripts():
    """Names of the lecture scripts that become notebooks, sorted (`"dense_autoencoder"`, ...)."""
    return sorted(f[:-3] for f in os.listdir(scripts_dir()) if f.endswith(".py") and not f.startswith("_"))


def _cell(kind, lines, cell_id):
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    cell = {"cell_type": kind, "id": cell_id, "metadata": {},
            "source": [line + "\n" for line in lines[:-1]] + lines[-1:]}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _markdown_lines(lines, where):
    out = []
    for line in lines:
        if line.strip() and not line.startswith("#"):
            raise ValueError(f"{where}: a markdown cell holds only comment lines. Received: {line!r}")
        out.append(line[2:] if line.startswith("# ") else line[1:])
    return out


def script_to_notebook(source, name):
    """The notebook (nbformat 4 JSON, as a dict) of one percent-format script.

    The text before the first `# %%` must be the module docstring; it becomes
    the title cell. Raises ValueError for a script that is not in that form.
    """
    lines = source.splitlines()
    starts = [i for i, line in enumerate(lines) if _MARKER.match(line)]
    if not starts:
        raise ValueError(f"scripts/{name}.py: expected cells marked with '# %%'; found none")
    head = "\n".join(lines[:starts[0]])
    try:
        tree = ast.parse(head)
    except SyntaxError as e:
        raise ValueError(f"scripts/{name}.py: the text before the first '# %%' must be the docstring ({e})") from e
    doc = ast.get_docstring(tree, clean=True)
    if doc is None or len(tree.body) != 1:
        raise ValueError(f"scripts/{name}.py: the text before the first '# %%' must be the module docstring only")
    title, _, rest = doc.partition("\n")
    cells = [_cell("markdown", [f"# {title}", "", *rest.strip("\n").splitlines(), "", NOTE.format(name=name)],
                   f"{name}-0")]
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        kind = "markdown" if "[markdown]" in _MARKER.match(lines[start]).group(1) else "code"
        body = lines[start + 1:end]
        if kind == "markdown":
            body = _markdown_lines(body, f"scripts/{name}.py line {start + 1}")
        if any(line.strip() for line in body):
            cells.append(_cell(kind, body, f"{name}-{len(cells)}"))
    return {"cells": cells,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"},
                         "keras_ae": {"source": f"scripts/{name}.py"}},
            "nbformat": 4, "nbformat_minor": 5}


def write_notebooks(out_dir, names=None):
    """Write `NAME.ipynb` for each lecture script (all by default) into `out_dir`; return the paths.

    Each file is written atomically. Unknown names raise ValueError before anything is written.
    """
    known = list_scripts()
    names = known if names is None else list(names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"Unknown lecture script(s) {', '.join(map(repr, unknown))}. Expected one of: "
                         f"{', '.join(known)}")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"--out must be a folder. Received a file: {out_dir}")
    notebooks = {}
    for name in names:  # every notebook is made before the first is written
        with open(os.path.join(scripts_dir(), f"{name}.py"), encoding="utf-8") as f:
            notebooks[name] = script_to_notebook(f.read(), name)
    os.makedirs(out_dir, exist_ok=True)
    return [write_json_atomic(os.path.join(out_dir, f"{name}.ipynb"), nb) for name, nb in notebooks.items()]
