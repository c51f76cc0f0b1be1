"""check_exercise: the package's own implementations pass every check; the classic student
mistakes fail the intended check with the intended message."""

import pickle
import re

import pytest
import torch
from torch import nn

from d2lcompute import blocks, dropout, house_prices, io, layers, parameters, weight_decay
from d2lcompute import multilayer_perceptrons as mlp
from d2lcompute.dropout import dropout_layer as dropout_layer_reference
from d2lcompute.testing import EXERCISES, CheckFailed, ExerciseReport, check_exercise

REFERENCES = {
    "MySequential": blocks.MySequential,
    "Parallel": blocks.Parallel,
    "CenteredLayer": layers.CenteredLayer,
    "MyLinear": layers.MyLinear,
    "dropout_layer": dropout.dropout_layer,
    "l2_penalty": weight_decay.l2_penalty,
    "get_k_fold_data": house_prices.get_k_fold_data,
    "save_load": (io.save, io.load),
    "init_weights": mlp.init_weights,
    "init_normal": parameters.init_normal,
    "init_constant": parameters.init_constant,
    "xavier": parameters.xavier,
    "init_42": parameters.init_42,
    "my_init": parameters.my_init,
}


def test_every_exercise_has_a_reference_here():
    assert set(REFERENCES) == set(EXERCISES)


@pytest.mark.parametrize("name", REFERENCES)
def test_reference_passes_its_own_checks(name):
    report = check_exercise(name, REFERENCES[name])
    assert report.passed, str(report)
    assert report.num_passed == len(report.results) >= 2


# ---- broken student versions ----------------------------------------------------------


class ListSequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        self.blocks = list(args)

    def forward(self, X):
        for block in self.blocks:
            X = block(X)
        return X


class ObjectKeySequential(ListSequential):
    """Keys the children by the block objects, as some notes do: state_dict names break."""

    def __init__(self, *args):
        nn.Module.__init__(self)
        for block in args:
            self.add_module(f"block{id(block)}", block)

    def forward(self, X):
        for block in self._modules.values():
            X = block(X)
        return X


class ChainedParallel(nn.Module):
    """Runs net2 on net1's output instead of side by side."""

    def __init__(self, net1, net2):
        super().__init__()
        self.net1, self.net2 = net1, net2

    def forward(self, X):
        return self.net2(self.net1(X))


class DataLinear(layers.MyLinear):
    def forward(self, X):
        return torch.relu(X @ self.weight.data + self.bias.data)


class ColumnCentered(nn.Module):
    def forward(self, X):
        return X - X.mean(dim=0)


def no_rescale_dropout(X, dropout):
    return (torch.rand(X.shape) > dropout).float() * X


def nan_dropout(X, dropout):
    return (torch.rand(X.shape) > dropout).float() * X / (1.0 - dropout)


def inverted_mask_dropout(X, dropout):
    return (torch.rand(X.shape) < dropout).float() * X / (1.0 - dropout)


def book_k_fold(k, i, X, y):
    """The book's version: fold_size = n // k, so the last n % k samples are dropped."""
    fold_size = X.shape[0] // k
    parts = [
        (X[j * fold_size : (j + 1) * fold_size], y[j * fold_size : (j + 1) * fold_size])
        for j in range(k)
    ]
    X_train = torch.cat([p[0] for j, p in enumerate(parts) if j != i])
    y_train = torch.cat([p[1] for j, p in enumerate(parts) if j != i])
    return X_train, y_train, parts[i][0], parts[i][1]


def ignores_i_k_fold(k, i, X, y):
    """Always validates on the first fold: i is never used."""
    size = len(X) // k
    return X[size:], y[size:], X[:size], y[:size]


def unmatched_rows_k_fold(k, i, X, y):
    X_train, y_train, X_valid, y_valid = house_prices.get_k_fold_data(k, i, X, y)
    return X_train, y_train.flip(0), X_valid, y_valid


def leftover_k_fold(k, i, X, y):
    """Correct, in another convention: the last fold takes the n % k leftover samples."""
    size, n = len(X) // k, len(X)
    bounds = [j * size for j in range(k)] + [n]
    valid = torch.arange(bounds[i], bounds[i + 1])
    train = torch.cat([torch.arange(0, bounds[i]), torch.arange(bounds[i + 1], n)])
    return X[train], y[train], X[valid], y[valid]


def row_mask_dropout(X, dropout):
    mask = (torch.rand(X.shape[-1]) > dropout).float()
    return mask * X / (1.0 - dropout) if dropout < 1 else torch.zeros_like(X)


def reseeding_dropout(X, dropout):
    torch.manual_seed(42)
    return dropout_layer_reference(X, dropout)


def save_ignoring_path(obj, path):
    torch.save(obj, "x-file")


def load_ignoring_path(path):
    return torch.load("x-file")


