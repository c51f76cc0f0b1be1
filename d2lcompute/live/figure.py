"""Showing a run as it happens: the one mechanism under ``Animator`` and ``ProgressBoard``.

Where the output goes decides how a live figure is shown:

- a Jupyter kernel: one figure under the cell, redrawn in place (at most ten times a second,
  and once more when the cell finishes), never a pile of figures or ``<Figure size ...>`` text;
- a terminal (stderr is a tty): a progress bar that follows ``x`` across its range with the
  latest value of each curve, a line above it per epoch, and at the end the bar cleared and
  the figure saved to a PNG file whose path is printed;
- anything else (a log file, CI, a pipe): the same lines and the saved figure, without the bar
  and its carriage returns;
- a process of a ``torchrun`` launch other than rank 0: nothing at all, no file either, so N
  processes show one run once.

A figure still open when Python exits (a script's ``Animator`` that was never closed) is
closed then, so its PNG is saved and named too.

The figure is a plain matplotlib ``Figure``, never pyplot's, so no GUI backend starts and no
figure is left open. Its y-range is the one its owner set (the book's 0.3-0.9, say) when every
plotted point fits in it, and widened to them when not: no plotted line is ever hidden.

Figures saved at the end are named after the script, ``<script>-<n>.png`` (``n`` counts the
figures of the run from 1, so running the script again replaces them), and saved next to it;
from ``python -m``, ``python -c`` or a REPL, in the current folder, named after the module or
the figure (``progress-1.png``). ``$D2LCOMPUTE_FIGURE_DIR`` names another folder.
"""

import atexit
import io
import itertools
import math
import os
import sys
import time
import weakref
from pathlib import Path

ENV_FIGURE_DIR = "D2LCOMPUTE_FIGURE_DIR"
_REDRAW_SECONDS = 0.1  # a notebook figure is redrawn at most this often while points arrive
_SAVE_DPI = 150
_dirty = weakref.WeakSet()  # notebook figures with points not drawn yet, drawn when the cell ends
_open = weakref.WeakSet()  # script figures with points not saved yet, saved when Python exits
_figure_numbers = itertools.count(1)


def in_notebook():
    """True inside a Jupyter kernel; False in a script, IPython's terminal shell or pytest."""
    if "ipykernel" not in sys.modules:  # cheap test first: no kernel was ever imported
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def output_mode():
    """``"notebook"``, ``"terminal"`` (stderr is a tty), ``"plain"`` (a log, a pipe, CI) or
    ``"off"`` (a torchrun rank other than 0)."""
    from d2lcompute.distributed import is_main_process

    if not is_main_process():
        return "off"
    if in_notebook():
        return "notebook"
    stream = sys.stderr
    return "terminal" if stream is not None and stream.isatty() else "plain"


def figure_dir():
    """The folder where figures of scripts and terminals are saved when a run ends:
    ``$D2LCOMPUTE_FIGURE_DIR``, else the running script's folder, else the current one."""
    folder = os.environ.get(ENV_FIGURE_DIR)
    if folder:
        return Path(folder)
    script = _script()
    return script.parent if script is not None else Path.cwd()


def figure_path(name):
    """The next figure file of this run: ``<script stem>-<n>.png`` in ``figure_dir()``.

    Without a script, the stem is the module's run with ``python -m``, else ``name``.
    """
    script = _script()
    module = getattr(sys.modules.get("__main__"), "__spec__", None)
    if script is not None:
        name = script.stem
    elif module is not None:
        name = module.name.removesuffix(".__main__").rpartition(".")[2]
    return figure_dir() / f"{name}-{next(_figure_numbers)}.png"


def _script():
    """The script Python runs (``python train.py``), or None: a REPL, ``-c``, ``-m``, or a
    command installed by pip (``bin/pytest``, whose folder is no place for figures)."""
    main = sys.modules.get("__main__")
    # Python removes __main__.__file__ when the script ends; its loader, still there at exit,
    # keeps the path for the figures saved then
    path = getattr(main, "__file__", None) or getattr(
        getattr(main, "__loader__", None), "path", None
    )
    if path is None or getattr(main, "__spec__", None) is not None:
        return None
    path = Path(path)
    return path.resolve() if path.suffix in (".py", ".pyw") else None


