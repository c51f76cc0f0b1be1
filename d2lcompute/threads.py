"""How many CPU threads torch uses for a training run: no more than the CPUs it can get now.

Torch's default is one intra-op thread per core, and its threads wait for each other at
every operation: when another process holds a core, each operation waits for the thread that
shares it. On a 2-core machine with one other busy process, a §4.6 epoch took 15.6 s with
torch's 2 threads and 1.7 s with 1 (0.77 s and 1.13 s idle). So every training run
(``Trainer.fit``, hence ``train_ch3``; the commands; the house-price k-fold) runs inside
``training_threads()``, which lowers the count to the CPUs that are free, says so in one line
on stderr, and restores the caller's count when the run ends. ``decide``, in order:

1. an explicit choice wins, first found first: ``training_threads(n)`` (the commands'
   ``--threads``), a count set with ``torch.set_num_threads`` (torch's count differs from the
   one it had when this module was imported; a count equal to that one cannot be told apart),
   ``D2LCOMPUTE_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``;
2. a pytest-xdist worker (``PYTEST_XDIST_WORKER``) uses 1 thread: the workers share the cores;
3. under torchrun each rank gets its share, ``CPUs // LOCAL_WORLD_SIZE`` (its siblings are
   busy by design, so the load is not counted);
4. otherwise the CPUs this process may run on (its affinity) minus those other processes
   keep busy, from ``/proc/stat`` (Linux): their busy time less this process's own, over the
   previous run when it ended moments ago, else over 0.05 s of sleep (5% of a 1-second run,
   so back-to-back runs do not pay it); elsewhere the 1-minute load average (macOS), or
   nothing (Windows: the affinity only).

The policy only lowers torch's count, never raises it. Why a sample and not the load
average: the load average lags by a minute and counts this process's own recent work. With a
competitor started 5 s earlier on 2 CPUs, the sample read 2.0 busy CPUs and the load average
had risen by 0.16; 2 s after it was killed, the sample read 1.0 (another job's) and the load
average was still rising. ``benchmarks/contention.py`` prints both before each condition.
"""

import collections
import contextlib
import math
import os
import sys
import time

import torch

from d2lcompute._checks import check_int
from d2lcompute.errors import SettingError

ENV = "D2LCOMPUTE_THREADS"
SAMPLE_SECONDS = 0.05  # 10 clock ticks of 2 CPUs: resolution 0.2 CPU
RECENT = 2.0  # seconds: an older reading would hide a competitor started since
PROC_STAT = "/proc/stat"  # per CPU: clock ticks spent user, nice, system, idle, iowait...
_TORCH_DEFAULT = torch.get_num_threads()  # torch's own choice, before any run of ours
_depth = 0  # training_threads() blocks entered and not left: an inner run keeps the outer's
_readings = collections.deque(maxlen=8)  # busy_cpus's and each run's start and end: _reading()


