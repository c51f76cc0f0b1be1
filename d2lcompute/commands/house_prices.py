"""Predict house prices on Kaggle (Book: §4.10, 实战Kaggle比赛：预测房价).

Says first which recipe runs, cross-validates it on the training set, prints the k-fold table
(train and valid log-RMSE per fold, and their mean), then trains on the whole training set
and writes the test predictions to --output (Kaggle's Id,SalePrice format), atomically. The
book's figure, fold 1's train and valid log-RMSE per epoch, is saved next to --output (or in
$D2LCOMPUTE_FIGURE_DIR) as house-prices-fold1.png. The last lines name both files and say
where to submit. A run whose loss becomes NaN or infinite (too large an --lr) stops with
exit status 2 and writes nothing.

Recipes (--recipe, see its help for what each does and its defaults): improved (the default,
about 0.12 valid log-RMSE) and book (the section as written, Chinese edition §4.10, English
§5.7: about 0.17). Both run through house_prices.RECIPES: the same steps, the same progress,
the same table.

Data: kaggle_house_pred_train.csv and kaggle_house_pred_test.csv in --data-dir (checked
against the book's sha1s and downloaded when missing), or your own copies of the
competition's files with --train-csv and --test-csv (not hash-checked).

Example:
  python -m d2lcompute house-prices --data-dir ../shared/data
"""

import contextlib
import dataclasses
import os
import sys
from pathlib import Path

from d2lcompute.commands import (
    CommandError,
    add_options,
    check_output,
    out_of_memory,
    resolve_device,
)

HELP = "Kaggle house prices (§4.10): k-fold table and submission.csv"
COMPETITION = "https://www.kaggle.com/c/house-prices-advanced-regression-techniques"
FIGURE = "house-prices-fold1.png"


def add_arguments(parser):
    from d2lcompute.house_prices.recipes import RECIPES

    parser.add_argument(
        "--recipe",
        choices=list(RECIPES),
        default="improved",
        help=" ".join(recipe.describe() for recipe in RECIPES.values()),
    )
    add_options(
        parser,
        "--epochs",
        "--lr",
        "--weight-decay",
        "--batch-size",
        "--folds",
        "--seed",
        "--device",
        "--data-dir",
        "--output",
        "--threads",
        folds=5,
        output=Path("submission.csv"),
    )
    parser.add_argument(
        "--train-csv",
        type=Path,
        metavar="FILE",
        help="training CSV to use instead of the data hub's (with --test-csv)",
    )
    parser.add_argument(
        "--test-csv",
        type=Path,
        metavar="FILE",
        help="test CSV to use instead of the data hub's (with --train-csv)",
    )


def run(args):
    recipe = _recipe(args)
    if args.folds < 2:
        raise CommandError(f"--folds must be at least 2, got {args.folds}")
    check_output("--output", args.output)
    device = resolve_device(args.device)
    data = _read(args, recipe)
    if args.folds > len(data.train_data):
        raise CommandError(
            f"--folds {args.folds} is more than the {len(data.train_data)} training rows"
        )
    print(_introduction(recipe.name))
    print(
        f"recipe {recipe.name}: {args.folds} folds, {recipe.num_epochs} epochs, lr "
        f"{recipe.learning_rate}, weight decay {recipe.weight_decay}, batch size "
        f"{recipe.batch_size}, seed {args.seed}, device {device}"
    )
    try:
        with _progress(args.folds * recipe.num_epochs, "k-fold", args.folds) as step:
            result = recipe.k_fold(args.folds, data, seed=args.seed, device=device, callback=step)
        print(result.table())
        figure = _figure_dir(args.output) / FIGURE
        _plot_fold(result, 0, figure)
        with _progress(recipe.num_epochs, "final", 1) as step:
            recipe.train_and_pred(
                data, path=args.output, seed=args.seed, device=device, callback=step
            )
    except RuntimeError as e:
        if not out_of_memory(e):
            raise
        raise CommandError(
            f"--batch-size {recipe.batch_size}: out of memory on {device}; try a "
            f"smaller --batch-size"
        ) from e
    print(f"wrote {args.output} ({len(data.test_data)} houses)")
    print(f"wrote {figure} (fold 1: train and valid log-RMSE per epoch, as the book plots)")
    print(f"next: upload {args.output} at {COMPETITION} (Submit Predictions) for its score")
    return 0


