"""ReconstructionDetector on uint8 images: scaled to [0, 1] a chunk at a time (bounded memory), the same scores as
the float32 images."""

import numpy as np
import keras_ae
from keras_ae.anomaly import AnomalyDetector, reconstruction


def test_uint8_images_score_as_their_float32_copy_chunk_by_chunk(monkeypatch):
    model = keras_ae.UndercompleteAutoencoder(input_shape=(4, 4, 1), latent_dim=2)
    x = np.random.default_rng(0).integers(0, 256, (10, 4, 4, 1), dtype="uint8")
    floats = x.astype("float32") / 255.0
    monkeypatch.setattr(reconstruction, "UINT8_CHUNK", 3)  # 10 images: chunks of 3, 3, 3 and 1
    chunks = []
    real = reconstruction.ReconstructionDetector._raw_scores

    def spy(self, part):
        chunks.append((len(part), part.dtype.name))
        return real(self, part)

    monkeypatch.setattr(reconstruction.ReconstructionDetector, "_raw_scores", spy)
    detector = AnomalyDetector(model).fit(x)
    assert (10, "uint8") in chunks and [c for c in chunks if c[1] == "float32"] == \
        [(3, "float32"), (3, "float32"), (3, "float32"), (1, "float32")]
    np.testing.assert_allclose(detector.decision_function(x), detector.decision_function(floats), rtol=1e-6)
    np.testing.assert_array_equal(detector.predict(x), detector.predict(floats))


def test_uint8_data_of_a_model_without_the_unit_range_is_not_rescaled():
    model = keras_ae.UndercompleteAutoencoder(input_shape=(4,), latent_dim=2, output_activation="linear")
    assert model.input_range is None  # a table of counts, say: 255 means 255
    x = np.random.default_rng(0).integers(0, 256, (6, 4), dtype="uint8")
    detector = AnomalyDetector(model).fit(x)
    np.testing.assert_allclose(detector.decision_function(x), detector.decision_function(x.astype("float32")),
                               rtol=1e-6)
    assert not np.allclose(detector.decision_function(x), detector.decision_function(x / 255.0))
