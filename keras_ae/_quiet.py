"""Hold back the backend's C++ start-up lines that a user cannot act on.

TensorFlow 2.21 writes INFO lines from C++ while it is imported (before its
logging is set up, so `TF_CPP_MIN_LOG_LEVEL` does not hide them), and, on a
machine without a GPU, a `failed call to cuInit` error when its devices start.
keras-ae imports Keras and starts the devices (at the first model it builds)
with the process's stderr (file descriptor 2) sent to a temporary file, then
writes back every line that is not one of those. Anything else the backend
or Python says in the meantime still reaches stderr, in order.

Set `KERAS_AE_BACKEND_LOGS=1` to see everything, unfiltered.
"""

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

# absl's preamble, INFO lines ("I0000 00:00:... file.cc:N] ..."), and the CUDA probe's lines on a machine
# without a GPU (cuInit / cuda drivers, E or W level).
NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                   r"|I\d{4} .*"
                   r"|[EW]\d{4} .*(cuInit|cuda_platform|cuda_executor|cuda_diagnostics|CUDA driver|cuda drivers).*)$")
ENV = "KERAS_AE_BACKEND_LOGS"


def _wanted():
    return os.environ.get(ENV, "").strip() not in ("", "0")


@contextlib.contextmanager
def held_stderr():
    """Send fd 2 to a temporary file; afterwards write back every line that is not start-up noise."""
    if _wanted():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no fd 2 (e.g. an embedded interpreter): nothing to hold
        yield
        return
    held = tempfile.TemporaryFile()
    try:
        os.dup2(held.fileno(), 2)
        yield
    finally:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, 2)
        os.close(saved)
        held.seek(0)
        text = held.read().decode("utf-8", "replace")
        held.close()
        kept = [line for line in text.splitlines(keepends=True) if not NOISE.match(line.rstrip("\r\n"))]
        if kept:
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


def import_keras():
    """Import Keras (and its backend) with the start-up noise held back; a no-op once Keras is loaded."""
    if "keras" in sys.modules:
        return
    with held_stderr():
        import keras  # noqa: F401


class _QuietKerasImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A one-shot import hook: the first `import keras` (or of `name`), by anyone, runs with the noise held back.

    `import keras_ae` does not import Keras (it takes well under a second), so the user's own
    `import keras` after it, or keras-ae's first model, is what loads the backend: this hook holds
    back its start-up lines either way, then calls `after` (keras-ae registers its classes there).
    It wraps the real loader for that one import only and removes itself at once. Under JAX and
    PyTorch, a second one waits for `tensorflow`, which Keras and keras-ae import later, on demand
    (`tf.data` input, a SavedModel): its start-up lines are the same.
    """

    def __init__(self, after=None, name="keras"):
        self.after = after
        self.name = name
        self.inner = None

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        sys.meta_path[:] = [f for f in sys.meta_path if f is not self]
        spec = importlib.util.find_spec(self.name)
        if spec is None or spec.loader is None:
            return spec
        self.inner, spec.loader = spec.loader, self
        return spec

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        with held_stderr():
            self.inner.exec_module(module)
        module.__loader__ = module.__spec__.loader = self.inner  # the real loader from now on
        if self.after is not None:
            self.after()


def install_keras_hook(after=None):
    """Hold back the start-up noise of the first `import keras` from now on; then call `after()`."""
    if "keras" in sys.modules or any(isinstance(f, _QuietKerasImport) and f.name == "keras" for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietKerasImport(after))


def uninstall_keras_hook():
    sys.meta_path[:] = [f for f in sys.meta_path if not (isinstance(f, _QuietKerasImport) and f.name == "keras")]


def install_tensorflow_hook():
    """Hold back TensorFlow's start-up noise at its first import from now on (a backend other than
    TensorFlow imports it later, if at all)."""
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None \
            or any(isinstance(f, _QuietKerasImport) and f.name == "tensorflow" for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietKerasImport(name="tensorflow"))


_devices_started = False


def start_devices():
    """Start TensorFlow's devices once, with the CUDA probe's lines held back.

    Called when keras-ae builds its first model: building one starts the
    devices anyway, so device settings (`tf.config...`) must come before it
    either way; importing keras-ae alone leaves them unstarted.
    """
    global _devices_started
    if _devices_started:
        return
    _devices_started = True
    import keras

    if keras.backend.backend() != "tensorflow":
        install_tensorflow_hook()
        return
    with held_stderr():
        import tensorflow as tf

        try:
            tf.config.list_logical_devices()
        except RuntimeError:  # pragma: no cover - devices misconfigured: let the user's own call report it
            pass
