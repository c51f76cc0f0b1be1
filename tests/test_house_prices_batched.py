"""house_prices.batched: training several same-shaped nets at once."""

import pytest
import torch
from house_prices_helpers import synthetic
from torch import nn

from d2lcompute.errors import DivergenceError
from d2lcompute.house_prices import batched


def test_batched_trainer_keeps_the_best_weights_and_stops_after_patience():
    X, y = synthetic(40)
    nets = [nn.Linear(6, 1) for _ in range(2)]
    initial = nets[1].weight.detach().clone()
    seen = []

    def on_epoch(epoch, preds):
        seen.append(preds.clone())
        return torch.tensor([epoch == 2, False])  # net 0 is best at epoch 2, net 1 never

    rows = [torch.arange(30), torch.arange(10, 40)]
    generators = [torch.Generator().manual_seed(s) for s in (0, 1)]
    batched.fit_batched(nets, X, y, rows, 20, 0.5, 0, 8, generators, on_epoch, patience=3)
    assert len(seen) == 5  # net 0 waits 3 epochs after epoch 2; net 1 stops after epoch 3
    with torch.no_grad():
        torch.testing.assert_close(nets[0](X), seen[1][0])
    assert torch.equal(nets[1].weight, initial)


def test_batched_trainer_takes_one_input_per_net():
    X, y = synthetic(40)
    rows = [torch.arange(30), torch.arange(10, 40)]
    results = []
    for inputs in (X, X.expand(2, -1, -1).contiguous()):  # shared, or one copy per net
        torch.manual_seed(0)
        nets = [nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 1)) for _ in range(2)]
        generators = [torch.Generator().manual_seed(s) for s in (0, 1)]
        batched.fit_batched(nets, inputs, y, rows, 3, 0.1, 0, 8, generators, lambda *a: None)
        results.append(torch.cat([p.detach().flatten() for net in nets for p in net.parameters()]))
    torch.testing.assert_close(results[0], results[1])


def _batched_args(n=40, nets=2):
    X, y = synthetic(n)
    return {
        "nets": [nn.Sequential(nn.Linear(6, 1)) for _ in range(nets)],
        "X": X,
        "y": y,
        "train_rows": [torch.arange(n // 2) for _ in range(nets)],
        "num_epochs": 2,
        "learning_rate": 0.1,
        "weight_decay": 0,
        "batch_size": 8,
        "generators": [torch.Generator().manual_seed(i) for i in range(nets)],
        "on_epoch": lambda *a: None,
    }


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got batch_size=0"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
        (
            {"train_rows": [torch.arange(5), torch.arange(0)]},
            ValueError,
            r"net\(s\) \[1\] have none \(fewer rows than folds\?\)",
        ),
        ({"generators": [torch.Generator()]}, ValueError, "got 2 nets, 2 train_rows, 1 generators"),
        ({"y": torch.ones(40)}, ValueError, r"y must be \(n, out\) with n = 40 rows of X"),
    ],
)
def test_batched_trainer_checks_its_arguments(change, error, message):
    with pytest.raises(error, match=message):
        batched.fit_batched(**{**_batched_args(), **change})


def test_batched_trainer_with_a_huge_batch_size_allocates_no_padding():
    args = _batched_args()
    batched.fit_batched(**{**args, "batch_size": 10**12})  # (M, 10**12) padding before


def test_batched_trainer_names_the_net_that_diverged():
    args = _batched_args()
    args["X"] = torch.stack([args["X"], args["X"] * 1e20])  # net 2's squared error overflows
    with pytest.raises(
        DivergenceError,
        match=r"fold 2 diverged at epoch 1, batch 1: the loss is "
        r"not finite; no finite loss was seen before",
    ):
        batched.fit_batched(**args, name=lambda m: f"fold {m + 1}")
