"""Benchmark: training on a busy machine, torch's default threads against the thread policy.

Two workloads, each timed idle and with 1 and 2 competing CPU-bound processes (each a torch
process multiplying 512x512 matrices in a loop with torch's default threads, started and
stopped here by process id, always killed at the end):

  fashion-mnist  one epoch of the §4.6 dropout MLP (``d2l.train_ch3``: training and test
                 accuracy; SGD, lr 0.5, batch 256) on the in-memory Fashion-MNIST
  house-prices   5-fold cross-validation of the book's house-price recipe
                 (``RECIPES["book"].k_fold``: 100 epochs, lr 5, batch 64)

and two variants, interleaved in every condition so that a slower stretch hits both:

  default  torch's default threads (one per core): ``D2LCOMPUTE_THREADS`` set to that count,
           which is what the package did before the policy
  policy   the package's policy (:mod:`d2lcompute.threads`): no more threads than the CPUs
           free when the run starts (its 0.05 s sample is timed too)

Before each condition it also prints what the policy sees: the busy CPUs from a 0.05 s sample
of /proc/stat, the 1-minute load average (which lags: a competitor started seconds ago is not
in it yet), and the threads it picks. The table gives min and median seconds, and the two
ratios issue 20 judges: under the policy, (1 competitor) / (idle) <= 2.5x for each workload,
and policy-idle speed / default-idle speed >= 0.95x.

Usage:
  python benchmarks/contention.py --data-dir ../shared/data [--repeats 3]
  python benchmarks/contention.py --data-dir ../shared/data --quick     # a smoke run
"""

import argparse
import contextlib
import dataclasses
import io
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from torch import nn

import d2lcompute as d2l
from d2lcompute import dropout, threads
from d2lcompute import house_prices as hp

