"""The `--faces` part: does the face VAE's shipped smile vector make faces smile? (issue 38, item 1)

    python -m benchmarks --faces            # about 10 minutes here: a classifier, then 3,000 test faces

The course's smile vector (lecture notes 001) is the mean code of smiling faces minus that of the others.
`resnet_vae.celeba64_z128` ships it (`keras_ae.zoo.load_attributes`), computed on the 27,000 training faces.
This part measures it with a judge that never saw the vector:

1. A small convolutional smile classifier (`smile_classifier`) is trained on the training faces (images
   1-27000): 90% to fit, 10% to choose the epoch (early stopping on that part's accuracy). Its accuracy on
   the 3,000 test faces (27001-30000) is reported, on the faces and on the VAE's reconstructions of them.
2. The non-smiling test faces are encoded (posterior mean), `alpha` times the vector is added, and the
   result decoded; the share of them the classifier reads as smiling is reported for each `alpha`. The
   share for the faces themselves and for their reconstructions (`alpha = 0`) is the false-positive rate
   before. The course adds the vector once: `alpha = 1` is the figure the target reads.

CelebA is for non-commercial research and education only.
"""

import time

import numpy as np

FACE_ENTRY = "resnet_vae.celeba64_z128"
ALPHAS = (0.5, 1.0, 1.5, 2.0)
TARGET = 0.80  # the share of non-smiling test faces read as smiling after adding the vector (alpha = 1)
EPOCHS = 12
QUICK = {"n_train": 400, "n_test": 100, "epochs": 1}


def smile_classifier(seed=0):
    """A small CNN for one attribute of 64x64 RGB uint8 faces: four stride-2 conv + batch-norm stages, then
    global average pooling and a sigmoid. Flipped left-right at random while training."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((64, 64, 3))
    h = keras.layers.RandomFlip("horizontal", seed=seed)(inputs)
    h = keras.layers.Rescaling(1 / 255.0)(h)
    for filters in (32, 64, 128, 128):
        h = keras.layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False)(h)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.ReLU()(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Dropout(0.3, seed=seed)(h)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h), name="smile_classifier")
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy", metrics=["accuracy"])
    return model


def to_uint8(x):
    return np.clip(np.round(np.asarray(x, "float32") * 255.0), 0, 255).astype("uint8")


def reads_smiling(classifier, images):
    return classifier.predict(images, batch_size=250, verbose=0)[:, 0] > 0.5


def run_faces(log, quick=False, attribute="Smiling"):
    import keras

    from benchmarks.images import _shared_fallback, data_record
    from keras_ae import zoo
    from keras_ae.data import DATASETS, load_celeba
    from keras_ae.zoo.recipe_sampler import encode_images

    start = time.time()
    with _shared_fallback("celeba"):
        ((x_train, a_train), (x_test, a_test)), source = load_celeba(attributes=[attribute], dtype="uint8",
                                                                     return_source=True)
    info = DATASETS["celeba"]
    s_train, s_test = a_train[attribute], a_test[attribute]
    if quick:
        x_train, s_train = x_train[:QUICK["n_train"]], s_train[:QUICK["n_train"]]
        x_test, s_test = x_test[:QUICK["n_test"]], s_test[:QUICK["n_test"]]
    log(f"faces: {len(x_train)} training, {len(x_test)} test; {s_test.mean():.3f} of the test faces smile")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x_train))
    n_val = len(order) // 10
    val, fit = order[:n_val], order[n_val:]
    classifier = smile_classifier()
    epochs = QUICK["epochs"] if quick else EPOCHS
    history = classifier.fit(
        x_train[fit], s_train[fit].astype("float32"), validation_data=(x_train[val], s_train[val].astype("float32")),
        epochs=epochs, batch_size=128, verbose=2,
        callbacks=[keras.callbacks.EarlyStopping("val_accuracy", patience=3, restore_best_weights=True)])
    best_epoch = int(np.argmax(history.history["val_accuracy"])) + 1
    vae = zoo.load(FACE_ENTRY)
    vector = zoo.load_attributes(FACE_ENTRY)[attribute]
    codes = encode_images(vae, x_test).reshape(len(x_test), -1)
    recon = to_uint8(vae.decode(codes, batch_size=250))
    read_faces, read_recon = reads_smiling(classifier, x_test), reads_smiling(classifier, recon)
    non = ~s_test
    rows = {"faces": float(read_faces[non].mean()), "reconstructions (alpha = 0)": float(read_recon[non].mean())}
    for alpha in ALPHAS:
        edited = to_uint8(vae.decode(codes[non] + alpha * vector, batch_size=250))
        rows[f"alpha = {alpha:g}"] = float(reads_smiling(classifier, edited).mean())
        log(f"alpha {alpha:g}: {rows[f'alpha = {alpha:g}']:.3f} of the non-smiling test faces read as smiling")
    # And the other way: the smiling faces with the vector taken away.
    removed = to_uint8(vae.decode(codes[s_test] - vector, batch_size=250))
    return {"entry": FACE_ENTRY, "attribute": attribute, "data": data_record("celeba", source, info, len(x_train),
                                                                             len(x_test)),
            "classifier": {"epochs_run": len(history.history["val_accuracy"]), "best_epoch": best_epoch,
                           "val_accuracy": float(max(history.history["val_accuracy"])),
                           "test_accuracy": float((read_faces == s_test).mean()),
                           "test_accuracy_reconstructions": float((read_recon == s_test).mean())},
            "non_smiling": int(non.sum()), "smiling": int(s_test.sum()), "read_smiling": rows,
            "smiling_read_smiling_after_subtracting": float(reads_smiling(classifier, removed).mean()),
            "smiling_read_smiling_reconstructions": float(read_recon[s_test].mean()),
            "target": TARGET, "seconds": time.time() - start}

