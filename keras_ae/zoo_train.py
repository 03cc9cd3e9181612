"""Deprecated alias of `keras_ae.zoo.train` (the recipes are the table `keras_ae.zoo.recipes.RECIPES`).

`python -m keras_ae.zoo_train NAME` keeps working, with no warning: every zoo
manifest records that command. Importing a name from here (`RECIPES`,
`measure`, `train`, `main`, ...) gives the one in `keras_ae.zoo.train`, with a
`DeprecationWarning`.
"""

import importlib
import warnings


def __getattr__(name):
    module = importlib.import_module("keras_ae.zoo.train")
    try:
        value = getattr(module, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    if not name.startswith("__"):
        warnings.warn(f"keras_ae.zoo_train.{name} moved to keras_ae.zoo.train.{name}",
                      DeprecationWarning, stacklevel=2)
    return value


if __name__ == "__main__":
    from keras_ae.zoo.train import main

    main()
