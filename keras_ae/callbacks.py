"""Training callbacks: checkpoints that survive a kill and resume exactly."""

import contextlib
import glob
import json
import os
import time
import warnings

import keras
import numpy as np

from keras_ae._io import atomic_write, file_lock, sha256_file, write_json_atomic


class CheckpointWarning(UserWarning):
    """A checkpoint could not be read and was set aside; training starts afresh."""


class CheckpointMismatchError(ValueError):
    """A checkpoint was written by a run with other data or settings: resuming it would mix two runs."""


_METADATA = "training_metadata.json"


def read_fingerprint(backup_dir):
    """The `fingerprint` recorded by the checkpoint in `backup_dir`, or `None` (no checkpoint, an
    unreadable one, or one written without a fingerprint)."""
    try:
        with open(os.path.join(backup_dir, _METADATA), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    found = meta.get("fingerprint") if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else None


def _shown(value):
    # A sha256 is shown by its first 12 digits, as git shows commits: enough to tell two apart.
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:12]
    return "(default)" if value is None else str(value)


def fingerprint_differences(recorded, current):
    """`["setting: old -> new", ...]` for every key whose value differs between two fingerprints."""
    # An ASCII arrow, as in all of keras-ae's messages: any console prints it.
    return [f"{key}: {_shown(recorded.get(key))} -> {_shown(current.get(key))}"
            for key in sorted(set(recorded) | set(current)) if recorded.get(key) != current.get(key)]


def remove_checkpoint(backup_dir):
    """Remove the checkpoint files `SafeBackupAndRestore` (or Keras's `BackupAndRestore`) wrote in
    `backup_dir`, and the folder if nothing else is left in it; return the names removed.

    Nothing else is touched: a file of the user's in the folder stays, and the folder with it.
    """
    from keras_ae._io import clean_stale_temporaries

    if not os.path.isdir(backup_dir):
        return []
    ours = [_METADATA, "latest.weights.h5", "epoch-*-batch-*.weights.h5"]
    patterns = [p + suffix for p in ours for suffix in ("", ".bkp", ".corrupt-*")]
    removed = []
    for pattern in patterns:
        for path in glob.glob(os.path.join(glob.escape(backup_dir), pattern)):
            os.remove(path)
            removed.append(os.path.basename(path))
    removed += clean_stale_temporaries(backup_dir)  # a killed save's temporary file (not a live writer's)
    if not os.listdir(backup_dir):
        os.rmdir(backup_dir)
    return sorted(removed)


def seed_states(model):
    """The state of every `keras.random.SeedGenerator` in `model`, as `{key: [ints]}`.

    Keys name the layer by its position and class (not its name, which Keras
    numbers per process), so the same architecture built again maps each
    state back to its generator.
    """
    return {key: np.asarray(keras.ops.convert_to_numpy(gen.state.value)).tolist()
            for key, gen in _generators(model).items()}


def _generators(model):
    return {f"{i}:{type(layer).__name__}:{j}": gen
            for i, layer in enumerate(model._flatten_layers(include_self=True))
            for j, gen in enumerate(getattr(layer, "_seed_generators", ()))}


def _matching_generators(model, states):
    """The model's generators by key; `ValueError` unless `states` has exactly those keys."""
    generators = _generators(model)
    if set(generators) != set(states):
        raise ValueError(f"the checkpoint's random generators {sorted(states)} are not the model's "
                         f"{sorted(generators)}")
    return generators


def set_seed_states(model, states):
    """Restore what `seed_states` returned; raise `ValueError` if the model differs."""
    for key, gen in _matching_generators(model, states).items():
        gen.state.assign(np.asarray(states[key], dtype=gen.state.dtype))


