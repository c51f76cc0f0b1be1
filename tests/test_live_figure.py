"""The display mechanism under Animator and ProgressBoard, in the three places output goes."""

import sys
from pathlib import Path

import pytest

import d2lcompute as d2l
from d2lcompute.live import figure


def test_output_mode_under_pytest_is_plain():
    assert figure.output_mode() == "plain"  # stderr is captured: no carriage returns


def test_output_mode_is_terminal_when_stderr_is_a_tty(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    assert figure.output_mode() == "terminal"


def test_figure_dir_follows_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(figure.ENV_FIGURE_DIR, str(tmp_path / "here"))
    assert figure.figure_dir() == tmp_path / "here"
    monkeypatch.delenv(figure.ENV_FIGURE_DIR)
    assert figure.figure_dir() == Path.cwd()  # pytest is no script: the current folder


def test_notebook_figures_left_undrawn_are_drawn_when_the_cell_ends(monkeypatch):
    import IPython
    import IPython.display

    hooks, shown = [], []

    class Events:
        def register(self, name, callback):
            hooks.append((name, callback))

    class Shell:
        events = Events()

    class Handle:
        def update(self, obj):
            shown.append("update")

    monkeypatch.setattr(figure, "output_mode", lambda: "notebook")
    monkeypatch.setattr(figure, "_hooked", False)
    monkeypatch.setattr(figure, "_REDRAW_SECONDS", 3600)
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    monkeypatch.setattr(
        IPython.display, "display", lambda obj, display_id=None: shown.append("display") or Handle()
    )
    board = d2l.ProgressBoard("x")
    for x in range(5):
        board.draw(x, x * 0.5, "y")  # the first draws at once, the others wait (throttled)
    assert shown == ["display"] and [name for name, _ in hooks] == ["post_run_cell"]
    hooks[0][1](None)  # the cell ends
    assert shown == ["display", "update"]
    assert [p.y for p in board.data["y"]] == [0, 0.5, 1.0, 1.5, 2.0]
    hooks[0][1](None)  # nothing new: nothing redrawn
    assert shown == ["display", "update"]


@pytest.mark.parametrize("mode", ["plain", "terminal"])
def test_nothing_is_saved_for_a_display_without_points(mode, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(figure, "output_mode", lambda: mode)
    with d2l.Animator(xlim=[0, 1]):
        pass
    assert "figure saved" not in capsys.readouterr().err
    assert not (tmp_path / "figures").exists()


def test_a_script_that_never_closes_its_figure_still_gets_it_saved(tmp_path):
    import subprocess

    code = (
        "import d2lcompute as d2l\n"
        "board = d2l.ProgressBoard('x')\n"
        "for x in range(20):\n"
        "    board.draw(x / 10, x * x, 'square', every_n=2)\n"
        "print('done')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, figure.ENV_FIGURE_DIR: str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    saved = list(tmp_path.glob("progress-*.png"))
    assert len(saved) == 1 and f"figure saved to {saved[0]}" in result.stderr


def test_a_scripts_pyplot_figure_is_saved_when_no_window_can_show_it(tmp_path):
    import subprocess

    code = (
        "import matplotlib; matplotlib.use('Agg')\n"
        "import torch, d2lcompute as d2l\n"
        "x = torch.arange(0.0, 3.0, 0.5)\n"
        "d2l.plot(x, [x, x ** 2], 'x', 'f(x)', legend=['x', 'x^2'])\n"
        "d2l.show_images(torch.rand(2, 8, 8), 1, 2)\n"
        "print('done')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, figure.ENV_FIGURE_DIR: str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    saved = sorted(tmp_path.glob("pyplot-*.png"))
    assert len(saved) == 2 and result.stderr.count("figure saved to") == 2


def test_in_a_notebook_batches_without_a_new_point_redraw_nothing(monkeypatch):
    import IPython.display

    shown = []

    class Handle:
        def update(self, obj):
            shown.append("update")

    monkeypatch.setattr(figure, "output_mode", lambda: "notebook")
    monkeypatch.setattr(figure, "_REDRAW_SECONDS", 0)  # no throttle: only new points count
    monkeypatch.setattr(figure, "_flush_when_the_cell_ends", lambda: None)
    monkeypatch.setattr(
        IPython.display, "display", lambda obj, display_id=None: shown.append("display") or Handle()
    )
    board = d2l.ProgressBoard()
    for batch in range(100):
        board.draw(batch / 100, 1.0, "train_loss", every_n=50)  # a point every 50 batches
        board.progress(batch / 100)
    assert shown == ["display", "update"]  # one SVG per plotted point, not one per batch


def _run_script(path, code, **env):
    import os
    import subprocess

    path.write_text(code)
    environ = {k: v for k, v in os.environ.items() if k != figure.ENV_FIGURE_DIR}
    return subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        env={**environ, **env},
        timeout=120,
    )


def test_a_scripts_figures_are_named_after_it_and_saved_next_to_it(tmp_path):
    code = (
        "import d2lcompute as d2l\n"
        "for run in range(2):\n"
        "    with d2l.Animator(xlim=[1, 2], legend=['loss']) as animator:\n"
        "        animator.add(1, 0.5)\n"
    )
    result = _run_script(tmp_path / "my_run.py", code)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["my_run-1.png", "my_run-2.png"]
    assert f"figure saved to {tmp_path / 'my_run-2.png'}" in result.stderr
    again = _run_script(tmp_path / "my_run.py", code)  # a second run replaces them: no pile
    assert again.returncode == 0 and len(list(tmp_path.glob("*.png"))) == 2


def test_figures_without_a_script_go_to_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(figure.ENV_FIGURE_DIR)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(figure, "_script", lambda: None)
    monkeypatch.setattr(sys.modules["__main__"], "__spec__", None, raising=False)
    assert figure.figure_path("progress").parent == tmp_path
    assert figure.figure_path("progress").name.startswith("progress-")


def test_ctrl_c_during_fit_saves_the_figure_of_the_epochs_trained(tmp_path):
    code = (
        "import os, signal, torch, d2lcompute as d2l\n"
        "class Data(d2l.DataModule):\n"
        "    def train_dataloader(self):\n"
        "        return [(torch.ones(4, 1), torch.ones(4, 1))] * 4\n"
        "    def val_dataloader(self):\n"
        "        return [(torch.ones(4, 1), torch.ones(4, 1))]\n"
        "class Model(d2l.LinearRegression):\n"
        "    def training_step(self, batch):\n"
        "        if self.trainer.epoch == 2:  # as if the student pressed Ctrl-C\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "        return super().training_step(batch)\n"
        "d2l.Trainer(max_epochs=10).fit(Model(0.01), Data())\n"
        "print('not reached')\n"
    )
    result = _run_script(tmp_path / "interrupted.py", code, D2LCOMPUTE_FIGURE_DIR=str(tmp_path))
    assert result.returncode != 0 and "not reached" not in result.stdout
    assert result.stderr.rstrip().endswith("KeyboardInterrupt")  # the interrupt went on
    assert "epoch 2/10" in result.stderr and "epoch 3/10" not in result.stderr
    assert f"figure saved to {tmp_path / 'interrupted-1.png'}" in result.stderr, result.stderr
    assert (tmp_path / "interrupted-1.png").stat().st_size > 0


@pytest.mark.parametrize("owner", ["Animator", "ProgressBoard"])
def test_a_fixed_y_range_widens_to_show_every_plotted_line(owner, tmp_path):
    def saved_axes(points):
        """The axes of the saved figure of a run with the book's range, 0.3-0.9."""
        kwargs = dict(xlabel="epoch", xlim=[1, 3], ylim=[0.3, 0.9])
        if owner == "Animator":
            shown = d2l.Animator(legend=["train loss", "train acc", "test acc"], **kwargs)
            for x, ys in points:
                shown.add(x, ys)
        else:
            shown = d2l.ProgressBoard(**kwargs)
            for x, ys in points:
                for label, y in zip(["train_loss", "train_acc", "test_acc"], ys):
                    shown.draw(x, y, label)
        shown._live.save(tmp_path / "figure.png")
        shown._live.close()
        return shown._live.fig.axes[0]

    axes = saved_axes([(1, (0.8, 0.6, 0.65)), (2, (0.5, 0.8, 0.82))])
    assert axes.get_ylim() == (0.3, 0.9)  # the book's range when the curves fit it

    axes = saved_axes([(1, (1.21, 0.55, 0.6)), (2, (0.62, 0.78, 0.79)), (3, (0.2, 0.8, 0.81))])
    bottom, top = axes.get_ylim()
    ys = [y for line in axes.get_lines() for y in line.get_ydata()]
    assert len(ys) == 9 and bottom <= min(ys) and max(ys) <= top
    assert bottom < 0.2 and 1.21 < top < 1.3  # widened past them, not to a range of its own


def test_ctrl_c_in_a_book_loop_that_never_closes_its_animator_saves_its_figure(tmp_path):
    code = (
        "import os, signal, d2lcompute as d2l\n"
        "def train(num_epochs):  # the book's loops never close their Animator\n"
        "    animator = d2l.Animator(xlabel='epoch', xlim=[1, num_epochs], legend=['loss'])\n"
        "    for epoch in range(num_epochs):\n"
        "        if epoch == 2:\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "        animator.add(epoch + 1, 1 / (epoch + 1))\n"
        "train(10)\n"
    )
    result = _run_script(tmp_path / "book_loop.py", code)
    assert result.returncode != 0 and "KeyboardInterrupt" in result.stderr
    assert "epoch 2/10" in result.stderr and "epoch 3/10" not in result.stderr
    # saved as Python exits, still named after the script and next to it
    assert f"figure saved to {tmp_path / 'book_loop-1.png'}" in result.stderr, result.stderr


def test_train_ch3_shows_a_loss_that_starts_above_the_books_range(monkeypatch, tmp_path):
    saved = []
    save = figure.LiveFigure.save

    def record(self, path):
        result = save(self, path)
        saved.append(self.fig.axes[0])
        return result

    monkeypatch.setattr(figure.LiveFigure, "save", record)
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    X, y = torch.randn(64, 20), torch.randint(0, 10, (64,))  # ten classes: loss ~2.3 > 0.9
    data = d2l.load_array((X, y), 16)
    net = torch.nn.Linear(20, 10)
    updater = torch.optim.SGD(net.parameters(), lr=0.01)
    d2l.train_ch3(net, data, data, torch.nn.CrossEntropyLoss(), 2, updater, device="cpu")
    (axes,) = saved
    bottom, top = axes.get_ylim()
    ys = [y for line in axes.get_lines() for y in line.get_ydata()]
    assert max(ys) > 0.9 and bottom <= min(ys) and max(ys) <= top
