"""Data for the training loops: synthetic regression data and in-memory loaders.

Book: §3.2 (``synthetic_data``), §3.3 (``load_array``). ``BatchLoader`` serves mini-batches
by indexing tensors in memory and behaves like a ``DataLoader`` (``len``, ``.dataset``,
``.batch_size``, reshuffled each epoch, the same batches under ``torch.manual_seed``); the
English edition's ``DataModule.get_tensorloader`` and Fashion-MNIST
(:mod:`d2lcompute.image_dataset`) use it.
"""

import math
import multiprocessing
import os

import torch
from torch.utils import data

from d2lcompute._checks import check_int, check_number


def synthetic_data(w, b, num_examples):
    """Generate ``y = Xw + b + noise``: features ``X ~ N(0, 1)``, noise ``N(0, 0.01^2)``.

    Args:
        w: weight vector of length ``d`` (a tensor or a list of numbers).
        b: bias, a number.
        num_examples: number of examples ``n``.

    Shape:
        Returns ``X`` of shape ``(n, d)`` and ``y`` of shape ``(n, 1)``.

    Example::

        >>> features, labels = synthetic_data(torch.tensor([2, -3.4]), 4.2, 1000)
        >>> features.shape, labels.shape
        (torch.Size([1000, 2]), torch.Size([1000, 1]))

    Book: §3.2
    """
    num_examples = check_int("num_examples", num_examples, min_value=1)
    if not isinstance(b, torch.Tensor):
        b = check_number("b", b)
    try:
        w = torch.as_tensor(w)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(f"w must be a tensor or a list of numbers, got w={w!r}") from e
    if not (w.dim() == 1 or (w.dim() == 2 and w.shape[1] == 1)) or w.numel() == 0:
        # a (1, d) or (d, k) w would make X (n, 1) or y (n * k,) without complaint
        raise ValueError(f"w must be a vector of shape (d,) or (d, 1), got shape {tuple(w.shape)}")
    if not w.is_floating_point():  # the book's torch.tensor([2, -3]) would fail in matmul
        w = w.to(torch.get_default_dtype())
    # Same draws in the same order as the book, so a seed gives the book's numbers.
    X = torch.normal(0, 1, (num_examples, w.shape[0]), dtype=w.dtype, device=w.device)
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape, dtype=w.dtype, device=w.device)
    return X, y.reshape((-1, 1))


def load_array(data_arrays, batch_size, is_train=True):
    """A ``DataLoader`` over tensors that share their first dimension.

    Args:
        data_arrays: a tuple of tensors, e.g. ``(features, labels)``.
        batch_size: examples per mini-batch (the last one may be smaller).
        is_train: shuffle the examples anew on every pass.

    Book: §3.3
    """
    batch_size = check_int("batch_size", batch_size, min_value=1)
    if (
        not isinstance(data_arrays, (tuple, list))
        or not data_arrays
        or not all(isinstance(t, torch.Tensor) and t.dim() > 0 for t in data_arrays)
    ):
        # a bare tensor would be taken apart row by row: one "array" per example
        got = (
            f"a bare tensor of shape {tuple(data_arrays.shape)}"
            if isinstance(data_arrays, torch.Tensor)
            else repr(data_arrays)[:80]
        )
        raise TypeError(
            f"data_arrays must be a tuple of tensors, e.g. (features, labels), "
            f"got {got}; for one tensor write (X,)"
        )
    sizes = [len(t) for t in data_arrays]
    if len(set(sizes)) > 1:
        raise ValueError(f"data_arrays must hold the same number of examples, got sizes {sizes}")
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def get_dataloader_workers():
    """Worker processes for a ``DataLoader`` that decodes images; the book uses 4.

    Returns 0 where Python starts workers by spawning (Windows, macOS): there every
    worker re-imports the caller's script, which fails in notebooks and in scripts
    without ``if __name__ == "__main__":``, and costs seconds per epoch. Elsewhere one
    less than the usable CPUs (the main process trains), at most the book's 4. Our own
    :func:`load_data_fashion_mnist` needs no workers.

    Book: §3.5
    """
    # get_all_start_methods()[0] is the platform default; get_start_method() without
    # allow_none would fix the method as a side effect.
    method = (
        multiprocessing.get_start_method(allow_none=True)
        or multiprocessing.get_all_start_methods()[0]
    )
    if method != "fork":
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, min(4, (cpus or 1) - 1))


class TensorBatches(data.Dataset):
    """Tensors that share their first dimension, served a whole mini-batch at a time.

    ``dataset[i]`` is the tuple of row ``i`` of each tensor, as in ``TensorDataset``;
    ``batch(indices)`` gathers many rows with one ``index_select`` per tensor, which is what
    :class:`BatchLoader` calls, instead of collating rows one by one.
    """

    def __init__(self, *tensors):
        sizes = [len(t) for t in tensors]
        if not tensors or len(set(sizes)) > 1:
            raise ValueError(
                f"tensors must be one or more tensors with the same number of "
                f"rows, got sizes {sizes}"
            )
        self.tensors = tensors

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def batch(self, indices):
        """The rows at ``indices`` (a 1-D ``int64`` tensor) of every tensor."""
        return tuple(t.index_select(0, indices.to(t.device)) for t in self.tensors)


class BatchLoader:
    """Mini-batches from an in-memory dataset, used like a ``torch.utils.data.DataLoader``.

    Each pass with ``shuffle=True`` draws a new order from a ``torch.Generator`` seeded
    from the global generator, exactly as ``DataLoader(dataset, batch_size, shuffle=True)``
    does, so it gives the same batches as the book's loader under the same
    ``torch.manual_seed`` and leaves the global random state where the book's would.
    The last batch may be smaller (``drop_last=False``).

    Args:
        dataset: an :class:`ImageTensorDataset` or :class:`TensorBatches`.
        batch_size: examples per mini-batch.
        shuffle: reshuffle on every pass.
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.dataset = dataset
        self.batch_size = check_int("batch_size", batch_size, min_value=1)
        self.shuffle = shuffle

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        # DataLoader draws a seed for its workers on every pass, then RandomSampler one for
        # its permutation; drawing the same numbers keeps seeded runs identical to the book's.
        torch.empty((), dtype=torch.int64).random_()
        if self.shuffle:
            seed = int(torch.empty((), dtype=torch.int64).random_().item())
            order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        else:
            order = torch.arange(n)
        for start in range(0, n, self.batch_size):
            yield self.dataset.batch(order[start : start + self.batch_size])

    def __repr__(self):
        return (
            f"{type(self).__name__}({self.dataset!r}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle})"
        )
