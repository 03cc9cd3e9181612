"""`keras-ae train`'s `steps_per_execution`, decided from paired timings (`python -m benchmarks --steps-per-execution`).

For each backend and each kind of model `keras-ae train` trains (`MODELS`: its dense default, `undercomplete`,
and the convolutional `convolutional`, both on MNIST-sized uint8 noise), each pair is two fresh processes
(`python -m benchmarks.spe_pairs worker ...`) that train the same model from the same seed on the same images
as `keras-ae train` does (`keras_ae.data.training_dataset`, batch 256, Adam 1e-3, `keras_ae.training.fit_model`),
one with `steps_per_execution=1` and one with `CANDIDATE`, back to back, alternating which goes first. A run's
samples/s are over its timed epochs: from the end of the first (untimed: compilation, first allocations) to the
end of the last, each read in an end-of-epoch callback after the epoch's logs are on the host. The pair's ratio
is the `CANDIDATE` run's samples/s ÷ the one-step run's.

The decision (`decide`): `keras-ae train` uses `CANDIDATE` steps per call for that kind of model on that backend
only if the median ratio over the pairs is at least `THRESHOLD`, else 1. A full run writes the decisions into
`keras_ae/steps_per_execution.json` (`keras_ae.training.default_steps_per_execution` reads it); a `--quick` run
writes its table beside its results instead. PyTorch is not timed: Keras's PyTorch trainer refuses
`steps_per_execution > 1`, so the table gives it no row and `keras-ae train` runs 1 there.
"""

import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

CANDIDATE = 8  # the steps per call weighed against 1
THRESHOLD = 1.05  # median ratio (CANDIDATE ÷ 1) from which CANDIDATE becomes the default
PAIRS = 5
BATCH = 256  # keras-ae train's default batch size
# kind -> (variant, sample shape, images per epoch, epochs): the first epoch is untimed. The dense model gets
# about MNIST's 60,000 training images (232 whole batches, a multiple of CANDIDATE steps); the slower conv
# model a seventh of them, so that a pair takes about a minute on a 2-core CPU.
MODELS = {"dense": ("undercomplete", (784,), 59392, 3), "image": ("convolutional", (28, 28, 1), 8192, 2)}
QUICK = dict(pairs=2, images={"dense": 2048, "image": 512}, epochs=2)
NOT_TIMED = {"torch": "Keras's PyTorch trainer refuses steps_per_execution > 1 (keras_ae.training.fit_model runs "
                      "1 there), so there is nothing to weigh"}
TABLE_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "keras_ae",
                          "steps_per_execution.json")


def decide(ratios, threshold=THRESHOLD, candidate=CANDIDATE):
    """The steps per call for one (backend, kind of model): `candidate` if the median of `ratios` (the
    candidate's samples/s ÷ one step's, one per pair) is at least `threshold`, else 1."""
    if not ratios:
        raise ValueError("decide needs at least one pair's ratio. Received: none")
    return candidate if statistics.median(ratios) >= threshold else 1


def pair_row(ones, candidates, threshold=THRESHOLD, candidate=CANDIDATE):
    """The row of one (backend, kind) from the pairs' worker results (`ones[i]` and `candidates[i]` are pair i)."""
    ratios = [c["samples_per_s"] / o["samples_per_s"] for o, c in zip(ones, candidates)]
    return {"pairs": len(ratios), "ratios": ratios, "ratio": statistics.median(ratios),
            "ratio_min": min(ratios), "ratio_max": max(ratios),
            "one_step_samples_per_s": statistics.median(r["samples_per_s"] for r in ones),
            "candidate_samples_per_s": statistics.median(r["samples_per_s"] for r in candidates),
            "first": ["one" if r["first"] else "candidate" for r in ones],
            "busy_cpus": [r["busy_cpus"] for r in ones + candidates],
            "versions": ones[0]["versions"],
            "steps_per_execution": decide(ratios, threshold, candidate)}


def table(record, run=None):
    """The JSON table keras-ae train reads: `{"backends": {backend: {kind: steps}}, ...}`, one row per
    backend that was timed (a backend without a row runs 1 step per call)."""
    rows = {b: {kind: r["steps_per_execution"] for kind, r in rec["models"].items()}
            for b, rec in record["backends"].items() if "models" in rec}
    return {"backends": rows, "candidate": record["candidate"], "threshold": record["threshold"],
            "rule": f"{record['candidate']} steps per call where the median of {record['pairs']} paired ratios "
                    f"(samples/s with {record['candidate']} ÷ with 1) was at least {record['threshold']}, else 1",
            "made_by": dict(run or {}), "quick": bool(record.get("quick"))}


