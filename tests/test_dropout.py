"""Dropout (§4.6): dropout_layer against nn.Dropout, the scratch and concise nets."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from d2lcompute import dropout as reg

# --- dropout_layer ---------------------------------------------------------------------------


def test_dropout_zero_returns_x_and_one_returns_zeros():
    X = torch.arange(16, dtype=torch.float32).reshape(2, 8)
    assert reg.dropout_layer(X, 0) is X
    assert reg.dropout_layer(X, 0.0) is X
    out = reg.dropout_layer(X, 1.0)
    assert torch.equal(out, torch.zeros(2, 8)) and out.dtype == X.dtype


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(-1e3, 1e3, allow_nan=False, width=32), min_size=1, max_size=40),
    dropout=st.floats(0.01, 0.99),
)
def test_each_element_is_dropped_or_scaled(values, dropout):
    X = torch.tensor(values)
    out = reg.dropout_layer(X, dropout)
    assert out.shape == X.shape
    kept = out != 0
    torch.testing.assert_close(out[kept], X[kept] / (1 - dropout))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_is_unbiased_and_drops_a_fraction_p(p):
    torch.manual_seed(0)
    n = 1_000_000
    out = reg.dropout_layer(torch.ones(n), p)
    # Each element is 1/(1-p) with probability 1-p, else 0: mean 1 and variance p/(1-p),
    # so the mean of n elements has standard error sqrt(p / ((1-p) n)) (3e-3 at p = 0.9).
    # 5 standard errors leaves a false-alarm rate below 1e-6.
    assert abs(out.mean().item() - 1) < 5 * math.sqrt(p / ((1 - p) * n))
    # The zeroed fraction is a binomial proportion: standard error sqrt(p (1-p) / n).
    assert abs((out == 0).float().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_matches_nn_dropout_statistically(p):
    torch.manual_seed(0)
    n = 200_000
    X = torch.randn(n).abs() + 1  # no zeros, so zeros in the output are all dropped units
    ours, theirs = reg.dropout_layer(X, p), nn.Dropout(p).train()(X)
    # Same scale on kept units (up to rounding: torch may multiply by 1/(1-p) instead)...
    torch.testing.assert_close(ours[ours != 0], X[ours != 0] / (1 - p))
    torch.testing.assert_close(theirs[theirs != 0], X[theirs != 0] / (1 - p))
    # ...and zeroed fractions that differ by less than 5 standard errors of a difference
    # of two independent binomial proportions.
    gap = ((ours == 0).float().mean() - (theirs == 0).float().mean()).abs().item()
    assert gap < 5 * math.sqrt(2 * p * (1 - p) / n)


def test_dropout_gradient_is_mask_over_keep_probability():
    torch.manual_seed(0)
    X = torch.randn(50, 20, requires_grad=True)
    out = reg.dropout_layer(X, 0.25)
    out.sum().backward()
    expected = (out != 0).float() / 0.75
    torch.testing.assert_close(X.grad, expected)


def test_dropout_keeps_floating_dtype():
    X = torch.ones(10, dtype=torch.float64)
    assert reg.dropout_layer(X, 0.3).dtype == torch.float64


@pytest.mark.parametrize(
    "dropout, error, message",
    [
        (1.5, ValueError, r"dropout must be a probability in \[0, 1\], got dropout=1.5"),
        (-0.1, ValueError, r"dropout must be a probability in \[0, 1\], got dropout=-0.1"),
        (float("nan"), ValueError, "dropout must be a number, got dropout=nan"),
        ("0.5", TypeError, "dropout must be a number, got dropout='0.5'"),
        (None, TypeError, "dropout must be a number, got dropout=None"),
    ],
)
def test_dropout_rejects_bad_probabilities(dropout, error, message):
    with pytest.raises(error, match=message):
        reg.dropout_layer(torch.ones(3), dropout)


def test_dropout_rejects_a_non_tensor():
    with pytest.raises(TypeError, match="X must be a torch.Tensor, got list"):
        reg.dropout_layer([1.0, 2.0], 0.5)


# --- the dropout networks --------------------------------------------------------------------


def _concise_copy_of(scratch):
    """dropout_mlp_concise() holding the same weights as a DropoutMLPScratch."""
    concise = reg.dropout_mlp_concise(scratch.dropout1, scratch.dropout2)
    concise[1].load_state_dict(scratch.lin1.state_dict())
    concise[4].load_state_dict(scratch.lin2.state_dict())
    concise[7].load_state_dict(scratch.lin3.state_dict())
    return concise


def test_eval_mode_is_deterministic_and_the_same_for_both_nets():
    torch.manual_seed(0)
    scratch = reg.DropoutMLPScratch()
    concise = _concise_copy_of(scratch)
    X = torch.rand(16, 1, 28, 28)
    scratch.eval(), concise.eval()
    out = scratch(X)
    assert out.shape == concise(X).shape == (16, 10)
    torch.testing.assert_close(out, scratch(X))
    torch.testing.assert_close(out, concise(X))
    # and equal to the network without any dropout
    plain = nn.Sequential(
        nn.Flatten(), scratch.lin1, nn.ReLU(), scratch.lin2, nn.ReLU(), scratch.lin3
    )
    torch.testing.assert_close(out, plain(X))


@pytest.mark.parametrize("make", [reg.DropoutMLPScratch, reg.dropout_mlp_concise])
def test_train_mode_is_stochastic(make):
    torch.manual_seed(0)
    net = make().train()
    X = torch.rand(16, 1, 28, 28)
    assert not torch.allclose(net(X), net(X))
    net.eval()
    torch.testing.assert_close(net(X), net(X))


def test_scratch_obeys_train_and_eval_not_a_constructor_flag():
    torch.manual_seed(0)
    net = reg.DropoutMLPScratch(dropout1=0.2, dropout2=1.0)
    X = torch.rand(4, 784)
    # dropout2 = 1 zeroes the second hidden layer, leaving only the output bias
    torch.testing.assert_close(net.train()(X), net.lin3.bias.expand(4, 10))
    assert not torch.allclose(net.eval()(X), net.lin3.bias.expand(4, 10))


def test_scratch_with_zero_dropout_is_the_same_in_both_modes():
    torch.manual_seed(0)
    net = reg.DropoutMLPScratch(dropout1=0.0, dropout2=0.0)
    X = torch.rand(4, 784)
    torch.testing.assert_close(net.train()(X), net.eval()(X))


def test_concise_has_the_book_layers_and_probabilities():
    net = reg.dropout_mlp_concise(0.3, 0.6)
    assert [type(m) for m in net] == [
        nn.Flatten,
        nn.Linear,
        nn.ReLU,
        nn.Dropout,
        nn.Linear,
        nn.ReLU,
        nn.Dropout,
        nn.Linear,
    ]
    assert (net[3].p, net[6].p) == (0.3, 0.6)
    assert "dropout1=0.2, dropout2=0.5" in repr(reg.DropoutMLPScratch())


def test_init_weights_is_the_book_normal_001():
    torch.manual_seed(0)
    net = reg.dropout_mlp_concise()
    assert abs(net[4].weight.std().item() - 0.01) < 2e-4  # 65,536 draws: 0.3% std error
    assert reg.init_weights(nn.ReLU()) is None  # other modules are left alone


@pytest.mark.parametrize(
    "make, kwargs, error, message",
    [
        (
            reg.DropoutMLPScratch,
            {"dropout1": 2},
            ValueError,
            r"dropout1 must be a probability in \[0, 1\], got dropout1=2",
        ),
        (reg.DropoutMLPScratch, {"dropout2": "0.5"}, TypeError, "dropout2 must be a number"),
        (reg.DropoutMLPScratch, {"num_hiddens1": 0}, ValueError, "num_hiddens1 must be >= 1"),
        (
            reg.dropout_mlp_concise,
            {"dropout1": -1},
            ValueError,
            r"dropout1 must be a probability in \[0, 1\], got dropout1=-1",
        ),
    ],
)
def test_networks_reject_bad_arguments(make, kwargs, error, message):
    with pytest.raises(error, match=message):
        make(**kwargs)


def test_dropout_scratch_mlp_refuses_inputs_with_the_wrong_feature_count():
    net = reg.DropoutMLPScratch().eval()
    with pytest.raises(ValueError, match=r"784 elements per example .*got shape \(2, 1, 14, 28\)"):
        net(torch.zeros(2, 1, 14, 28))
