"""Checkpoints: everything needed to resume training exactly (Book: §5.5, "saving progress").

A checkpoint holds the model's and the optimizer's ``state_dict``, the epoch, the states of
every random number generator (torch CPU and CUDA, NumPy, Python's ``random``) and extra
values, written atomically by :func:`d2lcompute.io.save` and read safely. Loading is all or
nothing: every part is checked (architecture, optimizer type and groups, generator states)
before the model, the optimizer or a generator changes.

``TrainerCheckpoint`` is what ``Trainer(checkpoint=path)`` uses: a run saved after every
epoch (with the board's curves and the model's ``history``) and continued from the file
when it exists, refused when the file belongs to another model or other settings.
"""

import torch

from d2lcompute import _seeding, distributed, io
from d2lcompute._checks import check_int, check_module
from d2lcompute.errors import UserError


class CheckpointError(UserError, ValueError):
    """A checkpoint that does not fit the model or optimizer, or is not a usable checkpoint."""


def save_checkpoint(path, model, optimizer=None, epoch=0, **extra):
    """Save everything needed to resume training exactly: a checkpoint file.

    Stores the model's and optimizer's ``state_dict``, ``epoch``, the states of the random
    number generators (torch CPU, CUDA when available, numpy, Python's ``random``) and any
    ``extra`` values, atomically and readable with ``weights_only=True``.

    Args:
        path: file to write (``str`` or ``os.PathLike``).
        model: the ``nn.Module`` being trained.
        optimizer: its ``torch.optim.Optimizer``, or None.
        epoch: number of epochs completed (the epoch to resume at), an int >= 0.
        **extra: more values to keep (best accuracy, history...): numbers, strings, tensors
            and lists/dicts of them.

    Example::

        for epoch in range(num_epochs):
            ...  # train one epoch
            save_checkpoint("ckpt.pt", net, trainer, epoch=epoch + 1, best_acc=best_acc)
    """
    path = io.checked_path(path)
    check_module("model", model)
    _check_optimizer(optimizer)
    epoch = check_int("epoch", epoch, min_value=0)
    for name, value in extra.items():
        io.check_saveable(value, name)
    checkpoint = {
        "format": io.CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "optimizer_type": None if optimizer is None else type(optimizer).__name__,
        "epoch": epoch,
        "rng": _seeding.random_states(),
        "extra": extra,
    }
    io.save(checkpoint, path)


def load_checkpoint(path, model, optimizer=None, map_location=None):
    """Restore a :func:`save_checkpoint` file: model and optimizer in place, and the RNGs.

    Args:
        path: the checkpoint file.
        model: a model of the saved architecture; its parameters are overwritten.
        optimizer: an optimizer over ``model``'s parameters, or None to skip its state.
        map_location: as in :func:`load`.

    Returns:
        dict: ``{"epoch": epoch, **extra}`` as passed to :func:`save_checkpoint`.

    Raises:
        CheckpointError: the file is not a checkpoint, was written by another version, or
            does not fit ``model`` or ``optimizer`` (another architecture, another optimizer
            type, parameters of another model). Nothing is changed then.
        DamagedFileError, UnsafeFileError: as for :func:`load`.

    Example::

        net = MLP()  # a fresh model and optimizer, built as before
        trainer = torch.optim.SGD(net.parameters(), lr=0.1)
        start = load_checkpoint("ckpt.pt", net, trainer)["epoch"]
        for epoch in range(start, num_epochs):
            ...  # continues exactly as the uninterrupted run would
    """
    path = io.checked_path(path)
    check_module("model", model)
    _check_optimizer(optimizer)
    checkpoint = io.load(path, map_location=map_location)
    # everything is checked before anything changes: a refused checkpoint leaves the model,
    # the optimizer and the random generators as they were
    _check_checkpoint(path, checkpoint, model, optimizer)
    _check_optimizer_over(optimizer, model)
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    model.load_state_dict(checkpoint["model"])
    _seeding.set_random_states(checkpoint["rng"])
    return {"epoch": checkpoint["epoch"], **checkpoint["extra"]}


def _check_optimizer(optimizer):
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer or None, got {type(optimizer).__name__}"
        )


def _check_optimizer_over(optimizer, model):
    """Every parameter ``optimizer`` updates must be one of ``model``'s (a subset is fine:
    a frozen backbone); else restoring would train another model's tensors."""
    if optimizer is None:
        return
    own = {id(p) for p in model.parameters()}
    groups = optimizer.param_groups
    foreign = [
        (g, j)
        for g, group in enumerate(groups)
        for j, p in enumerate(group["params"])
        if id(p) not in own
    ]
    if foreign:
        g, j = foreign[0]
        raise CheckpointError(
            f"optimizer must be built over model's parameters, but {len(foreign)} of its "
            f"parameters (e.g. param_groups[{g}]['params'][{j}]) are not parameters of model "
            f"({type(model).__name__}); build it as torch.optim.SGD(model.parameters(), ...)"
        )


