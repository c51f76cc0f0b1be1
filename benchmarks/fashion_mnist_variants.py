"""The variants that ``fashion_mnist.py`` times, each edition's (a) book, (b) ours, (c) floor.

``variant(args, device)`` loads the data (setup, not timed) and returns ``fit``; ``fit``
trains ``args.epochs`` epochs of the model it is given (zh: net, loss, optimizer; en: the
model) and returns ``(seconds per epoch, final validation accuracy)``. The book's variants
re-write its loops as the sections do, minus the figure.
"""

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import d2lcompute as d2l


def book(args, device):
    """(a) The book's data path and loop, as §3.5/§3.6 write them."""
    import torchvision
    from torch.utils import data
    from torchvision import transforms

    trans = transforms.ToTensor()
    mnist_train = torchvision.datasets.FashionMNIST(
        root=args.data_dir, train=True, transform=trans, download=False
    )
    mnist_test = torchvision.datasets.FashionMNIST(
        root=args.data_dir, train=False, transform=trans, download=False
    )
    workers = d2l.get_dataloader_workers() if args.workers is None else args.workers
    train_iter = data.DataLoader(mnist_train, args.batch_size, shuffle=True, num_workers=workers)
    test_iter = data.DataLoader(mnist_test, args.batch_size, shuffle=False, num_workers=workers)

    def train_epoch(net, loss, updater):
        net.train()
        metric = d2l.Accumulator(3)
        for X, y in train_iter:
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            updater.zero_grad()
            l.mean().backward()
            updater.step()
            # the book's float(l.sum()); detached only to silence torch's grad-to-float warning
            metric.add(float(l.detach().sum()), d2l.accuracy(y_hat.detach(), y), y.numel())
        return metric[0] / metric[2], metric[1] / metric[2]

    def evaluate(net):
        net.eval()
        metric = d2l.Accumulator(2)
        with torch.no_grad():
            for X, y in test_iter:
                X, y = X.to(device), y.to(device)
                metric.add(d2l.accuracy(net(X), y), y.numel())
        return metric[0] / metric[1]

    def fit(net, loss, trainer):
        seconds = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            train_epoch(net, loss, trainer)
            test_acc = evaluate(net)
            seconds.append(time.perf_counter() - start)
        return seconds, test_acc

    return fit


def ours(args, device):
    """(b) The package: in-memory Fashion-MNIST and ``train_ch3``."""
    import matplotlib.figure  # noqa: F401 -- train_ch3's Animator needs it: setup, once

    train_iter, test_iter = d2l.load_data_fashion_mnist(args.batch_size, data_dir=args.data_dir)

    def fit(net, loss, trainer):
        history = d2l.train_ch3(
            net, train_iter, test_iter, loss, args.epochs, trainer, device=device
        )
        return history["seconds"], history["test_acc"][-1]

    return fit


def floor(args, device):
    """(c) The compute alone: tensors decoded up front, one shuffled copy per epoch."""
    X_train, y_train = _read_idx(args.data_dir, "train", device)
    X_test, y_test = _read_idx(args.data_dir, "t10k", device)
    bs = args.batch_size

    def fit(net, loss, trainer):
        seconds = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            net.train()
            for X, y in _shuffled_batches(X_train, y_train, bs):
                l = loss(net(X), y)
                trainer.zero_grad()
                l.mean().backward()
                trainer.step()
            net.eval()
            correct = torch.zeros((), dtype=torch.long, device=device)
            with torch.no_grad():
                for i in range(0, len(X_test), bs):
                    correct += (net(X_test[i : i + bs]).argmax(dim=1) == y_test[i : i + bs]).sum()
            test_acc = correct.item() / len(X_test)
            seconds.append(time.perf_counter() - start)
        return seconds, test_acc

    return fit


def _shuffled_batches(X, y, batch_size):
    """One gather per epoch, then views: cheaper than any per-batch loader can be."""
    perm = torch.randperm(len(X), device=X.device)
    X, y = X.index_select(0, perm), y.index_select(0, perm)
    for i in range(0, len(perm), batch_size):
        yield X[i : i + batch_size], y[i : i + batch_size]


def _read_idx(data_dir, split, device):
    """Images as (N, 1, 28, 28) floats in [0, 1] and labels as int64, from the raw IDX files."""
    raw = Path(data_dir) / "FashionMNIST" / "raw"
    images = np.fromfile(raw / f"{split}-images-idx3-ubyte", dtype=np.uint8, offset=16)
    labels = np.fromfile(raw / f"{split}-labels-idx1-ubyte", dtype=np.uint8, offset=8)
    X = torch.from_numpy(images).reshape(-1, 1, 28, 28).float().div_(255)
    return X.to(device), torch.from_numpy(labels).long().to(device)


