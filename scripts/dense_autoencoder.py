"""The course's dense autoencoder: 784-500-300-150-100-64 and back, MSE, 10 epochs.

Mirrors the course's "Sample code" for the basic autoencoder. As in the course, every
layer uses ReLU, the output too, and the loss is MSE.

    python scripts/dense_autoencoder.py [--quick] [--out DIR] [--pretrained]
"""

# %%
import keras_ae  # before Keras: it holds back TensorFlow's C++ start-up lines
import keras

from keras_ae.course import epochs, load_data, parser, save, show_reconstructions
from keras_ae.plotting import training_curves

args = parser(__doc__, pretrained="undercomplete.mnist_z20 (784-512-256-128-20)").parse_args()
(x_train, _), (x_test, y_test) = load_data(args)


# %% [markdown]
# ## The model

# %%
if args.pretrained:
    model = keras_ae.zoo.load("undercomplete.mnist_z20")
else:
    model = keras_ae.UndercompleteAutoencoder(hidden_units=(500, 300, 150, 100), latent_dim=64,
                                              activation="relu", latent_activation="relu",
                                              output_activation="relu")
    model.compile(optimizer="adam", loss=keras.losses.MeanSquaredError())
    model.summary()

    ## Training, as in the course: 10 epochs, shuffled, validated on the test set
    history = model.fit(x_train, x_train, epochs=epochs(args, 10), shuffle=True,
                        validation_data=(x_test, x_test))
    save(training_curves(history, title="Dense autoencoder"), args, "training_curves.png")


# %% [markdown]
# ## Reconstructions

# %%
show_reconstructions(model, x_test, y_test, args, "Dense autoencoder")
