"""Tests for d2lcompute/regularization.py (Book §4.5 weight decay, §4.6 dropout).

Oracles: nn.Dropout for dropout statistics, the optimiser's ``weight_decay`` for l2_penalty,
and the book's own claims (weight decay shrinks ‖w‖ and lowers the test loss).
"""

import math

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from d2lcompute import regularization as reg



# --- dropout_layer ---------------------------------------------------------------------------

def test_dropout_zero_returns_x_and_one_returns_zeros():
    X = torch.arange(16, dtype=torch.float32).reshape(2, 8)
    assert reg.dropout_layer(X, 0) is X
    assert reg.dropout_layer(X, 0.0) is X
    out = reg.dropout_layer(X, 1.0)
    assert torch.equal(out, torch.zeros(2, 8)) and out.dtype == X.dtype


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.floats(-1e3, 1e3, allow_nan=False, width=32), min_size=1,
                       max_size=40),
       dropout=st.floats(0.01, 0.99))
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


@pytest.mark.parametrize("dropout, error, message", [
    (1.5, ValueError, r"dropout must be a probability in \[0, 1\], got dropout=1.5"),
    (-0.1, ValueError, r"dropout must be a probability in \[0, 1\], got dropout=-0.1"),
    (float("nan"), ValueError, "dropout must be a number, got dropout=nan"),
    ("0.5", TypeError, "dropout must be a number, got dropout='0.5'"),
    (None, TypeError, "dropout must be a number, got dropout=None"),
])
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
    plain = nn.Sequential(nn.Flatten(), scratch.lin1, nn.ReLU(), scratch.lin2, nn.ReLU(),
                          scratch.lin3)
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
    assert [type(m) for m in net] == [nn.Flatten, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear,
                                      nn.ReLU, nn.Dropout, nn.Linear]
    assert (net[3].p, net[6].p) == (0.3, 0.6)
    assert "dropout1=0.2, dropout2=0.5" in repr(reg.DropoutMLPScratch())


def test_init_weights_is_the_book_normal_001():
    torch.manual_seed(0)
    net = reg.dropout_mlp_concise()
    assert abs(net[4].weight.std().item() - 0.01) < 2e-4  # 65,536 draws: 0.3% std error
    assert reg.init_weights(nn.ReLU()) is None  # other modules are left alone


@pytest.mark.parametrize("make, kwargs, error, message", [
    (reg.DropoutMLPScratch, {"dropout1": 2}, ValueError,
     r"dropout1 must be a probability in \[0, 1\], got dropout1=2"),
    (reg.DropoutMLPScratch, {"dropout2": "0.5"}, TypeError, "dropout2 must be a number"),
    (reg.DropoutMLPScratch, {"num_hiddens1": 0}, ValueError, "num_hiddens1 must be >= 1"),
    (reg.dropout_mlp_concise, {"dropout1": -1}, ValueError,
     r"dropout1 must be a probability in \[0, 1\], got dropout1=-1"),
])
def test_networks_reject_bad_arguments(make, kwargs, error, message):
    with pytest.raises(error, match=message):
        make(**kwargs)


# --- weight decay ----------------------------------------------------------------------------

def test_high_dim_data_has_the_book_shapes_and_is_reproducible():
    state = torch.get_rng_state()
    a, b = reg.high_dim_data(seed=3), reg.high_dim_data(seed=3)
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is untouched
    X, y = a.train_iter.dataset.tensors
    assert X.shape == (20, 200) and y.shape == (20, 1)
    assert a.test_iter.dataset.tensors[0].shape == (100, 200)
    assert torch.equal(X, b.train_iter.dataset.tensors[0])
    assert not torch.equal(X, reg.high_dim_data(seed=4).train_iter.dataset.tensors[0])
    torch.testing.assert_close(a.true_w, torch.full((200, 1), 0.01))
    assert a.true_b == 0.05
    # y = X w + b + N(0, 0.01^2) noise: residuals have std about 0.01
    residual = y - (X @ a.true_w + a.true_b)
    assert residual.abs().max() < 0.05


def test_init_params_shapes():
    w, b = reg.init_params()
    assert w.shape == (200, 1) and b.shape == (1,)
    assert w.requires_grad and b.requires_grad and torch.count_nonzero(b) == 0


def test_l2_penalty_by_hand():
    assert reg.l2_penalty(torch.tensor([3.0, 4.0])).item() == 12.5


def test_l2_penalty_step_equals_the_optimizer_weight_decay():
    # One SGD step on loss + lambd * l2_penalty(w) must equal one step of SGD with
    # weight_decay=lambd on the loss alone: the penalty's gradient is lambd * w.
    torch.manual_seed(0)
    X, w0 = torch.randn(8, 5), torch.randn(5, 1)
    lambd, lr = 0.7, 0.1
    w1 = w0.clone().requires_grad_(True)
    ((X @ w1).square().mean() + lambd * reg.l2_penalty(w1)).backward()
    torch.optim.SGD([w1], lr=lr).step()
    w2 = w0.clone().requires_grad_(True)
    (X @ w2).square().mean().backward()
    torch.optim.SGD([w2], lr=lr, weight_decay=lambd).step()
    torch.testing.assert_close(w1, w2)


