import subprocess
import sys

import pytest

import d2lcompute as d2l


def test_import_keeps_heavy_libraries_out():
    code = ("import sys, d2lcompute; "
            "print(sorted(m for m in ('matplotlib', 'pandas', 'torchvision') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", d2l.__all__)
def test_every_public_name_resolves(name):
    assert getattr(d2l, name) is not None


def test_unknown_name_is_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        d2l.not_a_name


def test_chapter_modules_stay_namespaced():
    assert callable(d2l.hub.data_dir)
    assert "train" not in d2l.__all__  # the book reuses `train` for different jobs
