"""Anomaly maps: find the defect in the image, not just the defective image.

Mirrors the course's fourth practical application of autoencoders, "Anomaly Detection" (lecture
notes 000, section "Practical Applications"; notes 002, "Use Cases of Auto-encoders"): train on
normal data only; normal data has a low reconstruction error, an anomaly a high one ("never seen
before!"); the application is to "find defects in manufacturing". Here the error is kept per pixel,
as anomalib and industrial inspection show it: the map says *where* the product is defective.

Fashion-MNIST's clothes play the products. Three kinds of synthetic defect are pasted on test items,
with their masks: a scratch, a hole and a stain (`keras_ae.anomaly.paste_defects`). A convolutional
autoencoder of the normal items (the zoo's `resnet.fashion_mnist_z32` when the zoo has it, else a
small one trained here) gives each image an anomaly map (`keras_ae.anomaly.anomaly_map`: the squared
error per pixel, smoothed with a Gaussian). The script reports the pixel-level AUROC of the maps
against the defect masks, per kind, and the image-level AUROC of defective against clean items.

    python scripts/anomaly_maps.py [--quick] [--out DIR] [--no-zoo] [--sigma 1.0]

Without Fashion-MNIST (`KERAS_AE_FASHION_MNIST`, or Keras's cache) it says so and uses MNIST digits.
"""

# %%
import keras_ae  # before Keras: it holds back TensorFlow's C++ start-up lines
import keras
import numpy as np
from sklearn.metrics import roc_auc_score

from keras_ae.anomaly import DEFECT_KINDS, ReconstructionDetector, anomaly_map, paste_defects, pixel_auroc
from keras_ae.course import epochs, load_data, parser, save
from keras_ae.plotting import anomaly_map_overlay

ZOO_ENTRY = "resnet.fashion_mnist_z32"

p = parser(__doc__)
p.add_argument("--no-zoo", action="store_true", help=f"train the small model even if the zoo has {ZOO_ENTRY}")
p.add_argument("--sigma", type=float, default=1.0, help="the maps' Gaussian smoothing, in pixels (default 1)")
args = p.parse_args()


# %% [markdown]
# ## The products: Fashion-MNIST

# %%
def load_items(n_train=1000, n_test=400):
    """Fashion-MNIST as (n, 28, 28, 1) images in [0, 1], or MNIST where it is missing; cut with --quick."""
    from keras_ae.data import load_fashion_mnist

    try:
        (x, _), (xt, _) = load_fashion_mnist()
    except FileNotFoundError:
        print("Fashion-MNIST not found (set KERAS_AE_FASHION_MNIST to its .npz, or see "
              "keras_ae.data.load_fashion_mnist): using MNIST digits instead")
        (x, _), (xt, _) = load_data(args, shape="image", n_train=n_train, n_test=n_test)
        return x, xt, "MNIST"
    if args.quick:
        x, xt = x[:n_train], xt[:n_test]
    print(f"Fashion-MNIST: {len(x)} training and {len(xt)} test images")
    return x, xt, "Fashion-MNIST"


x_train, x_test, data_name = load_items()


# %% [markdown]
# ## A model of the normal products

# %%
if data_name == "Fashion-MNIST" and not args.no_zoo and ZOO_ENTRY in keras_ae.zoo.list_models():
    model, model_name = keras_ae.zoo.load(ZOO_ENTRY), ZOO_ENTRY
    print(f"the model: the zoo's {ZOO_ENTRY}")
else:
    n_epochs = epochs(args, 5)
    model_name = f"a convolutional AE (32-64 filters, 32-D code) trained here for {n_epochs} epoch(s)"
    print(f"the model: {model_name} on {len(x_train)} {data_name} training images"
          + ("" if data_name != "Fashion-MNIST" or args.no_zoo else f" ({ZOO_ENTRY} is not in the zoo yet)"))
    keras.utils.set_random_seed(0)
    model = keras_ae.ConvolutionalAutoencoder(input_shape=(28, 28, 1), latent_dim=32)
    model.compile(optimizer="adam")
    model.fit(x_train, x_train, epochs=n_epochs, batch_size=128, shuffle=True, verbose=2)
detector = ReconstructionDetector(model).fit(x_train[:2000])  # any image detector gives maps


# %% [markdown]
# ## Defects: a scratch, a hole and a stain

# %%
# Every other test item gets a defect (the three kinds in turn); the items between stay clean.
kinds = np.resize(DEFECT_KINDS, len(x_test[0::2]))
x_defect, masks = paste_defects(x_test[0::2], kinds, seed=0)
x_clean = x_test[1::2]
print(f"{len(x_defect)} defective and {len(x_clean)} clean test items; a defect covers "
      f"{masks.sum(axis=(1, 2)).mean():.1f} pixels on average ({', '.join(f'{k} {masks[kinds == k].sum(axis=(1, 2)).mean():.1f}' for k in DEFECT_KINDS)})")


# %% [markdown]
# ## Anomaly maps and their pixel-level AUROC

# %%
maps = anomaly_map(detector, x_defect, sigma=args.sigma)
raw = anomaly_map(detector, x_defect, sigma=0)
print(f"pixel-level AUROC of the maps against the defect masks (all pixels of the defective items; "
      f"smoothing sigma = {args.sigma:g} pixel, and unsmoothed):")
for kind in DEFECT_KINDS + ("all",):
    rows = np.ones(len(kinds), bool) if kind == "all" else kinds == kind
    print(f"  {kind:8s} {pixel_auroc(maps[rows], masks[rows]):.4f}   (unsmoothed {pixel_auroc(raw[rows], masks[rows]):.4f})")


# %% [markdown]
# ## Image-level AUROC: defective against clean items

# %%
# Two image scores: the detector's (the mean squared error over the image) and anomalib's (the map's maximum).
clean_maps = anomaly_map(detector, x_clean, sigma=args.sigma)
score_defect, score_clean = detector.decision_function(x_defect), detector.decision_function(x_clean)
print("image-level AUROC, each kind of defective item against the clean items:")
for kind in DEFECT_KINDS + ("all",):
    rows = np.ones(len(kinds), bool) if kind == "all" else kinds == kind
    y = np.r_[np.ones(rows.sum()), np.zeros(len(x_clean))]
    mean_error = roc_auc_score(y, np.r_[score_defect[rows], score_clean])
    peak = roc_auc_score(y, np.r_[maps[rows].max(axis=(1, 2)), clean_maps.max(axis=(1, 2))])
    print(f"  {kind:8s} mean error {mean_error:.4f}   map maximum {peak:.4f}")


# %% [markdown]
# ## The overlay: where the model sees the defect

# %%
shown = np.r_[np.arange(12), len(x_defect) + np.arange(4)]  # twelve defective items, then four clean ones
images = np.concatenate([x_defect, x_clean])[shown]
figure_maps = np.concatenate([maps, clean_maps])[shown]
figure_masks = np.concatenate([masks, np.zeros((len(x_clean), 28, 28), bool)])[shown]
labels = [str(k) for k in kinds[:12]] + ["clean"] * 4
fig = anomaly_map_overlay(images, figure_maps, figure_masks, labels=labels, ncols=8,
                          title=f"{data_name}: anomaly maps (squared error, sigma {args.sigma:g}); defects outlined "
                                f"in cyan\nmodel: {model_name}")
save(fig, args, "anomaly_maps.png")
