"""Training callbacks: checkpoints that survive a kill."""

import json
import os
import time
import warnings

import keras

from keras_ae._io import atomic_write, write_json_atomic


class CheckpointWarning(UserWarning):
    """A checkpoint could not be read and was set aside; training starts afresh."""


class SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` whose files are written atomically.

    The weights and the training metadata are each written to a temporary file
    beside the target and renamed, so a kill at any moment leaves the previous
    checkpoint or the new one. A checkpoint that cannot be read (e.g. written
    by an older, non-atomic run that was killed) is reported with a
    `CheckpointWarning`, renamed to `*.corrupt-<time>` and training starts
    from the beginning, instead of crashing.

    Example:

    ```python
    model.fit(x, epochs=50, callbacks=[keras_ae.callbacks.SafeBackupAndRestore("runs/vae")])
    # killed? the same call resumes after the last completed epoch
    ```
    """

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            moved = []
            for path in (self._weights_path, self._training_metadata_path,
                         self._prev_weights_path, self._prev_training_metadata_path):
                if os.path.exists(path):
                    os.replace(path, f"{path}.corrupt-{stamp}")
                    moved.append(os.path.basename(path))
            warnings.warn(
                f"The checkpoint in {self.backup_dir!r} could not be read ({type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}); set aside as "
                f"{', '.join(m + '.corrupt-' + stamp for m in moved)}. Training starts from epoch 1.",
                CheckpointWarning, stacklevel=2)
            self.model._initial_epoch = 0

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        save = keras.Model.save_weights.__get__(self.model)
        atomic_write(self._weights_path, lambda tmp: save(tmp, overwrite=True))
        write_json_atomic(self._training_metadata_path,
                          {"epoch": self._current_epoch, "batch": self._last_batch_seen})

    @property
    def resumed_epoch(self):
        """The epoch training resumed after (0 for a fresh start); valid after `on_train_begin`."""
        return getattr(self.model, "_initial_epoch", 0) or 0
