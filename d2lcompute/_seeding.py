"""The package's one seed policy: what a seed is, how a run or a generator is seeded from it.

A seed is an integer in ``[0, 2**32)``, what NumPy accepts and ``--seed`` allows. ``None``
means "not seeded": the code draws from torch's global generator as the book's does.
``seeded`` runs a block on torch's generators seeded with ``seed`` and gives the global
state back afterwards; ``generator`` makes a private generator; ``derived_seed`` gives an
independent second stream from the same seed (so data and weights do not repeat draws);
``random_states`` and ``set_random_states`` save and restore every generator, as a
checkpoint keeps them. Only this module seeds or forks a global generator (a test keeps it so).
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


def seed_torch(seed):
    """Seed torch's generators only (CPU and every GPU): for a seed torch drew itself
    (any int below 2**63), where Python's and NumPy's generators must not move."""
    torch.manual_seed(seed)


@contextlib.contextmanager
def seeded(seed, device=None, *, everywhere=False):
    """Run the block on torch's generators seeded with ``seed``; restore them afterwards.

    ``seed=None`` leaves the global generators as they are (the book's behaviour). The CPU
    generator is always forked; a CUDA ``device``'s too. ``everywhere=True`` seeds and
    restores all that ``set_seed`` seeds: Python's ``random``, NumPy and every GPU as well.
    """
    if check_seed(seed, optional=True) is None:
        yield
        return
    with kept_random_state(device, everywhere=everywhere):
        if everywhere:
            set_seed(seed)
        else:
            torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def kept_random_state(device=None, *, everywhere=False):
    """Run the block, then give torch's CPU generator (and a CUDA ``device``'s) its state back.

    Also when the block raises. ``everywhere=True`` keeps Python's ``random``, NumPy's and
    every GPU's state too. What ``seeded`` runs on, and the fork for code that must not
    advance the caller's stream (a forward pass run only to read shapes).
    """
    import numpy as np

    device = torch.device("cpu") if device is None else torch.device(device)
    if everywhere:
        devices = range(torch.cuda.device_count())
    else:
        devices = [device.index or 0] if device.type == "cuda" else []
    saved = (random.getstate(), np.random.get_state()) if everywhere else None
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        if saved is not None:
            random.setstate(saved[0])
            np.random.set_state(saved[1])


def split_stream(offset):
    """Reseed torch's global generators (CPU and GPUs) apart by ``offset``, reproducibly.

    The new seed is drawn from a copy of the current CPU state (which is not advanced) plus
    ``offset``: processes sharing one state (data-parallel ranks) get one stream each.
    """
    shared = torch.Generator()
    shared.set_state(torch.get_rng_state())
    torch.manual_seed(int(torch.randint(2**62, (), generator=shared)) + offset)


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


def random_states():
    """Every generator a training loop draws from, as types a weights_only load accepts."""
    import numpy as np

    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "name": name,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": pos,
            "has_gauss": has_gauss,
            "cached_gaussian": cached_gaussian,
        },
        "python": random.getstate(),
    }


def check_random_states(states):
    """Restore ``random_states()``'s ``states`` into throwaway generators: an error here
    changes nothing."""
    import numpy as np

    torch.Generator().set_state(states["torch"].cpu())
    for state in states["cuda"]:
        if not (isinstance(state, torch.Tensor) and state.dtype == torch.uint8):
            raise TypeError("a CUDA state is not a uint8 tensor")
    np.random.RandomState().set_state(_numpy_state(states["numpy"]))
    random.Random().setstate(states["python"])


def set_random_states(states):
    """Give every generator the state ``random_states()`` saved (check them first)."""
    import numpy as np

    torch.set_rng_state(states["torch"].cpu())
    if states["cuda"] and torch.cuda.is_available():
        # A machine with fewer GPUs restores the ones it has.
        for i, state in enumerate(states["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(state.cpu(), i)
    np.random.set_state(_numpy_state(states["numpy"]))
    random.setstate(states["python"])


def _numpy_state(saved):
    import numpy as np

    keys = saved["keys"].cpu().numpy().astype(np.uint32)
    return saved["name"], keys, saved["pos"], saved["has_gauss"], saved["cached_gaussian"]