def write_table(path, record, run=None):
    """Write `table(record, run)` to `path` atomically; returns the table."""
    from keras_ae._io import write_json_atomic

    content = table(record, run)
    write_json_atomic(path, content)
    return content


def run_steps_per_execution(log, quick=False, backends=("tensorflow", "jax", "torch"), settings=None):
    """The `steps_per_execution` record of results.json: per backend, per kind of model, the pairs' row.

    `settings` overrides pairs, images (`{kind: n}`), epochs and models (`{kind: (variant, shape, n, epochs)}`);
    tests pass tiny ones.
    """
    from benchmarks.speed import _run

    s = dict(pairs=PAIRS, images={}, epochs=None, models=MODELS)
    s.update(QUICK if quick else {})
    s.update(settings or {})
    record = {"cpus": os.cpu_count(), "candidate": CANDIDATE, "threshold": THRESHOLD, "pairs": s["pairs"],
              "batch_size": BATCH, "quick": quick, "models": {}, "backends": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, (variant, shape, n, epochs) in s["models"].items():
            n, epochs = s["images"].get(kind, n), s["epochs"] or epochs
            path = os.path.join(tmp, f"{kind}.npy")
            np.save(path, np.random.default_rng(0).integers(0, 256, (n,) + tuple(shape), dtype="uint8"))
            record["models"][kind] = {"variant": variant, "shape": list(shape), "images": n, "epochs": epochs,
                                      "data": path}
        for backend in backends:
            if backend in NOT_TIMED:
                record["backends"][backend] = {"skipped": NOT_TIMED[backend]}
                continue
            rows = {}
            for kind, spec in record["models"].items():
                ones, candidates = [], []
                for i in range(s["pairs"]):
                    order = (1, CANDIDATE) if i % 2 == 0 else (CANDIDATE, 1)
                    for steps in order:
                        out = os.path.join(tmp, f"{backend}-{kind}-{i}-{steps}.json")
                        _run(["benchmarks.spe_pairs", "worker", out,
                              json.dumps({**spec, "seed": i, "steps_per_execution": steps})], backend, log,
                             prefix="spe")
                        with open(out) as f:
                            result = {**json.load(f), "first": steps == order[0]}
                        (ones if steps == 1 else candidates).append(result)
                rows[kind] = pair_row(ones, candidates)
                r = rows[kind]
                log(f"spe {backend} {kind}: {CANDIDATE} ÷ 1 steps per call = {r['ratio']:.2f} ({r['ratio_min']:.2f}-"
                    f"{r['ratio_max']:.2f}, {r['pairs']} pairs) -> {r['steps_per_execution']}")
            record["backends"][backend] = {"models": rows}
    for spec in record["models"].values():
        del spec["data"]
    return record


def worker(out, spec):
    """One timed training, in this fresh process: writes `{samples_per_s, busy_cpus, versions}` to `out`."""
    from benchmarks.conv_worker import busy_cpus

    busy = busy_cpus()  # before this process adds its own work
    import keras

    from keras_ae.data import training_dataset
    from keras_ae.models.registry import get_model
    from keras_ae.training import fit_model

    x = np.load(spec["data"])
    marks = []

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            [float(v) for v in (logs or {}).values()]  # the epoch's results are on the host (JAX runs ahead)
            marks.append(time.perf_counter())

    keras.utils.set_random_seed(spec["seed"])
    model = get_model(spec["variant"], input_shape=tuple(spec["shape"]))
    fit_model(model, training_dataset(x, BATCH, seed=spec["seed"]), epochs=spec["epochs"],
              optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=spec["steps_per_execution"],
              shuffle=False, verbose=0, callbacks=[EpochClock()])
    rate = (spec["epochs"] - 1) * len(x) / (marks[-1] - marks[0])
    result = {"samples_per_s": rate, "busy_cpus": busy, "steps_per_execution": spec["steps_per_execution"],
              "versions": {"keras": keras.__version__, "backend": keras.backend.backend()}}
    with open(out + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(out + ".tmp", out)
    print(f"spe {keras.backend.backend()} {spec['variant']} steps_per_execution={spec['steps_per_execution']}: "
          f"{rate:.0f} samples/s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "worker":
        sys.exit("usage: python -m benchmarks.spe_pairs worker OUT.json SPEC_JSON")
    worker(sys.argv[2], json.loads(sys.argv[3]))
