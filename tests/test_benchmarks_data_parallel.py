"""`python -m benchmarks --data-parallel` (issue 40, item 5): its section and issue 40's PyTorch row.

Records are built by hand and the processes are stood in for (no Keras, no processes: quick). The real
launches are tests/test_distributed_torch.py's and tests/test_backends.py's (slow).
"""

from benchmark_fixtures import ROOT  # noqa: F401  (puts the repository on sys.path for `benchmarks`)

from benchmarks import data_parallel, report_data_parallel, report_targets_open  # noqa: E402

RUN = {"command": "python -m benchmarks --data-parallel", "date": "2026-12-05T14:30:00"}
ROW_NAME = "PyTorch 2-process DataParallel ÷ one process on the same batches"


def _row(backend="torch", variant="undercomplete", loss=9e-8, weights=7e-9):
    return {"backend": backend, "variant": variant, "processes": 2, "loss_max_rel_diff": loss,
            "weights_max_abs_diff": weights, "loss_single": [0.08, 0.07, 0.06], "seconds_single": 19.0,
            "seconds_2": 36.4, "fit_seconds_single": 0.4, "fit_seconds_2": 0.9, "address": "127.0.0.1"}


def _part(rows, skipped=None):
    return {"settings": {"rows": 1024, "batch": 64, "epochs": 3, "lr": 0.1, "processes": 2, "optimizer": "SGD",
                         "collectives": "gloo", "device": "CPU", "host": "127.0.0.1",
                         "data": "uniform random rows in [0, 1) (seed 0)"},
            "rows": rows, "skipped": skipped or {}}


def _rows(lines):
    """`{measure: [measured, how far, ...]}` of the Markdown tables in `lines`."""
    cells = [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in "\n".join(lines).split("\n")
             if line.startswith("| ") and not line.startswith("| measure |")]
    return {c[0]: c[3:] for c in cells if len(c) >= 5}


def test_section_says_how_it_was_run_and_each_rows_figures():
    part = _part([_row(), _row(variant="contractive", loss=2e-7, weights=1e-8),
                  _row("jax", loss=3e-5, weights=2e-6)])
    text = "\n".join(report_data_parallel.data_parallel_section(part, RUN))
    assert text.startswith("## Data parallelism: two processes against one on the same batches\n\nMade by "
                           "`python -m benchmarks --data-parallel` on 2026-12-05T14:30:00.")
    for words in ("SGD (learning rate 0.1) for 3 epochs on 1,024 uniform random rows", "global batches of 64",
                  "in 2 processes on 127.0.0.1 (CPU, gloo collectives; 32 rows of each global batch",
                  "`torchrun --nproc_per_node 2`"):
        assert words in text, words
    assert "| PyTorch | undercomplete | 9.0e-08 | 7.0e-09 | 19.0 (0.40) | 36.4 (0.90) | met |" in text
    assert "| JAX | undercomplete | 3.0e-05 | 2.0e-06 | 19.0 (0.40) | 36.4 (0.90) | **missed** |" in text
    # The target reads the worst PyTorch variant only; JAX's miss is the section's, not issue 40's row.
    measured, how = _rows(text.split("\n"))[ROW_NAME][:2]
    assert measured == ("max relative loss difference 2.0e-07 (contractive, the worst of undercomplete, "
                        "contractive); final weights within 1.0e-08")
    assert how == "met, 9.8e-06 under"


def test_target_row_missed_by_how_much_and_not_measured_without_torch_rows():
    row = report_data_parallel.torch_target_row(_part([_row(loss=4e-5)]))
    assert row[0] == ROW_NAME and row[4] == "**missed** by 3.0e-05"
    assert report_data_parallel.torch_target_row(_part([_row("jax")], {"torch": "torch is not installed"}))[3:] == \
        ["not measured yet", "—"]
    assert report_data_parallel.torch_target_row(None)[3:] == ["not measured yet", "—"]
    text = "\n".join(report_data_parallel.data_parallel_section(_part([], {"torch": "torch is not installed"})))
    assert "Not run: PyTorch (torch is not installed)." in text


def test_issue_40_table_reads_the_part_and_names_its_section():
    lines = report_targets_open.open_targets_sections({"data_parallel": _part([_row()])})
    assert lines[0] == "## Issue 40's targets at a glance"
    cells = _rows(lines)[ROW_NAME]
    assert cells[:2] == ["max relative loss difference 9.0e-08 (undercomplete, the worst of undercomplete); "
                         "final weights within 7.0e-09", "met, 9.9e-06 under"]
    assert cells[2] == report_data_parallel.HEADING
    without = _rows(report_targets_open.open_targets_sections({"speed": {"backends": {}}}))[ROW_NAME]
    assert without == ["not measured yet", "—", "—"]


def test_part_compares_each_backend_and_variant_with_one_process(monkeypatch):
    calls = []

    def fake_launch(backend, variant, out, nproc=1, settings=None):
        calls.append((backend, variant, nproc, settings["rows"]))
        w = [[1.0, 2.0]] if nproc == 1 else [[1.0, 2.0 + 1e-6]]
        losses = [[0.5, 0.25]] if nproc == 1 else [[0.5, 0.25], [0.5 * (1 + 2e-6), 0.25]]
        return ([{"rank": r, "loss": loss, "weights": w, "fit_seconds": 0.5, "address": "127.0.0.1"}
                 for r, loss in enumerate(losses)], 2.0 * nproc)

    monkeypatch.setattr(data_parallel, "_available", lambda backend: backend == "torch")
    part = data_parallel.run_data_parallel(lambda msg: None, quick=True, run=fake_launch)
    assert calls == [("torch", v, n, 64) for v in data_parallel.VARIANTS for n in (1, 2)]
    assert part["skipped"] == {"jax": "jax is not installed"}
    r = part["rows"][0]
    assert abs(r["loss_max_rel_diff"] - 1e-6) < 1e-12  # the mean of the two processes' losses against one's
    assert abs(r["weights_max_abs_diff"] - 1e-6) < 1e-12
    assert (r["seconds_single"], r["seconds_2"]) == (2.0, 4.0)
