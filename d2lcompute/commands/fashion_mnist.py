"""Train a chapter-4 MLP on Fashion-MNIST (Book: §4.2, §4.3, §4.6).

Kept whole (~380 lines): one command's options, run, resume check and outputs, in order.

Models (--model) and the book's settings, which are the defaults:
  mlp-scratch      §4.2  one hidden layer of 256 from bare parameters      lr 0.1
  mlp              §4.3  the same with nn.Sequential                       lr 0.1
  dropout-scratch  §4.6  two hidden layers, the book's dropout_layer       lr 0.5
  dropout          §4.6  the same with nn.Dropout (the default model)      lr 0.5
  improved               ours: an MLP trained better, about 0.90           lr 0.003 (peak)
The book's models train with SGD and cross-entropy for 10 epochs on batches of 256. The
dropout models drop 0.2 after the first hidden layer and 0.5 after the second; --dropout P
sets both to P. The improved recipe (d2lcompute.fashion_mnist_improved) is a 512-256 MLP
with batch normalisation, dropout 0.2 after each hidden layer (--dropout P sets both),
label smoothing, and AdamW whose learning rate follows a one-cycle schedule over the run:
--lr sets its peak, --epochs its length.

The run is one ``Trainer.fit`` (the package's one loop; in a terminal a progress bar moves
within each epoch). Each epoch prints one row of the table (epoch, train loss, train acc,
test acc, seconds) and saves, in --output-dir, the table so far as metrics.csv, the plot
fashion_mnist.png and checkpoint.pt (each written atomically; the trainer's
``checkpoint=``). A run that stopped (Ctrl-C, a closed laptop) continues with --resume to
the same result as an uninterrupted run; --epochs then gives the total. --resume refuses a
checkpoint made with another --model, --lr, --batch-size, --dropout or --seed (for the
improved model, also another --epochs: its schedule spans the run), and refuses to start
without one. --resume-if-present continues the run when --output-dir holds its checkpoint
and starts one otherwise: the mode for a job that is restarted with the same command line,
such as torchrun --max-restarts. Without either a new run starts and replaces the
checkpoint. A run whose loss becomes NaN or infinite (too large an --lr) stops with exit
status 2 and never saves: the checkpoint keeps the last good epoch.

Under torchrun the same command trains data-parallel: each process takes its share of every
batch of 256, and only rank 0 prints and writes files.

Example:
  python -m d2lcompute fashion-mnist --model mlp --epochs 2 --data-dir ../shared/data
  torchrun --nproc-per-node 2 --max-restarts 3 -m d2lcompute fashion-mnist --epochs 10 \\
      --resume-if-present
"""

import sys
from pathlib import Path

from d2lcompute.commands import (
    CommandError,
    add_options,
    check_output,
    out_of_memory,
    resolve_device,
)
from d2lcompute.errors import DivergenceError, UserError

HELP = "train a chapter-4 MLP (scratch, concise, dropout) or our improved one on Fashion-MNIST"

# name -> (book section, learning rate, has dropout); None: the improved recipe's own
MODELS = {
    "mlp-scratch": ("4.2", 0.1, False),
    "mlp": ("4.3", 0.1, False),
    "dropout-scratch": ("4.6", 0.5, True),
    "dropout": ("4.6", 0.5, True),
    "improved": (None, None, True),
}
BOOK_DROPOUT = (0.2, 0.5)
CHECKPOINT = "checkpoint.pt"
FIGURE = "fashion_mnist.png"
METRICS = "metrics.csv"
# what --resume must match; "epochs" only where options has it (the improved schedule's length)
_COMPARED = ("model", "lr", "batch_size", "dropout", "seed", "epochs")


def add_arguments(parser):
    parser.add_argument(
        "--model",
        choices=list(MODELS),
        default="dropout",
        help="which model to train (default: dropout); its learning rate is the "
        "default --lr: 0.1 for mlp-scratch and mlp, 0.5 for the dropout ones, "
        "a peak of 0.003 for improved",
    )
    add_options(
        parser,
        "--epochs",
        "--lr",
        "--batch-size",
        "--dropout",
        "--seed",
        "--device",
        "--data-dir",
        "--output-dir",
        "--threads",
        epochs=10,
        batch_size=256,
        output_dir=Path("runs/fashion-mnist"),
    )
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument(
        "--resume", action="store_true", help=f"continue the run saved in --output-dir/{CHECKPOINT}"
    )
    resume.add_argument(
        "--resume-if-present",
        action="store_true",
        help=f"continue the run in --output-dir/{CHECKPOINT} if there is one, else start "
        f"it (for restarts with the same command line: torchrun --max-restarts)",
    )


