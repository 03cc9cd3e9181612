"""Attribute vectors that a zoo entry ships: directions in its code space, such as the course's "smile vector".

An attribute vector is the mean code of the training images that have an
attribute minus the mean code of those that do not (`keras_ae.latent.attribute_vector`;
lecture notes 001). Adding it to a face's code and decoding makes the face
smile (`keras_ae.latent.apply_attribute`). The vectors are computed once from
the labelled training images and stored with the entry, in
`NAME.<sha12>.attributes.npz`, hashed and bound to the entry's signature like
its weights, so that users (and `keras-ae demo`) apply them with no data.

    python -m keras_ae.zoo.attributes resnet_vae.celeba64_z128 --names Smiling,Eyeglasses,Blond_Hair,Male

reads the entry's data set as a user's machine finds it (for CelebA,
`$KERAS_AE_CELEBA`), computes the vectors on its training split and writes
them into the entry (signed with `$KERAS_AE_SIGNING_KEY` when it is set).

Example:

```python
from keras_ae import zoo, latent
vae = zoo.load("resnet_vae.celeba64_z128")
smile = zoo.load_attributes("resnet_vae.celeba64_z128")["Smiling"]
faces = latent.apply_attribute(vae, x, smile, alphas=(-1, 0, 1, 2))
```
"""

import argparse
import os

import numpy as np

from keras_ae._io import file_lock, write_json_atomic
from keras_ae.zoo.index import _entry, check_entry
from keras_ae.zoo.manifest import ATTRIBUTES_SUFFIX, ZooError, check_signature, entry_signature, read_manifest, \
    verify_file

__all__ = ["DEFAULT_ATTRIBUTES", "attribute_vectors", "load_attributes", "save_attributes"]

# The course's smile vector, and the attributes lecture notes and the issue name beside it.
DEFAULT_ATTRIBUTES = ("Smiling", "Eyeglasses", "Blond_Hair", "Male")


def _latent_dim(entry):
    return entry.get("config", {}).get("config", {}).get("latent_dim")


def attribute_vectors(model, x, attributes, names=None, chunk=None):
    """`{name: mean code with the attribute - mean code without}` over the images `x`.

    Args:
        model: an autoencoder with `encode` (for a VAE, the posterior mean).
        x: images, uint8 (converted a chunk at a time) or float32 in [0, 1].
        attributes: a dict attribute name -> bool array `(len(x),)`, as
            `keras_ae.data.load_celeba` returns.
        names: which attributes (default: all of `attributes`).

    Returns:
        `(vectors, counts)`: float32 vectors of the code size, and
        `{name: [n_with, n_without]}`.
    """
    from keras_ae.zoo.recipe_sampler import encode_images

    names = list(attributes) if names is None else list(names)
    missing = [n for n in names if n not in attributes]
    if missing:
        raise ValueError(f"Unknown attribute(s) {missing}; the data has {sorted(attributes)}")
    codes = encode_images(model, x, chunk=chunk).reshape(len(x), -1).astype("float64")
    vectors, counts = {}, {}
    for name in names:
        has = np.asarray(attributes[name], bool)
        if has.shape != (len(x),):
            raise ValueError(f"Attribute {name!r} must be a bool array of shape ({len(x)},), one per image. "
                             f"Received: shape {has.shape}")
        if has.all() or not has.any():
            raise ValueError(f"Attribute {name!r} needs images with it and without it. Received: "
                             f"{int(has.sum())} of {len(has)} with it")
        vectors[name] = (codes[has].mean(0) - codes[~has].mean(0)).astype("float32")
        counts[name] = [int(has.sum()), int((~has).sum())]
    return vectors, counts


