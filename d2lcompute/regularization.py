"""Regularisation (Book: §4.5 weight decay, §4.6 dropout).

§4.5 fits a linear model with 200 inputs to only 20 examples, so it overfits, and shows that an
L2 penalty on the weights (``l2_penalty`` in ``train``, or the optimiser's ``weight_decay`` in
``train_concise``) shrinks ``‖w‖`` and lowers the test loss. Unlike the book's versions these
return their per-epoch losses and ``‖w‖`` and plot only when asked (``animate=True``), and
take a ``seed`` so a run can be repeated. §4.6 zeroes hidden units at random during training
(``dropout_layer``, ``DropoutMLPScratch``, ``dropout_mlp_concise``).

Relies on ``d2lcompute.data`` (``synthetic_data``, ``load_array``), ``d2lcompute.train``
(``linreg``, ``squared_loss``, ``sgd``, ``evaluate_loss``) and, for ``animate=True`` only,
``d2lcompute.plotting``.
"""

import contextlib
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from d2lcompute._checks import check_examples, check_int, check_number, check_probability
from d2lcompute.data import load_array, synthetic_data
from d2lcompute.mlp import init_weights  # §4.6 reuses §4.3's; d2l.regularization.init_weights
from d2lcompute.train import evaluate_loss, linreg, sgd, squared_loss

_MAX_SEED = 2**32 - 1  # torch's CPU generator keeps only 32 bits of a seed


def _train_seed(seed):
    """The seed of the training stream: independent of the data stream of the same ``seed``.

    Reusing ``seed`` itself would make ``init_params`` draw ``w`` equal to the first training
    example (both are the first 200 normal draws), which puts ``w`` in the span of the data
    and lets plain SGD shrink ``‖w‖`` (3.6 instead of ~14 without weight decay).
    """
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])


@contextlib.contextmanager
def _seeded(seed):
    """Run the block on torch's CPU generator seeded with ``seed``; restore it afterwards.

    ``seed=None`` leaves the global generator as it is (the book's behaviour).
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


# --- §4.5 Weight decay --------------------------------------------------------------------

class HighDimData(NamedTuple):
    """The data of §4.5's high-dimensional linear regression."""
    train_iter: torch.utils.data.DataLoader
    test_iter: torch.utils.data.DataLoader
    true_w: torch.Tensor
    true_b: float


def high_dim_data(n_train=20, n_test=100, num_inputs=200, batch_size=5, *, seed=None):
    """§4.5's data: ``y = 0.05 + sum_i 0.01 x_i + eps``, eps ~ N(0, 0.01^2), x ~ N(0, I).

    With 200 inputs and only 20 training examples, an unregularised linear model can fit the
    training set exactly and still miss the test set.

    Args:
        n_train, n_test: number of training and test examples.
        num_inputs: the input dimension d.
        batch_size: minibatch size of both iterators.
        seed: an integer in [0, 2**32) makes the data reproducible without touching torch's
            global random state; ``None`` draws from it, as the book does.

    Returns:
        ``HighDimData(train_iter, test_iter, true_w, true_b)``; ``train_iter`` shuffles.

    Book: §4.5
    """
    check_int("n_train", n_train, min_value=1)
    check_int("n_test", n_test, min_value=1)
    check_int("num_inputs", num_inputs, min_value=1)
    check_int("batch_size", batch_size, min_value=1)
    _check_seed(seed)
    true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05
    with _seeded(seed):
        train_data = synthetic_data(true_w, true_b, n_train)
        test_data = synthetic_data(true_w, true_b, n_test)
    train_iter = load_array(train_data, batch_size)
    test_iter = load_array(test_data, batch_size, is_train=False)
    return HighDimData(train_iter, test_iter, true_w, true_b)


