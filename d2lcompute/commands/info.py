"""Report the Python, torch and torchvision versions, the devices found, the data folder
in use, and which data sets are there with their hashes checked."""

import platform

HELP = "versions, devices, data folder and data sets"


def add_arguments(parser):
    from d2lcompute.commands import add_options

    add_options(parser, "--data-dir")


def run(args):
    import torch

    from d2lcompute import devices, hub

    print(f"python       {platform.python_version()} ({platform.platform()})")
    print(f"torch        {torch.__version__}")
    print(f"torchvision  {_torchvision_version()}")
    print(f"devices      {', '.join(str(d) for d in devices.try_all_gpus())} "
          f"({devices.num_gpus()} GPU(s))")
    folder = hub.data_dir(args.data_dir)
    print(f"data folder  {folder}{'' if folder.is_dir() else '  (does not exist yet)'}")
    expected = dict(hub.FASHION_MNIST_SHA1)
    expected.update({url.rsplit("/", 1)[-1]: sha1 for url, sha1 in hub.DATA_HUB.values()})
    for rel, sha1 in expected.items():
        print(f"  {_status(folder / rel, sha1):9} {rel}")
    return 0


def _torchvision_version():
    try:
        import torchvision
    except Exception as e:  # a torchvision built for another torch fails at import
        return f"not usable ({type(e).__name__}: {e})"
    return torchvision.__version__


def _status(path, sha1):
    from d2lcompute.hub import file_sha1

    if not path.is_file():
        return "missing"
    return "ok" if file_sha1(path) == sha1 else "BAD HASH"
