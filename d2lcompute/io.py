"""Reading and writing files: tensors, state_dicts, checkpoints (Book: §5.5 读写文件).

Kept whole (~360 lines): ``save`` and its safe ``load`` are one format sharing its checks.

The book calls ``torch.save``/``torch.load`` directly. Ours add three guarantees:

- saving is atomic: a crash mid-save leaves the previous file intact (``_files.atomic_write``);
- loading is safe: ``weights_only=True`` refuses files whose pickle would run code, and
  ``save`` only writes what such a load can read back;
- a file saved on a GPU loads on a CPU-only laptop (storages of absent devices go to the CPU).

Checkpoints (the optimizer state, the epoch and every random number generator state, so an
interrupted run resumes exactly where it stopped) are in :mod:`d2lcompute.checkpoints`,
built on this module's ``save``, ``load``, ``check_saveable`` and ``check_state_fits``.
"""

import collections
import errno
import os
import pickle
import re
import stat
import zipfile
import zlib
from pathlib import Path

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from d2lcompute._checks import check_device, check_module, device_exists
from d2lcompute._files import atomic_write
from d2lcompute.errors import DamagedFileError, FileAccessError, UserError

CHECKPOINT_FORMAT = "d2lcompute.checkpoint/1"
_MAX_DEPTH = 64  # nesting save() accepts; a state_dict is 1 deep, a checkpoint about 4
# The types a weights_only=True load rebuilds; save() checks against them up front.
_LEAVES = (type(None), bool, int, float, complex, str, bytes, torch.dtype, torch.device)
_CONTAINERS = (list, tuple, dict, collections.OrderedDict, set, torch.Size)


class UnsafeFileError(UserError, pickle.UnpicklingError):
    """The file holds objects that only an unsafe load (``weights_only=False``) could build."""


def save(obj, path):
    """Save tensors, lists/dicts of tensors or a ``state_dict`` to ``path``, atomically.

    The data goes to a temporary file that replaces ``path`` only once fully written, so an
    interrupted save never leaves a truncated file behind.

    Args:
        obj: a tensor, numbers, strings, or lists/tuples/dicts of them (e.g.
            ``net.state_dict()``). A whole ``nn.Module`` is refused: save its ``state_dict()``.
        path: file to write (``str`` or ``os.PathLike``); parent folders are created.

    Book: §5.5

    Example::

        save(torch.arange(4), "x-file")
        x2 = load("x-file")  # tensor([0, 1, 2, 3])
    """
    path = checked_path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"cannot save to {str(path)!r}: it is a directory; "
            f"give a file name, e.g. {str(path / 'model.params')!r}"
        )
    check_saveable(obj, "obj")
    with atomic_write(path) as f:
        try:
            torch.save(obj, f)
        except RuntimeError as e:
            # a failed write (a full disk) reaches us as "[enforce fail at inline_container.cc]
            # ... unexpected pos"; the OSError behind it says what happened
            if isinstance(e.__context__, OSError):
                raise e.__context__ from e
            raise


def load(path, map_location=None, *, weights_only=True):
    """Load what :func:`save` (or ``torch.save``) wrote to ``path``, safely.

    Args:
        path: file to read (``str`` or ``os.PathLike``).
        map_location: where to put the tensors, as in ``torch.load`` (``"cpu"``, a device, a
            dict or a function). Default: where they were saved, or the CPU when that device
            is not available here (a GPU file on a laptop).
        weights_only: keep True unless you trust the file: False lets its pickle run any code.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        FileAccessError: ``path`` is a FIFO, a device or a socket, not a file.
        UnsafeFileError: the file holds objects that only an unsafe load could build (an
            ``pickle.UnpicklingError``).
        DamagedFileError: the file is not one torch wrote, is truncated, or its data fail
            the CRC-32 checksums torch's zip format records (a ``RuntimeError``).

    Book: §5.5
    """
    path = checked_path(path)
    if isinstance(map_location, (str, torch.device)):
        map_location = check_device("map_location", map_location)
    if not path.is_file():
        if path.is_dir():
            raise IsADirectoryError(f"cannot load {str(path)!r}: it is a directory, not a file")
        if path.exists():  # checked before opening it: reading a FIFO would block
            raise FileAccessError(
                f"cannot load {str(path)!r}: it is {_kind(path)}, not a regular file"
            )
        raise FileNotFoundError(
            f"cannot load {str(path)!r}: no such file (working directory: {os.getcwd()})"
        )
    _check_intact(path)
    if map_location is None:
        map_location = _default_map_location
    try:
        return torch.load(path, map_location=map_location, weights_only=weights_only)
    except pickle.UnpicklingError as e:
        # torch words every weights_only failure alike; only an unsupported GLOBAL means
        # code the pickle wanted to run, anything else (e.g. "Unsupported operand") is junk.
        if weights_only and "GLOBAL" in str(e):
            raise UnsafeFileError(_refusal_message(path, e)) from e
        raise _unreadable(path, e) from e
    except (EOFError, IndexError, KeyError) as e:  # KeyError: a text file's first byte
        raise _unreadable(path, e) from e
    except OSError as e:  # torch's zip reader: "[Errno 22] Invalid argument" when cut short
        if e.errno != errno.EINVAL:
            raise
        raise _unreadable(path, e) from e
    except RuntimeError as e:
        # a zip that torch did not write: "[enforce fail at inline_container.cc:...]" or
        # "PytorchStreamReader failed locating file data.pkl"
        if any(s in str(e) for s in ("zip archive", "inline_container", "PytorchStreamReader")):
            raise _unreadable(path, e) from e
        raise


