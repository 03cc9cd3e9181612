"""The `--vq` part: the shipped VQ-VAE entries on their data sets' whole test splits (issue 39).

    python -m benchmarks --vq              # reconstruction, codebook use, the prior's NLL (MNIST: 52 s here)
    python -m benchmarks --vq --vq-fid     # and FID of 10,000 prior samples (MNIST: 20 min here, TF)
    python -m benchmarks --vq --vq-fid --vq-temperatures 1,0.8,0.6   # the best of several temperatures

For each shipped `VQVAE` entry (`vqvae.*`), on its data set's test split:

1. **Reconstruction at equal code bits.** Squared error per image (summed over the pixels in [0, 1])
   and PSNR (`keras_ae.zoo.vq.measure_vq`), beside the continuous conv AE of `EQUAL_BITS`, whose code
   has about as many bits (its code values as float32: 32 bits each). Code bits of the VQ-VAE: grid
   positions x log2 K. Target: the VQ-VAE's squared error ≤ the AE's.
2. **The codebook.** The fraction of the K codes some test position takes (target ≥ 90%), and the
   perplexity of their shares.
3. **The prior.** Its negative log-likelihood of the test images' code grids, in bits per code (log2 K
   for a uniform guess).
4. With `--vq-fid`: FID of `--fid-samples` prior samples against the test split, with the machinery and
   the cached reference statistics of `--images` (`benchmarks.images`). RESULTS sets it beside the conv
   VAE's FID with its best sampler from the `images` part, when that part has it at the same counts.
   On MNIST, 10,000 samples took 7 minutes to draw (the prior draws one grid position at a time) and 13
   for their Inception features (TF, 2 cores). `--vq-temperatures` ranks several sampling temperatures
   on `SWEEP_SAMPLES` draws each, then measures the best on `--fid-samples`.
"""

import time

from benchmarks.images import (FID_SEED, INCEPTION, as_float, data_digest, data_record, default_cache_dir,
                               feature_statistics, load_data, reference_statistics, to_uint8)

# Each VQ-VAE entry's continuous comparison: the shipped conv AE whose code has about as many bits.
# vqvae.mnist_14x14_k32: 14 x 14 positions x log2(32) = 5 bits each = 980 bits; convolutional.mnist_z32's
# code is 32 float32 values = 1,024 bits, 44 bits (4%) more than the VQ-VAE's: the nearest shipped code.
EQUAL_BITS = {"vqvae.mnist_14x14_k32": "convolutional.mnist_z32",  # 14 x 14 x 5 = 980 bits; 32 x 32 = 1,024
              "vqvae.cifar10_16x16_k256": "resnet.cifar10_z64"}  # 16 x 16 x 8 = 2,048 bits; 64 x 32 = 2,048
FLOAT_BITS = 32  # a continuous code's value as stored and decoded: float32
QUICK = {"n_test": 200, "fid_samples": 50}  # --quick: checks the harness only
SWEEP_SAMPLES = 2000  # --vq-temperatures: draws per temperature when ranking several


def vq_entries():
    """The shipped zoo entries whose model is a `VQVAE`, by name."""
    from keras_ae import zoo
    from keras_ae.models.vqvae import VQVAE

    return sorted(n for n in zoo.list_models() if issubclass(zoo.model_class(n), VQVAE))


def _weights(name):
    from keras_ae import zoo

    return zoo.info(name)["weights"]["sha256"][:12]


def _images(x, model):
    """uint8 or float images in `model`'s sample shape, float32 in [0, 1]."""
    x = as_float(x)
    return x.reshape((len(x),) + tuple(model.sample_shape))


def measure_equal_bits(name, x_test, log):
    """The comparison AE of VQ entry `name` on `x_test`: entry, code bits, squared error, PSNR; None if `name`
    has none in `EQUAL_BITS` or it is not shipped."""
    from keras_ae import zoo
    from keras_ae.zoo.images import measure_images

    ae_name = EQUAL_BITS.get(name)
    if ae_name is None or ae_name not in zoo.list_models():
        log(f"{name}: no equal-bits conv AE shipped ({ae_name or 'none in EQUAL_BITS'})")
        return None if ae_name is None else {"entry": ae_name, "trained": False}
    ae = zoo.load(ae_name)
    m = measure_images(ae, None, _images(x_test, ae), pca=False)
    return {"entry": ae_name, "trained": True, "weights": _weights(ae_name), "code_size": int(ae.code_size),
            "code_bits": float(ae.code_size * FLOAT_BITS), "squared_error": m["squared_error"],
            "psnr_db": m["psnr_db"]}


