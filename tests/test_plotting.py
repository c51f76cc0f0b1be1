import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # headless; must precede the pyplot import
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

import d2lcompute as d2l
from d2lcompute.live import figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _clean_matplotlib():
    with matplotlib.rc_context():  # set_figsize changes rcParams
        yield
    plt.close("all")


@pytest.fixture
def terminal(monkeypatch):
    """Figures shown as if stderr were a terminal (under pytest it is a pipe)."""
    monkeypatch.setattr(figure, "output_mode", lambda: "terminal")


def book_add(X, Y, x, y):
    """The book's Animator.add bookkeeping (d2l/torch.py), the oracle for ours."""
    if not hasattr(y, "__len__"):
        y = [y]
    n = len(y)
    if not hasattr(x, "__len__"):
        x = [x] * n
    if not X:
        X = [[] for _ in range(n)]
    if not Y:
        Y = [[] for _ in range(n)]
    for i, (a, b) in enumerate(zip(x, y)):
        if a is not None and b is not None:
            X[i].append(a)
            Y[i].append(b)
    return X, Y


TRAIN_CH3 = [
    (epoch + 1, (0.9 - 0.1 * epoch, 0.6 + 0.05 * epoch, 0.58 + 0.05 * epoch)) for epoch in range(4)
]
# train_ch6 adds the training curves within the epoch and the test accuracy at its end
TRAIN_CH6 = [
    (0.5, (0.8, 0.7, None)),
    (1.0, (0.7, 0.75, None)),
    (1, (None, None, 0.74)),
    (1.5, (0.6, 0.8, None)),
    (2.0, (0.55, 0.82, None)),
    (2, (None, None, 0.8)),
]
SCALARS = [(1, 3.0), (2, 2.5), (3, 2.25)]
PER_CURVE_X = [([1, 2], (0.5, 0.25)), ([2, 3], (0.4, None)), ([None, 4], (0.3, 0.2))]


@pytest.mark.parametrize(
    "points",
    [TRAIN_CH3, TRAIN_CH6, SCALARS, PER_CURVE_X],
    ids=["train_ch3", "train_ch6", "scalar", "per_curve_x"],
)
def test_animator_collects_like_the_book_and_draws_every_curve(points, capsys):
    animator = d2l.Animator(xlabel="epoch", xlim=[0, 4], legend=["a", "b", "c"])
    X, Y = None, None
    for x, y in points:
        animator.add(x, y)
        X, Y = book_add(X, Y, x, y)
    animator.close()
    assert animator.X == X and animator.Y == Y
    lines = animator.axes[0].lines
    assert len(lines) == len(Y)
    for line, xs, ys in zip(lines, X, Y):
        np.testing.assert_allclose(line.get_xdata(), xs)
        np.testing.assert_allclose(line.get_ydata(), ys)
    assert capsys.readouterr().out == ""


def test_animator_in_terminal_reports_on_stderr_only(terminal, capsys):
    animator = d2l.Animator(
        xlabel="epoch", xlim=[1, 4], ylim=[0.3, 0.9], legend=["train loss", "train acc", "test acc"]
    )
    for x, y in TRAIN_CH3:
        animator.add(x, y)
        if x == 2:
            bar = animator._live._bar
            assert bar.n == 2 and bar.total == 4  # epoch 2 of 4
    animator._live._bar.refresh()
    last = capsys.readouterr().err.rstrip().split("\r")[-1]
    assert "epoch 4/4" in last and "100%" in last
    assert "train loss=0.6" in last and "train acc=0.75" in last and "test acc=0.73" in last
    animator.close()
    out, err = capsys.readouterr()
    assert out == ""
    assert plt.get_fignums() == []
    assert animator.axes[0].get_xlabel() == "epoch"
    assert animator.axes[0].get_ylim() == (0.3, 0.9)
    assert [t.get_text() for t in animator.axes[0].get_legend().get_texts()] == [
        "train loss",
        "train acc",
        "test acc",
    ]


