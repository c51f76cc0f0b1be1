"""The classic function API's training loop: ``train_ch3`` and ``train_epoch_ch3`` (Book: §3.6).

Both are faces on the package's one loop, ``Trainer.fit`` (:mod:`d2lcompute.trainer`): the
chapter-3 pieces (``net``, ``loss``, ``updater``) are adapted to the English edition's
``Module`` hooks, so the two editions train through the same code.

Devices: ``device=None`` comes after the book's arguments. An ``nn.Module`` is moved to
``device`` (default ``try_gpu()``, so the same cell uses a GPU when there is one) and every
batch follows it. A scratch net written as a plain function (the book's ``def net(X)``
over global tensors) cannot be moved, so its batches stay where the loader put them (the
CPU) unless ``device`` is given, which then must be where its tensors live.

Differences from the book, all compatible with its cells: ``train_ch3`` returns the
per-epoch ``History`` instead of asserting on its own accuracy, and takes ``checkpoint=``
to make the run resumable; a diverging run raises ``DivergenceError``; the display is the
package's one (in place in Jupyter, a bar and a line per epoch in a terminal). The end of
an epoch is ``Trainer``'s ``on_train_epoch_end`` hook, so a cell replacing a ``Trainer``
hook with ``add_to_class`` changes these loops too.

Under ``torchrun`` (:mod:`d2lcompute.distributed`) both train data-parallel with the same
arguments: ``batch_size`` stays the global mini-batch, ``updater(batch_size)`` gets the
global one, a CUDA device becomes the rank's own GPU, and the returned and plotted metrics
are over all ranks.
"""

import torch
from torch import nn

from d2lcompute import distributed
from d2lcompute._checks import check_device, check_int
from d2lcompute.base_classes import Module
from d2lcompute.devices import try_gpu
from d2lcompute.live.progress_board import ProgressBoard
from d2lcompute.metrics import mean_loss, num_correct, summed_loss, to_device
from d2lcompute.trainer import Trainer


def _train_device(net, device):
    """Move a module to ``device`` (default ``try_gpu()``); return where batches go."""
    check_device("device", device, allow_none=True)
    if isinstance(net, nn.Module):
        device = distributed.local_device(try_gpu() if device is None else device)
        net.to(device)
        return device
    return None if device is None else torch.device(device)


def _check_updater(updater):
    if not (isinstance(updater, torch.optim.Optimizer) or callable(updater)):
        raise TypeError(
            "updater must be a torch.optim.Optimizer or a function called with the "
            f"batch size, got updater={updater!r}"
        )


def train_epoch_ch3(net, train_iter, loss, updater, device=None):
    """Train ``net`` for one epoch; return ``(mean train loss, train accuracy)``. Book: §3.6.

    With a ``torch.optim.Optimizer`` the batch-mean loss is backpropagated and
    ``updater.step()`` applies it; any other ``updater`` is called with the batch size
    after the batch-summed loss is backpropagated (the book's ``sgd`` divides by it).
    It runs one epoch of the package's one training loop, ``Trainer.fit``; the adapter and
    trainer it builds are kept with ``net`` for the next call with the same ``loss`` and
    ``updater``, so a loop of calls (the book's, or the command's) builds them once.

    Args:
        net: an ``nn.Module`` (set to train mode, moved to ``device``) or a function.
        train_iter: yields ``(X, y)`` batches.
        loss: maps ``(y_hat, y)`` to per-example losses (or to the batch mean).
        updater: an optimizer, or e.g. ``lambda batch_size: sgd(params, lr, batch_size)``.
        device: see the module docstring; default ``try_gpu()`` for a module.

    Raises:
        DivergenceError: the loss became NaN or infinite.
    """
    model, trainer = _cached(net, loss, updater, device)
    trainer.fit(model, _Loaders(train_iter, None))
    return model.last_train


