"""Write keras_ae/fastest_backends.json (`keras_ae.backend_table`) from the speed benchmark's figures.

`python -m benchmarks --speed` writes it after its run, and `python -m benchmarks --render` rebuilds it from
the `speed` record already in results.json: for each variant of each backend's `training` rows, keras-ae's
median samples/s (`keras_ae`), and the fastest backend. A `--quick` run's figures mean nothing, and a results
folder other than benchmarks/ is someone's own run: their table goes beside their results.json instead of
into the package.
"""

import json
import os

from keras_ae._io import write_json_atomic
from keras_ae.backend_table import TABLE_PATH, check_table

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = os.path.basename(TABLE_PATH)


def build_table(speed, run=None):
    """The table's content from results.json's `speed` record (`run`: the command and date that made it)."""
    rates = {}
    for backend, record in sorted(speed.get("backends", {}).items()):
        for row in record.get("training", []) if isinstance(record, dict) else []:
            rates.setdefault(row["variant"], {})[backend] = round(float(row["keras_ae"]), 1)
    source = {"command": (run or {}).get("command"), "date": (run or {}).get("date") or speed.get("date")}
    table = {"about": "The Keras backend that trained each variant fastest in the speed benchmark (keras-ae's "
                      "training samples/s, benchmarks/speed_worker.py 'training'); written by "
                      "benchmarks/backend_table.py from benchmarks/results.json, not by hand. Variants not named "
                      "here train on Keras's default backend.",
             "source": source,
             "variants": {v: {"fastest": max(r, key=r.get), "samples_per_s": r} for v, r in sorted(rates.items())}}
    return check_table(table)


def table_run(runs):
    """The run (of results.json's `runs`) whose training figures the table reads: a later `--speed --speed-parts
    training` run's, else the whole speed run's."""
    return runs.get("speed.training") or runs.get("speed")


def table_path(out_dir, quick):
    """Where a run's table goes: the package's for a full run into benchmarks/, else beside its results."""
    if not quick and os.path.realpath(out_dir) == os.path.realpath(HERE):
        return TABLE_PATH
    return os.path.join(out_dir, NAME)


def write_from_folder(out_dir, log=print):
    """Rebuild the table from `out_dir`/results.json; return the path written, or None without a speed record."""
    with open(os.path.join(out_dir, "results.json"), encoding="utf-8") as f:
        results = json.load(f)
    if "speed" not in results:
        return None
    path = table_path(out_dir, results.get("quick", False))
    write_json_atomic(path, build_table(results["speed"], table_run(results.get("runs", {}))))
    log(f"wrote {path} from {os.path.join(out_dir, 'results.json')}'s speed figures")
    return path
