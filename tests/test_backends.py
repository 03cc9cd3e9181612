"""Backend-neutral core: no TensorFlow needed off TensorFlow; JAX data parallelism on one
machine (two CPU devices) and across two processes on localhost match one device."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _have(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


needs_jax = pytest.mark.skipif(not _have("jax"), reason="JAX is not installed (pip install keras-ae[jax])")


def run_python(code, env=None, timeout=600):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return [json.loads(line[6:]) for line in proc.stdout.splitlines() if line.startswith("RESULT")]


@pytest.mark.slow  # out of the default run's 10-minute budget; .ci/run's slow block runs it
@needs_jax
def test_import_and_train_without_tensorflow():
    # `None` in sys.modules makes every `import tensorflow` fail, as if it were not installed.
    (res,) = run_python("""
        import sys, json
        sys.modules["tensorflow"] = None
        import numpy as np
        import keras_ae
        from keras_ae.datasets import training_dataset
        from keras_ae.testing import small_model
        x = np.random.default_rng(0).random((32, 784)).astype("float32")
        for variant in ("vae", "sparse", "contractive"):
            m = small_model(variant)
            m.compile(optimizer="adam")
            h = m.fit(training_dataset(x, 16, seed=0), epochs=1, verbose=0)
            assert np.isfinite(h.history["loss"][0])
        import keras
        print("RESULT" + json.dumps({"backend": keras.backend.backend()}))
    """, env={"KERAS_BACKEND": "jax"})
    assert res["backend"] == "jax"


DATA_PARALLEL = """
    import json, os
    import numpy as np, keras, jax
    from keras_ae.testing import small_model
    x = np.random.default_rng(0).random((64, 784)).astype("float32")
    out = {}
    for variant, lr in (("undercomplete", 0.1), ("sparse", 0.1), ("vae", 1e-3), ("denoising", 0.1)):
        runs = []
        for dist in (None, keras.distribution.DataParallel(devices=jax.devices())):
            keras.distribution.set_distribution(dist)
            keras.utils.set_random_seed(0)
            model = small_model(variant)
            model.compile(optimizer=keras.optimizers.SGD(lr))
            h = model.fit(x, x, epochs=2, batch_size=32, shuffle=False, verbose=0)
            runs.append((h.history["loss"], [np.asarray(w) for w in model.get_weights()]))
        keras.distribution.set_distribution(None)
        (l1, w1), (l2, w2) = runs
        out[variant] = {"loss": [l1, l2], "devices": len(jax.devices()),
                        "max_weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(w1, w2))}
    print("RESULT" + json.dumps(out))
"""


@pytest.mark.slow
@needs_jax
def test_jax_data_parallel_on_two_cpu_devices_matches_one_device():
    (res,) = run_python(DATA_PARALLEL, env={"KERAS_BACKEND": "jax",
                                            "XLA_FLAGS": "--xla_force_host_platform_device_count=2"})
    for variant, r in res.items():
        assert r["devices"] == 2, variant
        np.testing.assert_allclose(r["loss"][1], r["loss"][0], rtol=1e-5, err_msg=variant)
        assert r["max_weight_diff"] < 1e-5, (variant, r)


@pytest.mark.slow
@needs_jax
@pytest.mark.parametrize("variant", ["undercomplete", "sparse"])
def test_two_jax_processes_on_localhost_match_one_process(variant, tmp_path):
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from benchmarks.data_parallel_worker import launch  # the worker `python -m benchmarks --data-parallel` runs

    # Two processes joined by jax.distributed on 127.0.0.1, keras.distribution.DataParallel over their CPU
    # devices; 64 rows, global batches of 32 (16 from each process), 2 epochs.
    outs, _ = launch("jax", variant, tmp_path, nproc=2)
    (single,), _ = launch("jax", variant, tmp_path, nproc=1)
    assert [o["devices"] for o in outs] == [2, 2] and single["devices"] == 1
    for o in outs:
        np.testing.assert_allclose(o["loss"], single["loss"], rtol=1e-5)  # each process logs the global loss
        for w, w1 in zip(o["weights"], single["weights"]):
            np.testing.assert_allclose(w, w1, rtol=1e-5, atol=1e-6)
