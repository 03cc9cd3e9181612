"""The speed part of `python -m benchmarks.fid_check --speed`: keras_ae.fid's Fréchet distance against
pytorch-fid's (scipy's sqrtm), and the Inception features' throughput in a few settings.

Also used by tests/test_fid.py (`frechet_distance_sqrtm`, `feature_like_statistics`) as the reference
the eigenvalue route is checked against. See benchmarks/fid_check.py's docstring, part 5.
"""

import os
import time

import numpy as np

from keras_ae import fid


def frechet_distance_sqrtm(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid's `calculate_frechet_distance` (scipy's sqrtm, eps on failure), the route keras_ae.fid replaced."""
    import scipy
    from scipy import linalg

    def sqrtm(a):  # SciPy < 1.16 prints a warning unless disp=False; later versions deprecate the argument
        old = tuple(int(p) for p in scipy.__version__.split(".")[:2]) < (1, 16)
        return linalg.sqrtm(a, disp=False)[0] if old else linalg.sqrtm(a)

    covmean = sqrtm(sigma1 @ sigma2)
    if not np.all(np.isfinite(covmean)):
        offset = np.eye(len(mu1)) * eps
        covmean = sqrtm((sigma1 + offset) @ (sigma2 + offset))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean).real)


def feature_like_statistics(seed, d, n):
    """Mean and covariance of n nonnegative, correlated d-dimensional features (singular for n <= d)."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) / np.sqrt(d) * np.arange(1, d + 1)[:, None] ** -0.5  # a decaying spectrum
    feats = np.abs(rng.normal(size=(n, d)) @ mix + 0.3)
    return feats.mean(axis=0), np.cov(feats, rowvar=False)


def frechet_speed(d=fid.FEATURES):
    import warnings

    for n1, n2, what in ((2100, 2200, "full rank"), (1000, 1000, "singular: 1,000 images each")):
        (mu1, s1), (mu2, s2) = feature_like_statistics(0, d, n1), feature_like_statistics(1, d, n2)
        start = time.perf_counter()
        ours = fid.frechet_distance(mu1, s1, mu2, s2)
        middle = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SciPy's warnings on a singular product
            theirs = frechet_distance_sqrtm(mu1, s1, mu2, s2)
        end = time.perf_counter()
        print(f"frechet {d}-d ({what}): eigenvalues {middle - start:.1f} s, sqrtm {end - middle:.1f} s: "
              f"{(end - middle) / (middle - start):.1f}x faster; relative difference {abs(ours - theirs) / theirs:.1e} "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)


def feature_speed(images):
    """Images per second of `fid.inception_features` in a few settings, as ratios to the default."""
    import torch

    model = fid._load_model()

    def channels_last(x, batch_size):  # inception_features's loop for uint8 images, the batch in channels_last
        assert x.dtype == np.uint8, x.dtype
        n, h, w, channels = x.shape
        rows, cols = torch.from_numpy(fid.resize_weights(h)), torch.from_numpy(fid.resize_weights(w).T.copy())
        out = np.empty((n, fid.FEATURES))
        with torch.inference_mode():
            for start in range(0, n, batch_size):
                batch = torch.from_numpy(np.asarray(x[start:start + batch_size], "float32")).permute(0, 3, 1, 2)
                batch = ((rows @ batch @ cols) - 128.0) / 128.0
                batch = batch.expand(-1, 3, -1, -1) if channels == 1 else batch
                out[start:start + len(batch)] = model(batch.contiguous(memory_format=torch.channels_last)).numpy()
        return out

    settings = [("batch_size=50 (default)", lambda x: fid.inception_features(x, batch_size=50)),
                ("batch_size=25", lambda x: fid.inception_features(x, batch_size=25)),
                ("batch_size=100", lambda x: fid.inception_features(x, batch_size=100)),
                ("channels_last, batch_size=50", lambda x: channels_last(x, 50)),
                ("batch_size=50 (default) again", lambda x: fid.inception_features(x, batch_size=50))]
    print(f"features: {len(images)} images {images.shape[1:]} per setting, torch {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cores", flush=True)
    fid.inception_features(images[:2], batch_size=2)  # the TorchScript executor profiles its first calls
    channels_last(images[:2], 2)
    # Wall time is what a user waits; the CPU time of this process is steadier on a shared machine.
    reference, default = None, None
    for name, run in settings:
        wall, cpu = time.perf_counter(), time.process_time()
        feats = run(images)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        reference = feats if reference is None else reference
        default = default or (wall, cpu)
        print(f"  {name:30s} {len(images) / wall:5.2f} images/s ({default[0] / wall:.2f}x the default), "
              f"{cpu / len(images):.3f} CPU s/image ({default[1] / cpu:.2f}x); max |features - default| = "
              f"{np.abs(feats - reference).max():.1e}; peak memory {_peak_mb():.0f} MB (load average "
              f"{os.getloadavg()[0]:.1f})", flush=True)


def _peak_mb():
    try:
        with open("/proc/self/status") as f:  # Linux: the peak resident size of this process so far
            return next((int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM")), float("nan"))
    except OSError:
        return float("nan")
