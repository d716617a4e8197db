""".ci/check_dist.py, the list of what gmmlib's sdist and wheel may hold, can fail.

``.ci/wheel-test`` builds the real distributions and runs the checker on them;
here it runs on small archives made to look like them: the right ones pass,
and one of the book's files in the sdist, a numba cache file in the wheel, or a
missing licence each fails.
"""

from __future__ import annotations

import importlib.util
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.repository


CHECKER = Path(__file__).resolve().parent.parent / ".ci" / "check_dist.py"
spec = importlib.util.spec_from_file_location("check_dist", CHECKER)
check_dist = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_dist)

SDIST = [
    "PKG-INFO",
    "pyproject.toml",
    "setup.cfg",
    "README.md",
    "CHANGELOG.md",
    "CITATION.cff",
    "LICENSE",
    "LICENSE-text",
    "MANIFEST.in",
    "gmmlib/__init__.py",
    "gmmlib/_kernels.py",
    "gmmlib/mixture.py",
    "gmmlib/covariance/__init__.py",
    "gmmlib/covariance/_base.py",
    "gmmlib.egg-info/PKG-INFO",
]
WHEEL = [
    "gmmlib/__init__.py",
    "gmmlib/_kernels.py",
    "gmmlib/mixture.py",
    "gmmlib/covariance/__init__.py",
    "gmmlib/covariance/_base.py",
    "gmmlib-0.2.0.dist-info/METADATA",
    "gmmlib-0.2.0.dist-info/licenses/LICENSE",
    "gmmlib-0.2.0.dist-info/RECORD",
]


def archives(tmp_path, sdist_names, wheel_names):
    sdist = tmp_path / "gmmlib-0.2.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for name in sdist_names:
            info = tarfile.TarInfo(f"gmmlib-0.2.0/{name}")
            tar.addfile(info, io.BytesIO(b""))
    wheel = tmp_path / "gmmlib-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name in wheel_names:
            zf.writestr(name, "")
    return str(sdist), str(wheel)


def test_the_right_distributions_pass(tmp_path):
    assert check_dist.problems(*archives(tmp_path, SDIST, WHEEL)) == []


@pytest.mark.parametrize(
    ("sdist", "wheel", "problem"),
    [
        (SDIST + ["_build/html/index.html"], WHEEL, "_build/html/index.html"),
        (SDIST + ["chapters/01_model.md"], WHEEL, "chapters/01_model.md"),
        (SDIST + ["benchmarks/rows.npy"], WHEEL, "benchmarks/rows.npy"),
        (SDIST + [".venv/bin/python"], WHEEL, ".venv/bin/python"),
        ([n for n in SDIST if n != "LICENSE-text"], WHEEL, "lacks LICENSE-text"),
        ([n for n in SDIST if n != "CHANGELOG.md"], WHEEL, "lacks CHANGELOG.md"),
        (
            SDIST,
            WHEEL + ["gmmlib/__pycache__/_kernels._residuals-65.py311.nbi"],
            "_kernels._residuals-65.py311.nbi",
        ),
        (
            SDIST,
            WHEEL + ["gmmlib/__pycache__/_kernels._residuals-65.py311.1.nbc"],
            ".nbc",
        ),
        (SDIST, WHEEL + ["gmmlib/__pycache__/em.cpython-311.pyc"], ".pyc"),
        # a subpackage left out of pyproject's packages (it happened)
        (
            SDIST,
            [n for n in WHEEL if "covariance" not in n],
            "gmmlib/covariance/__init__.py",
        ),
        (
            SDIST,
            [n for n in WHEEL if not n.endswith("LICENSE")],
            "the wheel lacks its LICENSE",
        ),
    ],
)
def test_a_wrong_distribution_fails(tmp_path, sdist, wheel, problem):
    found = check_dist.problems(*archives(tmp_path, sdist, wheel))
    assert any(problem in p for p in found), found
