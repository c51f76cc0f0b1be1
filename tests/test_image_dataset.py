"""Fashion-MNIST in memory (d2lcompute/image_dataset.py): files checked, decoded once, served."""

import collections
import itertools
import math
import os
import re
import struct
from urllib.error import URLError

import numpy as np
import pytest
import torch
from torch.utils import data

import d2lcompute as d2l
from d2lcompute import hub
from d2lcompute import image_dataset as data_module
from d2lcompute.errors import DamagedFileError


def test_get_fashion_mnist_labels():
    assert d2l.get_fashion_mnist_labels(torch.tensor([0, 9, 5])) == [
        "t-shirt",
        "ankle boot",
        "sandal",
    ]
    assert len(set(d2l.get_fashion_mnist_labels(range(10)))) == 10
    with pytest.raises(ValueError, match="class indices 0-9, got 10"):
        d2l.get_fashion_mnist_labels([10])
    with pytest.raises(ValueError, match="got -1"):
        d2l.get_fashion_mnist_labels([-1])


def write_idx(path, array):
    """Write a uint8 array in the IDX format of the Fashion-MNIST files."""
    header = struct.pack(">I", 0x800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    """A folder with a 50/20-image Fashion-MNIST look-alike; downloading is an error."""
    monkeypatch.setattr(data_module, "_cache", collections.OrderedDict())
    monkeypatch.setattr("torchvision.datasets.FashionMNIST.download", _no_network)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 50), ("t10k", 20)):
        write_idx(
            raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        )
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8))
    # the look-alikes' own hashes stand in for the real files' known ones
    monkeypatch.setattr(
        hub,
        "FASHION_MNIST_SHA1",
        {name: hub.file_sha1(tmp_path / name) for name in hub.FASHION_MNIST_SHA1},
    )
    return tmp_path


def _no_network(self):
    raise AssertionError("tests must not download")


def fake_split(root, prefix):
    raw = root / "FashionMNIST" / "raw"
    images = np.frombuffer((raw / f"{prefix}-images-idx3-ubyte").read_bytes()[16:], np.uint8)
    labels = np.frombuffer((raw / f"{prefix}-labels-idx1-ubyte").read_bytes()[8:], np.uint8)
    return torch.tensor(images.reshape(-1, 1, 28, 28)), torch.tensor(labels, dtype=torch.int64)


def test_loader_serves_bytes_over_255_in_dataloader_order(fake_root):
    images, labels = fake_split(fake_root, "train")
    train_iter, test_iter = d2l.load_data_fashion_mnist(16, data_dir=fake_root)
    assert len(train_iter) == 4 and len(test_iter) == 2 and train_iter.batch_size == 16
    assert len(train_iter.dataset) == 50 and len(test_iter.dataset) == 20
    oracle = data.DataLoader(data.TensorDataset(images.float() / 255, labels), 16, shuffle=True)
    for _ in range(2):  # two epochs: reshuffled the same way as the book's DataLoader
        torch.manual_seed(7)
        ours = list(train_iter)
        torch.manual_seed(7)
        book = list(oracle)
        assert [len(y) for _, y in ours] == [16, 16, 16, 2]  # drop_last=False
        for (X, y), (X_book, y_book) in zip(ours, book):
            assert X.dtype == torch.float32 and y.dtype == torch.int64
            assert torch.equal(X, X_book) and torch.equal(y, y_book)
    test_images, test_labels = fake_split(fake_root, "t10k")
    X, y = torch.cat([X for X, _ in test_iter]), torch.cat([y for _, y in test_iter])
    assert torch.equal(X, test_images / 255) and torch.equal(y, test_labels)  # in order


def test_dataset_indexing(fake_root):
    images, labels = fake_split(fake_root, "train")
    train_iter, _ = d2l.load_data_fashion_mnist(8, data_dir=fake_root)
    image, label = train_iter.dataset[3]
    assert image.shape == (1, 28, 28) and torch.equal(image, images[3] / 255)
    assert label.ndim == 0 and label == labels[3]
    assert torch.equal(train_iter.dataset[-1][0], images[-1] / 255)
    with pytest.raises(IndexError, match="index 50 is out of range for 50 images"):
        train_iter.dataset[50]
    assert "50 images of 1x28x28" in repr(train_iter)


def test_loader_uses_env_data_dir_and_caches(fake_root, monkeypatch):
    monkeypatch.setenv(hub.ENV_DATA_DIR, str(fake_root))
    first, _ = d2l.load_data_fashion_mnist(10)
    second, _ = d2l.load_data_fashion_mnist(25)
    assert second.dataset is first.dataset  # decoded once per process
    assert len(second) == 2