def _introduction(name):
    """The first line: which recipe runs, and how to run the book's."""
    if name == "book":
        return (
            "recipe book: the book's own job (Chinese edition §4.10, English §5.7), "
            "about 0.17 valid log-RMSE"
        )
    return (
        f"recipe {name} (the default), about 0.12 valid log-RMSE; --recipe book "
        "reproduces the book's §4.10/§5.7 job (about 0.17)"
    )


def _figure_dir(output):
    """``$D2LCOMPUTE_FIGURE_DIR`` when set, else the folder of the submission."""
    from d2lcompute.live.figure import ENV_FIGURE_DIR

    folder = os.environ.get(ENV_FIGURE_DIR)
    return Path(folder) if folder else output.parent


def _plot_fold(result, fold, path):
    """Save fold ``fold``'s train and valid log-RMSE per epoch (log scale, as the book's
    ``k_fold`` plots its first fold) to ``path``, atomically; return the figure."""
    from matplotlib.figure import Figure

    from d2lcompute._files import atomic_write
    from d2lcompute.live.plotting import set_axes

    fig = Figure(figsize=(3.5, 2.5))
    axes = fig.subplots()
    for values, fmt in [(result.train_ls[fold], "-"), (result.valid_ls[fold], "m--")]:
        points = [(epoch, v) for epoch, v in enumerate(values, 1) if v is not None]
        axes.plot(*zip(*points), fmt, marker="o" if len(points) == 1 else None)
    epochs = len(result.train_ls[fold])
    set_axes(axes, "epoch", "log-RMSE", [1, epochs], None, "linear", "log", ["train", "valid"])
    axes.set_title(f"fold {fold + 1}")
    with atomic_write(path) as f:
        fig.savefig(f, format="png", bbox_inches="tight", dpi=150)
    return fig


def _recipe(args):
    """The chosen recipe with the hyper-parameters given on the command line."""
    from d2lcompute.house_prices.recipes import RECIPES

    given = {
        "num_epochs": args.epochs,
        "learning_rate": args.lr,
        "weight_decay": args.weight_decay,
        "batch_size": args.batch_size,
    }
    return dataclasses.replace(
        RECIPES[args.recipe], **{name: value for name, value in given.items() if value is not None}
    )


def _read(args, recipe):
    """The data, checked and prepared by ``recipe``; a bad CSV given by name is a CommandError."""
    from d2lcompute import house_prices

    if (args.train_csv is None) != (args.test_csv is None):
        raise CommandError("--train-csv and --test-csv go together; give both or neither")
    if args.train_csv is None:
        return recipe.prepare(*house_prices.read_data(args.data_dir))
    train_data = house_prices.read_csv(args.train_csv)
    test_data = house_prices.read_csv(args.test_csv)
    try:
        return recipe.prepare(train_data, test_data)
    except ValueError as e:
        raise CommandError(f"{e} (--train-csv {args.train_csv}, --test-csv {args.test_csv})") from e


@contextlib.contextmanager
def _progress(total, description, folds):
    """Progress on stderr; yields the recipes' epoch callback, ``(fold, epoch, train_l, valid_l)``.

    In a terminal a tqdm bar counts the epochs; in a log (stderr not a terminal) a line
    says when each fold starts, so a long run is never silent.
    """
    from tqdm.auto import tqdm

    from d2lcompute.live.figure import output_mode

    terminal = output_mode() == "terminal"
    started = set()

    def step(fold, epoch, train_l, valid_l):
        bar.update()
        if not terminal and fold not in started:
            started.add(fold)
            name = f" fold {fold + 1}/{folds}" if folds > 1 else ""
            print(f"{description}{name}: training...", file=sys.stderr, flush=True)

    with tqdm(
        total=total,
        desc=description,
        unit="epoch",
        file=sys.stderr,
        disable=not terminal,
        leave=False,
    ) as bar:
        yield step
