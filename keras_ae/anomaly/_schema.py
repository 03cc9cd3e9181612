"""Checks of a detector file's settings: structure, types and shapes.

A detector file is a `.keras` zip that anyone can edit. Every check here
raises one `ValueError` that names the file and the field, in the Keras style:
`"d.keras: settings field 'threshold' must be a finite number. Received: 'abc'"`.
"""

import math

import numpy as np


class said(str):
    """Text shown as it is in an error message's `Received:` (a description, not a value)."""

    def __repr__(self):
        return str(self)


def _shown(value):
    """A short form of a received value for an error message."""
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"a list of {len(value)} values"
    if isinstance(value, dict) and len(value) > 6:
        return f"an object with keys {sorted(value)[:6]}..."
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class SettingsReader:
    """The checks of the settings of the detector file `path`; each failure names the file and the field."""

    def __init__(self, path):
        self.path = str(path)

    def fail(self, field, expected, received):
        raise ValueError(f"{self.path}: settings field {field!r} must be {expected}. Received: {_shown(received)}")

    def object(self, field, value):
        if not isinstance(value, dict):
            what = "the settings" if field is None else f"settings field {field!r}"
            raise ValueError(f"{self.path}: {what} must be a JSON object. "
                             f"Received: a JSON {_json_type(value)}: {_shown(value)}")
        return value

    def keys(self, field, value, required, optional=(), owner="a detector file"):
        """Refuse a missing key of `required` and any key not in `required` or `optional`."""
        prefix = "" if field is None else field + "."
        for key in required:
            if key not in value:
                raise ValueError(f"{self.path}: settings field {prefix + key!r} is missing ({owner} has the "
                                 f"fields {sorted(required)})")
        extra = sorted(set(value) - set(required) - set(optional))
        if extra:
            raise ValueError(f"{self.path}: settings field {prefix + extra[0]!r} is not a field of {owner} "
                             f"(its fields: {sorted([*required, *optional])})")
        return value

    def number(self, field, value, low=None, high=None, low_inclusive=True):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok and low is not None:
            ok = value >= low if low_inclusive else value > low
        if ok and high is not None:
            ok = value <= high
        if not ok:
            bounds = "" if low is None and high is None else (
                f" in {'[' if low_inclusive else '('}{'-inf' if low is None else low}, "
                f"{'inf' if high is None else high}]")
            self.fail(field, f"a finite number{bounds}", value)
        return float(value)

    def integer(self, field, value, low=None):
        if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
            self.fail(field, "an integer" + ("" if low is None else f" >= {low}"), value)
        return int(value)

    def choice(self, field, value, choices):
        if not isinstance(value, str) or value not in choices:
            self.fail(field, f"one of {sorted(choices)}", value)
        return value

    def array(self, field, value, shape, low=None):
        """`value` as a float64 array of `shape` (`None` for any length), every value finite (and >= `low`)."""
        try:
            a = np.asarray(value, dtype="float64")
        except (TypeError, ValueError):
            a = None
        if a is None or not isinstance(value, list):
            self.fail(field, f"a list of numbers of shape {_shape_text(shape)}", value)
        if a.ndim != len(shape) or any(want is not None and got != want for got, want in zip(a.shape, shape)):
            self.fail(field, f"a list of numbers of shape {_shape_text(shape)}", said(f"shape {a.shape}"))
        if a.size == 0:
            self.fail(field, f"a non-empty list of numbers of shape {_shape_text(shape)}", value)
        if not np.all(np.isfinite(a)) or (low is not None and np.any(a < low)):
            self.fail(field, "finite numbers" + ("" if low is None else f" >= {low:g}"),
                      said(f"{int(np.sum(~np.isfinite(a) | (a < (-np.inf if low is None else low))))} "
                           "value(s) outside that"))
        return a


def _shape_text(shape):
    return "(" + ", ".join("n" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _json_type(value):
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)
