"""Tests for d2lcompute/multilayer_perceptrons.py (Book §4.1-4.3), against torch's own layers."""

import itertools
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from d2lcompute import multilayer_perceptrons as mlp

# --- relu and activation_grad ------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50))
def test_relu_matches_torch_relu(values):
    X = torch.tensor(values)
    assert torch.equal(mlp.relu(X), torch.relu(X))


def test_relu_keeps_shape_dtype_and_gradient():
    X = torch.tensor([[-2.0, 0.5], [3.0, -0.1]], dtype=torch.float64, requires_grad=True)
    Y = mlp.relu(X)
    assert Y.shape == X.shape and Y.dtype == torch.float64
    Y.sum().backward()
    assert torch.equal(X.grad, (X > 0).double())


@pytest.mark.parametrize(
    "activation, derivative",
    [
        (torch.sigmoid, lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))),
        (torch.tanh, lambda x: 1 - torch.tanh(x) ** 2),
        (torch.relu, lambda x: (x > 0).float()),
        (mlp.relu, lambda x: (x > 0).float()),
    ],
)
def test_activation_grad_matches_the_derivative_by_hand(activation, derivative):
    x = torch.arange(-8.0, 8.0, 0.1)
    y, grad = mlp.activation_grad(activation, x)
    torch.testing.assert_close(y, activation(x))
    torch.testing.assert_close(grad, derivative(x))
    assert x.grad is None and not x.requires_grad  # the caller's tensor is left alone


@pytest.mark.parametrize(
    "activation, x, error, message",
    [
        ("relu", torch.zeros(3), TypeError, "activation must be callable"),
        (torch.relu, [0.0, 1.0], TypeError, "x must be a floating-point torch.Tensor"),
        (torch.relu, torch.arange(3), TypeError, "x must be a floating-point torch.Tensor"),
    ],
)
def test_activation_grad_rejects_bad_input(activation, x, error, message):
    with pytest.raises(error, match=message):
        mlp.activation_grad(activation, x)


# --- MLPScratch and mlp_concise -----------------------------------------------------------


def test_scratch_parameters_are_registered_with_the_book_shapes():
    net = mlp.MLPScratch()
    shapes = {name: tuple(p.shape) for name, p in net.named_parameters()}
    assert shapes == {"W1": (784, 256), "b1": (256,), "W2": (256, 10), "b2": (10,)}
    assert sum(p.numel() for p in net.parameters()) == 784 * 256 + 256 + 256 * 10 + 10
    assert "num_hiddens=256" in repr(net)


def test_scratch_init_is_normal_001_with_zero_biases():
    torch.manual_seed(0)
    net = mlp.MLPScratch()
    # 200,704 draws: the sample std of N(0, 0.01^2) is within 1% of 0.01 (its relative
    # standard error is 1/sqrt(2n) = 0.16%).
    assert abs(net.W1.std().item() - 0.01) < 1e-4
    assert abs(net.W1.mean().item()) < 1e-4
    assert torch.count_nonzero(net.b1) == 0 and torch.count_nonzero(net.b2) == 0
    with torch.no_grad():
        net.W1.fill_(1.0)
    net.reset_parameters()
    assert net.W1.std().item() < 0.02


def test_scratch_forward_matches_torch_layers():
    torch.manual_seed(0)
    net = mlp.MLPScratch(num_inputs=12, num_outputs=3, num_hiddens=5)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_()  # nonzero biases too, so a forgotten bias would show
    X = torch.randn(4, 3, 4)  # (N, 3, 4) flattens to (N, 12)
    expected = nn.functional.linear(
        torch.relu(nn.functional.linear(X.reshape(4, 12), net.W1.T, net.b1)), net.W2.T, net.b2
    )
    torch.testing.assert_close(net(X), expected)


def test_concise_equals_scratch_with_the_same_weights():
    torch.manual_seed(0)
    scratch, concise = mlp.MLPScratch(), mlp.mlp_concise()
    with torch.no_grad():
        concise[1].weight.copy_(scratch.W1.T)  # nn.Linear stores (out, in)
        concise[1].bias.copy_(scratch.b1)
        concise[3].weight.copy_(scratch.W2.T)
        concise[3].bias.copy_(scratch.b2)
    X = torch.rand(8, 1, 28, 28)
    torch.testing.assert_close(concise(X), scratch(X))
    assert scratch(X).shape == concise(X).shape == (8, 10)