def measure_prior_fid(name, model, dataset, x_test, digest, n_samples, cache_dir, features, log,
                      temperatures=(1.0,), sweep_samples=SWEEP_SAMPLES):
    """FID of `n_samples` images drawn from `model`'s attached prior (seed `FID_SEED`) against the whole of
    `x_test` (uint8 as loaded, as `--images` passes it); the reference statistics come from (or go to) the
    `--images` cache under the same key.

    With several `temperatures`, each is first measured on `sweep_samples` draws (the record's `sweep`),
    and the one with the lowest FID there is then measured on `n_samples`: the record's `prior`, at its
    `temperature`. FID of fewer samples is biased upward, so the sweep only ranks the temperatures."""
    from keras_ae import fid

    count = len(x_test)
    key = f"{dataset}.test-first{count}.{digest[:16]}"  # benchmarks.images.measure_fid's key: one cache
    mu_ref, sigma_ref, cached = reference_statistics(x_test, key, cache_dir, features, log)
    start = time.time()

    def one(n, temperature):
        log(f"{name}: {n:,} samples from the prior at temperature {temperature:g}")
        x = to_uint8(model.sample(n, temperature=temperature, seed=FID_SEED)).reshape(
            (n,) + tuple(x_test.shape[1:]))
        mu, sigma = feature_statistics(x, features, log, f"{name} prior samples (temperature {temperature:g})")
        value = round(fid.frechet_distance(mu, sigma, mu_ref, sigma_ref), 3)
        log(f"{name}: FID {value:.2f} of {n:,} samples at temperature {temperature:g} against the {count:,} "
            "test images")
        return value

    temperatures = [float(t) for t in temperatures]
    sweep = []
    if len(temperatures) > 1:
        n = min(sweep_samples, n_samples)
        sweep = [{"temperature": t, "samples": int(n), "prior": one(n, t)} for t in temperatures]
        best = min(sweep, key=lambda r: r["prior"])["temperature"]
    else:
        best = temperatures[0]
    return {"samples": int(n_samples), "seed": FID_SEED, "features": features.name, "reference": "test",
            "reference_count": int(count), "cached": cached, "temperature": best,
            "prior": one(n_samples, best), "sweep": sweep, "seconds": round(time.time() - start, 1)}


def run_vq(log, quick=False, fid=False, fid_samples=10000, cache_dir=None, features=INCEPTION, load=load_data,
           temperatures=(1.0,), sweep_samples=SWEEP_SAMPLES):
    """results.json's `vq` part: `{"entries": [...]}`, one record per shipped VQ-VAE entry.

    `load(dataset)` gives `(x_train, x_test, source, info)` (default: `benchmarks.images.load_data`);
    `quick` measures the first `QUICK["n_test"]` test images; `fid` adds FID of prior samples, at each of
    `temperatures` (`measure_prior_fid`).
    """
    from keras_ae import zoo
    from keras_ae.zoo.index import entry_dataset
    from keras_ae.zoo.vq import measure_vq

    cache_dir = cache_dir or default_cache_dir()
    if quick:
        fid_samples = min(fid_samples, QUICK["fid_samples"])
        sweep_samples = min(sweep_samples, QUICK["fid_samples"])
    names = vq_entries()
    if not names:
        log("vq: the zoo ships no VQ-VAE entry")
    out, data = [], {}
    for name in names:
        dataset = entry_dataset(zoo.info(name))[0]
        if dataset not in data:
            x_train, x_test, source, info = load(dataset)
            if quick:
                x_test = x_test[:QUICK["n_test"]]
            data[dataset] = (x_test, data_record(dataset, source, info, len(x_train), len(x_test)))
        x_test, record = data[dataset]
        start = time.time()
        model = zoo.load(name)  # a shipped code prior becomes model.prior
        x = _images(x_test, model)
        log(f"{name}: {len(x):,} test images of {record['title']}")
        row = {"entry": name, "dataset": dataset, "data": record, "weights": _weights(name),
               "grid": [int(s) for s in model.code_shape], "num_codes": int(model.num_codes),
               **measure_vq(model, x), "has_prior": model.prior is not None}
        row["equal_bits"] = measure_equal_bits(name, x_test, log)
        if fid and model.prior is not None:
            row["fid"] = measure_prior_fid(name, model, dataset, x_test, data_digest(record["source"]),
                                           fid_samples, cache_dir, features, log, temperatures=temperatures,
                                           sweep_samples=sweep_samples)
        row["seconds"] = round(time.time() - start, 1)
        log(f"{name}: {row}")
        out.append(row)
    return {"entries": out}
