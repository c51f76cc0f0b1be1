"""Linear regression: the Chinese edition's functions (§3.2), the class API (en §3.3-3.5)."""

import pytest
import torch
from torch import nn

import d2lcompute as d2l


def test_synthetic_data_splits_and_follows_the_model():
    torch.manual_seed(0)
    data = d2l.SyntheticRegressionData(
        w=torch.tensor([2, -3.4]), b=4.2, noise=0.0, num_train=100, num_val=50, batch_size=10
    )
    assert data.X.shape == (150, 2) and data.y.shape == (150, 1)
    torch.testing.assert_close(data.y, data.X @ torch.tensor([[2.0], [-3.4]]) + 4.2)
    assert len(data.train_dataloader()) == 10 and len(data.val_dataloader()) == 5
    val = torch.cat([X for X, _ in data.val_dataloader()])
    torch.testing.assert_close(val, data.X[100:])  # validation rows, in order


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"w": torch.ones(2, 1)},
            ValueError,
            r"w must be a vector of weights, got a tensor of shape \(2, 1\)",
        ),
        ({"noise": -1.0}, ValueError, "noise must be >= 0"),
        ({"num_train": 0}, ValueError, "num_train must be >= 1"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
    ],
)
def test_synthetic_data_rejects_bad_arguments(kwargs, error, match):
    args = {"w": torch.tensor([1.0, 2.0]), "b": 0.0} | kwargs
    with pytest.raises(error, match=match):
        d2l.SyntheticRegressionData(**args)


def test_scratch_model_and_sgd_recover_the_weights():
    torch.manual_seed(0)
    data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
    model = d2l.LinearRegressionScratch(2, lr=0.03)
    d2l.Trainer(max_epochs=3).fit(model, data)
    assert isinstance(model.configure_optimizers(), d2l.SGD)
    torch.testing.assert_close(
        model.w.detach().reshape(-1), torch.tensor([2, -3.4]), atol=0.3, rtol=0
    )
    assert model.board.data["val_loss"][-1].y < 0.1


def test_sgd_steps_like_torch_sgd_and_zeroes_gradients():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    w_ref = w.detach().clone().requires_grad_()
    ours, ref = d2l.SGD([w], lr=0.1), torch.optim.SGD([w_ref], lr=0.1)
    for param in (w, w_ref):
        (param**2).sum().backward()
    ours.step(), ref.step()
    torch.testing.assert_close(w.detach(), w_ref.detach())
    ours.zero_grad()
    assert torch.equal(w.grad, torch.zeros(2))
    with pytest.raises(ValueError, match="lr must be > 0, got lr=0"):
        d2l.SGD([w], lr=0)


def test_concise_model_starts_from_the_books_small_weights_and_trains():
    torch.manual_seed(0)
    model = d2l.LinearRegression(lr=0.03)
    model(torch.randn(5, 2))
    w, b = model.get_w_b()
    assert w.shape == (1, 2) and w.abs().max() < 0.05 and torch.equal(b, torch.zeros(1))
    # the book sets the weights on the uninitialised parameter; torch then overwrites them
    book = nn.LazyLinear(1)
    book.weight.data.normal_(0, 0.01)
    book(torch.randn(5, 2))
    assert book.weight.abs().max() > 0.05  # so ours does it after the shapes are known

    data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
    model = d2l.LinearRegression(lr=0.03)
    d2l.Trainer(max_epochs=3).fit(model, data)
    w, b = model.get_w_b()
    torch.testing.assert_close(w.reshape(-1), torch.tensor([2, -3.4]), atol=0.05, rtol=0)
    assert abs(float(b) - 4.2) < 0.05
    assert isinstance(model.configure_optimizers(), torch.optim.SGD)


def test_linreg_is_matmul_plus_bias():
    X, w, b = torch.randn(5, 3), torch.randn(3, 1), torch.tensor([0.5])
    expected = torch.stack([sum(X[i, j] * w[j, 0] for j in range(3)) + 0.5 for i in range(5)])
    torch.testing.assert_close(d2l.linreg(X, w, b), expected.reshape(5, 1))


def test_squared_loss_by_hand_and_against_mse():
    y_hat = torch.tensor([[1.0], [3.0], [-2.0]])
    y = torch.tensor([2.0, 3.0, 0.0])  # (n,) labels are reshaped to (n, 1)
    torch.testing.assert_close(d2l.squared_loss(y_hat, y), torch.tensor([[0.5], [0.0], [2.0]]))
    a, b = torch.randn(7, 1), torch.randn(7)
    torch.testing.assert_close(
        d2l.squared_loss(a, b), nn.functional.mse_loss(a, b.reshape(7, 1), reduction="none") / 2
    )


@pytest.mark.parametrize("lr", [0.03, 0.5])
def test_sgd_step_equals_torch_sgd(lr):
    X, y = torch.randn(10, 4), torch.randn(10)
    w = torch.randn(4, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    w_ref, b_ref = w.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()

    d2l.squared_loss(d2l.linreg(X, w, b), y).sum().backward()
    d2l.sgd([w, b], lr, batch_size=10)

    optimizer = torch.optim.SGD([w_ref, b_ref], lr=lr)
    d2l.squared_loss(d2l.linreg(X, w_ref, b_ref), y).mean().backward()
    optimizer.step()

    torch.testing.assert_close(w, w_ref)
    torch.testing.assert_close(b, b_ref)
    assert torch.all(w.grad == 0) and torch.all(b.grad == 0)  # ready for the next batch


def test_sgd_rejects_parameter_without_gradient_and_bad_batch_size():
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"params\[0\] .* has no gradient"):
        d2l.sgd([w], 0.1, 4)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got batch_size=0"):
        d2l.sgd([w], 0.1, 0)


@pytest.mark.parametrize("lr", [0, -0.1, float("inf")])
def test_sgd_refuses_a_learning_rate_that_is_not_positive_and_finite(lr):
    w = torch.ones(2, requires_grad=True)
    w.sum().backward()
    with pytest.raises(ValueError, match=r"lr must be (> 0|finite), got lr="):
        d2l.sgd([w], lr, 1)
