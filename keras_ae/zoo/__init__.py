"""The pretrained zoo: list, describe and load autoencoders by name, offline.

Each entry is two files in the zoo folder: `NAME.json` (the model config and
honest metadata: data set, preprocessing, the command that retrains it, and
the metrics measured on the test set) and `NAME.<sha12>.weights.h5`, and
optionally `NAME.<sha12>.sampler.npz`: a density fitted to the
training codes (`keras_ae.samplers`; `load_sampler`), and
`NAME.<sha12>.attributes.npz`: attribute vectors in the code space, such
as the smile vector (`attributes`; `load_attributes`). Every weights or
sampler file is checked against the sha256 and size in its JSON before it is
read, and the JSON's signature binds the config to those files. An entry
can also carry Ed25519 key signatures (`keys`): with trusted public keys
(`trusted_keys=`, `$KERAS_AE_TRUSTED_KEYS`, or the project key for the
package's own zoo), an entry none of them signed is refused.

The zoo folder is the installed `keras_ae_zoo` package (the repository's
`zoo/` folder), or `$KERAS_AE_ZOO` when that is set.

The package has four parts: `manifest` (the format and its checks), `index`
(list, info, build, load), `writer` (`save_entry`) and the recipes
(`recipes`, a table of settings, trained by `train`). Importing it imports no
Keras; building or loading a model does.

Example:

```python
import keras_ae.zoo as zoo
zoo.list_models("vae*")
model = zoo.load("vae.mnist_z2")
```
"""

from keras_ae.zoo.index import (
    ENV_ZOO,
    _entry,
    _manifest_path,
    _manifests,
    build,
    check_entry,
    info,
    list_models,
    load,
    load_sampler,
    markdown_table,
    metric_definitions,
    model_class,
    presets_of,
    sampler_path,
    weights_path,
    zoo_dir,
)
from keras_ae.zoo.manifest import (
    ATTRIBUTES_SUFFIX,
    METRIC_DEFINITIONS,
    METRICS_FILE,
    SAMPLER_SUFFIX,
    WEIGHTS_SUFFIX,
    ZooError,
    check_signature as _check_signature,
    clear_cache,
    read_manifest as _read_json,
    sha256_of,
    signature,
    verify_file,
)
from keras_ae.zoo.keys import ENV_SIGNING_KEY, ENV_TRUSTED_KEYS, PROJECT_PUBLIC_KEY, generate_signing_key
from keras_ae.zoo.writer import save_entry, sign_manifest, write_metric_definitions
from keras_ae.zoo.attributes import load_attributes, save_attributes

__all__ = [
    "ATTRIBUTES_SUFFIX", "ENV_SIGNING_KEY", "ENV_TRUSTED_KEYS", "ENV_ZOO", "METRICS_FILE", "METRIC_DEFINITIONS",
    "PROJECT_PUBLIC_KEY", "SAMPLER_SUFFIX", "WEIGHTS_SUFFIX", "ZooError", "build", "check_entry", "clear_cache",
    "generate_signing_key", "info", "list_models", "load", "load_attributes", "load_sampler", "markdown_table",
    "metric_definitions", "model_class", "presets_of", "sampler_path", "save_attributes", "save_entry", "sha256_of",
    "sign_manifest", "signature", "verify_file", "weights_path", "write_metric_definitions", "zoo_dir",
]
