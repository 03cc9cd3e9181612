"""Presets that travel: a model saved to a folder, loaded back from that folder, a URL or a model hub.

A preset folder holds `preset.json` (a zoo manifest: the model config,
metadata, the weights file's name, size and sha256, the `signature` that binds
them, and Ed25519 `key_signatures` if it was saved with a key) and the
weights, `model.<sha12>.weights.h5`. `model.save_to_preset(folder)` writes it
as `zoo.save_entry` writes an entry; `Class.from_preset(x)` and
`keras_ae.get_model(x, pretrained=True)` load it from (as KerasHub's
`from_preset` does, `keras_hub/src/utils/preset_utils.py`):

- a zoo name (`"vae.mnist_z2"`);
- a local preset folder (`"./my_vae"`, anything with a `/`, or a bare name of a folder holding `preset.json`);
- an `https://` or `file://` URL of a preset folder (`http://` only on the loopback host), fetched with
  `keras.utils.get_file` into `$KERAS_HOME/keras_ae/presets/` (default `~/.keras`) and reused from there
  (`force_download=True` fetches `preset.json` again);
- `hf://user/repo` (the `hf` extra: `huggingface_hub.hf_hub_download`, its own cache; `HF_HUB_OFFLINE=1`
  reads that cache only) and `kaggle://owner/model/keras/variation` (`kagglehub.model_download`).

Every weights file is checked against the manifest's size and sha256 before
it is read, and the manifest's `signature` against its config and that hash;
a file that fails is refused, named, and nothing is loaded. The key rule is
the zoo's (`keras_ae.zoo.keys`): with `trusted_keys=` (or
`$KERAS_AE_TRUSTED_KEYS`) a preset none of those keys signed is refused;
without them only the hashes are checked. The project key is checked by
default only for the zoo that ships inside the package.
"""

import hashlib
import os
import re
import urllib.parse

from keras_ae._io import clean_stale_temporaries, file_lock
from keras_ae.zoo import index, keys
from keras_ae.zoo.manifest import ZooError, read_manifest, sha256_of, verify_file

PRESET_FILE = "preset.json"
WEIGHTS_STEM = "model"  # preset folders name their weights model.<sha12>.weights.h5
SCHEMES = ("https", "http", "file", "hf", "kaggle")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LOOPBACK = re.compile(r"^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$")
FORMS = ("a zoo name such as 'vae.mnist_z2', a preset folder ('./my_vae'), an https:// or file:// URL of a "
         "preset folder, 'hf://user/repo' or 'kaggle://owner/model/keras/variation'")


# ---- saving -----------------------------------------------------------------------------

def _leftovers(folder):
    """Files in `folder` that a preset save did not write (its lock and temporaries are ours)."""
    from keras_ae._io import LOCK_SUFFIX

    return [n for n in os.listdir(folder) if not (n.startswith(".tmp-") or n.endswith(LOCK_SUFFIX))]


