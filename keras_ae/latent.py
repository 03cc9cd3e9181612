"""Latent-space tools: batched encoding and interpolation (the course's morphing)."""

import numpy as np

from keras_ae._validation import check_choice, check_positive_int


def _check_model(model, needs=("encode", "decode")):
    missing = [m for m in needs if not callable(getattr(model, m, None))]
    if missing:
        raise ValueError(
            f"Expected a keras-ae model with {', '.join(needs)}. "
            f"Received: {type(model).__name__} without {', '.join(missing)}"
        )


def encode_dataset(model, x, batch_size=1024):
    """Encode a whole data set in batches; returns `(n, latent_dim)` flat codes."""
    _check_model(model, ("encode",))
    check_positive_int("batch_size", batch_size)
    codes = model.encode(x, batch_size=batch_size)
    return codes.reshape(len(codes), -1)


def slerp(a, b, alpha):
    """Spherical interpolation between code batches `a` and `b` (falls back to linear when parallel)."""
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    na, nb = np.linalg.norm(a, axis=-1, keepdims=True), np.linalg.norm(b, axis=-1, keepdims=True)
    cos = np.clip(np.sum(a * b, axis=-1, keepdims=True) / np.maximum(na * nb, 1e-12), -1, 1)
    omega = np.arccos(cos)
    so = np.sin(omega)
    safe = so > 1e-6
    lin = (1 - alpha) * a + alpha * b
    with np.errstate(invalid="ignore", divide="ignore"):
        sph = (np.sin((1 - alpha) * omega) * a + np.sin(alpha * omega) * b) / np.where(safe, so, 1)
    return np.where(safe, sph, lin)


def interpolate(model, a, b, steps=8, method="linear"):
    """Decode points on the path between the codes of two inputs.

    `z = z_A (1 - alpha) + z_B alpha` for `alpha` from 0 to 1 (the course's
    morphing); `method="slerp"` follows the great circle instead, which suits
    a VAE's Gaussian prior.

    Args:
        model: a keras-ae model.
        a, b: one input each (a single sample, or a batch of one).
        steps: number of points, including both ends (>= 2).
        method: `"linear"` or `"slerp"`.

    Returns:
        `(images, alphas)`: `steps` decoded images and their `alpha` values.
    """
    _check_model(model)
    check_choice("method", method, ("linear", "slerp"))
    steps = check_positive_int("steps", steps)
    if steps < 2:
        raise ValueError(f"`steps` must be at least 2 (both ends). Received: steps={steps}")
    a = np.asarray(a)[None] if np.asarray(a).shape == tuple(model.sample_shape) else np.asarray(a)
    b = np.asarray(b)[None] if np.asarray(b).shape == tuple(model.sample_shape) else np.asarray(b)
    for name, v in (("a", a), ("b", b)):
        if v.ndim >= 1 and len(v) != 1:
            raise ValueError(f"`{name}` must be one input (a sample, or a batch of one); call interpolate "
                             f"once per pair. Received: {len(v)} samples, shape {v.shape}")
    za = model.encode(a).reshape(1, -1)
    zb = model.encode(b).reshape(1, -1)
    alphas = np.linspace(0.0, 1.0, steps)[:, None]
    if method == "linear":
        z = (1 - alphas) * za + alphas * zb
    else:
        z = slerp(np.repeat(za, steps, 0), np.repeat(zb, steps, 0), alphas)
    z = z.reshape((steps,) + tuple(model.code_shape)).astype("float32")
    return model.decode(z, batch_size=steps), alphas.ravel()


def attribute_vector(model, x_with, x_without):
    """Mean code of examples with an attribute minus that of examples without it.

    The course's "smile vector"; on MNIST, e.g. thick strokes minus thin
    strokes of one digit (see `stroke_thickness`), or one digit minus another.
    """
    _check_model(model, ("encode",))
    return encode_dataset(model, x_with).mean(0) - encode_dataset(model, x_without).mean(0)


def apply_attribute(model, x, vector, alphas=(0.0, 0.5, 1.0, 1.5, 2.0)):
    """Decode `z + alpha * vector` for each input and each `alpha`.

    Returns:
        An array of shape `(len(x), len(alphas)) + sample_shape`.
    """
    _check_model(model)
    codes = encode_dataset(model, x)
    vector = np.asarray(vector, "float32").reshape(-1)
    if vector.shape[0] != codes.shape[1]:
        raise ValueError(f"`vector` must have {codes.shape[1]} values (the code size). Received: {vector.shape}")
    alphas = np.asarray(alphas, "float32")
    z = codes[:, None, :] + alphas[None, :, None] * vector[None, None, :]
    z = z.reshape((-1,) + tuple(model.code_shape))
    out = model.decode(z, batch_size=len(z))
    return out.reshape((len(codes), len(alphas)) + tuple(model.sample_shape))


