"""Data parallelism against one process, on the same global batches: one worker and its launchers.

The `--data-parallel` part (benchmarks/data_parallel.py) and the data-parallel tests (PyTorch:
tests/test_distributed_torch.py; JAX across processes: tests/test_backends.py) all run this worker:

    python -m benchmarks.data_parallel_worker                                     # one process
    python -m torch.distributed.run --nnodes 1 --nproc_per_node 2 --master-addr 127.0.0.1 \\
        --master-port PORT -m benchmarks.data_parallel_worker                    # PyTorch, two processes

(JAX's processes are started one by one, `AE_PID` 0 and 1, each calling `jax.distributed.initialize`.)

Each process trains `keras_ae.testing.small_model(AE_VARIANT)` with SGD on `AE_ROWS` random rows (seed 0)
for `AE_EPOCHS` epochs, unshuffled. Global batch `i` is rows `[i * B, (i + 1) * B)` (`B = AE_BATCH`); of
`P` processes, process `p` feeds its `p`-th `B / P` rows of every global batch, one process feeds them
all, in the same order. Each process writes `result-P-p.json` in `AE_OUT`: its logged losses per epoch,
its final weights and the seconds `fit` took.

On PyTorch the gradients are averaged with `keras_ae.distributed.torch_data_parallel` (gloo), each process
seeded with its rank so that only the broadcast from rank 0 makes the weights equal; on JAX with
`keras.distribution.DataParallel` over both processes' CPU devices (gloo collectives), every process seeded 0.
"""

import json
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"  # torchrun's master and JAX's coordinator: this machine only
SETTINGS = {"rows": 64, "batch": 32, "epochs": 2, "lr": 0.1}  # the tests' sizes; the part passes its own


def _setting(name):
    return type(SETTINGS[name])(os.environ.get(f"AE_{name.upper()}", SETTINGS[name]))


def _jax_init(nproc):
    """Join the JAX processes (coordinator on 127.0.0.1:`AE_PORT`); return this process's id."""
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    pid = int(os.environ.get("AE_PID", "0"))
    if nproc > 1:
        jax.distributed.initialize(coordinator_address=f"{HOST}:{os.environ['AE_PORT']}", num_processes=nproc,
                                   process_id=pid, initialization_timeout=120)
    return pid


