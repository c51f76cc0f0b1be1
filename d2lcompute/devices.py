"""GPUs (Book: §5.6; d2l.ai 1.0: §6.7): pick a device that exists, fall back to the CPU, so the
same code runs on a laptop and on a GPU machine.

CUDA devices come first; Apple's MPS device is used when there is no CUDA device.
"""

import torch

from d2lcompute._checks import check_int


def num_gpus():
    """The number of usable GPUs: CUDA devices, else 1 if Apple's MPS is available, else 0."""
    if torch.cuda.is_available():
        return torch.cuda.device_count()
    return 1 if torch.backends.mps.is_available() else 0


def cpu():
    """The CPU device. Book (d2l.ai 1.0): §6.7."""
    return torch.device("cpu")


def gpu(i=0):
    """GPU ``i``: ``cuda:i``, or Apple's ``mps`` on a Mac without CUDA. Book (d2l.ai 1.0): §6.7.

    Unlike :func:`try_gpu` it does not fall back to the CPU: on a machine without any GPU it
    names ``cuda:i`` as the book does, and using that device fails there.
    """
    check_int("i", i, min_value=0)
    if not torch.cuda.is_available() and torch.backends.mps.is_available():
        if i > 0:
            raise ValueError(f"a Mac has one GPU (mps), got i={i}")
        return torch.device("mps")
    return torch.device(f"cuda:{i}")


def try_gpu(i=0):
    """GPU ``i`` if it exists, else the CPU.

    Example::

        >>> try_gpu(), try_gpu(10)   # on a CPU-only machine
        (device(type='cpu'), device(type='cpu'))
    """
    check_int("i", i, min_value=0)
    return gpu(i) if i < num_gpus() else cpu()


def try_all_gpus():
    """All available GPUs, or ``[cpu]`` if there is none."""
    return [gpu(i) for i in range(num_gpus())] or [cpu()]
