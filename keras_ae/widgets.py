"""A latent-space explorer for Jupyter and Colab (ipywidgets), as in the course's "dream mode" demo.

```python
explorer = keras_ae.widgets.latent_explorer(keras_ae.zoo.load("vae.mnist_z2"))   # shows itself in a notebook
explorer.set_code([0.5, -1.0])   # the sliders move and the image is decoded again
explorer.dream(steps=20)         # a slow random walk through the latent space
ae_explorer = keras_ae.widgets.latent_explorer(autoencoder, data=x_train)   # a plain autoencoder: its codes
```

One slider per latent dimension (the first `max_sliders`, with a chooser to pick
which dimensions they drive), the decoded image (drawn at once), a message line,
and "dream", "randomize" and "reset" buttons.

Where "randomize" draws from, and the sliders' ranges: a VAE's prior N(0, I),
unless a `sampler` is given. A plain autoencoder's codes are not distributed as
N(0, I): it needs the training codes (`data=` to encode, or `codes=`), to which
a Gaussian is fitted (`keras_ae.samplers.GaussianSampler`), or a fitted
`sampler`; without them the sliders span +-3 around 0 and "randomize" says what
it needs instead of drawing.

Without ipywidgets or a notebook front end, `latent_explorer` returns the same
object: `explorer.figure()` draws a static matplotlib figure, and
`explorer.window()` a matplotlib window for a script with a display.
"""

import numpy as np

# Codes encoded from `data=` to fit "randomize"'s Gaussian: enough for a d x d covariance, quick to encode.
MAX_ENCODED = 2000


