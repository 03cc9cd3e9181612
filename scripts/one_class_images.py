"""One-class detection on real images: train on one kind of clothing (or photo), flag every other kind.

Mirrors the course's anomaly-detection application of autoencoders (lecture notes 000, "Practical
Applications", 4. Anomaly Detection: "train on normal data only; normal data: low reconstruction
error; anomaly: high reconstruction error (never seen before!)"; notes 002, "Use Cases of
Auto-encoders"; notes 003, "Finding the 'Odd One Out'"), on photographs of real things rather than
digits. It follows the one-class protocol of Ruff et al. (2018), as `scripts/anomaly_detection.py` does
for MNIST: one class is normal, a detector learns it from that class's training images only, and the
whole test set is scored with the other nine classes as anomalies (AUROC).

Three detectors side by side, the kinds `python -m benchmarks --quality --parts one_class_images`
measures for every class of Fashion-MNIST and CIFAR-10 (here with their defaults; the benchmark chose
each one's scoring on held-out training images, so its figures differ):

1. the course's plain autoencoder, scored by its reconstruction error (`ReconstructionDetector`);
2. `RestorationDetector`: an autoencoder taught to turn rotated normal images upright (attribute
   restoration, ARNet); an image of another kind is put back upright worse;
3. no autoencoder at all: the distance to the nearest normal training images, the baseline an
   autoencoder's score has to beat to be worth training.

    python scripts/one_class_images.py [--quick] [--out DIR] [--dataset fashion_mnist|cifar10] [--normal 7]

Fashion-MNIST is found through KERAS_AE_FASHION_MNIST (CIFAR-10: KERAS_AE_CIFAR10) or Keras's cache;
without it the script says so and uses MNIST digits.
"""

# %%
import keras_ae  # before Keras: it holds back TensorFlow's C++ start-up lines
import keras
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve

from keras_ae.anomaly import ReconstructionDetector, RestorationDetector
from keras_ae.course import epochs, load_data, parser, save
from keras_ae.data import DATASETS, load_dataset, one_class_split
from keras_ae.plotting import image_grid

p = parser(__doc__)
p.add_argument("--dataset", default="fashion_mnist", choices=("fashion_mnist", "cifar10"))
p.add_argument("--normal", type=int, default=7, help="the normal class (Fashion-MNIST 7: sneaker)")
args = p.parse_args()


# %% [markdown]
# ## The data: one class is normal

# %%
def load_images(n_train=3000, n_test=600):
    """The data set's images in [0, 1], `(n, h, w, c)`, and its class names; MNIST where it is missing."""
    try:
        (x, y), (xt, yt), _ = load_dataset(args.dataset)
        names = DATASETS[args.dataset].class_names
    except FileNotFoundError:
        print(f"{args.dataset} not found (see keras_ae.data.load_dataset): using MNIST digits instead")
        (x, y), (xt, yt) = load_data(args, shape="image", n_train=n_train, n_test=n_test)
        names = tuple(str(d) for d in range(10))
    if args.quick:
        x, y, xt, yt = x[:n_train], y[:n_train], xt[:n_test], yt[:n_test]
    return (np.asarray(x, "float32"), y), (np.asarray(xt, "float32"), yt), names


(x_train, y_train), (x_test, y_test), class_names = load_images()
x_normal, x_eval, is_anomaly = one_class_split(x_train, y_train, x_test, y_test, args.normal)
normal_name = class_names[args.normal]
print(f"normal class {args.normal} ({normal_name}): {len(x_normal)} training images; {len(x_eval)} test images, "
      f"{int(is_anomaly.sum())} of them anomalies")
flat_normal, flat_eval = x_normal.reshape(len(x_normal), -1), x_eval.reshape(len(x_eval), -1)
scores = {}


# %% [markdown]
# ## 1. The plain autoencoder: reconstruction error

# %%
keras.utils.set_random_seed(args.normal)
model = keras_ae.UndercompleteAutoencoder(input_shape=(flat_normal.shape[1],), hidden_units=(256, 64), latent_dim=16,
                                          reconstruction_loss="bce")
model.compile(optimizer="adam")
model.fit(flat_normal, flat_normal, epochs=epochs(args, 30), batch_size=128, verbose=2)
scores["autoencoder"] = ReconstructionDetector(model).fit(flat_normal).decision_function(flat_eval)


# %% [markdown]
# ## 2. RestorationDetector: turn rotated normal images upright

# %%
restorer = RestorationDetector(epochs=epochs(args, 15), random_state=args.normal).fit(x_normal)
scores["RestorationDetector"] = restorer.decision_function(x_eval)


# %% [markdown]
# ## 3. No autoencoder: distance to the nearest normal images

# %%
def knn_cosine_distance(reference, x, k=3):
    """Mean cosine distance of each row of `x` to its `k` nearest rows of `reference`."""
    def unit(a):
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)

    similarity = unit(x) @ unit(reference).T
    return 1.0 - np.mean(-np.partition(-similarity, k - 1, axis=1)[:, :k], axis=1)


scores["nearest neighbours"] = knn_cosine_distance(flat_normal, flat_eval)


# %% [markdown]
# ## Which detector tells the odd ones out?

# %%
for name, s in scores.items():
    print(f"{name:20s} AUROC {roc_auc_score(is_anomaly, s):.4f}")
fig = Figure(figsize=(5, 5))
ax = fig.subplots()
for name, s in scores.items():
    fpr, tpr, _ = roc_curve(is_anomaly, s)
    ax.plot(fpr, tpr, label=f"{name} (AUROC {roc_auc_score(is_anomaly, s):.3f})")
ax.plot([0, 1], [0, 1], "k:", label="chance")
ax.set_xlabel("false positive rate")
ax.set_ylabel("true positive rate")
ax.set_title(f"Normal: {normal_name}; anomalies: the other classes")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
save(fig, args, "roc_three_detectors.png")


# %% [markdown]
# ## The test images each detector finds most abnormal, and most normal

# %%
rows = []
for name, s in scores.items():
    order = np.argsort(s)
    rows.append(np.concatenate([x_eval[order[::-1][:8]], x_eval[order[:8]]]))
save(image_grid(np.concatenate(rows), ncols=16,
                title="Per row (" + ", ".join(scores) + "): the 8 most abnormal, then the 8 most normal"),
     args, "most_and_least_abnormal.png")
