"""Atomic writes: write a temporary file beside the target, then rename it.

A temporary file is named `.tmp-<pid>-<random><suffix>` in the target's folder.
It is removed on any failure in this process; one left by a process that was
killed is removed by the next write into the same folder.

Two processes writing the same target take turns: each write holds an exclusive
`fcntl.flock` lock on a lock file beside the target, `.NAME.keras-ae.lock`
(`file_lock`), removed when the write is done. Where `fcntl` is missing
(Windows), writes are not locked; each is still atomic, and the last rename wins.
"""

import contextlib
import errno
import hashlib
import json
import os
import shutil
import re
import tempfile
import threading

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None

_TMP = re.compile(r"^\.tmp-(\d+)-")
LOCK_SUFFIX = ".keras-ae.lock"


class FileLockedError(OSError):
    """Another process holds the lock on a target (`file_lock(..., blocking=False)`)."""


_held = {}  # lock file -> [fd, depth]: the locks this process holds (a nested `file_lock` of one target passes)
_held_guard = threading.Lock()


def lock_path(target):
    """The lock file of `target`: `.NAME.keras-ae.lock` in the same folder."""
    target = os.path.abspath(os.fspath(target)).rstrip(os.sep) or os.sep
    return os.path.join(os.path.dirname(target), "." + os.path.basename(target) + LOCK_SUFFIX)


def _acquire(path, blocking, what, hint):
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            try:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            finally:
                os.close(fd)
            raise FileLockedError(f"{what} is in use by process {holder} (it holds the lock "
                                  f"{path}); {hint}") from None
        except BaseException:
            os.close(fd)
            raise
        try:  # the holder before us removes the file when done: lock the file that is there now
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode())
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


@contextlib.contextmanager
def file_lock(target, blocking=True, what=None, hint="wait for it to finish"):
    """Hold an exclusive lock on `target` (a file or folder, which need not exist) between processes.

    The lock is `fcntl.flock` on the lock file `lock_path(target)`, created
    beside the target and removed on release (a process killed meanwhile
    leaves it; the next lock of the target removes it). `blocking=True` waits
    for the holder to finish; `blocking=False` raises a `FileLockedError`
    that names `what` (default: the target) and the holder's process id, then
    says `hint`.
    The lock is held per process: a nested `file_lock` of the same target
    passes at once. Where `fcntl` is missing, nothing is locked.
    """
    if fcntl is None:
        yield None
        return
    path = lock_path(target)
    with _held_guard:
        mine = _held.get(path)
        if mine is not None:
            mine[1] += 1
    if mine is None:
        fd = _acquire(path, blocking, what or repr(os.fspath(target)), hint)
        with _held_guard:
            mine = _held[path] = [fd, 1]
    try:
        yield path
    finally:
        with _held_guard:
            mine[1] -= 1
            last = mine[1] == 0
            if last:
                del _held[path]
        if last:
            with contextlib.suppress(OSError):
                os.remove(path)  # while still locked: a waiter finds its file gone, and locks a new one
            os.close(mine[0])


def sha256_file(path, chunk=1 << 20):
    """The sha256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _pid_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.EPERM
    return True


def clean_stale_temporaries(directory):
    """Remove `.tmp-<pid>-*` files in `directory` whose process is gone; return their names."""
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        m = _TMP.match(name)
        if m and not _pid_alive(int(m.group(1))):
            full = os.path.join(directory, name)
            try:
                if os.path.isdir(full) and not os.path.islink(full):  # a SavedModel export's folder
                    shutil.rmtree(full)
                else:
                    os.remove(full)
                removed.append(name)
            except OSError:
                pass
    return removed


def check_output_path(path, suffixes=None, what="output file"):
    """Raise a `ValueError` naming `path` unless a file can be written there.

    Checks, before any work is done: a non-empty path, not an existing folder,
    an allowed suffix (if `suffixes` is given), and a parent folder that exists
    or can be created and is writable.
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise ValueError(f"The {what} path is empty. Received: {path!r}")
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"The {what} {path!r} is a folder; give a file name inside it")
    if suffixes and not any(path.lower().endswith(s) for s in suffixes):
        raise ValueError(f"The {what} must end in {' or '.join(suffixes)}. Received: {path!r}")
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as e:
        raise ValueError(f"Cannot create the folder of the {what} {path!r}: {e.strerror or e}") from None
    if not os.access(parent, os.W_OK):
        raise ValueError(f"Cannot write the {what} {path!r}: its folder {parent!r} is not writable")
    return path


def _fsync(path):
    """Flush a file's (or a folder's) data to the disk; where the OS refuses (some folders), go on."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, write):
    """Call `write(tmp_path)`, then rename the temporary file onto `path`.

    The temporary file keeps `path`'s suffix (Keras checks `.weights.h5`,
    matplotlib the image format), and is removed if `write` fails or leaves
    nothing, so a failure never leaves a half-written file or a stray temporary.
    Two processes writing `path` at once take turns (`file_lock`): the file
    is then the whole of the second one's.
    """
    path = check_output_path(path)
    directory = os.path.dirname(os.path.abspath(path))
    with file_lock(path):  # another process writing `path` waits here, so writers take turns
        clean_stale_temporaries(directory)
        base = os.path.basename(path)
        suffix = base[base.index("."):] if "." in base.lstrip(".") else ""
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".tmp-{os.getpid()}-", suffix=suffix)
        os.close(fd)
        try:
            write(tmp)
            if not os.path.exists(tmp) or os.path.getsize(tmp) == 0:
                raise OSError(f"Nothing was written for {path!r}")
            os.chmod(tmp, 0o644)
            _fsync(tmp)  # the bytes reach the disk before the name does
            os.replace(tmp, path)
            _fsync(directory)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
    return path


def write_json_atomic(path, obj):
    """Write `obj` as indented JSON to `path` atomically (the JSON is made before any file)."""
    text = json.dumps(obj, indent=2) + "\n"

    def write(tmp):  # atomic_write flushes it to the disk before the rename
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    return atomic_write(path, write)


def check_history_finite(history, what="training"):
    """Raise `ValueError` if a `fit` history logged a NaN or infinite loss (`keras_ae.training.fit_model`
    calls it, after a `fit` that stops at the first one)."""
    for epoch, value in enumerate(history.history.get("loss", []), start=1):
        if not np.isfinite(value):
            raise ValueError(
                f"The {what} diverged: the loss was {value} in epoch {epoch}. Nothing was saved; "
                "try a smaller learning rate")


def check_finite_weights(model, what="model"):
    """Raise `ValueError` if any weight of `model` is NaN or infinite (a diverged training)."""
    import keras

    for w in model.weights:
        value = np.asarray(keras.ops.convert_to_numpy(w))
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            bad = int(value.size - np.count_nonzero(np.isfinite(value)))
            raise ValueError(
                f"The {what} has {bad} NaN or infinite value(s) in weight {w.path!r}: training "
                "diverged (try a smaller learning rate). Refusing to save or load it")
