"""Training images per second on Fashion-MNIST in 1 and 2 processes under torchrun, side by side.

Each row trains the §4.6 dropout MLP (SGD, lr 0.5, global batch 256) with
``d2l.train_epoch_ch3`` for ``--epochs`` epochs and times each epoch of training (60,000
images; the first epoch is warm-up and not counted). Rows:

  plain        one process, no torchrun: the package as a notebook runs it
  gloo x1      torchrun, 1 process: what the launch costs (one process has nothing to
               average, so ``fit`` trains as in the plain row: no shares, no DDP)
  gloo x2      torchrun, 2 CPU processes, each with its half of every batch
  nccl x1      torchrun, 1 process on the GPU (only where CUDA is available)

Every process uses ``--threads`` torch threads (default 1, what torchrun sets), so on a
machine with C cores, P processes use P of them. Expect no speed-up beyond the cores:
two processes on two cores can at best double the rate, and pay for the gradient
all-reduce and the metric sums (a gloo all-reduce of the MLP's 1.08 MB of gradients took
1.9 ms on 2 shared cores, 0.45 s per epoch of 235 steps). On a machine that other jobs
keep busy the images per second swing with their load: the images per CPU-second of the
process (all its threads) move less, so the table shows both. Measured before the busy
period (load ~2): plain 53,122, gloo x1 51,469 (0.97x; DDP then ran even for one process),
gloo x2 29,071 images/s. With one process ``fit`` now skips DDP; at load 11-13 (six jobs on
2 cores): plain 2,657, gloo x1 2,394 (0.90x), gloo x2 3,610 images/s, and per CPU-second
10,028, 10,766 (1.07x), 13,178: at such a load only a quiet machine can resolve 3%. One
table at the end, min and median over epochs, and the median images per CPU-second:

    python benchmarks/distributed.py --data-dir ../shared/data                # 4 epochs
    python benchmarks/distributed.py --data-dir ../shared/data --epochs 2
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

import d2lcompute as d2l
from d2lcompute import distributed, dropout

# ---- configuration --------------------------------------------------------------------------
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--epochs", type=int, default=4, help="epochs per row, the first is warm-up")
parser.add_argument("--batch-size", type=int, default=256, help="the global mini-batch")
parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
parser.add_argument(
    "--data-dir",
    type=Path,
    default=None,
    help="folder with FashionMNIST/raw/ (default: d2l.hub.data_dir())",
)
parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # cpu or cuda: one run
# ---------------------------------------------------------------------------------------------


def worker(args):
    """Train in this process (a torchrun rank or the only process); rank 0 prints the times."""
    torch.set_num_threads(args.threads)
    device = distributed.local_device(args.worker)
    train_iter, _ = d2l.load_data_fashion_mnist(args.batch_size, data_dir=args.data_dir)
    d2l.set_seed(0)
    net = dropout.dropout_mlp_concise().to(device)
    trainer = torch.optim.SGD(net.parameters(), lr=0.5)
    loss = nn.CrossEntropyLoss(reduction="none")
    seconds, cpu_seconds = [], []
    for _ in range(args.epochs):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start, cpu_start = time.perf_counter(), time.process_time()
        train_loss, _ = d2l.train_epoch_ch3(net, train_iter, loss, trainer, device)
        seconds.append(time.perf_counter() - start)  # train_epoch_ch3 read the loss: synced
        cpu_seconds.append(time.process_time() - cpu_start)  # all of this process's threads
    if distributed.is_main_process():
        result = {
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "images": len(train_iter.dataset),
            "loss": train_loss,
        }
        print("RESULT " + json.dumps(result), flush=True)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_row(args, processes, device):
    """One row: this script as a worker, under torchrun unless ``processes`` is None."""
    script = [
        __file__,
        "--worker",
        device,
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--threads",
        str(args.threads),
        "--data-dir",
        str(args.data_dir),
    ]
    command = [sys.executable, *script]
    if processes is not None:
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            str(processes),
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            str(_free_port()),
            *script,
        ]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE")}
    run = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    if run.returncode != 0 or not lines:
        sys.exit(f"{' '.join(command)} failed:\n{run.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main(argv=None):
    args = parser.parse_args(argv)
    args.data_dir = d2l.hub.data_dir(args.data_dir)
    if args.worker:
        return worker(args)
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the first one is warm-up)")
    if not (args.data_dir / "FashionMNIST" / "raw").is_dir():
        parser.error(f"no FashionMNIST/raw/ in {args.data_dir}; pass --data-dir")

    rows = [("plain", None, "cpu"), ("gloo x1", 1, "cpu"), ("gloo x2", 2, "cpu")]
    if torch.cuda.is_available():
        rows.append(("nccl x1", 1, "cuda"))
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, {args.threads} thread(s) per "
        f"process, dropout MLP, global batch {args.batch_size}, {args.epochs} epochs per row "
        f"(first not counted)"
        + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""),
        flush=True,
    )
    results = {}
    for name, processes, device in rows:
        result = run_row(args, processes, device)
        rates = [result["images"] / s for s in result["seconds"][1:]]
        cpu_rate = statistics.median(result["images"] / s for s in result["cpu_seconds"][1:])
        results[name] = (min(rates), statistics.median(rates), cpu_rate, result["loss"])
        print(f"  {name}: {' '.join(f'{r:,.0f}' for r in rates)} images/s", flush=True)

    base, cpu_base = results["plain"][1], results["plain"][2]
    print(
        f"\n{'':10}{'min img/s':>11}{'median img/s':>14}{'vs plain':>10}"
        f"{'img/CPU-s':>11}{'vs plain':>10}{'last loss':>11}"
    )
    for name, (low, median, cpu_rate, last_loss) in results.items():
        print(
            f"{name:10}{low:>11,.0f}{median:>14,.0f}{median / base:>9.2f}x"
            f"{cpu_rate:>11,.0f}{cpu_rate / cpu_base:>9.2f}x{last_loss:>11.4f}"
        )


if __name__ == "__main__":
    main()
