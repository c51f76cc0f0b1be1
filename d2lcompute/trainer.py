"""The training loop of both editions: the English edition's ``Trainer`` (Book, d2l.ai 1.0: §3.2).

``Trainer.fit(model, data)`` calls, by name and at call time, ``prepare_data``,
``prepare_model``, ``model.configure_optimizers()``, then ``fit_epoch()`` once per epoch;
``fit_epoch`` calls ``prepare_batch``, ``model.training_step``, ``clip_gradients`` and
``model.validation_step``; after each epoch ``on_train_epoch_end(metrics)`` (ours, with
Lightning's name) passes the epoch's metrics to the model's hook of that name. Book cells
replace any of them with ``add_to_class``, and the loop picks the replacement up. Every
training loop of the package runs on this one: the Chinese edition's ``train_ch3`` and
``train_epoch_ch3`` (:mod:`d2lcompute.classic_loop` adapts ``net``, ``loss`` and
``updater`` to these hooks), §4.5's weight decay, the book's house-price ``train`` and the
``fashion-mnist`` command, whose per-epoch work (a table row, a checkpoint, metrics.csv, a
figure) is their models' ``on_train_epoch_end``.

Ours beyond the book: a run whose loss becomes NaN or infinite stops at the end of that
epoch with a ``DivergenceError`` naming the epoch, the batch and the last finite loss (the
loss is watched on the device, read once per epoch, so no GPU synchronisation per batch); a
terminal shows a progress bar within the epoch and a line per epoch; bad arguments raise
``ValueError``/``TypeError``; on a busy machine torch uses fewer CPU threads during the run
(:mod:`d2lcompute.threads`: no more than the CPUs other processes leave free).
``Trainer(..., checkpoint=path)`` makes a run resumable: after every epoch it saves the
model, the optimizer, every random generator, the epoch, the board's curves and the model's
``history`` (atomically, rank 0 only under torchrun), and a ``fit`` that finds the file
continues from it to the same parameters as an uninterrupted run, bit for bit (a notebook
whose kernel died, a laptop that slept, a torchrun job restarted by ``--max-restarts``). A
file saved by another model or with other hyper-parameters is refused with a
``CheckpointError``.

Under ``torchrun`` the same ``fit`` trains data-parallel (:mod:`d2lcompute.distributed`):
each rank takes its share of every batch, ``model.training_step`` runs through PyTorch's
``DistributedDataParallel``, which averages the gradients, and only rank 0 shows the board.
"""

import math
import os
import time

import torch

from d2lcompute import checkpoints, devices, distributed
from d2lcompute._checks import check_int, check_number
from d2lcompute.divergence import LossWatch
from d2lcompute.errors import DivergenceError
from d2lcompute.hyperparameters import HyperParameters
from d2lcompute.threads import training_threads


