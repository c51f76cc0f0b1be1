"""fault (import) error: a NameError at the top level
expect: import failed at fault_crash_import.py
"""


def l2_penalty(w):
    return (w**2).sum() / 2


print(undefined_name)