def test_resize_batch_by_batch_equals_resize_once(fake_root, monkeypatch):
    once, _ = d2l.load_data_fashion_mnist(50, resize=(32, 40), data_dir=fake_root)
    monkeypatch.setattr(data_module, "_cache", collections.OrderedDict())
    monkeypatch.setattr(data_module, "_PRECOMPUTE_BYTES", 0)
    lazy, _ = d2l.load_data_fashion_mnist(50, resize=(32, 40), data_dir=fake_root)
    assert lazy.dataset.size == (32, 40) and once.dataset.size is None
    torch.manual_seed(0)
    ((X_once, y_once),) = list(once)
    torch.manual_seed(0)
    ((X_lazy, y_lazy),) = list(lazy)
    assert X_once.shape == (50, 1, 32, 40)
    assert torch.equal(X_once, X_lazy) and torch.equal(y_once, y_lazy)


def _offline(self):
    raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no route to host")


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"\x00\x00",  # truncated
        lambda data: data[:16] + bytes(len(data) - 16),  # every image zeroed: trained "fine" before
    ],
)
def test_a_damaged_file_is_named_and_kept_when_it_cannot_be_downloaded_again(
    fake_root, monkeypatch, damage
):
    monkeypatch.setattr("torchvision.datasets.FashionMNIST.download", _offline)
    path = fake_root / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.write_bytes(damage(path.read_bytes()))
    damaged = path.read_bytes()
    with pytest.raises(
        DamagedFileError,
        match=rf"do not match their known sha1, and downloading "
        rf"fresh copies failed \(.*no route to host\):\n  "
        rf"{re.escape(str(path))}: sha1 [0-9a-f]{{40}}, "
        rf"expected [0-9a-f]{{40}}\nDelete them",
    ):
        d2l.load_data_fashion_mnist(10, data_dir=fake_root)
    assert path.read_bytes() == damaged  # set aside during the attempt, then put back
    assert not list(path.parent.glob("*.damaged"))


def test_a_damaged_file_is_repaired_by_downloading_it_again(fake_root, monkeypatch):
    raw = fake_root / "FashionMNIST" / "raw"
    good = (raw / "train-labels-idx1-ubyte").read_bytes()
    labels = fake_split(fake_root, "train")[1]
    (raw / "train-labels-idx1-ubyte").write_bytes(good[:8] + bytes([200]) + good[9:])
    downloads = []

    def download(self):  # what torchvision does: fetch the missing files
        assert not (raw / "train-labels-idx1-ubyte").exists()
        (raw / "train-labels-idx1-ubyte").write_bytes(good)
        downloads.append(self)

    monkeypatch.setattr("torchvision.datasets.FashionMNIST.download", download)
    train_iter, _ = d2l.load_data_fashion_mnist(50, data_dir=fake_root)
    assert len(downloads) == 1  # label 200 was served as a class before
    assert torch.equal(next(iter(data.DataLoader(train_iter.dataset, 50)))[1], labels)
    assert not list(raw.glob("*.damaged"))


def test_verified_files_are_hashed_again_only_when_they_change(fake_root, monkeypatch):
    hashed = []
    real = hub.file_sha1
    monkeypatch.setattr(hub, "file_sha1", lambda path: hashed.append(path) or real(path))
    monkeypatch.setattr(hub, "_SHA1_MEMO", {})
    for _ in range(2):
        monkeypatch.setattr(data_module, "_cache", collections.OrderedDict())
        d2l.load_data_fashion_mnist(10, data_dir=fake_root)
    assert len(hashed) == 4
    labels = fake_root / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte"
    os.utime(labels, ns=(labels.stat().st_atime_ns, labels.stat().st_mtime_ns + 10**9))
    monkeypatch.setattr(data_module, "_cache", collections.OrderedDict())
    d2l.load_data_fashion_mnist(10, data_dir=fake_root)
    assert len(hashed) == 5 and hashed[-1] == labels


def test_missing_data_without_network_says_where_to_put_it(tmp_path, monkeypatch, capsys):
    attempts = []

    def failing_download(self):
        attempts.append(self.root)
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no route to host")

    monkeypatch.setattr("torchvision.datasets.FashionMNIST.download", failing_download)
    folder = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as info:
        d2l.load_data_fashion_mnist(256, data_dir=folder)
    message = str(info.value)
    assert f"Fashion-MNIST is not in {folder}" in message
    assert "no route to host" in message
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        assert str(folder / "FashionMNIST" / "raw" / name) in message
    assert "$D2LCOMPUTE_DATA_DIR" in message and "data_dir=" in message
    assert "fashion-mnist.s3-website" in message
    assert isinstance(info.value.__cause__, RuntimeError)
    assert attempts == [str(folder)] or attempts == [folder]
    assert capsys.readouterr().out == ""


