"""Anomaly detection: train on one digit, flag the others by reconstruction error.

Mirrors the course's "finding the odd one out" use and the one-class MNIST protocol of
Ruff et al. (2018): train only on the normal digit, score the whole test set, and measure
AUROC with the other nine digits as anomalies. The figures show the score histogram with
the fitted threshold, the ROC curve, and the worst-reconstructed test images.

    python scripts/anomaly_detection.py [--quick] [--out DIR] [--normal 1] [--all-digits]
"""

# %%
import numpy as np

import keras_ae
from keras_ae.course import epochs, load_data, parser, save
from keras_ae.anomaly import AnomalyDetector, one_class_mnist
from keras_ae.data import one_class_split
from keras_ae.plotting import image_grid, roc_curve_plot, score_histogram

p = parser(__doc__)
p.add_argument("--normal", type=int, default=1, help="the normal digit")
p.add_argument("--all-digits", action="store_true", help="run the protocol for all ten digits")
args = p.parse_args()
(x_train, y_train), (x_test, y_test) = load_data(args, n_train=3000, n_test=500)
n_epochs = epochs(args, 20)


def build():
    return keras_ae.UndercompleteAutoencoder(hidden_units=(256, 64), latent_dim=16, reconstruction_loss="bce")


# %% [markdown]
# ## One normal digit

# %%
x_normal, x_eval, is_anomaly = one_class_split(x_train, y_train, x_test, y_test, args.normal)
model = build()
model.compile(optimizer="adam")
model.fit(x_normal, x_normal, epochs=n_epochs, batch_size=128, verbose=2)
detector = AnomalyDetector(model, percentile=95).fit(x_normal)
report = detector.evaluate(x_eval, is_anomaly)
print(f"normal digit {args.normal}: AUROC {report['auroc']:.4f}, average precision "
      f"{report['average_precision']:.4f}, F1 {report['f1']:.4f} at threshold {report['threshold']:.5f}")
scores = detector.decision_function(x_eval)
save(score_histogram(scores, is_anomaly, detector.threshold_, title=f"Scores, normal digit {args.normal}"),
     args, "score_histogram.png")
save(roc_curve_plot(is_anomaly, scores, title=f"ROC, normal digit {args.normal}"), args, "roc.png")
worst = np.argsort(scores)[::-1][:16]
save(image_grid(x_eval[worst], ncols=8, title="The 16 most anomalous test images"), args, "most_anomalous.png")


# %% [markdown]
# ## The full protocol: every digit in turn

# %%
if args.all_digits:
    res = one_class_mnist(build, ((x_train, y_train), (x_test, y_test)), epochs=n_epochs)
    print(f"mean AUROC over the ten digits: {res['mean_auroc']:.4f}")
