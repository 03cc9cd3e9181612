"""Turn the benchmark results into results.json and RESULTS.md: merge a run into the runs before it,
and lay out the page (a short header, then the quality, speed, tabular and image data set sections, each
from its module).

Re-render RESULTS.md from results.json without measuring anything: `python -m benchmarks --render`.
"""

import json
import os

from benchmarks.report_colorization import colorization_section
from benchmarks.report_conditional import conditional_section
from benchmarks.report_conv_speed import conv_speed_section, merge_conv_speed
from benchmarks.report_data_parallel import data_parallel_section
from benchmarks.report_faces import faces_section
from benchmarks.report_images import images_sections, merge_images
from benchmarks.report_inference import inference_section
from benchmarks.report_jax_conv import jax_conv_section
from benchmarks.report_one_class_images import merge_one_class_images, one_class_images_sections
from benchmarks.report_quality import keep_unmeasured_nll_rows, quality_section
from benchmarks.report_restoration import restoration_section
from benchmarks.report_spe import spe_section
from benchmarks.report_speed import carry_previous_speed, speed_section
from benchmarks.report_tabular import tabular_section
from benchmarks.report_targets import targets_section
from benchmarks.report_targets_open import open_targets_sections
from benchmarks.report_vq import vq_section
from keras_ae._io import atomic_write, write_json_atomic


def merge_runs(old_runs, new_runs, nll_measured=(), nll_rows=()):
    """results.json's `runs`: for each part (the quality parts, `speed`, `tabular`), the command that
    made it and when. The parts this run made take its record, the others keep theirs. The NLL part
    also records, under `rows`, the run that measured each of its `nll_rows`: `--nll-models` remeasures
    some (`nll_measured`) and keeps the others from the run before."""
    if "speed" in new_runs:  # a whole speed run supersedes the runs of some of its parts
        old_runs = {k: v for k, v in old_runs.items() if not k.startswith("speed.")}
    runs = {**old_runs, **new_runs}
    if "vae_nll" in new_runs:
        new = {k: v for k, v in new_runs["vae_nll"].items() if k != "rows"}
        old_run = old_runs.get("vae_nll") or {}
        before = {k: v for k, v in old_run.items() if k != "rows"} or None
        rows = {name: new if name in nll_measured else (old_run.get("rows") or {}).get(name, before)
                for name in nll_rows}
        runs["vae_nll"] = {**new, "rows": {name: run for name, run in rows.items() if run}}
    return runs


def write(results, out_dir):
    json_path = os.path.join(out_dir, "results.json")
    old = {}
    if os.path.exists(json_path):
        with open(json_path, encoding="utf-8") as f:
            old = json.load(f)
    new_runs = results.get("runs", {})
    nll_measured = [row["name"] for row in results.get("quality", {}).get("vae_nll", {}).get("models", [])]
    if old and old.get("quick") == results.get("quick"):
        merged = {**old, **results}
        merged["commands"] = [c for c in old.get("commands", [old.get("command")]) if c] + [results["command"]]
        if "quality" in old and "quality" in results:  # quality parts can be rerun one at a time
            merged["quality"] = {**old["quality"], **results["quality"]}
            keep_unmeasured_nll_rows(old["quality"], merged["quality"])
            if "one_class_images" in results["quality"]:  # one data set at a time (--datasets)
                merged["quality"]["one_class_images"] = merge_one_class_images(
                    old["quality"].get("one_class_images"), results["quality"]["one_class_images"],
                    old.get("runs"))
        if "speed" in results:
            carry_previous_speed(old, results)
        if "images" in results:  # a data set's parts can be rerun one data set at a time
            merged["images"] = merge_images(old.get("images"), results["images"])
        if "conv_speed" in results:  # one architecture at a time (--conv-archs)
            merged["conv_speed"] = merge_conv_speed(old.get("conv_speed"), results["conv_speed"])
        results = merged
    else:
        old = {}
    if "quality" in results:  # no run before to keep rows from: drop the merge's working keys all the same
        keep_unmeasured_nll_rows({}, results["quality"])
    nll_rows = [row["name"] for row in results.get("quality", {}).get("vae_nll", {}).get("models", [])]
    results["runs"] = merge_runs(old.get("runs", {}), new_runs, nll_measured, nll_rows)
    write_json_atomic(json_path, results)
    render(results, out_dir)


def render(results, out_dir):
    """Write RESULTS.md from `results` (the content of results.json)."""
    m = results["machine"]
    runs = results.get("runs", {})
    data = [f"Data: MNIST from {results['data_source']}."] if results.get("data_source") else []
    lines = ["# keras-ae benchmarks", "", *data,
             f"Machine and versions of the last run ({results['date']}): {m['cpus']} CPUs, {m['platform']}; "
             f"Python {m['python']}, "
             + ", ".join(f"{k} {m[k]}" for k in ("tensorflow", "jax", "torch", "keras", "pythae") if k in m)
             + f", keras-ae {m['keras_ae']}. Raw figures: `results.json`. Each section names the command that "
               "made it, and when.", ""]
    if results.get("quick"):
        lines += ["**Quick run**: tiny sizes, to check that the harness works. These figures mean nothing.", ""]
    if not results.get("quick") and any(k in results for k in ("quality", "faces", "colorization")):
        lines += targets_section(results)
    if not results.get("quick"):  # issues 35, 39 and 40, each when a part it reads is here
        lines += open_targets_sections(results)
    if "quality" in results:
        lines += quality_section(results["quality"], runs)
        if "one_class_images" in results["quality"]:
            lines += one_class_images_sections(results["quality"]["one_class_images"], runs)
    if "speed" in results:
        lines += speed_section(results["speed"], runs.get("speed"),
                               {k.split(".", 1)[1]: r for k, r in runs.items() if k.startswith("speed.")})
    if "conv_speed" in results:
        lines += conv_speed_section(results["conv_speed"], runs.get("conv_speed"), results.get("steps_per_execution"))
    if "jax_conv" in results:
        lines += jax_conv_section(results["jax_conv"], runs.get("jax_conv"), results.get("speed"))
    if "steps_per_execution" in results:
        lines += spe_section(results["steps_per_execution"], runs.get("steps_per_execution"))
    if "inference" in results:
        lines += inference_section(results["inference"], runs.get("inference"))
    if "data_parallel" in results:
        lines += data_parallel_section(results["data_parallel"], runs.get("data_parallel"))
    if "tabular" in results:
        lines += tabular_section(results["tabular"], runs.get("tabular"))
    if "images" in results:
        lines += images_sections(results["images"], runs)
    if "faces" in results:
        lines += faces_section(results["faces"], runs.get("faces"))
    if "conditional" in results:
        lines += conditional_section(results["conditional"], runs.get("conditional"))
    if "vq" in results:
        lines += vq_section(results["vq"], runs.get("vq"), results.get("images"))
    if "colorization" in results:
        lines += colorization_section(results["colorization"], runs.get("colorization"))
    if "restoration" in results:
        lines += restoration_section(results["restoration"], runs.get("restoration"))
    text = "\n".join(lines)

    def write_text(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    atomic_write(os.path.join(out_dir, "RESULTS.md"), write_text)


def render_folder(folder):
    """Re-render `folder`/RESULTS.md from `folder`/results.json; nothing is measured."""
    with open(os.path.join(folder, "results.json"), encoding="utf-8") as f:
        render(json.load(f), folder)


if __name__ == "__main__":
    render_folder(os.path.dirname(os.path.abspath(__file__)))
