"""How much memory `load_celeba` needs: the peak resident memory of a fresh process against the images' size.

    python -m benchmarks.data_memory --celeba /path/to/celeba_hq_64.zip
    python -m benchmarks.data_memory --synthetic [--n 3000]

The loader keeps the faces uint8 and decodes each JPEG straight into its row of one preallocated array,
so loading should cost little more than the array itself: the target is a peak under 1.6x `x.nbytes`.

Each measurement runs in a fresh subprocess (`--worker PATH`), which imports everything the loader needs
(keras_ae.data brings Keras along), reads its resident memory then (VmRSS: the baseline), loads with
`dtype="uint8"`, and reports the peak resident memory (VmHWM, reset after the imports where Linux allows;
else `ru_maxrss`) minus that baseline against the images' `nbytes`. Without the reset the peak also covers
the imports, so the figure can only err on the high side.
`--synthetic` builds a zip of noise faces in the CelebA layout in a temporary folder and measures that.
The exit status is 1 when the ratio misses the target.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TARGET = 1.6


def _status(field):
    """A field of Linux's /proc/self/status, in bytes; None where there is no such file."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _rss_now():
    """This process's resident memory now, in bytes (Linux's /proc; else the peak so far)."""
    now = _status("VmRSS")
    return _peak() if now is None else now


def _reset_peak():
    """Start the peak count afresh (Linux: writing 5 to clear_refs resets VmHWM); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak():
    """The peak resident memory of this process image, in bytes.

    Linux's VmHWM belongs to this process image. `ru_maxrss` does not: it survives `exec`, so a worker
    started from a large process (pytest late in a long run) would report its parent's peak.
    """
    peak = _status("VmHWM")
    if peak is not None:
        return peak
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def worker(path, split):
    """Load `path` once, in this (fresh) process; print the figures as one JSON line."""
    import PIL.Image
    import PIL.JpegImagePlugin  # noqa: F401  (the decoder is loaded before the baseline)

    from keras_ae.data import celeba

    PIL.Image.init()
    _reset_peak()  # the imports' own peak is not the loader's
    baseline, peak_before = _rss_now(), _peak()
    start = time.perf_counter()
    out = celeba.load_celeba(path=path, dtype="uint8", split=split)
    seconds = time.perf_counter() - start
    pairs = [out] if split != "both" else [pair for pair in out if pair is not None]
    nbytes = sum(x.nbytes for x, _ in pairs)
    peak = _peak()
    print(json.dumps(dict(images=sum(len(x) for x, _ in pairs), nbytes=nbytes, baseline_rss=baseline,
                          peak_before_load=peak_before, peak_rss=peak, seconds=seconds,
                          ratio=(peak - baseline) / nbytes)))


def measure(path, split="both"):
    """Run `worker` in a fresh Python; return its figures."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-m", "benchmarks.data_memory", "--worker", path, "--split", split],
                          capture_output=True, text=True, cwd=root, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"the worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def synthetic_celeba(folder, n):
    """A zip in the CelebA layout: `n` noise faces (9 in 10 numbered as training images) and their attributes."""
    import io
    import zipfile

    import numpy as np
    from PIL import Image

    from keras_ae.data.celeba import CELEBA_ATTRIBUTES

    rng = np.random.default_rng(0)
    n_train = n * 9 // 10
    numbers = list(range(1, n_train + 1)) + list(range(27001, 27001 + n - n_train))
    lines = [str(n), " ".join(CELEBA_ATTRIBUTES)]
    path = os.path.join(folder, "celeba_synthetic.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for number in numbers:
            buffer = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype="uint8")).save(buffer, "JPEG", quality=75)
            z.writestr(f"images/{number}.jpg", buffer.getvalue())
            lines.append(f"{number}.jpg  " + " ".join(rng.choice(["1", "-1"], len(CELEBA_ATTRIBUTES))))
        z.writestr("CelebAMask-HQ-attribute-anno.txt", "\n".join(lines) + "\n")
    return path


def report(what, r):
    mb = 1 / 1e6
    verdict = "within" if r["ratio"] < TARGET else "OVER"
    return (f"{what}: {r['images']} images in {r['seconds']:.1f} s; x.nbytes {r['nbytes'] * mb:.1f} MB; peak RSS "
            f"{r['peak_rss'] * mb:.1f} MB - baseline {r['baseline_rss'] * mb:.1f} MB = "
            f"{(r['peak_rss'] - r['baseline_rss']) * mb:.1f} MB; ratio {r['ratio']:.2f} ({verdict} the target "
            f"{TARGET})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--celeba", help="a CelebA folder or zip to measure")
    parser.add_argument("--synthetic", action="store_true", help="measure a generated CelebA-layout zip")
    parser.add_argument("--n", type=int, default=3000, help="faces in the synthetic zip")
    parser.add_argument("--split", default="both", choices=("both", "train", "test"))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.split)
        return 0
    if not args.celeba and not args.synthetic:
        parser.error("choose --celeba PATH and/or --synthetic")
    results = {}
    if args.celeba:
        results["celeba"] = measure(args.celeba, args.split)
        print(report(f"CelebA ({os.path.basename(args.celeba)})", results["celeba"]), flush=True)
    if args.synthetic:
        with tempfile.TemporaryDirectory() as folder:
            results["synthetic"] = measure(synthetic_celeba(folder, args.n), args.split)
        print(report("synthetic CelebA-layout zip", results["synthetic"]), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if all(r["ratio"] < TARGET for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
