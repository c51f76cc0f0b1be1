"""benchmarks/contention.py: its options, its competitors (killed by pid) and its ratios.

The benchmark itself takes minutes (``--quick`` too, on a busy machine); these check its
parts in a second or two, without timing anything.
"""

import importlib.util
import os
from pathlib import Path

import pytest

from d2lcompute import threads

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "contention.py"


@pytest.fixture(scope="module")
def contention():
    spec = importlib.util.spec_from_file_location("contention", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_options_and_the_quick_mode(contention):
    args = contention.parse_args([])
    assert (args.repeats, args.competitors, args.house_epochs) == (3, [0, 1, 2], 100)
    quick = contention.parse_args(["--quick", "--workloads", "house-prices"])
    assert (quick.repeats, quick.competitors, quick.house_epochs) == (1, [0, 1], 10)
    assert quick.workloads == ["house-prices"]
    with pytest.raises(SystemExit):
        contention.parse_args(["--repeats", "0"])


def test_competitors_run_in_the_block_and_are_killed_after_it_even_on_error(contention):
    with pytest.raises(KeyError), contention.competitors(1) as pids:
        (pid,) = pids
        os.kill(pid, 0)  # alive: no error
        raise KeyError("a failing run")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped


def test_the_default_variant_pins_torchs_count_and_the_policy_variant_unsets_it(
    contention, monkeypatch
):
    monkeypatch.setenv(threads.ENV, "3")
    with contention.variant("default", 2):
        assert os.environ[threads.ENV] == "2"
    with contention.variant("policy", 2):
        assert threads.ENV not in os.environ
    assert os.environ[threads.ENV] == "3"


def test_the_report_prints_the_ratios_the_issue_judges(contention, capsys):
    args = contention.parse_args(["--competitors", "0", "1", "--workloads", "house-prices"])
    times = {
        ("house-prices", 0, "default"): [1.0, 1.2],
        ("house-prices", 0, "policy"): [1.0, 1.1],
        ("house-prices", 1, "default"): [20.0],
        ("house-prices", 1, "policy"): [2.0],
    }
    used = dict.fromkeys(times, 2)
    contention._report(args, times, used)
    out = capsys.readouterr().out
    assert "house-prices   policy idle speed / default idle: 1.00x" in out
    assert "1 competitor(s)/idle: policy 2.00x, default 20.00x" in out