class EpochSync(keras.callbacks.Callback):
    """Tell an epoch-keyed data source which epoch is starting (`data.set_epoch(epoch)`).

    `keras_ae.data.training_dataset`, `ArrayBatches` and `DynamicBinarization`
    draw each epoch's order and noise from `(seed, epoch)`. keras-ae models
    add this callback in `fit` themselves; pass it when a plain Keras model
    trains on such data and must resume exactly.
    """

    def __init__(self, data):
        super().__init__()
        if not callable(getattr(data, "set_epoch", None)):
            raise TypeError(f"`data` must have a `set_epoch(epoch)` method. Received: {type(data).__name__}")
        self.data = data

    def on_epoch_begin(self, epoch, logs=None):
        self.data.set_epoch(epoch)


class SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` that survives kills and resumes bit for bit.

    Each checkpoint is one commit: the weights (with the optimizer state) go
    to a new file, `epoch-<N>.weights.h5`, then a small JSON file that names
    it, with its sha256 and the states of the model's random generators, is
    renamed into place; only then are older files removed. A kill at any
    moment leaves the previous checkpoint or the new one. On resume, the
    weights, the optimizer and the random generators (dropout, corruption,
    sampling) are restored, and an epoch-keyed data source (see `EpochSync`)
    serves the epoch it would have served, so the resumed run ends with the
    weights of the uninterrupted one. A checkpoint that cannot be read is
    reported with a `CheckpointWarning`, renamed to `*.corrupt-<time>`, and
    training starts from the beginning instead of crashing.

    `fingerprint` (a JSON-able dict, e.g. the data's sha256 and the
    training settings) is recorded with every checkpoint; a checkpoint whose
    recorded fingerprint differs is refused with a `CheckpointMismatchError`
    that names each difference (`setting: old -> new`), rather than resumed
    on other data. A checkpoint without one (or a callback without one)
    resumes as before. `remove_checkpoint(backup_dir)` starts afresh.

    Exact resume needs `save_freq="epoch"` (the default): Keras reruns a
    partly finished epoch from its start. `double_checkpoint` is not needed
    (every checkpoint is atomic) and is ignored. Only the checkpoint's own
    files (`epoch-*-batch-*.weights.h5`, `training_metadata.json`, and Keras's
    `latest.weights.h5`) are touched in `backup_dir`. While it trains, the
    callback holds an `fcntl.flock` lock beside `backup_dir`
    (`keras_ae._io.file_lock`): a second process training into the same
    folder is refused at its start with an error naming the first one.

    Example:

    ```python
    model.fit(keras_ae.data.training_dataset(x, seed=0), epochs=50,
              callbacks=[keras_ae.callbacks.SafeBackupAndRestore("runs/vae")])
    # killed? the same call resumes after the last completed epoch
    ```
    """

    def __init__(self, backup_dir, *args, fingerprint=None, **kwargs):
        super().__init__(backup_dir, *args, **kwargs)
        if fingerprint is not None:
            fingerprint = json.loads(json.dumps(fingerprint))  # JSON-able, and compared as it is read back
        self.fingerprint = fingerprint

    def on_train_begin(self, logs=None):
        if getattr(self, "_lock", None) is None:  # two trainings into one folder would take each other's epochs
            lock = contextlib.ExitStack()
            os.makedirs(os.path.dirname(os.path.abspath(self.backup_dir)), exist_ok=True)  # the lock's folder
            lock.enter_context(file_lock(
                self.backup_dir, blocking=False, what=f"The checkpoint folder {self.backup_dir!r}",
                hint="wait for that training to finish, or give this one another folder (keras-ae train: "
                     "another --out)"))
            self._lock = lock
        if self.fingerprint is not None:
            recorded = read_fingerprint(self.backup_dir)
            differences = fingerprint_differences(recorded, self.fingerprint) if recorded is not None else []
            if differences:  # before the try below: another run's checkpoint is not corrupt, and stays as it is
                raise CheckpointMismatchError(
                    f"The checkpoint in {self.backup_dir!r} belongs to another run ({'; '.join(differences)}); "
                    "resuming it would mix the two. Remove it (keras_ae.callbacks.remove_checkpoint) to start "
                    "afresh")
        # Keras keeps `_initial_epoch` on the model; one left by an earlier `fit` must not skip epochs here.
        self.model._initial_epoch = None
        try:
            self._restore()
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            moved = []
            for path in [self._training_metadata_path, *self._weight_files()]:
                if os.path.exists(path):
                    os.replace(path, f"{path}.corrupt-{stamp}")
                    moved.append(os.path.basename(path))
            warnings.warn(
                f"The checkpoint in {self.backup_dir!r} could not be read ({type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}); set aside as "
                f"{', '.join(m + '.corrupt-' + stamp for m in moved)}. Training starts from epoch 1.",
                CheckpointWarning, stacklevel=2)
            self.model._initial_epoch = 0

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        self._release()

    def _release(self):
        lock, self._lock = getattr(self, "_lock", None), None
        if lock is not None:
            lock.close()

    def __del__(self):  # a `fit` that raised ends without `on_train_end`
        try:
            self._release()
        except Exception:  # at interpreter exit the modules it needs may be gone; the OS drops the lock then
            pass

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch  # batch-level checkpoints record the epoch they are in

    def _weight_files(self):
        """The checkpoint's weight files: ours and Keras's `latest.weights.h5` (nothing else in the folder)."""
        names = glob.glob(os.path.join(glob.escape(self.backup_dir), "epoch-*-batch-*.weights.h5"))
        return sorted(names + [p for p in (self._weights_path,) if os.path.exists(p)])

    def _restore(self):
        if not os.path.exists(self._training_metadata_path):
            if os.path.exists(self._weights_path):  # a Keras checkpoint without its metadata
                raise ValueError("latest.weights.h5 has no training_metadata.json beside it")
            return
        with open(self._training_metadata_path, encoding="utf-8") as f:
            meta = json.load(f)
        if not isinstance(meta, dict) or not isinstance(meta.get("epoch"), int):
            raise ValueError("training_metadata.json has no integer 'epoch'")
        name = meta.get("weights", os.path.basename(self._weights_path))  # older checkpoints: Keras's name
        path = os.path.join(self.backup_dir, name)
        if os.path.basename(name) != name or not os.path.exists(path):
            raise ValueError(f"the weights file {name!r} named by training_metadata.json is missing")
        if "sha256" in meta and sha256_file(path) != meta["sha256"]:
            raise ValueError(f"{name} does not match the sha256 in training_metadata.json")
        states = meta.get("seed_states")
        if states is not None:
            _matching_generators(self.model, states)  # before any weight is loaded
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        variables = list(self.model.variables) + list(getattr(self.model.optimizer, "variables", []))
        before = [keras.ops.convert_to_numpy(v.value) for v in variables]
        try:
            self.model.load_weights(path)
            if states is not None:
                set_seed_states(self.model, states)
        except BaseException:
            for v, value in zip(variables, before):  # a half-read file leaves the model as it was
                v.assign(value)
            raise
        self.model._initial_epoch = meta["epoch"]

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        name = f"epoch-{self._current_epoch}-batch-{self._last_batch_seen}.weights.h5"
        path = os.path.join(self.backup_dir, name)
        save = keras.Model.save_weights.__get__(self.model)
        atomic_write(path, lambda tmp: save(tmp, overwrite=True))
        meta = {"epoch": self._current_epoch, "batch": self._last_batch_seen, "weights": name,
                "sha256": sha256_file(path), "seed_states": seed_states(self.model)}
        if self.fingerprint is not None:
            meta["fingerprint"] = self.fingerprint
        write_json_atomic(self._training_metadata_path, meta)
        for old in self._weight_files():  # the metadata now names the new file
            if os.path.basename(old) != name:
                os.remove(old)

    @property
    def resumed_epoch(self):
        """The epoch training resumed after (0 for a fresh start); valid after `on_train_begin`."""
        return getattr(self.model, "_initial_epoch", 0) or 0
