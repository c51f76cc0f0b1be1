"""The training loop of both editions: the English edition's ``Trainer`` (Book, d2l.ai 1.0: §3.2).

``Trainer.fit(model, data)`` calls, by name and at call time, ``prepare_data``,
``prepare_model``, ``model.configure_optimizers()``, then ``fit_epoch()`` once per epoch;
``fit_epoch`` calls ``prepare_batch``, ``model.training_step``, ``clip_gradients`` and
``model.validation_step``. Book cells replace any of them with ``add_to_class``, and the
loop picks the replacement up. The Chinese edition's ``train_ch3`` runs on this same loop
(:mod:`d2lcompute.train` adapts its ``net``, ``loss`` and ``updater`` to these hooks), and
so does the command line.

Ours beyond the book: a run whose loss becomes NaN or infinite stops at the end of that
epoch with a ``DivergenceError`` naming the epoch, the batch and the last finite loss (the
loss is watched on the device, read once per epoch, so no GPU synchronisation per batch);
a terminal shows a progress bar within the epoch and a line per epoch; bad arguments
raise ``ValueError``/``TypeError``; on a busy machine torch uses fewer CPU threads during the
run (:mod:`d2lcompute.threads`: no more than the CPUs other processes leave free).

Under ``torchrun`` the same ``fit`` trains data-parallel (:mod:`d2lcompute.distributed`):
each rank takes its share of every batch, ``model.training_step`` runs through PyTorch's
``DistributedDataParallel``, which averages the gradients, and only rank 0 shows the board.
"""

import math

import torch

from d2lcompute import devices, distributed
from d2lcompute._checks import check_int, check_number
from d2lcompute.errors import DivergenceError
from d2lcompute.oo_design import HyperParameters
from d2lcompute.threads import training_threads


class Trainer(HyperParameters):
    """Fits a ``Module`` to a ``DataModule``. Book: §3.2, §3.4 (``fit_epoch``), §6.7 (GPUs).

    Args:
        max_epochs: the number of passes over the training data, >= 1.
        num_gpus: how many GPUs to use; the model and batches go to the first one when
            there is one (only one is used: several devices need torchrun, under which
            each rank uses its own, ``cuda:LOCAL_RANK``).
        gradient_clip_val: clip the gradients' global norm to this value; 0 for no clipping.

    Attributes (during and after ``fit``):
        model, optim, train_dataloader, val_dataloader, num_train_batches,
        num_val_batches, epoch (from 0), train_batch_idx, val_batch_idx (batches so far),
        gpus (the devices used).
    """

    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        check_int("max_epochs", max_epochs, min_value=1)
        check_int("num_gpus", num_gpus, min_value=0)
        check_number("gradient_clip_val", gradient_clip_val, min_value=0)
        self.save_hyperparameters()
        self.gpus = [devices.gpu(i) for i in range(min(num_gpus, devices.num_gpus()))]
        if self.gpus and distributed.is_launched():
            self.gpus = [distributed.local_device(self.gpus[0])]

    def prepare_data(self, data):
        for hook in ("train_dataloader", "val_dataloader"):
            if not callable(getattr(data, hook, None)):
                raise TypeError(
                    f"data must be a DataModule with train_dataloader() and "
                    f"val_dataloader(), got data={data!r} without {hook}()"
                )
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = _num_batches(self.train_dataloader, "train_dataloader")
        self.num_val_batches = (
            _num_batches(self.val_dataloader, "val_dataloader")
            if self.val_dataloader is not None
            else 0
        )

    def prepare_model(self, model):
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        if self.gpus:
            model.to(self.gpus[0])
        self.model = model

    @training_threads()
    def fit(self, model, data):
        """Train ``model`` on ``data`` for ``max_epochs`` epochs (with no more CPU threads than
        the CPUs free now: :mod:`d2lcompute.threads`)."""
        for hook in ("training_step", "validation_step", "configure_optimizers"):
            if not callable(getattr(model, hook, None)):
                raise TypeError(
                    f"model must be a d2l.Module (with training_step, "
                    f"validation_step and configure_optimizers), got {model!r}"
                )
        distributed.start()  # under torchrun; a no-op otherwise
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self._data_parallel()
        self.epoch = 0
        self.train_batch_idx = 0
        self.val_batch_idx = 0
        self._watch = _LossWatch()
        board = getattr(model, "board", None)
        try:
            for epoch in range(self.max_epochs):
                self.epoch = epoch
                self.fit_epoch()
                self._check_divergence(board)
                if hasattr(board, "log"):
                    board.log(f"epoch {self.epoch + 1}/{self.max_epochs}")
        finally:
            distributed.undo(model)
            if hasattr(board, "flush"):
                board.flush()

    def _data_parallel(self):
        """Under torchrun, this rank's shares of the batches, and ``training_step`` through DDP.

        Done by ``fit`` after the hooks, so that book cells replacing any hook (``fit_epoch``
        included) still train data-parallel.
        """
        if distributed.is_active():
            self.train_dataloader = distributed.ShardedLoader(self.train_dataloader)
            if self.val_dataloader is not None:
                self.val_dataloader = distributed.ShardedLoader(self.val_dataloader)
            distributed.data_parallel(self.model, self.train_dataloader)

    def fit_epoch(self):
        """One pass over the training batches, then over the validation batches. Book: §3.4."""
        self.model.train()
        for batch in self.train_dataloader:
            loss = self.model.training_step(self.prepare_batch(batch))
            self._watch.add(_check_loss(loss))
            self.optim.zero_grad()
            loss.backward()
            with torch.no_grad():
                if self.gradient_clip_val > 0:
                    self.clip_gradients(self.gradient_clip_val, self.model)
                self.optim.step()
            self.train_batch_idx += 1
            if hasattr(self.model.board, "progress"):  # a terminal's bar moves within the epoch
                self.model.board.progress(self.train_batch_idx / self.num_train_batches)
        if self.val_dataloader is None:
            return
        self.model.eval()
        for batch in self.val_dataloader:
            with torch.no_grad():
                self.model.validation_step(self.prepare_batch(batch))
            self.val_batch_idx += 1

    def prepare_batch(self, batch):
        """The batch on the first GPU, if the trainer uses one. Book: §6.7."""
        if self.gpus:
            batch = [a.to(self.gpus[0]) for a in batch]
        return batch

    def clip_gradients(self, grad_clip_val, model):
        """Scale all gradients down so that their global L2 norm is at most ``grad_clip_val``.

        Book: §9.5
        """
        params = [p for p in model.parameters() if p.requires_grad and p.grad is not None]
        if params:
            torch.nn.utils.clip_grad_norm_(params, grad_clip_val)

    def _check_divergence(self, board):
        self._watch.check(self.num_train_batches)
        # A fit_epoch replaced by a book cell bypasses the watch: the plotted losses remain.
        for label, line in getattr(board, "data", {}).items():
            if line and not math.isfinite(line[-1].y):
                previous = [p.y for p in line[:-1] if math.isfinite(p.y)]
                raise DivergenceError(
                    f"training ({label})",
                    epoch=self.epoch + 1,
                    last_finite_loss=previous[-1] if previous else None,
                )


