"""Convolutional networks: what the book saves in the chapter after the MLPs.

Book: Chinese edition ch. 6 (卷积神经网络: §6.2 ``corr2d``, §6.6 ``evaluate_accuracy_gpu``
and ``train_ch6``); English edition ch. 7 (§7.2 ``corr2d``, §7.6 ``init_cnn`` and ``LeNet``;
its ``layer_summary`` is ``Classifier.layer_summary``). The other cells of the chapter
(padding, strides, channels, pooling) call ``corr2d`` and PyTorch's layers directly.

``train_ch6`` is a face on ``train_ch3``, so both editions train on the one loop,
``Trainer.fit``, and show the one display.
"""

import torch
from torch import nn

from d2lcompute import distributed
from d2lcompute._checks import check_int, check_lr, check_module
from d2lcompute.classic_loop import train_ch3
from d2lcompute.classification import Classifier
from d2lcompute.devices import try_gpu
from d2lcompute.metrics import evaluate_accuracy


def corr2d(X, K):
    """The two-dimensional cross-correlation of ``X`` with the kernel ``K``. Book: §6.2.

    Each output element is the sum of a ``K``-sized window of ``X`` times ``K``; the
    windows are views of ``X`` (``unfold``), so gradients reach both arguments.

    Shape:
        - X: ``(h, w)``; K: ``(kh, kw)`` with ``kh <= h`` and ``kw <= w``.
        - Output: ``(h - kh + 1, w - kw + 1)``.

    Example::

        >>> X = torch.arange(9.0).reshape(3, 3)
        >>> corr2d(X, torch.tensor([[0.0, 1.0], [2.0, 3.0]]))
        tensor([[19., 25.],
                [37., 43.]])
    """
    for name, value in (("X", X), ("K", K)):
        if not torch.is_tensor(value) or value.ndim != 2:
            shape = tuple(value.shape) if torch.is_tensor(value) else type(value).__name__
            raise ValueError(f"{name} must be a 2-D tensor (height, width), got {shape}")
    h, w = K.shape
    if h > X.shape[0] or w > X.shape[1] or K.numel() == 0:
        raise ValueError(
            f"K must be non-empty and fit in X: X has shape {tuple(X.shape)}, K {tuple(K.shape)}"
        )
    windows = X.unfold(0, h, 1).unfold(1, w, 1)  # (h_out, w_out, kh, kw)
    return (windows * K).sum(dim=(-2, -1))


def init_cnn(module):
    """Xavier-uniform weights for the linear and convolutional layers (``net.apply``).

    Book: en §7.6 (the Chinese §6.6 does the same inside ``train_ch6``)
    """
    if type(module) in (nn.Linear, nn.Conv2d):
        nn.init.xavier_uniform_(module.weight)


class LeNet(Classifier):
    """LeNet-5 with the book's changes (sigmoid, average pooling, no Gaussian output layer).

    Lazy layers: run a batch through it (``model.apply_init([X], init_cnn)``) before
    counting or initialising its parameters.

    Shape:
        - Input: ``(n, 1, 28, 28)`` images; output: ``(n, num_classes)`` scores.

    Book: en §7.6
    """

    def __init__(self, lr=0.1, num_classes=10):
        super().__init__()
        check_lr(lr)
        check_int("num_classes", num_classes, min_value=1)
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5, padding=2),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=5),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.LazyLinear(120),
            nn.Sigmoid(),
            nn.LazyLinear(84),
            nn.Sigmoid(),
            nn.LazyLinear(num_classes),
        )


def evaluate_accuracy_gpu(net, data_iter, device=None):
    """The accuracy of ``net`` over ``data_iter``, on ``net``'s device. Book: §6.6.

    ``evaluate_accuracy`` under the chapter's name: batches go to ``device``, by default
    where the module's parameters are; a module is in eval mode meanwhile.
    """
    return evaluate_accuracy(net, data_iter, device)


def train_ch6(net, train_iter, test_iter, num_epochs, lr, device=None):
    """Train a module with SGD and cross-entropy on ``device``, plotting the book's curves.

    As the book: the weights of the ``nn.Linear`` and ``nn.Conv2d`` layers are initialised
    by ``init_cnn`` (Xavier), the run says where it trains, and ends printing the last loss
    and accuracies and the examples per second. The training is ``train_ch3``'s (the one
    loop, the one display), so the return value is its per-epoch ``History``.

    Args:
        net: an ``nn.Module`` (a network of lazy layers must have seen a batch).
        train_iter, test_iter: yield ``(X, y)`` batches.
        num_epochs: a positive integer.
        lr: the learning rate of ``torch.optim.SGD``.
        device: default ``try_gpu()`` (the book passes ``d2l.try_gpu()``).

    Book: §6.6
    """
    check_module("net", net)
    check_lr(lr)
    device = distributed.local_device(try_gpu() if device is None else device)
    net.apply(init_cnn)
    main = distributed.is_main_process()
    if main:
        print("training on", device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    history = train_ch3(net, train_iter, test_iter, loss, num_epochs, optimizer, device)
    if main:
        print(
            f"loss {history['train_loss'][-1]:.3f}, train acc {history['train_acc'][-1]:.3f}, "
            f"test acc {history['test_acc'][-1]:.3f}"
        )
        examples = len(getattr(train_iter, "dataset", ()))
        if examples:
            speed = examples * num_epochs / sum(history["seconds"])
            print(f"{speed:.1f} examples/sec on {device}")
    return history
