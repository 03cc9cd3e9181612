"""Atomic writes: write a temporary file beside the target, then rename it."""

import json
import os
import tempfile


def atomic_write(path, write):
    """Call `write(tmp_path)`, then rename the temporary file onto `path`.

    The temporary file keeps `path`'s suffix (Keras checks `.weights.h5`), and
    is removed if `write` fails, so a failure never leaves a half-written file.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    base = os.path.basename(path)
    suffix = base[base.index("."):] if "." in base else ""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def write_json_atomic(path, obj):
    """Write `obj` as indented JSON to `path` atomically."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")

    return atomic_write(path, write)
