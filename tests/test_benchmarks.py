"""The benchmark harness runs end to end in --quick mode, so its code cannot rot."""

import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def test_benchmarks_quick(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quality", "--speed", "--quick", "--out",
                           str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["quick"] and results["machine"]["cpus"] >= 1
    assert results["speed"]["matmul_peak_gflops"] > 0
    assert all(r["ratio"] > 0 for r in results["speed"]["training"])
    assert len(results["quality"]["zoo_vs_pca"]) >= 1
    text = (tmp_path / "RESULTS.md").read_text()
    for heading in ("## Quality", "## Speed and memory", "One-class MNIST", "Training throughput"):
        assert heading in text
    assert "Quick run" in text


def test_benchmarks_need_a_choice():
    proc = subprocess.run([sys.executable, "-m", "benchmarks"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2 and "choose --quality, --speed or both" in proc.stderr
