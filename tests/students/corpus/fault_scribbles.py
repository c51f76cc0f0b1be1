"""ok l2_penalty: writes files at import and patches torch; the writes stay in its scratch folder"""

import os
from pathlib import Path

import torch

Path("results.txt").write_text("written to the working directory")
Path(os.path.expanduser("~"), "d2l-corpus-home-file").write_text("written to HOME")
torch.relu = torch.neg  # global state that must not reach the next file


def l2_penalty(w):
    return torch.sum(w * w) / 2
