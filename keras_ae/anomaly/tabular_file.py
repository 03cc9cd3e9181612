"""The scores of `TabularDetector` and its detector file: the settings section and the `.npy` members.

Format 3 files hold the kNN reference rows as a member (scores `"knn+code"`,
`"knn+mse"`); format 4 files (the scores with an isolation forest) add the
forest's three arrays (`keras_ae.anomaly.forest`) and its shape in the
`"tabular"` section. Format 2 files (`"mse+mahalanobis"`, `"mse"`) hold no
member. Every member is read with `allow_pickle=False` and checked (dtype,
shape, finite values), and a failure names the file and the member.
"""

import io

import numpy as np

from keras_ae.anomaly._schema import said
from keras_ae.anomaly.forest import PaddedForest

__all__ = ["FOREST_WEIGHT", "REFERENCE_MEMBER", "TABULAR_PREPROCESSING", "TABULAR_SCORES", "TabularFile"]

TABULAR_PREPROCESSING = ("power", "standard")
# knn: the mean distance to the k nearest training rows (standardized features); code: the same in the code
# space; forest: IsolationForest's -score_samples on the standardized features; mse: the squared reconstruction
# error; mahalanobis: the code's distance from the normal codes.
TABULAR_SCORES = ("knn+forest", "knn+code+forest", "knn+code", "knn+mse", "mse+mahalanobis", "mse")
# The scores with a forest divide each term by its interquartile range on the training rows and count the forest
# term twice (chosen on development data: benchmarks/tabular_dev.md); the others divide each term by its median.
FOREST_WEIGHT = 2.0
REFERENCE_MEMBER = "keras_ae_detector_reference.npy"  # the kNN reference rows, beside the settings
_TINY = float(np.finfo("float64").tiny)


def uses_reference(scoring):
    return scoring.startswith("knn")


def uses_forest(scoring):
    return "forest" in scoring.split("+")


def score_terms(scoring):
    """The terms of a score, in order (`"mse"` is one)."""
    return scoring.split("+")