def run(args):
    import torch
    from torch import nn

    from d2lcompute import (
        _seeding,
        classic_loop,
        distributed,
        fashion_mnist_improved,
        hub,
        image_dataset,
    )
    from d2lcompute.trainer import Trainer

    options = _options(args)
    device = distributed.local_device(resolve_device(args.device))  # torchrun: the rank's GPU
    main = distributed.is_main_process()  # only it prints and writes files under torchrun
    data_dir = hub.data_dir(args.data_dir)
    if not data_dir.is_dir():
        raise CommandError(
            f"--data-dir {data_dir}: no such folder (it should hold "
            f"FashionMNIST/raw/; see `python -m d2lcompute info`)"
        )
    checkpoint = args.output_dir / CHECKPOINT
    check_output("--output-dir", args.output_dir, folder=True)
    if checkpoint.is_dir():
        raise CommandError(
            f"--output-dir {args.output_dir}: {checkpoint} is a folder; "
            f"remove it or choose another --output-dir"
        )
    resume = args.resume or (args.resume_if_present and checkpoint.is_file())
    if resume:
        _check_resumable(checkpoint, options)

    _seeding.set_seed(options["seed"])
    net = _build(options).to(device)
    train_iter, test_iter = image_dataset.load_data_fashion_mnist(
        options["batch_size"], data_dir=data_dir
    )
    if options["model"] == "improved":
        optimizer, scheduler = fashion_mnist_improved.make_optimizer(
            net, options["lr"], num_epochs=options["epochs"], steps_per_epoch=len(train_iter)
        )
        loss = fashion_mnist_improved.make_loss()
    else:
        optimizer, scheduler = torch.optim.SGD(net.parameters(), lr=options["lr"]), None
        loss = nn.CrossEntropyLoss(reduction="none")
    model = _run_model(net, loss, optimizer, device, options, args.output_dir, scheduler)
    # a resumed run restores parameters, optimizer, schedule and every RNG, so the next
    # epoch draws the same shuffle and dropout masks, at the same learning rate, as the
    # uninterrupted run would have
    trainer = Trainer(max_epochs=args.epochs, checkpoint=checkpoint, resume=resume)

    if main:
        _print_header(options, device)
    try:
        trainer.fit(model, classic_loop._Loaders(train_iter, test_iter))
    except KeyboardInterrupt:
        if main and checkpoint.is_file():
            print(
                f"the last finished epoch is in {checkpoint}: run the same command with "
                f"--resume to continue",
                file=sys.stderr,
            )
        raise
    except DivergenceError as e:
        history = model.history
        kept = (
            f"{checkpoint} still holds epoch {history['epoch'][-1]}"
            if history["epoch"]
            else "no checkpoint was saved"
        )
        raise e.retold(
            "fashion-mnist training", hint=f"Try a smaller --lr (it was {options['lr']}); {kept}."
        ) from None
    except UserError as e:
        if resume and not hasattr(trainer, "start_epoch"):  # the checkpoint was refused
            raise CommandError(f"--resume: {e}") from e
        raise
    except RuntimeError as e:
        if not out_of_memory(e):
            raise
        raise CommandError(
            f"--batch-size {options['batch_size']}: out of memory on {device} "
            f"({str(e).strip().splitlines()[0]}); try a smaller --batch-size"
        ) from e
    if main:
        history = model.history
        print(
            f"test accuracy {history['test_acc'][-1]:.4f} after {len(history['epoch'])} "
            f"epoch(s); saved {checkpoint}, {args.output_dir / FIGURE} and "
            f"{args.output_dir / METRICS}"
        )
    return 0


def _run_model(net, loss, optimizer, device, options, output_dir, scheduler):
    """The run as the classic loop's model, whose epoch end writes the table row and files.

    Its classes are made here, where torch is imported: the command line imports this
    module to list its options, which must stay fast.
    """
    from d2lcompute import classic_loop, distributed
    from d2lcompute.live.progress_board import ProgressBoard

    class TableBoard(ProgressBoard):
        """The train_ch3 figure whose per-epoch line is the table's row (on stdout)."""

        def log(self, text):
            _write(_row(self.history, -1))

    class Run(classic_loop._Ch3Model):
        def on_train_epoch_end(self, metrics):
            super().on_train_epoch_end(metrics)
            if distributed.is_main_process():
                _write_metrics(output_dir / METRICS, self.history)
                self.board.save()

        def on_save_checkpoint(self, extra):
            extra["options"] = options
            if scheduler is not None:  # stepped by the optimizer; saved next to its state
                extra["scheduler"] = scheduler.state_dict()

        def on_load_checkpoint(self, state):
            if scheduler is not None:
                scheduler.load_state_dict(state["scheduler"])
            history = self.history
            for i in range(len(history["epoch"])):  # a resumed run shows what it continues
                _write(_row(history, i) + "  (from the checkpoint)")
            if len(history["epoch"]) >= self.trainer.max_epochs:
                _write(
                    f"nothing to train: the checkpoint already holds {len(history['epoch'])} "
                    f"epoch(s); raise --epochs to train more"
                )

    model = Run(net, loss, optimizer, device, classic_loop.ch3_board(TableBoard))
    model.board.history = model.history
    model.board.save_path = output_dir / FIGURE
    return model


