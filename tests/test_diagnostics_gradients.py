"""check_gradients (d2lcompute/diagnostics/gradients.py): parameters that get no useful gradient.

The oracle is plain autograd: the book's ``.data`` layer leaves ``.grad`` None after
``backward()`` (tests/test_layers.py shows it), and check_gradients must name it.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import d2lcompute as d2l
from d2lcompute.diagnostics import check_gradients
from d2lcompute.layers import CenteredLayer, MyLinear, is_initialized

lazy_ok = pytest.mark.filterwarnings("ignore:Lazy modules are a new feature:UserWarning")


class DataLinear(MyLinear):
    """The book's MyLinear: computes with .data, so autograd never sees the parameters."""

    def forward(self, X):
        return F.relu(torch.matmul(X, self.weight.data) + self.bias.data)


def test_public_name():
    assert d2l.check_gradients is check_gradients is d2l.diagnostics.check_gradients


def test_healthy_model_gives_an_empty_report():
    torch.manual_seed(0)
    net = nn.Sequential(MyLinear(4, 8), MyLinear(8, 2))
    report = check_gradients(net, torch.rand(3, 4))
    assert report == [] and not report
    assert str(report) == "all 4 parameters received non-zero, finite gradients"


def test_catches_the_books_data_mistake():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 5), DataLinear(5, 3))
    report = check_gradients(net, torch.rand(2, 4))
    assert [(i.name, i.shape, i.problem) for i in report] == [
        ("1.weight", (5, 3), "detached"),
        ("1.bias", (3,), "detached"),
    ]
    assert ".data" in report[0].cause
    assert "2 of 4 parameters got no useful gradient" in str(report)
    assert "1.weight (5, 3): detached" in str(report)


def test_catches_it_when_nothing_is_tracked():
    report = check_gradients(DataLinear(5, 3), torch.rand(2, 5))
    assert {i.problem for i in report} == {"detached"} and len(report) == 2


def test_reports_unused_and_frozen_parameters():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(3, 3)
            self.spare = nn.Linear(3, 3)

        def forward(self, X):
            return self.used(X)

    net = TwoHeads()
    net.used.bias.requires_grad_(False)
    report = check_gradients(net, torch.rand(2, 3))
    assert {(i.name, i.problem) for i in report} == {
        ("used.bias", "frozen"),
        ("spare.weight", "unused"),
        ("spare.bias", "unused"),
    }
    assert "requires_grad=False" in str(report) and "unused in forward" in str(report)
    relaxed = check_gradients(net, torch.rand(2, 3), allow_frozen=True)
    assert {i.name for i in relaxed} == {"spare.weight", "spare.bias"}


def test_zero_and_non_finite_gradients():
    torch.manual_seed(0)
    # The sum of a centred output is constant, so the default scalar has zero gradient...
    net = nn.Sequential(nn.Linear(8, 16), CenteredLayer())
    report = check_gradients(net, torch.rand(4, 8))
    assert [i.problem for i in report] == ["zero", "zero"] and "loss_fn=" in report[0].cause
    # ...while a loss that depends on the parameters shows healthy gradients.
    assert not check_gradients(net, torch.rand(4, 8), loss_fn=lambda Y: (Y**2).sum())
    lin = nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight[0, 0] = float("inf")
    report = check_gradients(lin, torch.tensor([[1.0, -1.0]]), loss_fn=lambda y: (y**2).sum())
    assert "non-finite" in {i.problem for i in report}


def test_tuple_and_dict_outputs_are_summed():
    class Outputs(nn.Module):
        def __init__(self, kind):
            super().__init__()
            self.a, self.b, self.kind = nn.Linear(2, 2), nn.Linear(2, 2), kind

        def forward(self, X):
            a, b = self.a(X), self.b(X)
            label = a.argmax(dim=1)  # integer outputs are skipped
            return (a, [b, label]) if self.kind == "tuple" else {"a": a, "b": b, "label": label}

    for kind in ("tuple", "dict"):
        assert not check_gradients(Outputs(kind), torch.rand(3, 2))


def test_leaves_grads_and_buffers_as_they_were():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), DataLinear(4, 2))
    old_grad = torch.full_like(net[0].weight, 7.0)
    net[0].weight.grad = old_grad
    running_mean = net[1].running_mean.clone()
    X = torch.rand(5, 3, requires_grad=True)
    with torch.no_grad():  # a caller's no_grad does not hide gradients from the check
        report = check_gradients(net, X)
    assert {i.name for i in report} == {"2.weight", "2.bias"}
    assert net[0].weight.grad is old_grad and torch.equal(old_grad, torch.full((4, 3), 7.0))
    assert net[0].bias.grad is None and X.grad is None
    assert torch.equal(net[1].running_mean, running_mean)
    assert net[1].num_batches_tracked.item() == 0


@lazy_ok
def test_works_on_a_lazy_model():
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    assert not check_gradients(net, torch.rand(4, 3), loss_fn=lambda y: (y**2).sum())
    assert is_initialized(net)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: check_gradients([nn.Linear(2, 2)], torch.rand(1, 2)),
            TypeError,
            r"model must be an nn.Module, got model=\[.*\] \(list\)",
        ),
        (
            lambda: check_gradients(nn.Linear(2, 2), torch.rand(1, 2), loss_fn="mse"),
            TypeError,
            "loss_fn must be callable or None, got str",
        ),
        (
            lambda: check_gradients(nn.Linear(2, 2), torch.rand(3, 2), loss_fn=lambda y: y),
            ValueError,
            r"loss_fn must return a scalar tensor, got \(3, 2\)",
        ),
        (
            lambda: check_gradients(nn.Linear(2, 2), torch.rand(3, 2), loss_fn=lambda y: 1.0),
            ValueError,
            "loss_fn must return a scalar tensor, got float",
        ),
        (
            lambda: check_gradients(nn.Flatten(), torch.ones(2, 2, dtype=torch.long)),
            ValueError,
            "holds no floating-point tensor",
        ),
    ],
)
def test_check_gradients_rejects_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