def decide(requested=None, *, current=None, busy=None):
    """``(threads, reason)``: the intra-op threads for a run, and why the policy chose them
    (``None`` where the count is the user's choice).

    ``requested`` is an explicit count (``--threads``); ``current`` torch's count now
    (default: ``torch.get_num_threads()``); ``busy(cpus)`` how many of ``cpus`` other
    processes keep busy (default: ``busy_cpus``, which samples for 0.05 s).
    """
    current = torch.get_num_threads() if current is None else current
    if requested is not None:
        return check_int("threads", requested, min_value=1), None
    if current != _TORCH_DEFAULT:
        return current, None  # the user called torch.set_num_threads
    if os.environ.get(ENV):
        return _from_environment(ENV), None
    if os.environ.get("OMP_NUM_THREADS") or os.environ.get("MKL_NUM_THREADS"):
        return current, None  # torch follows them already
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return 1, "one per pytest-xdist worker"
    cpus = usable_cpus()
    if os.environ.get("LOCAL_WORLD_SIZE"):
        ranks = _from_environment("LOCAL_WORLD_SIZE")
        share = max(1, len(cpus) // ranks)
        return min(current, share), f"a share of {len(cpus)} CPUs among {ranks} torchrun ranks"
    if current == 1:
        return 1, None  # nothing to lower: skip the sample
    others = (busy or busy_cpus)(cpus)
    free = max(1, len(cpus) - math.floor(others + 0.5))
    return min(current, free), f"other processes keep {others:.1f} of the {len(cpus)} CPUs busy"


def usable_cpus():
    """The CPU numbers this process may run on (its affinity; all CPUs where unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    count = os.process_cpu_count() if hasattr(os, "process_cpu_count") else os.cpu_count()
    return list(range(count or 1))


def busy_cpus(cpus, seconds=SAMPLE_SECONDS):
    """How many of ``cpus`` other processes keep busy (a float; 0 where unknown).

    Linux: the busy time of those CPUs in ``/proc/stat`` minus this process's own CPU time,
    over the last window: since a reading of ours between ``seconds`` and ``RECENT`` seconds
    old (the previous run, when runs follow each other: no wait), else over ``seconds`` of
    sleep. macOS and other Unixes: the 1-minute load average. Windows: 0.
    """
    try:
        now = _reading(cpus)
    except OSError:
        return min(os.getloadavg()[0], len(cpus)) if hasattr(os, "getloadavg") else 0.0
    recent = [r for r in _readings if r[0] == now[0] and seconds <= now[1] - r[1] <= RECENT]
    if recent:
        start = recent[-1]
    else:
        time.sleep(seconds)
        start, now = now, _reading(cpus)
    _readings.append(now)
    wall, busy, total, own = (b - a for a, b in zip(start[1:], now[1:], strict=True))
    if total <= 0 or wall <= 0:
        return 0.0
    return max(0.0, len(cpus) * busy / total - own / wall)


def remember(cpus=None):
    """Keep a reading of the CPUs' and this process's times, for ``busy_cpus`` to start from."""
    with contextlib.suppress(OSError):
        _readings.append(_reading(usable_cpus() if cpus is None else cpus))


def _reading(cpus):
    """``(cpus, wall seconds, busy ticks, total ticks, own CPU seconds)`` now."""
    busy, total = _cpu_times(cpus)
    return tuple(cpus), time.monotonic(), busy, total, time.process_time()


def _cpu_times(cpus):
    """``(busy, total)`` clock ticks of ``cpus`` so far, from ``PROC_STAT``."""
    wanted = {f"cpu{i}" for i in cpus}
    busy = total = 0
    with open(PROC_STAT) as f:
        for line in f:
            name, *ticks = line.split()
            if name in wanted:
                # user nice system idle iowait irq softirq steal (guest is within user)
                ticks = [int(t) for t in ticks[:8]]
                busy += sum(ticks) - ticks[3] - ticks[4]
                total += sum(ticks)
    return busy, total


@contextlib.contextmanager
def training_threads(requested=None):
    """Run the block with ``decide(requested)`` torch threads; restore the count after.

    Also a decorator: ``@training_threads()``. Blocks nest: inside a run (the command's),
    an inner run (its ``Trainer.fit``) keeps the outer run's count. Prints one line on stderr
    when it lowers torch's count on its own.
    """
    global _depth
    if _depth:
        yield
        return
    before = torch.get_num_threads()
    threads, reason = decide(requested, current=before)
    if threads < before and reason is not None:
        print(
            f"d2lcompute: training with {threads} torch thread{'s' * (threads > 1)} instead "
            f"of {before}: {reason} (choose with {ENV}=N or torch.set_num_threads(N))",
            file=sys.stderr,
            flush=True,
        )
    if threads != before:
        torch.set_num_threads(threads)
    remember()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        remember()
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def _from_environment(name):
    """The environment variable ``name`` as a positive int, or a ``SettingError`` naming it."""
    text = os.environ[name]
    if not (text.strip().isdigit() and int(text) > 0):
        raise SettingError(f"{name} must be a positive whole number of threads, got {text!r}")
    return int(text)
