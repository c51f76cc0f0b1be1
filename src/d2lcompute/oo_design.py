"""The English edition's object-oriented design (d2l.ai 1.0: §3.2): the classes its code uses.

``add_to_class`` (a method added after the class is defined, as the book's cells do),
``HyperParameters`` (constructor arguments kept as attributes), ``ProgressBoard`` (a
figure of training curves), ``Module`` (a model that knows its loss, its training and
validation steps and its optimizer) and ``DataModule`` (a data set that hands out
loaders). ``Trainer``, the loop that drives them, is in :mod:`d2lcompute.trainer`.

Differences from the book's library, none visible to its cells: ``ProgressBoard`` shows
its figure through :mod:`d2lcompute.live` (in place in Jupyter, a progress bar and a
line per epoch in a terminal, the figure saved at the end) and reads a tensor's value
only when a plotted point is due, so ``Module.plot`` costs no GPU synchronisation per
batch (under torchrun, one all-reduce per plotted point gives the whole batches' mean);
``DataModule.get_tensorloader`` serves batches from memory with the same shuffles as a
``DataLoader``; bad arguments raise ``ValueError``/``TypeError`` instead of asserts.
"""

import collections
import inspect

import torch
from torch import nn

from d2lcompute import distributed
from d2lcompute._checks import check_int

Point = collections.namedtuple("Point", ["x", "y"])


def add_to_class(Class):
    """Decorator that sets the function it decorates as a method of ``Class``.

    Example::

        >>> class A:
        ...     pass
        >>> @add_to_class(A)
        ... def twice(self, x):
        ...     return 2 * x
        >>> A().twice(3)
        6

    Book: §3.2
    """
    if not isinstance(Class, type):
        raise TypeError(f"add_to_class takes a class, got Class={Class!r}")

    def wrapper(obj):
        setattr(Class, obj.__name__, obj)
        return obj

    return wrapper


class HyperParameters:
    """Base class whose ``save_hyperparameters`` keeps the constructor's arguments. Book: §3.2."""

    def save_hyperparameters(self, ignore=()):
        """Set each argument of the calling ``__init__`` as an attribute and in ``self.hparams``.

        ``self``, names starting with ``_`` and the names in ``ignore`` are left out.

        Example::

            >>> class B(HyperParameters):
            ...     def __init__(self, a, b, c):
            ...         self.save_hyperparameters(ignore=['c'])
            >>> b = B(1, 2, 3)
            >>> b.a, b.b, hasattr(b, 'c'), b.hparams
            (1, 2, False, {'a': 1, 'b': 2})
        """
        if isinstance(ignore, str):
            raise TypeError(
                f"ignore must be a list of names, got ignore={ignore!r}; write ignore=[{ignore!r}]"
            )
        frame = inspect.currentframe().f_back
        try:
            args = inspect.getargvalues(frame)
        finally:
            del frame  # a frame in a local variable keeps every caller's locals alive
        names = [*args.args, *filter(None, (args.varargs, args.keywords))]
        skip = {"self", *ignore}
        self.hparams = {k: args.locals[k] for k in names if k not in skip and not k.startswith("_")}
        for k, v in self.hparams.items():
            setattr(self, k, v)


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
        from d2lcompute.live import LiveFigure

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
        from d2lcompute.plotting import set_axes

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


def _sum(values):
    """The sum of numbers and one-element tensors (a tensor if any is one; nothing read)."""
    tensors = [torch.as_tensor(v).detach().reshape(()).float() for v in values]
    return torch.stack([t.to(tensors[0].device) for t in tensors]).sum()