def train_ch3(
    net, train_iter, test_iter, loss, num_epochs, updater, device=None, *, checkpoint=None
):
    """Train for ``num_epochs``, plotting train loss, train and test accuracy. Book: §3.6.

    It runs the package's one training loop, ``Trainer.fit``, and shows the curves as the
    book's ``Animator`` does: a figure updated in place in Jupyter; in a terminal a
    progress bar within each epoch and a line per epoch on stderr, and at the end the
    figure saved to a PNG whose path is printed, then a summary line with the last
    metrics. Nothing goes to stdout.

    Args:
        net, train_iter, loss, updater, device: as in ``train_epoch_ch3``.
        test_iter: batches for the test accuracy after each epoch.
        num_epochs: a positive integer, the total (a resumed run trains what is left).
        checkpoint: ours: a file to save the run to after each epoch and to continue from
            when it exists (``Trainer(checkpoint=...)``); ``net`` must be an ``nn.Module``.

    Returns:
        A :class:`History`: a dict of per-epoch lists, ``epoch`` (1, 2, ...),
        ``train_loss``, ``train_acc``, ``test_acc`` and ``seconds`` (training plus test
        evaluation), shown in one line.

    Raises:
        DivergenceError: the loss became NaN or infinite (try a smaller learning rate).
        CheckpointError: ``checkpoint`` belongs to another model or other settings.

    Example::

        history = train_ch3(net, train_iter, test_iter, loss, 10, trainer)
        history["test_acc"][-1]   # the final test accuracy
    """
    check_int("num_epochs", num_epochs, min_value=1)
    model = _Ch3Model(net, loss, updater, device, ch3_board())
    Trainer(max_epochs=num_epochs, checkpoint=checkpoint).fit(
        model, _Loaders(train_iter, test_iter)
    )
    model.board.log(
        f"train_ch3: {len(model.history['epoch'])} epochs in {sum(model.history['seconds']):.1f} s"
    )
    return model.history


def ch3_board(board_class=None):
    """The book's ``train_ch3`` figure: three curves against epochs from 1, y in [0.3, 0.9]."""
    return (board_class or ProgressBoard)(
        xlabel="epoch",
        ylabel="loss, accuracy",
        xlim=[1, 1],  # the trainer sets the end
        ylim=[0.3, 0.9],
        ls=("-", "--", "-."),
        colors=("C0", "m", "g"),
    )


class History(dict):
    """Per-epoch lists of a training run (``history["test_acc"][-1]``), shown in one line."""

    def __repr__(self):
        epochs = len(self.get("epoch", []))
        last = ", ".join(
            f"{key} {values[-1]:.4g}"
            for key, values in self.items()
            if key not in ("epoch", "seconds") and values
        )
        return f"History({epochs} epoch{'s' * (epochs != 1)}: {last})"


def _cached(net, loss, updater, device):
    """The adapter and one-epoch trainer of ``(net, loss, updater, device)``, kept on ``net``.

    In ``net``'s ``__dict__`` (not registered as a submodule, so its ``state_dict`` stays
    the same); a ``net`` without one (a builtin) gets new ones on every call.
    """
    cached = getattr(net, "_d2l_train_epoch_ch3", None)
    if cached is not None and cached[0] == (loss, updater, device):
        return cached[1:]
    model = _Ch3Model(net, loss, updater, device, ProgressBoard(display=False))
    trainer = Trainer(max_epochs=1)
    if hasattr(net, "__dict__"):
        vars(net)["_d2l_train_epoch_ch3"] = ((loss, updater, device), model, trainer)
    return model, trainer


class _Loaders:
    """``train_iter`` and ``test_iter`` seen as a ``DataModule``."""

    def __init__(self, train_iter, test_iter):
        self.train_iter, self.test_iter = train_iter, test_iter

    def train_dataloader(self):
        return self.train_iter

    def val_dataloader(self):
        return self.test_iter


