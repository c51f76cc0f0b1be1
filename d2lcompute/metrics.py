"""Counting and evaluation, shared by every loop (Book: §3.1, §3.6, §4.4).

``Accumulator`` and ``Timer``, ``accuracy``, the evaluators ``evaluate_accuracy`` and
``evaluate_loss``, and ``predict_ch3``, with the book's names and arguments. The loops are
:mod:`d2lcompute.trainer` (``Trainer.fit``, the one loop) and :mod:`d2lcompute.classic_loop`
(``train_ch3`` on it).

Devices: the evaluators use the device the module's parameters are on (a scratch net
written as a plain function keeps its batches where the loader put them, unless
``device`` is given). Differences from the book, all compatible with its cells: losses are
summed on the device and read once (no per-batch sync with the GPU); a loss that returns
one number per batch (``nn.CrossEntropyLoss()`` with its default ``reduction='mean'``) is
counted as the batch mean, not as a per-example sum, so the reported loss is right; the
evaluators restore the net's train/eval mode when they are done.

Under ``torchrun`` (:mod:`d2lcompute.distributed`) the evaluators share the work: each rank
evaluates its rows of every batch and the sums are added over the ranks, so every rank gets
the one-process result. Every rank must call them, as the book's loops do.
"""

import contextlib
import time

import numpy as np
import torch
from torch import nn

from d2lcompute import distributed
from d2lcompute._checks import (
    check_callable,
    check_device,
    check_int,
    check_model_input,
    check_tensor,
)


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


def num_correct(y_hat, y):
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
    return float(num_correct(check_tensor("y_hat", y_hat), check_tensor("y", y)))


def summed_loss(l, loss, n):
    """The loss summed over the batch of ``n`` examples, whatever reduction ``loss`` applies."""
    if l.dim() > 0:
        return l.sum()
    # One number per batch: the mean (torch's default), or the sum if the loss says so.
    return l if getattr(loss, "reduction", "mean") == "sum" else l * n


def mean_loss(l, loss, n):
    """The loss averaged over the batch of ``n`` examples (what an optimizer steps on)."""
    if l.dim() == 0 and getattr(loss, "reduction", "mean") == "sum":
        return l / n
    return l.mean()


def _module_device(net):
    param = next(net.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _eval_device(net, device):
    """Where evaluation batches go: ``device``, else a module's own device, else nowhere."""
    check_callable("net", net)
    if device is not None:
        return check_device("device", device)
    return _module_device(net) if isinstance(net, nn.Module) else None


def to_device(device, *tensors):
    """``tensors`` moved to ``device`` (unchanged when ``device`` is None)."""
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


def _shares(data_iter):
    """This rank's share of each batch under torchrun (:func:`distributed.shard`); else the batch.

    A loader that already hands out shares (a ``ShardedLoader``) is read as it is.
    """
    if not distributed.start() or isinstance(data_iter, distributed.ShardedLoader):
        yield from data_iter
        return
    for batch in data_iter:
        yield distributed.shard(batch)


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
        for X, y in _shares(data_iter):
            if not len(X):  # an empty share (torchrun, fewer examples than ranks)
                continue
            X, y = to_device(device, check_model_input("X", X, net), y)
            correct = correct + num_correct(net(X), y)
            total += y.numel()
    correct, total = distributed.all_reduce_sums(correct, total)
    if total == 0:
        raise ValueError("evaluate_accuracy: data_iter yielded no examples")
    return correct / total


def evaluate_loss(net, data_iter, loss, device=None):
    """The mean of ``loss`` of ``net`` over ``data_iter``. Book: §4.4.

    Unlike the book's version it runs without gradients and with a module in eval mode.
    Arguments as in ``evaluate_accuracy``. As in the book, ``y`` takes the output's shape
    when it has as many elements (regression); class labels are passed as they are.
    """
    device = _eval_device(net, device)
    total, count = 0.0, 0
    with _eval_mode(net):
        for X, y in _shares(data_iter):
            if not len(X):
                continue
            X, y = to_device(device, check_model_input("X", X, net), y)
            out = net(X)
            if y.numel() == out.numel():  # regression: (n,) targets against (n, 1) outputs
                y = y.reshape(out.shape)
            l = loss(out, y)
            total = total + summed_loss(l, loss, len(out))
            count += l.numel() if l.dim() > 0 else len(out)
    total, count = distributed.all_reduce_sums(total, count)
    if count == 0:
        raise ValueError("evaluate_loss: data_iter yielded no examples")
    return total / count


def predict_ch3(net, test_iter, n=6, device=None):
    """Show the first ``n`` test images titled with true and predicted labels. Book: §3.6.

    Returns:
        The matplotlib axes from ``show_images``.
    """
    from d2lcompute.image_dataset import get_fashion_mnist_labels
    from d2lcompute.live.plotting import show_images

    check_int("n", n, min_value=1)
    X, y = next(iter(test_iter))
    n = min(n, len(X))
    with _eval_mode(net):
        (X_dev,) = to_device(_eval_device(net, device), X)
        preds = net(X_dev).argmax(dim=1).cpu()
    titles = [
        f"{true}\n{pred}"
        for true, pred in zip(get_fashion_mnist_labels(y), get_fashion_mnist_labels(preds))
    ]
    return show_images(X[:n].reshape(n, 28, 28).cpu(), 1, n, titles=titles[:n])
