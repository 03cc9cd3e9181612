"""Speed and memory benchmarks, each reported as a ratio against a reference measured in the same run."""

import json
import os
import subprocess
import sys
import time

import keras
import numpy as np
import tensorflow as tf

import keras_ae
from keras_ae.models.registry import VARIANTS, get_model

# Model sizes for the speed runs: the library defaults, 28x28x1 for the conv models.
IMAGE_VARIANTS = {"convolutional", "conv_denoising", "conv_vae"}


def build(variant, **kw):
    shape = (28, 28, 1) if variant in IMAGE_VARIANTS else (784,)
    if variant == "overcomplete":
        kw.setdefault("latent_dim", 1024)
    return get_model(variant, input_shape=shape, **kw)


def matmul_peak(n=2048, repeats=20):
    """Best fp32 matmul rate of this machine in GFLOP/s (2 n^3 FLOPs per product)."""
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    f = tf.function(lambda a, b: tf.matmul(a, b))
    f(a, b).numpy()
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        f(a, b).numpy()
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t) / 1e9)
    return best


def dense_train_flops_per_sample(model):
    """Training FLOPs per sample from the Dense kernels: 2 forward + 4 backward per weight."""
    total = 0
    for part in (model.encoder, model.decoder):
        for w in part.trainable_weights:
            if len(w.shape) == 2:
                total += int(np.prod(w.shape))
    return 6 * total


def functional_twin(model):
    """A plain functional Keras model of exactly the same layers (cloned), trained by compile/fit."""
    enc = keras.models.clone_model(model.encoder)
    dec = keras.models.clone_model(model.decoder)
    inp = keras.Input(model.sample_shape)
    x = inp
    if model.corruption is not None:
        x = keras_ae.Corruption.from_config(model.corruption.get_config())(x)
    twin = keras.Model(inp, dec(enc(x)))
    loss = "mse" if model.reconstruction_loss == "mse" else "binary_crossentropy"
    return twin, loss


