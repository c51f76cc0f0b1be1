"""The Chinese edition's live figure of training curves (Book: §3.6, ``Animator``).

One face of the display in :mod:`d2lcompute.live.figure` (the English edition's face is
``ProgressBoard``): it never uses pyplot, so no GUI backend starts and no figure is left open.
"""

from pathlib import Path

import torch

from d2lcompute._checks import check_figsize, check_fmts, check_int
from d2lcompute.live.figure import LiveFigure
from d2lcompute.live.plotting import set_axes

_IMAGE_FORMATS = (".png", ".svg", ".pdf")


class Animator:
    """Plot curves that grow point by point, e.g. losses after every epoch.

    Shown through :class:`d2lcompute.live.figure.LiveFigure`: in Jupyter one figure under the
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

        nrows = check_int("nrows", nrows, min_value=1)
        ncols = check_int("ncols", ncols, min_value=1)
        if legend is None:
            legend = []
        if save_path is not None:
            _image_format(save_path)
        fmts = check_fmts(fmts, len(legend))
        self.fig = Figure(figsize=check_figsize(figsize))
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
        check_fmts(self.fmts, n)
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


def _python_values(values):
    """Tensors become numbers or lists of numbers, so ``add`` stores plain numbers."""
    if torch.is_tensor(values):
        return values.detach().cpu().tolist()
    if isinstance(values, (list, tuple)):
        return [v.item() if torch.is_tensor(v) else v for v in values]
    return values


def _image_format(path):
    suffix = Path(path).suffix.lower()
    if suffix not in _IMAGE_FORMATS:
        raise ValueError(
            f"the figure file must end in {', '.join(_IMAGE_FORMATS)}, got {str(path)!r}"
        )
    return suffix[1:]