class DropoutMLP(d2l.Classifier):
    """§5.6's concise model, as the section writes it."""

    def __init__(self, num_outputs, num_hiddens_1, num_hiddens_2, dropout_1, dropout_2, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.LazyLinear(num_hiddens_1),
            nn.ReLU(),
            nn.Dropout(dropout_1),
            nn.LazyLinear(num_hiddens_2),
            nn.ReLU(),
            nn.Dropout(dropout_2),
            nn.LazyLinear(num_outputs),
        )


def book_en(args, device):
    """(a-en) The book's English data path and its Trainer/Module loop, minus the figure."""
    import torchvision
    from torch.utils import data
    from torchvision import transforms

    trans = transforms.Compose([transforms.Resize((28, 28)), transforms.ToTensor()])
    train = torchvision.datasets.FashionMNIST(
        root=args.data_dir, train=True, transform=trans, download=False
    )
    val = torchvision.datasets.FashionMNIST(
        root=args.data_dir, train=False, transform=trans, download=False
    )
    workers = 4 if args.workers is None else args.workers  # DataModule(num_workers=4)
    train_iter = data.DataLoader(train, args.batch_size, shuffle=True, num_workers=workers)
    val_iter = data.DataLoader(val, args.batch_size, shuffle=False, num_workers=workers)

    def fit(model):
        optim = torch.optim.SGD(model.parameters(), lr=model.lr)  # Module.configure_optimizers
        raw, board = {}, {}  # ProgressBoard.draw's raw_points and data
        train_batch_idx = 0

        def plot(key, value, x, every_n):
            """Module.plot and ProgressBoard.draw: a CPU copy per call, a point per every_n."""
            points = raw.setdefault(key, [])
            points.append((x, d2l.numpy(d2l.to(value, d2l.cpu()))))
            if len(points) == every_n:
                board.setdefault(key, []).append(
                    (sum(p[0] for p in points) / every_n, sum(p[1] for p in points) / every_n)
                )
                points.clear()

        seconds = []
        for epoch in range(args.epochs):
            start = time.perf_counter()
            model.train()
            for X, y in train_iter:
                X, y = X.to(device), y.to(device)  # Trainer.prepare_batch (§6.7)
                loss = model.loss(model(X), y)  # Module.training_step
                plot(
                    "train_loss", loss, train_batch_idx / len(train_iter), int(len(train_iter) / 2)
                )  # plot_train_per_epoch=2
                optim.zero_grad()
                with torch.no_grad():
                    loss.backward()
                    optim.step()
                train_batch_idx += 1
            model.eval()
            for X, y in val_iter:
                X, y = X.to(device), y.to(device)
                with torch.no_grad():  # Classifier.validation_step
                    Y_hat = model(X)
                    plot("val_loss", model.loss(Y_hat, y), epoch + 1, len(val_iter))
                    plot("val_acc", model.accuracy(Y_hat, y), epoch + 1, len(val_iter))
            seconds.append(time.perf_counter() - start)
        return seconds, float(board["val_acc"][-1][1])

    return fit


def ours_en(args, device):
    """(b-en) The package: ``d2l.FashionMNIST`` in memory and ``d2l.Trainer``."""
    import matplotlib.figure  # noqa: F401 -- the board's figure needs it: setup, once

    fashion_mnist = d2l.FashionMNIST(batch_size=args.batch_size, root=args.data_dir)

    class TimedTrainer(d2l.Trainer):
        """Times each epoch: training and validation batches, as in the other variants."""

        def fit_epoch(self):
            start = time.perf_counter()
            super().fit_epoch()
            _synchronize(device)
            self.seconds.append(time.perf_counter() - start)

    def fit(model):
        trainer = TimedTrainer(max_epochs=args.epochs, num_gpus=int(device.type != "cpu"))
        trainer.seconds = []
        trainer.fit(model, fashion_mnist)
        return trainer.seconds, model.board.data["val_acc"][-1].y

    return fit


def floor_en(args, device):
    """(c-en) The compute alone, with the English model, optimizer and accuracy."""
    X_train, y_train = _read_idx(args.data_dir, "train", device)
    X_val, y_val = _read_idx(args.data_dir, "t10k", device)
    bs = args.batch_size

    def fit(model):
        optim = torch.optim.SGD(model.parameters(), lr=model.lr)
        seconds = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            model.train()
            for X, y in _shuffled_batches(X_train, y_train, bs):
                loss = F.cross_entropy(model(X), y)
                optim.zero_grad()
                loss.backward()
                optim.step()
            model.eval()
            accs = []  # per validation batch, averaged as the book's board does
            with torch.no_grad():
                for i in range(0, len(X_val), bs):
                    correct = model(X_val[i : i + bs]).argmax(dim=1) == y_val[i : i + bs]
                    accs.append(correct.float().mean())
            val_acc = torch.stack(accs).mean().item()
            seconds.append(time.perf_counter() - start)
        return seconds, val_acc

    return fit


def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
