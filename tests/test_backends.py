"""Backend-neutral core: no TensorFlow needed off TensorFlow; JAX data parallelism on one
machine (two CPU devices) and across two processes on localhost match one device."""

import json
import os
import socket
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


WORKER = """
    import json, os, sys
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    pid, nproc, port = int(os.environ["AE_PID"]), int(os.environ["AE_NPROC"]), os.environ["AE_PORT"]
    if nproc > 1:
        jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=nproc,
                                   process_id=pid, initialization_timeout=120)
    import numpy as np, keras
    from keras_ae.testing import small_model
    x = np.random.default_rng(0).random((64, 784)).astype("float32")
    # Process p feeds rows [32p, 32p + 32); a global batch is 16 rows from each process.
    if nproc > 1:
        local = x[pid * 32:(pid + 1) * 32]
        dist = keras.distribution.DataParallel(devices=jax.devices())
        dist.auto_shard_dataset = False   # each process already holds its own shard
        keras.distribution.set_distribution(dist)
        batch = 16
    else:   # one process, the same global batches in the same order
        local = np.concatenate([np.concatenate([x[i:i + 16], x[32 + i:32 + i + 16]]) for i in (0, 16)])
        batch = 32
    keras.utils.set_random_seed(0)
    model = small_model(os.environ["AE_VARIANT"])
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    h = model.fit(local, local, epochs=2, batch_size=batch, shuffle=False, verbose=0)
    print("RESULT" + json.dumps({"loss": h.history["loss"], "devices": len(jax.devices()),
                                 "weights": [float(np.asarray(w).sum()) for w in model.get_weights()]}))
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@needs_jax
@pytest.mark.parametrize("variant", ["undercomplete", "sparse"])
def test_two_jax_processes_on_localhost_match_one_process(variant):
    env = {"KERAS_BACKEND": "jax", "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3",
           "AE_NPROC": "2", "AE_PORT": str(_free_port()), "AE_VARIANT": variant}
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(WORKER)],
                              env={**os.environ, **env, "AE_PID": str(p)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in (0, 1)]
    outs = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=300)
        finally:
            p.kill()
        assert p.returncode == 0, err[-4000:]
        outs.append(json.loads([ln for ln in out.splitlines() if ln.startswith("RESULT")][0][6:]))
    (single,) = run_python(WORKER, env={**env, "AE_NPROC": "1", "AE_PID": "0"})
    assert [o["devices"] for o in outs] == [2, 2] and single["devices"] == 1
    for o in outs:
        np.testing.assert_allclose(o["loss"], single["loss"], rtol=1e-5)
        np.testing.assert_allclose(o["weights"], single["weights"], rtol=1e-5, atol=1e-5)