def test_missing_data_uses_env_folder(monkeypatch):
    monkeypatch.setattr(
        "torchvision.datasets.FashionMNIST.download",
        lambda self: (_ for _ in ()).throw(URLError("offline")),
    )
    with pytest.raises(FileNotFoundError, match=r"data-cache.*offline"):
        d2l.load_data_fashion_mnist(256)  # conftest points $D2LCOMPUTE_DATA_DIR at tmp


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got batch_size=0"),
        ({"batch_size": -5}, ValueError, "batch_size must be >= 1"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer, got batch_size=2.5"),
        ({"batch_size": True}, TypeError, "batch_size must be an integer"),
        ({"batch_size": 8, "resize": 0}, ValueError, "resize must be >= 1, got resize=0"),
        ({"batch_size": 8, "resize": -64}, ValueError, "resize must be >= 1"),
        ({"batch_size": 8, "resize": "64"}, TypeError, "resize must be an integer"),
        ({"batch_size": 8, "resize": (64,)}, ValueError, r"int or \(height, width\)"),
        ({"batch_size": 8, "resize": (64, 0)}, ValueError, "resize must be >= 1"),
    ],
)
def test_load_data_fashion_mnist_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):  # checked before any file is touched
        d2l.load_data_fashion_mnist(**kwargs)


def test_real_fashion_mnist(real_data_dir):
    train_iter, test_iter = d2l.load_data_fashion_mnist(256, data_dir=real_data_dir)
    assert len(train_iter.dataset) == 60_000 and len(test_iter.dataset) == 10_000
    assert len(train_iter) == math.ceil(60_000 / 256) and len(test_iter) == 40
    total, count, label_counts = 0.0, 0, torch.zeros(10, dtype=torch.int64)
    for X, y in train_iter:
        assert X.shape[1:] == (1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
        total += X.sum(dtype=torch.float64).item()
        count += X.numel()
        label_counts += torch.bincount(y, minlength=10)
    assert X.shape[0] == 60_000 - 234 * 256  # the last, partial batch is kept
    assert abs(total / count - 0.2860) < 1e-4  # the data set's known mean pixel value
    assert label_counts.tolist() == [6000] * 10  # every image once per epoch
    X, y = next(iter(test_iter))
    assert 0 <= X.min() and X.max() <= 1


def test_real_fashion_mnist_matches_the_books_pipeline(real_data_dir):
    import torchvision
    from torchvision import transforms

    book_test = torchvision.datasets.FashionMNIST(
        root=real_data_dir, train=False, transform=transforms.ToTensor(), download=False
    )
    book_resized = torchvision.datasets.FashionMNIST(
        root=real_data_dir,
        train=False,
        download=False,
        transform=transforms.Compose([transforms.Resize(64), transforms.ToTensor()]),
    )
    _, test_iter = d2l.load_data_fashion_mnist(8, data_dir=real_data_dir)
    X, y = next(iter(test_iter))
    assert torch.equal(X, torch.stack([book_test[i][0] for i in range(8)]))
    assert y.tolist() == [book_test[i][1] for i in range(8)]
    train64, test64 = d2l.load_data_fashion_mnist(8, resize=64, data_dir=real_data_dir)
    X64, _ = next(iter(test64))
    assert X64.shape == (8, 1, 64, 64)
    assert torch.equal(X64, torch.stack([book_resized[i][0] for i in range(8)]))  # bit for bit
    assert next(iter(train64))[0].shape == (8, 1, 64, 64)


def test_real_fashion_mnist_reshuffles_each_epoch_reproducibly(real_data_dir):
    train_iter, test_iter = d2l.load_data_fashion_mnist(256, data_dir=real_data_dir)

    def labels(loader):  # the order is fixed when a pass starts, so 3 batches tell it
        return torch.cat([y for _, y in itertools.islice(loader, 3)])

    torch.manual_seed(42)
    epoch1, epoch2 = labels(train_iter), labels(train_iter)
    torch.manual_seed(42)
    again = labels(train_iter)
    assert not torch.equal(epoch1, epoch2)
    assert torch.equal(epoch1, again)
    assert torch.equal(labels(test_iter), labels(test_iter))
    assert torch.equal(labels(test_iter), test_iter.dataset.labels[:768])


def test_loader_reads_the_books_data_folder_when_it_holds_the_files(fake_root, monkeypatch):
    monkeypatch.delenv("D2LCOMPUTE_DATA_DIR")
    (fake_root / "data").symlink_to(fake_root)  # <notebook folder>/../data holds FashionMNIST/
    (fake_root / "chapter").mkdir()
    monkeypatch.chdir(fake_root / "chapter")
    train_iter, _ = d2l.load_data_fashion_mnist(10)
    assert len(train_iter.dataset) == 50  # the fake files, not a download into the cache


@pytest.mark.parametrize("labels", [[1.7], torch.tensor([0.5]), [float("inf")], ["1"], [True]])
def test_get_fashion_mnist_labels_refuses_what_is_not_a_class_index(labels):
    with pytest.raises(ValueError, match="labels must be class indices 0-9"):
        d2l.get_fashion_mnist_labels(labels)


def test_get_fashion_mnist_labels_takes_whole_floats_and_tensors():
    assert d2l.get_fashion_mnist_labels([1.0, torch.tensor(9)]) == ["trouser", "ankle boot"]
    with pytest.raises(TypeError, match="labels must be a sequence"):
        d2l.get_fashion_mnist_labels(3)