def init_params(num_inputs=200):
    """Weights ``w`` ~ N(0, 1) of shape ``(num_inputs, 1)`` and a zero bias ``b`` of shape (1,).

    Book: §4.5
    """
    check_int("num_inputs", num_inputs, min_value=1)
    w = torch.normal(0, 1, size=(num_inputs, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]


def l2_penalty(w):
    """Half the squared L2 norm, ``sum(w**2) / 2``: the halving cancels the 2 of the derivative.

    Book: §4.5

    Example::

        >>> l2_penalty(torch.tensor([3.0, 4.0]))
        tensor(12.5000)
    """
    return torch.sum(w.pow(2)) / 2


@dataclass
class WeightDecayHistory:
    """What a weight-decay run measured after each epoch.

    Attributes:
        train_loss, test_loss: mean loss over the training and the test set.
        w_norm: the L2 norm ``‖w‖`` of the weight vector (the bias is left out).
    """
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    w_norm: list = field(default_factory=list)

    @property
    def epochs(self):
        """Epoch numbers 1, 2, ..., for plotting the lists against."""
        return list(range(1, len(self.train_loss) + 1))


def train(lambd, num_epochs=100, lr=0.003, *, data=None, seed=None, animate=False):
    """§4.5 from scratch: minibatch SGD on ``squared_loss + lambd * l2_penalty(w)``.

    Args:
        lambd: the regularisation constant λ >= 0; 0 switches weight decay off.
        num_epochs, lr: the book's 100 epochs at learning rate 0.003.
        data: a ``HighDimData``; ``None`` builds one with ``high_dim_data(seed=seed)``.
        seed: an integer in [0, 2**32) fixes the data (when built here), the initial ``w``
            and the minibatch order, without touching torch's global random state.
        animate: also draw train and test loss every 5 epochs with ``d2l.Animator``.

    Returns:
        A ``WeightDecayHistory``; ``history.w_norm[-1]`` is what the book prints.

    Book: §4.5

    Example::

        >>> d = high_dim_data(seed=0)
        >>> train(3, data=d, seed=0).w_norm[-1] < train(0, data=d, seed=0).w_norm[-1]
        True
    """
    check_number("lambd", lambd, min_value=0)
    num_epochs, lr, data = _check_run(num_epochs, lr, data, seed)
    with _seeded(_train_seed(seed)):
        w, b = init_params(data.true_w.shape[0])
        net, loss = (lambda X: linreg(X, w, b)), squared_loss

        def step(X, y):
            # The penalty is a scalar that broadcasts over the batch: each example carries it,
            # and sgd divides the summed gradient by batch_size, leaving exactly lambd * w.
            l = loss(net(X), y) + lambd * l2_penalty(w)
            l.sum().backward()
            sgd([w, b], lr, X.shape[0])

        return _fit(net, step, lambda: w, loss, data, num_epochs, animate)


def train_concise(wd, num_epochs=100, lr=0.003, *, data=None, seed=None, animate=False):
    """§4.5 concisely: ``nn.Linear`` and SGD whose ``weight_decay`` applies to the weight only.

    PyTorch decays every parameter in a group, so the weight and the bias go in two parameter
    groups and only the first gets ``weight_decay=wd``. The loss is ``nn.MSELoss()``, which
    lacks the 1/2 of ``squared_loss``, so its values are twice those of ``train``.

    Args:
        wd: the weight decay >= 0 (the λ of ``train``).
        num_epochs, lr, data, seed, animate: as in ``train``.

    Returns:
        A ``WeightDecayHistory``.

    Book: §4.5
    """
    check_number("wd", wd, min_value=0)
    num_epochs, lr, data = _check_run(num_epochs, lr, data, seed)
    with _seeded(_train_seed(seed)):
        net = nn.Sequential(nn.Linear(data.true_w.shape[0], 1))
        for param in net.parameters():
            nn.init.normal_(param)
        loss = nn.MSELoss()
        trainer = torch.optim.SGD([{"params": net[0].weight, "weight_decay": wd},
                                   {"params": net[0].bias}], lr=lr)

        def step(X, y):
            trainer.zero_grad()
            loss(net(X), y).backward()
            trainer.step()

        return _fit(net, step, lambda: net[0].weight, loss, data, num_epochs, animate)


def _fit(net, step, weight, loss, data, num_epochs, animate):
    """Run ``step`` on every minibatch for ``num_epochs`` epochs, recording a history."""
    history = WeightDecayHistory()
    every = 5 if num_epochs >= 10 else 1  # the book draws every 5 epochs; short runs: each
    # `with` ends a terminal's progress bar even if the training is interrupted.
    with _animator(every, num_epochs) if animate else contextlib.nullcontext() as animator:
        for epoch in range(num_epochs):
            for X, y in data.train_iter:
                step(X, y)
            history.train_loss.append(evaluate_loss(net, data.train_iter, loss))
            history.test_loss.append(evaluate_loss(net, data.test_iter, loss))
            with torch.no_grad():
                history.w_norm.append(torch.linalg.vector_norm(weight()).item())
            if animator is not None and ((epoch + 1) % every == 0 or epoch + 1 == num_epochs):
                animator.add(epoch + 1, (history.train_loss[-1], history.test_loss[-1]))
    return history


def _animator(every, num_epochs):
    from d2lcompute.plotting import Animator  # matplotlib loads only when a plot is asked for

    return Animator(xlabel="epochs", ylabel="loss", yscale="log", xlim=[every, num_epochs],
                    legend=["train", "test"])


def _check_run(num_epochs, lr, data, seed):
    num_epochs = check_int("num_epochs", num_epochs, min_value=1)
    lr = check_number("lr", lr)
    if lr <= 0:
        raise ValueError(f"lr must be > 0, got lr={lr!r}")
    _check_seed(seed)
    if data is None:
        data = high_dim_data(seed=seed)
    elif not isinstance(data, HighDimData):
        raise TypeError(f"data must be a HighDimData from high_dim_data() or None, "
                        f"got {type(data).__name__}")
    return num_epochs, lr, data


def _check_seed(seed):
    if seed is not None:
        check_int("seed", seed, min_value=0, max_value=_MAX_SEED)


# --- §4.6 Dropout ---------------------------------------------------------------------

def dropout_layer(X, dropout):
    """Zero each element of ``X`` with probability ``dropout``; scale the rest by 1/(1-dropout).

    The scaling keeps the expectation: ``E[dropout_layer(X, p)] = X``. ``dropout=0`` returns
    ``X`` itself and ``dropout=1`` returns zeros.

    Args:
        X: a tensor of any shape.
        dropout: the drop probability p in [0, 1].

    Shape:
        - X: any shape; output: same shape (floating point).

    Book: §4.6

    Example::

        >>> X = torch.ones(2, 4)
        >>> set(dropout_layer(X, 0.5).unique().tolist()) <= {0.0, 2.0}
        True
    """
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be a torch.Tensor, got {type(X).__name__}")
    dropout = check_probability("dropout", dropout)
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = torch.rand(X.shape, device=X.device) > dropout  # True with probability 1 - dropout
    return mask * X / (1.0 - dropout)


class DropoutMLPScratch(nn.Module):
    """§4.6's MLP with two hidden layers, each followed by ``dropout_layer`` in training.

    The book gives its ``Net`` an ``is_training`` flag; here dropout follows the module's own
    ``self.training``, so ``net.train()`` and ``net.eval()`` switch it on and off like
    ``nn.Dropout`` (``d2l.train_ch3`` and ``evaluate_accuracy`` call them).

    Args:
        num_inputs, num_outputs: features per example and number of classes.
        num_hiddens1, num_hiddens2: widths of the two hidden layers.
        dropout1, dropout2: drop probabilities after the first and the second hidden layer
            (lower near the input, as the book advises).

    Shape:
        - Input: ``(N, *)`` with ``num_inputs`` elements per example.
        - Output: ``(N, num_outputs)`` logits.

    Book: §4.6

    Example::

        >>> net = DropoutMLPScratch().eval()
        >>> net(torch.zeros(3, 1, 28, 28)).shape
        torch.Size([3, 10])
    """

    def __init__(self, num_inputs=784, num_outputs=10, num_hiddens1=256, num_hiddens2=256,
                 dropout1=0.2, dropout2=0.5):
        super().__init__()
        self.num_inputs = check_int("num_inputs", num_inputs, min_value=1)
        check_int("num_outputs", num_outputs, min_value=1)
        check_int("num_hiddens1", num_hiddens1, min_value=1)
        check_int("num_hiddens2", num_hiddens2, min_value=1)
        self.dropout1 = check_probability("dropout1", dropout1)
        self.dropout2 = check_probability("dropout2", dropout2)
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        check_examples("X", X, self.num_inputs)
        H1 = self.relu(self.lin1(X.reshape(-1, self.num_inputs)))  # (N, num_hiddens1)
        if self.training:
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))                               # (N, num_hiddens2)
        if self.training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)                                        # (N, num_outputs)

    def extra_repr(self):
        return f"dropout1={self.dropout1}, dropout2={self.dropout2}"


def dropout_mlp_concise(dropout1=0.2, dropout2=0.5):
    """§4.6 concisely: ``nn.Dropout`` after each hidden ReLU; weights from ``init_weights``.

    Shape:
        - Input: ``(N, *)`` with 784 elements per example.
        - Output: ``(N, 10)`` logits.

    Book: §4.6
    """
    dropout1 = check_probability("dropout1", dropout1)
    dropout2 = check_probability("dropout2", dropout2)
    net = nn.Sequential(nn.Flatten(),
                        nn.Linear(784, 256),
                        nn.ReLU(),
                        nn.Dropout(dropout1),
                        nn.Linear(256, 256),
                        nn.ReLU(),
                        nn.Dropout(dropout2),
                        nn.Linear(256, 10))
    net.apply(init_weights)
    return net