# ---- configuration (the book's §4.6 and §4.10 settings) ---------------------------------------
BATCH_SIZE, LR, SEED = 256, 0.5, 0  # §4.6
K = 5  # §4.10: the book's recipe with its defaults
COMPETITOR = "import torch\na = torch.randn(512, 512)\na @ a\nprint('ready', flush=True)\n" + (
    "while True:\n    a @ a\n"
)
VARIANTS = ("default", "policy")
# -------------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="folder with the data sets (default: hub.data_dir())")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell (default: 3)")
    parser.add_argument(
        "--competitors",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="numbers of competing processes, one condition each (default: 0 1 2)",
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        choices=("fashion-mnist", "house-prices"),
        default=["fashion-mnist", "house-prices"],
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 1 repeat, idle and 1 competitor, 20 Fashion-MNIST batches, 10 "
        "house-price epochs",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or min(args.competitors) < 0:
        parser.error("--repeats must be >= 1 and --competitors >= 0")
    if args.quick:
        args.repeats, args.competitors = 1, [0, 1]
    args.house_epochs = 10 if args.quick else hp.RECIPES["book"].num_epochs
    return args


@contextlib.contextmanager
def competitors(n):
    """``n`` CPU-bound torch processes, busy once the block starts; killed by pid after it."""
    procs = []
    try:
        for _ in range(n):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", COMPETITOR], stdout=subprocess.PIPE, text=True
                )
            )
        for proc in procs:
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError(f"competitor {proc.pid} did not start")
        yield [proc.pid for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()
            proc.stdout.close()


def fashion_mnist(args):
    """One epoch of the §4.6 dropout MLP through ``train_ch3``; returns a run's ``threads``."""
    train_iter, test_iter = d2l.load_data_fashion_mnist(BATCH_SIZE, data_dir=args.data_dir)
    if args.quick:  # a list of batches is a loader too
        train_iter, test_iter = list(itertools.islice(train_iter, 20)), list(test_iter)[:4]

    def run():
        d2l.set_seed(SEED)
        net = dropout.dropout_mlp_concise()
        seen = []
        net.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
        trainer = torch.optim.SGD(net.parameters(), lr=LR)
        loss = nn.CrossEntropyLoss(reduction="none")
        d2l.train_ch3(net, train_iter, test_iter, loss, 1, trainer, device="cpu")
        return seen[0]

    return run


def house_prices(args):
    """The book's recipe, ``K``-fold; returns a run's ``threads``."""
    recipe = dataclasses.replace(hp.RECIPES["book"], num_epochs=args.house_epochs)
    data = recipe.prepare(*hp.read_data(args.data_dir))
    seen = []

    def run():
        seen.clear()
        recipe.k_fold(K, data, seed=SEED, callback=lambda *_: seen.append(torch.get_num_threads()))
        return seen[0]

    return run


@contextlib.contextmanager
def variant(name, default_threads):
    """``default``: the count torch chose, as an explicit choice; ``policy``: the package's."""
    saved = os.environ.pop(threads.ENV, None)
    if name == "default":
        os.environ[threads.ENV] = str(default_threads)
    try:
        yield
    finally:
        os.environ.pop(threads.ENV, None)
        if saved is not None:
            os.environ[threads.ENV] = saved


def what_the_policy_sees():
    """The busy CPUs (0.05 s sample), the 1-minute load average and the policy's pick."""
    busy = threads.busy_cpus(threads.usable_cpus())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return busy, load, threads.decide(busy=lambda cpus: busy)[0]


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("D2LCOMPUTE_FIGURE_DIR", tempfile.mkdtemp(prefix="contention-"))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", threads.ENV):
        if os.environ.get(name):
            sys.exit(f"unset {name}: this benchmark compares torch's default with the policy")
    default_threads = torch.get_num_threads()
    makers = {"fashion-mnist": fashion_mnist, "house-prices": house_prices}
    runs = {name: makers[name](args) for name in args.workloads}
    times = {}  # (workload, competitors, variant) -> seconds of each run
    used = {}  # (workload, competitors, variant) -> threads of the last run
    print(
        f"torch {torch.__version__}, {len(threads.usable_cpus())} usable CPUs, torch default "
        f"{default_threads} threads, {args.repeats} run(s) per cell; house prices: "
        f"{args.house_epochs} epochs; machine load at start {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    for repeat in range(args.repeats):
        for n in args.competitors:
            with competitors(n) as pids:
                time.sleep(0.5)  # the competitors' thread pools are spinning
                busy, load, pick = what_the_policy_sees()
                print(
                    f"run {repeat + 1}, {n} competitor(s) {pids}: sample {busy:.2f} busy CPUs, "
                    f"load average {load:.2f}, policy picks {pick} thread(s)",
                    flush=True,
                )
                for workload, run in runs.items():
                    for name in VARIANTS:
                        with variant(name, default_threads), _quiet():
                            start = time.perf_counter()
                            used[workload, n, name] = run()
                            seconds = time.perf_counter() - start
                        times.setdefault((workload, n, name), []).append(seconds)
                        print(  # as it comes: a long run stopped early still tells something
                            f"  {workload} {name}: {seconds:.2f} s with "
                            f"{used[workload, n, name]} thread(s)",
                            flush=True,
                        )
    _report(args, times, used)


def _report(args, times, used):
    print(
        f"\n{'workload':<14} {'competitors':>11} {'variant':<8} {'threads':>7} "
        f"{'min s':>7} {'median s':>8}"
    )
    for (workload, n, name), seconds in times.items():
        print(
            f"{workload:<14} {n:>11} {name:<8} {used[workload, n, name]:>7} "
            f"{min(seconds):>7.2f} {statistics.median(seconds):>8.2f}"
        )
    print(
        "\nratios of min times (issue 20: busy/idle <= 2.5x under the policy; idle speed "
        ">= 0.95x of the default's)"
    )
    for workload in args.workloads:
        best = {key[1:]: min(s) for key, s in times.items() if key[0] == workload}
        if (0, "policy") not in best:
            continue
        idle = best[0, "policy"]
        line = f"{workload:<14} policy idle speed / default idle: " + (
            f"{best[0, 'default'] / idle:.2f}x"
        )
        for n in args.competitors:
            if n:
                line += (
                    f" | {n} competitor(s)/idle: policy {best[n, 'policy'] / idle:.2f}x, "
                    f"default {best[n, 'default'] / best[0, 'default']:.2f}x"
                )
        print(line)


@contextlib.contextmanager
def _quiet():
    """Hide the runs' table lines and the policy's note (the table reports the threads)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


if __name__ == "__main__":
    main()