class LatentExplorer:
    """The explorer's state and logic; the ipywidgets controls are optional (`widget`).

    Args:
        model: a keras-ae model with a flat code (`latent_dim`) and `decode`.
        max_sliders: sliders shown at most (a chooser picks their dimensions).
        span: each slider's half-range, in standard deviations of the codes
            (of the prior for a VAE).
        seed: seed of "randomize" and "dream".
        use_widgets: build the ipywidgets controls (if ipywidgets is installed).
        data: training inputs; their codes (the first `MAX_ENCODED`) fit
            "randomize"'s Gaussian for a model that is not a VAE.
        codes: the training codes directly, `(n, latent_dim)`, instead of `data`.
        sampler: a fitted `keras_ae.samplers.Sampler` to draw from instead.
    """

    def __init__(self, model, max_sliders=8, span=3.0, seed=0, use_widgets=True, data=None, codes=None,
                 sampler=None):
        if not callable(getattr(model, "decode", None)) or len(getattr(model, "code_shape", ())) != 1:
            raise ValueError("latent_explorer needs a keras-ae model with a flat code (latent_dim). "
                             f"Received: {type(model).__name__} with code shape {getattr(model, 'code_shape', None)}")
        if not isinstance(max_sliders, int) or max_sliders < 1:
            raise ValueError(f"`max_sliders` must be a positive integer. Received: {max_sliders!r}")
        if sum(v is not None for v in (data, codes, sampler)) > 1:
            raise ValueError("Give one of `data`, `codes` or `sampler`, not several")
        self.model = model
        self.latent_dim = int(model.code_shape[0])
        self.span = float(span)
        self.sampler, self.drawn_from = self._sampler_for(model, data, codes, sampler)
        self.center, self.scale = _moments(self.sampler, self.latent_dim)
        self.code = self.center.astype("float32")
        self.dims = list(range(min(max_sliders, self.latent_dim)))  # the dimensions the sliders drive
        self.message = "" if self.sampler is not None else self._no_sampler_message()
        self._rng = np.random.default_rng(seed)
        self._velocity = np.zeros(self.latent_dim)
        self.widget = None
        self._sliders, self._image, self._status = [], None, None
        self._listeners = []  # called after every change (the matplotlib window's)
        self._updating = False
        if use_widgets:
            self._build_widgets()
        self._refresh()  # the image is drawn now, not at the first slider move

    def _sampler_for(self, model, data, codes, sampler):
        """`(sampler or None, words for it)`: what "randomize" draws from."""
        from keras_ae.samplers import GaussianSampler, NormalSampler, Sampler

        if sampler is not None:
            if not isinstance(sampler, Sampler):
                raise TypeError(f"`sampler` must be a fitted keras_ae.samplers.Sampler. Received: {sampler!r}")
            if sampler.needs_fit:
                sampler._require_fitted()
            sampler.check_model(model)
            return sampler, f"its {sampler.kind} sampler"
        if codes is None and data is not None:
            codes = model.encode(data[:MAX_ENCODED] if hasattr(data, "__getitem__") else data)
        if codes is not None:
            codes = np.asarray(codes)
            if codes.ndim != 2 or codes.shape[1] != self.latent_dim:
                raise ValueError(f"`codes` must have shape (n, {self.latent_dim}). Received: shape={codes.shape}")
            return GaussianSampler().fit_codes(codes), f"a Gaussian fitted to {len(codes)} training codes"
        if getattr(model, "generative", False):
            return NormalSampler().attach(model), "the prior N(0, I)"
        return None, None

    def _no_sampler_message(self):
        return (f"randomize is off: {type(self.model).__name__} is not a VAE, so its codes are not N(0, I); pass "
                "data=x_train (or codes=...) to latent_explorer to draw from the training codes' distribution "
                "(the sliders span +-3 around 0 meanwhile)")

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

    def value_range(self, dim):
        """`(low, high)` of latent dimension `dim`: its center +- span standard deviations."""
        return (float(self.center[dim] - self.span * self.scale[dim]),
                float(self.center[dim] + self.span * self.scale[dim]))

    def set_code(self, code):
        """Move to `code` (clipped to each dimension's range); the sliders follow and the image is decoded."""
        code = np.asarray(code, "float32").reshape(-1)
        if code.shape != (self.latent_dim,):
            raise ValueError(f"`code` must have {self.latent_dim} values. Received: {code.shape[0]}")
        if not np.all(np.isfinite(code)):
            raise ValueError("`code` must be finite")
        low, high = self.center - self.span * self.scale, self.center + self.span * self.scale
        self.code = np.clip(code, low, high).astype("float32")
        self._refresh()
        return self.image

    def set_value(self, dim, value):
        """Set one latent dimension (what a slider does)."""
        code = self.code.copy()
        code[int(dim)] = value
        return self.set_code(code)

    def randomize(self):
        """Jump to a code drawn from the training codes' distribution (a VAE: its prior N(0, I)).

        Raises a `ValueError` that says what is missing for a model that is not
        a VAE and was given no `data`, `codes` or `sampler`.
        """
        if self.sampler is None:
            raise ValueError(self._no_sampler_message())
        code = self.sampler.sample_codes(1, seed=int(self._rng.integers(2**31)))[0]
        return self.set_code(code)

    def reset(self):
        """Back to the center: the codes' mean (the prior's mean, 0, for a VAE)."""
        self._velocity[:] = 0
        return self.set_code(self.center)

    def dream(self, steps=30, step_size=0.15):
        """Dream mode: a slow random walk with momentum; returns the images it passed through."""
        frames = []
        for _ in range(int(steps)):
            self._velocity = 0.9 * self._velocity + 0.1 * self._rng.standard_normal(self.latent_dim)
            frames.append(self.set_code(self.code + step_size * self.scale * self._velocity))
        return frames

    def choose_dims(self, dims):
        """Which latent dimensions the sliders drive (when there are more dimensions than sliders).

        A selection of the wrong size or with unknown dimensions is refused (a
        `ValueError`; in the widget, the message line says so).
        """
        dims = [int(d) for d in dims]
        if len(dims) != len(self.dims) or not all(0 <= d < self.latent_dim for d in dims):
            raise ValueError(f"choose exactly {len(self.dims)} dimensions in [0, {self.latent_dim}), one per slider. "
                             f"Received {len(dims)}: {dims}; the sliders still drive {self.dims}")
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
        ax_code.set_xlim(float(np.min(self.center - self.span * self.scale)),
                         float(np.max(self.center + self.span * self.scale)))
        ax_code.set_title("code")
        fig.tight_layout()
        return fig

    def window(self, interval=80):
        """The explorer in a matplotlib window, for a script with a display (in Jupyter, display the explorer
        itself: matplotlib's widgets do not respond there). Returns the pyplot figure; call `plt.show()`."""
        import matplotlib.pyplot as plt
        from matplotlib.widgets import Button, CheckButtons, Slider

        fig = plt.figure(figsize=(8, 4.5))
        ax_img = fig.add_axes([0.03, 0.1, 0.45, 0.8])
        ax_img.set_axis_off()
        shown = ax_img.imshow(self.image, cmap="gray", vmin=0, vmax=1)
        sliders, dims = [], list(self.dims)  # the window's sliders keep their dimensions
        for i, dim in enumerate(dims):
            ax = fig.add_axes([0.6, 0.85 - i * 0.6 / len(dims), 0.3, 0.04])
            sliders.append(Slider(ax, f"z[{dim}]", *self.value_range(dim), valinit=float(self.code[dim])))
        status = fig.text(0.02, 0.02, self.message, fontsize=7, color="firebrick", wrap=True)
        dream = CheckButtons(fig.add_axes([0.55, 0.08, 0.12, 0.1]), ["dream"], [False])
        buttons = {label: Button(fig.add_axes([x, 0.08, 0.12, 0.08]), label)
                   for label, x in (("randomize", 0.69), ("reset", 0.83))}
        syncing = []

        def follow():  # the window follows every change of the code
            syncing.append(True)
            try:
                for slider, dim in zip(sliders, dims):
                    slider.set_val(float(self.code[dim]))
            finally:
                syncing.pop()
            shown.set_data(self.image)
            status.set_text(self.message)
            fig.canvas.draw_idle()

        for slider, dim in zip(sliders, dims):
            slider.on_changed(lambda value, dim=dim: None if syncing else self.set_value(dim, value))
        buttons["randomize"].on_clicked(lambda _: self._act(self.randomize))
        buttons["reset"].on_clicked(lambda _: self._act(self.reset))
        timer = fig.canvas.new_timer(interval=interval)
        timer.add_callback(lambda: self.dream(steps=1) if dream.get_status()[0] else None)
        timer.start()
        self._listeners.append(follow)
        fig._keras_ae_explorer = (sliders, dream, buttons, timer)  # the widgets live as long as the figure
        return fig

    # ---- the ipywidgets front end ------------------------------------------------------
    def _act(self, action):
        """Run a button's action; a refusal goes to the message line instead of a hidden traceback."""
        try:
            action()
        except ValueError as e:
            self._say(str(e))

    def _say(self, message):
        self.message = message
        if self._status is not None:
            self._status.value = _status_html(message)
        for listener in self._listeners:
            listener()

    def _refresh(self):
        self.image = self.decode()
        if self.widget is not None:
            self._updating = True
            try:
                for slider, dim in zip(self._sliders, self.dims):
                    low, high = self.value_range(dim)
                    with slider.hold_trait_notifications():  # min, max and value checked together
                        slider.min, slider.max = low, high
                        slider.step = (high - low) / 120
                        slider.value = float(self.code[dim])
                    slider.description = f"z[{dim}]"
            finally:
                self._updating = False
            self._image.value = _png(self.image)
        for listener in self._listeners:
            listener()

    def _build_widgets(self):
        try:
            import ipywidgets as w
        except ImportError:
            return  # a static figure instead (`figure()`)
        self._sliders = [w.FloatSlider(value=0.0, min=-self.span, max=self.span, step=0.05, readout_format=".2f",
                                       description=f"z[{d}]", continuous_update=True) for d in self.dims]
        for i, slider in enumerate(self._sliders):
            slider.observe(lambda change, i=i: None if self._updating else
                           self.set_value(self.dims[i], change["new"]), names="value")
        self._image = w.Image(format="png", width=196, height=196)
        buttons = []
        for label, action in (("dream", lambda _: self.dream(steps=30)),
                              ("randomize", lambda _: self._act(self.randomize)),
                              ("reset", lambda _: self.reset())):
            b = w.Button(description=label)
            b.on_click(action)
            buttons.append(b)
        if self.sampler is None:
            buttons[1].tooltip = "needs the training codes: latent_explorer(model, data=x_train)"
        else:
            buttons[1].tooltip = f"a code drawn from {self.drawn_from}"
        controls = [*self._sliders, w.HBox(buttons)]
        if self.latent_dim > len(self.dims):
            chooser = w.SelectMultiple(options=list(range(self.latent_dim)), value=tuple(self.dims),
                                       description="dimensions", rows=min(8, self.latent_dim))
            chooser.observe(lambda change: self._choose(change["new"]), names="value")
            controls.append(chooser)
        self._status = w.HTML(_status_html(self.message))
        controls.append(self._status)
        self.widget = w.HBox([self._image, w.VBox(controls)])

    def _choose(self, dims):
        """The chooser's selection: taken when it has one dimension per slider, else refused on the message line
        (and kept, so a selection can be built a click at a time)."""
        try:
            self.choose_dims(dims)
        except ValueError as e:
            self._say(str(e))
            return
        self._say("" if self.sampler is not None else self._no_sampler_message())

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget if self.widget is not None else self.figure())


