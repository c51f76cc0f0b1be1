"""bug l2_penalty: no / 2
expect: the / 2 is missing
"""


def l2_penalty(w):
    return (w**2).sum()
