"""Worker for tests/test_resume.py: train, interrupt, resume; run as a script.

    python tests/resume_worker.py DIR full|cut|resume VARIANT...

`full` trains 3 epochs without a break and saves the final weights to
DIR/VARIANT.full.npy; `cut` trains the same run and interrupts it in epoch 2
(batch 2), leaving a checkpoint (the last variant is ended by SIGKILL, the
others by an exception); `resume` reruns it from the checkpoint in a fresh
process and saves DIR/VARIANT.resumed.npy. "stacked_pretrain" is the stacked
autoencoder interrupted inside its second pretraining level.
"""

import json
import os
import signal
import sys
import warnings

import keras
import numpy as np

from keras_ae.callbacks import CheckpointWarning, SafeBackupAndRestore
from keras_ae.datasets import training_dataset
from keras_ae.testing import small_inputs, small_model


class Interrupted(Exception):
    pass


class Interrupt(keras.callbacks.Callback):
    def __init__(self, hard):
        super().__init__()
        self.hard, self.epoch = hard, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 1:
            if self.hard:
                os.kill(os.getpid(), signal.SIGKILL)
            raise Interrupted()


class Record(keras.callbacks.Callback):
    """Which epochs each `fit` ran (a resume must start after the checkpoint, not from 0)."""

    def __init__(self, log, stage):
        super().__init__()
        self.epochs = log.setdefault(stage, [])

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def run(variant, folder, interrupt=None, log=None):
    log = {} if log is None else log
    keras.utils.set_random_seed(0)
    pretrain = variant == "stacked_pretrain"
    model = small_model("stacked" if pretrain else variant)
    x = small_inputs(model, 96)
    cut = [interrupt] if interrupt else []
    if pretrain:
        model.pretrain(x, epochs=3, batch_size=32, verbose=0, seed=0, callbacks=lambda level: [
            SafeBackupAndRestore(os.path.join(folder, f"level{level}"), delete_checkpoint=False),
            Record(log, f"level{level}"), *(cut if level == 1 else [])])
        cut = []
    model.compile(optimizer="adam")
    model.fit(training_dataset(x, 32, seed=0, input_noise=0.05), epochs=3, verbose=0,  # default shuffle=True
              callbacks=[SafeBackupAndRestore(os.path.join(folder, "fit"), delete_checkpoint=False),
                         Record(log, "fit"), *cut])
    return np.concatenate([np.ravel(keras.ops.convert_to_numpy(v)) for v in model.weights])


def main(out, phase, variants):
    for k, variant in enumerate(variants):
        folder = os.path.join(out, variant, "full" if phase == "full" else "cut")
        if phase == "cut":
            try:
                run(variant, folder, Interrupt(hard=k == len(variants) - 1))
            except Interrupted:
                continue
            raise AssertionError(f"{variant}: the run was not interrupted")
        log = {}
        with warnings.catch_warnings():
            warnings.simplefilter("error", CheckpointWarning)  # a checkpoint set aside is a failure here
            weights = run(variant, folder, log=log)
        np.save(os.path.join(out, f"{variant}.{'full' if phase == 'full' else 'resumed'}.npy"), weights)
        with open(os.path.join(out, f"{variant}.{phase}.epochs.json"), "w") as f:
            json.dump(log, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
