"""Which Keras backend trained each variant fastest, as the speed benchmark measured it; read without Keras.

`keras_ae/fastest_backends.json` is written by the benchmarks (`python -m benchmarks --speed`, or
`python -m benchmarks --render` from the figures already in benchmarks/results.json; see
benchmarks/backend_table.py), never by hand. For each variant it holds the samples/s of keras-ae's
training on each backend the run measured, and the fastest of them. `keras-ae train --backend auto`
(`keras_ae.cli.backend.choose`) and the zoo's recipes without a `backend` (`keras_ae.zoo.train.recipe_backend`)
read it. A variant the table does not name trains on Keras's default backend (TensorFlow).
"""

import functools
import json
import os

TABLE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fastest_backends.json")
BACKENDS = ("tensorflow", "jax", "torch")


def check_table(table, path=TABLE_PATH):
    """Return `table` if it has the expected shape, else raise a ValueError naming `path`."""
    variants = table.get("variants") if isinstance(table, dict) else None
    if not isinstance(variants, dict):
        raise ValueError(f"{path}: expected a JSON object with a 'variants' object (variant -> {{'fastest', "
                         f"'samples_per_s'}}). Received: {type(table).__name__} without it")
    for variant, row in variants.items():
        rates = row.get("samples_per_s") if isinstance(row, dict) else None
        if not isinstance(rates, dict) or not rates or set(rates) - set(BACKENDS) \
                or not all(isinstance(v, (int, float)) and v > 0 for v in rates.values()) \
                or row.get("fastest") != max(rates, key=rates.get):
            raise ValueError(f"{path}: variant {variant!r} needs 'samples_per_s' (backend -> a positive number, "
                             f"backends among {BACKENDS}) and 'fastest' (the backend with the most). Received: {row!r}")
    return table


@functools.lru_cache(maxsize=4)
def load_table(path=TABLE_PATH):
    """The table at `path`; an empty one if the file is missing (every variant then takes Keras's default)."""
    if not os.path.exists(path):
        return {"variants": {}}
    with open(path, encoding="utf-8") as f:
        try:
            table = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not JSON ({e})") from None
    return check_table(table, path)


def measured_rates(variant, path=TABLE_PATH):
    """`{backend: samples/s}` the table holds for `variant`, or `{}` if it does not name it."""
    row = load_table(path)["variants"].get(variant)
    return dict(row["samples_per_s"]) if row else {}


def fastest_backend(variant, available=BACKENDS, path=TABLE_PATH):
    """The backend in `available` with the most measured samples/s for `variant`, or None if the table has
    no figure for it on any of them."""
    rates = {b: r for b, r in measured_rates(variant, path).items() if b in available}
    return max(rates, key=rates.get) if rates else None