def main():
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    nproc = int(os.environ.get("WORLD_SIZE" if backend == "torch" else "AE_NPROC", "1"))
    rank = _jax_init(nproc) if backend == "jax" else 0
    import numpy as np
    import keras

    from keras_ae.testing import small_inputs, small_model

    rows, batch, epochs = _setting("rows"), _setting("batch"), _setting("epochs")
    if rows % batch or batch % nproc:
        raise ValueError(f"AE_ROWS must be a multiple of AE_BATCH, and AE_BATCH of the {nproc} processes. "
                         f"Received: AE_ROWS={rows}, AE_BATCH={batch}")
    if nproc > 1 and backend == "torch":
        from keras_ae.distributed import torch_data_parallel

        rank, _ = torch_data_parallel.init()
    elif nproc > 1 and backend == "jax":
        import jax

        dist = keras.distribution.DataParallel(devices=jax.devices())
        dist.auto_shard_dataset = False  # each process already holds its own shard
        keras.distribution.set_distribution(dist)
    elif nproc > 1:
        raise RuntimeError(f"no multi-process data parallelism here for backend {backend!r}")
    keras.utils.set_random_seed(rank if backend == "torch" else 0)  # torch: the broadcast must equalize them
    model = small_model(os.environ["AE_VARIANT"])
    x = small_inputs(model, rows, seed=0)
    local = x.reshape((rows // batch, nproc, batch // nproc) + x.shape[1:])[:, rank].reshape(
        (rows // nproc,) + x.shape[1:])  # this process's part of every global batch, in order
    model.compile(optimizer=keras.optimizers.SGD(_setting("lr")))
    if nproc > 1 and backend == "torch":
        torch_data_parallel(model, local[:1])
    start = time.perf_counter()
    h = model.fit(local, local, epochs=epochs, batch_size=batch // nproc, shuffle=False, verbose=0)
    address = os.environ.get("MASTER_ADDR") if backend == "torch" else HOST if nproc > 1 else None
    devices = nproc
    if backend == "jax":
        import jax

        devices = len(jax.devices())  # every process's CPU device
    result = {"rank": rank, "world": nproc, "devices": devices, "backend": backend, "loss": h.history["loss"],
              "fit_seconds": time.perf_counter() - start, "address": address,
              "weights": [np.asarray(w).astype("float64").ravel().tolist() for w in model.get_weights()]}
    with open(os.path.join(os.environ["AE_OUT"], f"result-{nproc}-{rank}.json"), "w") as f:
        json.dump(result, f)  # a file each: two processes' long stdout lines can interleave


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _env(backend, variant, out, settings, extra=None):
    settings = {**SETTINGS, **(settings or {})}
    return {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3",
            "OMP_NUM_THREADS": "1", "AE_VARIANT": variant, "AE_OUT": str(out),
            **{f"AE_{k.upper()}": str(v) for k, v in settings.items()}, **(extra or {})}


def _check(proc, err):
    if proc.returncode != 0:
        raise RuntimeError(f"a data-parallel worker failed (exit {proc.returncode}):\n{err[-4000:]}")


def launch(backend, variant, out, nproc=1, settings=None, timeout=600):
    """Train `variant` in `nproc` processes of `backend` ("torch": under torchrun; "jax": one process each,
    joined by `jax.distributed`); `nproc=1` is the one process on the same global batches.

    Returns:
        `(results, seconds)`: each rank's result (rank order) and the wall time of the launch.
    """
    worker = [sys.executable, "-m", "benchmarks.data_parallel_worker"]
    start = time.perf_counter()
    if nproc == 1:
        proc = subprocess.run(worker, capture_output=True, text=True, timeout=timeout,
                              env=_env(backend, variant, out, settings), cwd=ROOT)
        _check(proc, proc.stderr)
    elif backend == "torch":
        proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node",
                               str(nproc), "--master-addr", HOST, "--master-port", str(free_port()),
                               "-m", "benchmarks.data_parallel_worker"],
                              capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                              env=_env(backend, variant, out, settings))
        _check(proc, proc.stderr)
    elif backend == "jax":
        env = _env(backend, variant, out, settings, {"AE_NPROC": str(nproc), "AE_PORT": str(free_port())})
        procs = [subprocess.Popen(worker, env={**env, "AE_PID": str(p)}, cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for p in range(nproc)]
        errs = []
        try:
            for p in procs:
                errs.append(p.communicate(timeout=timeout)[1])
        finally:  # a timeout in one process must not leave the others waiting for it
            for p in procs:
                p.kill()
        for p, err in zip(procs, errs):
            _check(p, err)
    else:
        raise ValueError(f"multi-process data parallelism runs on 'torch' or 'jax'. Received: backend {backend!r}")
    seconds = time.perf_counter() - start
    results = []
    for rank in range(nproc):
        with open(os.path.join(out, f"result-{nproc}-{rank}.json"), encoding="utf-8") as f:
            results.append(json.load(f))
    return results, seconds


def compare(single, ranks):
    """How far `ranks` (the processes' results) are from `single` (the one process's): the max relative
    difference of the per-epoch losses (the mean over the processes of each one's logged loss: on PyTorch
    each logs its own shard's, whose mean is the global batch's), and the max absolute difference of any
    final weight of any process."""
    import numpy as np

    loss = np.mean([r["loss"] for r in ranks], axis=0)
    ref = np.asarray(single["loss"])
    weights = max(float(np.abs(np.asarray(w) - np.asarray(w1)).max())
                  for r in ranks for w, w1 in zip(r["weights"], single["weights"]))
    return {"loss_max_rel_diff": float(np.max(np.abs(loss - ref) / np.abs(ref))), "weights_max_abs_diff": weights}


if __name__ == "__main__":
    main()
