"""Benchmark: k-fold cross-validation of the house-price recipes (Book: §4.10).

Times both recipes of house_prices.RECIPES, with the same seed: the book's recipe (5 folds x
100 epochs, lr 5, weight decay 0, batch 64, nn.Linear) three ways, and the improved recipe:

  book      the book's code path: a DataLoader over a TensorDataset, one fold after another
            (its train loop, reimplemented below in a few lines)
  ours      RECIPES["book"].k_fold: the folds train together as one batched model
  ours-seq  the same with batched=False: fold after fold, mini-batches sliced from
            preloaded tensors (what batching adds on top of dropping the DataLoader)
  improved  RECIPES["improved"].k_fold with its defaults (MLPs and a lasso, all fitted
            inside each fold, the lasso's penalty chosen there too)

Runs are interleaved (book, ours, ours-seq, improved, book, ...) so that a busy machine
slows every variant alike; the table gives the min and median wall time of each, its
average valid log-RMSE (first run) and the speed-up over the book's path (min / min).
Recipe.prepare is not timed: for the book's recipe it is the preprocessing, the same for
the book's path and ours; the improved recipe preprocesses inside each fold, which is timed.

Usage:
  python benchmarks/house_prices.py --data-dir ../shared/data [--repeats 3] [--threads 1]
"""

import argparse
import dataclasses
import statistics
import time

import torch
from torch import nn
from torch.utils import data

from d2lcompute import house_prices as hp
from d2lcompute import hub
from d2lcompute._seeding import set_seed

# ---- configuration (the book's hyper-parameters) -------------------------------------------
K, NUM_EPOCHS, LR, WEIGHT_DECAY, BATCH_SIZE, SEED = 5, 100, 5, 0, 64, 0
# ----------------------------------------------------------------------------------------------


def book_k_fold(k, X_train, y_train, num_epochs, learning_rate, weight_decay, batch_size):
    """§4.10's k_fold and train as the book writes them (without the printing and plotting)."""
    loss = nn.MSELoss()

    def log_rmse(net, features, labels):
        clipped_preds = torch.clamp(net(features), 1, float("inf"))
        return torch.sqrt(loss(torch.log(clipped_preds), torch.log(labels))).item()

    valid_l_sum = 0
    for i in range(k):
        X_tr, y_tr, X_va, y_va = hp.get_k_fold_data(k, i, X_train, y_train)
        net = nn.Sequential(nn.Linear(X_train.shape[1], 1))
        train_iter = data.DataLoader(data.TensorDataset(X_tr, y_tr), batch_size, shuffle=True)
        optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
        for _ in range(num_epochs):
            for X, y in train_iter:
                optimizer.zero_grad()
                loss(net(X), y).backward()
                optimizer.step()
            log_rmse(net, X_tr, y_tr)  # the book records both curves every epoch
            valid_l = log_rmse(net, X_va, y_va)
        valid_l_sum += valid_l
    return valid_l_sum / k


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="folder with the Kaggle CSVs (default: hub.data_dir())")
    parser.add_argument("--repeats", type=int, default=2, help="runs per variant (default: 2)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    parser.add_argument(
        "--epochs",
        type=int,
        default=NUM_EPOCHS,
        help=f"epochs of the book's recipe (default: {NUM_EPOCHS})",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    frames = hp.read_data(args.data_dir)
    book_recipe = dataclasses.replace(
        hp.RECIPES["book"],
        num_epochs=args.epochs,
        learning_rate=LR,
        weight_decay=WEIGHT_DECAY,
        batch_size=BATCH_SIZE,
    )
    sequential = dataclasses.replace(book_recipe, options={"batched": False})
    improved = hp.RECIPES["improved"]
    book_data, improved_data = book_recipe.prepare(*frames), improved.prepare(*frames)
    X, _, y = book_data.tensors

    def book():
        set_seed(SEED)
        return book_k_fold(K, X, y, *book_recipe.hyper)

    variants = {  # name -> (recipe, run)
        "book": ("book", book),
        "ours": ("book", lambda: book_recipe.k_fold(K, book_data, seed=SEED).valid_l),
        "ours-seq": ("book", lambda: sequential.k_fold(K, book_data, seed=SEED).valid_l),
        "improved": ("improved", lambda: improved.k_fold(K, improved_data, seed=SEED).valid_l),
    }
    times = {name: [] for name in variants}
    scores = {}
    for _ in range(args.repeats):
        for name, (_, run) in variants.items():
            start = time.perf_counter()
            score = run()
            times[name].append(time.perf_counter() - start)
            scores.setdefault(name, score)

    print(
        f"house prices, {K}-fold cross-validation | torch {torch.__version__} | "
        f"threads {torch.get_num_threads()} | cpu | data {hub.data_dir(args.data_dir)}"
    )
    print(
        f"book recipe: {args.epochs} epochs, lr {LR}, weight decay {WEIGHT_DECAY}, batch "
        f"{BATCH_SIZE}, seed {SEED}; improved: its defaults; {args.repeats} runs each"
    )
    print(
        f"{'variant':<10} {'recipe':<9} {'min s':>8} {'median s':>9} {'valid log-RMSE':>15} "
        f"{'speed-up':>9}"
    )
    for name, (recipe, _) in variants.items():
        speed_up = min(times["book"]) / min(times[name])
        print(
            f"{name:<10} {recipe:<9} {min(times[name]):>8.3f} "
            f"{statistics.median(times[name]):>9.3f} {scores[name]:>15.4f} {speed_up:>8.2f}x"
        )
    met = "met" if scores["improved"] <= 0.120 else "missed"
    print(f"improved recipe: valid log-RMSE {scores['improved']:.4f} (target <= 0.120: {met})")


if __name__ == "__main__":
    main()
