"""A student's file whose l2_penalty ends the whole process (os._exit skips every handler)."""

import os


def l2_penalty(w):
    os._exit(3)
