"""The Trainer (d2l.ai 1.0, §3.2/§3.4/§6.7): hooks by name, counters, divergence, display."""

import pytest
import torch
from torch import nn

import d2lcompute as d2l
from d2lcompute import live, trainer


class Regression(d2l.Module):
    def __init__(self, lr=0.05, num_inputs=3):
        super().__init__()
        self.save_hyperparameters()
        torch.manual_seed(0)
        self.net = nn.Linear(num_inputs, 1)

    def loss(self, y_hat, y):
        return ((y_hat - y) ** 2 / 2).mean()


def _data(num_train=64, num_val=32, batch_size=8):
    torch.manual_seed(1)
    return d2l.SyntheticRegressionData(
        torch.tensor([2.0, -3.4, 1.0]),
        4.2,
        num_train=num_train,
        num_val=num_val,
        batch_size=batch_size,
    )


def test_fit_trains_and_keeps_the_books_counters():
    model, data = Regression(), _data()
    t = d2l.Trainer(max_epochs=3)
    t.fit(model, data)
    assert (t.num_train_batches, t.num_val_batches) == (8, 4)
    assert (t.epoch, t.train_batch_idx, t.val_batch_idx) == (2, 24, 12)
    assert t.gpus == [] and model.trainer is t and t.model is model
    assert model.board.xlim == [0, 3]
    # two training points per epoch, one validation point per epoch, as the book plots
    assert len(model.board.data["train_loss"]) == 6 and len(model.board.data["val_loss"]) == 3
    assert model.board.data["val_loss"][-1].x == 3
    assert model.board.data["train_loss"][-1].y < model.board.data["train_loss"][0].y / 3


def test_val_loss_point_is_the_mean_of_the_validation_batches():
    model, data = Regression(), _data()
    d2l.Trainer(max_epochs=1).fit(model, data)
    with torch.no_grad():
        losses = [model.loss(model(X), y) for X, y in data.val_dataloader()]
    assert model.board.data["val_loss"][0].y == pytest.approx(float(torch.stack(losses).mean()))


def test_hooks_are_looked_up_when_called_so_add_to_class_replacements_work(monkeypatch):
    calls = []
    original = d2l.Trainer.prepare_batch

    def prepare_batch(self, batch):
        calls.append(len(batch[0]))
        return original(self, batch)

    monkeypatch.setattr(d2l.Trainer, "prepare_batch", d2l.Trainer.prepare_batch)
    d2l.add_to_class(d2l.Trainer)(prepare_batch)  # after the trainer exists, as book cells do
    t = d2l.Trainer(max_epochs=1)
    t.fit(Regression(), _data(num_train=16, num_val=8))
    assert calls == [8, 8, 8]  # two training batches, one validation batch


def test_a_data_module_without_validation_set_trains():
    class TrainOnly(d2l.DataModule):
        def __init__(self):
            super().__init__()
            self.batch_size = 4
            self.X, self.y = torch.randn(12, 3), torch.randn(12, 1)

        def get_dataloader(self, train):
            return self.get_tensorloader((self.X, self.y), train) if train else None

    model = Regression()
    t = d2l.Trainer(max_epochs=2)
    t.fit(model, TrainOnly())
    assert t.num_val_batches == 0 and t.val_batch_idx == 0
    assert list(model.board.data) == ["train_loss"]


def test_gradient_clipping_bounds_the_global_norm():
    model = Regression()
    X, y = torch.randn(8, 3) * 100, torch.randn(8, 1)
    model.loss(model(X), y).backward()
    assert torch.cat([p.grad.flatten() for p in model.parameters()]).norm() > 1
    d2l.Trainer(max_epochs=1).clip_gradients(1.0, model)
    norm = torch.cat([p.grad.flatten() for p in model.parameters()]).norm()
    assert norm == pytest.approx(1.0, rel=1e-4)


def test_num_gpus_uses_the_first_gpu_only_when_there_is_one(monkeypatch):
    assert d2l.Trainer(max_epochs=1, num_gpus=1).gpus == [] or torch.cuda.is_available()
    monkeypatch.setattr(trainer.devices, "num_gpus", lambda: 2)
    monkeypatch.setattr(trainer.devices, "gpu", lambda i=0: torch.device("meta", i))
    t = d2l.Trainer(max_epochs=1, num_gpus=4)
    assert t.gpus == [torch.device("meta", 0), torch.device("meta", 1)]
    batch = t.prepare_batch((torch.ones(1), torch.zeros(1)))
    assert all(a.device.type == "meta" for a in batch)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"max_epochs": 0}, ValueError, "max_epochs must be >= 1, got max_epochs=0"),
        ({"max_epochs": 2.0}, TypeError, "max_epochs must be an integer"),
        ({"max_epochs": 1, "num_gpus": -1}, ValueError, "num_gpus must be >= 0"),
        ({"max_epochs": 1, "gradient_clip_val": -1}, ValueError, "gradient_clip_val must be >= 0"),
    ],
)
def test_trainer_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        d2l.Trainer(**kwargs)