def _moments(sampler, latent_dim):
    """`(center, scale)`: the mean and standard deviation of each latent dimension under `sampler` (0 and 1
    without one, and for the prior)."""
    center, scale = np.zeros(latent_dim), np.ones(latent_dim)
    means = getattr(sampler, "means_", None)
    if means is not None:  # a Gaussian or a mixture of them
        w = sampler.weights_
        center = w @ means
        second = w @ (np.diagonal(sampler.covariances_, axis1=1, axis2=2) + means ** 2)
        scale = np.sqrt(np.maximum(second - center ** 2, 0.0))
        scale = np.where(scale > 1e-6, scale, 1.0)  # a dimension the codes never use still gets a slider range
    elif sampler is not None and getattr(sampler, "temperature", None) is not None:
        scale = scale * sampler.temperature
    return center.astype("float32"), scale.astype("float32")


def _status_html(message):
    import html

    return f'<span style="color: firebrick">{html.escape(message)}</span>' if message else ""


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


def latent_explorer(model, max_sliders=8, span=3.0, seed=0, data=None, codes=None, sampler=None):
    """An interactive latent explorer for `model` (see the module docs); display it in a notebook cell.

    For a model that is not a VAE, pass its training inputs (`data=x_train`) or codes (`codes=`), or a
    fitted `sampler`, so that "randomize" draws codes like the training codes.
    """
    return LatentExplorer(model, max_sliders=max_sliders, span=span, seed=seed, data=data, codes=codes,
                          sampler=sampler)
