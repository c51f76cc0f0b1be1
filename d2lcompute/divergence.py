"""The one divergence watch of every training loop: a NaN or infinite loss stops the run.

``Trainer.fit`` and the batched k-fold trainer (:mod:`d2lcompute.house_prices.batched`, which
trains several nets at once) hand it each batch's loss as it comes and ``check`` it once per
epoch. The losses stay on the device until then, so watching costs no GPU synchronisation per
batch; ``check`` raises ``errors.DivergenceError`` naming the epoch, the batch, the last finite
loss and, for several nets, which one. Under ``torchrun`` the ranks agree on the first batch
that is bad on any rank, so they all stop at the same point.
"""

import math

import torch

from d2lcompute import distributed
from d2lcompute.errors import DivergenceError


class LossWatch:
    """Notices the first non-finite loss of each of ``M`` nets trained side by side.

    Args:
        what: what diverged, for the message: a string (``"training"``), or for several nets
            a function of the net's index ``m`` (``lambda m: f"fold {m + 1}"``).

    Example::

        >>> watch = LossWatch()
        >>> for loss in [0.9, 0.5, math.nan]:
        ...     watch.add(torch.tensor(loss))
        >>> watch.check(batches_per_epoch=2)
        Traceback (most recent call last):
        ...
        d2lcompute.errors.DivergenceError: training diverged at epoch 2, batch 1: the loss is \
not finite; the last finite loss was 0.5. Try a smaller learning rate (lr).
    """

    def __init__(self, what="training"):
        self.what = what
        self.batches = 0  # batches checked so far, over all epochs
        self.last_finite = None  # per net, as floats, once checked
        self._pending = []  # (losses (M,), moved (M,) or None) of the batches not checked yet
        self._first_bad = self._last = None  # (M,) on the device

    def add(self, loss, moved=None):
        """Record one batch's loss: a one-element tensor, or ``(M,)`` for ``M`` nets.

        ``moved``: a bool sequence ``(M,)``, False for a net that sat this batch out (its loss
        there is ignored). Nothing is read from the device.
        """
        loss = loss.detach().reshape(-1)
        if moved is not None:
            moved = torch.as_tensor(moved, dtype=torch.bool, device=loss.device)
        self._pending.append((loss, moved))

    def check(self, batches_per_epoch):
        """Raise ``DivergenceError`` if a loss added so far is not finite (one device read).

        Under torchrun every rank must call it: the first bad batch is the first on any rank.
        """
        if self._pending:
            self._update()
        if self._first_bad is None:
            return
        first_bad, last = torch.stack([self._first_bad.double(), self._last.double()]).tolist()
        self.last_finite = [v if math.isfinite(v) else None for v in last]
        bad = [b for b in first_bad if b >= 0]
        first = min(bad) if bad else math.inf
        if distributed.is_active():  # the first batch that is bad on any rank
            first = distributed.all_reduce_min(first)
        if math.isfinite(first):
            net = first_bad.index(first) if first in first_bad else 0
            epoch, batch = divmod(int(first), batches_per_epoch)
            raise self.error(epoch + 1, batch + 1, net)

    def error(self, epoch, batch=None, net=0):
        """The ``DivergenceError`` for ``net`` at ``epoch`` (and ``batch``) with its last loss.

        For a failure found elsewhere (non-finite predictions, say) after ``check``.
        """
        what = self.what(net) if callable(self.what) else self.what
        last = self.last_finite[net] if self.last_finite else None
        return DivergenceError(what, epoch=epoch, batch=batch, last_finite_loss=last)

    def _update(self):
        """Fold the pending batches ``(B, M)`` into the first bad index and last finite loss."""
        losses = torch.stack([loss for loss, _ in self._pending]).float()  # (B, M)
        counted = torch.ones_like(losses, dtype=torch.bool)
        for i, (_, moved) in enumerate(self._pending):
            if moved is not None:
                counted[i] = moved
        self._pending.clear()
        B, M = losses.shape
        if self._first_bad is None:
            self._first_bad = torch.full((M,), -1, dtype=torch.long, device=losses.device)
            self._last = torch.full((M,), math.nan, device=losses.device)
        index = torch.arange(self.batches, self.batches + B, device=losses.device)[:, None]
        end = self.batches + B
        finite = torch.isfinite(losses)
        first_here = torch.where(~finite & counted, index, end).amin(0)  # (M,)
        is_new = (self._first_bad < 0) & (first_here < end)
        self._first_bad = torch.where(is_new, first_here, self._first_bad)
        # the last finite loss of each net before its first bad one
        before = (self._first_bad < 0) | (index < self._first_bad)
        last_here = torch.where(finite & counted & before, index, -1).amax(0)  # (M,)
        values = losses.gather(0, (last_here - self.batches).clamp(min=0)[None])[0]
        self._last = torch.where(last_here >= 0, values, self._last)
        self.batches = end
