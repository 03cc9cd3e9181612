"""Data parallelism on PyTorch (keras_ae.distributed): two processes under torchrun train the same weights as
one process on the same global batches."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKER = """
    import json, os
    import numpy as np, keras
    from keras_ae.distributed import torch_data_parallel
    from keras_ae.testing import small_model
    x = np.random.default_rng(0).random((64, 784)).astype("float32")
    nproc = int(os.environ.get("WORLD_SIZE", "1"))
    if nproc > 1:
        rank, world = torch_data_parallel.init()
        local = x[rank * 32:(rank + 1) * 32]   # process p feeds rows [32p, 32p + 32)
        batch = 16                             # a global batch: 16 rows from each process
    else:   # one process, the same global batches in the same order
        rank, world = 0, 1
        local = np.concatenate([np.concatenate([x[i:i + 16], x[32 + i:32 + i + 16]]) for i in (0, 16)])
        batch = 32
    keras.utils.set_random_seed(rank)          # different seeds: the broadcast must make the weights equal
    model = small_model(os.environ["AE_VARIANT"])
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    if nproc > 1:
        torch_data_parallel(model, local[:1])
    h = model.fit(local, local, epochs=2, batch_size=batch, shuffle=False, verbose=0)
    result = {"rank": rank, "world": world, "loss": h.history["loss"],
              "weights": [np.asarray(w).astype("float64").ravel().tolist() for w in model.get_weights()]}
    with open(os.path.join(os.environ["AE_OUT"], f"result-{world}-{rank}.json"), "w") as f:
        json.dump(result, f)   # a file each: two processes' long stdout lines can interleave
"""


def _run(args, env, world):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "KERAS_BACKEND": "torch", "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3",
                               **env})
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = env["AE_OUT"]
    return [json.load(open(os.path.join(out, f"result-{world}-{rank}.json"))) for rank in range(world)]


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["undercomplete", "contractive"])
def test_two_torch_processes_under_torchrun_match_one_process(variant, tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(WORKER))
    env = {"AE_VARIANT": variant, "OMP_NUM_THREADS": "1", "AE_OUT": str(tmp_path)}
    (single,) = _run([sys.executable, str(script)], env, 1)
    outs = _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                 str(script)], env, 2)
    assert sorted(o["rank"] for o in outs) == [0, 1] and {o["world"] for o in outs} == {2}
    # Each process logs its own shard's loss; their mean is the global batch's, the one process's loss.
    np.testing.assert_allclose(np.mean([o["loss"] for o in outs], axis=0), single["loss"], rtol=1e-5)
    for o in outs:
        for w, w1 in zip(o["weights"], single["weights"]):
            np.testing.assert_allclose(w, w1, rtol=1e-5, atol=1e-6)


def test_torch_data_parallel_refuses_other_backends_and_an_uninitialized_group():
    import keras

    from keras_ae.distributed import torch_data_parallel

    if keras.backend.backend() != "torch":
        with pytest.raises(RuntimeError, match="is for the PyTorch backend"):
            torch_data_parallel(object())
    else:
        with pytest.raises(RuntimeError, match="torch.distributed is not initialized"):
            torch_data_parallel(object())
        with pytest.raises(RuntimeError, match="missing: \\['RANK'"):
            for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
                os.environ.pop(k, None)
            torch_data_parallel.init()
