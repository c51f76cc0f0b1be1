"""The Trainer (d2l.ai 1.0, §3.2/§3.4/§6.7): hooks by name, counters, divergence, display."""

import re

import pytest
import torch
from torch import nn

import d2lcompute as d2l
from d2lcompute import checkpoints, io, trainer
from d2lcompute.checkpoints import CheckpointError
from d2lcompute.live import figure


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
    monkeypatch.setattr(figure, "output_mode", lambda: "terminal")
    original = figure.LiveFigure.update
    monkeypatch.setattr(
        figure.LiveFigure,
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


# ---- the end of an epoch: hooks ------------------------------------------------------------


def test_an_epoch_hook_replaced_with_add_to_class_gets_the_epochs_metrics(monkeypatch):
    seen = []
    # monkeypatch restores the class after the test; add_to_class replaces the hook as a cell does
    monkeypatch.setattr(d2l.Trainer, "on_train_epoch_end", d2l.Trainer.on_train_epoch_end)

    @d2l.add_to_class(d2l.Trainer)
    def on_train_epoch_end(self, metrics):
        seen.append((self.epoch, dict(metrics)))

    model = Regression()
    d2l.Trainer(max_epochs=2).fit(model, _data())
    assert [epoch for epoch, _ in seen] == [0, 1]
    for i, (_, metrics) in enumerate(seen):
        assert set(metrics) == {"epoch", "train_loss", "val_loss", "seconds"}
        assert metrics["epoch"] == i + 1 and metrics["seconds"] > 0
        assert metrics["val_loss"] == model.board.data["val_loss"][i].y  # the plotted points
        assert metrics["train_loss"] == model.board.data["train_loss"][2 * i + 1].y


def test_the_models_epoch_hook_is_called_after_each_epoch_and_may_add_metrics(capsys):
    class Measured(Regression):
        def on_train_epoch_end(self, metrics):
            metrics["w_norm"] = float(self.net.weight.detach().norm())
            self.seen.append(dict(metrics))

    model = Measured()
    model.seen = []
    d2l.Trainer(max_epochs=2).fit(model, _data())
    assert [m["epoch"] for m in model.seen] == [1, 2]
    assert model.seen[-1]["w_norm"] == float(model.net.weight.detach().norm())


def test_a_metric_the_hook_finds_not_finite_stops_the_run():
    class Infinite(Regression):
        def on_train_epoch_end(self, metrics):
            metrics["valid_rmse"] = float("inf") if metrics["epoch"] == 2 else 1.0

    with pytest.raises(d2l.errors.DivergenceError, match=r"training \(valid_rmse\) .* epoch 2"):
        d2l.Trainer(max_epochs=3).fit(Infinite(), _data())


# ---- resumable runs: Trainer(checkpoint=...) ----------------------------------------------


def test_a_resumed_run_ends_bit_identical_to_an_uninterrupted_one(tmp_path):
    straight = Regression()
    d2l.Trainer(max_epochs=3, checkpoint=tmp_path / "a.pt").fit(straight, _data())

    d2l.Trainer(max_epochs=1, checkpoint=tmp_path / "b.pt").fit(Regression(), _data())
    # "a crash": new objects, and a random state that is not the run's (shuffles draw on it)
    resumed, data = Regression(), _data()
    torch.manual_seed(123)
    trainer = d2l.Trainer(max_epochs=3, checkpoint=tmp_path / "b.pt")
    trainer.fit(resumed, data)
    assert trainer.start_epoch == 1 and (trainer.train_batch_idx, trainer.val_batch_idx) == (24, 12)
    for name, tensor in straight.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], tensor), name
    assert resumed.board.data == straight.board.data  # the curves continue where they stopped
    assert io.load(tmp_path / "b.pt")["epoch"] == 3

    # asked for no more epochs than it holds, a run trains nothing and changes nothing
    before = (tmp_path / "b.pt").read_bytes()
    again = Regression()
    d2l.Trainer(max_epochs=3, checkpoint=tmp_path / "b.pt").fit(again, _data())
    assert torch.equal(again.net.weight, straight.net.weight)
    assert (tmp_path / "b.pt").read_bytes() == before


def test_a_checkpoint_of_another_run_is_refused_and_resume_false_starts_afresh(tmp_path):
    path = tmp_path / "run.pt"
    d2l.Trainer(max_epochs=1, checkpoint=path).fit(Regression(lr=0.05), _data())
    model = Regression(lr=0.1)
    before = model.net.weight.clone()
    with pytest.raises(
        CheckpointError, match=r"belongs to another run: it was saved with lr 0.05 \(now 0.1\)"
    ):
        d2l.Trainer(max_epochs=2, checkpoint=path).fit(model, _data())
    assert torch.equal(model.net.weight, before)  # nothing was loaded

    trainer = d2l.Trainer(max_epochs=1, checkpoint=path, resume=False)
    trainer.fit(model, _data())
    assert trainer.start_epoch == 0
    assert io.load(path)["extra"]["settings"]["hparams"]["lr"] == 0.1

    checkpoints.save_checkpoint(path, model.net)  # not a Trainer's run
    with pytest.raises(CheckpointError, match=r"was not saved by a Trainer\(checkpoint=...\) run"):
        d2l.Trainer(max_epochs=2, checkpoint=path).fit(Regression(lr=0.1), _data())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"checkpoint": 3}, "checkpoint must be a file path (str or os.PathLike) or None"),
        ({"resume": "yes"}, "resume must be True or False, got resume='yes'"),
    ],
)
def test_checkpoint_arguments_are_checked(kwargs, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        d2l.Trainer(max_epochs=1, **kwargs)
