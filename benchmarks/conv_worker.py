"""One timed training of a residual conv VAE, by keras-ae `fit` or by pythae; `benchmarks.conv_speed` pairs them.

    KERAS_BACKEND=tensorflow python -m benchmarks.conv_worker keras_ae OUT.json SPEC.json
    python -m benchmarks.conv_worker pythae OUT.json SPEC.json

SPEC (JSON) names the architecture (`arch`: input_shape, filters, latent_dim, blocks_per_stage), the
data (`data`: an .npz of NHWC float32 `x_train`, `x_test`), `batch_size`, `epochs`, `warmup_epochs`,
`lr`, `seed`, and for keras-ae its `dtype_policy` and the `peak` convolution's shape.

Both train the same model on the same images, `len(x_train) / batch_size` steps an epoch, shuffled,
Adam; the first `warmup_epochs` epochs are untimed (compilation, first allocations), the others are
timed each from the trainer's epoch-begin to its epoch-end callback. keras-ae also times the backend's
conv peak (`benchmarks.conv_flops.conv_peak`) right before `fit` and right after, and counts the model's
training FLOPs from its layers. Writes a JSON object.
"""

import json
import os
import sys
import time

import numpy as np


def timed_rate(epoch_seconds, warmup_epochs, images):
    """Samples/s over the timed epochs (those after `warmup_epochs`)."""
    timed = epoch_seconds[warmup_epochs:]
    if not timed:
        raise ValueError(f"no timed epoch: {len(epoch_seconds)} epochs ran, {warmup_epochs} of them warm-up")
    return images * len(timed) / sum(timed)


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
    model.compile(optimizer=keras.optimizers.Adam(spec["lr"]))

    class EpochTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            [float(v) for v in (logs or {}).values()]  # the epoch's steps are done (JAX dispatches ahead)
            self.times.append(time.perf_counter() - self.start)

    compute = model.dtype_policy.compute_dtype
    peak_before = conv_peak(compute, **spec.get("peak", {}))
    timer = EpochTimes()
    model.fit(x, batch_size=spec["batch_size"], epochs=spec["epochs"], shuffle=True, verbose=0, callbacks=[timer])
    peak_after = conv_peak(compute, **spec.get("peak", {}))
    return {"epoch_seconds": timer.times, "test_neg_elbo": float(-np.mean(model.elbo(xt, num_samples=1, seed=0))),
            "decoder_scale": model.decoder_scale, "train_flops_per_sample": train_flops_per_sample(model),
            "conv_peak": peak_before, "conv_peak_after_gflops": peak_after["gflops"],
            "versions": {"keras": keras.__version__, "backend": keras.backend.backend(), "dtype_policy": policy,
                         "compute_dtype": compute}}


def main(kind, out, spec_path):
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
    result.update(kind=kind, seed=spec["seed"], images=int(len(x)), epochs=spec["epochs"],
                  warmup_epochs=spec["warmup_epochs"],
                  samples_per_s=timed_rate(result["epoch_seconds"], spec["warmup_epochs"], len(x)))
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
