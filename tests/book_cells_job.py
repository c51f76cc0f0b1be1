"""The English edition's own cells for §3.5, §4.5 and §5.6, which build ``nn.LazyLinear`` models.

tests/test_distributed_book_cells.py runs §4.5 and §5.6 under torchrun and in one process;
§3.5, on synthetic data, runs with tests/distributed_job.py.
``python -m torch.distributed.run --nproc-per-node 2 book_cells_job.py OUT`` writes
``OUT/rank<r>.pt``; ``results()`` gives the same dict in the calling process. The cells are
the book's, unchanged; only the data are smaller (Fashion-MNIST cut to a few batches, from
``$D2LCOMPUTE_DATA_DIR``) and the runs shorter.
"""

import os
import sys

import torch
from torch import nn

import d2lcompute as d2l
from d2lcompute import distributed

NUM_TRAIN, NUM_VAL = 600, 300  # Fashion-MNIST images kept: 3 and 2 batches of 256


class DropoutMLP(d2l.Classifier):  # §5.6, the book's concise implementation
    def __init__(self, num_outputs, num_hiddens_1, num_hiddens_2, dropout_1, dropout_2, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.LazyLinear(num_hiddens_1),
            nn.ReLU(),
            nn.Dropout(dropout_1),
            nn.LazyLinear(num_hiddens_2),
            nn.ReLU(),
            nn.Dropout(dropout_2),
            nn.LazyLinear(num_outputs),
        )


def _small(data):
    """``data`` (a ``d2l.FashionMNIST``) cut to its first images, for a test's time."""
    from d2lcompute.image_dataset import ImageTensorDataset

    for name, n in (("train", NUM_TRAIN), ("val", NUM_VAL)):
        full = getattr(data, name)
        setattr(data, name, ImageTensorDataset(full.images[:n], full.labels[:n], full.size))
    return data


def _result(model):
    return {
        "params": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "board": {k: [p.y for p in v] for k, v in model.board.data.items()},
    }


def linear_regression():  # §3.5
    d2l.set_seed(0)
    model = d2l.LinearRegression(lr=0.03)
    data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
    trainer = d2l.Trainer(max_epochs=3)
    trainer.fit(model, data)
    return _result(model)


def softmax_regression():  # §4.5
    d2l.set_seed(0)
    data = _small(d2l.FashionMNIST(batch_size=256))
    model = d2l.SoftmaxRegression(num_outputs=10, lr=0.1)
    trainer = d2l.Trainer(max_epochs=2)
    trainer.fit(model, data)
    return _result(model)


def dropout_mlp(dropout, max_epochs=2):  # §5.6
    d2l.set_seed(0)
    hparams = {
        "num_outputs": 10,
        "num_hiddens_1": 256,
        "num_hiddens_2": 256,
        "dropout_1": dropout,
        "dropout_2": dropout,
        "lr": 0.1,
    }
    model = DropoutMLP(**hparams)
    data = _small(d2l.FashionMNIST(batch_size=256))
    trainer = d2l.Trainer(max_epochs=max_epochs)
    trainer.fit(model, data)
    return _result(model)


def results():
    """The Fashion-MNIST cells (§3.5's, on synthetic data, is in distributed_job's results)."""
    return {
        "softmax_regression": softmax_regression(),
        "dropout_mlp": dropout_mlp(0),
        "dropout_mlp_0.5": dropout_mlp(0.5, max_epochs=1),
    }


if __name__ == "__main__":
    torch.save(results(), os.path.join(sys.argv[1], f"rank{distributed.rank()}.pt"))
