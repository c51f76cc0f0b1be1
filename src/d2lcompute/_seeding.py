"""The package's one seed policy: what a seed is, and how a run or a generator is seeded from it.

A seed is an integer in ``[0, 2**32)``, what NumPy accepts and ``--seed`` allows. ``None``
means "not seeded": the code draws from torch's global generator as the book's does.
``seeded`` runs a block on torch's generators seeded with ``seed`` and gives the global
state back afterwards; ``generator`` makes a private generator; ``derived_seed`` gives an
independent second stream from the same seed (so data and weights do not repeat draws).
"""

import contextlib
import random

import torch

from d2lcompute._checks import check_int

SEED_LIMIT = 2**32


def check_seed(seed, name="seed", *, optional=False):
    """Return ``seed`` if it is an integer in ``[0, 2**32)`` (or None when ``optional``)."""
    if seed is None and optional:
        return None
    return check_int(name, seed, min_value=0, max_value=SEED_LIMIT - 1)


def set_seed(seed):
    """Seed Python's ``random``, NumPy and torch (CPU and every GPU) with ``seed``.

    Two runs of the same code after ``set_seed(s)`` with the same ``s`` draw the same
    initial weights, shuffles and dropout masks, hence give the same losses (on the CPU;
    some GPU kernels are not deterministic).
    """
    import numpy as np

    check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


@contextlib.contextmanager
def seeded(seed, device=None):
    """Run the block on torch's generators seeded with ``seed``; restore them afterwards.

    ``seed=None`` leaves the global generators as they are (the book's behaviour). The CPU
    generator is always forked; a CUDA ``device``'s too.
    """
    check_seed(seed, optional=True)
    device = torch.device("cpu") if device is None else torch.device(device)
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        yield


def generator(seed):
    """A private CPU ``torch.Generator`` seeded with ``seed``, or None (torch's global one)."""
    if check_seed(seed, optional=True) is None:
        return None
    return torch.Generator().manual_seed(seed)


def generators(n):
    """``n`` CPU generators seeded from torch's current global state (one stream each)."""
    return [torch.Generator().manual_seed(int(s)) for s in torch.randint(2**62, (n,))]


def derived_seed(seed, stream=1):
    """A seed for another stream of the same run, independent of ``seed``'s own draws.

    Reusing ``seed`` for two streams repeats draws: §4.5's ``init_params`` would draw ``w``
    equal to the first training example (both are the first 200 normal draws).
    """
    import numpy as np

    if check_seed(seed, optional=True) is None:
        return None
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0])