def fit_ylim(fig):
    """Widen the y-range of each of ``fig``'s axes to cover every plotted point.

    A range that already covers them (the book's fixed 0.3-0.9 once the loss is below 0.9)
    stays as it is; a side that does not is moved past the farthest point by 5% of the range.
    """
    for axes in fig.axes:
        low, high = axes.dataLim.intervaly  # (inf, -inf) before anything is plotted
        if axes.get_yscale() == "log":
            low = axes.dataLim.minposy  # the smallest positive value
        if not (math.isfinite(low) and math.isfinite(high)):
            continue
        bottom, top = axes.get_ylim()
        if min(bottom, top) <= low and high <= max(bottom, top):
            continue
        inverted = bottom > top
        bottom, top = min(bottom, top, low), max(bottom, top, high)
        scale = axes.yaxis.get_transform()
        inverse = scale.inverted()
        b, t = scale.transform([bottom, top])
        margin = 0.05 * (t - b)
        b = b - margin if low < min(axes.get_ylim()) else b
        t = t + margin if high > max(axes.get_ylim()) else t
        bottom, top = inverse.transform([b, t])
        axes.set_ylim((top, bottom) if inverted else (bottom, top))


class LiveFigure:
    """A figure, a progress bar and per-epoch lines, shown as the output allows (see above).

    Args:
        fig: the matplotlib ``Figure`` to show.
        draw: called with no argument to (re)draw the curves on ``fig`` before it is shown.
        xlabel: what ``x`` counts, e.g. ``"epoch"``; names it in the bar and the lines.
        xlim: ``(start, end)`` of ``x`` for the bar's total, or None for a bar without one.
        name: the stem of the PNG file saved at the end, e.g. ``"train_ch3"``.
        save_path: a file the owner writes itself; then nothing is saved at the end.
    """

    def __init__(self, fig, draw, *, xlabel=None, xlim=None, name="figure", save_path=None):
        self.fig, self._draw = fig, draw
        self.xlabel, self.xlim, self.name, self.save_path = xlabel or "x", xlim, name, save_path
        self.mode = output_mode()
        self._handle = None  # IPython display handle (notebook)
        self._bar = None  # tqdm bar (terminal)
        self._last_redraw = -math.inf  # the first update draws at once
        self._has_points = False
        self._values = {}

    def update(self, x, values, new_point=True):
        """Record that the curves reached ``x``; ``values`` maps curve names to latest values.

        Cheap enough to call every batch: the bar moves; the figure is redrawn only when a
        point was added (``new_point``) and the last redraw is old enough.
        """
        if self.mode == "off":
            return
        self._values.update((k, v) for k, v in values.items() if v is not None)
        self._has_points |= new_point
        if self.mode == "notebook":
            if not new_point:
                return
            _dirty.add(self)
            _flush_when_the_cell_ends()
            if time.perf_counter() - self._last_redraw >= _REDRAW_SECONDS:
                self.redraw()
        else:
            _open.add(self)
            if self.mode == "terminal":
                self._move_bar(x)

    def line(self, text):
        """Print ``text`` with the latest values on its own line (above a terminal's bar)."""
        if self.mode in ("notebook", "off"):
            return
        values = ", ".join(f"{k}={_format(v)}" for k, v in self._values.items())
        text = f"{text}: {values}" if values else text
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def start(self):
        """Show the progress bar before the first point (a terminal only)."""
        if self.mode == "terminal" and self.xlim is not None:
            self._move_bar(None)

    def redraw(self):
        """Draw the curves and show the figure now (in a notebook: in place of the last one)."""
        _dirty.discard(self)
        self._last_redraw = time.perf_counter()
        self._render()
        from IPython.display import SVG, display

        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="svg", bbox_inches="tight")
        image = SVG(buffer.getvalue())
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)

    def close(self):
        """End the run's display: the last redraw, or the bar closed and the figure saved."""
        if self.mode == "off":
            return
        if self.mode == "notebook":
            if self in _dirty:
                self.redraw()
            self._handle = None  # a later run (in another cell, say) shows a figure of its own
            return
        _open.discard(self)
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._has_points and self.save_path is None:
            path = figure_path(self.name)
            try:
                self.save(path)
            except OSError as e:  # a read-only folder: say so, the run itself is done
                print(f"figure not saved to {path}: {e}", file=sys.stderr, flush=True)
            else:
                print(f"figure saved to {path}", file=sys.stderr, flush=True)
        self._has_points = False

    def save(self, path):
        """Draw the curves and write the figure to ``path`` (atomically); return its path."""
        from d2lcompute._files import atomic_write

        path = Path(path)
        if self.mode == "off":
            return path
        self._render()
        with atomic_write(path) as f:
            self.fig.savefig(f, format=path.suffix[1:].lower(), bbox_inches="tight", dpi=_SAVE_DPI)
        return path

    def _render(self):
        """The owner's curves, in a y-range that shows them all."""
        self._draw()
        fit_ylim(self.fig)

    def _move_bar(self, x):
        from tqdm import tqdm

        start = None if self.xlim is None else min(self.xlim[0], 0)
        total = None if self.xlim is None else self.xlim[1] - start
        desc = (
            self.xlabel
            if x is None
            else f"{self.xlabel} {x:.3g}" + (f"/{self.xlim[1]:g}" if total else "")
        )
        postfix = ", ".join(f"{k}={_format(v)}" for k, v in self._values.items())
        if self._bar is None:  # a new bar draws itself once, so give it the values now
            bar_format = (
                "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"
                if total
                else "{desc} [{elapsed}{postfix}]"
            )
            self._bar = tqdm(
                total=total or None,
                desc=desc,
                postfix=postfix,
                bar_format=bar_format,
                file=sys.stderr,
                dynamic_ncols=True,
                leave=False,  # the lines stay; a finished bar is cleared
            )
        if x is not None and total:
            self._bar.n = min(max(x - start, 0), total)
        self._bar.set_description_str(desc, refresh=False)
        self._bar.set_postfix_str(postfix, refresh=False)
        self._bar.update(0)  # redraws at most every mininterval (0.1 s)


