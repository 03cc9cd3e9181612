"""What the command modules share: the one-line error, and loading a model by zoo name or file."""

import os


class CLIError(Exception):
    """An error shown to the user as one line, with a non-zero exit."""


def load_zoo_model(name):
    from keras_ae import zoo

    return zoo.load(name)


def load_model_or_zoo(name):
    """A model from a `.keras` file, or a zoo entry by name."""
    if name.endswith(".keras"):
        if not os.path.isfile(name):
            raise FileNotFoundError(f"No model file at {name!r}")
        import keras

        import keras_ae.models  # noqa: F401  (registers the classes with Keras)

        return keras.models.load_model(name)
    return load_zoo_model(name)
