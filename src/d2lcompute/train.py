"""The pieces of the training loop that chapter 4 reuses from chapter 3 (Book: §3.2, §3.6, §4.4).

Linear regression's pieces (``linreg``, ``squared_loss``, ``sgd``), counting helpers
(``Accumulator``, ``Timer``, ``accuracy``), evaluation (``evaluate_accuracy``,
``evaluate_loss``) and ``predict_ch3``, with the book's names and arguments, plus
``set_seed`` for reproducible runs. The loop itself, ``train_ch3`` and ``train_epoch_ch3``,
is in :mod:`d2lcompute.classic_loop`.

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
    check_lr,
    check_model_input,
    check_tensor,
)
from d2lcompute._seeding import set_seed as set_seed  # d2l.set_seed: the one seed policy


def linreg(X, w, b):
    """The linear regression model ``Xw + b``. Book: §3.2.

    Shape:
        - X: ``(n, d)``, w: ``(d, 1)``, b: scalar or ``(1,)``; output ``(n, 1)``.
    """
    check_tensor("X", X, floating=True)
    if check_tensor("w", w, floating=True).dtype != X.dtype:
        raise TypeError(f"w has dtype {w.dtype} but X has {X.dtype}; make them match (w.float())")
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """Half the squared error per example, ``(y_hat - y)**2 / 2``. Book: §3.2.

    ``y`` is reshaped to ``y_hat``'s shape, so ``(n,)`` labels work with ``(n, 1)`` outputs.

    Example::

        >>> squared_loss(torch.tensor([[1.0], [3.0]]), torch.tensor([2.0, 3.0]))
        tensor([[0.5000],
                [0.0000]])
    """
    check_tensor("y_hat", y_hat)
    return (y_hat - check_tensor("y", y).reshape(y_hat.shape)) ** 2 / 2


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
    if isinstance(params, torch.Tensor) or not hasattr(params, "__iter__"):
        raise TypeError(f"params must be a list of tensors, e.g. [w, b], got params={params!r}")
    params = list(params)
    for i, param in enumerate(params):
        check_tensor(f"params[{i}]", param)
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
    from d2lcompute.plotting import show_images

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