def test_concise_has_the_book_layers_and_init():
    torch.manual_seed(0)
    net = mlp.mlp_concise()
    assert [type(m) for m in net] == [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear]
    assert (net[1].in_features, net[1].out_features, net[3].out_features) == (784, 256, 10)
    # init_weights: std 0.01, far below nn.Linear's default U(-1/28, 1/28) (std 0.0206)
    assert abs(net[1].weight.std().item() - 0.01) < 1e-4


def test_init_weights_touches_only_linear_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(300, 400), nn.Conv2d(1, 2, 3))
    conv_before = net[1].weight.clone()
    bias_before = net[0].bias.clone()
    net.apply(mlp.init_weights)
    assert abs(net[0].weight.std().item() - 0.01) < 2e-4
    assert torch.equal(net[1].weight, conv_before)
    assert torch.equal(net[0].bias, bias_before)


@pytest.mark.parametrize("factory", [mlp.MLPScratch, mlp.mlp_concise])
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"num_hiddens": 0}, ValueError, "num_hiddens must be >= 1, got num_hiddens=0"),
        ({"num_inputs": 2.5}, TypeError, "num_inputs must be an integer, got num_inputs=2.5"),
        ({"num_outputs": True}, TypeError, "num_outputs must be an integer"),
    ],
)
def test_bad_sizes_are_rejected(factory, kwargs, error, message):
    with pytest.raises(error, match=message):
        factory(**kwargs)


# --- learning ------------------------------------------------------------------------------


def _blobs(n, num_inputs=20, num_classes=4, seed=0):
    """Gaussian blobs around well-separated class means: linearly separable in practice."""
    g = torch.Generator().manual_seed(seed)
    means = 3 * torch.randn(num_classes, num_inputs, generator=torch.Generator().manual_seed(99))
    y = torch.randint(0, num_classes, (n,), generator=g)
    return means[y] + torch.randn(n, num_inputs, generator=g), y


@pytest.mark.parametrize("factory", [mlp.MLPScratch, mlp.mlp_concise])
def test_mlp_learns_a_separable_task(factory):
    torch.manual_seed(0)
    X, y = _blobs(512)
    X_test, y_test = _blobs(512, seed=1)
    net = factory(num_inputs=20, num_outputs=4, num_hiddens=32)
    trainer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss()
    # Weights of std 0.01 give near-uniform softmax outputs: the loss starts near ln 4 = 1.39.
    assert loss(net(X_test), y_test) > 1.3
    for _ in range(20):
        for X_batch, y_batch in zip(X.split(32), y.split(32)):
            trainer.zero_grad()
            loss(net(X_batch), y_batch).backward()
            trainer.step()
    accuracy = (net(X_test).argmax(1) == y_test).float().mean()
    assert accuracy > 0.95


def test_scratch_mlp_learns_fashion_mnist_subset(real_data_dir):
    from d2lcompute import classic_loop, image_dataset, metrics

    torch.manual_seed(0)
    train_iter, test_iter = image_dataset.load_data_fashion_mnist(256, data_dir=real_data_dir)
    net = mlp.MLPScratch()
    # The book's loss and SGD at lr 0.1, on the first 100 batches (25,600 images).
    classic_loop.train_epoch_ch3(
        net,
        list(itertools.islice(train_iter, 100)),
        nn.CrossEntropyLoss(),
        torch.optim.SGD(net.parameters(), lr=0.1),
    )
    accuracy = metrics.evaluate_accuracy(net, list(itertools.islice(test_iter, 8)))
    assert accuracy > 0.6  # 10 classes: chance is 0.1


@pytest.mark.parametrize("shape", [(2, 1, 14, 28), (4, 392), (784,)])
def test_scratch_mlp_refuses_inputs_with_the_wrong_feature_count(shape):
    """reshape(-1, 784) turned 2 half images into 1 row: fewer outputs than examples."""
    with pytest.raises(
        ValueError,
        match=rf"X must have shape \(N, \*\) with 784 elements per "
        rf"example \(e\.g\. \(N, 784\)\), got shape "
        rf"{re.escape(str(shape))}",
    ):
        mlp.MLPScratch()(torch.zeros(shape))
    assert mlp.MLPScratch()(torch.zeros(3, 784)).shape == (3, 10)
