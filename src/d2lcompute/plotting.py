"""Figures: the book's plotting helpers and an Animator for notebooks *and* terminals.

Book: §2.4 (``use_svg_display``, ``set_figsize``, ``set_axes``, ``plot``), §3.5
(``show_images``), §3.6 (``Animator``).

matplotlib is imported inside the functions so that ``import d2lcompute`` stays light.
``plot`` and ``show_images`` draw with pyplot as the book does: Jupyter shows the figure
under the cell; in a script, figures still open at exit are shown in a window (or saved
as PNGs whose paths are printed, where no window can open), so none goes unseen.

``Animator`` never uses pyplot: it shows its figure through :mod:`d2lcompute.live`, the
mechanism it shares with the English edition's ``ProgressBoard`` (in place in Jupyter, a
progress bar and lines in a terminal, lines in a log, the figure saved at the end).
"""

import numbers
from pathlib import Path

import torch

from d2lcompute._checks import check_int, check_number, check_sequence
from d2lcompute.live import keep_visible

_IMAGE_FORMATS = (".png", ".svg", ".pdf")


def use_svg_display():
    """Show pyplot figures as SVG in Jupyter (sharper than PNG); does nothing elsewhere.

    Book: §2.4
    """
    from d2lcompute.live import in_notebook

    if in_notebook():
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")


def set_figsize(figsize=(3.5, 2.5)):
    """Set the size, in inches, of the pyplot figures created from now on.

    Book: §2.4
    """
    import matplotlib

    use_svg_display()
    matplotlib.rcParams["figure.figsize"] = _check_figsize(figsize)


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend):
    """Set the labels, scales, limits and legend of a matplotlib ``Axes``, and draw a grid.

    Equal limits (``xlim=[1, 1]`` from a one-epoch run) are widened the way matplotlib
    would widen them, without its warning.

    Book: §2.4
    """
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(_nonsingular(axes.xaxis, xlim))
    axes.set_ylim(_nonsingular(axes.yaxis, ylim))
    if legend:
        axes.legend(legend)
    axes.grid(True)  # the book's bare grid() toggles, so a second call would hide it


def plot(
    X,
    Y=None,
    xlabel=None,
    ylabel=None,
    legend=None,
    xlim=None,
    ylim=None,
    xscale="linear",
    yscale="linear",
    fmts=("-", "m--", "g-.", "r:"),
    figsize=(3.5, 2.5),
    axes=None,
):
    """Plot one or more curves on ``axes`` (pyplot's current axes by default).

    ``X`` and ``Y`` may be tensors (also ones that require grad), arrays or lists. A
    1-D ``X`` is one curve; a list of 1-D sequences is several. With ``Y=None`` the
    values of ``X`` are plotted against their index. One ``X`` is shared by all curves.

    Args:
        X: x values (or the y values when ``Y`` is None).
        Y: y values, one sequence per curve.
        fmts: matplotlib format strings, one per curve, used in order.
        axes: a matplotlib ``Axes`` to draw on; it is cleared first.

    Example::

        >>> x = torch.arange(-8.0, 8.0, 0.1)
        >>> plot(x, [torch.sigmoid(x), torch.tanh(x)], 'x', 'f(x)', legend=['sigmoid', 'tanh'])

    Book: §2.4
    """
    if legend is None:
        legend = []
    set_figsize(figsize)
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.gca()
    keep_visible(axes.figure)

    if _has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif _has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        if len(X) != 1:
            raise ValueError(
                f"X holds {len(X)} curves but Y holds {len(Y)}; pass one X for "
                f"all curves or one per curve"
            )
        X = X * len(Y)
    fmts = _check_fmts(fmts, len(Y))
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        if len(x):
            axes.plot(_plottable(x), _plottable(y), fmt)
        else:
            axes.plot(_plottable(y), fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """Show images in a ``num_rows`` x ``num_cols`` grid; returns the flat array of axes.

    Args:
        imgs: PIL images, arrays or tensors of shape ``(H, W)``, ``(H, W, C)`` or
            ``(C, H, W)`` with C in {1, 3}; extra images beyond the grid are not shown.
        titles: one title per shown image, or None.
        scale: inches per grid cell.

    Book: §3.5
    """
    check_sequence("imgs", imgs, "a sequence of images (a tensor, an array or a list)")
    import matplotlib.pyplot as plt

    num_rows = check_int("num_rows", num_rows, min_value=1)
    num_cols = check_int("num_cols", num_cols, min_value=1)
    if check_number("scale", scale) <= 0:
        raise ValueError(f"scale must be > 0 (inches per image), got scale={scale!r}")
    imgs = list(imgs)[: num_rows * num_cols]
    if titles is not None and len(titles) < len(imgs):
        raise ValueError(
            f"titles must give one title per image: {len(imgs)} images shown, "
            f"got {len(titles)} titles"
        )
    fig, axes = plt.subplots(
        num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale), squeeze=False
    )  # squeeze=False: a 1 x 1 grid is an array too
    axes = axes.flatten()
    for ax in axes:
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        ax.imshow(_image_array(img))
        if titles:
            ax.set_title(titles[i])
    keep_visible(fig)
    return axes


