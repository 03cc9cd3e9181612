"""The `--conditional` part: the conditional VAE entries against the VAE of the same layers (issue 39).

    python -m benchmarks --conditional      # about 15 minutes here: two VAEs and two judges

For each of `cvae.mnist_z2` and `cvae.fashion_mnist_z2` (the shipped entries):

1. **Conditional accuracy.** A small CNN (`keras_ae.zoo.conditional.train_judge`) is trained on the
   60,000 training images and labels (never the test ones); its accuracy on the test images is reported.
   The entry draws 1,000 samples of each class, `sample(n, labels=k)` (seed 0); the share the judge
   classifies as k is the conditional accuracy (targets: 97% MNIST, 90% Fashion-MNIST).
2. **−ELBO against the unconditional VAE.** A `VAE` with the entry's layers, latent size and seed but no
   labels is trained with the entry's recipe (epochs, batch size, Adam with the cosine decay, float16
   weights); the test −ELBO of both (10 draws of z, seed 0; the CVAE's given the true labels, so it bounds
   -log p(x|y)) is reported. Target: the CVAE's is lower.
"""

import math
import time

ENTRIES = {"mnist": "cvae.mnist_z2", "fashion_mnist": "cvae.fashion_mnist_z2"}
TARGETS = {"mnist": 0.97, "fashion_mnist": 0.90}
QUICK = {"n_train": 2000, "n_test": 200, "epochs": 1, "per_class": 20}


def unconditional_twin(recipe):
    """The `VAE` with the conditional recipe's layers, latent size and seed, without labels."""
    from keras_ae.models.registry import get_model

    kwargs = {k: v for k, v in recipe["kwargs"].items() if k != "num_classes"}
    return get_model("vae", input_shape=(28, 28, 1), **kwargs)


def train_twin(recipe, x_train, epochs, log):
    """Train the unconditional twin as `keras_ae.zoo.train` trains the entry: same optimizer, epochs, batch."""
    import keras

    from keras_ae.training import fit_model
    from keras_ae.zoo.train import _optimizer
    from keras_ae.zoo.writer import round_weights

    keras.utils.set_random_seed(0)
    vae = unconditional_twin(recipe)
    steps = epochs * math.ceil(len(x_train) / recipe["batch_size"])
    fit_model(vae, x=x_train, epochs=epochs, optimizer=_optimizer(recipe, steps), batch_size=recipe["batch_size"],
              shuffle=True, verbose=2, what="the unconditional VAE's training")
    round_weights(vae, recipe.get("weights_dtype", "float32"))
    return vae


def run_conditional(log, quick=False):
    from benchmarks.images import _shared_fallback
    from keras_ae import evaluation, zoo
    from keras_ae.zoo.conditional import conditional_accuracy, judge_accuracy, load_labelled, measure_conditional
    from keras_ae.zoo.conditional import train_judge
    from keras_ae.zoo.recipes import RECIPES

    out = {}
    for dataset, entry in ENTRIES.items():
        start = time.time()
        with _shared_fallback(dataset):
            xtr, ytr, xte, yte, source, info = load_labelled(dataset)
        if quick:
            xtr, ytr, xte, yte = xtr[:QUICK["n_train"]], ytr[:QUICK["n_train"]], xte[:QUICK["n_test"]], yte[:QUICK["n_test"]]
        xte = xte.astype("float32") / 255.0
        recipe = RECIPES[entry]
        epochs = QUICK["epochs"] if quick else recipe["epochs"]
        log(f"conditional {dataset}: {len(xtr)} training, {len(xte)} test images; the unconditional VAE, "
            f"{epochs} epochs")
        vae = train_twin(recipe, xtr, epochs, log)
        log(f"conditional {dataset}: the judge")
        judge = train_judge(xtr, ytr, epochs=1 if quick else 3, verbose=2)
        cvae = zoo.load(entry)
        accuracy, per_class = conditional_accuracy(cvae, judge, per_class=QUICK["per_class"] if quick else 1000)
        log(f"conditional {dataset}: conditional accuracy {accuracy:.4f}")
        cvae_metrics = measure_conditional(cvae, xte, yte)
        vae_elbo = round(evaluation.negative_elbo(vae, xte), 4)
        out[dataset] = {
            "entry": entry, "data": {"source": info.describe(source), "train_images": int(len(xtr)),
                                     "test_images": int(len(xte))},
            "judge_test_accuracy": round(judge_accuracy(judge, xte, yte), 4),
            "conditional_accuracy": round(accuracy, 4), "per_class": per_class, "target": TARGETS[dataset],
            "cvae_neg_elbo": cvae_metrics["neg_elbo"], "vae_neg_elbo": vae_elbo,
            "cvae_squared_error": cvae_metrics["squared_error"],
            "vae_squared_error": round(evaluation.squared_error_per_image(vae, xte), 4),
            "params": {"cvae": int(cvae.count_params()), "vae": int(vae.count_params())},
            "epochs": epochs, "seconds": round(time.time() - start, 1)}
        log(f"conditional {dataset}: {out[dataset]}")
    return out
