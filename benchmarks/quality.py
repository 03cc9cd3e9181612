"""Quality benchmarks against PCA and published figures, on the MNIST test set."""

import time

import numpy as np

from keras_ae import evaluation, zoo


# Published reference figures.
HINTON_2006 = {"autoencoder": 3.00, "logistic PCA": 8.01, "PCA": 13.87}
IWAE_VAE_NLL = 86.76      # Burda et al. 2016, VAE, k = 1, one stochastic layer
PYTHAE_VAE_NLL = 89.78    # pythae's reproduction
IWAE_K50_NLL = 84.78      # Burda et al. 2016, IWAE, k = 50, one stochastic layer
# Mean AUROC over the ten digits, as the issue lists them.
ONE_CLASS_ANCHORS = {"Deep SVDD (Ruff et al. 2018)": 0.948, "OCGAN (Perera et al. 2019)": 0.975,
                     "MemAE (Gong et al. 2019)": 0.975, "GEOM (Golan & El-Yaniv 2018)": 0.980,
                     "ARNet (Fei et al. 2020)": 0.983}
DEEP_SVDD = {0: 98.0, 1: 99.7, 2: 91.7, 3: 91.9, 4: 94.9, 5: 88.5, 6: 98.3, 7: 94.6, 8: 93.9, 9: 96.5}
# Per-digit AUROC (%) of the anchors that publish them, on the same protocol (one digit's training
# images, the full 10k test set). OCGAN and GEOM as re-run by Cheng et al. 2020 (GEOM's own paper has
# no MNIST), ARNet from its journal paper (Ye et al. 2022); all three as printed in Table 1 of AGAD
# (Shi & Zhang), whose rows average to the means above. MemAE publishes its mean only.
ONE_CLASS_PER_DIGIT = {
    "Deep SVDD": DEEP_SVDD,
    "OCGAN": {0: 99.8, 1: 99.9, 2: 94.2, 3: 96.3, 4: 97.5, 5: 98.0, 6: 99.1, 7: 98.1, 8: 93.9, 9: 98.1},
    "GEOM": {0: 98.2, 1: 91.6, 2: 99.4, 3: 99.0, 4: 99.1, 5: 99.6, 6: 99.9, 7: 96.3, 8: 97.2, 9: 99.2},
    "ARNet": {0: 98.6, 1: 99.9, 2: 99.0, 3: 99.1, 4: 98.1, 5: 98.1, 6: 99.7, 7: 99.0, 8: 93.6, 9: 97.8},
}
ONE_CLASS_PER_DIGIT_SOURCE = ("Deep SVDD: Ruff et al. 2018. OCGAN and GEOM: as re-run by Cheng et al. 2020 (GEOM's "
                              "paper has no MNIST); ARNet: Ye et al. 2022; these three as printed in Table 1 of "
                              "AGAD (Shi & Zhang). MemAE publishes its mean only.")


def recipe_summary(name):
    """How a zoo entry was trained, in one line, from its manifest."""
    info = zoo.info(name)
    r, config = info["recipe"], info["config"]["config"]
    parts = [f"{r['epochs']} epochs, batch {r['batch_size']}, {r['optimizer']}"]
    if config.get("activation"):
        backend = info["versions"].get("backend", "tensorflow")  # older manifests: TensorFlow only
        parts[0] = f"{config['activation']} hidden layers, on {backend}; {parts[0]}"
    if r.get("init_from"):
        source = f"`{r['init_from']}`"
        start_sha = r.get("init_weights_sha256")
        if start_sha and r["init_from"] in zoo.list_models() \
                and zoo.info(r["init_from"])["weights"]["sha256"] != start_sha:
            source = f"an earlier version of {source} (weights sha256 {start_sha[:12]})"
        parts.append(f"started from the weights of {source}")
    if r.get("pretrain_epochs_per_layer"):
        parts.append(f"after {r['pretrain_epochs_per_layer']} pretraining epochs per layer")
    if r.get("weight_decay"):
        parts.append(f"weight decay {r['weight_decay']}")
    if r.get("input_noise"):
        parts.append(f"input noise {r['input_noise']}")
    if r.get("shift"):
        parts.append(f"each training image moved by up to {r['shift']} px each way (data augmentation)")
    if config.get("kl_gradient") == "path":
        parts.append("the KL term's gradient taken through the sampled code (`kl_gradient=\"path\"`)")
    if r.get("kl_warmup"):
        parts.append(f"the KL term's weight rising from 0 to 1 over the first {r['kl_warmup']} epochs")
    if r.get("mse_finetune"):
        ft = r["mse_finetune"]
        parts.append(f"then {ft['epochs']} epochs on the squared error from lr {ft['lr']}")
    return "; ".join(parts)


