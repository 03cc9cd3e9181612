"""Ed25519 signatures on zoo entries: who wrote an entry, beyond whether it was changed.

An entry's `signature` is an unkeyed sha256 over its config, weights hash and
sampler hash (`manifest.signature`). It catches an accidental or uninformed
edit, a corrupt or truncated file; anyone who edits an entry can recompute it.
A key signature cannot be recomputed without the private key: the manifest's
`key_signatures` holds Ed25519 signatures (the `cryptography` package) of

    b"keras-ae zoo entry v1\\n" + NAME + b"\\n" + the sha256 signature

so it covers everything the sha256 signature covers (the model config, the
weights, the sampler: all that changes what the entry computes), and the
entry's name, so a signed entry cannot stand in for another. The metadata
(description, metrics, recipe) is not signed: re-measuring an entry needs no key.

Which public keys are trusted (`trusted_keys`, on `zoo.load`, `zoo.info`,
`zoo.load_sampler`, ...): the keys given; else those in `$KERAS_AE_TRUSTED_KEYS`
(public key files or base64 keys, separated by `os.pathsep`); else, for the
package's own zoo folder, the project key `PROJECT_PUBLIC_KEY`; else none, and
only the sha256 signature is checked. With trusted keys, an entry that none of
them signed is refused.

Signing needs the private key, which is never in the repository:
`python -m keras_ae.zoo.sign generate PATH` makes one (mode 600), and
`save_entry(..., signing_key=PATH)` or `$KERAS_AE_SIGNING_KEY` (so
`python -m keras_ae.zoo_train` signs what it writes) or
`python -m keras_ae.zoo.sign NAME ... --key PATH` signs with it.
"""

import base64
import hashlib
import os

from keras_ae.zoo.manifest import ZooError, entry_signature

ENV_TRUSTED_KEYS = "KERAS_AE_TRUSTED_KEYS"
ENV_SIGNING_KEY = "KERAS_AE_SIGNING_KEY"
FIELD = "key_signatures"
_PREFIX = b"keras-ae zoo entry v1\n"

# The public half of the key that signs the shipped zoo (raw Ed25519, base64). The private half is
# kept by the maintainer, outside the repository.
PROJECT_PUBLIC_KEY = "3kDXR4xRBi2PbyU1fZdXDftrypcL7/bD7nz93UXh/Bo="  # key id 04f8208d505ae243


def _ed25519():
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as e:
        raise ZooError(f"Zoo key signatures need the `cryptography` package ({e}): pip install cryptography") from None
    return ed25519


def _raw(key):
    """32 raw bytes of an `Ed25519PublicKey`."""
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key):
    """A short name of a public key (base64 text): the first 16 hex digits of the sha256 of its raw bytes."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


def public_key(value, where="trusted_keys"):
    """A trusted public key as base64 text, from any of: that text, an `Ed25519PublicKey`, raw bytes,
    PEM text or bytes, or the path of a PEM file. Raises `ValueError` naming `where` and the value."""
    ed25519 = _ed25519()
    from cryptography.hazmat.primitives import serialization

    if isinstance(value, ed25519.Ed25519PublicKey):
        return base64.b64encode(_raw(value)).decode()
    data = value
    if isinstance(value, (str, os.PathLike)) and os.path.isfile(value):
        with open(value, "rb") as f:
            data = f.read()
    if isinstance(data, str):
        data = data.strip().encode()
    if isinstance(data, bytes):
        try:
            if b"-----BEGIN" in data:
                key = serialization.load_pem_public_key(data)
                if isinstance(key, ed25519.Ed25519PublicKey):
                    return base64.b64encode(_raw(key)).decode()
            else:
                raw = data if len(data) == 32 else base64.b64decode(data, validate=True)
                if len(raw) == 32:
                    ed25519.Ed25519PublicKey.from_public_bytes(raw)
                    return base64.b64encode(raw).decode()
        except ValueError:
            pass
    raise ValueError(f"{where}: {value!r} is not an Ed25519 public key (base64 of its 32 bytes, PEM text, "
                     "or the path of a PEM file)")


def public_key_pem(key):
    """The PEM text of a public key given as base64 text (what `KERAS_AE_TRUSTED_KEYS` files hold)."""
    from cryptography.hazmat.primitives import serialization

    pub = _ed25519().Ed25519PublicKey.from_public_bytes(base64.b64decode(key))
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _package_zoo():
    import importlib.resources

    return os.path.realpath(str(importlib.resources.files("keras_ae_zoo")))


def default_trusted_keys(directory):
    """The keys trusted for a zoo folder when none are given: `$KERAS_AE_TRUSTED_KEYS`, else the project key
    for the package's own zoo, else None (no key check)."""
    env = os.environ.get(ENV_TRUSTED_KEYS, "").strip()
    if env:
        return [public_key(item, ENV_TRUSTED_KEYS) for item in env.split(os.pathsep) if item.strip()]
    if os.path.realpath(directory) == _package_zoo():
        return [PROJECT_PUBLIC_KEY]
    return None


