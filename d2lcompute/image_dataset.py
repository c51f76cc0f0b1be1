"""The image classification dataset, Fashion-MNIST, in memory (Book: §3.5; d2l.ai 1.0: §4.2).

The book's ``load_data_fashion_mnist`` turns every image into a PIL image and back on
every epoch, in 4 worker processes. On a 2-core laptop that loader, not the model, sets
the pace, and the workers fail in notebooks and scripts on Windows. Ours reads the files
once with torchvision (after checking their sha1s), resizes all images at once (unless that
would take more than 256 MiB), and serves mini-batches from memory with
:class:`d2lcompute.data.BatchLoader`: an epoch of batches costs a fraction of a second. The
English edition's ``FashionMNIST`` serves the same batches.
"""

import collections
import contextlib
import math
import numbers
import operator
import os
import sys

import torch
from torch.utils import data

from d2lcompute import distributed, hub
from d2lcompute._checks import check_int, check_sequence
from d2lcompute.data import BatchLoader
from d2lcompute.errors import DamagedFileError, MissingFileError

_TEXT_LABELS = [
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
]
# A split whose resized bytes fit in this budget is resized once (64 x 64: 246 MB for the
# training set); bigger ones (224 x 224: 3 GB) are resized batch by batch as they are served.
_PRECOMPUTE_BYTES = 256 << 20
_CACHE_SIZE = 4  # (folder, split, size) entries: train and test for two image sizes
_cache = collections.OrderedDict()


def get_fashion_mnist_labels(labels):
    """The text labels of Fashion-MNIST class indices, e.g. ``[0, 9] -> ['t-shirt', 'ankle boot']``.

    Book: §3.5
    """
    check_sequence("labels", labels, "a sequence or tensor of class indices 0-9")
    text = []
    for label in labels:
        # int(1.7) would silently be 1 ('trouser'): only whole numbers are class indices
        value = label.item() if isinstance(label, torch.Tensor) and label.numel() == 1 else label
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or value != int(value)
        ):
            raise ValueError(f"labels must be class indices 0-9 (whole numbers), got {label!r}")
        i = int(value)
        if not 0 <= i < len(_TEXT_LABELS):
            raise ValueError(f"labels must be class indices 0-9, got {i}")
        text.append(_TEXT_LABELS[i])
    return text


class ImageTensorDataset(data.Dataset):
    """Images held as ``uint8`` tensors and served as ``float32`` in [0, 1], with labels.

    Keeping bytes rather than floats uses a quarter of the memory and holds exactly the
    values the book's ``ToTensor`` produces (bytes / 255).

    Args:
        images: ``uint8`` tensor of shape ``(N, C, H, W)``.
        labels: ``int64`` tensor of shape ``(N,)``.
        size: ``(h, w)`` to resize each batch to when it is served, or None.

    Shape:
        ``dataset[i]`` is ``(image, label)``: ``(C, h, w)`` float32 and a 0-d int64 tensor.
    """

    def __init__(self, images, labels, size=None):
        self.images, self.labels, self.size = images, labels, size

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        i = operator.index(index)
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} is out of range for {len(self)} images")
        X, y = self.batch(torch.tensor([i % len(self)]))
        return X[0], y[0]

    def batch(self, indices):
        """The images and labels at ``indices`` (a 1-D ``int64`` tensor), as one mini-batch."""
        images = self.images.index_select(0, indices)  # much faster than images[indices]
        if self.size is not None:
            images = _resize_uint8(images, self.size)
        return images.float().div_(255), self.labels.index_select(0, indices)

    def __repr__(self):
        channels, height, width = self.images.shape[1:]
        if self.size is not None:
            height, width = self.size
        return f"{type(self).__name__}({len(self)} images of {channels}x{height}x{width})"


