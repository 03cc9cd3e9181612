"""One training routine for every place keras-ae trains a model.

`keras-ae train`, the zoo recipes and the detectors that train their own model
(`TabularDetector`, `RestorationDetector`) all call `fit_model`: seed,
compile, `fit` with the guards (stop at the first NaN loss, an optional
checkpoint to resume from), the finite check of the history, and an optional
atomic save. A user's own `model.fit` needs none of it; this is the routine
keras-ae's own trainings share, so that each guard is written once.
"""

import hashlib
import os

__all__ = ["data_fingerprint", "default_steps_per_execution", "fit_model", "guard_callbacks", "has_checkpoint"]

_CHECKPOINT_MARK = "training_metadata.json"  # what keras.callbacks.BackupAndRestore writes after an epoch
# Written by `python -m benchmarks --steps-per-execution` from paired timings (benchmarks/RESULTS.md).
STEPS_PER_EXECUTION_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "steps_per_execution.json")


def default_steps_per_execution(kind, backend=None, path=None):
    """The steps per call `keras-ae train` compiles with for a `kind` of model ("dense" or "image").

    The decision of `python -m benchmarks --steps-per-execution`, which times both settings in
    alternating pairs of fresh processes and writes `keras_ae/steps_per_execution.json`
    (`path`): `{"backends": {backend: {kind: steps}}}`. 1 when the table has no such row, or
    there is no table (one step per call is what Keras does by default).

    Args:
        kind: "dense" or "image".
        backend: a Keras backend name; default the current one.
        path: the table; default `STEPS_PER_EXECUTION_TABLE`.

    Raises:
        ValueError: if the table is not such JSON, or its entry is not a positive integer.
    """
    import json

    if backend is None:
        import keras

        backend = keras.backend.backend()
    path = STEPS_PER_EXECUTION_TABLE if path is None else path
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return 1
    try:
        steps = (json.loads(text).get("backends") or {}).get(backend, {}).get(kind, 1)
    except (ValueError, AttributeError) as e:
        raise ValueError(f"{path}: expected a JSON object {{\"backends\": {{backend: {{kind: steps}}}}}}. Received "
                         f"content that is not: {e}") from None
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{path}: expected a positive integer of steps per call for {backend!r}, {kind!r}. "
                         f"Received: {steps!r}")
    return steps


def has_checkpoint(folder):
    """Whether `folder` holds a checkpoint that `fit_model(..., checkpoint=folder)` resumes from."""
    return bool(folder) and os.path.exists(os.path.join(folder, _CHECKPOINT_MARK))


def data_fingerprint(*arrays, chunk_bytes=1 << 24):
    """A sha256 (hex) of the arrays' dtypes, shapes and values, for a checkpoint to record.

    The bytes are hashed a block of about `chunk_bytes` at a time (rows of
    the first axis), so a non-contiguous view is never copied whole: a
    gigabyte of uint8 images costs a few seconds and 16 MB. `None` entries
    (no validation split) are recorded as such.
    """
    import numpy as np

    h = hashlib.sha256()
    for x in arrays:
        if x is None:
            h.update(b"None;")
            continue
        x = np.asarray(x)
        h.update(f"{x.dtype.str}{x.shape};".encode())
        rows = max(1, chunk_bytes // max(1, x[:1].nbytes)) if len(x) else 1
        for start in range(0, len(x), rows):
            h.update(np.ascontiguousarray(x[start:start + rows]).data)
    return h.hexdigest()


def guard_callbacks(checkpoint=None, callbacks=(), fingerprint=None):
    """The callbacks every keras-ae training runs with, then `callbacks`.

    Args:
        checkpoint: a folder for `keras_ae.callbacks.SafeBackupAndRestore`
            (a checkpoint after every epoch, kept when training ends so the
            caller decides when it is done with), or `None` for none.
        callbacks: more Keras callbacks, run after the guards.
        fingerprint: a dict the checkpoint records, and a checkpoint with
            another one is refused (see `SafeBackupAndRestore`).

    Returns:
        A list: the checkpoint callback (if any), `keras.callbacks.TerminateOnNaN`,
        then `callbacks`.
    """
    import keras

    guards = []
    if checkpoint:
        from keras_ae.callbacks import SafeBackupAndRestore

        guards.append(SafeBackupAndRestore(checkpoint, delete_checkpoint=False, fingerprint=fingerprint))
    return [*guards, keras.callbacks.TerminateOnNaN(), *callbacks]


def fit_model(model, x=None, y=None, *, epochs, optimizer=None, seed=None, compile=True,
              steps_per_execution=1, checkpoint=None, fingerprint=None, callbacks=(), save_to=None,
              what="training", **fit_kwargs):
    """Seed, compile and fit `model` with keras-ae's guards; optionally save it atomically.

    Args:
        model: a Keras model (a keras-ae model, or the shallow models of a
            stacked model's pretraining).
        x, y: passed to `fit` (arrays, a `tf.data.Dataset` or a `PyDataset`).
        epochs: the number of epochs (a positive integer).
        optimizer: a Keras optimizer (default `Adam(1e-3)`), for `compile`.
        seed: if given, `keras.utils.set_random_seed(seed)` first, so the
            weights and the draws of the run are reproducible.
        compile: `False` to keep the model's own compile (its optimizer and
            loss); `optimizer` and `steps_per_execution` are then unused.
        steps_per_execution: for `compile`; 1 on PyTorch, whose Keras
            trainer runs one step per call.
        checkpoint: a folder to checkpoint into after every epoch and resume
            from (see `guard_callbacks`).
        fingerprint: what the checkpoint records of the run (the data's
            `data_fingerprint` and the settings); a checkpoint of another run
            is refused with `keras_ae.callbacks.CheckpointMismatchError`.
        callbacks: more Keras callbacks.
        save_to: a `.keras` path to save the trained model to (keras-ae
            models save atomically: a temporary file, then a rename).
        what: how the error names this training if it diverges.
        **fit_kwargs: the other `fit` arguments (`batch_size`, `validation_data`,
            `shuffle`, `verbose`, ...).

    Returns:
        The `History` of `fit`.

    Raises:
        ValueError: if `epochs` is not a positive integer, or the loss became
            NaN or infinite (nothing is saved then).
    """
    import keras

    from keras_ae._io import check_history_finite
    from keras_ae._validation import check_positive_int

    check_positive_int("epochs", epochs)
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    if compile:
        per_call = 1 if keras.backend.backend() == "torch" else int(steps_per_execution)
        model.compile(optimizer=optimizer if optimizer is not None else keras.optimizers.Adam(1e-3),
                      steps_per_execution=per_call)
    history = model.fit(x, y, epochs=epochs, callbacks=guard_callbacks(checkpoint, callbacks, fingerprint),
                        **fit_kwargs)
    check_history_finite(history, what)
    if save_to:
        model.save(save_to)
    return history
