"""The English edition's live figure of training curves (d2l.ai 1.0: §3.2.1, ``ProgressBoard``).

One face of the display in :mod:`d2lcompute.live.figure` (the Chinese edition's face is
``Animator``): in place in Jupyter, a progress bar and a line per epoch in a terminal, the
figure saved at the end. It reads a tensor's value only when a plotted point is due, so
``Module.plot`` costs no GPU synchronisation per batch.
"""

import collections

import torch

from d2lcompute._checks import check_int
from d2lcompute.hyperparameters import HyperParameters
from d2lcompute.live.figure import LiveFigure
from d2lcompute.live.plotting import set_axes

Point = collections.namedtuple("Point", ["x", "y"])


class ProgressBoard(HyperParameters):
    """A figure of curves that grow point by point, e.g. the losses of a training run.

    ``draw(x, y, label, every_n)`` adds raw points; every ``every_n`` of them become one
    plotted point, their mean. The plotted points of each curve are in ``board.data[label]``,
    a list of ``Point(x, y)``. Attributes can change after construction (``board.yscale =
    'log'``, ``board.display = False``); they are read when the figure is drawn.

    Args:
        xlabel, ylabel, xlim, ylim, xscale, yscale: as in matplotlib's ``Axes``.
        ls, colors: line style and colour of each curve, in the order labels first appear.
        fig, axes: a matplotlib figure and axes to draw on; by default a figure of its own.
        figsize: that figure's size in inches.
        display: False records points but shows nothing.

    Example::

        >>> board = ProgressBoard('x', display=False)
        >>> for x in range(10):
        ...     board.draw(x, x ** 2, 'square', every_n=5)
        >>> board.data['square']
        [Point(x=2.0, y=6.0), Point(x=7.0, y=51.0)]

    Book: §3.2 (``progress``, ``log``, ``save`` and ``flush`` are ours, for the trainer)
    """

    def __init__(
        self,
        xlabel=None,
        ylabel=None,
        xlim=None,
        ylim=None,
        xscale="linear",
        yscale="linear",
        ls=("-", "--", "-.", ":"),
        colors=("C0", "C1", "C2", "C3"),
        fig=None,
        axes=None,
        figsize=(3.5, 2.5),
        display=True,
    ):
        self.save_hyperparameters()
        self.raw_points = collections.OrderedDict()
        self.data = collections.OrderedDict()
        self.save_path = None  # ours: a file the owner writes (``save``); none saved at the end
        self._live = None

    def draw(self, x, y, label, every_n=1):
        """Add the raw point ``(x, y)`` to the curve ``label``; plot the mean of every ``every_n``.

        ``y`` may be a number or a one-element tensor; a tensor is read (copied from the
        GPU) only when the point it belongs to is due.
        """
        every_n = check_int("every_n", every_n, min_value=1)
        if not isinstance(label, str):
            raise TypeError(f"label must be a string naming the curve, got label={label!r}")
        if torch.is_tensor(y):
            if y.numel() != 1:
                raise ValueError(f"y must be one number, got a tensor of shape {tuple(y.shape)}")
            y = y.detach()
        points = self.raw_points.setdefault(label, [])
        line = self.data.setdefault(label, [])
        points.append(Point(float(x), y))
        due = len(points) >= every_n
        if due:
            line.append(Point(sum(p.x for p in points) / len(points), _mean([p.y for p in points])))
            points.clear()
        self._show(x, new_point=due)

    def progress(self, x):
        """Show that the run reached ``x``: a terminal's bar moves (the figure stays as it is)."""
        self._show(x, new_point=False)

    def _show(self, x, new_point):
        if self.display:
            latest = {label: line[-1].y for label, line in self.data.items() if line}
            self._display().update(float(x), latest, new_point)

    def log(self, text):
        """Print ``text`` and the latest value of each curve on one line (not in Jupyter)."""
        if self.display and self.data:
            self._display().line(text)

    def save(self, path=None):
        """Write the figure to ``path`` (default ``save_path``) now, atomically; its path.

        A board whose ``save_path`` is set saves nothing else when the run ends; under
        torchrun only rank 0 writes.
        """
        return self._display().save(self.save_path if path is None else path)

    def flush(self):
        """End the display: the last figure in Jupyter; elsewhere the bar ends, the PNG is saved."""
        if self._live is not None:
            self._live.close()

    def _display(self):
        if self._live is None:
            if self.fig is None:
                from matplotlib.figure import Figure

                self.fig = Figure(figsize=self.figsize)
            self._live = LiveFigure(
                self.fig, self._draw_curves, xlabel=self.xlabel, xlim=self.xlim, name="progress"
            )
            self._live.start()
        self._live.xlim = self.xlim  # the trainer sets it after the board is made
        self._live.save_path = self.save_path
        return self._live

    def _draw_curves(self):
        axes = self.axes if self.axes is not None else (self.fig.axes or [self.fig.gca()])[0]
        axes.cla()
        for i, (label, line) in enumerate(self.data.items()):
            axes.plot(
                [p.x for p in line],
                [p.y for p in line],
                label=label,
                linestyle=self.ls[i % len(self.ls)],
                color=self.colors[i % len(self.colors)],
                marker="o" if len(line) == 1 else None,
            )
        # every axis gets a label: without a ylabel, what the curves measure ("acc, loss")
        ylabel = self.ylabel or ", ".join(sorted({k.split("_", 1)[-1] for k in self.data}))
        set_axes(
            axes,
            self.xlabel or "x",
            ylabel,
            self.xlim,
            self.ylim,
            self.xscale,
            self.yscale,
            list(self.data),
        )


def _mean(values):
    """The mean of numbers and one-element tensors, as a float (one device read at most)."""
    if any(torch.is_tensor(v) for v in values):
        values = torch.stack([torch.as_tensor(v).reshape(()).float() for v in values])
        return values.mean().item()
    return float(sum(float(v) for v in values) / len(values))