def _format(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@atexit.register
def _close_open_figures():
    """A script that never closed its Animator (the book's loops don't) still gets its figure."""
    for figure in list(_open):
        figure.close()


def keep_visible(fig):
    """See that a pyplot figure made outside Jupyter is not one nobody sees.

    When Python exits, the figures still open are shown in windows if matplotlib's backend
    can show them (the script ends when they are closed), else saved as PNGs, paths printed.
    In Jupyter the inline backend shows them under the cell already.
    """
    global _pyplot_hooked
    if output_mode() in ("notebook", "off"):  # "off": a torchrun rank other than 0
        return
    _pyplot_figures.add(fig)
    if not _pyplot_hooked:  # after pyplot's own exit hook, so it runs before that one
        atexit.register(_show_pyplot_figures)
        _pyplot_hooked = True


_pyplot_figures = weakref.WeakSet()
# matplotlib's backends that only write files (rcsetup.non_interactive_bk before 3.9)
_FILE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}
_pyplot_hooked = False


def _show_pyplot_figures():
    import matplotlib
    from matplotlib import pyplot as plt

    figures = [f for f in list(_pyplot_figures) if plt.fignum_exists(f.number)]
    if not figures:
        return
    if matplotlib.get_backend().lower() not in _FILE_BACKENDS:
        plt.show()
        return
    for fig in figures:
        path = figure_path("pyplot")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=_SAVE_DPI, bbox_inches="tight")
        print(f"figure saved to {path}", file=sys.stderr, flush=True)


_hooked = False


def _flush_when_the_cell_ends():
    """Register, once, a Jupyter hook that draws figures left with points not yet shown."""
    global _hooked
    if _hooked:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.events.register("post_run_cell", lambda *_: [f.redraw() for f in list(_dirty)])
        _hooked = True
