"""house_prices.recipes: both recipes behind one interface, as the command runs them."""

import dataclasses
import inspect
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from house_prices_helpers import frames

import d2lcompute as d2l
from d2lcompute import house_prices as hp


def _small(n=40):
    """``n`` houses with a skewed area, a year, a dwelling code and a text column; 5 test rows."""
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "Id": np.arange(1, n + 6),
            "LotArea": rng.lognormal(9, 0.8, n + 5).round(),
            "YearBuilt": rng.integers(1900, 2010, n + 5),
            "MSSubClass": rng.choice([20, 60, 120], n + 5),
            "Street": rng.choice(["Pave", "Grvl", None], n + 5),
            "SalePrice": rng.lognormal(12, 0.3, n + 5).round(),
        }
    )
    return data[:n], data[n:].drop(columns="SalePrice")


def _priced_net(in_features):
    """The book's net starting near the prices: two epochs then predict positive prices."""
    net = hp.get_net(in_features)
    with torch.no_grad():
        net[0].bias.fill_(2e5)
    return net


def test_recipes_hold_their_documented_defaults():
    book, improved = hp.RECIPES["book"], hp.RECIPES["improved"]
    assert book.hyper == (100, 5.0, 0.0, 64)  # §4.10's
    assert improved.hyper == (300, 1e-3, 0.01, 64)
    assert "--epochs 100 --lr 5 --weight-decay 0 --batch-size 64" in book.describe()
    assert dataclasses.replace(book, num_epochs=3).hyper == (3, 5.0, 0.0, 64)
    # the recipe's defaults are the improved functions' defaults: they cannot drift apart
    for function in (hp.improved.k_fold, hp.improved.train_and_pred):
        defaults = inspect.signature(function).parameters
        names = ["num_epochs", "learning_rate", "weight_decay", "batch_size"]
        assert tuple(defaults[name].default for name in names) == improved.hyper


@pytest.mark.parametrize("name", ["book", "improved"])
def test_both_recipes_take_the_same_arguments_and_report_the_same_progress(name, tmp_path):
    recipe = dataclasses.replace(hp.RECIPES[name], num_epochs=2)
    options = {"improved": {"num_seeds": 1, "num_hiddens": 4}, "book": {"get_net": _priced_net}}
    recipe = dataclasses.replace(recipe, options=options[name])
    data = recipe.prepare(*_small())
    calls = []
    result = recipe.k_fold(2, data, seed=0, callback=lambda *a: calls.append(a))
    assert [c[:2] for c in sorted(calls)] == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert all(isinstance(t, float) and isinstance(v, float) for *_, t, v in calls)
    assert len(result.valid_scores) == 2
    calls.clear()
    train_ls = recipe.train_and_pred(
        data, path=tmp_path / "s.csv", seed=0, callback=lambda *a: calls.append(a)
    )
    assert calls == [(0, 1, train_ls[0], None), (0, 2, train_ls[1], None)]
    assert len(pd.read_csv(tmp_path / "s.csv")) == 5


def test_the_book_recipe_gives_what_the_books_functions_give(tmp_path):
    train_data, test_data = _small()
    recipe = dataclasses.replace(hp.RECIPES["book"], num_epochs=3, learning_rate=0.5)
    X, _, y = hp.preprocess(train_data, test_data)
    expected = hp.k_fold(2, X, y, 3, 0.5, 0.0, 64, seed=1)
    assert recipe.k_fold(2, recipe.prepare(train_data, test_data), seed=1) == expected


@pytest.mark.parametrize("name", ["book", "improved"])
def test_prepare_runs_the_data_checks(name):
    train, test = frames()
    with pytest.raises(ValueError, match="only in the test data: 'Pool'"):
        hp.RECIPES[name].prepare(train, test.assign(Pool=1))


def test_the_recipe_table_loads_without_torch():
    """The command line builds its --recipe choices from RECIPES before anything trains."""
    code = (
        "import sys, d2lcompute.house_prices.recipes as r; assert r.RECIPES; "
        "print(sorted(m for m in ('torch', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_face_gives_its_names_and_only_those():
    assert d2l.house_prices.improved is hp.improved
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        hp.no_such_name  # noqa: B018
    assert torch.equal(hp.k_folds(2, 3)[0][1], torch.tensor([0]))
