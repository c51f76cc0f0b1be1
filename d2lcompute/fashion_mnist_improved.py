"""An improved MLP recipe for Fashion-MNIST: the §4.6 dropout net, trained better.

The book's dropout net (784-256-256-10, SGD at lr 0.5) reaches about 0.86 test accuracy
after 10 epochs. Still an MLP (no convolutions) and still 10 epochs, this recipe reaches
about 0.90 (0.901 and 0.903 with seeds 0 and 1 on a CPU): wider hidden layers (512 and
256 units, twice the book's arithmetic per example), batch normalisation (§8.5) before
each ReLU, dropout, label smoothing, and AdamW whose learning rate follows a one-cycle
schedule over the whole run (warm up, then cosine decay to near zero). Random left-right
flips of the training images were tried and left out: in 10 epochs they cost accuracy
(0.898 against 0.905 with 1024 and 512 units).

The data stay the in-memory batches of ``load_data_fashion_mnist`` and the training loop
stays the package's one loop (``train_ch3``/``train_epoch_ch3`` on ``Trainer.fit``): the
schedule is stepped by a hook after every ``optimizer.step()``, so the loop needs no change.

Relies on torch only. Example::

    net = ImprovedMLP()
    optimizer, scheduler = make_optimizer(net, num_epochs=10, steps_per_epoch=len(train_iter))
    d2l.train_ch3(net, train_iter, test_iter, make_loss(), 10, optimizer)
"""

import torch
from torch import nn

from d2lcompute._checks import check_int, check_lr, check_number, check_probability

# The recipe's documented defaults (batch size 256 as the book's).
NUM_HIDDENS = (512, 256)  # (1024, 512): +0.003 for 2.5x the time
DROPOUT = 0.2  # after each hidden layer
LR = 3e-3  # the peak of the one-cycle schedule
WEIGHT_DECAY = 0.05
WARMUP = 0.2  # fraction of the run spent warming up
LABEL_SMOOTHING = 0.1


class ImprovedMLP(nn.Sequential):
    """An MLP with batch normalisation and dropout for 28 x 28 images and 10 classes.

    ``Flatten``, then for each hidden width ``Linear`` (no bias: batch normalisation's
    shift replaces it), ``BatchNorm1d``, ``ReLU`` and ``Dropout``; then ``Linear`` to the
    10 logits. Weights keep torch's default initialisation: batch normalisation rescales
    each layer's output, so the book's N(0, 0.01²) would gain nothing.

    Args:
        num_hiddens: the widths of the hidden layers, e.g. ``(1024, 512)``, or one int.
        dropout: the dropout probability after each hidden layer, in [0, 1].

    Shape:
        - Input: ``(N, 1, 28, 28)``.
        - Output: ``(N, 10)`` logits.

    Example::

        >>> ImprovedMLP()(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_hiddens=NUM_HIDDENS, dropout=DROPOUT):
        widths = [check_int("num_hiddens", h, min_value=1) for h in _sequence(num_hiddens)]
        dropout = check_probability("dropout", dropout)
        layers = [nn.Flatten()]
        for n_in, n_out in zip([784, *widths], widths):
            layers += [
                nn.Linear(n_in, n_out, bias=False),
                nn.BatchNorm1d(n_out),
                nn.ReLU(),
                nn.Dropout(dropout),
            ]
        layers.append(nn.Linear(widths[-1] if widths else 784, 10))
        super().__init__(*layers)


def make_loss(label_smoothing=LABEL_SMOOTHING):
    """Cross-entropy with label smoothing, one loss per example (``reduction="none"``).

    With 10 classes, smoothing 0.1 trains towards 0.91 on the true class and 0.01 on each
    other one, which keeps the logits from growing without bound on the examples the net
    already gets right.
    """
    label_smoothing = check_probability("label_smoothing", label_smoothing)
    return nn.CrossEntropyLoss(reduction="none", label_smoothing=label_smoothing)


def make_optimizer(
    net, lr=LR, *, num_epochs, steps_per_epoch, weight_decay=WEIGHT_DECAY, warmup=WARMUP
):
    """AdamW and a one-cycle learning-rate schedule over ``num_epochs`` epochs.

    The learning rate rises from ``lr / 25`` to ``lr`` over the first ``warmup`` of the
    steps, then falls along a cosine to ``lr / 25e4`` at the last step; AdamW's ``beta1``
    moves the other way, from 0.95 down to 0.85 and back. The scheduler is
    stepped by a hook after every ``optimizer.step()``, so any loop that steps the
    optimizer follows the schedule. Its state (``scheduler.state_dict()``) belongs in a
    checkpoint next to the optimizer's, for a resumed run to continue on the same curve.

    Args:
        net: the ``nn.Module`` to train.
        lr: the peak learning rate, > 0.
        num_epochs: the length of the schedule in epochs.
        steps_per_epoch: optimizer steps per epoch, ``len(train_iter)``.
        weight_decay: AdamW's decoupled weight decay, >= 0.
        warmup: the fraction of the steps spent warming up, in (0, 1] (1: no decay).

    Returns:
        ``(optimizer, scheduler)``: a ``torch.optim.AdamW`` and its ``OneCycleLR``.
    """
    lr = check_lr(lr)
    total = check_int("num_epochs", num_epochs, min_value=1) * check_int(
        "steps_per_epoch", steps_per_epoch, min_value=1
    )
    weight_decay = check_number("weight_decay", weight_decay, min_value=0)
    warmup = check_number("warmup", warmup, above=0, max_value=1)
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=total, pct_start=warmup
    )
    optimizer.register_step_post_hook(lambda *_: _step(scheduler))
    return optimizer, scheduler


def _step(scheduler):
    # Past the end of the schedule (a run trained beyond num_epochs) the rate stays at its
    # final value instead of OneCycleLR's "stepped too many times" error.
    if scheduler.last_epoch + 1 < scheduler.total_steps:
        scheduler.step()


def _sequence(num_hiddens):
    if isinstance(num_hiddens, int):
        return [num_hiddens]
    return list(num_hiddens)