class KerasIOVAE(keras.Model):
    """The keras.io VAE example's shape: an encoder, a decoder, and a train_step with a tape."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.sampling = keras_ae.Sampling(seed=0)
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        data = keras.utils.unpack_x_y_sample_weight(data)[0]
        with tf.GradientTape() as tape:
            z_mean, z_log_var = self.encoder(data)
            z = self.sampling([z_mean, z_log_var])
            reconstruction = self.decoder(z)
            flat = keras.ops.reshape(data, (keras.ops.shape(data)[0], -1))
            rflat = keras.ops.reshape(reconstruction, (keras.ops.shape(data)[0], -1))
            reconstruction_loss = keras.ops.mean(keras.ops.sum(keras.ops.binary_crossentropy(flat, rflat), axis=1))
            kl_loss = -0.5 * (1 + z_log_var - keras.ops.square(z_mean) - keras.ops.exp(z_log_var))
            kl_loss = keras.ops.mean(keras.ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def reference_for(model):
    """The reference model and its compile loss for a keras-ae model."""
    if isinstance(model, keras_ae.BaseVAE):
        return KerasIOVAE(keras.models.clone_model(model.encoder), keras.models.clone_model(model.decoder)), None
    return functional_twin(model)


def fit_throughput(model, x, batch_size, loss=None, jit_compile=False, pipeline="arrays", epochs=1):
    """Samples per second of `fit` over `x` after a warm-up (tracing) call."""
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, jit_compile=jit_compile)
    if pipeline == "tf.data":
        def data(n):
            return tf.data.Dataset.from_tensor_slices((x[:n], x[:n])).batch(batch_size).prefetch(tf.data.AUTOTUNE)
        model.fit(data(batch_size * 3), epochs=1, verbose=0)
        t = time.perf_counter()
        model.fit(data(len(x)), epochs=epochs, verbose=0)
    else:
        model.fit(x[:batch_size * 3], x[:batch_size * 3], batch_size=batch_size, epochs=1, verbose=0)
        t = time.perf_counter()
        model.fit(x, x, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True)
    return len(x) * epochs / (time.perf_counter() - t)


def training_ratios(x_flat, x_img, variants, batch_size, repeats, log, epochs=1):
    """keras-ae against its reference, in back-to-back pairs.

    Each repeat times both models one after the other, alternating which goes
    first, and takes the ratio of that pair; the figure reported is the median
    of the pair ratios, so a slow spell of the shared machine hits both sides
    of a pair instead of one model's best-of.
    """
    rows = []
    for variant in variants:
        x = x_img if variant in IMAGE_VARIANTS else x_flat
        ours, ref, ratios = [], [], []
        for i in range(repeats):
            keras.utils.set_random_seed(0)
            model = build(variant)
            twin, loss = reference_for(model)
            runs = [lambda: fit_throughput(model, x, batch_size, epochs=epochs),
                    lambda: fit_throughput(twin, x, batch_size, loss=loss, epochs=epochs)]
            if i % 2:
                b, a = runs[1](), runs[0]()
            else:
                a, b = runs[0](), runs[1]()
            ours.append(a)
            ref.append(b)
            ratios.append(a / b)
        row = {"variant": variant, "keras_ae": float(np.median(ours)), "reference": float(np.median(ref)),
               "reference_kind": "keras.io-style VAE train_step" if "vae" in variant else "functional compile/fit",
               "ratio": float(np.median(ratios)), "ratio_min": min(ratios), "ratio_max": max(ratios),
               "pairs": repeats}
        rows.append(row)
        log(f"train {variant}: {row['keras_ae']:.0f} vs {row['reference']:.0f} samples/s, median pair ratio "
            f"{row['ratio']:.3f} (range {row['ratio_min']:.2f}-{row['ratio_max']:.2f})")
    return rows


def jit_and_pipeline(x_flat, x_img, batch_size, log, variants=("undercomplete", "vae", "convolutional")):
    rows = []
    for variant in variants:
        x = x_img if variant in IMAGE_VARIANTS else x_flat
        for jit in (False, True):
            for pipeline in ("arrays", "tf.data"):
                keras.utils.set_random_seed(0)
                try:
                    sps = fit_throughput(build(variant), x, batch_size, jit_compile=jit, pipeline=pipeline)
                except Exception as e:  # XLA may not support an op on this machine
                    sps, note = None, f"{type(e).__name__}: {str(e).splitlines()[0][:80]}"
                else:
                    note = ""
                rows.append({"variant": variant, "jit_compile": jit, "pipeline": pipeline, "samples_per_s": sps,
                             "note": note})
                log(f"{variant} jit={jit} {pipeline}: {sps}")
    for variant in variants:
        group = [r for r in rows if r["variant"] == variant and r["samples_per_s"]]
        base = next(r for r in group if not r["jit_compile"] and r["pipeline"] == "arrays")["samples_per_s"]
        for r in group:
            r["ratio_to_default"] = r["samples_per_s"] / base
    return rows


def inference_sweep(x_flat, batch_sizes, log):
    model = build("undercomplete")
    rows = []
    for b in batch_sizes:
        for verb in ("encode", "reconstruct"):
            fn = getattr(model, verb)
            fn(x_flat[:b], batch_size=b)
            t = time.perf_counter()
            fn(x_flat, batch_size=b)
            rows.append({"verb": verb, "batch_size": b, "samples_per_s": len(x_flat) / (time.perf_counter() - t)})
    base = {r["verb"]: r["samples_per_s"] for r in rows if r["batch_size"] == batch_sizes[0]}
    for r in rows:
        r["ratio_to_smallest_batch"] = r["samples_per_s"] / base[r["verb"]]
    log("inference: " + ", ".join(f"{r['verb']}@{r['batch_size']}={r['samples_per_s']:.0f}/s" for r in rows))
    return rows


def flop_fraction(x_flat, peak, batch_size, log, variants=("undercomplete", "stacked", "denoising", "sparse",
                                                           "overcomplete", "vae")):
    rows = []
    for variant in variants:
        keras.utils.set_random_seed(0)
        model = build(variant)
        flops = dense_train_flops_per_sample(model)
        best = 0.0
        for b in (batch_size, 1024):
            for pipeline in ("arrays", "tf.data"):
                best = max(best, fit_throughput(build(variant), x_flat, b, pipeline=pipeline))
        rate = best * flops / 1e9
        rows.append({"variant": variant, "train_flops_per_sample": flops, "samples_per_s": best,
                     "gflops": rate, "fraction_of_peak": rate / peak})
        log(f"{variant}: {rate:.1f} GFLOP/s = {rate / peak:.2%} of peak")
    return rows


RSS_SCRIPT = """
import sys, numpy as np, keras
sys.path.insert(0, sys.argv[1])
from benchmarks.speed import build, IMAGE_VARIANTS