def load_data_fashion_mnist(batch_size, resize=None, *, data_dir=None):
    """Load Fashion-MNIST into memory and return ``(train_iter, test_iter)``.

    The files are read from ``hub.data_dir(data_dir)`` (explicit folder, else
    ``$D2LCOMPUTE_DATA_DIR``, else the book's ``../data`` if it holds them, else the
    cache), in torchvision's layout ``FashionMNIST/raw/train-images-idx3-ubyte`` etc.
    (where the book's ``../data`` has them too), and downloaded there by torchvision when
    missing. Each file is checked against its known sha1 first (once per process while it
    is unchanged); a damaged one is downloaded again, or named in a ``DamagedFileError``
    when that fails. Decoded (and resized) images are kept for the rest of the
    process, so a second call costs nothing.

    Args:
        batch_size: examples per mini-batch.
        resize: an int (square images, like the book's ``transforms.Resize(resize)``) or
            ``(height, width)``; None keeps 28 x 28. Resizing is bilinear with
            antialiasing, the same bytes as the book's PIL path when enlarging.
        data_dir: the folder that holds (or will hold) ``FashionMNIST/``.

    Shape:
        Each batch is ``X`` of shape ``(B, 1, 28, 28)`` (or ``(B, 1, h, w)``), float32 in
        [0, 1], and ``y`` of shape ``(B,)``, int64 in 0..9. The training set has 60,000
        images and is shuffled on every pass; the test set has 10,000, in order.

    Example::

        train_iter, test_iter = load_data_fashion_mnist(256)
        X, y = next(iter(train_iter))
        X.shape, X.dtype, y.dtype
        # (torch.Size([256, 1, 28, 28]), torch.float32, torch.int64)

    Book: §3.5 (``data_dir`` is ours)
    """
    batch_size = check_int("batch_size", batch_size, min_value=1)
    train = fashion_mnist(True, resize, data_dir=data_dir)
    test = fashion_mnist(False, resize, data_dir=data_dir)
    return BatchLoader(train, batch_size, shuffle=True), BatchLoader(test, batch_size)


def fashion_mnist(train, resize=None, *, data_dir=None):
    """One split of Fashion-MNIST in memory, as an :class:`ImageTensorDataset`.

    What :func:`load_data_fashion_mnist` and the English edition's ``FashionMNIST`` both
    serve: the files are found (or downloaded) and decoded once per process.

    Args:
        train: True for the 60,000 training images, False for the 10,000 test images.
        resize, data_dir: as in :func:`load_data_fashion_mnist`.
    """
    root = hub.data_dir(data_dir, needs=hub.FASHION_MNIST_SHA1)
    return _fashion_mnist(root, bool(train), _check_resize(resize))


def _check_resize(resize):
    if resize is None:
        return None
    if isinstance(resize, (tuple, list)) and len(resize) == 2:
        return tuple(check_int("resize", side, min_value=1) for side in resize)
    if isinstance(resize, (tuple, list)):
        raise ValueError(f"resize must be an int or (height, width), got resize={resize!r}")
    side = check_int("resize", resize, min_value=1)
    return (side, side)


def _fashion_mnist(root, train, size):
    """An ImageTensorDataset for one split, from the process-wide cache when possible."""
    key = (str(root.resolve()), train, size)
    if key not in _cache:
        images, labels = _read_fashion_mnist(root, train)
        images = images.unsqueeze(1)  # (N, 28, 28) -> (N, 1, 28, 28)
        size_per_batch = None
        if size is not None and size != tuple(images.shape[-2:]):
            if len(images) * size[0] * size[1] <= _PRECOMPUTE_BYTES:
                # in chunks, so the resize never holds a float copy of the whole set
                images = torch.cat([_resize_uint8(chunk, size) for chunk in images.split(4096)])
            else:
                size_per_batch = size
        _cache[key] = ImageTensorDataset(images, labels, size_per_batch)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    _cache.move_to_end(key)
    return _cache[key]