def load_state_dict(model, state_or_path, map_location=None):
    """Copy parameters into ``model`` in place, with a clear error if they do not fit.

    Args:
        model: the ``nn.Module`` to fill; it must have the architecture that was saved.
        state_or_path: a ``state_dict``, a file written by ``save(net.state_dict(), ...)``,
            or a checkpoint written by :func:`save_checkpoint`.
        map_location: as in :func:`load`.

    Raises:
        RuntimeError: naming the missing, unexpected and mis-shaped keys (with shapes).

    Example::

        save(net.state_dict(), "mlp.params")
        clone = MLP()
        load_state_dict(clone, "mlp.params")
    """
    check_module("model", model)
    state = state_or_path
    if isinstance(state_or_path, (str, os.PathLike)):
        state = load(state_or_path, map_location=map_location)
        if is_checkpoint(state):
            state = state["model"]
    if not isinstance(state, dict):
        raise TypeError(
            f"state_or_path must be a state_dict, a path or a checkpoint, "
            f"got {type(state).__name__}"
        )
    _load_model_state(model, state)


# ---- helpers (checkpoints.py uses the public ones) ---------------------------------------


def checked_path(path):
    """``path`` as a ``Path``, or a ``TypeError`` naming what it was instead."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a str or os.PathLike, got path={path!r} ({type(path).__name__})"
        )
    return Path(path)


def check_saveable(value, where, _path=()):
    """Refuse, at save time, what ``load`` (weights_only=True) could not read back.

    ``where`` names ``value`` in the message (``"obj"``, ``"extra['history']"``).

    ``_path`` holds the ids of the containers above ``value``: a container inside itself
    would recurse forever, and a very deep one would end in a ``RecursionError``.
    """
    if isinstance(value, torch.Tensor):
        if is_lazy(value):
            raise TypeError(
                f"{where} is an uninitialised lazy parameter; run one forward pass "
                f"first so that it gets a shape (deferred initialisation)"
            )
        if type(value) not in (torch.Tensor, nn.Parameter):
            raise TypeError(
                f"{where} is a {type(value).__name__}; save a plain tensor "
                f"(torch.Tensor(...) or .as_subclass(torch.Tensor))"
            )
        return
    if type(value) in _CONTAINERS or type(value) in (dict, collections.OrderedDict):
        if id(value) in _path:
            raise ValueError(
                f"{where} contains itself (a reference cycle), which cannot be "
                f"saved; save a copy without the cycle"
            )
        if len(_path) >= _MAX_DEPTH:
            raise ValueError(
                f"obj is nested more than {_MAX_DEPTH} levels deep (at "
                f"{where[:80]}...); save flatter data"
            )
        _path = (*_path, id(value))
    if type(value) in (dict, collections.OrderedDict):
        for key, item in value.items():
            check_saveable(key, f"a key of {where}", _path)
            check_saveable(item, f"{where}[{key!r}]", _path)
    elif type(value) in _CONTAINERS:
        for i, item in enumerate(value):
            check_saveable(item, f"{where}[{i}]", _path)
    elif type(value) not in _LEAVES:
        hint = (
            "; save its parameters instead: save(net.state_dict(), path)"
            if isinstance(value, nn.Module)
            else "; convert it (a numpy array: torch.from_numpy(a); a numpy number: float(x))"
            if type(value).__module__ == "numpy"
            else ""
        )
        raise TypeError(
            f"{where} is a {type(value).__module__}.{type(value).__qualname__}, "
            f"which a safe load (weights_only=True) refuses; save only tensors, "
            f"numbers, strings and lists/tuples/dicts of them{hint}"
        )


def _kind(path):
    mode = path.stat().st_mode
    for test, kind in [
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]:
        if test(mode):
            return kind
    return "not a regular file"


def _check_intact(path):
    """Check the CRC-32 of every record of a zip-format torch file before anything is loaded.

    torch.load reads tensor data without checking it, so flipped bytes load as altered
    weights. Files in torch's older format (not zip) carry no checksums and pass as they are.
    """
    try:
        if not zipfile.is_zipfile(path):
            return
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()  # reads every record and compares its CRC-32
            names = archive.namelist()
    # garbled headers can claim a multi-disk archive, compression or encryption
    except (
        zipfile.BadZipFile,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,
        zlib.error,
    ) as e:
        raise _unreadable(path, e) from e
    except OSError as e:  # a garbled offset makes zipfile seek before the start
        if e.errno != errno.EINVAL:
            raise
        raise _unreadable(path, e) from e
    if not any(re.fullmatch(r"[^/]+/data\.pkl", name) for name in names):
        # a zip torch did not write: torch.load would end in "hasRecord(...)" or an enforce fail
        raise DamagedFileError(
            f"cannot read {str(path)!r}: it is not a file saved by torch.save/d2l.save "
            f"(a zip archive without torch's data.pkl record)"
        )
    if bad is not None:
        raise DamagedFileError(
            f"cannot load {str(path)!r}: it is damaged: record {bad!r} fails "
            f"its CRC-32 checksum (bytes changed on disk or in a copy); "
            f"restore it from a backup or save it again"
        )


def _default_map_location(storage, location):
    """Keep a storage on its saved device when that exists here, else leave it on the CPU.

    ``torch.load`` calls this for every storage (already on the CPU) with the device name it
    was saved from, e.g. ``"cuda:0"``; returning None means "restore as saved".
    """
    return None if device_exists(location) else storage


def _refusal_message(path, error):
    detail = [line.strip() for line in str(error).splitlines() if "GLOBAL" in line]
    reason = f" ({detail[0]})" if detail else ""
    return (
        f"refused to load {str(path)!r}: it contains Python objects whose unpickling "
        f"could run arbitrary code{reason}. Safe loading (weights_only=True) reads only "
        f"tensors, numbers, strings and containers of them. Only if you trust where the "
        f"file came from, load it with load(path, weights_only=False); better, re-save "
        f"its tensors or state_dict with save()."
    )


def _unreadable(path, error):
    return DamagedFileError(
        f"cannot read {str(path)!r}: it is not a file saved by torch.save/d2l.save, "
        f"or it is truncated or corrupted ({type(error).__name__}: {error})"
    )


def is_checkpoint(obj):
    """True for what ``checkpoints.save_checkpoint`` writes.."""
    return isinstance(obj, dict) and obj.get("format") == CHECKPOINT_FORMAT


def _load_model_state(model, state):
    """``model.load_state_dict`` with every mismatch listed up front, and no partial load."""
    check_state_fits(model, state)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise RuntimeError(f"cannot load the parameters into {type(model).__name__}: {e}") from e


def check_state_fits(model, state):
    """Raise ``RuntimeError`` listing every missing, unexpected or mis-shaped key of ``state``."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mis_shaped = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state
        and isinstance(state[k], torch.Tensor)
        and not is_lazy(own[k])
        and state[k].shape != own[k].shape
    ]
    if missing or unexpected or mis_shaped:
        lines = [
            f"the parameters do not fit this {type(model).__name__}: was it saved from "
            f"another architecture?"
        ]
        if missing:
            lines.append(f"  missing keys (in the model, not in the file): {', '.join(missing)}")
        if unexpected:
            lines.append(
                f"  unexpected keys (in the file, not in the model): {', '.join(unexpected)}"
            )
        lines += [f"  shape mismatch for {item}" for item in mis_shaped]
        raise RuntimeError("\n".join(lines))
