"""The English edition's base classes (d2l.ai 1.0, §3.2): add_to_class, HyperParameters,
ProgressBoard, Module, DataModule."""

import math

import numpy as np
import pytest
import torch
from torch import nn

import d2lcompute as d2l
from d2lcompute.live.progress_board import Point

# ---- add_to_class and HyperParameters --------------------------------------------------------


def test_add_to_class_adds_and_replaces_methods_of_existing_objects():
    class A:
        def __init__(self):
            self.b = 1

    a = A()

    @d2l.add_to_class(A)
    def do(self):
        return self.b + 1

    assert a.do() == 2  # an object made before the method was added has it too

    @d2l.add_to_class(A)
    def do(self):  # noqa: F811 - the book redefines methods this way
        return self.b + 10

    assert a.do() == 11


def test_add_to_class_needs_a_class():
    with pytest.raises(TypeError, match="add_to_class takes a class, got Class=3"):
        d2l.add_to_class(3)


def test_save_hyperparameters_keeps_arguments_but_not_ignored_or_private_ones():
    class B(d2l.HyperParameters):
        def __init__(self, a, b, c, _hidden=0, *args, **kwargs):
            local = a + b  # a local variable is not an argument  # noqa: F841
            self.save_hyperparameters(ignore=["c"])

    b = B(1, 2, 3, 4, 5, d=6)
    assert b.hparams == {"a": 1, "b": 2, "args": (5,), "kwargs": {"d": 6}}
    assert (b.a, b.b) == (1, 2)
    assert not hasattr(b, "c") and not hasattr(b, "_hidden") and not hasattr(b, "local")


def test_save_hyperparameters_refuses_a_bare_string_for_ignore():
    class B(d2l.HyperParameters):
        def __init__(self, a):
            self.save_hyperparameters(ignore="a")

    with pytest.raises(TypeError, match=r"ignore must be a list of names, got ignore='a'"):
        B(1)


# ---- ProgressBoard -----------------------------------------------------------------------------


def test_board_averages_every_n_raw_points_into_one():
    board = d2l.ProgressBoard("x", display=False)
    xs = np.arange(0, 10, 0.1)
    for x in xs:
        board.draw(x, np.sin(x), "sin", every_n=2)
        board.draw(x, np.cos(x), "cos", every_n=10)
    assert len(board.data["sin"]) == 50 and len(board.data["cos"]) == 10
    first = board.data["cos"][0]
    assert first.x == pytest.approx(xs[:10].mean())
    assert first.y == pytest.approx(np.cos(xs[:10]).mean())
    assert board.data["sin"][-1].y == pytest.approx(np.sin(xs[-2:]).mean())
    assert list(board.data) == ["sin", "cos"]


def test_board_reads_tensors_only_when_a_point_is_due():
    board = d2l.ProgressBoard(display=False)
    loss = torch.tensor(2.0, requires_grad=True) * 1.5  # a loss still in the graph
    board.draw(0, loss, "train_loss", every_n=2)
    assert board.data["train_loss"] == []
    assert torch.is_tensor(board.raw_points["train_loss"][0].y)  # kept, not read yet
    board.draw(1, torch.tensor([1.0]), "train_loss", every_n=2)
    assert board.data["train_loss"] == [Point(0.5, 2.0)]
    assert isinstance(board.data["train_loss"][0].y, float)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"every_n": 0}, ValueError, "every_n must be >= 1, got every_n=0"),
        ({"every_n": 1.5}, TypeError, "every_n must be an integer"),
        ({"label": 3}, TypeError, "label must be a string naming the curve, got label=3"),
        ({"y": torch.ones(2)}, ValueError, r"y must be one number, got a tensor of shape \(2,\)"),
    ],
)
def test_board_rejects_bad_draws(kwargs, error, match):
    board = d2l.ProgressBoard(display=False)
    args = {"x": 0, "y": 1.0, "label": "loss", "every_n": 1} | kwargs
    with pytest.raises(error, match=match):
        board.draw(**args)


def test_board_display_false_records_but_shows_nothing(capsys, tmp_path):
    board = d2l.ProgressBoard(display=False)
    board.draw(1, 0.5, "loss")
    board.log("epoch 1")
    board.flush()
    assert board.fig is None and capsys.readouterr() == ("", "")
    assert not (tmp_path / "figures").exists()


def test_board_attributes_set_later_are_used_when_drawing(capsys):
    board = d2l.ProgressBoard()
    board.yscale, board.xlim, board.ylabel = "log", [0, 4], "loss"
    for x in range(1, 5):
        board.draw(x, 10.0**-x, "val_loss")
    board.flush()
    axes = board.fig.axes[0]
    assert axes.get_yscale() == "log" and axes.get_xlim() == (0, 4)
    assert axes.get_ylabel() == "loss"
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["val_loss"]
    np.testing.assert_allclose(axes.lines[0].get_ydata(), [0.1, 0.01, 0.001, 0.0001])
    assert "figure saved to" in capsys.readouterr().err