def resolve(trusted_keys, directory):
    """The trusted keys (base64 texts) for entries in `directory`, or None for no key check."""
    if trusted_keys is None:
        return default_trusted_keys(directory)
    if isinstance(trusted_keys, (str, bytes, os.PathLike)) or not hasattr(trusted_keys, "__iter__"):
        trusted_keys = [trusted_keys]
    keys = [public_key(k) for k in trusted_keys]
    if not keys:
        raise ValueError("`trusted_keys` is empty: give at least one public key, or None for the default "
                         f"(${ENV_TRUSTED_KEYS}, or the project key for the package's zoo)")
    return keys


def _message(name, entry):
    return _PREFIX + name.encode("utf-8") + b"\n" + entry_signature(entry).encode("ascii")


def load_signing_key(value):
    """An `Ed25519PrivateKey` from itself or the path of an unencrypted PEM file; `ValueError` naming the path."""
    ed25519 = _ed25519()
    if isinstance(value, ed25519.Ed25519PrivateKey):
        return value
    from cryptography.hazmat.primitives import serialization

    try:
        with open(value, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
    except (OSError, TypeError, ValueError) as e:
        raise ValueError(f"Cannot read the signing key {value!r}: {e}") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError(f"The signing key {value!r} is not an Ed25519 private key")
    return key


def sign(name, entry, signing_key):
    """Add (or replace) `signing_key`'s signature in the manifest dict `entry` of entry `name`; return its key id."""
    key = load_signing_key(signing_key)
    public = base64.b64encode(_raw(key.public_key())).decode()
    record = {"key_id": key_id(public), "ed25519": base64.b64encode(key.sign(_message(name, entry))).decode()}
    others = [r for r in entry.get(FIELD, []) if not (isinstance(r, dict) and r.get("key_id") == record["key_id"])]
    entry[FIELD] = others + [record]
    return record["key_id"]


def check(name, entry, path, trusted_keys):
    """Raise `ZooError` naming `path` unless one of `trusted_keys` (base64 texts) signed entry `name`.

    Call it after the sha256 signature check (`manifest.check_signature`).
    """
    ed25519 = _ed25519()
    from cryptography.exceptions import InvalidSignature

    records = entry.get(FIELD, [])
    if not isinstance(records, list) or not all(isinstance(r, dict) and isinstance(r.get("key_id"), str)
                                                and isinstance(r.get("ed25519"), str) for r in records):
        raise ZooError(f"Zoo manifest {path}: `{FIELD}` must be a list of {{key_id, ed25519}} objects")
    by_id = {key_id(k): k for k in trusted_keys}
    for record in records:
        if record["key_id"] in by_id:
            pub = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(by_id[record["key_id"]]))
            try:
                pub.verify(base64.b64decode(record["ed25519"]), _message(name, entry))
                return record["key_id"]
            except (InvalidSignature, ValueError):
                raise ZooError(f"Zoo manifest {path} of {name!r}: its Ed25519 signature by key {record['key_id']} "
                               "does not verify: its name, model config, weights or sampler were changed after "
                               "it was signed") from None
    signed = ", ".join(r["key_id"] for r in records) or "none"
    raise ZooError(f"Zoo manifest {path} of {name!r} is not signed by a trusted key (trusted: "
                   f"{', '.join(by_id)}; signed by: {signed}). Sign it with `python -m keras_ae.zoo.sign {name} "
                   f"--key PATH`, or trust its signer's public key (trusted_keys=, ${ENV_TRUSTED_KEYS})")


def generate_signing_key(path):
    """Write a new Ed25519 private key to `path` (PEM, mode 600; never over an existing file); return its
    public half as base64 text."""
    from cryptography.hazmat.primitives import serialization

    key = _ed25519().Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return base64.b64encode(_raw(key.public_key())).decode()
