"""GPUs (Book: §5.6): pick a device that exists, fall back to the CPU, so the same code
runs on a laptop and on a GPU machine.

CUDA devices come first; Apple's MPS device is used when there is no CUDA device.
"""

import torch

from d2lcompute._checks import check_int


def num_gpus():
    """The number of usable GPUs: CUDA devices, else 1 if Apple's MPS is available, else 0."""
    if torch.cuda.is_available():
        return torch.cuda.device_count()
    return 1 if torch.backends.mps.is_available() else 0


def try_gpu(i=0):
    """GPU ``i`` if it exists, else the CPU.

    Example::

        >>> try_gpu(), try_gpu(10)   # on a CPU-only machine
        (device(type='cpu'), device(type='cpu'))
    """
    check_int("i", i, min_value=0)
    if i < num_gpus():
        return torch.device(f"cuda:{i}") if torch.cuda.is_available() else torch.device("mps")
    return torch.device("cpu")


def try_all_gpus():
    """All available GPUs, or ``[cpu]`` if there is none."""
    devices = [try_gpu(i) for i in range(num_gpus())]
    return devices if devices else [torch.device("cpu")]
