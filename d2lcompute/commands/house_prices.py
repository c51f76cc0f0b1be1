"""Predict house prices on Kaggle (Book: §4.10, 实战Kaggle比赛：预测房价).

Cross-validates a recipe on the training set, prints the k-fold table (train and valid
log-RMSE per fold, and their mean), then trains on the whole training set and writes the
test predictions to --output (Kaggle's Id,SalePrice format), atomically. A run whose loss
becomes NaN or infinite (too large an --lr) stops with exit status 2 and writes nothing.

Recipes (--recipe) and their defaults:
  improved  (default) preprocessing fitted inside each fold, log1p target, skewed columns
            logged, an MLP with dropout stopped early on a holdout of the training fold,
            3 seeds, blended with a ridge regression: about 0.122 valid log-RMSE.
            --epochs 300 (at most: early stopping) --lr 0.001 --weight-decay 0.01
            --batch-size 64; tens of seconds on a laptop CPU.
  book      the section as written: standardised features, one-hot categories
            (331 features), nn.Linear trained by Adam on prices: about 0.17.
            --epochs 100 --lr 5 --weight-decay 0 --batch-size 64; a few seconds.

Data: kaggle_house_pred_train.csv and kaggle_house_pred_test.csv in --data-dir (checked
against the book's sha1s and downloaded when missing), or your own copies of the
competition's files with --train-csv and --test-csv (not hash-checked).

Example:
  python -m d2lcompute house-prices --data-dir ../shared/data
"""

import contextlib
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

# recipe -> (epochs, lr, weight decay, batch size); the book's values are §4.10's
RECIPES = {
    "improved": (300, 1e-3, 0.01, 64),
    "book": (100, 5.0, 0.0, 64),
}


def add_arguments(parser):
    parser.add_argument("--recipe", choices=list(RECIPES), default="improved",
                        help="improved (default) or book; see above for what each does and its "
                             "defaults for --epochs, --lr, --weight-decay and --batch-size")
    add_options(parser, "--epochs", "--lr", "--weight-decay", "--batch-size", "--folds",
                "--seed", "--device", "--data-dir", "--output", "--threads", folds=5,
                output=Path("submission.csv"))
    parser.add_argument("--train-csv", type=Path, metavar="FILE",
                        help="training CSV to use instead of the data hub's (with --test-csv)")
    parser.add_argument("--test-csv", type=Path, metavar="FILE",
                        help="test CSV to use instead of the data hub's (with --train-csv)")


def run(args):
    epochs, lr, weight_decay, batch_size = _hyper_parameters(args)
    if args.folds < 2:
        raise CommandError(f"--folds must be at least 2, got {args.folds}")
    check_output("--output", args.output)
    device = resolve_device(args.device)
    train_data, test_data = _read(args)
    if args.folds > len(train_data):
        raise CommandError(f"--folds {args.folds} is more than the {len(train_data)} "
                           f"training rows")
    print(f"recipe {args.recipe}: {args.folds} folds, {epochs} epochs, lr {lr}, weight decay "
          f"{weight_decay}, batch size {batch_size}, seed {args.seed}, device {device}")
    try:
        with _progress(args.folds * epochs, "k-fold", args.folds) as step:
            result = _cross_validate(args, train_data, test_data, device, step,
                                     epochs, lr, weight_decay, batch_size)
        print(result.table())
        with _progress(epochs, "final", 1) as step:
            _train_and_pred(args, train_data, test_data, device, step,
                            epochs, lr, weight_decay, batch_size)
    except RuntimeError as e:
        if not out_of_memory(e):
            raise
        raise CommandError(f"--batch-size {batch_size}: out of memory on {device}; try a "
                           f"smaller --batch-size") from e
    print(f"wrote {args.output} ({len(test_data)} houses)")
    return 0


def _hyper_parameters(args):
    defaults = RECIPES[args.recipe]
    given = (args.epochs, args.lr, args.weight_decay, args.batch_size)
    return tuple(d if g is None else g for g, d in zip(given, defaults))


def _read(args):
    from d2lcompute import house_prices

    if (args.train_csv is None) != (args.test_csv is None):
        raise CommandError("--train-csv and --test-csv go together; give both or neither")
    if args.train_csv is None:
        return house_prices.read_data(args.data_dir)
    train_data = house_prices.read_csv(args.train_csv)
    test_data = house_prices.read_csv(args.test_csv)
    try:
        house_prices.check_data(train_data, test_data)
    except ValueError as e:
        raise CommandError(f"{e} (--train-csv {args.train_csv}, --test-csv {args.test_csv})") from e
    return train_data, test_data


def _cross_validate(args, train_data, test_data, device, step, *hyper):
    from d2lcompute import house_prices, house_prices_improved

    if args.recipe == "improved":
        return house_prices_improved.k_fold(args.folds, train_data, *hyper, seed=args.seed,
                                            device=device, callback=step)
    train_features, _, train_labels = house_prices.preprocess(train_data, test_data)
    return house_prices.k_fold(args.folds, train_features.to(device), train_labels.to(device),
                               *hyper, seed=args.seed, callback=step)


def _train_and_pred(args, train_data, test_data, device, step, *hyper):
    from d2lcompute import house_prices, house_prices_improved

    if args.recipe == "improved":
        house_prices_improved.train_and_pred(train_data, test_data, *hyper, path=args.output,
                                             seed=args.seed, device=device, callback=step)
        return
    train_features, test_features, train_labels = house_prices.preprocess(train_data, test_data)
    house_prices.train_and_pred(train_features.to(device), test_features.to(device),
                                train_labels.to(device), test_data, *hyper, path=args.output,
                                seed=args.seed, callback=step)


@contextlib.contextmanager
def _progress(total, description, folds):
    """Progress on stderr; yields the epoch callback, called as ``(fold, epoch, ...)`` for
    cross-validation and ``(epoch, ...)`` for the final training.

    In a terminal a tqdm bar counts the epochs; in a log (stderr not a terminal) a line
    says when each fold starts, so a long run is never silent.
    """
    from tqdm.auto import tqdm

    from d2lcompute.live import output_mode

    terminal = output_mode() == "terminal"
    started = set()

    def step(*args):
        bar.update()
        fold = args[0] if len(args) == 4 else 0
        if not terminal and fold not in started:
            started.add(fold)
            name = f" fold {fold + 1}/{folds}" if len(args) == 4 else ""
            print(f"{description}{name}: training...", file=sys.stderr, flush=True)

    with tqdm(total=total, desc=description, unit="epoch", file=sys.stderr,
              disable=not terminal, leave=False) as bar:
        yield step