def test_fit_rejects_what_is_not_a_model_or_a_data_module():
    t = d2l.Trainer(max_epochs=1)
    with pytest.raises(TypeError, match=r"data must be a DataModule with train_dataloader\(\)"):
        t.fit(Regression(), [(torch.ones(1, 3), torch.ones(1, 1))])
    with pytest.raises(TypeError, match="model must be a d2l.Module"):
        t.fit(nn.Linear(3, 1), _data())

    class Generators(d2l.DataModule):
        def get_dataloader(self, train):
            return (b for b in [(torch.ones(1, 3), torch.ones(1, 1))])

    with pytest.raises(TypeError, match=r"train_dataloader\(\) must return a loader with a length"):
        t.fit(Regression(), Generators())


def test_a_training_step_that_returns_no_graph_is_a_clear_error():
    class Detached(Regression):
        def training_step(self, batch):
            return super().training_step(batch).item()

    with pytest.raises(TypeError, match="training_step must return the loss as a one-element"):
        d2l.Trainer(max_epochs=1).fit(Detached(), _data())


def test_a_diverging_run_stops_with_epoch_batch_and_last_finite_loss():
    model = Regression(lr=1e6)
    with pytest.raises(d2l.errors.DivergenceError) as info:
        d2l.Trainer(max_epochs=5).fit(model, _data())
    e = info.value
    assert e.epoch == 1 and 2 <= e.batch <= 8 and e.last_finite_loss > 0
    assert f"training diverged at epoch 1, batch {e.batch}" in str(e)
    assert "Try a smaller learning rate" in str(e)


def test_divergence_is_caught_when_a_book_cell_replaced_fit_epoch(monkeypatch):
    def fit_epoch(self):  # the book's §3.4 loop, which knows nothing of our watch
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

    monkeypatch.setattr(d2l.Trainer, "fit_epoch", fit_epoch)
    with pytest.raises(
        d2l.errors.DivergenceError, match=r"training \(train_loss\) diverged at epoch 1"
    ):
        d2l.Trainer(max_epochs=3).fit(Regression(lr=1e6), _data())


def test_no_device_read_per_batch(monkeypatch):
    reads = []
    for name in ("item", "__float__", "__int__", "__bool__"):
        original = getattr(torch.Tensor, name)
        monkeypatch.setattr(
            torch.Tensor,
            name,
            lambda self, *a, _o=original, _n=name: reads.append(_n) or _o(self, *a),
        )
    data = _data(num_train=256, num_val=32, batch_size=8)  # 32 training batches per epoch
    d2l.Trainer(max_epochs=2).fit(Regression(), data)
    # per epoch: 2 training points, 1 validation point, 1 read of the divergence watch and
    # the shuffle's seed (as DataLoader draws it), against 32 + 4 batches
    assert len(reads) <= 2 * 5, reads


def test_terminal_bar_moves_within_the_epoch_and_a_line_follows_each_epoch(monkeypatch, capsys):
    positions = []
    monkeypatch.setattr(live, "output_mode", lambda: "terminal")
    original = live.LiveFigure.update
    monkeypatch.setattr(
        live.LiveFigure,
        "update",
        lambda self, x, *args: positions.append(x) or original(self, x, *args),
    )
    d2l.Trainer(max_epochs=2).fit(Regression(), _data())
    assert 0.125 in positions and 0.5 in positions and 1.875 in positions  # batch 1, 4, 15 of 16
    err = capsys.readouterr().err
    assert "epoch 1/2: train_loss=" in err and "epoch 2/2: train_loss=" in err
    assert "val_loss=" in err and "figure saved to" in err


def test_in_a_log_each_epoch_is_one_plain_line(capsys):
    d2l.Trainer(max_epochs=2).fit(Regression(), _data())
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and "\r" not in err and len(lines) == 3
    assert lines[0].startswith("epoch 1/2: train_loss=") and "val_loss=" in lines[0]
    assert lines[1].startswith("epoch 2/2: train_loss=")
    assert lines[2].startswith("figure saved to ") and lines[2].endswith(".png")