def init_42_scalar(m):
    if isinstance(m, nn.Linear):
        m.weight.data = torch.tensor(42.0)


def reseeding_init(m):
    if isinstance(m, nn.Linear):
        torch.manual_seed(42)
        nn.init.normal_(m.weight, std=0.01)
        nn.init.zeros_(m.bias)


class ModuleListSequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        self.blocks = nn.ModuleList(args)

    def forward(self, X):
        for block in self.blocks:
            X = block(X)
        return X


class TransposedLinear(nn.Module):
    """nn.Linear's layout: weight (units, in_units), used as weight.T."""

    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(units, in_units))
        self.bias = nn.Parameter(torch.randn(units))

    def forward(self, X):
        return torch.relu(X @ self.weight.T + self.bias)


class WbLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.W = nn.Parameter(torch.randn(in_units, units))
        self.b = nn.Parameter(torch.zeros(units))

    def forward(self, X):
        return torch.relu(X @ self.W + self.b)


def init_replacing(m):
    if isinstance(m, nn.Linear):
        m.weight = nn.Parameter(torch.randn_like(m.weight) * 0.01)


def init_any_weight(m):
    if hasattr(m, "weight"):
        nn.init.normal_(m.weight, std=0.01)


def init_wrong_std(m):
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.1)


def init_zero_bias_always(m):
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.01)
        nn.init.zeros_(m.bias)


def save_as_list(obj, path):
    with open(path, "wb") as f:
        pickle.dump(obj.tolist() if isinstance(obj, torch.Tensor) else obj, f)


def load_pickle(path):
    with open(path, "rb") as f:
        return pickle.load(f)


@pytest.mark.parametrize(
    "name, student, check, message",
    [
        ("MySequential", ListSequential, "registers its blocks", "make `blocks` an nn.ModuleList"),
        (
            "Parallel",
            ChainedParallel,
            "concatenates net1(X) and net2(X) along dim 1",
            r"(raised RuntimeError|is not what the reference gives)",
        ),
        ("MyLinear", DataLinear, "gradients reach weight and bias", r"computed with `\.data`\?"),
        (
            "CenteredLayer",
            ColumnCentered,
            "returns X - X.mean()",
            "is not what the reference gives",
        ),
        (
            "dropout_layer",
            no_rescale_dropout,
            "drops a fraction p and keeps the mean",
            r"divide the kept elements by \(1 - dropout\)",
        ),
        (
            "dropout_layer",
            nan_dropout,
            "p = 0 keeps X, p = 1 gives zeros",
            r"dropout_layer\(X, 1.0\) returns NaN(.|\n)*torch.zeros_like",
        ),
        (
            "dropout_layer",
            inverted_mask_dropout,
            "drops a fraction p and keeps the mean",
            r"drops a fraction 0.8\d\d of the elements(.|\n)*torch.rand\(X.shape\) > dropout",
        ),
        (
            "l2_penalty",
            lambda w: torch.sum(w**2),
            "equals sum(w ** 2) / 2",
            r"not what the reference gives(.|\n)*likely cause: the / 2 is missing",
        ),
        ("l2_penalty", torch.norm, "equals sum(w ** 2) / 2", r"likely cause: that is the norm"),
        (
            "get_k_fold_data",
            ignores_i_k_fold,
            "uses every sample exactly once, rows kept together",
            r"do not use every sample exactly once(.|\n)*missing(.|\n)*does i pick",
        ),
        (
            "get_k_fold_data",
            unmatched_rows_k_fold,
            "uses every sample exactly once, rows kept together",
            r"rows of X and y no longer match",
        ),
        (
            "dropout_layer",
            row_mask_dropout,
            "masks independent across rows and calls",
            r"every row of the batch gets the same mask(.|\n)*shape X.shape\[-1\]",
        ),
        (
            "dropout_layer",
            reseeding_dropout,
            "masks independent across rows and calls",
            r"two calls drop exactly the same elements(.|\n)*torch.manual_seed",
        ),
        (
            "save_load",
            (save_ignoring_path, load_ignoring_path),
            "each path keeps its own object",
            r"wrote no file at path(.|\n)*ignore their path argument",
        ),
        (
            "init_42",
            init_42_scalar,
            "keeps every parameter's shape and dtype",
            r"0.weight changes shape(.|\n)*found: +shape \(\)(.|\n)*0-d",
        ),
        (
            "init_normal",
            reseeding_init,
            "draws new values at every call",
            r"get the same weights(.|\n)*torch.manual_seed",
        ),
        (
            "init_weights",
            init_replacing,
            "changes the parameters in place",
            r"0.weight is a new tensor(.|\n)*nn.init.normal_",
        ),
        (
            "init_weights",
            init_any_weight,
            "draws values like init_weights",
            r"changes 2.weight \(LayerNorm\), which init_weights leaves alone",
        ),
        (
            "init_weights",
            init_wrong_std,
            "draws values like init_weights",
            (
                r"values of 0.weight \(nn.Linear \[256, 256\]\) do not look like init_weights's"
                r"(.|\n)*expected: mean \S+, std 0.00995(.|\n)*found: +mean \S+, std 0.0995"
            ),
        ),
        (
            "init_weights",
            init_zero_bias_always,
            "draws values like init_weights",
            r"changes 0.bias \(nn.Linear\)",
        ),
        (
            "save_load",
            (save_as_list, load_pickle),
            "round trip keeps tensors, lists and dicts",
            "is not what the reference gives",
        ),
    ],
)
def test_broken_version_fails_with_a_teaching_message(
    name, student, check, message, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)  # a save that ignores its path writes ./x-file
    report = check_exercise(name, student)
    failed = {result.check: result.message for result in report.failures}
    assert check in failed, str(report)
    assert re.search(message, failed[check]), failed[check]