def save(model, preset_dir, name=None, metadata=None, signing_key=None, overwrite=True):
    """Write `model` to the preset folder `preset_dir` (see `BaseAutoencoder.save_to_preset`); return its manifest."""
    from keras_ae.zoo.writer import _save_entry, _signing_key
    from keras_ae._io import check_finite_weights

    if not isinstance(preset_dir, (str, os.PathLike)) or not os.fspath(preset_dir).strip():
        raise TypeError(f"`preset_dir` must be a folder path. Received: preset_dir={preset_dir!r}")
    preset_dir = os.fspath(preset_dir)
    if "://" in preset_dir:
        raise ValueError(f"save_to_preset writes a local folder; upload it afterwards (to a web server or "
                         f"`huggingface_hub.upload_folder`). Received: preset_dir={preset_dir!r}")
    name = model.name if name is None else name
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError("A preset's `name` is letters, digits, '.', '_' and '-', starting with a letter or "
                         f"digit (it is what a key signature binds). Received: name={name!r}")
    metadata = dict(metadata or {})
    taken = {"name", "config", "weights", "signature", "sampler", "versions", "params", "date",
             keys.FIELD} & set(metadata)
    if taken:
        raise ValueError(f"`metadata` may not set {', '.join(sorted(taken))}: save_to_preset writes them. "
                         f"Received metadata keys: {', '.join(sorted(metadata))}")
    check_finite_weights(model, f"model for preset {preset_dir!r}")
    signer = _signing_key(signing_key)  # an unreadable key fails here, before any file is written
    if os.path.exists(preset_dir) and not os.path.isdir(preset_dir):
        raise ValueError(f"save_to_preset needs a folder, but {preset_dir!r} is a file")
    os.makedirs(preset_dir, exist_ok=True)
    manifest = os.path.join(preset_dir, PRESET_FILE)
    with file_lock(manifest):
        if os.path.exists(manifest):
            try:
                read_manifest(manifest)
            except ZooError as e:
                raise ValueError(f"{preset_dir!r} holds a {PRESET_FILE} that is not a keras-ae preset ({e}); "
                                 "refusing to overwrite it: give a new or empty folder") from None
            if not overwrite:
                raise ValueError(f"{preset_dir!r} already holds a preset and overwrite=False")
        elif _leftovers(preset_dir):
            found = sorted(_leftovers(preset_dir))
            raise ValueError(f"{preset_dir!r} is not empty and is not a keras-ae preset folder (no {PRESET_FILE}; "
                             f"it holds {', '.join(found[:5])}{', ...' if len(found) > 5 else ''}): refusing "
                             "to write into it; give a new or empty folder")
        return _save_entry(name, model, metadata, preset_dir, manifest, None, "float32", signer, stem=WEIGHTS_STEM)


# ---- where a preset comes from --------------------------------------------------------------

def is_location(preset):
    """Whether `preset` names a preset outside the zoo: a URL, a path, or a folder holding `preset.json`.

    A bare name is the zoo's first, as KerasHub looks up its built-in presets first; `./NAME` is the folder.
    """
    preset = os.fspath(preset)
    if "://" in preset or preset.startswith((".", "~")) or "/" in preset or os.sep in preset:
        return True
    if os.path.isfile(os.path.join(preset, PRESET_FILE)):
        return preset not in index.list_models()
    return False