@pytest.fixture(scope="module")
def runs():
    """The book's four runs (100 epochs, lr 0.003) on one data set with one seed."""
    data = reg.high_dim_data(seed=0)
    return {(train.__name__, decay): train(decay, data=data, seed=0)
            for train in (reg.train, reg.train_concise) for decay in (0, 3)}


@pytest.mark.parametrize("name", ["train", "train_concise"])
def test_weight_decay_shrinks_w_and_lowers_the_test_loss(runs, name):
    free, decayed = runs[name, 0], runs[name, 3]
    # Without decay, w keeps most of its N(0, I) start: 20 examples constrain only 20 of
    # the 200 directions, so ‖w‖ stays near sqrt(200) = 14. With it, ‖w‖ falls below 1.
    assert free.w_norm[-1] > 10
    assert decayed.w_norm[-1] < free.w_norm[-1] / 10
    # Overfitting: near-zero training loss but a large test loss; decay fixes the test loss.
    assert free.train_loss[-1] < decayed.train_loss[-1]
    assert decayed.test_loss[-1] < free.test_loss[-1] / 10


def test_train_concise_decays_the_weight_but_not_the_bias(monkeypatch):
    groups = []

    class RecordingSGD(torch.optim.SGD):
        def __init__(self, params, **kwargs):
            super().__init__(params, **kwargs)
            groups.extend(self.param_groups)

    monkeypatch.setattr(torch.optim, "SGD", RecordingSGD)
    reg.train_concise(3, num_epochs=1, data=reg.high_dim_data(seed=0), seed=0)
    decay = {tuple(p.shape): g["weight_decay"] for g in groups for p in g["params"]}
    assert decay == {(1, 200): 3, (1,): 0}


def test_histories_have_one_entry_per_epoch(runs):
    history = runs["train", 3]
    assert history.epochs == list(range(1, 101))
    assert len(history.train_loss) == len(history.test_loss) == len(history.w_norm) == 100
    assert all(isinstance(v, float) for v in history.train_loss + history.w_norm)


def test_a_seed_repeats_a_run_and_leaves_the_global_generator_alone():
    data = reg.high_dim_data(seed=1)
    state = torch.get_rng_state()
    a = reg.train(3, num_epochs=5, data=data, seed=7)
    b = reg.train(3, num_epochs=5, data=data, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    assert a == b
    assert a != reg.train(3, num_epochs=5, data=data, seed=8)


def test_initial_w_is_not_a_training_example():
    # The training stream must not replay the data stream of the same seed (torch keeps
    # only 32 bits of a seed, so seed + 2**32 would replay it): w would equal X[0].
    data = reg.high_dim_data(seed=0)
    with reg._seeded(reg._train_seed(0)):
        w, _ = reg.init_params()
    X = data.train_iter.dataset.tensors[0]
    assert not torch.allclose(w.detach().squeeze(), X[0])


def test_animate_draws_without_changing_the_result(capsys):
    data = reg.high_dim_data(seed=2)
    quiet = reg.train_concise(3, num_epochs=6, data=data, seed=0)
    drawn = reg.train_concise(3, num_epochs=6, data=data, seed=0, animate=True)
    assert drawn == quiet
    assert capsys.readouterr().out == ""  # the progress bar goes to stderr, nothing printed


@pytest.mark.parametrize("train", [reg.train, reg.train_concise])
@pytest.mark.parametrize("kwargs, error, message", [
    ({"num_epochs": 0}, ValueError, "num_epochs must be >= 1, got num_epochs=0"),
    ({"num_epochs": 2.0}, TypeError, "num_epochs must be an integer"),
    ({"lr": 0}, ValueError, "lr must be > 0, got lr=0"),
    ({"lr": "fast"}, TypeError, "lr must be a number"),
    ({"seed": -1}, ValueError, "seed must be >= 0, got seed=-1"),
    ({"seed": 2**32}, ValueError, "seed must be <= 4294967295"),
    ({"data": (1, 2)}, TypeError, "data must be a HighDimData"),
])
def test_training_rejects_bad_arguments(train, kwargs, error, message):
    with pytest.raises(error, match=message):
        train(1, **kwargs)


@pytest.mark.parametrize("train, name", [(reg.train, "lambd"), (reg.train_concise, "wd")])
def test_negative_or_non_numeric_decay_is_rejected(train, name):
    with pytest.raises(ValueError, match=f"{name} must be >= 0, got {name}=-3"):
        train(-3)
    with pytest.raises(TypeError, match=f"{name} must be a number, got {name}='3'"):
        train("3")


@pytest.mark.parametrize("kwargs, message", [
    ({"n_train": 0}, "n_train must be >= 1"),
    ({"batch_size": 0}, "batch_size must be >= 1"),
    ({"seed": 1.5}, "seed must be an integer"),
])
def test_high_dim_data_rejects_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        reg.high_dim_data(**kwargs)


def test_dropout_scratch_mlp_refuses_inputs_with_the_wrong_feature_count():
    net = reg.DropoutMLPScratch().eval()
    with pytest.raises(ValueError, match=r"784 elements per example .*got shape \(2, 1, 14, 28\)"):
        net(torch.zeros(2, 1, 14, 28))