def test_board_draws_on_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    board = d2l.ProgressBoard(fig=fig, axes=right)
    board.draw(0, 1.0, "a")
    board.draw(1, 2.0, "a")
    board.flush()
    assert len(right.lines) == 1 and len(left.lines) == 0


# ---- Module and DataModule ---------------------------------------------------------------------


class _Linear(d2l.Module):
    def __init__(self, lr=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Linear(2, 1)

    def loss(self, y_hat, y):
        return ((y_hat - y) ** 2).mean()


def test_module_forward_defaults_to_net_and_keeps_its_hyperparameters():
    model = _Linear(lr=0.3)
    X = torch.randn(4, 2)
    torch.testing.assert_close(model(X), model.net(X))
    assert model.lr == 0.3 and model.hparams == {"lr": 0.3}
    assert (model.plot_train_per_epoch, model.plot_valid_per_epoch) == (2, 1)
    optimizer = model.configure_optimizers()
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.param_groups[0]["lr"] == 0.3


def test_module_without_net_loss_or_lr_says_what_to_define():
    model = d2l.Module()
    with pytest.raises(NotImplementedError, match=r"Module has no self.net: set it in __init__"):
        model(torch.ones(1))
    with pytest.raises(NotImplementedError, match=r"must define loss\(self, y_hat, y\)"):
        model.loss(None, None)
    with pytest.raises(AttributeError, match="Module has no lr: take lr in __init__"):
        model.configure_optimizers()
    with pytest.raises(RuntimeError, match="plot needs the trainer"):
        model.plot("loss", 1.0, train=True)


def test_module_rejects_bad_plot_frequencies():
    with pytest.raises(ValueError, match="plot_train_per_epoch must be >= 1"):
        d2l.Module(plot_train_per_epoch=0)


def test_apply_init_materialises_lazy_layers_then_initialises():
    class Lazy(d2l.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyLinear(1))

    def init_constant(module):
        if isinstance(module, nn.Linear):
            nn.init.constant_(module.weight, 0.5)

    model = Lazy()
    model.apply_init([torch.ones(2, 4)], init_constant)
    assert model.net[0].weight.shape == (3, 4)
    assert torch.equal(model.net[2].weight, torch.full((1, 3), 0.5))


def test_data_module_tensorloader_serves_slices_in_memory_and_shuffles_like_dataloader():
    class Data(d2l.DataModule):
        def __init__(self, batch_size=4):
            super().__init__()
            self.save_hyperparameters()
            self.X, self.y = torch.arange(20.0).reshape(10, 2), torch.arange(10)

        def get_dataloader(self, train):
            i = slice(0, 6) if train else slice(6, None)
            return self.get_tensorloader((self.X, self.y), train, i)

    data = Data()
    assert data.num_workers == 4 and data.root == d2l.hub.data_dir()  # $D2LCOMPUTE_DATA_DIR
    val = list(data.val_dataloader())
    assert [y.tolist() for _, y in val] == [[6, 7, 8, 9]]
    torch.manual_seed(0)
    ours = [y.tolist() for _, y in data.train_dataloader()]
    torch.manual_seed(0)
    book = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(data.X[:6], data.y[:6]), 4, shuffle=True
    )
    assert ours == [y.tolist() for _, y in book]  # the same shuffles under the same seed
    assert sorted(sum(ours, [])) == list(range(6))


def test_data_module_root_is_the_books_data_folder_when_there_is_one(tmp_path, monkeypatch):
    monkeypatch.delenv("D2LCOMPUTE_DATA_DIR")
    (tmp_path / "data").mkdir()
    (tmp_path / "chapter").mkdir()
    monkeypatch.chdir(tmp_path / "chapter")
    assert d2l.DataModule().root == (tmp_path / "data").resolve()  # the book's '../data'
    assert d2l.DataModule(root="elsewhere").root == "elsewhere"


def test_data_module_needs_get_dataloader():
    with pytest.raises(NotImplementedError, match=r"must define get_dataloader\(self, train\)"):
        d2l.DataModule().train_dataloader()
    with pytest.raises(ValueError, match="num_workers must be >= 0"):
        d2l.DataModule(num_workers=-1)


def test_mean_of_points_is_nan_when_a_value_is():
    board = d2l.ProgressBoard(display=False)
    board.draw(0, torch.tensor(float("nan")), "loss", every_n=2)
    board.draw(1, torch.tensor(1.0), "loss", every_n=2)
    assert math.isnan(board.data["loss"][0].y)


def test_a_board_saved_by_its_owner_saves_nothing_else_at_the_end(tmp_path, monkeypatch):
    from d2lcompute.live import figure

    monkeypatch.setattr(figure, "output_mode", lambda: "plain")
    monkeypatch.setenv(figure.ENV_FIGURE_DIR, str(tmp_path / "figures"))
    board = d2l.ProgressBoard(xlabel="epoch", ylabel="loss")
    board.save_path = tmp_path / "run.png"
    board.draw(1, 0.5, "loss")
    assert board.save() == tmp_path / "run.png"
    assert (tmp_path / "run.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    board.flush()
    assert not (tmp_path / "figures").exists()  # without save_path, a PNG would be here
