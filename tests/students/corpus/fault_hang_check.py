"""fault dropout_layer timeout: an endless loop in the function
expect: did not finish within
"""


def dropout_layer(X, dropout):
    while True:
        pass