class _Ch3Model(Module):
    """The chapter-3 pieces (``net``, ``loss``, ``updater``) as an English-edition ``Module``.

    Its steps do what the book's ``train_epoch_ch3`` and ``evaluate_accuracy`` do per batch,
    keeping the sums on the device; at the end of an epoch they are read once, kept as
    ``last_train`` and, with test batches, recorded in ``history`` and drawn on the board,
    the book's three curves.
    """

    def __init__(self, net, loss, updater, device, board):
        super().__init__()
        _check_updater(updater)
        self.net, self.loss_fn, self.updater = net, loss, updater
        self.device = _train_device(net, device)
        self.board = board
        self.history = History(epoch=[], train_loss=[], train_acc=[], test_acc=[], seconds=[])
        self.last_train = None
        self._reset()

    def _reset(self):
        self.loss_sum, self.correct, self.count = 0.0, 0, 0
        self.test_correct, self.test_count = 0, 0

    def training_step(self, batch):
        X, y = to_device(self.device, *batch)
        y_hat = self.net(X)
        l = self.loss_fn(y_hat, y)
        n = X.shape[0]
        # the book's sgd divides by it: under torchrun, the whole batch's size, not the share's
        self.batch_size = getattr(self.trainer.train_dataloader, "global_size", n)
        if n:  # an empty share (torchrun, a batch smaller than the ranks) has a NaN mean
            self.loss_sum = self.loss_sum + summed_loss(l.detach(), self.loss_fn, n)
            self.correct = self.correct + num_correct(y_hat.detach(), y)
            self.count += y.numel()
        if isinstance(self.updater, torch.optim.Optimizer):
            return mean_loss(l, self.loss_fn, n)
        if n != self.batch_size:  # a share, which the trainer weights as a mean; its gradient
            return mean_loss(l, self.loss_fn, n) * self.batch_size  # becomes the batch sum's
        return summed_loss(l, self.loss_fn, n)

    def validation_step(self, batch):
        X, y = to_device(self.device, *batch)
        self.test_correct = self.test_correct + num_correct(self.net(X), y)
        self.test_count += y.numel()

    # Its state is its net's: a checkpoint of train_ch3 (or of the command) holds the
    # book's net's state_dict, which loads into the net itself.
    def state_dict(self, *args, **kwargs):
        if isinstance(self.net, nn.Module):
            return self.net.state_dict(*args, **kwargs)
        return super().state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, *args, **kwargs):
        if isinstance(self.net, nn.Module):
            return self.net.load_state_dict(state_dict, *args, **kwargs)
        return super().load_state_dict(state_dict, *args, **kwargs)

    def configure_optimizers(self):
        if isinstance(self.updater, torch.optim.Optimizer):
            return self.updater
        return _FunctionUpdater(self)

    def on_train_epoch_end(self, metrics):
        """Read the epoch's sums (once, over all ranks); record and draw them with test data."""
        loss_sum, correct, count, test_correct, test_count = distributed.all_reduce_sums(
            self.loss_sum, self.correct, self.count, self.test_correct, self.test_count
        )
        self._reset()
        what = "train_epoch_ch3" if self.trainer.val_dataloader is None else "train_ch3"
        if count == 0:
            raise ValueError(f"{what}: train_iter yielded no examples")
        self.last_train = (loss_sum / count, correct / count)
        if self.trainer.val_dataloader is None:
            return
        if test_count == 0:
            raise ValueError("train_ch3: test_iter yielded no examples")
        row = {
            "epoch": metrics["epoch"],
            "train_loss": self.last_train[0],
            "train_acc": self.last_train[1],
            "test_acc": test_correct / test_count,
            "seconds": metrics["seconds"],
        }
        for key, value in row.items():
            self.history[key].append(value)
        for key in ("train_loss", "train_acc", "test_acc"):
            self.board.draw(row["epoch"], row[key], key.replace("_", " "))
        metrics.update(row)


class _FunctionUpdater:
    """A function ``updater(batch_size)`` used as the optimizer ``Trainer`` expects."""

    def __init__(self, model):
        self.model = model

    def zero_grad(self):
        pass  # the book's sgd zeroes the gradients after its step

    def step(self):
        self.model.updater(self.model.batch_size)
