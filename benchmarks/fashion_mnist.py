"""Seconds per epoch of a dropout MLP on Fashion-MNIST, the book's way and ours, side by side.

Chinese edition (``--edition zh``, §4.6: dropouts 0.2/0.5, N(0, 0.01²) weights, lr 0.5):

(a) book:  torchvision ``FashionMNIST`` with ``transforms.ToTensor()`` through a ``DataLoader``
           with ``get_dataloader_workers()`` worker processes, and the book's ``train_ch3``
           loop (re-written below, minus the plot): a float per batch into an Accumulator.
(b) ours:  ``d2l.load_data_fashion_mnist`` (decoded once, kept in memory) + ``d2l.train_ch3``.
(c) floor: the same forward/backward/step over tensors loaded up front, shuffled by one
           gather per epoch and cut into views: no loader and no metrics, only the compute.
(i) improved: our improved recipe (``d2l.fashion_mnist_improved``: a 512-256 MLP with batch
           normalisation and dropout 0.2, label smoothing, AdamW on a one-cycle schedule with
           its own peak lr, 0.003; --lr does not apply) through (b)'s loader and loop.

English edition (``--edition en``, d2l.ai 1.0 §5.6: the section's ``DropoutMLP``, 784-256-256-10,
dropouts 0.5/0.5, lr 0.1):

(a-en) book:  torchvision ``FashionMNIST`` with ``Resize((28, 28))`` + ``ToTensor()`` through a
              ``DataLoader`` with the book's ``num_workers=4``, and the book's ``Trainer.fit`` /
              ``fit_epoch`` / ``Module.plot`` loop (re-written below, minus the figure): every
              training loss and every validation loss and accuracy is copied to the CPU
              (``d2l.numpy(d2l.to(value, d2l.cpu()))``) and averaged into the board's points.
(b-en) ours:  ``d2l.FashionMNIST(batch_size=256)`` (in memory) + ``d2l.Trainer``.
(c-en) floor: as (c), with the English model and optimizer.

Every variant of an edition trains the same model from the same seed with SGD, batch 256; an
epoch's time covers training plus validation. Runs are interleaved (a, b, c, a-en, b-en, c-en,
a, ...) so that a slower stretch of a shared machine hits all of them. s/epoch is per epoch
(training + validation), over all epochs of all runs; "wall s/ep" is a whole run divided by its
epochs, so it includes what happens between epochs (the book's workers starting, our figure).
The English edition's accuracy is the book's: the mean of the validation batches' accuracies.
One table at the end:

    python benchmarks/fashion_mnist.py --data-dir ../shared/data                 # both, 10 x 2
    python benchmarks/fashion_mnist.py --data-dir ../shared/data --edition en --epochs 2 --repeats 1
    python benchmarks/fashion_mnist.py --data-dir ../shared/data --edition en --device cuda
    python benchmarks/fashion_mnist.py --data-dir ../shared/data --edition zh --variants bi \
        --repeats 1

Targets on 2 CPU cores, for each edition: (b) within 1.15x of (c), (b) at least 3.5x faster
than (a), the same accuracy as (a) within noise (>= 0.85 after 10 epochs for zh); (i) >= 0.89
after 10 epochs (aim 0.90).
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
from torch.nn import functional as F

import d2lcompute as d2l
from d2lcompute import dropout, fashion_mnist_improved

# ---- configuration (the book's §4.6 settings) -------------------------------------------------
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--repeats", type=int, default=2, help="runs of each variant (>= 1)")
parser.add_argument(
    "--edition",
    choices=("zh", "en", "both"),
    default="both",
    help="the Chinese edition's path (a, b, c), the English one's, or both",
)
parser.add_argument(
    "--lr",
    type=float,
    default=None,
    help="learning rate (default: the book's, 0.5 for zh and 0.1 for en)",
)
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--device", default="cpu", help="cpu (default), cuda, mps")
parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
parser.add_argument(
    "--data-dir",
    type=Path,
    default=None,
    help="folder with FashionMNIST/raw/ (default: d2l.hub.data_dir())",
)
parser.add_argument(
    "--workers",
    type=int,
    default=None,
    help="the book's loader workers (default: d2l.get_dataloader_workers() for "
    "zh, 4 for en, as the books)",
)
parser.add_argument(
    "--variants",
    default="abci",
    help="which of a, b, c to run in each edition, and i, the improved recipe (zh only; "
    "default: abci)",
)
# -------------------------------------------------------------------------------------------------
LR = {"zh": 0.5, "en": 0.1}  # the books' learning rates


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
            # One gather per epoch, then views: cheaper than any per-batch loader can be.
            perm = torch.randperm(len(X_train), device=device)
            X_epoch, y_epoch = X_train.index_select(0, perm), y_train.index_select(0, perm)
            for i in range(0, len(perm), bs):
                l = loss(net(X_epoch[i : i + bs]), y_epoch[i : i + bs])
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


def _read_idx(data_dir, split, device):
    """Images as (N, 1, 28, 28) floats in [0, 1] and labels as int64, from the raw IDX files."""
    raw = Path(data_dir) / "FashionMNIST" / "raw"
    images = np.fromfile(raw / f"{split}-images-idx3-ubyte", dtype=np.uint8, offset=16)
    labels = np.fromfile(raw / f"{split}-labels-idx1-ubyte", dtype=np.uint8, offset=8)
    X = torch.from_numpy(images).reshape(-1, 1, 28, 28).float().div_(255)
    return X.to(device), torch.from_numpy(labels).long().to(device)


# ---- the English edition (d2l.ai 1.0) ----------------------------------------------------------


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
            perm = torch.randperm(len(X_train), device=device)
            X_epoch, y_epoch = X_train.index_select(0, perm), y_train.index_select(0, perm)
            for i in range(0, len(perm), bs):
                loss = F.cross_entropy(model(X_epoch[i : i + bs]), y_epoch[i : i + bs])
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


def zh_model(args, device, lr):
    """The arguments of a zh variant's fit: net, loss, optimizer."""
    net = dropout.dropout_mlp_concise().to(device)
    return net, nn.CrossEntropyLoss(reduction="none"), torch.optim.SGD(net.parameters(), lr=lr)