def keras_cache_dir():
    """Keras's cache folder: `$KERAS_HOME`, else `~/.keras` (what `keras.utils.get_file` uses)."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


class _Folder:
    def __init__(self, preset):
        self.label = preset
        self.folder = os.path.expanduser(preset)
        if os.path.basename(self.folder) == PRESET_FILE and os.path.isfile(self.folder):
            self.folder = os.path.dirname(self.folder) or "."
        if not os.path.isdir(self.folder):
            raise FileNotFoundError(f"No preset folder at {preset!r}. Expected {FORMS}")
        if not os.path.isfile(os.path.join(self.folder, PRESET_FILE)):
            raise ZooError(f"{preset!r} is not a keras-ae preset folder: it has no {PRESET_FILE} (write one with "
                           "model.save_to_preset(folder))")

    def fetch(self, file, record=None):
        return os.path.join(self.folder, file)


class _Url:
    """An https:// or file:// preset folder (http:// on the loopback host), cached under Keras's cache folder."""

    def __init__(self, preset, force_download):
        parts = urllib.parse.urlsplit(preset)
        if parts.scheme == "http" and not _LOOPBACK.match(parts.hostname or ""):
            raise ValueError(f"Presets are fetched over https:// (http:// only from this machine: localhost, "
                             f"127.0.0.1). Received: {preset!r}")
        base = preset.rstrip("/")
        if base.endswith("/" + PRESET_FILE):
            base = base[: -len(PRESET_FILE) - 1]
        self.label, self.base, self.force = preset, base, force_download
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", parts.netloc + parts.path).strip("_")[:60]
        self.subdir = os.path.join("keras_ae", "presets", f"{slug}-{hashlib.sha256(base.encode()).hexdigest()[:12]}")

    def fetch(self, file, record=None):
        import keras

        cache = keras_cache_dir()
        os.makedirs(cache, exist_ok=True)  # else get_file falls back to /tmp/.keras
        folder = os.path.join(cache, self.subdir)
        os.makedirs(folder, exist_ok=True)
        target, origin = os.path.join(folder, file), f"{self.base}/{urllib.parse.quote(file)}"
        with file_lock(target):
            if os.path.exists(target) and (record is not None or not self.force):
                if record is None:
                    return target  # the manifest, as cached; force_download=True fetches it again
                try:
                    verify_file(target, record["sha256"], record["size"])
                    return target
                except ZooError:
                    pass  # an older or damaged copy: fetched again below
            clean_stale_temporaries(folder)
            tmp = f".tmp-{os.getpid()}-{file}"
            try:
                # The hash is checked here rather than by get_file's `file_hash`, so the error gives both
                # hashes and the size; the file takes its name only once it has passed.
                path = keras.utils.get_file(fname=tmp, origin=origin, cache_dir=cache, cache_subdir=self.subdir)
                if record is not None:
                    size, sha = os.path.getsize(path), sha256_of(path)
                    if (size, sha) != (record["size"], record["sha256"]):
                        raise ZooError(f"Weights file {file} from {origin} fails its hash check: expected "
                                       f"{record['size']} bytes with sha256 {record['sha256']}, got {size} bytes "
                                       f"with sha256 {sha}. It was not kept, and nothing was loaded")
                os.replace(path, target)
            except ZooError:
                raise
            except Exception as e:
                raise ZooError(f"Cannot fetch {file} of preset {self.label} from {origin}: {e}") from None
            finally:
                if os.path.exists(os.path.join(folder, tmp)):
                    os.remove(os.path.join(folder, tmp))
        return target


class _HuggingFace:
    def __init__(self, preset):
        self.label, self.repo = preset, preset[len("hf://"):].strip("/")
        try:
            import huggingface_hub
        except ImportError:
            raise ImportError(f"Loading {preset!r} needs the `huggingface_hub` package: "
                              "pip install 'keras-ae[hf]'") from None
        self.hub = huggingface_hub

    def fetch(self, file, record=None):
        from huggingface_hub.utils import EntryNotFoundError, HFValidationError, LocalEntryNotFoundError

        try:
            return self.hub.hf_hub_download(repo_id=self.repo, filename=file)
        except HFValidationError as e:
            raise ValueError(f"A Hugging Face preset is 'hf://user/repo'. Received: {self.label!r} ({e})") from None
        except (EntryNotFoundError, LocalEntryNotFoundError) as e:
            raise ZooError(f"{file} of preset {self.label} is not found (in the hub, or in its cache when "
                           f"HF_HUB_OFFLINE=1): {type(e).__name__}") from None


class _Kaggle:
    def __init__(self, preset):
        self.label, self.handle = preset, preset[len("kaggle://"):].strip("/")
        if len(self.handle.split("/")) not in (4, 5):
            raise ValueError("A Kaggle preset is 'kaggle://owner/model/keras/variation[/version]'. "
                             f"Received: {preset!r}")
        try:
            import kagglehub
        except ImportError:
            raise ImportError(f"Loading {preset!r} needs the `kagglehub` package: pip install kagglehub") from None
        self.hub = kagglehub

    def fetch(self, file, record=None):
        return self.hub.model_download(self.handle, path=file)


def _source(preset, force_download=False):
    scheme = preset.split("://", 1)[0].lower() if "://" in preset else None
    if scheme is None:
        return _Folder(preset)
    if scheme in ("https", "http", "file"):
        return _Url(preset, force_download)
    if scheme == "hf":
        return _HuggingFace(preset)
    if scheme == "kaggle":
        return _Kaggle(preset)
    raise ValueError(f"Unknown preset scheme {scheme}://. Expected {FORMS}. Received: {preset!r}")


