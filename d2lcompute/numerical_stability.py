"""Numerical stability and initialisation (Book: §4.8), as three measurements.

- ``sigmoid_gradient``: sigmoid's derivative vanishes once |x| is a few units away from 0.
- ``random_matrix_product``: the product of 100 Gaussian 4 x 4 matrices explodes.
- ``activation_variances``: how the variance of the activations changes layer by layer in a
  deep stack of equal-width linear layers, under N(0, 1) weights, PyTorch's default or Xavier.
  Xavier picks sigma^2 = 2 / (n_in + n_out), so each layer multiplies the variance by
  n_in * sigma^2 = 1 when n_in = n_out; N(0, 1) multiplies it by n_in.

All take a ``seed`` so that the numbers can be repeated, without touching torch's global
random state. Relies on torch and ``d2lcompute.mlp``.
"""

import math

import torch
from torch import nn

from d2lcompute._checks import check_choice, check_int, check_number
from d2lcompute._seeding import generator as private_generator
from d2lcompute.multilayer_perceptrons import activation_grad

INITS = ("normal", "default", "xavier", "kaiming")
ACTIVATIONS = ("identity", "relu", "tanh")


def sigmoid_gradient(x=None):
    """Sigmoid and its derivative ``sigmoid(x) * (1 - sigmoid(x))``, through autograd.

    The derivative peaks at 0.25 at x = 0 and is below 1e-3 for |x| > 7: backpropagating
    through many saturated sigmoids multiplies such factors and the gradient vanishes.

    Args:
        x: 1-D floating tensor of points; default ``torch.arange(-8.0, 8.0, 0.1)`` as the book.

    Returns:
        ``(x, y, grad)``, detached tensors of the same shape.

    Book: §4.8.1

    Example::

        >>> x, y, grad = sigmoid_gradient(torch.tensor([0.0, 10.0]))
        >>> grad[0].item(), bool(grad[1] < 1e-4)
        (0.25, True)
    """
    if x is None:
        x = torch.arange(-8.0, 8.0, 0.1)
    y, grad = activation_grad(torch.sigmoid, x)
    return x.detach(), y, grad


def random_matrix_product(num_matrices=100, n=4, std=1.0, *, seed=None):
    """Multiply an ``n x n`` Gaussian matrix by ``num_matrices`` more, as §4.8 does.

    With N(0, 1) entries and n = 4, the norm grows by about e^0.56 per factor (the top
    Lyapunov exponent, ``(ln 2 + digamma(n / 2)) / 2``), so 101 factors reach ~1e24:
    gradients built from such products explode.

    Args:
        num_matrices: how many matrices multiply the first one (the book's 100).
        n: matrix size.
        std: standard deviation of the entries.
        seed: an integer fixes the matrices; ``None`` draws from torch's global generator.

    Returns:
        ``(first, product)``: the first matrix and the full product, each ``(n, n)``, in
        float64: float32 holds entries of 1e24, but their squares (for a norm) overflow.

    Book: §4.8.1

    Example::

        >>> first, M = random_matrix_product(seed=0)
        >>> bool(torch.linalg.matrix_norm(M) > 1e15)
        True
    """
    check_int("num_matrices", num_matrices, min_value=0)
    check_int("n", n, min_value=1)
    std = check_number("std", std, min_value=0, finite=True)
    generator = private_generator(seed)
    M = torch.normal(0, std, size=(n, n), generator=generator, dtype=torch.float64)
    first = M.clone()
    for _ in range(num_matrices):
        M = torch.mm(M, torch.normal(0, std, size=(n, n), generator=generator, dtype=torch.float64))
    return first, M


def activation_variances(
    init="xavier", num_layers=30, width=256, batch_size=256, activation="identity", *, seed=None
):
    """Variance of the activations after each layer of a deep stack of ``width x width`` layers.

    A batch of N(0, 1) inputs passes through ``num_layers`` linear layers (zero bias), each
    followed by ``activation``. The variance is taken over all the numbers a layer outputs.
    Computed in float64, so that the exploding case gives large finite numbers, not inf.

    Args:
        init: how the weights are drawn.
            ``"normal"``: N(0, 1), the scale of §4.8's matrices; the variance grows x width.
            ``"default"``: ``nn.Linear``'s own U(-1/sqrt(n_in), 1/sqrt(n_in)); it shrinks x1/3.
            ``"xavier"``: ``nn.init.xavier_normal_``, sigma^2 = 2 / (n_in + n_out).
            ``"kaiming"``: ``nn.init.kaiming_normal_`` for ReLU, sigma^2 = 2 / n_in.
        num_layers: depth of the stack.
        width: inputs and outputs of every layer.
        batch_size: number of random inputs.
        activation: ``"identity"`` (the book's derivation assumes no nonlinearity), ``"relu"``
            (halves the variance Xavier keeps; Kaiming's factor 2 restores it) or ``"tanh"``.
        seed: an integer fixes inputs and weights; ``None`` uses torch's global generator.

    Returns:
        1-D float64 tensor of ``num_layers + 1`` variances; entry 0 is the input's, entry l
        the output of layer l.

    Book: §4.8.2

    Example::

        >>> v = activation_variances("xavier", num_layers=20, seed=0)
        >>> bool(0.5 < v[-1] < 2)
        True
    """
    check_choice("init", init, INITS)
    check_int("num_layers", num_layers, min_value=1)
    check_int("width", width, min_value=1)
    check_int("batch_size", batch_size, min_value=2)  # a variance needs two numbers
    check_choice("activation", activation, ACTIVATIONS)
    generator = private_generator(seed)
    act = {"identity": lambda H: H, "relu": torch.relu, "tanh": torch.tanh}[activation]
    H = torch.randn(batch_size, width, generator=generator, dtype=torch.float64)
    variances = [H.var().item()]
    for _ in range(num_layers):
        W = _draw_weight(init, width, generator)  # (out, in), as nn.Linear stores it
        H = act(H @ W.T)  # (batch_size, width)
        variances.append(H.var().item())
    return torch.tensor(variances, dtype=torch.float64)


def _draw_weight(init, width, generator):
    W = torch.empty(width, width, dtype=torch.float64)
    if init == "normal":
        return nn.init.normal_(W, 0.0, 1.0, generator=generator)
    if init == "default":
        # nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(n_in), 1/sqrt(n_in))
        return nn.init.kaiming_uniform_(W, a=math.sqrt(5), generator=generator)
    if init == "xavier":
        return nn.init.xavier_normal_(W, generator=generator)
    return nn.init.kaiming_normal_(W, nonlinearity="relu", generator=generator)
