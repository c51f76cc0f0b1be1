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
The variants are in ``fashion_mnist_variants.py``. One table at the end:

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

import fashion_mnist_variants as variants  # the file next to this one
import torch
from torch import nn

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
    return (variants.DropoutMLP(**hparams).to(device),)


# edition -> (model maker, {letter: (label, variant)})
EDITIONS = {
    "zh": (
        zh_model,
        {
            "a": ("(a) book", variants.book),
            "b": ("(b) ours", variants.ours),
            "c": ("(c) floor", variants.floor),
            "i": ("(i) improved", variants.ours),
        },
    ),
    "en": (
        en_model,
        {
            "a": ("(a-en) book", variants.book_en),
            "b": ("(b-en) ours", variants.ours_en),
            "c": ("(c-en) floor", variants.floor_en),
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