class TabularFile:
    """`TabularDetector`'s part of the detector file (a mixin of its file hooks)."""

    def _file_format(self):
        return 4 if uses_forest(self.scoring_) else 3 if uses_reference(self.scoring_) else 2

    def _members(self):
        out = {}
        if uses_reference(self.scoring_):
            buffer = io.BytesIO()
            np.save(buffer, self.reference_, allow_pickle=False)
            out[REFERENCE_MEMBER] = buffer.getvalue()
        if uses_forest(self.scoring_):
            out.update(self.forest_.members())
        return out

    def _read_members(self, archive, reader):
        self.reference_ = self.code_reference_ = self.forest_ = None
        if uses_forest(self.scoring):
            self.forest_ = PaddedForest.read(archive, reader.path, self._forest_shape, len(self.mean_))
        if not uses_reference(self.scoring):
            return
        n = int(self._reference_rows)
        what = f"a float32 array of shape ({n}, {len(self.mean_)}), finite"
        try:
            ref = np.load(io.BytesIO(archive.read(REFERENCE_MEMBER)), allow_pickle=False)
        except KeyError:
            raise ValueError(f"{reader.path}: the member {REFERENCE_MEMBER!r} (the kNN reference rows of scoring "
                             f"{self.scoring!r}) is missing") from None
        except (ValueError, OSError) as e:
            raise ValueError(f"{reader.path}: the member {REFERENCE_MEMBER!r} must be {what}: {e}") from None
        if ref.shape != (n, len(self.mean_)) or ref.dtype != np.float32 or not np.all(np.isfinite(ref)):
            raise ValueError(f"{reader.path}: the member {REFERENCE_MEMBER!r} must be {what}. Received: "
                             f"shape {ref.shape}, dtype {ref.dtype}"
                             + ("" if ref.dtype.kind != "f" or np.all(np.isfinite(ref)) else ", NaN or infinite"))
        self._set_reference(ref, self.model_.encode(ref) if "code" in score_terms(self.scoring) else None)

    def _section(self):
        section = {"preprocessing": self.preprocessing,
                   "lambdas": None if self.lambdas_ is None else [float(v) for v in self.lambdas_],
                   "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
                   "code_mean": self.code_mean_.tolist(), "code_precision": self.code_precision_.tolist(),
                   "score_scales": [float(v) for v in self.score_scales_]}
        if uses_reference(self.scoring_):
            section["reference_rows"] = len(self.reference_)
        if uses_forest(self.scoring_):
            section["forest"] = self.forest_.settings()
        if hasattr(self, "feature_names_in_"):
            section["feature_names"] = [str(v) for v in self.feature_names_in_]
        return section

    @classmethod
    def _check_settings(cls, reader, settings):
        super()._check_settings(reader, settings)
        scoring = reader.choice("scoring", settings["scoring"], TABULAR_SCORES)
        if uses_forest(scoring) and settings["format"] < 4:
            reader.fail("format", f"4 or more with scoring {scoring!r}", settings["format"])
        t = reader.keys("tabular", settings["tabular"], ["preprocessing", "lambdas", "mean", "scale", "code_mean",
                                                         "code_precision", "score_scales"],
                        ["feature_names", "reference_rows"] + (["forest"] if uses_forest(scoring) else []),
                        owner="the 'tabular' section of a TabularDetector file")
        preprocessing = reader.choice("tabular.preprocessing", t["preprocessing"], TABULAR_PREPROCESSING)
        n = len(reader.array("tabular.mean", t["mean"], (None,)))
        reader.array("tabular.scale", t["scale"], (n,), low=_TINY)
        if (t["lambdas"] is None) != (preprocessing == "standard"):
            reader.fail("tabular.lambdas", f"{'null' if preprocessing == 'standard' else 'a list'} with "
                        f"preprocessing {preprocessing!r}", t["lambdas"])
        if t["lambdas"] is not None:
            reader.array("tabular.lambdas", t["lambdas"], (n,))
        k = len(reader.array("tabular.code_mean", t["code_mean"], (None,)))
        reader.array("tabular.code_precision", t["code_precision"], (k, k))
        reader.array("tabular.score_scales", t["score_scales"], (max(2, len(score_terms(scoring))),), low=_TINY)
        if uses_reference(scoring):
            rows = t.get("reference_rows")
            if rows is None:
                reader.fail("tabular.reference_rows", f"the number of kNN reference rows with scoring "
                            f"{scoring!r}", said("nothing (the field is missing)"))
            k = settings.get("params", {}).get("n_neighbors", 5)
            reader.integer("tabular.reference_rows", rows, low=(k if isinstance(k, int) else 1) + 1)
        if uses_forest(scoring):
            if "forest" not in t:
                reader.fail("tabular.forest", f"the isolation forest's shape with scoring {scoring!r}",
                            said("nothing (the field is missing)"))
            PaddedForest.check_settings(reader, "tabular.forest", t["forest"])
        names = t.get("feature_names")
        if names is not None and (not isinstance(names, list) or len(names) != n
                                  or not all(isinstance(v, str) for v in names)):
            reader.fail("tabular.feature_names", f"a list of {n} strings", names)

    @classmethod
    def _check_model(cls, reader, settings, model):
        t = settings["tabular"]
        shape = tuple(getattr(model, "sample_shape", ()))
        if shape != (len(t["mean"]),):
            reader.fail("tabular.mean", f"{int(np.prod(shape))} values, one per input of the file's model",
                        said(f"{len(t['mean'])} values"))
        if int(getattr(model, "latent_dim", -1)) != len(t["code_mean"]):
            reader.fail("tabular.code_mean", f"{getattr(model, 'latent_dim', '?')} values, one per code value of "
                        "the file's model", said(f"{len(t['code_mean'])} values"))

    @classmethod
    def _from_settings(cls, model, settings):
        t = settings["tabular"]
        detector = cls(**{**cls._params_from(settings), "preprocessing": t["preprocessing"],
                          "scoring": settings["scoring"], "percentile": settings["percentile"],
                          "contamination": settings["contamination"]})
        detector.model_ = model
        detector.lambdas_ = None if t.get("lambdas") is None else np.asarray(t["lambdas"], "float64")
        detector.mean_, detector.scale_ = np.asarray(t["mean"], "float64"), np.asarray(t["scale"], "float64")
        detector.code_mean_ = np.asarray(t["code_mean"], "float64")
        detector.code_precision_ = np.asarray(t["code_precision"], "float64")
        detector.score_scales_ = tuple(float(v) for v in t["score_scales"])
        detector._reference_rows = t.get("reference_rows")  # the rows themselves: `_read_members`
        detector._forest_shape = t.get("forest")  # the forest's arrays: `_read_members`
        if t.get("feature_names") is not None:
            detector.feature_names_in_ = np.asarray(t["feature_names"], dtype=object)
        return detector