def stroke_thickness(x):
    """A simple stroke-thickness proxy per image: the total ink (sum of pixel values)."""
    x = np.asarray(x, "float32")
    return x.reshape(len(x), -1).sum(1)


def traversal_grid(model, dims=(0, 1), n=9, span=(-3.0, 3.0), base=None):
    """Decode an `n x n` grid moving two code dimensions over `span`, the others fixed at `base`.

    Returns:
        `(images, axis)`: `n * n` images, row-major with `dims[1]` decreasing
        down the rows, and the `n` values of the grid axis.
    """
    _check_model(model, ("decode",))
    d = model.code_size
    if len(dims) != 2 or not all(0 <= i < d for i in dims) or dims[0] == dims[1]:
        raise ValueError(f"`dims` must be two different code dimensions in [0, {d}). Received: dims={dims}")
    base = np.zeros(d, "float32") if base is None else np.asarray(base, "float32").reshape(-1)
    if base.shape != (d,):
        raise ValueError(f"`base` must be one code of {d} values. Received: {base.size} values")
    axis = np.linspace(span[0], span[1], n).astype("float32")
    z = np.tile(base, (n * n, 1))
    gx, gy = np.meshgrid(axis, axis[::-1])
    z[:, dims[0]], z[:, dims[1]] = gx.ravel(), gy.ravel()
    return model.decode(z.reshape((-1,) + tuple(model.code_shape)), batch_size=len(z)), axis


def nearest_neighbours(database, queries, k=5, metric="euclidean"):
    """Indices `(len(queries), k)` of the `k` nearest database rows (scikit-learn)."""
    from sklearn.neighbors import NearestNeighbors

    database = np.asarray(database, "float32").reshape(len(database), -1)
    queries = np.asarray(queries, "float32").reshape(len(queries), -1)
    if database.shape[1] != queries.shape[1]:
        raise ValueError(f"Queries and database differ in width. Received: {queries.shape[1]} and {database.shape[1]}")
    k = check_positive_int("k", k)
    return NearestNeighbors(n_neighbors=k, metric=metric).fit(database).kneighbors(queries, return_distance=False)


def precision_at_k(neighbour_idx, database_labels, query_labels):
    """Mean fraction of the k retrieved items that share the query's label."""
    database_labels, query_labels = np.asarray(database_labels), np.asarray(query_labels)
    neighbour_idx = np.asarray(neighbour_idx)
    if neighbour_idx.ndim != 2 or len(neighbour_idx) != len(query_labels):
        raise ValueError(f"`neighbour_idx` must have one row per query: expected shape ({len(query_labels)}, k). "
                         f"Received: shape {neighbour_idx.shape}")
    if neighbour_idx.size and neighbour_idx.max() >= len(database_labels):
        raise ValueError(f"`database_labels` has {len(database_labels)} labels, but `neighbour_idx` refers "
                         f"to item {int(neighbour_idx.max())}")
    hits = database_labels[neighbour_idx] == query_labels[:, None]
    return float(hits.mean())


def retrieval_comparison(model, x_database, y_database, x_query, y_query, k=10):
    """precision@k of nearest neighbours by code and by raw pixels, on the same queries."""
    codes_db, codes_q = encode_dataset(model, x_database), encode_dataset(model, x_query)
    by_code = nearest_neighbours(codes_db, codes_q, k)
    by_pixel = nearest_neighbours(x_database, x_query, k)
    return {
        "k": k,
        "code_precision": precision_at_k(by_code, y_database, y_query),
        "pixel_precision": precision_at_k(by_pixel, y_database, y_query),
        "code_neighbours": by_code,
        "pixel_neighbours": by_pixel,
    }


def compression_curve(build_model, x_train, x_test, code_sizes=(2, 4, 8, 16, 32, 64), epochs=5,
                      batch_size=256, verbose=0, keep_models=False):
    """Squared error per image against code size, for an autoencoder and for PCA.

    Args:
        build_model: `build_model(code_size)` returns a fresh keras-ae model.
        x_train, x_test: flat data in [0, 1].

        keep_models: also return each trained model under `"model"`.

    Returns:
        A list of dicts with `code_size`, `autoencoder` and `pca` errors.
    """
    import keras

    from keras_ae.evaluation import pca_squared_error

    rows = []
    for size in code_sizes:
        keras.utils.set_random_seed(size)
        model = build_model(size)
        model.compile(optimizer=keras.optimizers.Adam(2e-3))
        model.fit(x_train, x_train, epochs=epochs, batch_size=batch_size, verbose=verbose)
        rows.append({
            "code_size": int(size),
            "autoencoder": float(model.reconstruction_error(x_test, metric="sse").mean()),
            "pca": pca_squared_error(x_train, x_test, size),
        })
        if keep_models:
            rows[-1]["model"] = model
    return rows
