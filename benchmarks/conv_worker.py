"""One timed training of a residual conv VAE, by keras-ae `fit` or by pythae; `benchmarks.conv_speed` pairs them.

    KERAS_BACKEND=tensorflow python -m benchmarks.conv_worker keras_ae OUT.json SPEC.json
    python -m benchmarks.conv_worker pythae OUT.json SPEC.json

SPEC (JSON) names the architecture (`arch`: input_shape, filters, latent_dim, blocks_per_stage), the
data (`data`: an .npz of NHWC float32 `x_train`, `x_test`), `batch_size`, `warmup_steps`, `lr`, `seed`,
and for keras-ae its `dtype_policy`, `jit_compile` (Keras's `compile` argument; default "auto", which
leaves XLA off on TensorFlow's CPU) and the `peak` convolution's shape.

Both train the same model on the same images for one epoch of `len(x_train) / batch_size` steps,
shuffled, Adam. The time runs from the end of step `warmup_steps` (compilation and first allocations
are before it) to the end of the last step, each read in the trainer's own end-of-step callback, so
what a trainer does once per epoch or per call is left out on both sides (a real epoch has hundreds of
steps over which to spread it). keras-ae also times the backend's
conv peak (`benchmarks.conv_flops.conv_peak`) right before `fit` and right after, and counts the model's
training FLOPs from its layers. Writes a JSON object.
"""

import json
import os
import sys
import time

import numpy as np

from benchmarks.step_clock import StepClock


def run_keras_ae(spec, x, xt):
    import keras

    import keras_ae
    from benchmarks.conv_flops import conv_peak, train_flops_per_sample

    arch, seed = spec["arch"], spec["seed"]
    policy = spec.get("dtype_policy", "float32")
    keras.utils.set_random_seed(seed)
    # The policy as the zoo's training passes it (keras_ae/zoo/train.py): the model's `dtype`.
    model = keras_ae.ResNetVAE(input_shape=tuple(arch["input_shape"]), filters=tuple(arch["filters"]),
                               blocks_per_stage=arch.get("blocks_per_stage", 1), latent_dim=arch["latent_dim"],
                               seed=seed, dtype=policy)
    jit = spec.get("jit_compile", "auto")
    model.compile(optimizer=keras.optimizers.Adam(spec["lr"]), jit_compile=jit)

    clock = StepClock(spec["warmup_steps"], len(x) // spec["batch_size"])

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock.step_end(lambda: [float(v) for v in (logs or {}).values()])

    compute = model.dtype_policy.compute_dtype
    peak_before = conv_peak(compute, **spec.get("peak", {}))
    model.fit(x, batch_size=spec["batch_size"], epochs=1, shuffle=True, verbose=0, callbacks=[Clock()])
    peak_after = conv_peak(compute, **spec.get("peak", {}))
    neg_elbo = float(-np.mean(model.elbo(xt, num_samples=1, seed=0)))
    return {"samples_per_s": clock.rate(spec["batch_size"]), "test_neg_elbo": neg_elbo,
            "decoder_scale": model.decoder_scale, "train_flops_per_sample": train_flops_per_sample(model),
            "conv_peak": peak_before, "conv_peak_after_gflops": peak_after["gflops"],
            "versions": {"keras": keras.__version__, "backend": keras.backend.backend(), "dtype_policy": policy,
                         "compute_dtype": compute, "jit_compile": model.jit_compile, **_torch_threads()}}


def _torch_threads():
    """PyTorch's intra-op threads when Keras runs on it (an oversubscribed CPU slows PyTorch's thread pool most)."""
    import keras

    if keras.backend.backend() != "torch":
        return {}
    import torch

    return {"torch_threads": torch.get_num_threads()}


def busy_cpus(seconds=1.0):
    """How many CPUs other processes kept busy over the next `seconds`, from /proc/stat (this process sleeps
    meanwhile); NaN without /proc/stat. Unlike the 1-minute load average, it does not still count the training
    process that ended a moment ago, so back-to-back runs on an idle machine read near 0."""
    def read():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return values[3] + (values[4] if len(values) > 4 else 0), sum(values[:8])  # idle + iowait, all

    try:
        idle0, total0 = read()
        time.sleep(seconds)
        idle1, total1 = read()
    except (OSError, ValueError, IndexError):
        return float("nan")
    return (1.0 - (idle1 - idle0) / max(total1 - total0, 1)) * (os.cpu_count() or 1)


def main(kind, out, spec_path):
    busy = busy_cpus()  # before this process adds its own work: how busy the machine was
    with open(spec_path) as f:
        spec = json.load(f)
    with np.load(spec["data"]) as d:
        x, xt = d["x_train"].astype("float32"), d["x_test"].astype("float32")
    if kind == "pythae":
        from benchmarks.conv_pythae import run_pythae

        result = run_pythae(spec, x, xt)
    elif kind == "keras_ae":
        result = run_keras_ae(spec, x, xt)
    else:
        raise ValueError(f"benchmarks.conv_worker: KIND must be keras_ae or pythae. Received: {kind!r}")
    result.update(kind=kind, busy_cpus=busy, seed=spec["seed"], images=int(len(x)), steps=len(x) // spec["batch_size"],
                  warmup_steps=spec["warmup_steps"])
    if "train_flops_per_sample" in result:
        gflops = result["samples_per_s"] * result["train_flops_per_sample"] / 1e9
        result.update(gflops=gflops, fraction_of_peak=gflops / result["conv_peak"]["gflops"])
    with open(out + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(out + ".tmp", out)
    print(f"conv {kind}: {result['samples_per_s']:.1f} samples/s, test -ELBO {result['test_neg_elbo']:.1f}",
          file=sys.stderr, flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3])
