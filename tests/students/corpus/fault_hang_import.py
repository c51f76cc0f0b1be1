"""fault (import) timeout: trains forever at the top level
expect: did not finish within
"""


def l2_penalty(w):
    return (w**2).sum() / 2


while True:
    pass