def test_animator_in_terminal_shows_its_bar_before_the_first_point(terminal, capsys):
    animator = d2l.Animator(xlabel="epoch", xlim=[1, 10], legend=["train loss"])
    assert animator._live._bar.n == 0 and animator._live._bar.total == 10
    assert "epoch:   0%" in capsys.readouterr().err
    animator.add(1, 0.5)
    assert animator._live._bar.n == 1
    animator.close()
    assert animator._live._bar is None  # closed, so the next print starts on its own line


def test_animator_in_a_log_prints_a_line_per_epoch_without_carriage_returns(capsys):
    animator = d2l.Animator(xlabel="epoch", xlim=[1, 2], legend=["train", "test"])
    animator.add(0.5, (0.6, None))  # within the first epoch: no line
    animator.add(1, (0.5, 0.4))
    animator.add(2, (0.3, None))
    animator.close()
    out, err = capsys.readouterr()
    assert out == "" and "\r" not in err
    lines = err.splitlines()
    assert lines[:2] == ["epoch 1/2: train=0.5, test=0.4", "epoch 2/2: train=0.3, test=0.4"]
    assert lines[2].startswith("figure saved to ") and lines[2].endswith(".png")
    with Image.open(lines[2].removeprefix("figure saved to ")) as image:
        assert image.size[0] > 400  # 3.5 inches at 150 dpi


def test_animator_accepts_tensors_that_require_grad():
    loss = (torch.ones(3, requires_grad=True) * 0.25).sum()
    animator = d2l.Animator(legend=["loss", "acc"])
    animator.add(torch.tensor(1), (loss, torch.tensor(0.5)))
    animator.add(2, torch.tensor([0.5, 0.75]))
    animator.close()
    assert animator.X == [[1, 2], [1, 2]]
    assert animator.Y == [[0.75, 0.5], [0.5, 0.75]]


def test_animator_without_xlim_counts_nothing_but_reports(terminal, capsys):
    with d2l.Animator(legend=["loss"]) as animator:
        animator.add(0.5, 3.0)
        assert animator._live._bar.total is None
        animator._live._bar.refresh()
    err = capsys.readouterr().err
    assert "x 0.5" in err and "loss=3" in err


def test_animator_never_imports_pyplot():
    code = (
        "import sys, d2lcompute as d2l\n"
        "a = d2l.Animator(xlabel='epoch', xlim=[1, 2], legend=['loss'])\n"
        "a.add(1, 0.5); a.add(2, 0.25); a.close()\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "loss=0.25" in result.stderr


def test_animator_saves_png_after_every_add(tmp_path):
    path = tmp_path / "figs" / "curves.png"
    animator = d2l.Animator(xlim=[1, 3], legend=["loss"], save_path=path)
    animator.add(1, 1.0)
    first = path.read_bytes()
    animator.add(2, 0.5)
    animator.close()
    assert first.startswith(PNG_SIGNATURE)
    assert path.read_bytes() != first  # rewritten with the new point
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert sorted(p.name for p in path.parent.iterdir()) == ["curves.png"]  # no temp files


def test_animator_save_formats(tmp_path):
    animator = d2l.Animator(legend=["loss"])
    animator.add(1, 1.0)
    animator.close()
    assert animator.save(tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    assert animator.save(tmp_path / "a.PNG").read_bytes().startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match=r"must end in \.png, \.svg, \.pdf, got '.*a\.jpg'"):
        animator.save(tmp_path / "a.jpg")
    with pytest.raises(ValueError, match="must end in"):
        d2l.Animator(save_path="curves.txt")


@pytest.mark.parametrize(
    "seconds, kinds",
    [(0, ["display", "update", "update"]), (60, ["display", "update"])],
    ids=["every add", "throttled"],
)
def test_animator_in_notebook_updates_one_display(seconds, kinds, monkeypatch, capsys):
    import IPython.display

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj))

    def fake_display(obj, display_id=None):
        shown.append(("display", obj))
        assert display_id is True
        return Handle()

    monkeypatch.setattr(figure, "output_mode", lambda: "notebook")
    monkeypatch.setattr(figure, "_REDRAW_SECONDS", seconds)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    animator = d2l.Animator(xlim=[1, 3], legend=["loss"])
    for epoch in range(3):
        animator.add(epoch + 1, 1.0 / (epoch + 1))
    animator.close()  # the last redraw, whatever the throttle skipped
    assert [kind for kind, _ in shown] == kinds
    np.testing.assert_allclose(animator.axes[0].lines[0].get_ydata(), [1, 1 / 2, 1 / 3])
    assert all(isinstance(obj, IPython.display.SVG) for _, obj in shown)
    assert "<svg" in shown[-1][1].data
    assert capsys.readouterr() == ("", "")  # no progress bar in a notebook


