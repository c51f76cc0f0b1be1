"""The training loop that chapter 4 reuses from chapter 3 (Book: §3.2, §3.6, §4.4).

Linear regression's pieces (``linreg``, ``squared_loss``, ``sgd``), counting helpers
(``Accumulator``, ``Timer``, ``accuracy``), evaluation (``evaluate_accuracy``,
``evaluate_loss``) and the loop itself (``train_epoch_ch3``, ``train_ch3``, ``predict_ch3``),
with the book's names and arguments, plus ``set_seed`` for reproducible runs.

Devices: the training helpers take ``device=None`` after the book's arguments. An
``nn.Module`` is moved to ``device`` (default ``try_gpu()``, so the same cell uses a GPU
when there is one) and every batch follows it; the evaluators use the device the module's
parameters are on. A scratch net written as a plain function (the book's ``def net(X)``
over global tensors) cannot be moved, so its batches stay where the loader put them
(the CPU) unless ``device`` is given, which then must be where its tensors live.

Differences from the book, all compatible with its cells: ``train_ch3`` returns the
per-epoch history instead of asserting on its own accuracy; losses are summed on the
device and read once per epoch (no per-batch sync with the GPU); a loss that returns one
number per batch (``nn.CrossEntropyLoss()`` with its default ``reduction='mean'``) is
counted as the batch mean, not as a per-example sum, so the reported train loss is right;
the evaluators restore the net's train/eval mode when they are done.

Under ``torchrun`` (:mod:`d2lcompute.distributed`) ``train_ch3`` and ``train_epoch_ch3``
train data-parallel with the same arguments: ``batch_size`` stays the global mini-batch,
``updater(batch_size)`` gets the global one, a CUDA device becomes the rank's own GPU, and
the returned and plotted metrics are over all ranks. The evaluators stay local (any rank
may call them alone) and read the whole ``data_iter``.
"""

import contextlib
import time

import numpy as np
import torch
from torch import nn

from d2lcompute import distributed
from d2lcompute._checks import check_int, check_lr
from d2lcompute._seeding import set_seed as set_seed  # d2l.set_seed: the one seed policy
from d2lcompute.devices import try_gpu
from d2lcompute.oo_design import Module, ProgressBoard
from d2lcompute.trainer import Trainer


def linreg(X, w, b):
    """The linear regression model ``Xw + b``. Book: §3.2.

    Shape:
        - X: ``(n, d)``, w: ``(d, 1)``, b: scalar or ``(1,)``; output ``(n, 1)``.
    """
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """Half the squared error per example, ``(y_hat - y)**2 / 2``. Book: §3.2.

    ``y`` is reshaped to ``y_hat``'s shape, so ``(n,)`` labels work with ``(n, 1)`` outputs.

    Example::

        >>> squared_loss(torch.tensor([[1.0], [3.0]]), torch.tensor([2.0, 3.0]))
        tensor([[0.5000],
                [0.0000]])
    """
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """Minibatch stochastic gradient descent, in place. Book: §3.2.

    Each parameter moves by ``-lr * grad / batch_size`` (the loss was summed over the
    batch), then its gradient is zeroed for the next step.

    Args:
        params: tensors with ``requires_grad=True`` whose ``.grad`` is filled.
        lr: learning rate.
        batch_size: the number of examples the summed loss covered.
    """
    check_lr(lr)
    check_int("batch_size", batch_size, min_value=1)
    params = list(params)
    with torch.no_grad():
        for i, param in enumerate(params):
            if param.grad is None:
                raise ValueError(
                    f"sgd: params[{i}] (shape {tuple(param.shape)}) has no gradient; "
                    "call backward() on a loss computed from it first"
                )
            param -= lr * param.grad / batch_size
            param.grad.zero_()


class Accumulator:
    """Running sums of ``n`` numbers. Book: §3.6.

    Example::

        >>> metric = Accumulator(2)
        >>> metric.add(3, 1); metric.add(2.5, 1)
        >>> metric[0] / metric[1]
        2.75
    """

    def __init__(self, n):
        self.data = [0.0] * check_int("n", n, min_value=1)

    def add(self, *args):
        if len(args) != len(self.data):
            raise ValueError(f"Accumulator.add expects {len(self.data)} numbers, got {len(args)}")
        # detach: float() of a tensor that requires grad warns in recent torch
        self.data = [
            a + float(b.detach() if torch.is_tensor(b) else b) for a, b in zip(self.data, args)
        ]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]

    def __len__(self):
        return len(self.data)


