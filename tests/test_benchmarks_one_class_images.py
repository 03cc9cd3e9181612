"""The one-class benchmark on real images (benchmarks/one_class_images.py) on a tiny fixture of its own:
the held-out split, the scores, the merge of partial runs and the RESULTS.md section."""

import json
import os

import numpy as np
import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


@pytest.fixture
def ocb(monkeypatch):
    monkeypatch.syspath_prepend(ROOT)
    from benchmarks import one_class_images

    return one_class_images


def tiny_data(n_per_class=30, side=8, channels=3, seed=0):
    """Three classes of images with a pattern each (a horizontal ramp, a vertical one, a checkerboard) and a
    little noise, `(n, side, side, channels)` in [0, 1]: the cosine distance, blind to brightness, tells them apart."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.1, 0.9, side)
    patterns = np.stack([np.tile(ramp, (side, 1)), np.tile(ramp[:, None], (1, side)),
                         0.2 + 0.6 * (np.add.outer(np.arange(side), np.arange(side)) % 2)])[..., None]

    def part(n):
        y = np.repeat(np.arange(3), n)
        x = np.clip(patterns[y] + rng.normal(0, 0.03, (len(y), side, side, channels)), 0, 1)
        return x.astype("float32"), y

    return part(n_per_class), part(n_per_class // 3)


def test_validate_split_holds_out_a_fifth_of_the_normal_class(ocb):
    (x, y), test = tiny_data()
    x_normal, x_eval, is_anomaly = ocb.split(((x, y), test), 1, "validate", n_others=40)
    assert len(x_normal) == 24 and len(x_eval) == 6 + 40
    assert is_anomaly.tolist() == [0] * 6 + [1] * 40
    # the held-out normal images are training images of the class, none of them also trained on
    held = {a.tobytes() for a in x_eval[:6]}
    assert held <= {a.tobytes() for a in x[y == 1]} and not held & {a.tobytes() for a in x_normal}
    x_normal, x_eval, is_anomaly = ocb.split(((x, y), test), 1, "test")
    assert len(x_normal) == 30 and x_eval is test[0] and is_anomaly.sum() == 20


def test_nearest_neighbour_scores_find_the_other_classes_on_colour_images(ocb):
    data = tiny_data()
    got = ocb.measure(data, (8, 8, 3), [0, 2], "test", [], [], [(1.0, 3), (0.0, 1)], {}, log=lambda m: None)
    assert set(got["auroc"]) == {"knn_s1_k3", "knn_s0_k1"}
    for table in got["auroc"].values():
        assert set(table) == {"0", "2"} and all(v == 1.0 for v in table.values())
    assert got["seconds"]["ae"] == 0 and got["seconds"]["knn"] > 0


def test_dev_records_merge_class_by_class(ocb):
    old = {"dataset": "cifar10", "split": "validate", "command": "python -m benchmarks.one_class_images a",
           "epochs": {"ae": 30}, "per_class": {"ae": {"0": 0.6, "1": 0.8}}, "mean": {"ae": 0.7}, "seconds": {"ae": 5}}
    new = {"dataset": "cifar10", "split": "validate", "commands": ["python -m benchmarks.one_class_images b"],
           "epochs": {"restoration": 15}, "per_class": {"restore_cosine1": {"0": 0.5}, "ae": {"1": 0.9}},
           "mean": {}, "seconds": {"restoration": 9}}
    merged = ocb.merge_dev(old, new)
    assert merged["commands"] == ["python -m benchmarks.one_class_images a", "python -m benchmarks.one_class_images b"]
    assert merged["per_class"] == {"ae": {"0": 0.6, "1": 0.9}, "restore_cosine1": {"0": 0.5}}
    assert merged["mean"] == pytest.approx({"ae": 0.75, "restore_cosine1": 0.5})
    assert "command" not in merged and merged["epochs"] == {"ae": 30, "restoration": 15}
    with pytest.raises(ValueError, match="'fashion_mnist' and 'cifar10'"):
        ocb.merge_dev({**old, "dataset": "fashion_mnist"}, new)


def test_the_dev_command_leaves_out_the_output_path(ocb):
    assert ocb.shown_command(["--dataset", "cifar10", "--out", "/somewhere/dev.json", "--families", "knn"]) == \
        "python -m benchmarks.one_class_images --dataset cifar10 --families knn"


def record(mean_ae, mean_rest, target=0.87):
    def family(m, **extra):
        return {"model": "M", "epochs": 1, "auroc": {"0": m, "1": m}, "mean_auroc": m, "seconds": 60.0, **extra}

    return {"dataset": "cifar10", "data_source": "CIFAR-10 as JPEG images (lossy copies)", "classes": ["a", "b"],
            "backend": "jax", "ae": family(mean_ae), "restoration": family(mean_rest, error="cosine", smoothing=1.0),
            "knn": family(0.6, k=3, sigma=1.0), "target": target}


def test_report_section_states_the_target_and_what_was_tried(ocb, tmp_path):
    from benchmarks.report_one_class_images import merge_one_class_images, one_class_images_sections, run_key

    dev = {"dataset": "cifar10", "split": "validate", "backend": "jax", "commands": ["python -m x --dataset cifar10"],
           "per_class": {"ae": {"0": 0.5, "1": 0.7}, "restore_cosine1": {"0": 0.8}},
           "mean": {"ae": 0.6, "restore_cosine1": 0.8}, "seconds": {"ae": 120.0}}
    (tmp_path / "one_class_images_dev_cifar10.json").write_text(json.dumps(dev))
    part = merge_one_class_images({"datasets": {"fashion_mnist": {"old": 1}}},
                                  {"datasets": {"cifar10": record(0.55, 0.62)}})
    assert set(part["datasets"]) == {"fashion_mnist", "cifar10"}
    runs = {run_key("cifar10"): {"command": "python -m benchmarks --quality --parts one_class_images", "date": "D"}}
    text = "\n".join(one_class_images_sections({"datasets": {"cifar10": part["datasets"]["cifar10"]}}, runs,
                                               dev_folder=str(tmp_path)))
    assert "### One-class CIFAR-10 (JPEG copy) (Ruff et al. 2018 protocol), AUROC" in text
    assert "| mean | 0.550 | 0.620 | 0.600 |" in text
    assert "**not met** (0.620, 0.250 short)" in text
    assert "**restore_cosine1 0.8000 (classes 0 only)**" in text and "ae 0.6000" in text
    assert "Made by `python -m benchmarks --quality --parts one_class_images`" in text
    met = "\n".join(one_class_images_sections({"datasets": {"cifar10": record(0.9, 0.5)}}, dev_folder=str(tmp_path)))
    assert "0.870 or more, best keras-ae detector: met (0.900)" in met


def test_runs_of_some_classes_join_when_their_settings_match():
    from benchmarks.report_one_class_images import merge_one_class_images, one_class_images_sections

    def part(aurocs, model="M"):
        r = record(0.0, 0.0)
        r["runs"] = [{"command": "python -m benchmarks C" + "".join(aurocs), "date": "D", "classes": list(aurocs)}]
        for f in ("ae", "restoration", "knn"):
            r[f] = {**r[f], "model": model, "auroc": dict(aurocs), "mean_auroc": float(np.mean(list(aurocs.values())))}
        return {"datasets": {"cifar10": r}}

    first = merge_one_class_images(None, part({"0": 0.6}))["datasets"]["cifar10"]
    text = "\n".join(one_class_images_sections({"datasets": {"cifar10": first}}))
    assert "| mean of the classes measured | 0.600 (1 of 2 classes)" in text and "not measured on every class" in text
    assert "classes 1" in text
    joined = merge_one_class_images({"datasets": {"cifar10": first}}, part({"1": 0.8}))["datasets"]["cifar10"]
    assert joined["ae"]["auroc"] == {"0": 0.6, "1": 0.8} and joined["ae"]["mean_auroc"] == pytest.approx(0.7)
    assert joined["ae"]["seconds"] == pytest.approx(120.0)
    text = "\n".join(one_class_images_sections({"datasets": {"cifar10": joined}}))
    assert "| mean | 0.700 | 0.700 | 0.700 |" in text and "**not met** (0.700, 0.170 short)" in text
    assert "Made by `python -m benchmarks C0` on D (class 0); `python -m benchmarks C1` on D (class 1)." in text
    again = merge_one_class_images({"datasets": {"cifar10": joined}}, part({"1": 0.9}))["datasets"]["cifar10"]
    assert [run["classes"] for run in again["runs"]] == [["0"], ["1"]] and again["ae"]["mean_auroc"] == 0.75
    other = merge_one_class_images({"datasets": {"cifar10": first}}, part({"1": 0.8}, model="N"))
    assert other["datasets"]["cifar10"]["ae"]["auroc"] == {"1": 0.8}  # other settings: replaced, not joined


@pytest.mark.slow
def test_one_class_images_trains_all_three_detectors(ocb, monkeypatch):
    """The test measurement end to end on the fixture: one epoch of each model, two classes (as `--quick`)."""
    (x, y), (xt, yt) = tiny_data(n_per_class=40, side=8, channels=1)
    monkeypatch.setattr(ocb, "load", lambda dataset, quick: ((x, y), (xt, yt), (8, 8, 1), ["a", "b", "c"], "fixture"))
    r = ocb.one_class_images("fashion_mnist", log=lambda m: None, quick=True)
    for family in ("ae", "restoration", "knn"):
        assert set(r[family]["auroc"]) == {"0", "1"} and 0 <= r[family]["mean_auroc"] <= 1
    assert r["knn"]["mean_auroc"] == 1.0 and r["target"] == 0.95 and r["data_source"] == "fixture"