def test_in_notebook_is_false_under_pytest():
    assert figure.in_notebook() is False
    d2l.use_svg_display()  # a no-op outside a kernel


def test_animator_one_epoch_xlim_gives_no_warning():
    # xlim=[1, 1] comes from train_ch3(num_epochs=1); matplotlib would warn (an error here)
    animator = d2l.Animator(xlabel="epoch", xlim=[1, 1], legend=["loss"])
    animator.add(1, 0.5)
    animator.close()
    low, high = animator.axes[0].get_xlim()
    assert low < 1 < high


def test_animator_subplots_grid():
    animator = d2l.Animator(nrows=2, ncols=3, figsize=(6, 4))
    assert len(animator.axes) == 6
    assert tuple(animator.fig.get_size_inches()) == (6, 4)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"nrows": 0}, ValueError, "nrows must be >= 1, got nrows=0"),
        ({"ncols": 1.5}, TypeError, "ncols must be an integer"),
        ({"figsize": (3, 0)}, ValueError, r"figsize must be \(width, height\)"),
        ({"figsize": 3}, ValueError, r"figsize must be \(width, height\)"),
        ({"legend": ["a", "b", "c"], "fmts": ("-", "--")}, ValueError, "fmts must give a format"),
        ({"xscale": "logarithmic"}, ValueError, "logarithmic"),
    ],
)
def test_animator_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        d2l.Animator(**kwargs)


def test_animator_rejects_inconsistent_adds():
    animator = d2l.Animator()
    animator.add(1, (0.5, 0.6))
    with pytest.raises(ValueError, match="got 3 y values, but the first call had 2"):
        animator.add(2, (0.5, 0.6, 0.7))
    with pytest.raises(ValueError, match="got 3 x values for 2 y values"):
        animator.add([1, 2, 3], (0.5, 0.6))
    with pytest.raises(ValueError, match="fmts must give a format per curve: 5 curves"):
        d2l.Animator().add(1, [0.1] * 5)
    animator.close()


def test_plot_one_tensor_that_requires_grad():
    x = torch.arange(-2.0, 2.0, 0.5, requires_grad=True)
    y = torch.relu(x)
    fig, ax = plt.subplots()
    d2l.plot(x, y, "x", "relu(x)", figsize=(5, 2.5), axes=ax)  # the book passes x.detach()
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), x.detach().numpy())
    np.testing.assert_array_equal(line.get_ydata(), y.detach().numpy())
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "relu(x)"
    assert tuple(matplotlib.rcParams["figure.figsize"]) == (5, 2.5)


def test_plot_several_curves_use_fmts_in_order():
    x = np.linspace(-1, 1, 5)
    fig, ax = plt.subplots()
    d2l.plot(x, [x, x**2, x**3], legend=["a", "b", "c"], axes=ax)
    assert len(ax.lines) == 3
    assert [line.get_linestyle() for line in ax.lines] == ["-", "--", "-."]
    assert [line.get_color() for line in ax.lines[1:]] == ["m", "g"]
    for line, expected in zip(ax.lines, [x, x**2, x**3]):
        np.testing.assert_array_equal(line.get_xdata(), x)
        np.testing.assert_array_equal(line.get_ydata(), expected)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]


