"""Data parallelism on PyTorch (keras_ae.distributed): two processes under torchrun train the same weights as
one process on the same global batches."""

import os

import numpy as np
import pytest

from benchmark_fixtures import ROOT  # noqa: F401  (puts the repository on sys.path for `benchmarks`)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["undercomplete", "contractive"])
def test_two_torch_processes_under_torchrun_match_one_process(variant, tmp_path):
    pytest.importorskip("torch")
    from benchmarks.data_parallel_worker import launch  # the worker `python -m benchmarks --data-parallel` runs

    # 64 rows, global batches of 32 (16 from each process), 2 epochs; each process seeded with its rank, so
    # only the broadcast from rank 0 makes the weights equal.
    (single,), _ = launch("torch", variant, tmp_path, nproc=1)
    outs, _ = launch("torch", variant, tmp_path, nproc=2)
    assert [o["rank"] for o in outs] == [0, 1] and {o["world"] for o in outs} == {2}
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
