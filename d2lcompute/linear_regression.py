"""Linear regression from scratch and concise, in both editions' APIs.

The Chinese edition's functions (§3.2): ``linreg``, ``squared_loss`` and ``sgd``. The
English edition's classes (d2l.ai 1.0: §3.3-3.5):
``SyntheticRegressionData`` (§3.3) draws ``y = Xw + b + noise``; ``LinearRegressionScratch``
and ``SGD`` (§3.4) build the model and the optimizer from bare tensors;
``LinearRegression`` (§3.5) is the same model from ``nn.LazyLinear`` and ``torch.optim.SGD``.

One change from the book: ``LinearRegression`` draws its initial weights from N(0, 0.01²)
once the lazy layer knows its input size. The book sets them on the uninitialised
parameter, and torch then overwrites them with its default initialisation on the first
call, so the book's model silently starts from other weights than its text says.
"""

import torch
from torch import nn

from d2lcompute._checks import check_int, check_lr, check_number, check_tensor
from d2lcompute.base_classes import DataModule, Module
from d2lcompute.hyperparameters import HyperParameters


def linreg(X, w, b):
    """The linear regression model ``Xw + b``. Book: §3.2.

    Shape:
        - X: ``(n, d)``, w: ``(d, 1)``, b: scalar or ``(1,)``; output ``(n, 1)``.
    """
    check_tensor("X", X, floating=True)
    if check_tensor("w", w, floating=True).dtype != X.dtype:
        raise TypeError(f"w has dtype {w.dtype} but X has {X.dtype}; make them match (w.float())")
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """Half the squared error per example, ``(y_hat - y)**2 / 2``. Book: §3.2.

    ``y`` is reshaped to ``y_hat``'s shape, so ``(n,)`` labels work with ``(n, 1)`` outputs.

    Example::

        >>> squared_loss(torch.tensor([[1.0], [3.0]]), torch.tensor([2.0, 3.0]))
        tensor([[0.5000],
                [0.0000]])
    """
    check_tensor("y_hat", y_hat)
    return (y_hat - check_tensor("y", y).reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """Minibatch stochastic gradient descent, in place. Book: §3.2.

    Each parameter moves by ``-lr * grad / batch_size`` (the loss was summed over the
    batch), then its gradient is zeroed for the next step.

    Args:
        params: tensors with ``requires_grad=True`` whose ``.grad`` is filled.
        lr: learning rate.
        batch_size: the number of examples the summed loss covered.
    """
    check_lr(lr)
    check_int("batch_size", batch_size, min_value=1)
    if isinstance(params, torch.Tensor) or not hasattr(params, "__iter__"):
        raise TypeError(f"params must be a list of tensors, e.g. [w, b], got params={params!r}")
    params = list(params)
    for i, param in enumerate(params):
        check_tensor(f"params[{i}]", param)
    with torch.no_grad():
        for i, param in enumerate(params):
            if param.grad is None:
                raise ValueError(
                    f"sgd: params[{i}] (shape {tuple(param.shape)}) has no gradient; "
                    "call backward() on a loss computed from it first"
                )
            param -= lr * param.grad / batch_size
            param.grad.zero_()


class SyntheticRegressionData(DataModule):
    """``num_train + num_val`` examples of ``y = Xw + b + noise`` with ``X ~ N(0, 1)``. Book: §3.3.

    Shape:
        ``self.X`` is ``(num_train + num_val, len(w))``, ``self.y`` is ``(num_train + num_val, 1)``;
        the first ``num_train`` rows are the training set, the rest the validation set.

    Example::

        >>> data = SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
        >>> X, y = next(iter(data.train_dataloader()))
        >>> X.shape, y.shape
        (torch.Size([32, 2]), torch.Size([32, 1]))
    """

    def __init__(self, w, b, noise=0.01, num_train=1000, num_val=1000, batch_size=32):
        super().__init__()
        w = torch.as_tensor(w, dtype=torch.get_default_dtype())
        if w.dim() != 1:
            raise ValueError(
                f"w must be a vector of weights, got a tensor of shape {tuple(w.shape)}"
            )
        check_number("noise", noise, min_value=0)
        check_int("num_train", num_train, min_value=1)
        check_int("num_val", num_val, min_value=0)
        check_int("batch_size", batch_size, min_value=1)
        self.save_hyperparameters()
        n = num_train + num_val
        self.X = torch.randn(n, len(w))
        noise = torch.randn(n, 1) * noise
        self.y = torch.matmul(self.X, w.reshape((-1, 1))) + b + noise

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


class LinearRegressionScratch(Module):
    """Linear regression from bare tensors: ``w ~ N(0, sigma²)``, ``b = 0``. Book: §3.4.

    Shape:
        - Input ``X``: ``(n, num_inputs)``; output: ``(n, 1)``.
    """

    def __init__(self, num_inputs, lr, sigma=0.01):
        super().__init__()
        check_int("num_inputs", num_inputs, min_value=1)
        check_lr(lr)
        self.save_hyperparameters()
        # Parameters rather than the book's bare tensors: Trainer(num_gpus=1) moves them
        # with the model, and state_dict() saves them.
        self.w = nn.Parameter(torch.normal(0, sigma, (num_inputs, 1)))
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return torch.matmul(X, self.w) + self.b

    def loss(self, y_hat, y):
        """Half the squared error, averaged over the batch."""
        return ((y_hat - y.reshape(y_hat.shape)) ** 2 / 2).mean()

    def configure_optimizers(self):
        return SGD([self.w, self.b], self.lr)


class SGD(HyperParameters):
    """Minibatch stochastic gradient descent on bare tensors. Book: §3.4.

    ``step`` moves each parameter by ``-lr * grad`` (the loss is a batch mean);
    ``zero_grad`` clears the gradients before the next backward pass.
    """

    def __init__(self, params, lr):
        params = list(params)
        check_lr(lr)
        self.save_hyperparameters()

    def step(self):
        with torch.no_grad():
            for param in self.params:
                if param.grad is not None:
                    param -= self.lr * param.grad

    def zero_grad(self):
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()


class LinearRegression(Module):
    """Linear regression with ``nn.LazyLinear(1)``, trained with ``torch.optim.SGD``. Book: §3.5.

    Shape:
        - Input ``X``: ``(n, d)`` with ``d`` read on the first call; output: ``(n, 1)``.
    """

    def __init__(self, lr):
        super().__init__()
        check_lr(lr)
        self.save_hyperparameters()
        self.net = nn.LazyLinear(1)
        self._init_hook = self.net.register_forward_pre_hook(self._init_weights)

    def _init_weights(self, module, inputs):
        # Runs after LazyLinear's own hook has given the parameters their shape.
        with torch.no_grad():
            module.weight.normal_(0, 0.01)
            module.bias.fill_(0)
        self._init_hook.remove()

    def forward(self, X):
        return self.net(X)

    def loss(self, y_hat, y):
        """The mean squared error (without the book's scratch version's factor 1/2)."""
        return nn.functional.mse_loss(y_hat, y.reshape(y_hat.shape))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), self.lr)

    def get_w_b(self):
        """The learned weight ``(1, d)`` and bias ``(1,)``, detached."""
        return self.net.weight.detach(), self.net.bias.detach()
