"""A student's file that prints a great deal while it imports, then defines l2_penalty."""

import torch

for step in range(200_000):
    print(f"epoch {step}: loss {1 / (step + 1):.6f}")


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2
