"""pythae's side of the conv VAE pair: keras-ae's `ResNetVAE` rebuilt as PyTorch modules, trained by
pythae's `TrainingPipeline`. `benchmarks.conv_worker` runs it in its own process; no Keras is imported.

The layers mirror `keras_ae/models/resnet.py` (norm="batch", ReLU, transpose upsampling, one
`blocks_per_stage`): a 3x3 stem, per stage a stride-2 3x3 convolution and pre-activation residual
blocks, batch norm + ReLU, dense `z_mean` and `z_log_var`; the decoder a dense projection to the
smallest map, per stage the blocks, batch norm + ReLU and a 4x4 stride-2 transposed convolution, then
batch norm + ReLU and a 3x3 convolution to the channels with a sigmoid. What differs from keras-ae:

- Layout: NCHW (PyTorch's) against keras-ae's NHWC; the flattened map is ordered (C, H, W) instead of
  (H, W, C), a permutation of the dense weights only.
- Padding of the stride-2 convolutions: PyTorch pads one pixel on each side, Keras's "same" pads only
  the bottom and right one; same output sizes and FLOPs, the sampling grid shifted by one pixel.
- Initial weights: Keras's `glorot_uniform` and zero biases, drawn by PyTorch (`xavier_uniform_`
  computes the same fans for every kernel here), so the same distribution, not the same values.
- Batch norm: Keras's epsilon 1e-3 and momentum 0.99 (PyTorch's momentum=0.01).
- The loss: pythae's `VAE` offers a fixed-variance Gaussian ("mse") or Bernoulli decoder only, so
  `SigmaVAE` overrides its `loss_function` with keras-ae's Gaussian of a learned scale
  (`keras_ae.losses.gaussian_nll`: one trainable log sigma, bounded below by a softplus at
  `MIN_LOG_SCALE`) plus the same closed-form KL; pythae's trainer, data loader and optimizer are its own.
"""

import math
import tempfile

import numpy as np
import torch
from torch import nn

MIN_LOG_SCALE = -6.907755  # keras_ae.losses.MIN_LOG_SCALE (a test checks they agree)


def gaussian_nll(x, recon, log_scale):
    """Per-sample `-log N(x; recon, sigma^2 I)` summed over values: `keras_ae.losses.gaussian_nll` in PyTorch."""
    x, recon = x.reshape(len(x), -1), recon.reshape(len(recon), -1)
    log_scale = MIN_LOG_SCALE + nn.functional.softplus(log_scale - MIN_LOG_SCALE)
    sq = ((x - recon) ** 2).sum(-1)
    return 0.5 * sq * torch.exp(-2.0 * log_scale) + x.shape[-1] * (log_scale + 0.5 * math.log(2.0 * math.pi))


def _bn(channels):
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class Block(nn.Module):
    """Pre-activation residual block: `x + conv(relu(bn(conv(relu(bn(x))))))`."""

    def __init__(self, channels):
        super().__init__()
        self.bn_a, self.conv_a = _bn(channels), nn.Conv2d(channels, channels, 3, padding=1)
        self.bn_b, self.conv_b = _bn(channels), nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        h = self.conv_a(torch.relu(self.bn_a(x)))
        return x + self.conv_b(torch.relu(self.bn_b(h)))


