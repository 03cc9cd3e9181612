"""One timed training of the dense VAE 784-400-20, by pythae or by keras-ae; `benchmarks.speed` pairs them.

    python -m benchmarks.peer_worker pythae OUT.json DATA.npz EPOCHS [SEED]
    KERAS_BACKEND=jax python -m benchmarks.peer_worker keras_ae OUT.json DATA.npz EPOCHS [SEED]

Both train the same model on the same images: 784-400-20 with ReLU, a
sigmoid output, BCE summed over pixels plus the Gaussian KL, Adam 1e-3,
batch 128, on the MNIST training images in [0, 1]. The time is the whole
training call (pythae's `TrainingPipeline`, including its set-up and the
final save of the model it always makes; keras-ae's `fit` on the arrays,
compilation included). SEED (default 0) seeds the initial weights, the
batch order and the noise; the test -ELBO is a one-sample estimate on the
test images with a fixed seed. pythae is a benchmark-only dependency
(`pip install -e ".[bench]"`).
"""

import json
import os
import sys
import tempfile
import time

import numpy as np

BATCH, LR, HIDDEN, LATENT = 128, 1e-3, 400, 20


def run_pythae(x, xt, epochs, seed=0):
    import torch
    from pythae.models import VAE, VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig
    from torch import nn

    torch.manual_seed(seed)

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.hidden, self.mean, self.log_var = nn.Linear(784, HIDDEN), nn.Linear(HIDDEN, LATENT), \
                nn.Linear(HIDDEN, LATENT)

        def forward(self, x):
            h = torch.relu(self.hidden(x.reshape(len(x), -1)))
            return ModelOutput(embedding=self.mean(h), log_covariance=self.log_var(h))

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = nn.Linear(LATENT, HIDDEN), nn.Linear(HIDDEN, 784)

        def forward(self, z):
            return ModelOutput(reconstruction=torch.sigmoid(self.out(torch.relu(self.hidden(z)))))

    model = VAE(VAEConfig(input_dim=(784,), latent_dim=LATENT, reconstruction_loss="bce"),
                encoder=Encoder(), decoder=Decoder())
    with tempfile.TemporaryDirectory() as out:
        config = BaseTrainerConfig(output_dir=out, learning_rate=LR, per_device_train_batch_size=BATCH,
                                   per_device_eval_batch_size=BATCH, num_epochs=epochs, optimizer_cls="Adam",
                                   steps_saving=None, no_cuda=True,
                                   # pythae's trainer reseeds torch with this (default 8) before training:
                                   # without it every pair shared one batch order and one noise stream.
                                   seed=seed)
        pipeline = TrainingPipeline(training_config=config, model=model)
        start = time.perf_counter()
        pipeline(train_data=x, eval_data=None)
        seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        torch.manual_seed(0)
        xt_t = torch.from_numpy(xt)
        enc = model.encoder(xt_t)
        mean, log_var = enc.embedding, enc.log_covariance
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        rec = model.decoder(z).reconstruction.clamp(1e-7, 1 - 1e-7)
        bce = -(xt_t * torch.log(rec) + (1 - xt_t) * torch.log(1 - rec)).sum(1)
        kl = -0.5 * (1 + log_var - mean ** 2 - log_var.exp()).sum(1)
        neg_elbo = float((bce + kl).mean())
    from importlib import metadata

    return seconds, neg_elbo, {"pythae": metadata.version("pythae"), "torch": torch.__version__,
                               "torch_threads": torch.get_num_threads()}


def run_keras_ae(x, xt, epochs, seed=0):
    import keras

    import keras_ae

    keras.utils.set_random_seed(seed)
    model = keras_ae.VAE(hidden_units=(HIDDEN,), latent_dim=LATENT, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(LR))
    start = time.perf_counter()
    model.fit(x, batch_size=BATCH, epochs=epochs, verbose=0, shuffle=True)
    seconds = time.perf_counter() - start
    neg_elbo = float(-np.mean(model.elbo(xt, num_samples=1, seed=0)))
    return seconds, neg_elbo, {"keras": keras.__version__, "backend": keras.backend.backend()}


def main(kind, out, data, epochs, seed=0):
    with np.load(data) as d:
        x, xt = d["x_train"], d["x_test"]
    seconds, neg_elbo, versions = (run_pythae if kind == "pythae" else run_keras_ae)(x, xt, epochs, seed)
    result = {"kind": kind, "epochs": epochs, "seed": seed, "images": int(len(x)), "seconds": seconds,
              "samples_per_s": len(x) * epochs / seconds, "test_neg_elbo": neg_elbo, "versions": versions}
    with open(out + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 0)