def improved_model(args, device, lr):
    """(i)'s net, loss and optimizer: the improved recipe with its own defaults (not ``lr``)."""
    net = fashion_mnist_improved.ImprovedMLP().to(device)
    steps = -(-60_000 // args.batch_size)  # batches per epoch
    optimizer, _ = fashion_mnist_improved.make_optimizer(
        net, num_epochs=args.epochs, steps_per_epoch=steps
    )
    return net, fashion_mnist_improved.make_loss(), optimizer


def en_model(args, device, lr):
    """The argument of an en variant's fit: the model, which knows its lr."""
    hparams = {
        "num_outputs": 10,
        "num_hiddens_1": 256,
        "num_hiddens_2": 256,
        "dropout_1": 0.5,
        "dropout_2": 0.5,
        "lr": lr,
    }
    return (DropoutMLP(**hparams).to(device),)


# edition -> (model maker, {letter: (label, variant)})
EDITIONS = {
    "zh": (
        zh_model,
        {
            "a": ("(a) book", book),
            "b": ("(b) ours", ours),
            "c": ("(c) floor", floor),
            "i": ("(i) improved", ours),
        },
    ),
    "en": (
        en_model,
        {
            "a": ("(a-en) book", book_en),
            "b": ("(b-en) ours", ours_en),
            "c": ("(c-en) floor", floor_en),
        },
    ),
}
VARIANT_MODELS = {("zh", "i"): improved_model}  # variants whose model is not their edition's


def main(argv=None):
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be >= 1")
    if not set(args.variants) <= set("abci") or not args.variants:
        parser.error(f"--variants takes letters from 'abci', got {args.variants!r}")
    if args.threads:
        torch.set_num_threads(args.threads)
    args.data_dir = d2l.hub.data_dir(args.data_dir)
    if not (args.data_dir / "FashionMNIST" / "raw").is_dir():
        parser.error(f"no FashionMNIST/raw/ in {args.data_dir}; pass --data-dir")
    device = torch.device(args.device)
    editions = ["zh", "en"] if args.edition == "both" else [args.edition]
    lrs = {edition: LR[edition] if args.lr is None else args.lr for edition in editions}

    print(
        f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs, batch {args.batch_size}, {args.epochs} epoch(s), "
        f"{args.repeats} run(s) each, seed {args.seed}",
        flush=True,
    )
    for edition in editions:
        workers = (
            (d2l.get_dataloader_workers() if edition == "zh" else 4)
            if args.workers is None
            else args.workers
        )
        model = (
            "§4.6 dropout MLP (dropouts 0.2/0.5)"
            if edition == "zh"
            else "§5.6 DropoutMLP (dropouts 0.5/0.5)"
        )
        print(f"  {edition}: {model}, lr {lrs[edition]}, book loader workers {workers}", flush=True)
    if "zh" in editions and "i" in args.variants:
        print(
            f"  (i): improved MLP {fashion_mnist_improved.NUM_HIDDENS}, AdamW, one-cycle peak lr "
            f"{fashion_mnist_improved.LR}",
            flush=True,
        )

    fits, setup, labels = {}, {}, {}
    for edition in editions:  # loading the data is setup, not part of an epoch
        for letter in args.variants:
            if letter not in EDITIONS[edition][1]:
                continue
            key = (edition, letter)
            labels[key], variant = EDITIONS[edition][1][letter]
            start = time.perf_counter()
            fits[key] = variant(args, device)
            setup[key] = time.perf_counter() - start

    seconds = {key: [] for key in fits}
    wall = {key: [] for key in fits}  # whole run / epochs: (b) also pays its per-epoch figure
    accs = {key: [] for key in fits}
    for run in range(args.repeats):
        for key, fit in fits.items():
            edition = key[0]
            d2l.set_seed(args.seed)
            make_model = VARIANT_MODELS.get(key, EDITIONS[edition][0])
            model_args = make_model(args, device, lrs[edition])
            start = time.perf_counter()
            epoch_seconds, acc = fit(*model_args)
            wall[key].append((time.perf_counter() - start) / args.epochs)
            seconds[key] += epoch_seconds
            accs[key].append(acc)
            print(
                f"  run {run + 1} {labels[key]:12}  "
                f"{statistics.median(epoch_seconds):6.3f} s/epoch  acc {acc:.4f}",
                file=sys.stderr,
                flush=True,
            )

    print(
        f"\n{'variant':12} {'setup s':>8} {'min s/ep':>9} {'median s/ep':>12} "
        f"{'wall s/ep':>10}  final test acc (per run)"
    )
    for key in fits:
        acc = " ".join(f"{a:.4f}" for a in accs[key])
        print(
            f"{labels[key]:12} {setup[key]:8.2f} {min(seconds[key]):9.3f} "
            f"{statistics.median(seconds[key]):12.3f} {statistics.median(wall[key]):10.3f}  {acc}"
        )
    median = {key: statistics.median(s) for key, s in seconds.items()}
    for edition in editions:
        suffix = "" if edition == "zh" else "-en"
        a, b, c = ((edition, letter) for letter in "abc")
        if b in median and c in median:
            ratio = median[b] / median[c]
            print(
                f"{edition}: ours / floor  (b{suffix}/c{suffix}) {ratio:5.2f}x  (target <= 1.15x: "
                f"{'met' if ratio <= 1.15 else 'missed'})"
            )
        if a in median and b in median:
            ratio = median[a] / median[b]
            print(
                f"{edition}: book / ours   (a{suffix}/b{suffix}) {ratio:5.2f}x  (target >= 3.5x: "
                f"{'met' if ratio >= 3.5 else 'missed'})"
            )
    b, i = ("zh", "b"), ("zh", "i")
    if i in median:
        acc = statistics.median(accs[i])
        line = (
            f"zh: improved (i) acc {acc:.4f} (target >= 0.89: {'met' if acc >= 0.89 else 'missed'})"
        )
        if b in median:
            line += (
                f", book recipe (b) {statistics.median(accs[b]):.4f}; "
                f"time (i/b) {median[i] / median[b]:5.2f}x"
            )
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