class Timer:
    """Records several running times. Book: §3.2 (it starts when created).

    Example::

        >>> timer = Timer(); seconds = timer.stop()
        >>> timer.sum() == seconds
        True
    """

    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        """Start (or restart) the clock."""
        self.tik = time.perf_counter()  # monotonic, unlike the book's time.time()

    def stop(self):
        """Stop the clock, record the time since ``start`` and return it in seconds."""
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self):
        """The mean recorded time."""
        if not self.times:
            raise ValueError("Timer.avg: no time recorded yet; call stop() first")
        return sum(self.times) / len(self.times)

    def sum(self):
        """The total recorded time."""
        return sum(self.times)

    def cumsum(self):
        """The running totals of the recorded times, as a list."""
        return np.array(self.times).cumsum().tolist()


def _num_correct(y_hat, y):
    """The number of correct predictions as a 0-d tensor on ``y``'s device (no sync)."""
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    if y_hat.shape != y.shape:
        if y_hat.numel() != y.numel():
            raise ValueError(
                "accuracy expects y_hat of shape (n, num_classes) or (n,) and y of "
                f"shape (n,); got y_hat {tuple(y_hat.shape)}, y {tuple(y.shape)}"
            )
        y_hat = y_hat.reshape(y.shape)  # (n, 1) predictions must not broadcast to (n, n)
    return (y_hat.type(y.dtype) == y).sum()


def accuracy(y_hat, y):
    """The number of correct predictions (a float; divide by ``len(y)`` for a rate). Book: §3.6.

    Shape:
        - y_hat: ``(n, num_classes)`` scores (the arg-max is the prediction) or ``(n,)`` labels.
        - y: ``(n,)`` labels.

    Example::

        >>> accuracy(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1]))
        1.0
    """
    return float(_num_correct(y_hat, y))


def _summed_loss(l, loss, n):
    """The loss summed over the batch of ``n`` examples, whatever reduction ``loss`` applies."""
    if l.dim() > 0:
        return l.sum()
    # One number per batch: the mean (torch's default), or the sum if the loss says so.
    return l if getattr(loss, "reduction", "mean") == "sum" else l * n


def _mean_loss(l, loss, n):
    """The loss averaged over the batch of ``n`` examples (what an optimizer steps on)."""
    if l.dim() == 0 and getattr(loss, "reduction", "mean") == "sum":
        return l / n
    return l.mean()