def build_modules(input_shape, filters, latent_dim, blocks_per_stage=1):
    """`(encoder, decoder)` as pythae `BaseEncoder`/`BaseDecoder` modules for `(H, W, C)` images."""
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder

    h, w, c = input_shape
    step = 2 ** len(filters)
    if h % step or w % step:
        raise ValueError(f"benchmarks.conv_pythae mirrors unpadded ResNets only: H and W must divide by {step}. "
                         f"Received: input_shape={tuple(input_shape)}")
    map_shape = (filters[-1], h // step, w // step)

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            layers, prev = [nn.Conv2d(c, filters[0], 3, padding=1)], filters[0]
            for f in filters:
                layers.append(nn.Conv2d(prev, f, 3, stride=2, padding=1))
                layers += [Block(f) for _ in range(blocks_per_stage)]
                prev = f
            layers += [_bn(prev), nn.ReLU(), nn.Flatten()]
            self.trunk = nn.Sequential(*layers)
            self.mean, self.log_var = nn.Linear(math.prod(map_shape), latent_dim), \
                nn.Linear(math.prod(map_shape), latent_dim)

        def forward(self, x):
            t = self.trunk(x)
            return ModelOutput(embedding=self.mean(t), log_covariance=self.log_var(t))

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.project = nn.Linear(latent_dim, math.prod(map_shape))
            layers = []
            for s in reversed(range(len(filters))):
                layers += [Block(filters[s]) for _ in range(blocks_per_stage)]
                layers += [_bn(filters[s]), nn.ReLU(),
                           nn.ConvTranspose2d(filters[s], filters[max(s - 1, 0)], 4, stride=2, padding=1)]
            layers += [_bn(filters[0]), nn.ReLU(), nn.Conv2d(filters[0], c, 3, padding=1), nn.Sigmoid()]
            self.stages = nn.Sequential(*layers)

        def forward(self, z):
            return ModelOutput(reconstruction=self.stages(self.project(z).reshape((-1,) + map_shape)))

    encoder, decoder = Encoder(), Decoder()
    for module in (encoder, decoder):  # Keras's glorot_uniform kernels and zero biases
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
    return encoder, decoder


def sigma_vae(input_shape, filters, latent_dim, blocks_per_stage=1):
    """A pythae `VAE` of the mirrored modules whose loss is keras-ae's Gaussian with a learned scale."""
    from pythae.models import VAE, VAEConfig

    class SigmaVAE(VAE):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.log_scale = nn.Parameter(torch.zeros(()))  # keras-ae's log_scale starts at 0 too

        def loss_function(self, recon_x, x, mu, log_var, z):
            rec = gaussian_nll(x, recon_x, self.log_scale)
            kld = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp(), dim=-1)
            return (rec + kld).mean(dim=0), rec.mean(dim=0), kld.mean(dim=0)

    h, w, c = input_shape
    encoder, decoder = build_modules(input_shape, filters, latent_dim, blocks_per_stage)
    return SigmaVAE(VAEConfig(input_dim=(c, h, w), latent_dim=latent_dim, reconstruction_loss="mse"),
                    encoder=encoder, decoder=decoder)


def neg_elbo(model, x_nchw, seed=0, batch_size=256):
    """Mean one-sample -ELBO of `x_nchw` (fixed seed, batch norm in inference mode), in nats per image."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(x_nchw), batch_size):
            x = torch.from_numpy(x_nchw[i:i + batch_size])
            enc = model.encoder(x)
            mean, log_var = enc.embedding, enc.log_covariance
            z = mean + torch.exp(0.5 * log_var) * torch.randn(mean.shape, generator=gen)
            rec = gaussian_nll(x, model.decoder(z).reconstruction, model.log_scale)
            kl = -0.5 * (1 + log_var - mean ** 2 - log_var.exp()).sum(1)
            total += float((rec + kl).sum())
    return total / len(x_nchw)


def run_pythae(spec, x, xt):
    """Train one epoch with pythae's `TrainingPipeline` on NHWC `x`: samples/s over the steps after
    `spec["warmup_steps"]` (`benchmarks.step_clock.StepClock`), test -ELBO on `xt`, versions."""
    from importlib import metadata

    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig
    from pythae.trainers.training_callbacks import TrainingCallback

    from benchmarks.step_clock import StepClock

    arch, seed = spec["arch"], spec["seed"]
    torch.manual_seed(seed)
    model = sigma_vae(arch["input_shape"], arch["filters"], arch["latent_dim"], arch.get("blocks_per_stage", 1))
    x_nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    xt_nchw = np.ascontiguousarray(xt.transpose(0, 3, 1, 2))

    clock = StepClock(spec["warmup_steps"], len(x) // spec["batch_size"])

    class Clock(TrainingCallback):  # pythae's trainer reads each step's loss with .item(): already in sync
        def on_train_step_end(self, training_config, **kwargs):
            clock.step_end()

    with tempfile.TemporaryDirectory() as out:
        config = BaseTrainerConfig(output_dir=out, learning_rate=spec["lr"],
                                   per_device_train_batch_size=spec["batch_size"],
                                   per_device_eval_batch_size=spec["batch_size"], num_epochs=1,
                                   optimizer_cls="Adam", steps_saving=None, no_cuda=True, seed=seed)
        TrainingPipeline(training_config=config, model=model)(train_data=x_nchw, eval_data=None,
                                                              callbacks=[Clock()])
    return {"samples_per_s": clock.rate(spec["batch_size"]), "test_neg_elbo": neg_elbo(model, xt_nchw),
            "decoder_scale": float(torch.exp(MIN_LOG_SCALE + nn.functional.softplus(
                model.log_scale.detach() - MIN_LOG_SCALE))),
            "versions": {"pythae": metadata.version("pythae"), "torch": torch.__version__,
                         "torch_threads": torch.get_num_threads()}}
