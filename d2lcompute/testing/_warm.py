"""Preloaded once by the grading server (:mod:`d2lcompute.testing.grading`): torch,
Hypothesis and the exercise checks, on one thread, so each forked worker starts warm.

The thread settings come before ``import torch``: OpenMP reads them when it loads.
"""

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "D2LCOMPUTE_THREADS"):
    os.environ[_name] = "1"

import torch  # noqa: E402 - after the thread settings

torch.set_num_threads(1)

import d2lcompute.testing.exercises  # noqa: E402, F401 - the point: imported once, here
import d2lcompute.testing.runner  # noqa: E402, F401
