import doctest
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import d2lcompute as d2l
from d2lcompute import layers
from d2lcompute.layers import CenteredLayer, MyLinear, is_initialized

# Some torch versions warn that lazy modules are new; that is expected here.
lazy_ok = pytest.mark.filterwarnings("ignore:Lazy modules are a new feature:UserWarning")


class DataLinear(MyLinear):
    """The book's MyLinear: computes with .data, so autograd never sees the parameters."""

    def forward(self, X):
        return F.relu(torch.matmul(X, self.weight.data) + self.bias.data)


def test_public_names():
    assert d2l.CenteredLayer is CenteredLayer and d2l.MyLinear is MyLinear
    assert d2l.is_initialized is is_initialized


def test_docstring_examples_run():
    torch.manual_seed(0)
    result = doctest.testmod(layers, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ---- CenteredLayer ------------------------------------------------------------------------


def test_centered_layer_subtracts_the_mean():
    X = torch.tensor([1.0, 2, 3, 4, 5])
    assert torch.equal(CenteredLayer()(X), torch.tensor([-2.0, -1, 0, 1, 2]))
    assert list(CenteredLayer().parameters()) == []


@pytest.mark.parametrize("shape", [(4, 8), (2, 3, 5), (7,)])
def test_centered_layer_output_has_zero_mean_inside_a_net(shape):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(shape[-1], 128), CenteredLayer())
    Y = net(torch.rand(shape))
    assert Y.shape == (*shape[:-1], 128)
    assert abs(Y.mean().item()) < 1e-6


# ---- MyLinear -----------------------------------------------------------------------------


@pytest.mark.parametrize("in_units, units, batch", [(5, 3, 2), (64, 8, 4), (1, 1, 1)])
def test_my_linear_matches_nn_linear_with_copied_weights(in_units, units, batch):
    torch.manual_seed(0)
    # float64, so that the default tolerances hold for sums over 64 inputs
    mine = MyLinear(in_units, units).double()
    ref = nn.Linear(in_units, units).double()
    with torch.no_grad():
        ref.weight.copy_(mine.weight.T)  # torch stores (out, in); the book stores (in, out)
        ref.bias.copy_(mine.bias)
    X = torch.randn(batch, in_units, dtype=torch.float64)
    Y, Y_ref = mine(X), F.relu(ref(X))
    torch.testing.assert_close(Y, Y_ref)
    (Y**2).sum().backward()
    (Y_ref**2).sum().backward()
    assert mine.weight.grad is not None  # the book's .data version leaves None here
    torch.testing.assert_close(mine.weight.grad, ref.weight.grad.T)
    torch.testing.assert_close(mine.bias.grad, ref.bias.grad)


def test_the_books_data_version_gets_no_gradient():
    """The oracle for check_gradients below: plain backward leaves .grad None."""
    bad = DataLinear(5, 3)
    X = torch.rand(2, 5, requires_grad=True)
    bad(X).sum().backward()
    assert X.grad is not None  # gradients flow to the input...
    assert bad.weight.grad is None and bad.bias.grad is None  # ...but never to the parameters


def test_my_linear_learns():
    torch.manual_seed(0)
    net = nn.Sequential(MyLinear(64, 8), MyLinear(8, 1))
    X, y = torch.rand(16, 64), torch.rand(16, 1)
    trainer = torch.optim.SGD(net.parameters(), lr=1e-4)
    before = [p.detach().clone() for p in net.parameters()]
    for _ in range(3):
        loss = F.mse_loss(net(X), y)
        trainer.zero_grad()
        loss.backward()
        trainer.step()
    assert all(not torch.equal(b, p) for b, p in zip(before, net.parameters()))
    assert net(torch.rand(2, 64)).shape == (2, 1)


def test_my_linear_init_draws_like_the_book():
    """Same seed, same numbers as the book's torch.randn(in_units, units), torch.randn(units,)."""
    torch.manual_seed(42)
    dense = MyLinear(5, 3)
    torch.manual_seed(42)
    W, b = torch.randn(5, 3), torch.randn(3)
    assert torch.equal(dense.weight, W) and torch.equal(dense.bias, b)
    assert isinstance(dense.weight, nn.Parameter) and dense.weight.shape == (5, 3)
    dense.reset_parameters()  # all init lives in one method that can be called again
    assert not torch.equal(dense.weight, W)


def test_my_linear_repr_and_registration():
    dense = MyLinear(5, 3)
    assert repr(dense) == "MyLinear(in_units=5, units=3)"
    assert [name for name, _ in dense.named_parameters()] == ["weight", "bias"]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"in_units": 0, "units": 3}, ValueError, "in_units must be >= 1, got in_units=0"),
        ({"in_units": 5, "units": -1}, ValueError, "units must be >= 1, got units=-1"),
        ({"in_units": 2.5, "units": 3}, TypeError, "in_units must be an integer, got in_units=2.5"),
        ({"in_units": 5, "units": "3"}, TypeError, "units must be an integer, got units='3'"),
        ({"in_units": True, "units": 3}, TypeError, "in_units must be an integer"),
    ],
)
def test_my_linear_rejects_bad_sizes(kwargs, error, message):
    with pytest.raises(error, match=message):
        MyLinear(**kwargs)


@pytest.mark.parametrize("shape", [(2, 4), (4,), (5, 3), ()])
def test_my_linear_rejects_wrong_input_width(shape):
    message = f"expects inputs whose last dimension is 5, got X of shape {tuple(shape)}"
    with pytest.raises(ValueError, match=re.escape(message)):
        MyLinear(5, 3)(torch.rand(shape))


# ---- deferred initialisation --------------------------------------------------------------


@lazy_ok
def test_lazy_linear_gets_shapes_on_the_first_pass():
    net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
    assert not is_initialized(net)
    assert isinstance(net[0].weight, nn.parameter.UninitializedParameter)
    net(torch.rand(2, 20))
    assert is_initialized(net)
    assert net[0].weight.shape == (256, 20) and net[2].weight.shape == (10, 256)
    assert type(net[0]) is nn.Linear  # LazyLinear turns into a plain Linear


def test_is_initialized_on_ordinary_models_and_bad_input():
    assert is_initialized(nn.Linear(2, 3)) and is_initialized(CenteredLayer())
    with pytest.raises(TypeError, match=r"model must be an nn.Module, got model=\[.*\] \(list\)"):
        is_initialized([nn.Linear(2, 3)])