def _resize_uint8(images, size):
    """Bilinear, antialiased resize of ``uint8`` images ``(N, C, H, W)``, staying ``uint8``."""
    from torchvision.transforms.v2 import functional as TF

    # torchvision's uint8 kernel is ~5x faster than F.interpolate on floats and rounds to
    # bytes as PIL does: enlarged images equal the book's bit for bit.
    return TF.resize(images, list(size), antialias=True)


def _read_fashion_mnist(root, train):
    """The ``uint8`` images ``(N, 28, 28)`` and ``int64`` labels ``(N,)`` of one split."""
    from torchvision.datasets import FashionMNIST

    with distributed.main_process_first():  # under torchrun one rank per machine downloads
        if not all((root / name).is_file() for name in hub.FASHION_MNIST_SHA1):
            _download_fashion_mnist(root)
        _verify_fashion_mnist(root)  # which may download damaged files again
    try:
        dataset = FashionMNIST(root=root, train=train, download=False)
    except (OSError, RuntimeError, ValueError, AssertionError) as e:  # torchvision asserts
        raise DamagedFileError(
            f"could not read Fashion-MNIST from {root / 'FashionMNIST' / 'raw'}: "
            f"{e}. Delete the damaged files to download them again."
        ) from e
    return dataset.data, dataset.targets


def _verify_fashion_mnist(root):
    """Check the four files against their sha1s; download fresh copies of damaged ones.

    Zeroed images or a flipped label byte would otherwise train without complaint. A damaged
    file is set aside while torchvision downloads, and put back if the download fails.
    """
    damaged = [
        name for name, sha1 in hub.FASHION_MNIST_SHA1.items() if hub.known_sha1(root / name) != sha1
    ]
    if not damaged:
        return
    found = {name: hub.known_sha1(root / name) for name in damaged}
    listing = "\n".join(
        f"  {root / name}: sha1 {found[name]}, expected {hub.FASHION_MNIST_SHA1[name]}"
        for name in damaged
    )
    aside = {
        root / name: (root / name).with_name(f"{(root / name).name}.damaged") for name in damaged
    }
    moved = []
    try:
        for path, spare in aside.items():
            os.replace(path, spare)
            moved.append((path, spare))
        _download_fashion_mnist(root)
    except (OSError, MissingFileError) as e:  # a read-only folder, or no network
        for path, spare in moved:
            os.replace(spare, path)
        reason = e.__cause__ if isinstance(e, MissingFileError) else e
        raise DamagedFileError(
            f"Fashion-MNIST file(s) in {root} do not match their known sha1, and downloading "
            f"fresh copies failed ({reason}):\n{listing}\nDelete them and load again with a "
            f"network connection, or put correct copies there."
        ) from e
    for spare in aside.values():
        spare.unlink()
    still = [
        name for name in damaged if hub.known_sha1(root / name) != hub.FASHION_MNIST_SHA1[name]
    ]
    if still:
        raise DamagedFileError(
            f"the freshly downloaded Fashion-MNIST file(s) "
            f"{', '.join(str(root / n) for n in still)} do not match their "
            f"known sha1 either; the download source may have changed"
        )


def _download_fashion_mnist(root):
    from torchvision.datasets import FashionMNIST

    try:
        with contextlib.redirect_stdout(sys.stderr):  # torchvision reports with print()
            FashionMNIST(root=root, train=True, download=True)  # fetches both splits
    except (OSError, RuntimeError) as e:
        layout = "\n".join(f"  {root / name}" for name in hub.FASHION_MNIST_SHA1)
        raise MissingFileError(
            f"Fashion-MNIST is not in {root} and downloading it failed ({type(e).__name__}: "
            f"{str(e).strip()}).\nPut the four uncompressed files there by hand (gunzip the "
            f"*-ubyte.gz files from {hub.FASHION_MNIST_URL}):\n{layout}\nor point data_dir= or "
            f"${hub.ENV_DATA_DIR} at a folder that holds FashionMNIST/raw/."
        ) from e
