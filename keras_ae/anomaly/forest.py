"""An IsolationForest as plain arrays: fitted by scikit-learn, scored with NumPy or Keras ops, saved as `.npy`.

`TabularDetector`'s `"forest"` term is scikit-learn's
`IsolationForest(random_state=...).fit(z)` and its `-score_samples` (in (0, 1],
higher is more abnormal). The fitted trees are kept as three arrays, so the
detector file needs no pickle and the exported graph needs no tree op: every
tree is padded to a full binary tree of the forest's greatest depth `D`
(heap order: node `p`'s children are `2p + 1` and `2p + 2`):

- `features`, `(trees, 2**D - 1)` int32: the feature each internal node splits on;
- `thresholds`, `(trees, 2**D - 1)` float32: its threshold, rounded down to
  float32, so a float32 value is `<=` it exactly when it is `<=` scikit-learn's
  float64 threshold (its trees compare float32 inputs);
- `leaf_values`, `(trees, 2**D)` float64: the path length of a row that ends
  there: the depth of its leaf plus `c(n)` for the leaf's `n` training rows
  (scikit-learn's adjustment, `average_path_length`). A leaf above depth `D`
  fills every padded leaf below it; the padded nodes between split on feature
  0 at 0, and either way leads to the same value.

A row goes down `D` steps, left when `x[feature] <= threshold`; its score is
`2 ** -(mean path length / c(max_samples))`, scikit-learn's formula.
"""

import io

import numpy as np

__all__ = ["MEMBERS", "MAX_DEPTH", "PaddedForest", "average_path_length"]

MEMBERS = {"features": ("keras_ae_detector_forest_features.npy", "int32"),
           "thresholds": ("keras_ae_detector_forest_thresholds.npy", "float32"),
           "leaf_values": ("keras_ae_detector_forest_leaf_values.npy", "float64")}
MAX_DEPTH = 16  # a file's forest deeper than this is refused (2**16 nodes a tree); scikit-learn's default is 8
_CHUNK = 4096  # rows scored at a time by NumPy


def average_path_length(n):
    """`c(n)`: the mean path length of an unsuccessful search in a binary search tree of `n` rows (scikit-learn's
    `_average_path_length`): 0 for n <= 1, 1 for n = 2."""
    n = np.asarray(n, dtype="float64")
    out = np.zeros(n.shape)
    big = n > 2
    out[n == 2] = 1.0
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def _round_down(threshold):
    """The largest float32 that is <= each float64 `threshold`."""
    t32 = np.asarray(threshold, "float64").astype("float32")
    return np.where(t32.astype("float64") > threshold, np.nextafter(t32, np.float32(-np.inf)), t32)


