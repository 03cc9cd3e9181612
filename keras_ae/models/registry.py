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


def get_model(name, pretrained=False, **kwargs):
    """Build a model by name, the way timm and KerasHub do.

    Args:
        name: a variant (`"vae"`, `"conv_vae"`, ...; see `list_variants()`), a zoo
            entry (`"vae.mnist_z2"`; see `list_models(pretrained=True)`), or a preset
            folder or URL (`"./my_vae"`, `"https://..."`, `"hf://user/repo"`; see
            `BaseAutoencoder.from_preset`).
        pretrained: for a zoo entry, load its weights (`True`) or build its
            architecture with fresh weights (`False`). A variant has no weights.
        **kwargs: constructor arguments for a variant; for a zoo entry or preset,
            settings that do not change the weights' shapes (e.g. `dtype`, `name`),
            and `trusted_keys` (and for a URL `force_download`) as in `from_preset`.

    Example: `get_model("vae", latent_dim=2)`, `get_model("vae.mnist_z2", pretrained=True)`.
    """
    import os

    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"`name` must be a variant or zoo name such as 'vae', or a preset folder or URL. "
                        f"Received: name={name!r} (variants: {', '.join(list_variants())})")
    if not isinstance(pretrained, bool):
        raise TypeError(f"`pretrained` must be True or False. Received: pretrained={pretrained!r}")
    name = os.fspath(name)
    if name not in VARIANTS:
        from keras_ae.zoo import preset as presets

        if presets.is_location(name):  # a preset folder, or an https://, file://, hf:// or kaggle:// preset
            loaded = presets.Preset(name, trusted_keys=kwargs.pop("trusted_keys", None),
                                    force_download=kwargs.pop("force_download", False))
            return loaded.load(**kwargs) if pretrained else loaded.build(**kwargs)
    if name in VARIANTS:
        if pretrained:
            from keras_ae import zoo

            have = zoo.list_models(f"{name}.*")
            hint = f" Pretrained {name} models: {', '.join(have)}" if have else ""
            raise ValueError(f"{name!r} is a variant, which has no weights of its own: pass pretrained=False, "
                             f"or a zoo name.{hint}")
        return VARIANTS[name](**kwargs)
    from keras_ae import zoo

    if name in zoo.list_models():
        return zoo.load(name, **kwargs) if pretrained else zoo.build(name, **kwargs)
    known = list(VARIANTS) + zoo.list_models()
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(
        f"Unknown variant {name!r}.{hint} Expected one of: {', '.join(list_variants())}, "
        "a zoo name from keras_ae.list_models(pretrained=True), or a preset folder ('./NAME') or URL "
        "(https://, file://, hf://user/repo)"
    ) from None


def list_models(pattern="*", pretrained=False):
    """Names `get_model` accepts, matching a shell-style `pattern`, sorted.

    With `pretrained=True`, only zoo entries (models with weights); otherwise
    the variants as well.
    """
    import fnmatch

    from keras_ae import zoo

    names = zoo.list_models() + ([] if pretrained else list(VARIANTS))
    return sorted(n for n in set(names) if fnmatch.fnmatch(n, pattern))
