"""The display mechanism under Animator and ProgressBoard, in the three places output goes."""

import sys

import pytest

import d2lcompute as d2l
from d2lcompute import live


def test_output_mode_under_pytest_is_plain():
    assert live.output_mode() == "plain"  # stderr is captured: no carriage returns


def test_output_mode_is_terminal_when_stderr_is_a_tty(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    assert live.output_mode() == "terminal"


def test_figure_dir_follows_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(live.ENV_FIGURE_DIR, str(tmp_path / "here"))
    assert live.figure_dir() == tmp_path / "here"
    monkeypatch.delenv(live.ENV_FIGURE_DIR)
    assert live.figure_dir().name == "d2lcompute-figures"


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

    monkeypatch.setattr(live, "output_mode", lambda: "notebook")
    monkeypatch.setattr(live, "_hooked", False)
    monkeypatch.setattr(live, "_REDRAW_SECONDS", 3600)
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
    monkeypatch.setattr(live, "output_mode", lambda: mode)
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
        env={**__import__("os").environ, live.ENV_FIGURE_DIR: str(tmp_path)},
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
        env={**__import__("os").environ, live.ENV_FIGURE_DIR: str(tmp_path)},
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

    monkeypatch.setattr(live, "output_mode", lambda: "notebook")
    monkeypatch.setattr(live, "_REDRAW_SECONDS", 0)  # no throttle: only new points count
    monkeypatch.setattr(live, "_flush_when_the_cell_ends", lambda: None)
    monkeypatch.setattr(
        IPython.display, "display", lambda obj, display_id=None: shown.append("display") or Handle()
    )
    board = d2l.ProgressBoard()
    for batch in range(100):
        board.draw(batch / 100, 1.0, "train_loss", every_n=50)  # a point every 50 batches
        board.progress(batch / 100)
    assert shown == ["display", "update"]  # one SVG per plotted point, not one per batch
