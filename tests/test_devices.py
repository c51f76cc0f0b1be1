"""Tests for d2lcompute/devices.py, on any machine.

The GPU branches are simulated: ``torch.cuda.is_available``, ``torch.cuda.device_count``
and ``torch.backends.mps.is_available`` are monkeypatched to play a machine with no GPU,
with CUDA GPUs, or with Apple's MPS device. ``torch.device("cuda:1")`` is only a name, so
building one needs no GPU.
"""

import numpy as np
import pytest
import torch
from torch import nn

import d2lcompute as d2l
from d2lcompute.devices import num_gpus, try_all_gpus, try_gpu

CPU = torch.device("cpu")


@pytest.fixture
def machine(monkeypatch):
    """Call ``machine(cuda=n, mps=bool)`` to play that machine."""

    def play(cuda=0, mps=False):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return play


def test_no_gpu_gives_the_cpu(machine):
    machine(cuda=0)
    assert num_gpus() == 0
    assert try_gpu() == try_gpu(0) == try_gpu(10) == CPU
    assert try_all_gpus() == [CPU]


def test_two_cuda_gpus(machine):
    machine(cuda=2)
    assert num_gpus() == 2
    assert (try_gpu(), try_gpu(1)) == (torch.device("cuda:0"), torch.device("cuda:1"))
    assert try_gpu(2) == try_gpu(5) == CPU  # the book's try_gpu(10): no such GPU
    assert try_all_gpus() == [torch.device("cuda:0"), torch.device("cuda:1")]


def test_mps_only(machine):
    machine(cuda=0, mps=True)
    assert num_gpus() == 1
    assert try_gpu() == torch.device("mps")
    assert try_gpu(1) == CPU  # there is one MPS device
    assert try_all_gpus() == [torch.device("mps")]


def test_cuda_comes_before_mps(machine):
    machine(cuda=1, mps=True)
    assert try_all_gpus() == [torch.device("cuda:0")]


@pytest.mark.parametrize("n", range(5))
@pytest.mark.parametrize("i", range(6))
def test_try_gpu_agrees_with_try_all_gpus(machine, n, i):
    machine(cuda=n)
    expected = torch.device(f"cuda:{i}") if i < n else CPU
    assert try_gpu(i) == expected
    assert (try_gpu(i) in try_all_gpus()) == (i < n or n == 0)
    assert len(try_all_gpus()) == max(n, 1)


def test_numpy_integer_index_is_accepted(machine):
    machine(cuda=2)
    assert try_gpu(np.int64(1)) == torch.device("cuda:1")


@pytest.mark.parametrize(
    "i, error, match",
    [
        (-1, ValueError, "i must be >= 0, got i=-1"),
        (1.0, TypeError, r"i must be an integer, got i=1\.0 \(float\)"),
        ("0", TypeError, r"i must be an integer, got i='0' \(str\)"),
        (True, TypeError, r"i must be an integer, got i=True \(bool\)"),
        (None, TypeError, r"i must be an integer, got i=None"),
    ],
)
def test_bad_index_is_rejected(machine, i, error, match):
    machine(cuda=2)  # the check comes first, whatever the machine
    with pytest.raises(error, match=match):
        try_gpu(i)


def test_book_names_at_the_top_level():
    assert (d2l.try_gpu, d2l.try_all_gpus, d2l.num_gpus) == (try_gpu, try_all_gpus, num_gpus)


def test_device_agnostic_code_runs_where_try_gpu_says():
    # On this machine (whatever it is) a model and its data on try_gpu() work together.
    device = try_gpu()
    net = nn.Linear(3, 1).to(device)
    X = torch.ones(2, 3, device=device)
    assert net(X).device.type == device.type
    assert net.weight.device.type == device.type


# ---- the English edition's cpu(), gpu(i), num_gpus() (d2l.ai 1.0, §6.7) -----------------------


def test_cpu_and_gpu_name_devices_like_the_book(machine):
    machine(cuda=2)
    assert d2l.cpu() == CPU
    assert (d2l.gpu(), d2l.gpu(1)) == (torch.device("cuda:0"), torch.device("cuda:1"))
    assert d2l.num_gpus() == 2


def test_gpu_never_sends_a_mac_without_cuda_to_cuda(machine):
    machine(cuda=0, mps=True)
    assert d2l.gpu() == torch.device("mps") == d2l.try_gpu()
    with pytest.raises(ValueError, match="a Mac has one GPU \\(mps\\), got i=1"):
        d2l.gpu(1)
    assert d2l.Trainer(max_epochs=1, num_gpus=1).gpus == [torch.device("mps")]


def test_gpu_without_any_gpu_names_cuda_as_the_book_does(machine):
    machine(cuda=0)
    assert d2l.gpu() == torch.device("cuda:0")  # a name; try_gpu() is the one that falls back
    assert d2l.Trainer(max_epochs=1, num_gpus=1).gpus == []