def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


variant, n = sys.argv[2], int(sys.argv[3])
x = np.random.default_rng(0).random((n, 784)).astype("float32")
if variant in IMAGE_VARIANTS:
    x = x.reshape(-1, 28, 28, 1)
m = build(variant)
m.compile(optimizer="adam")
before = status("VmRSS")
m.fit(x, x, epochs=2, batch_size=128, verbose=0)
print("RSS", before, status("VmRSS"), status("VmHWM"))
"""


def peak_rss(variants, n, log):
    """Resident memory of a training run, one fresh process per variant (Linux /proc)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    for variant in variants:
        out = subprocess.run([sys.executable, "-c", RSS_SCRIPT, root, variant, str(n)], capture_output=True,
                             text=True, timeout=1200, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("RSS")]
        if not line:
            rows.append({"variant": variant, "error": out.stderr[-300:]})
            continue
        before, after, peak = (int(v) / 1024 for v in line[0].split()[1:])
        rows.append({"variant": variant, "rss_before_fit_mb": before, "rss_after_fit_mb": after,
                     "peak_rss_mb": peak, "ratio_peak_to_before_fit": peak / before})
        log(f"RSS {variant}: peak {peak:.0f} MB, {before:.0f} MB with the model built, {after:.0f} MB after fit")
    return rows


def scaling(x_flat, sizes, batch_size, log):
    rows = []
    for n in sizes:
        keras.utils.set_random_seed(0)
        model = build("undercomplete")
        sps = fit_throughput(model, x_flat[:n], batch_size)
        rows.append({"n": n, "seconds_per_epoch": n / sps})
    base = rows[0]["seconds_per_epoch"] / rows[0]["n"]
    for r in rows:
        r["seconds_per_1k_relative"] = (r["seconds_per_epoch"] / r["n"]) / base
    log("scaling: " + ", ".join(f"{r['n']}: {r['seconds_per_epoch']:.2f} s" for r in rows))
    return rows


def machine_info():
    import platform

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "processor": platform.processor(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "keras_ae": keras_ae.__version__, "numpy": np.__version__}


def run_speed(x_flat, quick, log):
    x_img = x_flat.reshape(-1, 28, 28, 1)
    variants = ["undercomplete", "vae"] if quick else sorted(VARIANTS)
    n_train = 1024 if quick else 10000
    peak = matmul_peak(n=512 if quick else 2048, repeats=3 if quick else 20)
    log(f"matmul peak: {peak:.1f} GFLOP/s")
    return {
        "matmul_peak_gflops": peak,
        # Three epochs per timing in full runs: one epoch of 10k images is under a second for dense models.
        "training": training_ratios(x_flat[:n_train], x_img[:n_train], variants, 256, 1 if quick else 7, log,
                                    epochs=1 if quick else 2),
        "jit_and_pipeline": jit_and_pipeline(x_flat[:n_train], x_img[:n_train], 256, log,
                                             ("undercomplete",) if quick else ("undercomplete", "vae", "convolutional")),
        "inference": inference_sweep(x_flat[:n_train], [32, 256, 4096] if quick else [32, 128, 512, 1024, 4096],
                                     log),
        "flop_fraction": flop_fraction(x_flat[:n_train], peak, 256, log, ("undercomplete",) if quick else
                                       ("undercomplete", "stacked", "denoising", "sparse", "overcomplete", "vae")),
        "peak_rss": peak_rss(variants[:1] if quick else variants, n_train, log),
        "scaling": scaling(x_flat, [256, 512, 1024] if quick else [10000, 30000, 60000], 256, log),
    }


if __name__ == "__main__":
    print(json.dumps(machine_info()))