class Animator:
    """Plot curves that grow point by point, e.g. losses after every epoch.

    Shown through :class:`d2lcompute.live.LiveFigure`: in Jupyter one figure under the
    cell, redrawn in place; in a terminal a progress bar on stderr (``epoch 3/10 ...
    train loss=0.512, test acc=0.79``) that counts ``x`` up to ``xlim[1]`` (from 0, or from
    ``xlim[0]`` when that is negative), a line per whole ``x`` (per epoch), and the figure
    saved to a PNG named on stderr by ``close``; in a log, the lines and the PNG only.

    Args:
        xlabel, ylabel, legend, xlim, ylim, xscale, yscale: as in :func:`set_axes`;
            ``legend`` also names the values in the progress bar.
        fmts: a format string per curve.
        nrows, ncols: subplot grid; curves are drawn on the first subplot.
        figsize: figure size in inches.
        save_path: a ``.png``, ``.svg`` or ``.pdf`` file rewritten (atomically) after
            every ``add``, so an image viewer can follow the training; None for no file.

    Attributes:
        fig: the matplotlib ``Figure`` (not managed by pyplot).
        axes: list of its ``Axes``, row by row.
        X, Y: one list of x values and one of y values per curve (None before ``add``).

    Example::

        >>> animator = Animator(xlabel='epoch', xlim=[1, 3], legend=['train loss', 'test acc'])
        >>> for epoch in range(3):
        ...     animator.add(epoch + 1, (1 / (epoch + 1), 0.5 + 0.1 * epoch))
        >>> animator.close()  # ends the progress bar, saves the figure

    Book: §3.6 (``save_path``, ``save``, ``close`` are ours)
    """

    def __init__(
        self,
        xlabel=None,
        ylabel=None,
        legend=None,
        xlim=None,
        ylim=None,
        xscale="linear",
        yscale="linear",
        fmts=("-", "m--", "g-.", "r:"),
        nrows=1,
        ncols=1,
        figsize=(3.5, 2.5),
        *,
        save_path=None,
    ):
        from matplotlib.figure import Figure

        from d2lcompute.live import LiveFigure

        nrows = check_int("nrows", nrows, min_value=1)
        ncols = check_int("ncols", ncols, min_value=1)
        if legend is None:
            legend = []
        if save_path is not None:
            _image_format(save_path)
        fmts = _check_fmts(fmts, len(legend))
        self.fig = Figure(figsize=_check_figsize(figsize))
        self.axes = list(self.fig.subplots(nrows, ncols, squeeze=False).ravel())
        self.config_axes = lambda: set_axes(
            self.axes[0], xlabel, ylabel, xlim, ylim, xscale, yscale, legend
        )
        self.X, self.Y, self.fmts = None, None, fmts
        self.save_path = save_path
        self._xlim, self._legend = xlim, legend
        self.config_axes()  # bad scales or limits fail here, not after the first epoch
        self._live = LiveFigure(
            self.fig, self._draw, xlabel=xlabel, xlim=xlim, name="animator", save_path=save_path
        )
        self._live.start()  # in a terminal, show the bar now, not after the first epoch

    def add(self, x, y):
        """Add one point per curve: ``y`` is a number or a sequence (None skips a curve).

        ``x`` is one number for all curves or a sequence with one per curve.
        """
        x, y = _python_values(x), _python_values(y)
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        if len(x) != n:
            raise ValueError(
                f"add() needs one x for all curves or one per curve: got "
                f"{len(x)} x values for {n} y values"
            )
        if not self.X:
            self.X = [[] for _ in range(n)]
        if not self.Y:
            self.Y = [[] for _ in range(n)]
        if n != len(self.Y):
            raise ValueError(
                f"add() got {n} y values, but the first call had {len(self.Y)}; "
                f"pass None for a curve that has no value this time"
            )
        _check_fmts(self.fmts, n)
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        names = [self._legend[i] if i < len(self._legend) else f"y{i + 1}" for i in range(n)]
        shown = [a for a, b in zip(x, y) if a is not None and b is not None]
        x_max = max(shown) if shown else None
        self._live.update(x_max, {name: ys[-1] for name, ys in zip(names, self.Y) if ys})
        if x_max is not None and float(x_max).is_integer():  # a whole epoch: one line
            end = f"/{self._xlim[1]:g}" if self._xlim is not None else ""
            self._live.line(f"{self._live.xlabel} {x_max:g}{end}")
        if self.save_path is not None:
            self.save(self.save_path)

    def save(self, path):
        """Write the figure to ``path`` (``.png``, ``.svg`` or ``.pdf``), atomically."""
        _image_format(path)
        return self._live.save(path)

    def close(self):
        """End the display: the last redraw in Jupyter; elsewhere the bar ends, the PNG is saved."""
        self._live.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _draw(self):
        self.axes[0].cla()
        for x, y, fmt in zip(self.X or [], self.Y or [], self.fmts):
            self.axes[0].plot(x, y, fmt, marker="o" if len(x) == 1 else None)
        self.config_axes()


