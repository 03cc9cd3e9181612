"""Data parallelism on PyTorch: several processes train one keras-ae model, each on its own shard.

On JAX, `keras.distribution.DataParallel` does this (README, "Distribution"). Keras 3.15.1 has no
distribution API on PyTorch (`keras.distribution.DataParallel()` fails there: the torch backend's
`distribution_lib` is `None`; the DDP support merged upstream in keras-team/keras#23052 is not in a
release yet). `torch_data_parallel(model)` fills the gap the way `DistributedDataParallel` does, with
plain `model.fit`:

- the model's variables are broadcast from rank 0, so every process starts from the same weights;
- a hook on each trainable variable averages its gradient over the processes (an all-reduce) before
  the optimizer sees it, so every process applies the same update and the weights stay equal.

Each process feeds its own shard of the data with the same `batch_size`; the global batch is
`batch_size * world_size`. With equal shards this trains the same weights as one process on the same
global batches (`tests/test_distributed_torch.py`, two processes under `torchrun`, gloo on CPU).
The losses Keras logs are each process's own shard's; their mean over the processes is the global
batch's. As with `DistributedDataParallel`, a loss that depends on the batch as a whole is computed
per shard: the sparse autoencoder's KL penalty on the batch's mean activation (on 2 x 16 rows it
differed from one process's 32 rows by 9e-5, relative), and batch-norm statistics (not averaged).

Run it under torchrun, which sets `RANK`, `WORLD_SIZE` and the rendezvous:

    torchrun --nproc_per_node 2 train.py          # one host, two processes (gloo on CPU)

```python
import keras, keras_ae
from keras_ae.distributed import torch_data_parallel
rank, world = torch_data_parallel.init()          # torch.distributed, from torchrun's variables
keras.utils.set_random_seed(0)
model = keras_ae.VAE(latent_dim=20)
model.compile(optimizer="adam")
torch_data_parallel(model, x_shard[:1])           # builds the model, syncs it, hooks the gradients
model.fit(x_shard, epochs=10, batch_size=64)      # x_shard = this process's rows
```
"""

__all__ = ["torch_data_parallel"]


def _require_torch():
    import keras

    if keras.backend.backend() != "torch":
        raise RuntimeError("torch_data_parallel is for the PyTorch backend (KERAS_BACKEND=torch). Received: "
                           f"backend {keras.backend.backend()!r}; on JAX use keras.distribution.DataParallel, on "
                           "TensorFlow tf.distribute.MirroredStrategy (README, 'Distribution')")
    import torch.distributed as dist

    return dist


def init(backend="gloo"):
    """Initialize `torch.distributed` from torchrun's environment (`RANK`, `WORLD_SIZE`, `MASTER_ADDR`, ...),
    unless it is initialized already; return `(rank, world_size)`."""
    import os

    dist = _require_torch()
    if not dist.is_initialized():
        missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
        if missing:
            raise RuntimeError(f"torch.distributed needs torchrun's environment variables; missing: {missing}. "
                               "Run the script with `torchrun --nproc_per_node N script.py`")
        dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size()


def _tensor(variable):
    """The torch tensor behind a Keras variable (the `Parameter` itself, not an autocast copy)."""
    return getattr(variable, "_value", None) if getattr(variable, "_value", None) is not None else variable.value


def torch_data_parallel(model, x=None):
    """Make `model` train in data parallel over the processes of `torch.distributed` (see the module).

    Args:
        model: a keras-ae (or any Keras) model on the PyTorch backend.
        x: a batch to build the model with if it is not built yet (a few rows of this process's data).

    Returns:
        `model`, its variables equal on every process and its gradients averaged over them.
    """
    dist = _require_torch()
    if not dist.is_initialized():
        raise RuntimeError("torch.distributed is not initialized: call keras_ae.distributed.init() (under "
                           "torchrun) or torch.distributed.init_process_group first")
    if not model.built:
        if x is None:
            raise ValueError("The model is not built yet: pass `x`, a few rows of the data, to build it")
        model(x)
    world = dist.get_world_size()
    for variable in model.variables:  # rank 0's weights (and seed states) everywhere
        dist.broadcast(_tensor(variable).data, src=0)
    if getattr(model, "_keras_ae_data_parallel", None) == world:
        return model

    def average(grad):
        grad = grad.clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad / world

    for variable in model.trainable_variables:
        _tensor(variable).register_hook(average)
    model._keras_ae_data_parallel = world
    return model


torch_data_parallel.init = init
