"""Logging (issue 37, item 7): README's TensorBoard and CSVLogger block runs, and logs the metric names it names."""

import csv
import os
import re

import numpy as np
import pytest

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")


def logging_block():
    text = open(README, encoding="utf-8").read()
    section = text.split("### Logging: TensorBoard and a CSV file\n", 1)[1].split("\n## ", 1)[0]
    return section, re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]


@pytest.mark.slow  # a default-size VAE: 3 to 10 s
def test_the_readme_logging_block_writes_tensorboard_events_and_the_metrics_it_names(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    section, code = logging_block()
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x_small = rng.random((64, 784)).astype("float32")
    # The block as written, on 64 random images for one epoch instead of MNIST for ten.
    code = code.replace("(x_train, _), (x_test, _) = load_mnist()", "x_train = x_test = X_SMALL")
    code = code.replace("epochs=10", "epochs=1")
    exec(compile(code, "README-logging", "exec"), {"X_SMALL": x_small})
    with open(tmp_path / "vae_log.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header == ["epoch", "kl_loss", "loss", "reconstruction_loss", "val_kl_loss", "val_loss",
                      "val_reconstruction_loss"]
    for name in header[1:]:
        assert f"`{name}`" in section, name  # the README names every metric the models log
    events = [os.path.join(d, f) for d, _, files in os.walk(tmp_path / "logs" / "vae") for f in files]
    assert any("events.out.tfevents" in e for e in events) and {"train", "validation"} <= set(
        os.listdir(tmp_path / "logs" / "vae"))
