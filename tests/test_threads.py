"""The thread policy (d2lcompute/threads.py): how many torch threads a training run uses."""

import os

import pytest
import torch

import d2lcompute as d2l
from d2lcompute import threads
from d2lcompute.cli import main
from d2lcompute.errors import SettingError

_CHOICES = ("D2LCOMPUTE_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_LAUNCHERS = ("PYTEST_XDIST_WORKER", "LOCAL_WORLD_SIZE")


@pytest.fixture
def machine(monkeypatch):
    """A 4-CPU machine where torch has its default 4 threads and no one chose a count.

    ``machine.busy`` is how many CPUs other processes keep busy; the CPU count is
    ``machine.cpus``. Torch's real count is put back afterwards (conftest's 1).
    """

    class Machine:
        cpus, busy, samples = [0, 1, 2, 3], 0.0, 0

    def busy(cpus):
        Machine.samples += 1
        return Machine.busy

    for name in _CHOICES + _LAUNCHERS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "_TORCH_DEFAULT", 4)
    monkeypatch.setattr(threads, "usable_cpus", lambda: Machine.cpus)
    monkeypatch.setattr(threads, "busy_cpus", busy)
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    yield Machine
    torch.set_num_threads(before)


@pytest.mark.parametrize(("busy", "expected"), [(0.0, 4), (0.4, 4), (1.0, 3), (2.6, 1), (4.0, 1)])
def test_a_busy_machine_lowers_the_count_to_the_free_cpus(machine, busy, expected):
    machine.busy = busy
    count, reason = threads.decide()
    assert count == expected and machine.samples == 1
    assert reason == f"other processes keep {busy:.1f} of the 4 CPUs busy"


def test_the_affinity_bounds_the_count(machine):
    machine.cpus = [2]  # e.g. taskset -c 2
    assert threads.decide()[0] == 1


def test_the_policy_never_raises_the_count(machine):
    machine.cpus = list(range(16))
    assert threads.decide()[0] == 4


def test_an_explicit_choice_wins_and_skips_the_sample(machine, monkeypatch):
    machine.busy = 3.0
    assert threads.decide(3) == (3, None)  # --threads
    assert threads.decide(current=2) == (2, None)  # torch.set_num_threads(2) by the user
    monkeypatch.setenv("D2LCOMPUTE_THREADS", "2")
    assert threads.decide() == (2, None)
    assert threads.decide(current=3) == (3, None)  # the call in the code wins over the variable
    monkeypatch.delenv("D2LCOMPUTE_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert threads.decide() == (4, None)
    assert machine.samples == 0


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", " "])
def test_a_bad_environment_variable_is_named(machine, monkeypatch, value):
    monkeypatch.setenv("D2LCOMPUTE_THREADS", value)
    with pytest.raises(SettingError, match=f"D2LCOMPUTE_THREADS must be .*got '{value}'"):
        threads.decide()


@pytest.mark.parametrize(("requested", "error"), [(0, ValueError), ("2", TypeError)])
def test_a_bad_requested_count_is_named(machine, requested, error):
    with pytest.raises(error, match="threads"):
        threads.decide(requested)


def test_each_torchrun_rank_gets_its_share_and_each_xdist_worker_one(machine, monkeypatch):
    machine.busy = 4.0  # the sibling ranks are busy by design: not counted
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert threads.decide()[0] == 2
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")
    assert threads.decide()[0] == 1
    monkeypatch.delenv("LOCAL_WORLD_SIZE")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert threads.decide() == (1, "one per pytest-xdist worker")
    assert machine.samples == 0


class _Clock:
    """``time`` for threads.py: wall and own CPU seconds advance when told, or by ``sleep``."""

    def __init__(self, on_sleep):
        self.wall, self.own, self.slept, self.on_sleep = 100.0, 5.0, [], on_sleep

    def monotonic(self):
        return self.wall

    def process_time(self):
        return self.own

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.wall += seconds
        self.on_sleep()


@pytest.fixture
def proc_stat(tmp_path, monkeypatch):
    """A fake ``/proc/stat`` (``proc_stat.path``, ``.after``) and clock (``proc_stat.clock``)."""

    class ProcStat:
        path = tmp_path / "stat"
        # name user nice system idle iowait irq softirq steal guest guest_nice
        before = "cpu 0 0 0 0 0 0 0 0\ncpu0 10 0 0 90 0 0 0 0\ncpu1 0 0 0 100 0 0 0 0\n"
        after = "cpu0 90 0 10 100 0 0 0 0 0 0\ncpu1 0 0 0 150 50 0 0 0\ncpu2 99 0 0 0 0 0 0 0\n"
        clock = _Clock(lambda: ProcStat.path.write_text(ProcStat.after))

    ProcStat.path.write_text(ProcStat.before)
    monkeypatch.setattr(threads, "PROC_STAT", str(ProcStat.path))
    monkeypatch.setattr(threads, "time", ProcStat.clock)
    monkeypatch.setattr(threads, "_readings", threads.collections.deque(maxlen=8))
    return ProcStat


def test_busy_cpus_counts_the_busy_ticks_of_this_processs_cpus(proc_stat):
    # cpu0: 90 busy ticks of 100; cpu1: idle and iowait only; cpu2 is not this process's
    assert threads.busy_cpus([0, 1]) == pytest.approx(2 * 90 / 200)
    assert proc_stat.clock.slept == [threads.SAMPLE_SECONDS]


def test_after_a_recent_run_busy_cpus_measures_it_less_its_own_time_without_waiting(proc_stat):
    threads.remember([0, 1])  # a run starts
    proc_stat.clock.wall += 1.0  # it ran for 1 s on 0.4 CPU; others kept 0.5 busy
    proc_stat.clock.own += 0.4
    proc_stat.path.write_text(proc_stat.after)
    threads.remember([0, 1])  # it ends
    assert threads.busy_cpus([0, 1]) == pytest.approx(2 * 90 / 200 - 0.4)
    assert proc_stat.clock.slept == []
    proc_stat.clock.wall += threads.RECENT + 1  # a minute later: the window is stale, so sleep
    assert threads.busy_cpus([0, 1]) == 0 and proc_stat.clock.slept == [threads.SAMPLE_SECONDS]


def test_without_proc_stat_the_load_average_then_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "PROC_STAT", str(tmp_path / "missing"))
    monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 0.0, 0.0), raising=False)
    assert threads.busy_cpus([0, 1]) == 1.5  # macOS
    monkeypatch.delattr(os, "getloadavg")
    assert threads.busy_cpus([0, 1]) == 0.0  # Windows