def _has_one_axis(X):
    """True for a single curve: a 1-D array/tensor or a list of numbers."""
    if hasattr(X, "ndim"):
        return X.ndim == 1
    return isinstance(X, list) and (not X or not hasattr(X[0], "__len__"))


def _plottable(values):
    """Tensors become NumPy arrays (detached, on the CPU); anything else is left alone."""
    return values.detach().cpu().numpy() if torch.is_tensor(values) else values


def _python_values(values):
    """Tensors become numbers or lists of numbers, so ``add`` stores plain numbers."""
    if torch.is_tensor(values):
        return values.detach().cpu().tolist()
    if isinstance(values, (list, tuple)):
        return [v.item() if torch.is_tensor(v) else v for v in values]
    return values


def _image_array(img):
    """A tensor image as an ``(H, W)`` or ``(H, W, C)`` array; PIL images pass through."""
    if not torch.is_tensor(img):
        return img
    img = img.detach().cpu()
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = img.permute(1, 2, 0)  # channels first, as torchvision stores them
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    return img.numpy()


def _nonsingular(axis, limits):
    if limits is None or limits[0] != limits[1]:
        return limits
    return axis.get_major_locator().nonsingular(*limits)


def _check_fmts(fmts, num_curves):
    if isinstance(fmts, str):
        fmts = (fmts,)
    if len(fmts) < num_curves:
        raise ValueError(
            f"fmts must give a format per curve: {num_curves} curves, got fmts={tuple(fmts)!r}"
        )
    return fmts


def _check_figsize(figsize):
    if not (
        isinstance(figsize, (tuple, list))
        and len(figsize) == 2
        and all(_is_positive_number(v) for v in figsize)
    ):
        raise ValueError(
            f"figsize must be (width, height) in inches, both > 0, got figsize={figsize!r}"
        )
    return tuple(figsize)


def _is_positive_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value > 0


def _image_format(path):
    suffix = Path(path).suffix.lower()
    if suffix not in _IMAGE_FORMATS:
        raise ValueError(
            f"the figure file must end in {', '.join(_IMAGE_FORMATS)}, got {str(path)!r}"
        )
    return suffix[1:]
