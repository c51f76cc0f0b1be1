"""Weight decay (Book: §4.5; d2l.ai 1.0: §3.7).

§4.5 fits a linear model with 200 inputs to only 20 examples, so it overfits, and shows that an
L2 penalty on the weights (``l2_penalty`` in ``train``, or the optimiser's ``weight_decay`` in
``train_concise``) shrinks ``‖w‖`` and lowers the test loss. Unlike the book's versions these
return their per-epoch losses and ``‖w‖`` and plot only when asked (``animate=True``), and
take a ``seed`` so a run can be repeated (the data and the training draw from two streams of
it, see ``_seeding.derived_seed``). Both run on the package's one loop, ``Trainer.fit``
(the model, its loss and its update adapted as a ``Module`` whose ``on_train_epoch_end``
measures the epoch), so a run whose loss becomes NaN or infinite (too large an ``lr``)
raises ``DivergenceError`` instead of returning NaN losses.

Relies on ``d2lcompute.data`` (``synthetic_data``, ``load_array``),
``d2lcompute.linear_regression`` (``linreg``, ``squared_loss``, ``sgd``), ``d2lcompute.metrics``
(``evaluate_loss``), ``d2lcompute.trainer`` and, for ``animate=True`` only,
``d2lcompute.live.animator``.
"""

import contextlib
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import nn

from d2lcompute._checks import check_int, check_lr, check_number, check_tensor
from d2lcompute._seeding import check_seed, derived_seed, seeded
from d2lcompute.base_classes import Module
from d2lcompute.data import load_array, synthetic_data
from d2lcompute.linear_regression import linreg, sgd, squared_loss
from d2lcompute.live.progress_board import ProgressBoard
from d2lcompute.metrics import evaluate_loss
from d2lcompute.trainer import Trainer


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
    check_seed(seed, optional=True)
    true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05
    with seeded(seed):
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
    check_tensor("w", w)
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

    Raises:
        DivergenceError: the loss became NaN or infinite (``lr`` too large).

    Book: §4.5

    Example::

        >>> d = high_dim_data(seed=0)
        >>> train(3, data=d, seed=0).w_norm[-1] < train(0, data=d, seed=0).w_norm[-1]
        True
    """
    check_number("lambd", lambd, min_value=0)
    num_epochs, lr, data = _check_run(num_epochs, lr, data, seed)
    with seeded(derived_seed(seed)):
        w, b = init_params(data.true_w.shape[0])
        net, loss = (lambda X: linreg(X, w, b)), squared_loss

        def batch_loss(X, y):
            # The penalty is a scalar that broadcasts over the batch: each example carries it,
            # and sgd divides the summed gradient by batch_size, leaving exactly lambd * w.
            return (loss(net(X), y) + lambd * l2_penalty(w)).sum()

        model = _Regression(net, batch_loss, _BookSGD([w, b], lr), lambda: w, loss)
        return _fit(model, data, num_epochs, animate)


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
    with seeded(derived_seed(seed)):
        net = nn.Sequential(nn.Linear(data.true_w.shape[0], 1))
        for param in net.parameters():
            nn.init.normal_(param)
        loss = nn.MSELoss()
        trainer = torch.optim.SGD(
            [{"params": net[0].weight, "weight_decay": wd}, {"params": net[0].bias}], lr=lr
        )

        model = _Regression(net, lambda X, y: loss(net(X), y), trainer, lambda: net[0].weight, loss)
        return _fit(model, data, num_epochs, animate)


def _fit(model, data, num_epochs, animate):
    """Train ``model`` for ``num_epochs`` epochs with ``Trainer.fit``; its history."""
    model.every = 5 if num_epochs >= 10 else 1  # the book draws every 5 epochs; short runs: each
    # `with` ends a terminal's progress bar even if the training is interrupted.
    with _animator(model.every, num_epochs) if animate else contextlib.nullcontext() as animator:
        model.animator, model.data = animator, data
        Trainer(max_epochs=num_epochs).fit(model, _Batches(data.train_iter))
    return model.history


class _Regression(Module):
    """§4.5's net, batch loss and update as a ``Module``; after each epoch it measures it.

    ``batch_loss(X, y)`` is what is backpropagated, ``optimizer`` applies it, ``weight()``
    is the weight whose norm is recorded, ``loss`` the per-example loss evaluated.
    """

    def __init__(self, net, batch_loss, optimizer, weight, loss):
        super().__init__()
        self.net, self.batch_loss, self.optimizer = net, batch_loss, optimizer
        self.weight, self.loss_fn = weight, loss
        self.board = ProgressBoard(display=False)  # the Animator draws, when asked to
        self.history = WeightDecayHistory()

    def training_step(self, batch):
        X, y = batch
        if isinstance(self.optimizer, _BookSGD):
            self.optimizer.batch_size = len(X)  # what the summed loss covered
        return self.batch_loss(X, y)

    def configure_optimizers(self):
        return self.optimizer

    def on_train_epoch_end(self, metrics):
        history, epoch = self.history, metrics["epoch"]
        history.train_loss.append(evaluate_loss(self.net, self.data.train_iter, self.loss_fn))
        history.test_loss.append(evaluate_loss(self.net, self.data.test_iter, self.loss_fn))
        with torch.no_grad():
            history.w_norm.append(torch.linalg.vector_norm(self.weight()).item())
        if self.animator is not None and (
            epoch % self.every == 0 or epoch == self.trainer.max_epochs
        ):
            self.animator.add(epoch, (history.train_loss[-1], history.test_loss[-1]))


class _BookSGD:
    """The book's ``sgd(params, lr, batch_size)`` as the optimizer ``Trainer`` steps."""

    def __init__(self, params, lr):
        self.params, self.lr, self.batch_size = params, lr, None

    def zero_grad(self):
        pass  # sgd zeroes the gradients after its step

    def step(self):
        sgd(self.params, self.lr, self.batch_size)


class _Batches:
    """``train_iter`` as a ``DataModule`` without validation batches."""

    def __init__(self, train_iter):
        self.train_iter = train_iter

    def train_dataloader(self):
        return self.train_iter

    def val_dataloader(self):
        return None


def _animator(every, num_epochs):
    from d2lcompute.live.animator import Animator  # matplotlib loads only when a plot is asked for

    return Animator(
        xlabel="epochs",
        ylabel="loss",
        yscale="log",
        xlim=[every, num_epochs],
        legend=["train", "test"],
    )


def _check_run(num_epochs, lr, data, seed):
    num_epochs = check_int("num_epochs", num_epochs, min_value=1)
    lr = check_lr(lr)
    check_seed(seed, optional=True)
    if data is None:
        data = high_dim_data(seed=seed)
    elif not isinstance(data, HighDimData):
        raise TypeError(
            f"data must be a HighDimData from high_dim_data() or None, got {type(data).__name__}"
        )
    return num_epochs, lr, data