def test_busy_cpus_of_this_machine_is_within_its_cpus():
    cpus = threads.usable_cpus()
    assert cpus and 0 <= threads.busy_cpus(cpus, seconds=0.02) <= len(cpus)


def test_the_block_lowers_says_so_once_and_restores(machine, capsys):
    machine.busy = 3.0
    with pytest.raises(KeyError), threads.training_threads():
        assert torch.get_num_threads() == 1
        with threads.training_threads():  # an inner run keeps the outer's count, silently
            assert torch.get_num_threads() == 1
        raise KeyError("a failing run restores the count too")
    assert torch.get_num_threads() == 4
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "d2lcompute: training with 1 torch thread instead of 4: other processes keep 3.0 "
        "of the 4 CPUs busy (choose with D2LCOMPUTE_THREADS=N or torch.set_num_threads(N))"
    ]


def test_the_block_is_silent_when_it_keeps_the_count_or_the_user_chose(machine, capsys):
    with threads.training_threads():
        assert torch.get_num_threads() == 4
    machine.busy = 3.0
    with threads.training_threads(2):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == 4 and capsys.readouterr().err == ""


def test_trainer_fit_runs_under_the_policy(machine, capsys):
    machine.busy = 3.0  # 1 thread: more would crawl on this shared 2-core machine
    seen = []

    class Observed(d2l.LinearRegression):
        def training_step(self, batch):
            seen.append(torch.get_num_threads())
            return super().training_step(batch)

    data = d2l.SyntheticRegressionData(torch.tensor([2.0, -3.4]), 4.2, num_train=32, num_val=8)
    d2l.Trainer(max_epochs=2).fit(Observed(lr=0.03), data)
    assert set(seen) == {1} and torch.get_num_threads() == 4
    assert capsys.readouterr().err.count("d2lcompute: training with 1 torch thread ") == 1


@pytest.mark.parametrize("command", ["house-prices", "fashion-mnist"])
def test_the_commands_run_under_the_policy_and_threads_wins(machine, monkeypatch, command):
    import importlib

    module = importlib.import_module(f"d2lcompute.commands.{command.replace('-', '_')}")
    seen = []
    monkeypatch.setattr(module, "run", lambda args: seen.append(torch.get_num_threads()))
    machine.busy = 3.0
    assert main([command]) == 0
    assert main([command, "--threads", "2"]) == 0
    assert seen == [1, 2] and torch.get_num_threads() == 4


def test_a_bad_variable_ends_a_command_with_one_line(machine, monkeypatch, capsys):
    monkeypatch.setenv("D2LCOMPUTE_THREADS", "many")
    assert main(["house-prices"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("d2lcompute house-prices: error: D2LCOMPUTE_THREADS")
    assert "Traceback" not in err


def test_the_house_price_k_fold_runs_under_the_policy(machine):
    from d2lcompute import house_prices

    machine.busy = 3.0
    seen = []
    X, y = torch.rand(20, 3), torch.rand(20, 1) * 1e5 + 1e5
    house_prices.k_fold(
        2, X, y, 2, 0.1, 0, 8, seed=0, callback=lambda *_: seen.append(torch.get_num_threads())
    )
    assert set(seen) == {1} and torch.get_num_threads() == 4