def mnist_entries():
    """The zoo entries trained on MNIST (the others are measured by `--images` on their own data sets)."""
    from benchmarks.images import entries_on

    return entries_on("mnist")


def zoo_vs_pca(x_train, x_test, log):
    """Every MNIST zoo entry's squared error per image and per-pixel MSE, next to PCA at its code size.

    Entries on the other data sets are measured by `--images` (benchmarks/images.py) on their own test split.
    """
    rows = []
    pca_cache = {}
    for name in mnist_entries():
        model = zoo.load(name)
        shape = (-1,) + tuple(model.sample_shape)
        err = evaluation.squared_error_per_image(model, x_test.reshape(shape))
        k = model.code_size
        if k not in pca_cache:
            pca_cache[k] = evaluation.pca_squared_error(x_train, x_test, k)
        row = {"name": name, "code_size": k, "squared_error": err, "mse_per_pixel": err / 784,
               "pca_squared_error": pca_cache[k], "pca_mse_per_pixel": pca_cache[k] / 784,
               "recipe": recipe_summary(name)}
        if name.startswith(("denoising", "conv_denoising", "undercomplete.mnist_z20")):
            row["noisy_squared_error"] = evaluation.noisy_squared_error(model, x_test.reshape(shape))
            row["pca_noisy_squared_error"] = pca_denoising_error(x_train, x_test, k)
        rows.append(row)
        log(f"{name}: {err:.3f} vs PCA-{k} {pca_cache[k]:.3f}")
    return rows


def pca_denoising_error(x_train, x_test, k):
    """PCA (fitted on clean training images) as a denoiser: project the noisy test image, compare with the clean."""
    from sklearn.decomposition import PCA

    from keras_ae.datasets import add_noise

    pca = PCA(k, svd_solver="randomized", random_state=0).fit(x_train.reshape(len(x_train), -1))
    noisy = add_noise(x_test.reshape(len(x_test), -1), noise_factor=0.5, seed=evaluation.NOISE_SEED)
    recon = pca.inverse_transform(pca.transform(noisy))
    return float(((recon - x_test.reshape(len(x_test), -1)) ** 2).sum(1).mean())


# The models in the NLL table, each with its target and published anchors (nats).
NLL_MODELS = {
    "vae.binarized_mnist_iwae": {"target": 86.50, "anchors": {
        "IWAE paper, VAE k = 1 (Burda et al. 2016)": IWAE_VAE_NLL,
        "public reproduction, same architecture, 3,280 epochs": 86.83,
        "pythae reproduction": PYTHAE_VAE_NLL}},
    "iwae.binarized_mnist_k50": {"target": 85.0, "anchors": {
        "IWAE paper, IWAE k = 50 (Burda et al. 2016)": IWAE_K50_NLL}},
}


def vae_nll(x_test, num_samples, log, names=tuple(NLL_MODELS)):
    """Importance-sampled test NLL (nats) of the zoo's IWAE-setting models on statically binarized test images.

    Each model in `names` that the zoo ships gets a row: NLL with `num_samples` draws per image and the
    one-draw -ELBO, both with seed 0, next to its target and anchors. When `names` leaves some of
    NLL_MODELS out, the result says which it measured (`only`), so that `report.write` keeps the other
    rows of the run before, and gives every shipped model's recipe as it reads now (`recipes`: a warm
    start's source may have been retrained since).
    """
    rows = []
    for name in names:
        if name not in zoo.list_models():
            continue
        model = zoo.load(name)
        start = time.time()
        nll = float(evaluation.negative_log_likelihood(model, x_test, num_samples, seed=0, verbose=1,
                                                       binarized=True).mean())
        neg_elbo = evaluation.negative_elbo(model, x_test, num_samples=1, binarized=True)
        log(f"{name}: NLL {nll:.2f} nats (k={num_samples}), -ELBO {neg_elbo:.2f}, {time.time() - start:.0f} s")
        rows.append({"name": name, "nll": nll, "neg_elbo": neg_elbo, "recipe": recipe_summary(name),
                     **NLL_MODELS.get(name, {})})
    subset = bool(set(NLL_MODELS) - set(names))
    if not rows and not subset:
        return None
    result = {"k": num_samples, "n_images": int(len(x_test)), "models": rows}
    if subset:  # the other models' rows are kept from results.json (report.keep_unmeasured_nll_rows)
        result["only"] = list(names)
        result["recipes"] = {name: recipe_summary(name) for name in NLL_MODELS if name in zoo.list_models()}
    return result


