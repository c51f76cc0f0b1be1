"""Tests for d2lcompute/numerical_stability.py (Book §4.8), against formulas derived independently:
sigmoid's derivative by hand, the Lyapunov exponent of Gaussian matrix products, and the
per-layer variance factor n_in * sigma^2 of a linear layer.
"""

import math

import pytest
import torch

from d2lcompute import numerical_stability as stability

EULER_GAMMA = 0.5772156649015329


# --- vanishing gradients ---------------------------------------------------------------------


def test_sigmoid_gradient_is_s_times_one_minus_s():
    x, y, grad = stability.sigmoid_gradient()
    torch.testing.assert_close(x, torch.arange(-8.0, 8.0, 0.1))
    torch.testing.assert_close(y, 1 / (1 + torch.exp(-x)))
    torch.testing.assert_close(grad, y * (1 - y))


def test_sigmoid_gradient_vanishes_away_from_zero():
    x, _, grad = stability.sigmoid_gradient(torch.linspace(-20, 20, 401))
    assert grad.max().item() == pytest.approx(0.25)  # the peak, at x = 0
    assert x[grad.argmax()].item() == pytest.approx(0.0, abs=1e-6)
    assert (grad[x.abs() > 7] < 1e-3).all()  # e^-7 = 9.1e-4
    assert (grad[x.abs() > 15] < 1e-6).all()


def test_sigmoid_gradient_rejects_integer_points():
    with pytest.raises(TypeError, match="x must be a floating-point torch.Tensor"):
        stability.sigmoid_gradient(torch.arange(5))


# --- exploding products ----------------------------------------------------------------------


def test_matrix_product_is_the_product_of_the_seeded_draws():
    first, M = stability.random_matrix_product(num_matrices=3, n=4, seed=5)
    g = torch.Generator().manual_seed(5)
    draws = [torch.normal(0, 1, size=(4, 4), generator=g, dtype=torch.float64) for _ in range(4)]
    torch.testing.assert_close(first, draws[0])
    torch.testing.assert_close(M, torch.linalg.multi_dot(draws))
    first0, M0 = stability.random_matrix_product(num_matrices=0, seed=5)
    assert torch.equal(first0, M0)


def test_matrix_product_grows_at_the_lyapunov_rate():
    # For n x n matrices of N(0, 1) entries, log ‖product of k matrices‖ / k tends to the top
    # Lyapunov exponent (ln 2 + digamma(n / 2)) / 2; for n = 4, digamma(2) = 1 - gamma,
    # so the rate is 0.558 and 101 factors reach e^56 ~ 1e24: the book's explosion.
    rate = (math.log(2) + 1 - EULER_GAMMA) / 2
    rates = [
        math.log(torch.linalg.matrix_norm(stability.random_matrix_product(seed=s)[1])) / 101
        for s in range(20)
    ]
    # One run's rate scatters by about 0.04; the mean of 20 by about 0.01.
    assert sum(rates) / len(rates) == pytest.approx(rate, abs=0.05)
    assert min(rates) * 101 > math.log(1e15)


def test_matrix_product_vanishes_for_small_entries():
    # std 0.5 shifts the rate by ln 0.5: 0.558 - 0.693 < 0, so the product shrinks.
    _, M = stability.random_matrix_product(std=0.5, seed=0)
    assert torch.linalg.matrix_norm(M) < 1e-2


def test_matrix_product_is_repeatable_and_keeps_the_global_generator():
    state = torch.get_rng_state()
    a = stability.random_matrix_product(seed=1)[1]
    assert torch.equal(a, stability.random_matrix_product(seed=1)[1])
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"num_matrices": -1}, ValueError, "num_matrices must be >= 0, got num_matrices=-1"),
        ({"n": 0}, ValueError, "n must be >= 1, got n=0"),
        ({"std": -1.0}, ValueError, "std must be >= 0, got std=-1.0"),
        ({"seed": "1"}, TypeError, "seed must be an integer"),
    ],
)
def test_matrix_product_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        stability.random_matrix_product(**kwargs)


# --- initialisation and activation variance ----------------------------------------------------


def _variances(init, activation="identity", num_layers=30, seed=0):
    return stability.activation_variances(
        init, num_layers=num_layers, width=128, batch_size=128, activation=activation, seed=seed
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_xavier_keeps_the_variance_over_30_layers(seed):
    v = _variances("xavier", seed=seed)
    assert len(v) == 31 and v.dtype == torch.float64
    assert v[0].item() == pytest.approx(1, abs=0.05)  # N(0, 1) input
    assert ((v > 0.5) & (v < 2)).all(), v


def test_normal_init_explodes_by_width_per_layer():
    # A linear layer multiplies the variance by n_in * sigma^2 = 128 * 1 (the book's
    # derivation of Var[o_i]); over 30 layers that is 128^30 ~ 1e63, finite in float64.
    v = _variances("normal")
    slope = (v[-1].log() - v[0].log()).item() / 30
    assert slope == pytest.approx(math.log(128), rel=0.05)
    assert v[-1] > 1e50


def test_default_linear_init_vanishes_by_a_third_per_layer():
    # nn.Linear draws U(-1/sqrt(n), 1/sqrt(n)): sigma^2 = 1 / (3n), so the factor is 1/3.
    v = _variances("default")
    slope = (v[-1].log() - v[0].log()).item() / 30
    assert slope == pytest.approx(math.log(1 / 3), rel=0.05)


def test_relu_halves_xavier_and_kaiming_restores_it():
    # With o ~ N(0, s^2), relu(o) has E[relu(o)^2] = s^2 / 2 and mean s / sqrt(2 pi), so its
    # variance is s^2 (1/2 - 1/(2 pi)) = 0.34 s^2; the next layer sees E[h^2] = s^2 / 2, so
    # under Xavier every layer halves the variance. Kaiming's sigma^2 = 2 / n_in undoes that.
    xavier = _variances("xavier", "relu", num_layers=20)
    assert xavier[1].item() == pytest.approx(0.5 - 1 / (2 * math.pi), abs=0.05)
    slope = (xavier[20].log() - xavier[1].log()).item() / 19
    assert slope == pytest.approx(math.log(0.5), rel=0.2)
    kaiming = _variances("kaiming", "relu", num_layers=20)
    assert ((kaiming > 0.1) & (kaiming < 10)).all(), kaiming


def test_variances_are_repeatable_and_keep_the_global_generator():
    state = torch.get_rng_state()
    a = _variances("xavier", num_layers=3, seed=4)
    assert torch.equal(a, _variances("xavier", num_layers=3, seed=4))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"init": "uniform"},
            ValueError,
            "init must be one of 'normal', 'default', 'xavier', 'kaiming'; got init='uniform'",
        ),
        ({"activation": "sigmoid"}, ValueError, "activation must be one of 'identity'"),
        ({"num_layers": 0}, ValueError, "num_layers must be >= 1, got num_layers=0"),
        ({"batch_size": 1}, ValueError, "batch_size must be >= 2, got batch_size=1"),
        ({"width": 3.0}, TypeError, "width must be an integer, got width=3.0"),
        ({"seed": -2}, ValueError, "seed must be >= 0, got seed=-2"),
    ],
)
def test_activation_variances_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        stability.activation_variances(**kwargs)


@pytest.mark.parametrize("std", [float("inf"), float("nan")])
def test_random_matrix_product_refuses_a_std_that_is_not_finite(std):
    with pytest.raises(ValueError, match=r"std must be"):
        stability.random_matrix_product(std=std, seed=0)
