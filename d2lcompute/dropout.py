"""Dropout (Book: §4.6; d2l.ai 1.0: §5.6): hidden units zeroed at random during training.

``dropout_layer`` is the section's function, ``DropoutMLPScratch`` its two-hidden-layer net
from bare parameters and ``dropout_mlp_concise`` the same with ``nn.Dropout``.
"""

import torch
from torch import nn

from d2lcompute._checks import check_examples, check_int, check_probability
from d2lcompute.multilayer_perceptrons import init_weights  # §4.6 reuses §4.3's


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

    def __init__(
        self,
        num_inputs=784,
        num_outputs=10,
        num_hiddens1=256,
        num_hiddens2=256,
        dropout1=0.2,
        dropout2=0.5,
    ):
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
        H2 = self.relu(self.lin2(H1))  # (N, num_hiddens2)
        if self.training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)  # (N, num_outputs)

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
    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Dropout(dropout1),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Dropout(dropout2),
        nn.Linear(256, 10),
    )
    net.apply(init_weights)
    return net
