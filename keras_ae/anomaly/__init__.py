"""Anomaly detection with any keras-ae model, the scikit-learn and PyOD way.

Higher `decision_function` values mean more abnormal (PyOD); `score_samples`
is its opposite (scikit-learn's outlier detectors: lower is more abnormal);
`predict` gives 1 for an anomaly and 0 for normal (PyOD's labels). The
threshold is a fitted attribute, and `sklearn.base.clone` works. The shared
conventions (NaN scores, `score`, the detector file) are in
`keras_ae.anomaly.base`.

- `BaseDetector`: the threshold, `predict`, `predict_proba`, `evaluate`, `save`/`load`.
- `ReconstructionDetector(model)` (also `AnomalyDetector`, its former name):
  scores by a trained model's reconstruction error.
- `TrainedDetector`: the template of the detectors that train their own model,
  `TabularDetector` (tables) and `RestorationDetector` (images of one class).
- `one_class_mnist`: the one-class MNIST protocol.
- `describe_detector_file(path)`: what a detector file holds, without loading it.
- `anomaly_map(detector_or_model, images)`: per-pixel maps of where an image is abnormal;
  `pixel_auroc` scores them against defect masks; `paste_defects` makes defective images and masks.

Example:

```python
detector = keras_ae.anomaly.AnomalyDetector(keras_ae.zoo.load("undercomplete.mnist_z20"))
detector.fit(x_normal)                      # threshold_ = 95th percentile of the normal scores
scores = detector.decision_function(x_new)  # higher = more abnormal
is_anomaly = detector.predict(x_new)        # 1 = anomaly, 0 = normal
report = detector.evaluate(x_test, y_is_anomaly)   # AUROC, average precision, F1
detector.save("detector.keras")             # model and threshold in one file, written atomically
detector = AnomalyDetector.load("detector.keras")
```
"""

from keras_ae.anomaly.base import (DETECTORS, SETTINGS_MEMBER, BaseDetector, BeyondFloat32Warning,
                                   describe_detector_file, register_detector)
from keras_ae.anomaly.defects import DEFECT_KINDS, paste_defects
from keras_ae.anomaly.maps import anomaly_map, pixel_auroc
from keras_ae.anomaly.protocol import one_class_mnist
from keras_ae.anomaly.reconstruction import SCORES, AnomalyDetector, ReconstructionDetector
from keras_ae.anomaly.restoration import RestorationDetector
from keras_ae.anomaly.tabular import (TABULAR_PREPROCESSING, TABULAR_SCORES, TabularDetector,
                                      default_tabular_architecture)
from keras_ae.anomaly.trained import TrainedDetector

__all__ = ["AnomalyDetector", "BaseDetector", "BeyondFloat32Warning", "DEFECT_KINDS", "DETECTORS",
           "ReconstructionDetector", "RestorationDetector", "SCORES", "TABULAR_PREPROCESSING", "TABULAR_SCORES",
           "TabularDetector", "TrainedDetector", "anomaly_map", "default_tabular_architecture",
           "describe_detector_file", "one_class_mnist", "paste_defects", "pixel_auroc", "register_detector"]

_MEMBER = SETTINGS_MEMBER  # the former private name; keras_ae/cli.py reads it until it uses describe_detector_file


def _detector_class(settings):
    """Deprecated (for keras_ae/cli.py until it uses `describe_detector_file`): the class of a detector
    file's settings, `AnomalyDetector` for a reconstruction detector, as before."""
    from keras_ae.anomaly._schema import SettingsReader
    from keras_ae.anomaly.base import detector_kind, legacy_kind

    try:
        kind = detector_kind(SettingsReader("detector file"), settings)
    except ValueError:
        kind = DETECTORS[legacy_kind(SettingsReader("detector file"), settings)]
    return AnomalyDetector if kind is ReconstructionDetector else kind
