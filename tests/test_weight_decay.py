"""Weight decay (§4.5): l2_penalty against the optimizer's weight_decay, the harness."""

import pytest
import torch

from d2lcompute import weight_decay as reg
from d2lcompute.errors import DivergenceError

# --- dropout_layer ---------------------------------------------------------------------------

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
    return {
        (train.__name__, decay): train(decay, data=data, seed=0)
        for train in (reg.train, reg.train_concise)
        for decay in (0, 3)
    }


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
    from d2lcompute._seeding import derived_seed, seeded

    with seeded(derived_seed(0)):  # what train(seed=0) draws its weights from
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
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"num_epochs": 0}, ValueError, "num_epochs must be >= 1, got num_epochs=0"),
        ({"num_epochs": 2.0}, TypeError, "num_epochs must be an integer"),
        ({"lr": 0}, ValueError, "lr must be > 0, got lr=0"),
        ({"lr": "fast"}, TypeError, "lr must be a number"),
        ({"seed": -1}, ValueError, "seed must be >= 0, got seed=-1"),
        ({"seed": 2**32}, ValueError, "seed must be <= 4294967295"),
        ({"data": (1, 2)}, TypeError, "data must be a HighDimData"),
    ],
)
def test_training_rejects_bad_arguments(train, kwargs, error, message):
    with pytest.raises(error, match=message):
        train(1, **kwargs)


@pytest.mark.parametrize("train, name", [(reg.train, "lambd"), (reg.train_concise, "wd")])
def test_negative_or_non_numeric_decay_is_rejected(train, name):
    with pytest.raises(ValueError, match=f"{name} must be >= 0, got {name}=-3"):
        train(-3)
    with pytest.raises(TypeError, match=f"{name} must be a number, got {name}='3'"):
        train("3")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_train": 0}, "n_train must be >= 1"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"seed": 1.5}, "seed must be an integer"),
    ],
)
def test_high_dim_data_rejects_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        reg.high_dim_data(**kwargs)


@pytest.mark.parametrize("train", [reg.train, reg.train_concise])
def test_a_diverging_run_raises_instead_of_returning_nan(train):
    """Before: train(0, lr=1e3) returned train losses [nan, nan] without a word."""
    with pytest.raises(DivergenceError, match=r"training diverged at epoch \d+, batch \d+"):
        train(0, num_epochs=5, lr=1e3, data=reg.high_dim_data(seed=0), seed=0)
