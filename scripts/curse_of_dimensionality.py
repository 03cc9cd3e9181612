"""The curse of dimensionality, measured: distances concentrate and volume moves to the shell.

Mirrors the course's section 1 ("Why can't we just use all the pixels?"): in 784
dimensions the nearest and farthest random points are almost equally far away, and
almost all of a cube's volume lies in a thin shell near its surface.

    python scripts/curse_of_dimensionality.py [--quick] [--out DIR]
"""

# %%
import numpy as np
from matplotlib.figure import Figure

from keras_ae.course import parser, save

args = parser(__doc__).parse_args()
rng = np.random.default_rng(0)
dims = [1, 2, 3, 10, 30, 100, 300, 784] if not args.quick else [1, 2, 10, 100, 784]
n_points = 500 if args.quick else 2000


# %% [markdown]
# ## Distance concentration: (farthest - nearest) / nearest from a random query

# %%
contrast = []
for d in dims:
    points, query = rng.random((n_points, d)), rng.random(d)
    dist = np.linalg.norm(points - query, axis=1)
    contrast.append((dist.max() - dist.min()) / dist.min())
    print(f"d = {d:4d}: (max - min) / min distance = {contrast[-1]:8.3f}")


# %% [markdown]
# ## Volume in the shell: fraction of uniform points within 0.05 of the cube's surface

# %%
eps = 0.05
shell_measured, shell_exact = [], []
for d in dims:
    points = rng.random((n_points, d))
    near_surface = np.any((points < eps) | (points > 1 - eps), axis=1)
    shell_measured.append(near_surface.mean())
    shell_exact.append(1 - (1 - 2 * eps) ** d)
    print(f"d = {d:4d}: fraction in the outer {eps} shell = {shell_measured[-1]:.3f} "
          f"(exact {shell_exact[-1]:.3f})")

fig = Figure(figsize=(10, 4))
a, b = fig.subplots(1, 2)
a.loglog(dims, contrast, "o-")
a.set_xlabel("dimension d")
a.set_ylabel("(max - min) / min distance")
a.set_title("Distances concentrate")
b.semilogx(dims, shell_measured, "o", label="measured")
b.semilogx(dims, shell_exact, "-", label="1 - (1 - 2·0.05)^d")
b.set_xlabel("dimension d")
b.set_ylabel("fraction of volume")
b.set_title("Volume moves to the shell")
b.legend()
fig.tight_layout()
save(fig, args, "curse_of_dimensionality.png")
