"""A latent-space explorer for Jupyter and Colab (ipywidgets), as in the course's "dream mode" demo.

```python
explorer = keras_ae.widgets.latent_explorer(keras_ae.zoo.load("vae.mnist_z2"))   # shows itself in a notebook
explorer.set_code([0.5, -1.0])   # the sliders move and the image is decoded again
explorer.dream(steps=20)         # a slow random walk through the latent space
```

One slider per latent dimension (the first `max_sliders`, with a dropdown to pick
which dimensions they drive), the decoded image, and "dream", "randomize" and
"reset" buttons. Without ipywidgets or a notebook front end, `latent_explorer`
returns the same object and `explorer.figure()` draws a static matplotlib figure.
"""

import numpy as np


class LatentExplorer:
    """The explorer's state and logic; the ipywidgets controls are optional (`widget`)."""

    def __init__(self, model, max_sliders=8, span=3.0, seed=0, use_widgets=True):
        if not callable(getattr(model, "decode", None)) or len(getattr(model, "code_shape", ())) != 1:
            raise ValueError("latent_explorer needs a keras-ae model with a flat code (latent_dim). "
                             f"Received: {type(model).__name__} with code shape {getattr(model, 'code_shape', None)}")
        if not isinstance(max_sliders, int) or max_sliders < 1:
            raise ValueError(f"`max_sliders` must be a positive integer. Received: {max_sliders!r}")
        self.model = model
        self.latent_dim = int(model.code_shape[0])
        self.span = float(span)
        self.code = np.zeros(self.latent_dim, "float32")
        self.dims = list(range(min(max_sliders, self.latent_dim)))  # the dimensions the sliders drive
        self._rng = np.random.default_rng(seed)
        self._velocity = np.zeros(self.latent_dim)
        self.widget = None
        self._sliders, self._image = [], None
        self._updating = False
        if use_widgets:
            self._build_widgets()
        self.image = self.decode()

    # ---- logic (no front end needed) ----------------------------------------------------
    def decode(self):
        """The image decoded from the current code, as a `(height, width)` or `(h, w, c)` array in [0, 1]."""
        out = np.asarray(self.model.decode(self.code[None]))[0]
        shape = tuple(self.model.sample_shape)
        if len(shape) == 1:
            side = int(round(np.sqrt(shape[0])))
            out = out.reshape(side, side) if side * side == shape[0] else out.reshape(1, -1)
        elif shape[-1] == 1:
            out = out[..., 0]
        return np.clip(out, 0.0, 1.0)

    def set_code(self, code):
        """Move to `code` (clipped to +-span); the sliders follow and the image is decoded."""
        code = np.asarray(code, "float32").reshape(-1)
        if code.shape != (self.latent_dim,):
            raise ValueError(f"`code` must have {self.latent_dim} values. Received: {code.shape[0]}")
        if not np.all(np.isfinite(code)):
            raise ValueError("`code` must be finite")
        self.code = np.clip(code, -self.span, self.span)
        self._refresh()
        return self.image

    def set_value(self, dim, value):
        """Set one latent dimension (what a slider does)."""
        code = self.code.copy()
        code[int(dim)] = value
        return self.set_code(code)

    def randomize(self):
        """Jump to a code drawn from the prior N(0, I)."""
        return self.set_code(self._rng.standard_normal(self.latent_dim))

    def reset(self):
        """Back to the zero code (the prior's mean)."""
        self._velocity[:] = 0
        return self.set_code(np.zeros(self.latent_dim))

    def dream(self, steps=30, step_size=0.15):
        """Dream mode: a slow random walk with momentum; returns the images it passed through."""
        frames = []
        for _ in range(int(steps)):
            self._velocity = 0.9 * self._velocity + 0.1 * self._rng.standard_normal(self.latent_dim)
            frames.append(self.set_code(self.code + step_size * self._velocity))
        return frames

    def choose_dims(self, dims):
        """Which latent dimensions the sliders drive (when there are more dimensions than sliders)."""
        dims = [int(d) for d in dims]
        if len(dims) != len(self.dims) or not all(0 <= d < self.latent_dim for d in dims):
            raise ValueError(f"expected {len(self.dims)} dimensions in [0, {self.latent_dim}). Received: {dims}")
        self.dims = dims
        self._refresh()

    def figure(self):
        """A static matplotlib figure of the current image and code (for no front end)."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 3))
        ax_img, ax_code = fig.subplots(1, 2)
        ax_img.imshow(self.image, cmap="gray", vmin=0, vmax=1)
        ax_img.set_axis_off()
        ax_code.barh([f"z[{d}]" for d in range(self.latent_dim)][::-1], self.code[::-1])
        ax_code.set_xlim(-self.span, self.span)
        ax_code.set_title("code")
        fig.tight_layout()
        return fig

    # ---- the ipywidgets front end ------------------------------------------------------
    def _refresh(self):
        self.image = self.decode()
        if self.widget is None:
            return
        self._updating = True
        try:
            for slider, dim in zip(self._sliders, self.dims):
                slider.description, slider.value = f"z[{dim}]", float(self.code[dim])
        finally:
            self._updating = False
        self._image.value = _png(self.image)

    def _build_widgets(self):
        try:
            import ipywidgets as w
        except ImportError:
            return  # a static figure instead (`figure()`)
        self._sliders = [w.FloatSlider(value=0.0, min=-self.span, max=self.span, step=0.05,
                                       description=f"z[{d}]", continuous_update=True) for d in self.dims]
        for i, slider in enumerate(self._sliders):
            slider.observe(lambda change, i=i: None if self._updating else
                           self.set_value(self.dims[i], change["new"]), names="value")
        self._image = w.Image(format="png", width=196, height=196)
        buttons = []
        for label, action in (("dream", lambda _: self.dream(steps=30)), ("randomize", lambda _: self.randomize()),
                              ("reset", lambda _: self.reset())):
            b = w.Button(description=label)
            b.on_click(action)
            buttons.append(b)
        controls = [*self._sliders, w.HBox(buttons)]
        if self.latent_dim > len(self.dims):
            chooser = w.SelectMultiple(options=list(range(self.latent_dim)), value=tuple(self.dims),
                                       description="dimensions", rows=min(8, self.latent_dim))
            chooser.observe(lambda change: self.choose_dims(change["new"])
                            if len(change["new"]) == len(self.dims) else None, names="value")
            controls.append(chooser)
        self.widget = w.HBox([self._image, w.VBox(controls)])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget if self.widget is not None else self.figure())


def _png(image):
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2), dpi=98)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.imshow(image, cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def latent_explorer(model, max_sliders=8, span=3.0, seed=0):
    """An interactive latent explorer for `model` (see the module docs); display it in a notebook cell."""
    return LatentExplorer(model, max_sliders=max_sliders, span=span, seed=seed)