def one_class(data, epochs, log, digits=range(10)):
    """The one-class MNIST protocol with a dense autoencoder, AUROC per digit."""
    import keras

    import keras_ae
    from keras_ae.anomaly import one_class_mnist

    def build():
        return keras_ae.UndercompleteAutoencoder(hidden_units=(256, 64), latent_dim=16, reconstruction_loss="bce")

    res = one_class_mnist(build, data, digits=digits, epochs=epochs, batch_size=128, progress=True)
    log(f"one-class mean AUROC {res['mean_auroc']:.4f}")
    # The method chosen on held-out training images (benchmarks/one_class_dev.py): a dense autoencoder
    # that turns rotated normal digits upright. `--quick` trains it for one epoch.
    from keras_ae.anomaly import RestorationDetector

    restoration_epochs = 1 if epochs == 1 else RestorationDetector().epochs
    restored = one_class_mnist(lambda: RestorationDetector(epochs=restoration_epochs), data, digits=digits,
                               progress=True)
    log(f"one-class RestorationDetector mean AUROC {restored['mean_auroc']:.4f}")
    return {"model": "UndercompleteAutoencoder(hidden_units=(256, 64), latent_dim=16, bce)", "epochs": epochs,
            "backend": keras.backend.backend(),
            "auroc": res["auroc"], "mean_auroc": res["mean_auroc"],
            "restoration": {"model": "RestorationDetector() (512-256-128-32, 4 rotations)",
                            "epochs": restoration_epochs, "smoothing": RestorationDetector().smoothing,
                            "error": RestorationDetector().error,
                            "auroc": restored["auroc"], "mean_auroc": restored["mean_auroc"]},
            "deep_svdd": DEEP_SVDD, "deep_svdd_mean": float(np.mean(list(DEEP_SVDD.values()))) / 100,
            "anchors": ONE_CLASS_ANCHORS, "per_digit_anchors": ONE_CLASS_PER_DIGIT,
            "per_digit_source": ONE_CLASS_PER_DIGIT_SOURCE}


def knn_cosine_distance(x_reference, x, k=3, sigma=1.0, block=2048, image_shape=(28, 28)):
    """Mean cosine distance of each image in `x` to its `k` nearest images in `x_reference`, both blurred by a
    Gaussian of `sigma` px first (images of `image_shape`, `(height, width[, channels])`, flat or not; each
    channel blurred on its own; 0: any rows as they are). `block` rows of `x` at a time."""
    from scipy.ndimage import gaussian_filter

    def unit(a):
        a = np.asarray(a, "float32")
        if sigma:
            a = a.reshape((-1,) + tuple(image_shape))
            a = gaussian_filter(a, sigma=(0, sigma, sigma) + (0,) * (len(image_shape) - 2))
        a = a.reshape(len(a), -1)
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)

    ref = unit(x_reference)
    out = []
    for start in range(0, len(x), block):
        sim = unit(x[start:start + block]) @ ref.T
        out.append(1.0 - np.mean(-np.partition(-sim, k - 1, axis=1)[:, :k], axis=1))
    return np.concatenate(out)


KNN_BASELINE = {"k": 3, "sigma": 1.0}  # chosen on held-out training images (report.ONE_CLASS_KNN_SELECTION)


def one_class_knn(data, log):
    """The one-class protocol's nearest-neighbour baseline (no autoencoder), AUROC per digit."""
    from sklearn.metrics import roc_auc_score

    (x, y), (xt, yt) = data
    auroc = {}
    for digit in range(10):
        scores = knn_cosine_distance(x[y == digit], xt, **KNN_BASELINE)
        auroc[str(digit)] = float(roc_auc_score((yt != digit).astype(int), scores))
    mean = float(np.mean(list(auroc.values())))
    log(f"one-class nearest-neighbour baseline mean AUROC {mean:.4f}")
    return {"model": f"cosine distance to the {KNN_BASELINE['k']} nearest normal training images, pixels blurred "
                     f"by a Gaussian of {KNN_BASELINE['sigma']:g} px", **KNN_BASELINE, "auroc": auroc,
            "mean_auroc": mean}


def linear_probe(x_train, y_train, x_test, y_test, log, n_train=10000):
    """Logistic-regression accuracy on the codes of each zoo model (VAE: the means), and on pixels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def probe(ztr, zte):
        scaler = StandardScaler().fit(ztr)
        clf = LogisticRegression(max_iter=500).fit(scaler.transform(ztr), y_train[:n_train])
        return float(clf.score(scaler.transform(zte), y_test))

    rows = [{"name": "raw pixels", "code_size": 784, "accuracy": probe(x_train[:n_train], x_test)}]
    for name in mnist_entries():
        model = zoo.load(name)
        shape = (-1,) + tuple(model.sample_shape)
        ztr = model.encode(x_train[:n_train].reshape(shape)).reshape(n_train, -1)
        zte = model.encode(x_test.reshape(shape)).reshape(len(x_test), -1)
        rows.append({"name": name, "code_size": model.code_size, "accuracy": probe(ztr, zte)})
        log(f"linear probe {name}: {rows[-1]['accuracy']:.4f}")
    return rows