def _num_batches(loader, name):
    try:
        return len(loader)
    except TypeError:
        raise TypeError(
            f"{name}() must return a loader with a length (a DataLoader, say), "
            f"got {type(loader).__name__}"
        ) from None


def _check_loss(loss):
    if not (torch.is_tensor(loss) and loss.numel() == 1 and loss.requires_grad):
        raise TypeError(
            "training_step must return the loss as a one-element tensor that "
            f"requires grad (computed from the parameters), got {loss!r}"
        )
    return loss


class _LossWatch:
    """Notices the first non-finite training loss without reading the device on every batch.

    On the device it keeps the index of the first bad batch and the last finite loss; they
    are read once per epoch by ``check``. Under torchrun the ranks agree: the first bad
    batch is the first one bad on any rank (the last finite loss is this rank's share's,
    weighted as DDP's step returns it).
    """

    def __init__(self):
        self.first_bad = self.last_finite = None
        self.batches = 0

    def add(self, loss):
        loss = loss.detach().reshape(()).float()
        if self.first_bad is None:
            self.first_bad = torch.tensor(-1, device=loss.device)
            self.last_finite = torch.tensor(math.nan, device=loss.device)
        ok = torch.isfinite(loss) & (self.first_bad < 0)
        self.first_bad = torch.where(ok | (self.first_bad >= 0), self.first_bad, self.batches)
        self.last_finite = torch.where(ok, loss, self.last_finite)
        self.batches += 1

    def check(self, batches_per_epoch):
        if self.first_bad is None:
            return
        bad = int(self.first_bad)  # the one read per epoch
        if distributed.is_active():  # the first batch that is bad on any rank
            first = distributed.all_reduce_min(bad if bad >= 0 else math.inf)
            bad = int(first) if math.isfinite(first) else -1
        if bad >= 0:
            last = float(self.last_finite)
            raise DivergenceError(
                "training",
                epoch=bad // batches_per_epoch + 1,
                batch=bad % batches_per_epoch + 1,
                last_finite_loss=last if math.isfinite(last) else None,
            )