def save_attributes(name, vectors, metadata=None, directory=None, signing_key=None):
    """Store attribute vectors with zoo entry `name`, as one atomic update of its manifest; return the manifest.

    The vectors go to a new file `NAME.<sha12>.attributes.npz` (arrays `names`
    and `vectors`, no pickle); the manifest's `attributes` record (`file`,
    `sha256`, `size`, `names`, and `metadata`) and its signature then bind
    them to the entry, and the entry's key signature is renewed with
    `signing_key` (default `$KERAS_AE_SIGNING_KEY`). The entry is checked first
    (signature, weights and sampler hashes), so vectors are never added to
    an entry that was edited. A previous attributes file is removed after
    the manifest is replaced; a failure leaves the old entry as it was.
    """
    from keras_ae.zoo import keys
    from keras_ae.zoo.writer import FILE_FIELDS, _place, _signing_key

    if not isinstance(vectors, dict) or not vectors:
        raise ValueError(f"`vectors` must be a non-empty dict attribute name -> vector. Received: {vectors!r}")
    names = [str(n) for n in vectors]
    stacked = np.stack([np.asarray(v, "float32").reshape(-1) for v in vectors.values()])
    if not np.all(np.isfinite(stacked)):
        raise ValueError(f"The attribute vectors for zoo entry {name!r} hold NaN or infinite values")
    signer = _signing_key(signing_key)
    path = os.path.join(directory, name + ".json") if directory else _entry(name)[0]
    folder = os.path.dirname(path)
    with file_lock(path):
        entry = read_manifest(path)
        check_signature(name, entry, path)
        for field in FILE_FIELDS:
            if field in entry and field != "attributes":
                record = entry[field]
                verify_file(os.path.join(folder, record["file"]), record["sha256"], record["size"],
                            what=f"{field.capitalize()} file")
        latent = _latent_dim(entry)
        if latent is not None and stacked.shape[1] != int(latent):
            raise ValueError(f"The attribute vectors for zoo entry {name!r} must have {latent} values (its code "
                             f"size). Received: {stacked.shape[1]}")
        old = entry.get("attributes", {}).get("file")

        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, names=np.asarray(names), vectors=stacked)

        created = []
        try:
            entry["attributes"] = {**_place(folder, name, ATTRIBUTES_SUFFIX, write, created), "names": names,
                                   **({"metadata": metadata} if metadata else {})}
            entry["signature"] = entry_signature(entry)
            entry.pop(keys.FIELD, None)  # the old key signatures no longer cover the entry
            if signer is not None:
                keys.sign(name, entry, signer)
            write_json_atomic(path, entry)
        except BaseException:
            for tmp in created:
                if os.path.basename(tmp) != old and os.path.exists(tmp):
                    os.remove(tmp)
            raise
        if old and old != entry["attributes"]["file"] and os.path.exists(os.path.join(folder, old)):
            os.remove(os.path.join(folder, old))
    return entry


def load_attributes(name, trusted_keys=None):
    """The attribute vectors shipped with zoo entry `name`: `{attribute name: float32 vector}`, checked.

    The manifest's signatures, then the file's size and sha256, are checked
    before it is read. Raises a `ZooError` naming the file if the entry has
    none or a check fails.
    """
    path, entry = _entry(name)
    check_entry(name, path, entry, trusted_keys)
    record = entry.get("attributes")
    if record is None:
        raise ZooError(f"Zoo entry {name!r} has no attribute vectors: its manifest {path} records none. Compute "
                       f"them from labelled images with keras_ae.zoo.attributes.attribute_vectors")
    file = os.path.join(os.path.dirname(path), record["file"])
    verify_file(file, record["sha256"], record["size"], what="Attributes file")
    try:
        with np.load(file, allow_pickle=False) as data:
            names, vectors = [str(n) for n in data["names"]], np.asarray(data["vectors"])
    except (OSError, ValueError, KeyError) as e:
        raise ZooError(f"Attributes file {file} of zoo entry {name!r} must hold arrays `names` and `vectors`: "
                       f"{e}") from None
    latent = _latent_dim(entry)
    expected = (len(record["names"]), int(latent) if latent is not None else vectors.shape[-1])
    if names != record["names"] or vectors.shape != expected or vectors.dtype != np.float32:
        raise ZooError(f"Attributes file {file} of zoo entry {name!r} must hold the vectors of "
                       f"{record['names']} as float32 {expected}. Received: {names}, {vectors.dtype} "
                       f"{vectors.shape}")
    return dict(zip(names, vectors))


def main(argv=None):
    import keras

    from keras_ae.data import DATASETS, load_dataset
    from keras_ae.zoo.index import entry_dataset, load
    from keras_ae.zoo.recipes import DATA_FILES

    p = argparse.ArgumentParser(prog="python -m keras_ae.zoo.attributes",
                                description="Compute attribute vectors on an entry's training split and ship "
                                            "them with the entry.")
    p.add_argument("name", help="a zoo entry trained on a data set with attributes (CelebA)")
    p.add_argument("--names", default=",".join(DEFAULT_ATTRIBUTES), help="comma-separated attribute names")
    args = p.parse_args(argv)
    path, entry = _entry(args.name)
    dataset = entry_dataset(entry)[0]
    env, file = DATA_FILES[dataset]
    (x_train, a_train), _, source = load_dataset(dataset, dtype="uint8")
    if not isinstance(a_train, dict):
        raise SystemExit(f"Zoo entry {args.name!r} was trained on {dataset!r}, which has no attributes")
    model = load(args.name)
    names = [n for n in args.names.split(",") if n]
    print(f"Encoding {len(x_train)} training images of {dataset} ...", flush=True)
    vectors, counts = attribute_vectors(model, x_train, a_train, names)
    metadata = {"definition": "mean code (posterior mean for a VAE) of the training images with the attribute "
                              "minus that of those without it (keras_ae.latent.attribute_vector)",
                "data": DATASETS[dataset].describe(source), "split": "train", "counts_with_without": counts,
                "command": f"KERAS_BACKEND={keras.backend.backend()} {env}=/path/to/{file} python -m "
                           f"keras_ae.zoo.attributes {args.name} --names {','.join(names)}"}
    save_attributes(args.name, vectors, metadata, directory=os.path.dirname(path))
    for n in names:
        print(f"{n}: {counts[n][0]} with, {counts[n][1]} without; |v| = {np.linalg.norm(vectors[n]):.3f}")


if __name__ == "__main__":
    main()
