"""The small training runs that tests/test_distributed.py starts under torchrun and in one process.

``python -m torch.distributed.run --nproc-per-node 2 distributed_job.py OUT`` writes
``OUT/rank<r>.pt``; ``results()`` gives the same dict in the calling process. With
``--trainer`` only the class-API run trains; with ``--fail-on-rank R`` too, and rank R
raises in its third step.
"""

import os
import sys
import time

import book_cells_job
import torch
from torch import nn

import d2lcompute as d2l
from d2lcompute import distributed
from d2lcompute.errors import DivergenceError

# 33 examples in batches of 8: 8, 8, 8, 8, 1. Under 2 ranks the shares are 4/4 and, for the
# last batch, 1/0: an empty share, and a mean over unequal shares in the other ranks' sense.
NUM_EXAMPLES, BATCH_SIZE, NUM_EPOCHS = 33, 8, 3


def _data():
    generator = torch.Generator().manual_seed(7)
    X = torch.randn(NUM_EXAMPLES, 5, generator=generator)
    y = (X[:, 0] + X[:, 1] > 0).long() + (X[:, 2] > 1).long()  # 3 classes
    return X, y


class _Classifier(d2l.Module):
    """The class API's path: Trainer.fit, Module.plot, DataModule.get_tensorloader."""

    def __init__(self, fail_on_rank=None):
        super().__init__(plot_train_per_epoch=5)
        self.net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
        self.lr, self.fail_on_rank, self.steps = 0.3, fail_on_rank, 0

    def loss(self, y_hat, y):
        return nn.functional.cross_entropy(y_hat, y)

    def training_step(self, batch):
        self.steps += 1
        if self.steps == 3 and self.fail_on_rank == distributed.rank():
            # the time lets the test see how soon after the failure the launch ends
            raise RuntimeError(f"rank {self.fail_on_rank} failed on purpose at {time.time()}")
        return super().training_step(batch)


class _Data(d2l.DataModule):
    def __init__(self):
        super().__init__()
        self.batch_size = BATCH_SIZE
        self.X, self.y = _data()

    def get_dataloader(self, train):
        return self.get_tensorloader((self.X, self.y), train)


def results():
    """Train three ways from seed 0; return the parameters, histories and board points."""
    X, y = _data()
    out = {
        "pid": os.getpid(),
        "trainer": trainer_run(),
        "book_fit_epoch": trainer_run(trainer_class=_BookTrainer),
        "diverged": diverging_run(),
        "dropout_masks": dropout_masks(),
        "lazy_linear_regression": book_cells_job.linear_regression(),  # §3.5's cell
        "evaluation": evaluation(),
    }

    # train_ch3 with an optimizer and a mean loss
    d2l.set_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    train_iter = d2l.load_array((X, y), BATCH_SIZE)
    test_iter = d2l.load_array((X, y), BATCH_SIZE, is_train=False)
    history = d2l.train_ch3(
        net,
        train_iter,
        test_iter,
        nn.CrossEntropyLoss(),
        NUM_EPOCHS,
        torch.optim.SGD(net.parameters(), lr=0.3),
        device="cpu",
    )
    out["optimizer"] = {"params": net.state_dict(), "history": dict(history)}

    # train_ch3 with per-example losses and the book's sgd(params, lr, batch_size)
    d2l.set_seed(0)
    net = nn.Sequential(nn.Linear(5, 3))
    history = d2l.train_ch3(
        net,
        train_iter,
        test_iter,
        nn.CrossEntropyLoss(reduction="none"),
        NUM_EPOCHS,
        lambda n: d2l.sgd(net.parameters(), 0.3, n),
        "cpu",
    )
    out["sgd"] = {"params": net.state_dict(), "history": dict(history)}
    return out


class _BookTrainer(d2l.Trainer):
    def fit_epoch(self):
        """The book's §3.4 cell, which calls training_step and backward itself."""
        self.model.train()
        for batch in self.train_dataloader:
            loss = self.model.training_step(self.prepare_batch(batch))
            self.optim.zero_grad()
            with torch.no_grad():
                loss.backward()
                self.optim.step()
            self.train_batch_idx += 1
        self.model.eval()
        for batch in self.val_dataloader:
            with torch.no_grad():
                self.model.validation_step(self.prepare_batch(batch))
            self.val_batch_idx += 1


def evaluation():
    """``evaluate_accuracy`` and ``evaluate_loss`` of a fixed net, and the rows it was given."""
    d2l.set_seed(0)
    net = nn.Sequential(nn.Linear(5, 3))
    rows = []
    net.register_forward_hook(lambda module, inputs, output: rows.append(len(inputs[0])))
    X, y = _data()
    test_iter = d2l.load_array((X, y), BATCH_SIZE, is_train=False)
    return {
        "accuracy": d2l.evaluate_accuracy(net, test_iter),
        "loss": d2l.evaluate_loss(net, test_iter, nn.CrossEntropyLoss(reduction="none")),
        "mean_loss": d2l.evaluate_loss(net, test_iter, nn.CrossEntropyLoss()),
        "rows": sum(rows),
    }


def dropout_masks():
    """The first dropout mask of a training step in each of 2 epochs."""
    masks = []

    class Masked(_Classifier):
        def training_step(self, batch):
            if self.trainer.train_batch_idx % self.trainer.num_train_batches == 0:
                masks.append(torch.nn.functional.dropout(torch.ones(16), 0.5))
            return super().training_step(batch)

    d2l.set_seed(0)
    d2l.Trainer(max_epochs=2).fit(Masked(), _Data())
    return masks


def diverging_run():
    """The class API with a learning rate that diverges: where the run stops."""
    d2l.set_seed(0)
    model = _Classifier()
    model.lr = 1e30
    try:
        d2l.Trainer(max_epochs=NUM_EPOCHS).fit(model, _Data())
    except DivergenceError as e:
        return e.epoch, e.batch
    return None


def trainer_run(fail_on_rank=None, trainer_class=d2l.Trainer):
    """The class API from seed 0: its parameters and board points."""
    d2l.set_seed(0)
    model = _Classifier(fail_on_rank)
    trainer_class(max_epochs=NUM_EPOCHS).fit(model, _Data())
    return {
        "params": model.state_dict(),
        "board": {k: [p.y for p in v] for k, v in model.board.data.items()},
    }


if __name__ == "__main__":
    folder = sys.argv[1]
    if sys.argv[2:3] == ["--fail-on-rank"]:
        result = trainer_run(fail_on_rank=int(sys.argv[3]))
    elif sys.argv[2:3] == ["--trainer"]:
        result = {"trainer": trainer_run()}
    else:
        result = results()
    torch.save(result, os.path.join(folder, f"rank{distributed.rank()}.pt"))
