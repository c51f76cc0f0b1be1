"""Classification on the class API (Book, d2l.ai 1.0: §4.2-4.5).

``FashionMNIST`` (§4.2) is the data module, ``Classifier`` (§4.3) the base class that
adds accuracy to validation, ``SoftmaxRegression`` (§4.5) the concise model.

``FashionMNIST`` serves the same in-memory batches as the Chinese edition's
``load_data_fashion_mnist``: the files are found (or downloaded and checked) in the same
data folder and decoded once per process; no worker processes are started, so
``num_workers`` changes nothing, on Windows and macOS too.
"""

import torch
from torch import nn
from torch.nn import functional as F

from d2lcompute._checks import check_int
from d2lcompute.base_classes import DataModule, Module


class FashionMNIST(DataModule):
    """Fashion-MNIST: 60,000 training and 10,000 validation images of clothes. Book: §4.2.

    Args:
        batch_size: examples per mini-batch.
        resize: ``(height, width)`` of the served images (bilinear, antialiased).
        root: the data folder (ours: None resolves as ``hub.data_dir``).
        num_workers: accepted; the in-memory loaders need no workers.

    Shape:
        A batch is ``X`` of shape ``(batch_size, 1, *resize)``, float32 in [0, 1], and
        ``y`` of shape ``(batch_size,)``, int64 in 0..9.
    """

    def __init__(self, batch_size=64, resize=(28, 28), root=None, num_workers=4):
        from d2lcompute.image_dataset import fashion_mnist

        super().__init__(root, num_workers)
        check_int("batch_size", batch_size, min_value=1)
        self.save_hyperparameters()
        self.train = fashion_mnist(True, resize, data_dir=root)
        self.val = fashion_mnist(False, resize, data_dir=root)

    def text_labels(self, indices):
        """The names of the class indices, e.g. ``[0, 9] -> ['t-shirt', 'ankle boot']``."""
        from d2lcompute.image_dataset import get_fashion_mnist_labels

        return get_fashion_mnist_labels(indices)

    def get_dataloader(self, train):
        from d2lcompute.data import BatchLoader

        return BatchLoader(self.train if train else self.val, self.batch_size, shuffle=train)

    def visualize(self, batch, nrows=1, ncols=8, labels=()):
        """Show the first ``nrows * ncols`` images of ``batch``, titled with their labels."""
        from d2lcompute.live.plotting import show_images

        X, y = batch
        if not labels:
            labels = self.text_labels(y)
        show_images(X.squeeze(1), nrows, ncols, titles=labels)  # returns nothing to print


class Classifier(Module):
    """Base class of classification models: cross-entropy loss, accuracy in validation. Book: §4.3.

    Shape:
        ``Y_hat`` is ``(..., num_classes)`` scores, ``Y`` the matching ``(...)`` labels.
    """

    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot("loss", self.loss(Y_hat, batch[-1]), train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat, Y, averaged=True):
        """The fraction of correct predictions (or one 0/1 per example if not ``averaged``)."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        if Y.numel() != len(Y_hat):
            raise ValueError(
                f"Y must hold one label per row of Y_hat: Y_hat has {len(Y_hat)} "
                f"rows, Y has shape {tuple(Y.shape)}"
            )
        preds = Y_hat.argmax(dim=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(torch.float32)
        return compare.mean() if averaged else compare

    def loss(self, Y_hat, Y, averaged=True):
        """Cross-entropy of the scores ``Y_hat`` against the labels ``Y``."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        return F.cross_entropy(Y_hat, Y.reshape((-1,)), reduction="mean" if averaged else "none")

    def layer_summary(self, X_shape):
        """Print each layer of ``self.net`` with its output's shape for an input of ``X_shape``."""
        X = torch.randn(*X_shape, device=next(self.parameters()).device)
        for layer in self.net:
            X = layer(X)
            print(type(layer).__name__, "output shape:\t", X.shape)


class SoftmaxRegression(Classifier):
    """Softmax regression: flatten, then one ``nn.LazyLinear(num_outputs)``. Book: §4.5.

    Shape:
        - Input ``X``: ``(n, ...)``, flattened to ``(n, d)``; output: ``(n, num_outputs)`` scores.
    """

    def __init__(self, num_outputs, lr):
        super().__init__()
        check_int("num_outputs", num_outputs, min_value=1)
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_outputs))

    def forward(self, X):
        return self.net(X)