class Trainer(HyperParameters):
    """Fits a ``Module`` to a ``DataModule``. Book: §3.2, §3.4 (``fit_epoch``), §6.7 (GPUs).

    Args:
        max_epochs: the number of passes over the training data, >= 1.
        num_gpus: how many GPUs to use; the model and batches go to the first one when
            there is one (only one is used: several devices need torchrun, under which
            each rank uses its own, ``cuda:LOCAL_RANK``).
        gradient_clip_val: clip the gradients' global norm to this value; 0 for no clipping.
        checkpoint: ours: a file (``str`` or path) to save the run to after every epoch and,
            when it exists, to continue from; None for none. ``max_epochs`` is the total, so
            a finished run asked for more epochs trains only those.
        resume: ours: False starts afresh even when ``checkpoint`` exists (and replaces it).

    Attributes (during and after ``fit``):
        model, optim, train_dataloader, val_dataloader, num_train_batches,
        num_val_batches, epoch (from 0), train_batch_idx, val_batch_idx (batches so far),
        gpus (the devices used), start_epoch (epochs restored from ``checkpoint``).
    """

    def __init__(
        self, max_epochs, num_gpus=0, gradient_clip_val=0, *, checkpoint=None, resume=True
    ):
        check_int("max_epochs", max_epochs, min_value=1)
        check_int("num_gpus", num_gpus, min_value=0)
        check_number("gradient_clip_val", gradient_clip_val, min_value=0)
        if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
            raise TypeError(
                f"checkpoint must be a file path (str or os.PathLike) or None, "
                f"got checkpoint={checkpoint!r}"
            )
        if not isinstance(resume, bool):
            raise TypeError(f"resume must be True or False, got resume={resume!r}")
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
        # the board's own start stays (train_ch3's figure starts at epoch 1); the end is ours
        start = model.board.xlim[0] if model.board.xlim else 0
        model.board.xlim = [start, self.max_epochs]
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
        # getattr: a book cell may replace __init__ (§6.7 does) with one that sets neither
        path = getattr(self, "checkpoint", None)
        self._run = None if path is None else checkpoints.TrainerCheckpoint(self, path)
        self.start_epoch = 0 if self._run is None else self._run.restore()
        self._data_parallel()
        self.epoch = self.start_epoch
        self.train_batch_idx = self.start_epoch * self.num_train_batches
        self.val_batch_idx = self.start_epoch * self.num_val_batches
        self._watch = LossWatch()
        self._watch.batches = self.train_batch_idx  # a resumed run names its epochs from 1
        board = getattr(model, "board", None)
        try:
            for epoch in range(self.start_epoch, self.max_epochs):
                self.epoch = epoch
                started = time.perf_counter()
                self.fit_epoch()
                self._watch.check(self.num_train_batches)
                metrics = {"epoch": epoch + 1, **_latest(board)}
                metrics["seconds"] = time.perf_counter() - started
                self._check_finite(metrics, board)  # before anything is drawn or saved
                self.on_train_epoch_end(metrics)
                self._check_finite(metrics, board)  # what the hook measured, too
                if hasattr(board, "log"):
                    board.log(f"epoch {self.epoch + 1}/{self.max_epochs}")
                if self._run is not None:
                    self._run.save(epoch + 1)
        finally:
            distributed.undo(model)
            if hasattr(board, "flush"):
                board.flush()

    def _data_parallel(self):
        """Under torchrun, this rank's shares of the batches, and ``training_step`` through DDP.

        Done by ``fit`` after the hooks, so that book cells replacing any hook (``fit_epoch``
        included) still train data-parallel. One process has nothing to share or average: it
        trains as without torchrun, so a torchrun job of 1 process costs no more than a plain run.
        """
        if distributed.is_active() and distributed.world_size() > 1:
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

    def on_train_epoch_end(self, metrics):
        """After each epoch: hand ``metrics`` to the model's ``on_train_epoch_end``. Ours.

        ``metrics`` is a dict: ``epoch`` (from 1), ``seconds`` (the epoch's training and
        validation) and the latest plotted value of each curve of the board
        (``train_loss``, ``val_loss``, ...). The model's hook may add its own (the
        classic loop adds ``train_acc`` and ``test_acc``); the run's divergence is already
        checked, and the checkpoint is saved after it.
        """
        hook = getattr(self.model, "on_train_epoch_end", None)
        if callable(hook):
            hook(metrics)

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

    def _check_finite(self, metrics, board):
        """Raise ``DivergenceError`` if a metric of the epoch is NaN or infinite.

        The watch over the training losses has stopped a diverged run already, unless a
        book cell replaced ``fit_epoch``: then the board's plotted losses (in ``metrics``)
        are what is left to read. A model's hook may add metrics (an evaluation after the
        epoch's last step, say), checked after it.
        """
        for key, value in metrics.items():
            if isinstance(value, float) and not math.isfinite(value):
                line = getattr(board, "data", {}).get(key, [])
                previous = [p.y for p in line[:-1] if math.isfinite(p.y)]
                raise DivergenceError(
                    f"training ({key})",
                    epoch=self.epoch + 1,
                    last_finite_loss=previous[-1] if previous else None,
                )


def _latest(board):
    """The latest plotted value of each of the board's curves, by label."""
    return {label: line[-1].y for label, line in getattr(board, "data", {}).items() if line}


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
