"""house_prices.lasso: the lasso, its penalty chosen by folds of its own training rows."""

import torch

from d2lcompute.house_prices.lasso import fit_lasso


def test_lasso_with_a_tiny_penalty_is_least_squares():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(30, 4, generator=g)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]]) + 3 + 0.1 * torch.randn(30, 1, generator=g)
    rows = torch.arange(25)
    got = fit_lasso(X, y, rows, alphas=[1e-9])
    A = torch.cat([X, torch.ones(30, 1)], 1).double()
    coef = torch.linalg.lstsq(A[rows], y[rows].double()).solution  # oracle: least squares
    torch.testing.assert_close(got, (A @ coef)[:, 0].float(), rtol=1e-4, atol=1e-4)


def test_lasso_meets_its_optimality_conditions_and_picks_a_penalty_by_inner_folds():
    """At the lasso's minimum, |gradient| = alpha where w != 0 and <= alpha where w = 0."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(60, 8, generator=g)
    y = X[:, :2] @ torch.tensor([[1.5], [-1.0]]) + 0.3 * torch.randn(60, 1, generator=g)
    rows = torch.arange(50)
    alpha = 0.1
    preds = fit_lasso(X, y, rows, alphas=[alpha]).double()
    Xc = X[rows].double() - X[rows].double().mean(0)
    w = torch.linalg.lstsq(Xc, preds[rows] - preds[rows].mean()).solution  # the fitted weights
    grad = Xc.T @ (y[rows, 0].double() - preds[rows]) / len(rows)
    active = w.abs() > 1e-6
    assert 2 <= int(active.sum()) < 8  # the noise columns are dropped, the signal is kept
    torch.testing.assert_close(
        grad[active].abs(),
        torch.full((int(active.sum()),), alpha, dtype=torch.float64),
        atol=1e-4,
        rtol=0,
    )
    assert (grad[~active].abs() <= alpha + 1e-4).all()
    # with a choice, the inner folds prefer the small penalty to one that zeroes every weight
    chosen = fit_lasso(X, y, rows, alphas=[100.0, alpha])
    torch.testing.assert_close(chosen, preds.float())
