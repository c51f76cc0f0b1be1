"""Where data sets live, and the book's data hub (Book: §4.10, "Downloading and Caching Datasets").

One folder holds the data, chosen in this order: an explicit ``data_dir`` argument,
the environment variable ``D2LCOMPUTE_DATA_DIR``, then the project's ``data/`` cache
(the user cache folder when the package is installed rather than run from a checkout).
"""

import hashlib
import os
from pathlib import Path

ENV_DATA_DIR = "D2LCOMPUTE_DATA_DIR"


def data_dir(data_dir=None):
    """The folder that holds (or will hold) the data sets, as a ``Path``.

    Args:
        data_dir: an explicit folder; wins over ``$D2LCOMPUTE_DATA_DIR`` and the cache.
    """
    if data_dir is None:
        data_dir = os.environ.get(ENV_DATA_DIR) or _default_cache()
    if not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a path, got data_dir={data_dir!r}")
    return Path(data_dir).expanduser()


def file_sha1(path):
    """The sha1 hex digest of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _default_cache():
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "data").is_dir():
        return checkout / "data"
    import pooch  # lazy: only needed to find the platform's cache folder

    return Path(pooch.os_cache("d2lcompute"))


DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"
# name -> (url, sha1), as in the book; book cells may register more entries.
DATA_HUB = {
    "kaggle_house_train": (DATA_URL + "kaggle_house_pred_train.csv",
                           "585e9cc93e70b39160e7921475f9bcd7d31219ce"),
    "kaggle_house_test": (DATA_URL + "kaggle_house_pred_test.csv",
                          "fa19780a7b011d9b009e8bff8e99922a8ee2eb90"),
}

# Fashion-MNIST as torchvision lays it out (uncompressed IDX files), with their sha1s.
FASHION_MNIST_SHA1 = {
    "FashionMNIST/raw/train-images-idx3-ubyte": "b9bd999c0106c9b8b4b0cefce58c9a6060f27095",
    "FashionMNIST/raw/train-labels-idx1-ubyte": "4bccf37222e01638381eaa326bf730337a597267",
    "FashionMNIST/raw/t10k-images-idx3-ubyte": "880056926db704f9f713097915f99da346f5b1d1",
    "FashionMNIST/raw/t10k-labels-idx1-ubyte": "958122e8b4b97fd4e71eca2d08ef754ed77c3ad9",
}
