"""The English edition's base classes (d2l.ai 1.0: §3.2.2-3.2.3): ``Module`` and ``DataModule``.

``Module`` is a model that knows its loss, its training and validation steps and its
optimizer; ``DataModule`` a data set that hands out loaders. ``Trainer``, the loop that
drives them, is in :mod:`d2lcompute.trainer`; ``add_to_class`` and ``HyperParameters`` in
:mod:`d2lcompute.hyperparameters`; ``ProgressBoard`` in :mod:`d2lcompute.live.progress_board`.

Differences from the book's library, none visible to its cells: under torchrun, one
all-reduce per plotted point gives the board the whole batches' mean;
``DataModule.get_tensorloader`` serves batches from memory with the same shuffles as a
``DataLoader``; bad arguments raise ``ValueError``/``TypeError`` instead of asserts.
"""

import torch
from torch import nn

from d2lcompute import distributed
from d2lcompute._checks import check_int
from d2lcompute.hyperparameters import HyperParameters
from d2lcompute.live.progress_board import ProgressBoard


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