# ---- loading ----------------------------------------------------------------------------

class Preset:
    """A preset's manifest, checked (signature and trusted keys), and where to fetch its weights.

    `Preset(x)` reads `preset.json` only; `model_class()` needs no weights; `load()` fetches and checks them.
    """

    def __init__(self, preset, trusted_keys=None, force_download=False):
        if not isinstance(preset, (str, os.PathLike)):
            raise TypeError(f"`preset` must be {FORMS}. Received: {preset!r}")
        self.label = os.fspath(preset)
        self.source = _source(self.label, force_download)
        self.manifest = self.source.fetch(PRESET_FILE)
        self.entry = read_manifest(self.manifest)
        self.name = self.entry["name"]
        self.trusted_keys = trusted_keys
        # A manifest from a URL has no directory that could be the package's zoo: its keys are the caller's.
        index.check_entry(self.name, self.manifest, self.entry, trusted_keys)

    def model_class(self):
        """The registered class the preset's (checked) config builds, or None."""
        import keras

        from keras_ae import register_with_keras

        register_with_keras()
        config = self.entry["config"]
        registered = config.get("registered_name") or config.get("class_name")
        return keras.saving.get_registered_object(registered) if isinstance(registered, str) else None

    def weights_file(self):
        """The local, verified path of the preset's weights (fetched first if the preset is remote)."""
        record = self.entry["weights"]
        path = self.source.fetch(record["file"], record)
        if not isinstance(self.source, _Url):  # a URL's file was checked as it was fetched or found in the cache
            verify_file(path, record["sha256"], record["size"])
        return path

    def build(self, **overrides):
        """The preset's architecture with fresh weights (nothing is fetched but `preset.json`)."""
        return index._build(self.name, self.manifest, self.entry, overrides, self.trusted_keys)

    def load(self, **overrides):
        """The preset's model with its verified weights."""
        return index.load_entry(self.name, self.manifest, self.entry, self.weights_file, overrides,
                                self.trusted_keys)


def from_preset(cls, preset, trusted_keys=None, force_download=False, **overrides):
    """`cls.from_preset`: load a zoo name or a preset location, refusing a preset of another class first."""
    from keras_ae import zoo

    if not isinstance(preset, (str, os.PathLike)):
        raise TypeError(f"`preset` must be {FORMS}. Received: {preset!r}")
    preset = os.fspath(preset)
    if not is_location(preset):
        # The class comes from the entry's signed config before anything is built or loaded, as
        # KerasHub's from_preset checks it (`check_config_class`): one manifest read; unknown names
        # get a "did you mean" error.
        try:
            found = zoo.model_class(preset, trusted_keys=trusted_keys)
        except ZooError as e:
            if str(e).startswith("Unknown zoo model"):
                raise ZooError(f"{e}. Or give a preset folder ('./{preset}') or the URL of one "
                               "(https://, file://, hf://user/repo)") from None
            raise
        _check_class(cls, preset, found, zoo.presets_of)
        return zoo.load(preset, trusted_keys=trusted_keys, **overrides)
    loaded = Preset(preset, trusted_keys=trusted_keys, force_download=force_download)
    _check_class(cls, preset, loaded.model_class(), None)
    return loaded.load(**overrides)


def _check_class(cls, preset, found, presets_of):
    if found is not None and not issubclass(found, cls):
        hint = ""
        if presets_of is not None:  # zoo names: list this class's, from the `arch.tag` names (no manifest read)
            hint = f" {cls.__name__} presets: {', '.join(presets_of(cls)) or 'none'}"
        raise ValueError(f"{preset!r} is a {found.__name__}, not a {cls.__name__}: load it with "
                         f"keras_ae.{found.__name__}.from_preset or keras_ae.get_model({preset!r}, "
                         f"pretrained=True).{hint}")