class Module(nn.Module, HyperParameters):
    """Base class of the models: a network with its loss, steps and optimizer. Book: §3.2.

    A subclass sets ``self.net`` (or overrides ``forward``) and ``loss``; ``Trainer.fit``
    calls ``training_step`` on each training batch (its loss is backpropagated),
    ``validation_step`` on each validation batch and ``configure_optimizers`` once.
    Both steps plot the loss on ``self.board``: twice per epoch for training
    (``plot_train_per_epoch``), once for validation (``plot_valid_per_epoch``).

    Shape:
        A batch is a sequence ``(*inputs, Y)``: the steps call ``self(*inputs)``.
    """

    def __init__(self, plot_train_per_epoch=2, plot_valid_per_epoch=1):
        super().__init__()
        check_int("plot_train_per_epoch", plot_train_per_epoch, min_value=1)
        check_int("plot_valid_per_epoch", plot_valid_per_epoch, min_value=1)
        self.save_hyperparameters()
        self.board = ProgressBoard()

    def loss(self, y_hat, y):
        raise NotImplementedError(f"{type(self).__name__} must define loss(self, y_hat, y)")

    def forward(self, X):
        if not hasattr(self, "net"):
            raise NotImplementedError(
                f"{type(self).__name__} has no self.net: set it in "
                f"__init__, or define forward(self, X)"
            )
        return self.net(X)

    def plot(self, key, value, train):
        """Draw ``value`` on the board as ``train_<key>`` or ``val_<key>``, against epochs."""
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            raise RuntimeError(
                f"{type(self).__name__}.plot needs the trainer: call it from "
                f"training_step or validation_step during Trainer.fit"
            )
        self.board.xlabel = "epoch"
        if train:
            x = trainer.train_batch_idx / trainer.num_train_batches
            n = trainer.num_train_batches / self.plot_train_per_epoch
        else:
            x = trainer.epoch + 1
            n = trainer.num_val_batches / self.plot_valid_per_epoch
        label = ("train_" if train else "val_") + key
        # max(1, ...): with fewer batches than points per epoch, the book's int(n) = 0 never plots
        every_n = max(1, int(n))
        loader = trainer.train_dataloader if train else trainer.val_dataloader
        if isinstance(loader, distributed.ShardedLoader):
            self._plot_shares(x, distributed.weighted_share(value, loader), label, every_n)
        else:
            self.board.draw(x, value, label, every_n=every_n)

    def _plot_shares(self, x, share, label, every_n):
        """Under torchrun: keep this rank's weighted shares; every ``every_n``, plot their mean.

        One all-reduce per plotted point (every rank reaches it at the same batch), so the
        board shows the whole batches' mean, as in one process, with no per-batch sync.
        """
        pending = vars(self).setdefault("_pending_shares", {}).setdefault(label, [])
        pending.append((float(x), share))
        if len(pending) < every_n:
            return
        xs, shares = zip(*pending)
        (total,) = distributed.all_reduce_sums(_sum(shares))
        pending.clear()
        self.board.draw(sum(xs) / len(xs), total / (len(xs) * distributed.world_size()), label)

    def training_step(self, batch):
        """The loss of one training batch (plotted); the trainer backpropagates it."""
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", l, train=True)
        return l

    def validation_step(self, batch):
        """Plot the loss of one validation batch."""
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", l, train=False)

    def configure_optimizers(self):
        """Minibatch SGD on all parameters with learning rate ``self.lr``."""
        if not hasattr(self, "lr"):
            raise AttributeError(
                f"{type(self).__name__} has no lr: take lr in __init__ and "
                f"call self.save_hyperparameters(), or override "
                f"configure_optimizers"
            )
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def apply_init(self, inputs, init=None):
        """Run ``inputs`` through the net once (so lazy layers get their shapes), then ``init``.

        Book: §6.4 (lazy initialization)
        """
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class DataModule(HyperParameters):
    """Base class of the data sets: loaders for training and validation. Book: §3.2.

    Args:
        root: the data folder, kept as ``self.root`` for the subclasses' cells (which hand
            it to torchvision or ``d2l.download``); None (ours, where the book writes
            ``'../data'``) resolves as ``hub.data_dir``: ``$D2LCOMPUTE_DATA_DIR``, else the
            book's ``../data`` if it exists, else the package's cache.
        num_workers: accepted for the book's cells; the in-memory loaders need no workers.
    """

    def __init__(self, root=None, num_workers=4):
        from d2lcompute import hub

        check_int("num_workers", num_workers, min_value=0)
        self.save_hyperparameters()
        if root is None:
            self.root = hub.data_dir(needs=[""])  # needs "": the book's ../data, if it exists

    def get_dataloader(self, train):
        raise NotImplementedError(f"{type(self).__name__} must define get_dataloader(self, train)")

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)

    def get_tensorloader(self, tensors, train, indices=slice(0, None)):
        """Batches of ``self.batch_size`` rows of ``tensors[indices]``, shuffled if ``train``."""
        from d2lcompute.data import BatchLoader, TensorBatches

        tensors = tuple(t[indices] for t in tensors)
        return BatchLoader(TensorBatches(*tensors), self.batch_size, shuffle=train)
