"""The book's plotting helpers, drawn with pyplot as the book does.

Book: §2.4 (``use_svg_display``, ``set_figsize``, ``set_axes``, ``plot``), §3.5
(``show_images``).

matplotlib is imported inside the functions so that ``import d2lcompute`` stays light.
Jupyter shows the figure under the cell; in a script, figures still open at exit are shown
in a window (or saved as PNGs whose paths are printed, where no window can open), so none
goes unseen (:func:`d2lcompute.live.figure.keep_visible`).
"""

import torch

from d2lcompute._checks import check_figsize, check_fmts, check_int, check_number, check_sequence
from d2lcompute.live.figure import keep_visible


def use_svg_display():
    """Show pyplot figures as SVG in Jupyter (sharper than PNG); does nothing elsewhere.

    Book: §2.4
    """
    from d2lcompute.live.figure import in_notebook

    if in_notebook():
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")


def set_figsize(figsize=(3.5, 2.5)):
    """Set the size, in inches, of the pyplot figures created from now on.

    Book: §2.4
    """
    import matplotlib

    use_svg_display()
    matplotlib.rcParams["figure.figsize"] = check_figsize(figsize)


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend):
    """Set the labels, scales, limits and legend of a matplotlib ``Axes``, and draw a grid.

    Equal limits (``xlim=[1, 1]`` from a one-epoch run) are widened the way matplotlib
    would widen them, without its warning.

    Book: §2.4
    """
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(_nonsingular(axes.xaxis, xlim))
    axes.set_ylim(_nonsingular(axes.yaxis, ylim))
    if legend:
        axes.legend(legend)
    axes.grid(True)  # the book's bare grid() toggles, so a second call would hide it


def plot(
    X,
    Y=None,
    xlabel=None,
    ylabel=None,
    legend=None,
    xlim=None,
    ylim=None,
    xscale="linear",
    yscale="linear",
    fmts=("-", "m--", "g-.", "r:"),
    figsize=(3.5, 2.5),
    axes=None,
):
    """Plot one or more curves on ``axes`` (pyplot's current axes by default).

    ``X`` and ``Y`` may be tensors (also ones that require grad), arrays or lists. A
    1-D ``X`` is one curve; a list of 1-D sequences is several. With ``Y=None`` the
    values of ``X`` are plotted against their index. One ``X`` is shared by all curves.

    Args:
        X: x values (or the y values when ``Y`` is None).
        Y: y values, one sequence per curve.
        fmts: matplotlib format strings, one per curve, used in order.
        axes: a matplotlib ``Axes`` to draw on; it is cleared first.

    Example::

        >>> x = torch.arange(-8.0, 8.0, 0.1)
        >>> plot(x, [torch.sigmoid(x), torch.tanh(x)], 'x', 'f(x)', legend=['sigmoid', 'tanh'])

    Book: §2.4
    """
    if legend is None:
        legend = []
    set_figsize(figsize)
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.gca()
    keep_visible(axes.figure)

    if _has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif _has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        if len(X) != 1:
            raise ValueError(
                f"X holds {len(X)} curves but Y holds {len(Y)}; pass one X for "
                f"all curves or one per curve"
            )
        X = X * len(Y)
    fmts = check_fmts(fmts, len(Y))
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        if len(x):
            axes.plot(_plottable(x), _plottable(y), fmt)
        else:
            axes.plot(_plottable(y), fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """Show images in a ``num_rows`` x ``num_cols`` grid; returns the flat array of axes.

    Args:
        imgs: PIL images, arrays or tensors of shape ``(H, W)``, ``(H, W, C)`` or
            ``(C, H, W)`` with C in {1, 3}; extra images beyond the grid are not shown.
        titles: one title per shown image, or None.
        scale: inches per grid cell.

    Book: §3.5
    """
    check_sequence("imgs", imgs, "a sequence of images (a tensor, an array or a list)")
    import matplotlib.pyplot as plt

    num_rows = check_int("num_rows", num_rows, min_value=1)
    num_cols = check_int("num_cols", num_cols, min_value=1)
    if check_number("scale", scale) <= 0:
        raise ValueError(f"scale must be > 0 (inches per image), got scale={scale!r}")
    imgs = list(imgs)[: num_rows * num_cols]
    if titles is not None and len(titles) < len(imgs):
        raise ValueError(
            f"titles must give one title per image: {len(imgs)} images shown, "
            f"got {len(titles)} titles"
        )
    fig, axes = plt.subplots(
        num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale), squeeze=False
    )  # squeeze=False: a 1 x 1 grid is an array too
    axes = axes.flatten()
    for ax in axes:
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        ax.imshow(_image_array(img))
        if titles:
            ax.set_title(titles[i])
    keep_visible(fig)
    return axes


def _has_one_axis(X):
    """True for a single curve: a 1-D array/tensor or a list of numbers."""
    if hasattr(X, "ndim"):
        return X.ndim == 1
    return isinstance(X, list) and (not X or not hasattr(X[0], "__len__"))


def _plottable(values):
    """Tensors become NumPy arrays (detached, on the CPU); anything else is left alone."""
    return values.detach().cpu().numpy() if torch.is_tensor(values) else values


def _image_array(img):
    """A tensor image as an ``(H, W)`` or ``(H, W, C)`` array; PIL images pass through."""
    if not torch.is_tensor(img):
        return img
    img = img.detach().cpu()
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = img.permute(1, 2, 0)  # channels first, as torchvision stores them
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    return img.numpy()


def _nonsingular(axis, limits):
    if limits is None or limits[0] != limits[1]:
        return limits
    return axis.get_major_locator().nonsingular(*limits)