def _options(args):
    from d2lcompute import fashion_mnist_improved

    _, default_lr, has_dropout = MODELS[args.model]
    if args.dropout is not None and not has_dropout:
        raise CommandError(
            f"--dropout applies to the dropout and improved models only, not --model {args.model}"
        )
    improved = args.model == "improved"
    dropout = None
    if has_dropout:
        default = [fashion_mnist_improved.DROPOUT] * 2 if improved else list(BOOK_DROPOUT)
        dropout = default if args.dropout is None else [args.dropout, args.dropout]
    if improved:
        default_lr = fashion_mnist_improved.LR
    options = {
        "model": args.model,
        "lr": default_lr if args.lr is None else args.lr,
        "batch_size": args.batch_size,
        "dropout": dropout,
        "seed": args.seed,
    }
    if improved:
        options["epochs"] = args.epochs  # the length of its learning-rate schedule
    return options


def _build(options):
    from d2lcompute import dropout as dropout_nets
    from d2lcompute import fashion_mnist_improved, multilayer_perceptrons

    name, dropout = options["model"], options["dropout"]
    if name == "improved":
        return fashion_mnist_improved.ImprovedMLP(dropout=dropout[0])
    if name == "mlp-scratch":
        return multilayer_perceptrons.MLPScratch()
    if name == "mlp":
        return multilayer_perceptrons.mlp_concise()
    if name == "dropout-scratch":
        return dropout_nets.DropoutMLPScratch(dropout1=dropout[0], dropout2=dropout[1])
    return dropout_nets.dropout_mlp_concise(dropout1=dropout[0], dropout2=dropout[1])


def _check_resumable(checkpoint, options):
    """Refuse, before any work, to resume a run that used other settings."""
    from d2lcompute import io

    if not checkpoint.is_file():
        raise CommandError(
            f"--resume: no checkpoint at {checkpoint}; start a run without "
            f"--resume (or point --output-dir at the run's folder)"
        )
    try:
        state = io.load(checkpoint, map_location="cpu")
    except UserError as e:  # truncated, damaged, unsafe, not a file
        raise CommandError(f"--resume: {e}") from e
    extra = state.get("extra") if isinstance(state, dict) else None
    saved = extra.get("options") if isinstance(extra, dict) else None
    if not isinstance(saved, dict):
        raise CommandError(f"--resume: {checkpoint} was not written by fashion-mnist")
    history = extra.get("history")
    keys = ("epoch", "train_loss", "train_acc", "test_acc", "seconds")
    if not (
        isinstance(history, dict)
        and all(isinstance(history.get(k), list) for k in keys)
        and len({len(history[k]) for k in keys}) == 1
        and len(history["epoch"]) == state.get("epoch")
    ):
        raise CommandError(
            f"--resume: {checkpoint} is damaged: its training history does not "
            f"match its epoch count; start a new run without --resume"
        )
    changed = [
        f"--{key.replace('_', '-')} {saved.get(key)} (now {options[key]})"
        for key in _COMPARED
        if key in options and saved.get(key) != options[key]
    ]
    if changed:
        why = (
            " (the improved recipe's learning-rate schedule spans --epochs)"
            if "epochs" in options and saved.get("epochs") != options["epochs"]
            else ""
        )
        raise CommandError(
            f"--resume: {checkpoint} was made with other options: "
            f"{', '.join(changed)}{why}; rerun with those, or start a new run "
            f"without --resume"
        )
    if "epochs" in options and not isinstance(extra.get("scheduler"), dict):
        raise CommandError(
            f"--resume: {checkpoint} is damaged: it holds no learning-rate "
            f"schedule; start a new run without --resume"
        )


def _print_header(options, device):
    dropout, section = options["dropout"], MODELS[options["model"]][0]
    source = (
        f"book §{section}), lr"
        if section
        else f"AdamW, one-cycle schedule over {options.get('epochs')} epochs), peak lr"
    )
    print(
        f"fashion-mnist: model {options['model']} ({source} {options['lr']}, "
        f"batch size {options['batch_size']}, "
        + (f"dropout {dropout[0]}/{dropout[1]}, " if dropout else "")
        + f"seed {options['seed']}, device {device}"
    )
    print(f"{'epoch':>5}  {'train loss':>10}  {'train acc':>9}  {'test acc':>8}  {'seconds':>7}")


def _write(line):
    from tqdm import tqdm

    from d2lcompute.distributed import is_main_process

    if is_main_process():
        tqdm.write(line)  # above a terminal's progress bar, not through it


def _write_metrics(path, history):
    """The per-epoch table as CSV (epoch, train_loss, train_acc, test_acc, seconds)."""
    import csv

    from d2lcompute._files import atomic_write

    with atomic_write(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(list(history))
        writer.writerows(zip(*history.values()))


def _row(history, i):
    return (
        f"{history['epoch'][i]:>5}  {history['train_loss'][i]:>10.4f}  "
        f"{history['train_acc'][i]:>9.4f}  {history['test_acc'][i]:>8.4f}  "
        f"{history['seconds'][i]:>7.2f}"
    )
