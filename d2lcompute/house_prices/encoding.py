"""The book's feature encoding, shared by both editions' ``preprocess`` (Book: §4.10, en §5.7).

The Chinese edition's ``preprocess`` (:mod:`.book`, tensors) and the English edition's
``KaggleHouse.preprocess`` (:mod:`.kaggle_house`, DataFrames) encode the houses the same way:
the training and test features stacked, numeric columns standardised over both and their
missing values set to 0 (the mean), the other columns one-hot encoded with a column for
missing values. ``encode_frames`` does it for both. It runs on pandas 2 and 3: numeric columns
are picked by kind (pandas 3 reads text as ``str``, not ``object``) and the one-hot booleans
become float32.
"""

from d2lcompute._checks import check_frame
from d2lcompute.house_prices.data import check_data

__all__ = ["encode_features", "encode_frames"]


def encode_features(features):
    """The book's encoding of a DataFrame of features, as a float32 DataFrame with the same rows.

    Numeric columns are standardised (``(x - mean) / std`` over all rows) and their missing
    values set to 0 (the mean); the other columns are one-hot encoded with an extra column
    for missing values. Numeric columns are picked by kind, not by the book's
    ``dtype != object``, which on pandas 3 (text read as ``str``) also picks the text
    columns.

    Shape:
        - features: ``(n, 79)`` for the Kaggle data; returns ``(n, 331)``.
    """
    import pandas as pd

    features = check_frame("features", features).copy()
    numeric = features.select_dtypes("number").columns
    features[numeric] = features[numeric].apply(lambda x: (x - x.mean()) / x.std())
    features[numeric] = features[numeric].fillna(0)
    return pd.get_dummies(features, dummy_na=True).astype("float32")  # booleans since pandas 2


def encode_frames(train_data, test_data):
    """The training and test houses' features, encoded together: two float32 DataFrames.

    The frames are checked (``data.check_data``), ``Id`` and ``SalePrice`` dropped, and the
    rest stacked and encoded by ``encode_features``, so the statistics use the test houses
    too, as in the book. Both results are indexed from 0 and have the same columns.

    Shape:
        - train_data: ``(n_train, 81)``, test_data: ``(n_test, 80)`` for the Kaggle data;
          returns ``(n_train, 331)`` and ``(n_test, 331)``.

    Example::

        >>> import pandas as pd
        >>> train = pd.DataFrame({"Id": [1, 2], "Area": [1.0, 3.0], "SalePrice": [10, 20]})
        >>> test = pd.DataFrame({"Id": [3], "Area": [2.0]})
        >>> [frame["Area"].tolist() for frame in encode_frames(train, test)]
        [[-1.0, 1.0], [0.0]]
    """
    import pandas as pd

    check_data(train_data, test_data)
    columns = train_data.columns.drop(["Id", "SalePrice"])
    stacked = pd.concat((train_data[columns], test_data[columns]), ignore_index=True)
    encoded = encode_features(stacked)
    n_train = len(train_data)
    return encoded.iloc[:n_train], encoded.iloc[n_train:].reset_index(drop=True)
