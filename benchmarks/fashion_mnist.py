"""Seconds per epoch of the §4.6 dropout MLP on Fashion-MNIST, three ways, side by side.

(a) book:  torchvision ``FashionMNIST`` with ``transforms.ToTensor()`` through a ``DataLoader``
           with ``get_dataloader_workers()`` worker processes, and the book's ``train_ch3``
           loop (re-written below, minus the plot): a float per batch into an Accumulator.
(b) ours:  ``d2l.load_data_fashion_mnist`` (decoded once, kept in memory) + ``d2l.train_ch3``.
(c) floor: the same forward/backward/step over tensors loaded up front, shuffled by one
           gather per epoch and cut into views: no loader and no metrics, only the compute.

Every variant trains the same model (``regularization.dropout_mlp_concise``) from the same
seed with SGD, lr 0.5, batch 256; an epoch's time covers training plus the test accuracy.
Runs are interleaved (a, b, c, a, b, c, ...) so that a slower stretch of a shared machine
hits all three. s/epoch is per epoch (training + test accuracy), over all epochs of all
runs; "wall s/ep" is a whole run divided by its epochs, so it includes what happens
between epochs (the book's workers starting, our Animator drawing). One table at the end:

    python benchmarks/fashion_mnist.py --data-dir ../shared/data            # 10 epochs x 2
    python benchmarks/fashion_mnist.py --data-dir ../shared/data --epochs 1 --repeats 1

Targets on 2 CPU cores: (b) within 1.15x of (c), (b) at least 3.5x faster than (a), and a
test accuracy >= 0.85 after 10 epochs.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import d2lcompute as d2l
from d2lcompute import regularization

# ---- configuration (the book's §4.6 settings) -------------------------------------------------
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--repeats", type=int, default=2, help="runs of each variant (>= 1)")
parser.add_argument("--lr", type=float, default=0.5)
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--device", default="cpu", help="cpu (default), cuda, mps")
parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
parser.add_argument("--data-dir", type=Path, default=None,
                    help="folder with FashionMNIST/raw/ (default: d2l.hub.data_dir())")
parser.add_argument("--workers", type=int, default=None,
                    help="(a)'s loader workers (default: d2l.get_dataloader_workers(); the book: 4)")
parser.add_argument("--variants", default="abc", help="which of a, b, c to run (default: abc)")
# -------------------------------------------------------------------------------------------------


def book(args, device):
    """(a) The book's data path and loop, as §3.5/§3.6 write them."""
    import torchvision
    from torch.utils import data
    from torchvision import transforms

    trans = transforms.ToTensor()
    mnist_train = torchvision.datasets.FashionMNIST(root=args.data_dir, train=True,
                                                    transform=trans, download=False)
    mnist_test = torchvision.datasets.FashionMNIST(root=args.data_dir, train=False,
                                                   transform=trans, download=False)
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
        history = d2l.train_ch3(net, train_iter, test_iter, loss, args.epochs, trainer,
                                device=device)
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
            # One gather per epoch, then views: cheaper than any per-batch loader can be.
            perm = torch.randperm(len(X_train), device=device)
            X_epoch, y_epoch = X_train.index_select(0, perm), y_train.index_select(0, perm)
            for i in range(0, len(perm), bs):
                l = loss(net(X_epoch[i:i + bs]), y_epoch[i:i + bs])
                trainer.zero_grad()
                l.mean().backward()
                trainer.step()
            net.eval()
            correct = torch.zeros((), dtype=torch.long, device=device)
            with torch.no_grad():
                for i in range(0, len(X_test), bs):
                    correct += (net(X_test[i:i + bs]).argmax(dim=1) == y_test[i:i + bs]).sum()
            test_acc = correct.item() / len(X_test)
            seconds.append(time.perf_counter() - start)
        return seconds, test_acc

    return fit


def _read_idx(data_dir, split, device):
    """Images as (N, 1, 28, 28) floats in [0, 1] and labels as int64, from the raw IDX files."""
    raw = Path(data_dir) / "FashionMNIST" / "raw"
    images = np.fromfile(raw / f"{split}-images-idx3-ubyte", dtype=np.uint8, offset=16)
    labels = np.fromfile(raw / f"{split}-labels-idx1-ubyte", dtype=np.uint8, offset=8)
    X = torch.from_numpy(images).reshape(-1, 1, 28, 28).float().div_(255)
    return X.to(device), torch.from_numpy(labels).long().to(device)


VARIANTS = {"a": ("(a) book", book), "b": ("(b) ours", ours), "c": ("(c) floor", floor)}


def main(argv=None):
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be >= 1")
    if not set(args.variants) <= set(VARIANTS) or not args.variants:
        parser.error(f"--variants takes letters from 'abc', got {args.variants!r}")
    if args.threads:
        torch.set_num_threads(args.threads)
    args.data_dir = d2l.hub.data_dir(args.data_dir)
    if not (args.data_dir / "FashionMNIST" / "raw").is_dir():
        parser.error(f"no FashionMNIST/raw/ in {args.data_dir}; pass --data-dir")
    device = torch.device(args.device)

    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs, book loader workers "
          f"{d2l.get_dataloader_workers() if args.workers is None else args.workers}; "
          f"dropout MLP, lr {args.lr}, batch {args.batch_size}, {args.epochs} epoch(s), "
          f"{args.repeats} run(s) each, seed {args.seed}", flush=True)
    fits, setup = {}, {}
    for key in args.variants:  # loading the data is setup, not part of an epoch
        start = time.perf_counter()
        fits[key] = VARIANTS[key][1](args, device)
        setup[key] = time.perf_counter() - start

    seconds = {key: [] for key in fits}
    wall = {key: [] for key in fits}  # whole run / epochs: (b) also pays its per-epoch plot
    accs = {key: [] for key in fits}
    loss = nn.CrossEntropyLoss(reduction="none")
    for run in range(args.repeats):
        for key, fit in fits.items():
            d2l.set_seed(args.seed)
            net = regularization.dropout_mlp_concise().to(device)
            trainer = torch.optim.SGD(net.parameters(), lr=args.lr)
            start = time.perf_counter()
            epoch_seconds, test_acc = fit(net, loss, trainer)
            wall[key].append((time.perf_counter() - start) / args.epochs)
            seconds[key] += epoch_seconds
            accs[key].append(test_acc)
            print(f"  run {run + 1} {VARIANTS[key][0]:9}  "
                  f"{statistics.median(epoch_seconds):6.3f} s/epoch  test acc {test_acc:.4f}",
                  file=sys.stderr, flush=True)

    print(f"\n{'variant':10} {'setup s':>8} {'min s/ep':>9} {'median s/ep':>12} "
          f"{'wall s/ep':>10}  final test acc (per run)")
    for key in fits:
        acc = " ".join(f"{a:.4f}" for a in accs[key])
        print(f"{VARIANTS[key][0]:10} {setup[key]:8.2f} {min(seconds[key]):9.3f} "
              f"{statistics.median(seconds[key]):12.3f} {statistics.median(wall[key]):10.3f}  {acc}")
    median = {key: statistics.median(s) for key, s in seconds.items()}
    if "b" in median and "c" in median:
        ratio = median["b"] / median["c"]
        print(f"ours / floor  (b/c) {ratio:5.2f}x  (target <= 1.15x: "
              f"{'met' if ratio <= 1.15 else 'missed'})")
    if "a" in median and "b" in median:
        ratio = median["a"] / median["b"]
        print(f"book / ours   (a/b) {ratio:5.2f}x  (target >= 3.5x: "
              f"{'met' if ratio >= 3.5 else 'missed'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
