"""The argument checks every public entry point shares (d2lcompute/_checks.py): one wording."""

import math

import pytest
import torch
from torch import nn

from d2lcompute._checks import (
    check_choice,
    check_examples,
    check_int,
    check_lr,
    check_module,
    check_number,
    check_probability,
)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: check_int("n", True), TypeError, r"n must be an integer, got n=True \(bool\)"),
        (lambda: check_int("n", 2.0), TypeError, r"n must be an integer, got n=2.0 \(float\)"),
        (lambda: check_int("n", 0, min_value=1), ValueError, "n must be >= 1, got n=0"),
        (lambda: check_int("n", 9, max_value=8), ValueError, "n must be <= 8, got n=9"),
        (lambda: check_number("x", "1"), TypeError, r"x must be a number, got x='1' \(str\)"),
        (lambda: check_number("x", math.nan), ValueError, "x must be a number, got x=nan"),
        (lambda: check_number("x", 0, above=0), ValueError, "x must be > 0, got x=0"),
        (lambda: check_lr(0), ValueError, "lr must be > 0, got lr=0"),
        (lambda: check_lr(-0.5), ValueError, "lr must be > 0, got lr=-0.5"),
        (lambda: check_lr(math.inf), ValueError, "lr must be finite, got lr=inf"),
        (lambda: check_probability("p", 1.5), ValueError, r"p must be a probability in \[0, 1\]"),
        (
            lambda: check_choice("init", "he", ("xavier", "normal")),
            ValueError,
            "init must be one of 'xavier', 'normal'; got init='he'",
        ),
        (
            lambda: check_module("net", [nn.Linear(1, 1)]),
            TypeError,
            r"net must be an nn.Module, got net=\[Linear\(.*\)\] \(list\)",
        ),
        (
            lambda: check_examples("X", torch.ones(2, 3), 4),
            ValueError,
            r"X must have shape \(N, \*\) with 4 elements per example .*got shape \(2, 3\)",
        ),
    ],
)
def test_bad_values_are_named_with_what_is_allowed(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_good_values_come_back_converted():
    assert check_int("n", 3) == 3 and check_number("x", 2) == 2.0 and check_lr(0.1) == 0.1
    assert check_number("x", 0, min_value=0) == 0.0  # inclusive bound: 0 allowed
    net = nn.Linear(1, 1)
    assert check_module("net", net) is net


def test_check_device_reads_names_and_lists_the_devices_there_are():
    from d2lcompute._checks import check_device

    assert check_device("device", "cpu") == torch.device("cpu")
    assert check_device("device", torch.device("meta")) == torch.device("meta")
    assert check_device("device", None, allow_none=True) is None
    with pytest.raises(TypeError, match=r"device must be a torch.device .* got device=None"):
        check_device("device", None)
    with pytest.raises(ValueError, match=r"got device='gpu0'; this machine has cpu"):
        check_device("device", "gpu0")
    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(ValueError, match=rf"device='cuda:{n + 4}': no CUDA device {n + 4}; this"):
        check_device("device", f"cuda:{n + 4}")


def test_check_tensor_frame_sequence_and_finite_numbers():

    from d2lcompute._checks import check_frame, check_number, check_sequence, check_tensor

    x = torch.ones(2)
    assert check_tensor("X", x, floating=True) is x
    with pytest.raises(TypeError, match=r"X must be a floating-point tensor, got X of dtype"):
        check_tensor("X", torch.ones(2, dtype=torch.int64), floating=True)
    with pytest.raises(TypeError, match=r"X must be a torch.Tensor, got X='x' \(str\)"):
        check_tensor("X", "x")
    with pytest.raises(
        TypeError, match=r"data must be a pandas DataFrame .* got data=\[1\] \(list\)"
    ):
        check_frame("data", [1])
    with pytest.raises(TypeError, match=r"imgs must be a list, got imgs='abc' \(str\)"):
        check_sequence("imgs", "abc", "a list")
    assert check_number("std", 2.0, finite=True) == 2.0
    with pytest.raises(ValueError, match=r"std must be finite, got std=-inf"):
        check_number("std", float("-inf"), finite=True)