class PaddedForest:
    """A fitted isolation forest as padded arrays (see the module); `score(z)` is scikit-learn's `-score_samples`.

    Args:
        features, thresholds, leaf_values: the arrays.
        max_samples: the rows each tree was grown on (`IsolationForest.max_samples_`).
    """

    def __init__(self, features, thresholds, leaf_values, max_samples):
        self.features = np.asarray(features, "int32")
        self.thresholds = np.asarray(thresholds, "float32")
        self.leaf_values = np.asarray(leaf_values, "float64")
        self.max_samples = int(max_samples)
        self.depth = int(np.log2(self.leaf_values.shape[1]))

    @property
    def trees(self):
        return len(self.leaf_values)

    @classmethod
    def fit(cls, z, random_state=None, sample_weight=None):
        """scikit-learn's `IsolationForest(random_state=random_state)` (its defaults otherwise) fitted on `z`."""
        from sklearn.ensemble import IsolationForest

        forest = IsolationForest(random_state=random_state).fit(np.asarray(z, "float32"), sample_weight=sample_weight)
        return cls.from_isolation_forest(forest)

    @classmethod
    def from_isolation_forest(cls, forest):
        """The arrays of a fitted `sklearn.ensemble.IsolationForest`."""
        n_features = int(forest.n_features_in_)
        subsampled = forest._max_features != n_features  # then each tree sees its own columns (as scikit-learn)
        trees = [e.tree_ for e in forest.estimators_]
        depth = max(int(t.max_depth) for t in trees)
        features = np.zeros((len(trees), 2 ** depth - 1), "int32")
        thresholds = np.zeros((len(trees), 2 ** depth - 1), "float32")
        leaves = np.zeros((len(trees), 2 ** depth), "float64")
        for i, (tree, columns) in enumerate(zip(trees, forest.estimators_features_)):
            columns = np.asarray(columns) if subsampled else np.arange(n_features)
            stack = [(0, 0, 0)]  # (node of the tree, its place in the padded tree, its depth)
            while stack:
                node, place, d = stack.pop()
                left = tree.children_left[node]
                if left == -1:  # a leaf: its value fills the padded leaves below it
                    width = 2 ** (depth - d)
                    first = (place + 1) * width - 1 - (2 ** depth - 1)
                    leaves[i, first:first + width] = d + average_path_length(tree.n_node_samples[node])
                    continue
                features[i, place] = columns[tree.feature[node]]
                thresholds[i, place] = _round_down(tree.threshold[node])
                stack += [(left, 2 * place + 1, d + 1), (tree.children_right[node], 2 * place + 2, d + 1)]
        return cls(features, thresholds, leaves, forest.max_samples_)

    def score(self, z):
        """`-IsolationForest.score_samples(z)` of float32 rows `z`, float64 `(n,)` (higher is more abnormal)."""
        z = np.asarray(z, "float32")
        out = np.empty(len(z))
        trees = np.arange(self.trees)[None, :]
        inner = 2 ** self.depth - 1
        for start in range(0, len(z), _CHUNK):
            part = z[start:start + _CHUNK]
            rows = np.arange(len(part))[:, None]
            node = np.zeros((len(part), self.trees), "int64")
            for _ in range(self.depth):
                right = part[rows, self.features[trees, node]] > self.thresholds[trees, node]
                node = 2 * node + 1 + right
            paths = self.leaf_values[trees, node - inner].sum(axis=1)
            out[start:start + _CHUNK] = paths
        return 2.0 ** -(out / (self.trees * float(average_path_length(self.max_samples))))

    def graph(self, z):
        """`score` of the symbolic float32 rows `z` in Keras ops: `depth` gather steps down the padded trees."""
        from keras import ops

        def gather(column, at):
            # Rows of a (n, 1) table: `take` along axis 0 of a 2-D table is an embedding lookup on PyTorch (its
            # other forms ravel the indices, which torch.onnx cannot export).
            return ops.take(column, at, axis=0)[..., 0]

        # Only int32 indices into float32 tables (TensorFlow's take_along_axis works in int64, which oneDNN
        # reports on stderr). A tree's offset in a table is added in float32, exact below 2**24 (`check_settings`
        # keeps forests that small): TensorFlow fuses an integer row-vector add into a BiasAdd, which LiteRT lacks.
        z = ops.cast(z, "float32")
        batch_one = ops.ones_like(ops.cast(z[:, :1], "int32"))  # (batch, 1)
        if self.depth == 0:  # every tree is one leaf
            leaf = 2.0 ** -(self.leaf_values[:, 0].mean() / float(average_path_length(self.max_samples)))
            return ops.multiply(ops.cast(batch_one[:, 0], "float32"), np.float32(leaf))
        inner, n_features = 2 ** self.depth - 1, int(z.shape[1])
        flat_z = ops.reshape(z, (-1, 1))
        row_start = ops.multiply(ops.subtract(ops.cumsum(batch_one, axis=0), 1), n_features)  # (batch, 1)
        features = self.features.reshape(-1, 1).astype("float32")
        thresholds = self.thresholds.reshape(-1, 1)
        node_offsets = np.arange(self.trees, dtype="float32") * inner
        value = ops.transpose(ops.take(ops.transpose(z), self.features[:, 0], axis=0))  # (batch, trees): the roots
        node = ops.add(ops.cast(ops.greater(value, self.thresholds[:, 0]), "int32"), 1)
        for _ in range(self.depth - 1):
            at = ops.cast(ops.add(ops.cast(node, "float32"), node_offsets), "int32")
            feature = ops.cast(gather(features, at), "int32")
            right = ops.greater(gather(flat_z, ops.add(feature, row_start)), gather(thresholds, at))
            node = ops.add(ops.add(ops.multiply(node, 2), 1), ops.cast(right, "int32"))
        leaf_offsets = np.arange(self.trees, dtype="float32") * (inner + 1) - inner
        at = ops.cast(ops.add(ops.cast(node, "float32"), leaf_offsets), "int32")
        paths = ops.sum(gather(self.leaf_values.reshape(-1, 1).astype("float32"), at), axis=1)
        scale = -np.log(2.0) / (self.trees * float(average_path_length(self.max_samples)))
        return ops.exp(ops.multiply(paths, np.float32(scale)))

    # ---- the detector file ----------------------------------------------------------------------------------
    def settings(self):
        """The forest's part of the detector's settings: its shape (the arrays are members)."""
        return {"trees": self.trees, "depth": self.depth, "max_samples": self.max_samples}

    def members(self):
        """`{member name: .npy bytes}` of the three arrays (no pickle)."""
        out = {}
        for attr, (name, _) in MEMBERS.items():
            buffer = io.BytesIO()
            np.save(buffer, getattr(self, attr), allow_pickle=False)
            out[name] = buffer.getvalue()
        return out

    @staticmethod
    def check_settings(reader, field, value):
        """Check the settings `value` of field `field` (`{"trees", "depth", "max_samples"}`)."""
        reader.object(field, value)
        reader.keys(field, value, ["trees", "depth", "max_samples"], owner=f"settings field {field!r}")
        trees = reader.integer(f"{field}.trees", value["trees"], low=1)
        depth = reader.integer(f"{field}.depth", value["depth"], low=0)
        if depth > MAX_DEPTH:
            reader.fail(f"{field}.depth", f"an integer from 0 to {MAX_DEPTH}", depth)
        if trees * 2 ** (depth + 1) > 2 ** 24:  # the graph's float32 node offsets stay exact
            reader.fail(f"{field}.trees", f"at most {2 ** 23 // 2 ** depth} trees of depth {depth}", trees)
        reader.integer(f"{field}.max_samples", value["max_samples"], low=2)

    @classmethod
    def read(cls, archive, path, settings, n_features):
        """The forest of the open detector file `archive` (named `path` in errors), its shape from the checked
        `settings`; each member is checked: dtype, shape, finite values, features in range."""
        trees, depth = settings["trees"], settings["depth"]
        shapes = {"features": (trees, 2 ** depth - 1), "thresholds": (trees, 2 ** depth - 1),
                  "leaf_values": (trees, 2 ** depth)}
        arrays = {}
        for attr, (name, dtype) in MEMBERS.items():
            what = f"a {dtype} array of shape {shapes[attr]}" + (
                f", values from 0 to {n_features - 1}" if attr == "features" else ", finite"
                + (" and >= 0" if attr == "leaf_values" else ""))
            try:
                a = np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
            except KeyError:
                raise ValueError(f"{path}: the member {name!r} (the isolation forest's {attr.replace('_', ' ')}) "
                                 "is missing") from None
            except (ValueError, OSError) as e:
                raise ValueError(f"{path}: the member {name!r} must be {what}: {e}") from None
            bad = a.shape != shapes[attr] or a.dtype != np.dtype(dtype)
            if not bad and attr == "features":
                bad = bool(a.size) and (a.min() < 0 or a.max() >= n_features)
            elif not bad:
                bad = not np.all(np.isfinite(a)) or (attr == "leaf_values" and np.any(a < 0))
            if bad:
                raise ValueError(f"{path}: the member {name!r} must be {what}. Received: shape {a.shape}, "
                                 f"dtype {a.dtype}" + (f", values from {a.min()} to {a.max()}"
                                                       if a.size and a.dtype.kind in "iuf" else ""))
            arrays[attr] = a
        return cls(arrays["features"], arrays["thresholds"], arrays["leaf_values"], settings["max_samples"])
