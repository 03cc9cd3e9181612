"""Why the zoo's contractive autoencoder has a linear code: training loss per epoch by code activation.

    KERAS_AE_MNIST=/path/to/mnist.npz python -m benchmarks.contractive_code [--epochs 4] [--n 20000]

Trains ContractiveAutoencoder 784-256-128-32 (lambda 1e-4, BCE, Adam 2e-3,
batch 256) with a sigmoid, tanh and linear code, and an undercomplete model of
the same shape without the penalty, on the first `n` training images, and
prints the loss and the contractive penalty of every epoch.
"""

import argparse

import keras

import keras_ae
from keras_ae.datasets import load_mnist, training_dataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--n", type=int, default=20000, help="training images used")
    args = parser.parse_args(argv)
    (x, _), _ = load_mnist()
    x = x[:args.n]
    shape = dict(hidden_units=(256, 128), latent_dim=32, reconstruction_loss="bce")
    models = {f"contractive, {act} code": lambda act=act: keras_ae.ContractiveAutoencoder(
        lam=1e-4, latent_activation=act, **shape) for act in ("sigmoid", "tanh", "linear")}
    models["undercomplete, linear code, no penalty"] = lambda: keras_ae.UndercompleteAutoencoder(**shape)
    for name, build in models.items():
        keras.utils.set_random_seed(0)
        model = build()
        model.compile(optimizer=keras.optimizers.Adam(2e-3))
        h = model.fit(training_dataset(x, 256, seed=0), epochs=args.epochs, verbose=0, shuffle=False).history
        penalty = " ".join(f"{v:.2g}" for v in h.get("contractive_loss", []))
        print(f"{name:40s} loss per epoch: {' '.join(f'{v:.4f}' for v in h['loss'])}"
              + (f"   penalty: {penalty}" if penalty else ""), flush=True)


if __name__ == "__main__":
    main()