def test_plot_kaggle_style_lists_on_log_scale():
    train_ls, valid_ls = [0.4, 0.2, 0.15], [0.5, 0.3, 0.25]
    fig, ax = plt.subplots()
    d2l.plot(
        list(range(1, 4)),
        [train_ls, valid_ls],
        xlabel="epoch",
        ylabel="rmse",
        xlim=[1, 3],
        legend=["train", "valid"],
        yscale="log",
        axes=ax,
    )
    assert [list(line.get_ydata()) for line in ax.lines] == [train_ls, valid_ls]
    assert list(ax.lines[1].get_xdata()) == [1, 2, 3]
    assert ax.get_yscale() == "log" and ax.get_xlim() == (1, 3)


def test_plot_y_none_plots_against_index():
    fig, ax = plt.subplots()
    d2l.plot([3.0, 1.0, 2.0], axes=ax)
    (line,) = ax.lines
    assert list(line.get_xdata()) == [0, 1, 2] and list(line.get_ydata()) == [3.0, 1.0, 2.0]


def test_plot_clears_axes_and_defaults_to_pyplot():
    d2l.plot([1, 2, 3], [1, 4, 9])
    d2l.plot([1, 2, 3], [1, 8, 27])
    assert len(plt.get_fignums()) == 1
    assert [list(line.get_ydata()) for line in plt.gca().lines] == [[1, 8, 27]]


def test_plot_rejects_mismatched_curves():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="X holds 2 curves but Y holds 3"):
        d2l.plot([[1, 2], [1, 2]], [[1, 2], [3, 4], [5, 6]], axes=ax)
    with pytest.raises(ValueError, match="fmts must give a format per curve: 5 curves"):
        d2l.plot(np.arange(3), [np.arange(3)] * 5, axes=ax)


def test_set_figsize_and_bad_figsize():
    d2l.set_figsize((4, 3))
    assert tuple(matplotlib.rcParams["figure.figsize"]) == (4, 3)
    with pytest.raises(ValueError, match=r"figsize must be \(width, height\).*\(4, -1\)"):
        d2l.set_figsize((4, -1))


def test_set_axes_grid_stays_on_when_called_twice():
    fig, ax = plt.subplots()
    ax.plot([1, 2], [1, 2])
    for _ in range(2):
        d2l.set_axes(ax, "x", "y", [1, 2], [0, 3], "linear", "linear", ["line"])
    assert all(line.get_visible() for line in ax.xaxis.get_gridlines())


def test_show_images_grid(tmp_path):
    imgs = torch.rand(7, 28, 28)
    axes = d2l.show_images(imgs, 2, 4, titles=[str(i) for i in range(7)], scale=1.5)
    assert axes.shape == (8,)
    assert tuple(axes[0].figure.get_size_inches()) == (4 * 1.5, 2 * 1.5)
    assert [len(ax.images) for ax in axes] == [1] * 7 + [0]
    np.testing.assert_array_equal(axes[3].images[0].get_array(), imgs[3].numpy())
    assert [ax.get_title() for ax in axes[:7]] == [str(i) for i in range(7)]
    assert not any(ax.xaxis.get_visible() for ax in axes)


def test_show_images_channels_first_pil_and_single_cell():
    chw = torch.rand(1, 8, 8)
    rgb = torch.rand(3, 8, 8)
    pil = Image.fromarray(np.zeros((8, 8), dtype=np.uint8))
    axes = d2l.show_images([chw, rgb, pil], 1, 3)
    assert axes[0].images[0].get_array().shape == (8, 8)
    assert axes[1].images[0].get_array().shape == (8, 8, 3)
    assert axes[2].images[0].get_array().shape == (8, 8)
    single = d2l.show_images([chw], 1, 1)  # the book's axes.flatten() fails on a 1 x 1 grid
    assert single.shape == (1,)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((0, 2), {}, ValueError, "num_rows must be >= 1, got num_rows=0"),
        ((1, "2"), {}, TypeError, "num_cols must be an integer"),
        ((1, 2), {"scale": 0}, ValueError, "scale must be > 0"),
        ((1, 2), {"titles": ["one"]}, ValueError, "2 images shown, got 1 titles"),
    ],
)
def test_show_images_rejects_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        d2l.show_images(torch.rand(2, 4, 4), *args, **kwargs)