@pytest.mark.parametrize(
    "name, student, note",
    [
        ("MySequential", ModuleListSequential, r"keys \['blocks.0.weight'.*str\(i\)"),
        ("MySequential", ObjectKeySequential, r"differ from nn.Sequential's \['0.weight'"),
        ("MyLinear", TransposedLinear, r"weight is stored \(units, in_units\)"),
        ("MyLinear", WbLinear, "named W and b, not weight and bias"),
        ("get_k_fold_data", book_k_fold, r"fold_size = n // k drops the last n % k"),
        ("get_k_fold_data", leftover_k_fold, "the last fold takes the n % k leftover"),
        ("init_normal", init_zero_bias_always, r"bias=False\) raises AttributeError"),
    ],
)
def test_a_convention_is_a_note_unless_strict(name, student, note, monkeypatch):
    report = check_exercise(name, student)
    assert report.passed, str(report)
    assert any(re.search(note, text) for text in report.notes), report.notes
    assert "note: " in str(report) and report.to_dict()["notes"] == report.notes
    strict = check_exercise(name, student, strict=True)
    assert not strict.passed and re.search(note, strict.failures[0].message)
    monkeypatch.setenv("D2LCOMPUTE_STRICT", f"l2_penalty,{name}")
    assert not check_exercise(name, student).passed
    monkeypatch.setenv("D2LCOMPUTE_STRICT", "l2_penalty")
    assert check_exercise(name, student).passed


def test_an_exception_in_the_student_code_is_a_failure_that_shows_the_call():
    class Crashing(nn.Module):
        def __init__(self, in_units, units):
            raise KeyError("oops")

    report = check_exercise("MyLinear", Crashing)
    assert report.num_passed == 0
    assert [r.message for r in report.results] == [
        "MyLinear(1, 1) raised KeyError: 'oops'",  # Hypothesis shrank the sizes to 1
        "MyLinear(1, 1) raised KeyError: 'oops'",
        "MyLinear(3, 4) raised KeyError: 'oops'",
        "MyLinear(3, 4) raised KeyError: 'oops'",
    ]


# ---- the report and the arguments -----------------------------------------------------


def test_report_text_dict_and_assert_passed():
    report = check_exercise("l2_penalty", lambda w: torch.sum(w**2))
    assert isinstance(report, ExerciseReport) and not report.passed
    assert str(report).splitlines()[:3] == [
        "l2_penalty: 0/2 checks passed (book §4.5.2)",
        "  FAIL equals sum(w ** 2) / 2",
        "       l2_penalty(w) for w = [1.0] is not what the reference gives",
    ]
    assert repr(report) == "<ExerciseReport l2_penalty: 0/2 passed>"
    as_dict = report.to_dict()
    assert as_dict["total"] == 2 and as_dict["checks"][1]["check"] == "has gradient w"
    with pytest.raises(CheckFailed, match="l2_penalty: 0/2 checks passed"):
        report.assert_passed()


def test_reports_are_the_same_on_every_run():
    first = check_exercise("dropout_layer", no_rescale_dropout)
    assert str(check_exercise("dropout_layer", no_rescale_dropout)) == str(first)


def test_check_exercise_leaves_the_global_random_state_alone():
    state = torch.get_rng_state()
    check_exercise("dropout_layer", dropout.dropout_layer)
    assert torch.equal(torch.get_rng_state(), state)


def test_check_exercise_rejects_bad_arguments():
    with pytest.raises(
        ValueError,
        match=r"name must be one of MySequential, .*; got "
        r"name='Sequential'",
    ):
        check_exercise("Sequential", blocks.MySequential)
    with pytest.raises(
        TypeError,
        match=r"must be the class itself \(MyLinear, not "
        r"MyLinear\(...\)\), got MyLinear",
    ):
        check_exercise("MyLinear", layers.MyLinear(2, 3))
    with pytest.raises(TypeError, match=r"must be the pair of functions \(save, load\)"):
        check_exercise("save_load", io.save)
