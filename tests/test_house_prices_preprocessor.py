"""house_prices.preprocessor: the improved recipe's features, fitted on training rows only."""

import numpy as np
import pandas as pd
import pytest
import torch
from house_prices_helpers import kaggle_copies, skewed_frame

from d2lcompute import house_prices as hp


@pytest.fixture
def kaggle(real_data_dir):
    return kaggle_copies(real_data_dir)[:2]


# ---- the preprocessor --------------------------------------------------------------------------


def test_preprocessor_standardises_with_training_statistics_only():
    data = skewed_frame()
    features = hp.data.features(data)
    prep = hp.preprocessor.Preprocessor(clip=100).fit(features[:30])
    assert prep.numeric_ == ["LotArea", "YearBuilt"] and prep.log_columns_ == ["LotArea"]
    X = prep.transform(features).double().numpy()
    # oracle: numpy statistics of the first 30 rows
    lot = np.log1p(data["LotArea"].to_numpy())
    year = data["YearBuilt"].to_numpy(dtype=float)
    for column, values in [(0, lot), (1, year)]:
        expected = (values - values[:30].mean()) / values[:30].std(ddof=1)
        np.testing.assert_allclose(X[:, column], expected, rtol=1e-5, atol=1e-5)
    assert prep.feature_names[:2] == ["LotArea", "YearBuilt"]
    assert len(prep.feature_names) == X.shape[1] == 2 + (3 + 1) + (2 + 1)


def test_preprocessor_encodes_unseen_and_missing_categories():
    train = pd.DataFrame({"Street": ["Pave", "Grvl", None], "Area": [1.0, 2.0, np.nan]})
    other = pd.DataFrame({"Street": ["Gravelish", None, "Pave"], "Area": [np.nan, 50.0, 2.0]})
    prep = hp.preprocessor.Preprocessor(skew_threshold=10, clip=3).fit(train)
    X = prep.transform(other)
    assert prep.feature_names == ["Area", "Street_Grvl", "Street_Pave", "Street_nan"]
    torch.testing.assert_close(X[:, 1:], torch.tensor([[0, 0, 0], [0, 0, 1], [0, 1, 0.0]]))
    # missing -> the training mean (0); 50 is 68 stds away -> clipped to 3
    torch.testing.assert_close(X[:, 0], torch.tensor([0.0, 3.0, 0.7071068]))


def test_preprocessor_rejects_misuse():
    prep = hp.preprocessor.Preprocessor()
    with pytest.raises(RuntimeError, match=r"call fit\(\) before transform\(\)"):
        prep.transform(skewed_frame())
    prep.fit(hp.data.features(skewed_frame()))
    with pytest.raises(ValueError, match="features lack the fitted column.* 'Street'"):
        prep.transform(hp.data.features(skewed_frame()).drop(columns="Street"))
    with pytest.raises(ValueError, match="clip must be >= 0, got clip=-1"):
        hp.preprocessor.Preprocessor(clip=-1)


def test_outliers_are_the_two_huge_cheap_houses(kaggle):
    train_data, test_data = kaggle
    assert train_data["Id"][hp.preprocessor.is_outlier(train_data)].tolist() == [524, 1299]
    assert not hp.preprocessor.is_outlier(test_data).any()  # no price, nothing to drop


def test_preprocessor_refuses_one_column_name_as_a_string():
    """A string would be split into letters and MSSubClass treated as numeric."""
    with pytest.raises(
        TypeError,
        match=r"categorical must be a tuple or list of column names, "
        r"got categorical='MSSubClass'.*\('MSSubClass',\)",
    ):
        hp.preprocessor.Preprocessor(categorical="MSSubClass")


def test_added_features_are_row_sums_and_ages(kaggle):
    train_data, _ = kaggle
    before = train_data.copy()
    added = hp.preprocessor.add_features(hp.data.features(train_data))
    pd.testing.assert_frame_equal(train_data, before)  # a copy, not the caller's frame
    # Id 1: 856 sq ft of basement, 856 + 854 above; 2 full, 1 half and 1 basement bath
    assert added["TotalSF"][0] == 856 + 856 + 854 and added["TotalPorchSF"][0] == 61
    assert added["TotalBath"][0] == 2 + 0.5 + 1
    assert added["Age"][0] == 2008 - 2003 and added["RemodAge"][0] == 2008 - 2003
    assert added.shape == (1460, 79 + 5)
    # on the rows alone: a row's features do not depend on the others
    pd.testing.assert_frame_equal(
        hp.preprocessor.add_features(hp.data.features(train_data[5:9])), added[5:9]
    )
    # a frame without the source columns gets nothing added
    small = pd.DataFrame({"LotArea": [1.0]})
    pd.testing.assert_frame_equal(hp.preprocessor.add_features(small), small)
