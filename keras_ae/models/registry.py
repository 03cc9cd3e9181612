"""A table of model variants, filled by the `register_variant` decorator."""

import difflib

VARIANTS = {}


def register_variant(name):
    """Class decorator: make a model class available as `get_model(name)`."""

    def wrap(cls):
        if name in VARIANTS:
            raise ValueError(f"Variant {name!r} is already registered to {VARIANTS[name].__name__}")
        VARIANTS[name] = cls
        cls.variant = name
        return cls

    return wrap


def list_variants():
    """Names of the registered model variants, sorted."""
    return sorted(VARIANTS)


def get_model(variant, **kwargs):
    """Build a model by variant name, e.g. `get_model("vae", latent_dim=2)`."""
    if not isinstance(variant, str):
        raise TypeError(f"`variant` must be a name such as 'vae'. Received: variant={variant!r} "
                        f"(one of: {', '.join(list_variants())})")
    try:
        cls = VARIANTS[variant]
    except KeyError:
        close = difflib.get_close_matches(str(variant), VARIANTS, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"Unknown variant {variant!r}.{hint} Expected one of: {', '.join(list_variants())}"
        ) from None
    return cls(**kwargs)
