"""Report the package's version and its libraries', the devices found, the data folder in
use and why it was chosen, and which data sets are there (hashes checked) or would be
downloaded from where."""

import importlib
import platform
from pathlib import Path

HELP = "versions, devices, data folder and data sets"


def add_arguments(parser):
    from d2lcompute.commands import add_options

    add_options(parser, "--data-dir")


def run(args):
    import torch

    import d2lcompute
    from d2lcompute import devices, hub

    print(f"d2lcompute   {d2lcompute.__version__} ({Path(d2lcompute.__file__).parent})")
    print(f"python       {platform.python_version()} ({platform.platform()})")
    print(f"torch        {torch.__version__}")
    print(f"torchvision  {_version('torchvision')}")
    for name in ("numpy", "pandas", "matplotlib"):
        print(f"{name:12} {_version(name)}")
    print(
        f"devices      {', '.join(str(d) for d in devices.try_all_gpus())} "
        f"({devices.num_gpus()} GPU(s))"
    )
    sources = {
        rel: (sha1, hub.FASHION_MNIST_URL + Path(rel).name + ".gz")
        for rel, sha1 in hub.FASHION_MNIST_SHA1.items()
    }
    sources.update({url.rsplit("/", 1)[-1]: (sha1, url) for url, sha1 in hub.DATA_HUB.values()})
    folder, reason = hub.choose_data_dir(args.data_dir, needs=list(sources))
    print(f"data folder  {folder.resolve()}{'' if folder.is_dir() else '  (does not exist yet)'}")
    print(f"             chosen: {_WHY[reason]}")
    for rel, (sha1, url) in sources.items():
        status = _status(folder / rel, sha1)
        fetch = f"  (would be downloaded from {url})" if status != "ok" else ""
        print(f"  {status:9} {rel}{fetch}")
    return 0


_WHY = {
    "given": "--data-dir",
    "environment": "$D2LCOMPUTE_DATA_DIR",
    "book layout": "the book's ../data, which holds the data sets",
    "cache": "the package's cache (no --data-dir, no $D2LCOMPUTE_DATA_DIR, no complete ../data)",
}


def _version(module_name):
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # a torchvision built for another torch fails at import
        return f"not usable ({type(e).__name__}: {e})"
    return module.__version__


def _status(path, sha1):
    from d2lcompute.hub import file_sha1

    if not path.is_file():
        return "missing"
    return "ok" if file_sha1(path) == sha1 else "BAD HASH"
