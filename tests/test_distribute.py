"""Every model trains under MirroredStrategy on two logical CPUs like on one device."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keras_ae.models.registry import VARIANTS

# Logical devices must be set before TensorFlow starts, so this runs in a child process.
SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    sys.path.insert(0, sys.argv[1])
    from keras_ae.testing import labels_for, small_inputs, small_model

    out = {}
    NOISE_SEEDS = [int(s) for s in sys.argv[2].split(",")]
    # One strategy object for the whole run: several would reuse collective keys.
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    for variant in sys.argv[3:]:
        # Noise and sampling are drawn per replica, so compare the deterministic
        # models exactly, and stochastic ones with their noise switched off.
        kw = {"noise_factor": 0.0} if "denoising" in variant else {}
        results = []
        for strategy in (tf.distribute.get_strategy(), mirrored):
            keras.utils.set_random_seed(0)
            with strategy.scope():
                model = small_model(variant, **kw)
                model.compile(optimizer=keras.optimizers.SGD(0.1))
            xs = small_inputs(model, n=32, seed=0)  # the same values under both strategies
            ys = xs if labels_for(model, xs) is None else labels_for(model, xs)  # a conditional model's labels
            one = xs[:1] if ys is xs else (xs[:1], np.eye(model.num_classes, dtype="float32")[ys[:1]])
            h = model.fit(xs, ys, epochs=1, batch_size=32, shuffle=False, verbose=0)
            results.append((h.history["loss"][0], [w.tolist() for w in model.get_weights()[:4]],
                            strategy.num_replicas_in_sync))
        (l1, w1, n1), (l2, w2, n2) = results
        diff = lambda u, v: max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(u, v))
        out[variant] = {"loss": [l1, l2], "max_weight_diff": diff(w1, w2), "replicas": [n1, n2]}
        if getattr(model, "generative", False) or getattr(model, "draws_noise", False):
            # The scale of noise-to-noise differences: one device again, the same initial weights,
            # other sampling seeds (a model argument, which test_config fixes).
            keras.utils.set_random_seed(0)
            initial = small_model(variant, **kw)
            initial(one)
            out[variant]["noise_weight_diffs"] = []
            for seed in NOISE_SEEDS:
                model = small_model(variant, **kw, seed=seed)
                model(one)
                for v, w in zip(model.trainable_variables, initial.trainable_variables):
                    v.assign(w)  # not set_weights: that would also copy the sampling seed's state
                model.compile(optimizer=keras.optimizers.SGD(0.1))
                model.fit(xs, ys, epochs=1, batch_size=32, shuffle=False, verbose=0)
                out[variant]["noise_weight_diffs"].append(diff(w1, [w.tolist() for w in model.get_weights()[:4]]))
    print("RESULT" + json.dumps(out))
""")

# A VQ-VAE draws the codes its restarts pick (`draws_noise`): per replica, so it is compared as the VAEs are.
STOCHASTIC = sorted(v for v in VARIANTS if VARIANTS[v].generative or getattr(VARIANTS[v], "draws_noise", False))
DETERMINISTIC = sorted(v for v in VARIANTS if v not in STOCHASTIC)


def run(variants, noise_seeds=(2, 3, 4, 5, 6)):
    here = os.path.dirname(os.path.abspath(__file__))
    seeds = ",".join(str(s) for s in noise_seeds)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, here, seeds, *variants], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][0]
    return json.loads(line[len("RESULT"):])


@pytest.mark.slow  # ~15 s each; .ci/run runs the slow set
def test_two_replicas_match_one_device():
    res = run(DETERMINISTIC)
    for variant, r in res.items():
        assert r["replicas"] == [1, 2], variant
        assert r["loss"][0] == pytest.approx(r["loss"][1], rel=1e-4), variant
        assert r["max_weight_diff"] < 1e-5, variant


@pytest.mark.slow  # ~15 s each; .ci/run runs the slow set
def test_vaes_train_under_mirrored_strategy():
    # The sampling noise differs per replica, so the losses agree only in distribution.
    res = run(STOCHASTIC)
    for variant, r in res.items():
        assert r["replicas"] == [1, 2], variant
        assert r["loss"][0] == pytest.approx(r["loss"][1], rel=0.05), variant
        # Mirrored training draws other noise than one device does, so its weights differ from
        # the one-device run's by about as much as one-device runs with other sampling seeds do.
        # That scale depends on the model and its initialiser: for the VAE, 0.03-0.04 with
        # glorot_uniform, 0.05-0.19 with the default U(+-1/sqrt(fan_in)) (10 seeds; mirrored 0.16).
        noise = float(np.median(r["noise_weight_diffs"]))
        assert 0 < r["max_weight_diff"] < 3 * noise, (variant, r)
