"""fault (import) error: calls sys.exit at the top level
expect: import failed(.|\n)*SystemExit
"""

import sys


def l2_penalty(w):
    return (w**2).sum() / 2


sys.exit("done training")