def _module_device(net):
    param = next(net.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _eval_device(net, device):
    """Where evaluation batches go: ``device``, else a module's own device, else nowhere."""
    if device is not None:
        return torch.device(device)
    return _module_device(net) if isinstance(net, nn.Module) else None


def _to(device, *tensors):
    return tensors if device is None else tuple(t.to(device) for t in tensors)


@contextlib.contextmanager
def _eval_mode(net):
    """No gradients, and a module in eval mode (dropout off); its mode comes back after."""
    was_training = isinstance(net, nn.Module) and net.training
    if isinstance(net, nn.Module):
        net.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        if isinstance(net, nn.Module):
            net.train(was_training)


def evaluate_accuracy(net, data_iter, device=None):
    """The fraction of correct predictions of ``net`` over ``data_iter``. Book: §3.6.

    A module runs in eval mode (dropout off), then gets its previous mode back.

    Args:
        net: an ``nn.Module`` or a function from a batch ``X`` to scores.
        data_iter: yields ``(X, y)`` batches.
        device: where batches go; default: the module's device (a function's: unchanged).
    """
    device = _eval_device(net, device)
    correct, total = 0, 0
    with _eval_mode(net):
        for X, y in data_iter:
            X, y = _to(device, X, y)
            correct = correct + _num_correct(net(X), y)
            total += y.numel()
    if total == 0:
        raise ValueError("evaluate_accuracy: data_iter yielded no examples")
    return float(correct) / total


def evaluate_loss(net, data_iter, loss, device=None):
    """The mean of ``loss`` of ``net`` over ``data_iter``. Book: §4.4.

    Unlike the book's version it runs without gradients and with a module in eval mode.
    Arguments as in ``evaluate_accuracy``. As in the book, ``y`` takes the output's shape
    when it has as many elements (regression); class labels are passed as they are.
    """
    device = _eval_device(net, device)
    total, count = 0.0, 0
    with _eval_mode(net):
        for X, y in data_iter:
            X, y = _to(device, X, y)
            out = net(X)
            if y.numel() == out.numel():  # regression: (n,) targets against (n, 1) outputs
                y = y.reshape(out.shape)
            l = loss(out, y)
            total = total + _summed_loss(l, loss, len(out))
            count += l.numel() if l.dim() > 0 else len(out)
    if count == 0:
        raise ValueError("evaluate_loss: data_iter yielded no examples")
    return float(total) / count


def _train_device(net, device):
    """Move a module to ``device`` (default ``try_gpu()``); return where batches go."""
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
    It runs one epoch of the package's one training loop, ``Trainer.fit``.

    Args:
        net: an ``nn.Module`` (set to train mode, moved to ``device``) or a function.
        train_iter: yields ``(X, y)`` batches.
        loss: maps ``(y_hat, y)`` to per-example losses (or to the batch mean).
        updater: an optimizer, or e.g. ``lambda batch_size: sgd(params, lr, batch_size)``.
        device: see the module docstring; default ``try_gpu()`` for a module.

    Raises:
        DivergenceError: the loss became NaN or infinite.
    """
    model = _Ch3Model(net, loss, updater, device, ProgressBoard(display=False))
    _fit(model, train_iter, None, num_epochs=1)
    loss_sum, correct, count = distributed.all_reduce_sums(
        model.loss_sum, model.correct, model.count
    )
    if count == 0:
        raise ValueError("train_epoch_ch3: train_iter yielded no examples")
    return loss_sum / count, correct / count


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater, device=None):
    """Train for ``num_epochs``, plotting train loss, train and test accuracy. Book: §3.6.

    It runs the package's one training loop, ``Trainer.fit``, and shows the curves as the
    book's ``Animator`` does: a figure updated in place in Jupyter; in a terminal a
    progress bar within each epoch and a line per epoch on stderr, and at the end the
    figure saved to a PNG whose path is printed, then a summary line with the last
    metrics. Nothing goes to stdout.

    Args:
        net, train_iter, loss, updater, device: as in ``train_epoch_ch3``.
        test_iter: batches for the test accuracy after each epoch.
        num_epochs: a positive integer.

    Returns:
        A :class:`History`: a dict of per-epoch lists, ``epoch`` (1, 2, ...),
        ``train_loss``, ``train_acc``, ``test_acc`` and ``seconds`` (training plus test
        evaluation), shown in one line.

    Raises:
        DivergenceError: the loss became NaN or infinite (try a smaller learning rate).

    Example::

        history = train_ch3(net, train_iter, test_iter, loss, 10, trainer)
        history["test_acc"][-1]   # the final test accuracy
    """
    check_int("num_epochs", num_epochs, min_value=1)
    board = ProgressBoard(
        xlabel="epoch",
        ylabel="loss, accuracy",
        xlim=[1, num_epochs],
        ylim=[0.3, 0.9],
        ls=("-", "--", "-."),
        colors=("C0", "m", "g"),
    )
    model = _Ch3Model(net, loss, updater, device, board)
    _fit(model, train_iter, test_iter, num_epochs)
    board.log(f"train_ch3: {num_epochs} epochs in {sum(model.history['seconds']):.1f} s")
    return model.history


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


def _fit(model, train_iter, test_iter, num_epochs):
    Trainer(max_epochs=num_epochs).fit(model, _Loaders(train_iter, test_iter))


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
    keeping the sums on the device; after the last test batch of an epoch they are read
    once, recorded in ``history`` and drawn on the board, the book's three curves.
    """

    def __init__(self, net, loss, updater, device, board):
        super().__init__()
        _check_updater(updater)
        self.net, self.loss_fn, self.updater = net, loss, updater
        self.device = _train_device(net, device)
        self.board = board
        self.history = History(epoch=[], train_loss=[], train_acc=[], test_acc=[], seconds=[])
        self._reset()

    def _reset(self):
        self.loss_sum, self.correct, self.count = 0.0, 0, 0
        self.test_correct, self.test_count = 0, 0
        self.timer = None

    def training_step(self, batch):
        if self.timer is None:
            self.timer = Timer()
        X, y = _to(self.device, *batch)
        y_hat = self.net(X)
        l = self.loss_fn(y_hat, y)
        n = X.shape[0]
        # the book's sgd divides by it: under torchrun, the whole batch's size, not the share's
        self.batch_size = getattr(self.trainer.train_dataloader, "global_size", n)
        if n:  # an empty share (torchrun, a batch smaller than the ranks) has a NaN mean
            self.loss_sum = self.loss_sum + _summed_loss(l.detach(), self.loss_fn, n)
            self.correct = self.correct + _num_correct(y_hat.detach(), y)
            self.count += y.numel()
        if isinstance(self.updater, torch.optim.Optimizer):
            return _mean_loss(l, self.loss_fn, n)
        if n != self.batch_size:  # a share, which the trainer weights as a mean; its gradient
            return _mean_loss(l, self.loss_fn, n) * self.batch_size  # becomes the batch sum's
        return _summed_loss(l, self.loss_fn, n)

    def validation_step(self, batch):
        X, y = _to(self.device, *batch)
        self.test_correct = self.test_correct + _num_correct(self.net(X), y)
        self.test_count += y.numel()
        trainer = self.trainer
        if trainer.val_batch_idx + 1 == (trainer.epoch + 1) * trainer.num_val_batches:
            self._end_epoch(trainer.epoch + 1)

    def configure_optimizers(self):
        if isinstance(self.updater, torch.optim.Optimizer):
            return self.updater
        return _FunctionUpdater(self)

    def _end_epoch(self, epoch):
        loss_sum, correct, count, test_correct, test_count = distributed.all_reduce_sums(
            self.loss_sum, self.correct, self.count, self.test_correct, self.test_count
        )
        if count == 0:
            raise ValueError("train_ch3: train_iter yielded no examples")
        if test_count == 0:
            raise ValueError("train_ch3: test_iter yielded no examples")
        row = {
            "epoch": epoch,
            "train_loss": loss_sum / count,
            "train_acc": correct / count,
            "test_acc": test_correct / test_count,
            "seconds": self.timer.stop(),
        }
        for key, value in row.items():
            self.history[key].append(value)
        self.board.xlim = [1, self.trainer.max_epochs]  # the book's figure starts at epoch 1
        for key, label in [
            ("train_loss", "train loss"),
            ("train_acc", "train acc"),
            ("test_acc", "test acc"),
        ]:
            self.board.draw(epoch, row[key], label)
        self._reset()


class _FunctionUpdater:
    """A function ``updater(batch_size)`` used as the optimizer ``Trainer`` expects."""

    def __init__(self, model):
        self.model = model

    def zero_grad(self):
        pass  # the book's sgd zeroes the gradients after its step

    def step(self):
        self.model.updater(self.model.batch_size)


def predict_ch3(net, test_iter, n=6, device=None):
    """Show the first ``n`` test images titled with true and predicted labels. Book: §3.6.

    Returns:
        The matplotlib axes from ``show_images``.
    """
    from d2lcompute.data import get_fashion_mnist_labels
    from d2lcompute.plotting import show_images

    check_int("n", n, min_value=1)
    X, y = next(iter(test_iter))
    n = min(n, len(X))
    with _eval_mode(net):
        (X_dev,) = _to(_eval_device(net, device), X)
        preds = net(X_dev).argmax(dim=1).cpu()
    titles = [
        f"{true}\n{pred}"
        for true, pred in zip(get_fashion_mnist_labels(y), get_fashion_mnist_labels(preds))
    ]
    return show_images(X[:n].reshape(n, 28, 28).cpu(), 1, n, titles=titles[:n])