def _check_checkpoint(path, checkpoint, model, optimizer):
    """Raise ``CheckpointError`` unless every part of ``checkpoint`` can be restored."""
    where = repr(str(path))
    found = checkpoint.get("format") if isinstance(checkpoint, dict) else None
    if (
        isinstance(found, str)
        and found.startswith("d2lcompute.checkpoint/")
        and not (io.is_checkpoint(checkpoint))
    ):
        raise CheckpointError(
            f"{where} was written by another version of d2lcompute (format "
            f"{found!r}; this version reads {io.CHECKPOINT_FORMAT!r})"
        )
    if not io.is_checkpoint(checkpoint):
        found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(
            f"{where} is not a checkpoint written by save_checkpoint "
            f"(found {found}); for a bare state_dict use "
            f"load_state_dict(model, path)"
        )
    parts = {"model": dict, "epoch": int, "rng": dict, "extra": dict}
    wrong = [k for k, kind in parts.items() if not isinstance(checkpoint.get(k), kind)]
    if wrong or checkpoint["epoch"] < 0:
        raise CheckpointError(
            f"{where} is damaged: its {', '.join(wrong) or 'epoch'} "
            f"{'are' if len(wrong) > 1 else 'is'} not what save_checkpoint writes"
        )
    try:
        io.check_state_fits(model, checkpoint["model"])
    except RuntimeError as e:
        raise CheckpointError(f"cannot load {where}: {e}") from e
    if optimizer is not None:
        _check_optimizer_state(where, checkpoint, optimizer)
    try:
        _seeding.check_random_states(checkpoint["rng"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise CheckpointError(
            f"{where} is damaged: its random generator states cannot be "
            f"restored ({type(e).__name__}: {e})"
        ) from e


def _check_optimizer_state(where, checkpoint, optimizer):
    """The saved state must come from an optimizer of the same type over same-shaped params."""
    saved, name = checkpoint.get("optimizer"), type(optimizer).__name__
    if saved is None:
        raise CheckpointError(
            f"{where} holds no optimizer state (saved with optimizer=None); "
            f"pass optimizer=None to load only the model"
        )
    if not (
        isinstance(saved, dict)
        and isinstance(saved.get("param_groups"), list)
        and isinstance(saved.get("state"), dict)
    ):
        raise CheckpointError(f"{where} is damaged: its optimizer state is not a state_dict")
    own = optimizer.state_dict()
    saved_type = checkpoint.get("optimizer_type")
    # older files lack the type; the hyper-parameter names tell SGD (momentum) from Adam (betas)
    saved_keys = [sorted(set(g) - {"params"}) for g in saved["param_groups"]]
    own_keys = [sorted(set(g) - {"params"}) for g in own["param_groups"]]
    if saved_type not in (None, name) or (saved_type is None and saved_keys[:1] != own_keys[:1]):
        raise CheckpointError(
            f"cannot load the optimizer state from {where} into {name}: it "
            f"was saved from {saved_type or 'another optimizer type'}; build "
            f"the optimizer the run used"
        )
    sizes = [len(g["params"]) for g in saved["param_groups"]]
    own_sizes = [len(g["params"]) for g in optimizer.param_groups]
    if sizes != own_sizes:
        raise CheckpointError(
            f"cannot load the optimizer state from {where} into {name}: it "
            f"has parameter groups of sizes {sizes}, the optimizer {own_sizes}"
        )
    params = [p for g in optimizer.param_groups for p in g["params"]]
    ids = [i for g in saved["param_groups"] for i in g["params"]]
    for i, param in zip(ids, params):
        for key, value in saved["state"].get(i, {}).items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != param.shape:
                raise CheckpointError(
                    f"cannot load the optimizer state from {where} into {name}: its {key!r} "
                    f"has shape {tuple(value.shape)} where the parameter has "
                    f"{tuple(param.shape)}; was the optimizer built over another model?"
                )


class TrainerCheckpoint:
    """A ``Trainer``'s run saved to one file after every epoch, and continued from it.

    Besides :func:`save_checkpoint`'s contents the file holds, in ``extra``: ``settings``
    (the model's class and simple hyper-parameters, the optimizer's type and group
    settings, which a resumed run must share), ``board`` (the plotted curves),
    ``history`` (the model's ``history`` dict, if it keeps one) and whatever the model's
    ``on_save_checkpoint(extra)`` adds; ``on_load_checkpoint(extra)`` gets it back.
    Under torchrun only rank 0 writes; every rank reads.
    """

    def __init__(self, trainer, path):
        self.trainer, self.model = trainer, trainer.model
        self.path = io.checked_path(path)
        if not any(True for _ in self.model.parameters()):
            raise TypeError(
                f"checkpoint={str(self.path)!r} needs a model whose parameters are "
                f"registered (an nn.Module); {type(self.model).__name__} has none to save"
            )
        optim = trainer.optim
        # a function updater (the book's sgd) keeps no state: nothing of it to save
        self.optimizer = optim if isinstance(optim, torch.optim.Optimizer) else None
        self.settings = _settings(self.model, self.optimizer)

    def restore(self):
        """Continue from the file, if it exists and the trainer resumes; the epochs it holds."""
        if not (getattr(self.trainer, "resume", True) and self.path.exists()):
            return 0
        device = next(self.model.parameters()).device
        found = io.load(self.path, map_location="cpu")
        extra = found.get("extra") if isinstance(found, dict) else None
        saved = extra.get("settings") if isinstance(extra, dict) else None
        if saved != self.settings:
            raise CheckpointError(_other_run(self.path, saved, self.settings))
        state = load_checkpoint(self.path, self.model, self.optimizer, map_location=device)
        _restore_board(getattr(self.model, "board", None), state.get("board"))
        history = getattr(self.model, "history", None)
        if isinstance(history, dict) and isinstance(state.get("history"), dict):
            history.clear()
            history.update(state["history"])
        hook = getattr(self.model, "on_load_checkpoint", None)
        if callable(hook):
            hook(state)
        return state["epoch"]

    def save(self, epoch):
        """Save the run after ``epoch`` epochs (atomically; rank 0 only under torchrun)."""
        if not distributed.is_main_process():
            return
        extra = {"settings": self.settings, "board": _board_state(self.model)}
        history = getattr(self.model, "history", None)
        if isinstance(history, dict):
            extra["history"] = dict(history)  # a dict subclass would not load safely
        hook = getattr(self.model, "on_save_checkpoint", None)
        if callable(hook):
            hook(extra)
        save_checkpoint(self.path, self.model, self.optimizer, epoch=epoch, **extra)


_SIMPLE = (bool, int, float, str, type(None))


def _settings(model, optimizer):
    """What a resumed run must share with the saved one (numbers and names only)."""
    hparams = getattr(model, "hparams", {})
    return {
        "model": type(model).__qualname__,
        "hparams": {k: v for k, v in hparams.items() if isinstance(v, _SIMPLE)},
        "optimizer": None if optimizer is None else type(optimizer).__name__,
        "param_groups": []
        if optimizer is None
        else [
            {k: v for k, v in group.items() if k != "params" and isinstance(v, _SIMPLE)}
            for group in optimizer.param_groups
        ],
    }


def _other_run(path, saved, own):
    where = repr(str(path))
    if not isinstance(saved, dict):
        return (
            f"{where} was not saved by a Trainer(checkpoint=...) run; give another "
            f"checkpoint path, or remove the file to start afresh"
        )
    saved, own = _flat(saved), _flat(own)
    changed = [
        f"{name} {saved.get(name)!r} (now {own.get(name)!r})"
        for name in dict.fromkeys([*own, *saved])
        if saved.get(name) != own.get(name)
    ]
    return (
        f"{where} belongs to another run: it was saved with {', '.join(changed)}; "
        f"use the run's settings, another checkpoint path, or resume=False to start afresh"
    )


def _flat(settings):
    """``_settings`` as ``{name: value}`` with the names a user knows: ``lr``, ``optimizer lr``."""
    hparams, groups = settings.get("hparams"), settings.get("param_groups")
    flat = dict(hparams) if isinstance(hparams, dict) else {}
    flat["model"], flat["optimizer"] = settings.get("model"), settings.get("optimizer")
    for i, group in enumerate(groups if isinstance(groups, list) else []):
        where = "optimizer" if len(groups) == 1 else f"optimizer group {i}"
        flat.update(
            (f"{where} {k}", v) for k, v in (group if isinstance(group, dict) else {}).items()
        )
    return flat


def _board_state(model):
    """The board's plotted and pending points as lists of ``[x, y]`` floats, by label."""
    board = getattr(model, "board", None)
    return {
        part: {
            label: [[float(x), float(y)] for x, y in points]
            for label, points in getattr(board, part, {}).items()
        }
        for part in ("data", "raw_points")
    }


def _restore_board(board, state):
    from d2lcompute.live.progress_board import Point

    if board is None or not isinstance(state, dict):
        return
    for part in ("data", "raw_points"):
        curves = getattr(board, part, None)
        if curves is not None and isinstance(state.get(part), dict):
            curves.clear()
            for label, points in state[part].items():
                curves[label] = [Point(x, y) for x, y in points]
