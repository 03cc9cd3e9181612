"""Zoo entries stored as float16 (the colour entries, under the zoo's 90 MB budget): rounded, stored, loaded as measured."""

import os

import numpy as np
import pytest

from keras_ae import zoo
from model_check import small_model



def test_float16_weights_ship_half_the_bytes_and_load_as_measured(tmp_path, monkeypatch, x_small):
    # The colour entries store their weights as float16 (the zoo's 90 MB budget); the model is rounded
    # first, so the loaded model computes exactly what was measured.
    from keras_ae.zoo import writer

    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path))
    model = small_model("undercomplete")
    with pytest.raises(ValueError, match=r"not float16 values: call round_weights\(model, 'float16'\)"):
        zoo.save_entry("half.tiny", model, {"description": "test"}, directory=str(tmp_path), weights_dtype="float16")
    assert os.listdir(tmp_path) == []  # the refused write left nothing
    full = zoo.save_entry("full.tiny", model, {"description": "test"}, directory=str(tmp_path))
    writer.round_weights(model, "float16")
    half = zoo.save_entry("half.tiny", model, {"description": "test"}, directory=str(tmp_path),
                          weights_dtype="float16")
    assert half["weights"]["dtype"] == "float16" and "dtype" not in full["weights"]
    params = 4 * model.count_params()
    assert half["weights"]["size"] < full["weights"]["size"] - params * 0.45  # about 2 bytes a weight saved
    loaded = zoo.load("half.tiny")
    assert all(w.dtype == np.float32 for w in loaded.get_weights())
    np.testing.assert_array_equal(loaded.predict(x_small, verbose=0), model.predict(x_small, verbose=0))
    with pytest.raises(ValueError, match=r"stored as one of \('float32', 'float16'\). Received: 'int8'"):
        writer.round_weights(model, "int8")



def test_float16_entry_keeps_an_array_beyond_float16_range_as_float32(tmp_path, monkeypatch, x_small):
    # A batch norm's moving variance can pass 65504 (float16's largest value): that array stays float32
    # in the model and in the file, instead of becoming inf (the CelebA VAE's first save failed so).
    import h5py

    from keras_ae.zoo import writer

    monkeypatch.setenv(zoo.ENV_ZOO, str(tmp_path))
    model = small_model("undercomplete")
    weights = model.get_weights()
    big = int(np.argmax([w.size for w in weights]))
    weights[big] = weights[big].copy()
    weights[big].flat[0] = 1e6
    model.set_weights(weights)
    writer.round_weights(model, "float16")
    kept = model.get_weights()
    assert kept[big].flat[0] == 1e6 and np.isfinite(kept[big]).all()
    others = [w for i, w in enumerate(kept) if i != big and w.size]
    assert all(np.array_equal(w.astype("float16").astype("float32"), w) for w in others)
    record = zoo.save_entry("big.tiny", model, {"description": "test"}, directory=str(tmp_path),
                            weights_dtype="float16")
    with h5py.File(tmp_path / record["weights"]["file"], "r") as f:
        dtypes = []
        f.visititems(lambda _, item: dtypes.append(item.dtype) if isinstance(item, h5py.Dataset) else None)
    assert dtypes.count(np.dtype("float32")) == 1 and np.dtype("float16") in dtypes
    loaded = zoo.load("big.tiny")
    np.testing.assert_array_equal(loaded.predict(x_small, verbose=0), model.predict(x_small, verbose=0))
