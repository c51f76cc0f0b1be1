"""Multilayer perceptrons (Book: §4.1-4.3): activations, the scratch MLP and the concise one.

§4.1 plots ReLU, sigmoid and tanh with their derivatives (``activation_grad``); §4.2 builds a
one-hidden-layer MLP from bare parameters (``relu``, ``MLPScratch``); §4.3 writes the same
model with ``nn.Sequential`` (``mlp_concise``, ``init_weights``). Both train on
Fashion-MNIST with ``d2l.train_ch3``. Relies on torch only.
"""

import torch
from torch import nn

from d2lcompute._checks import check_examples, check_int, check_tensor


def relu(X):
    """ReLU by hand, as §4.2 writes it: the elementwise maximum of ``X`` and 0.

    Shape:
        - X: any shape; output: same shape and dtype.

    Book: §4.2

    Example::

        >>> relu(torch.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    return torch.max(check_tensor("X", X), torch.zeros_like(X))


def activation_grad(activation, x):
    """An activation's values and its derivative at every point of ``x``, through autograd.

    §4.1 draws each activation next to its gradient. Because the activation acts elementwise,
    backpropagating ones gives ``d activation(x_i) / d x_i`` at every ``x_i`` in one pass.

    Args:
        activation: an elementwise function of a tensor (``torch.relu``, ``torch.sigmoid``...).
        x: 1-D floating tensor of input points.

    Returns:
        ``(y, grad)``: two detached tensors shaped like ``x``.

    Book: §4.1

    Example::

        >>> y, grad = activation_grad(torch.relu, torch.tensor([-1.0, 2.0]))
        >>> grad
        tensor([0., 1.])
    """
    if not callable(activation):
        raise TypeError(f"activation must be callable, got activation={activation!r}")
    if not (isinstance(x, torch.Tensor) and x.is_floating_point()):
        raise TypeError(f"x must be a floating-point torch.Tensor, got x={x!r}")
    x = x.detach().requires_grad_(True)  # a fresh leaf, so the caller's tensor is untouched
    y = activation(x)
    y.backward(torch.ones_like(y))
    return y.detach(), x.grad


class MLPScratch(nn.Module):
    """§4.2's multilayer perceptron from bare parameters: ``relu(X W1 + b1) W2 + b2``.

    The book keeps ``W1, b1, W2, b2`` as loose tensors and ``net`` as a function; as an
    ``nn.Module`` they are registered, so ``net.parameters()``, ``net.to(device)`` and
    ``state_dict`` see them, and the book's ``torch.optim.SGD(params, lr=lr)`` becomes
    ``torch.optim.SGD(net.parameters(), lr=lr)``.

    Args:
        num_inputs: features per example (784 = 28 x 28 pixels for Fashion-MNIST).
        num_outputs: number of classes.
        num_hiddens: width of the hidden layer.

    Shape:
        - Input: ``(N, *)`` with ``num_inputs`` elements per example, e.g. ``(N, 1, 28, 28)``.
        - Output: ``(N, num_outputs)`` logits.

    Attributes:
        W1: ``(num_inputs, num_hiddens)``, drawn from N(0, 0.01^2).
        b1: ``(num_hiddens,)``, zeros.
        W2: ``(num_hiddens, num_outputs)``, drawn from N(0, 0.01^2).
        b2: ``(num_outputs,)``, zeros.

    Book: §4.2

    Example::

        >>> net = MLPScratch()
        >>> net(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_inputs=784, num_outputs=10, num_hiddens=256):
        super().__init__()
        self.num_inputs = check_int("num_inputs", num_inputs, min_value=1)
        self.num_outputs = check_int("num_outputs", num_outputs, min_value=1)
        self.num_hiddens = check_int("num_hiddens", num_hiddens, min_value=1)
        self.W1 = nn.Parameter(torch.empty(num_inputs, num_hiddens))
        self.b1 = nn.Parameter(torch.empty(num_hiddens))
        self.W2 = nn.Parameter(torch.empty(num_hiddens, num_outputs))
        self.b2 = nn.Parameter(torch.empty(num_outputs))
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw the weights from N(0, 0.01^2) and zero the biases, as the book does."""
        # Small weights keep the first logits near 0, so the softmax starts almost uniform.
        nn.init.normal_(self.W1, std=0.01)
        nn.init.zeros_(self.b1)
        nn.init.normal_(self.W2, std=0.01)
        nn.init.zeros_(self.b2)

    def forward(self, X):
        check_examples("X", X, self.num_inputs)
        X = X.reshape(-1, self.num_inputs)  # (N, num_inputs): images lose their 2-D layout
        H = relu(X @ self.W1 + self.b1)  # (N, num_hiddens)
        return H @ self.W2 + self.b2  # (N, num_outputs)

    def extra_repr(self):
        return (
            f"num_inputs={self.num_inputs}, num_outputs={self.num_outputs}, "
            f"num_hiddens={self.num_hiddens}"
        )


def init_weights(m):
    """Draw an ``nn.Linear``'s weight from N(0, 0.01^2); leave other modules alone.

    Meant for ``net.apply(init_weights)``, which visits every submodule. Biases keep
    PyTorch's default initialisation, as in the book.

    Book: §4.3, §4.6
    """
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.01)


def mlp_concise(num_inputs=784, num_outputs=10, num_hiddens=256):
    """§4.3's MLP through the high-level API: Flatten, Linear, ReLU, Linear.

    The same model as ``MLPScratch``; weights are drawn by ``init_weights``.

    Shape:
        - Input: ``(N, *)`` with ``num_inputs`` elements per example.
        - Output: ``(N, num_outputs)`` logits.

    Book: §4.3

    Example::

        >>> mlp_concise()
        Sequential(
          (0): Flatten(start_dim=1, end_dim=-1)
          (1): Linear(in_features=784, out_features=256, bias=True)
          (2): ReLU()
          (3): Linear(in_features=256, out_features=10, bias=True)
        )
    """
    check_int("num_inputs", num_inputs, min_value=1)
    check_int("num_outputs", num_outputs, min_value=1)
    check_int("num_hiddens", num_hiddens, min_value=1)
    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(num_inputs, num_hiddens),
        nn.ReLU(),
        nn.Linear(num_hiddens, num_outputs),
    )
    net.apply(init_weights)
    return net
