"""A torchrun job killed mid-run and restarted by torchrun continues from its checkpoint.

``torchrun --max-restarts 1`` restarts every worker when one dies; the job's
``Trainer(checkpoint=...)`` then continues from the last epoch rank 0 saved, and the final
parameters are those of an uninterrupted run (here: one process in the test, to the
tolerance of tests/test_distributed.py: 2 ranks add their gradients in another order).
"""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from d2lcompute import io

ATOL = 1e-6  # as tests/test_distributed.py: rounding only
NUM_EPOCHS = 4

JOB = textwrap.dedent(
    """
    import os, signal, sys
    import torch
    from torch import nn
    import d2lcompute as d2l
    from d2lcompute import distributed

    class Classifier(d2l.Module):
        def __init__(self, lr=0.3, kill_at=None):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))

        def loss(self, y_hat, y):
            return nn.functional.cross_entropy(y_hat, y)

        def on_train_epoch_end(self, metrics):
            first_attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0"
            if metrics["epoch"] == self.kill_at and distributed.rank() == 1 and first_attempt:
                os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, as a lost machine

    class Data(d2l.DataModule):
        def __init__(self):
            super().__init__()
            self.batch_size = 8
            g = torch.Generator().manual_seed(7)
            self.X = torch.randn(40, 5, generator=g)
            self.y = (self.X[:, 0] + self.X[:, 1] > 0).long() + (self.X[:, 2] > 1).long()

        def get_dataloader(self, train):
            return self.get_tensorloader((self.X, self.y), train)

    def run(checkpoint, kill_at=None):
        torch.manual_seed(0)
        model = Classifier(kill_at=kill_at)
        model.board.display = False
        trainer = d2l.Trainer(max_epochs=NUM_EPOCHS, checkpoint=checkpoint)
        trainer.fit(model, Data())
        return model, trainer

    if __name__ == "__main__":
        folder, kill_at = sys.argv[1], int(sys.argv[2])
        model, trainer = run(os.path.join(folder, "run.pt"), kill_at)
        if distributed.is_main_process():
            torch.save(
                {
                    "params": model.state_dict(),
                    "restarts": int(os.environ["TORCHELASTIC_RESTART_COUNT"]),
                    "start_epoch": trainer.start_epoch,
                },
                os.path.join(folder, "result.pt"),
            )
    """
).replace("NUM_EPOCHS", str(NUM_EPOCHS))


def _job(tmp_path):
    path = tmp_path / "resume_job.py"
    path.write_text(JOB)
    sys.path.insert(0, str(tmp_path))
    try:
        import resume_job
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("resume_job", None)
    return path, resume_job


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_restarted_and_the_run_ends_as_an_uninterrupted_one(
    tmp_path, monkeypatch
):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    script, job = _job(tmp_path)
    uninterrupted, _ = job.run(None)

    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--standalone"),
        *("--nproc-per-node", "2", "--max-restarts", "1", "--monitor-interval", "0.1"),
        *(str(script), str(tmp_path), "2"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=180, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    saved = io.load(tmp_path / "result.pt")
    assert saved["restarts"] == 1  # rank 1 died; torchrun started both workers again
    assert saved["start_epoch"] in (1, 2)  # continued from a saved epoch, not from 0
    for name, tensor in uninterrupted.state_dict().items():
        torch.testing.assert_close(saved["params"][name], tensor, rtol=0, atol=ATOL)
