"""Every lecture script runs with --quick and writes its PNG figures."""

import glob
import os
import subprocess
import sys

import pytest

SCRIPTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts")
SCRIPTS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SCRIPTS_DIR, "*.py"))
                 if not os.path.basename(p).startswith("_"))

EXPECTED = {
    "curse_of_dimensionality.py": ["curse_of_dimensionality.png"],
    "dense_autoencoder.py": ["training_curves.png", "reconstructions.png"],
    "denoising_autoencoder.py": ["denoising.png"],
    "stacked_autoencoder.py": ["pretraining_vs_random.png", "reconstructions.png"],
    "sparse_autoencoder.py": ["mean_activations.png", "features.png", "reconstructions.png"],
    "conv_autoencoder.py": ["reconstructions.png", "feature_maps.png"],
    "vae_2d.py": ["training_curves.png", "latent_scatter.png", "manifold.png", "samples.png"],
    "conv_ae_vs_conv_vae.py": ["comparison.png"],
    "tsne_latent.py": ["tsne_codes.png", "tsne_pixels.png"],
    "latent_arithmetic.py": ["interpolation_linear.png", "interpolation_slerp.png", "thickness_vector.png"],
    "anomaly_detection.py": ["score_histogram.png", "roc.png", "most_anomalous.png"],
    "anomaly_maps.py": ["anomaly_maps.png"],
    "one_class_images.py": ["roc_three_detectors.png", "most_and_least_abnormal.png"],
    "vqvae.py": ["reconstructions.png", "codebook_usage.png", "samples_t10.png", "samples_t07.png", "prior_grids.png"],
    "ae_vs_pca.py": ["ae_vs_pca.png", "ae_vs_pca_images.png"],
    "image_retrieval.py": ["retrieval.png"],
    "latent_explorer.py": ["latent_explorer.png"],
    "colorization.py": ["colorization.png"],
    "colour_restoration.py": ["restoration.png"],
    "face_attributes.py": ["smile_vector.png", "attribute_vectors.png"],
    "conditional_vae.py": ["training_curves.png", "conditional_grid.png", "style_transfer.png"],
    "face_generation.py": ["samples_prior_vs_mixture.png", "morph_linear.png", "morph_slerp.png", "arithmetic.png",
                           "nearest.png"],
}


def test_every_script_is_listed():
    assert set(SCRIPTS) == set(EXPECTED)


def run_script(name, tmp_path, *extra):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_AE_MNIST", "DISPLAY")}
    env.update(MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3", KERAS_HOME=str(tmp_path / "keras_home"))
    proc = subprocess.run([sys.executable, os.path.join(SCRIPTS_DIR, name), "--quick", "--out", str(tmp_path), *extra],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


# One script runs as a script (its own command line) in the default run, and two more with --pretrained
# below; every script runs as a notebook in the slow set (tests/test_notebooks.py), which .ci/run runs too.
DEFAULT_RUN = ("dense_autoencoder.py",)


@pytest.mark.parametrize("name", DEFAULT_RUN)
def test_script_quick(name, tmp_path):
    proc = run_script(name, tmp_path)
    for png in EXPECTED[name]:
        path = tmp_path / png
        assert path.exists(), f"{name} did not write {png}:\n{proc.stdout[-2000:]}"
        assert path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("name", ["denoising_autoencoder.py", "vae_2d.py"])
def test_script_pretrained(name, tmp_path):
    run_script(name, tmp_path, "--pretrained")
    assert any(tmp_path.glob("*.png"))


@pytest.mark.slow  # trains a small conv autoencoder for one epoch (30-70 s on 2 busy cores)
def test_colour_restoration_prints_its_psnr_table(tmp_path, monkeypatch):
    for variable in ("KERAS_AE_CELEBA", "KERAS_AE_CIFAR10"):  # the offline path: patches of scikit-learn's photos
        monkeypatch.delenv(variable, raising=False)
    proc = run_script("colour_restoration.py", tmp_path)
    out = proc.stdout
    assert "PSNR in dB against the original" in out and "inside the 8x8 hole" in out, out[-2000:]
    assert (tmp_path / "restoration.png").read_bytes()[:4] == b"\x89PNG"


def test_quick_figures_say_they_are_smoke_tests(tmp_path, monkeypatch):
    import argparse

    from matplotlib.figure import Figure

    from keras_ae import course

    for quick in (True, False):
        fig = Figure()
        fig.subplots().plot([0, 1])
        course.save(fig, argparse.Namespace(quick=quick, out=str(tmp_path)), f"f{quick}.png")
        assert any("SMOKE TEST" in t.get_text() for t in fig.texts) == quick
