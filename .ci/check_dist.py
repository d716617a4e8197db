"""List gmmlib's sdist and wheel, and fail on a file they should not hold or lack.

    python .ci/check_dist.py dist/gmmlib-X.tar.gz dist/gmmlib-X-py3-none-any.whl

The sdist holds what building the wheel needs (gmmlib's modules,
pyproject.toml, README.md) with the licences, CHANGELOG.md and CITATION.cff,
and nothing of the book (chapters, _build, benchmarks and their data, .venv).
The wheel holds gmmlib's modules and its metadata only: no numba cache
(``__pycache__``, ``*.nbi``, ``*.nbc``), no bytecode. .ci/wheel-test runs it;
tests/test_check_dist.py shows that it fails on a wrong archive.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile

SDIST_NEEDS = {
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "LICENSE-text",
    "CHANGELOG.md",
    "CITATION.cff",
    "gmmlib/__init__.py",
    "gmmlib/_kernels.py",
    "gmmlib/covariance/__init__.py",
    "gmmlib/covariance/_base.py",
}
SDIST_MAY_HOLD = re.compile(
    r"pyproject\.toml|setup\.cfg|PKG-INFO|MANIFEST\.in|README\.md|CHANGELOG\.md"
    r"|CITATION\.cff|LICENSE|LICENSE-text|gmmlib/(covariance/)?[a-z_]+\.py"
    r"|gmmlib\.egg-info/[A-Za-z_.-]+"
)
WHEEL_NEEDS = {
    "gmmlib/__init__.py",
    "gmmlib/_kernels.py",
    "gmmlib/covariance/__init__.py",
    "gmmlib/covariance/_base.py",
}
WHEEL_MAY_HOLD = re.compile(
    r"gmmlib/(covariance/)?[a-z_]+\.py|gmmlib-[^/]+\.dist-info/(licenses/)?[A-Za-z_.-]+"
)


def sdist_files(path: str) -> list[str]:
    with tarfile.open(path) as tar:
        return sorted(m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile())


def wheel_files(path: str) -> list[str]:
    with zipfile.ZipFile(path) as wheel:
        return sorted(n for n in wheel.namelist() if not n.endswith("/"))


def problems(sdist: str, wheel: str) -> list[str]:
    found = []
    for kind, names, needs, may_hold in (
        ("sdist", sdist_files(sdist), SDIST_NEEDS, SDIST_MAY_HOLD),
        ("wheel", wheel_files(wheel), WHEEL_NEEDS, WHEEL_MAY_HOLD),
    ):
        print(f"{kind}: {', '.join(names)}")
        found += [f"the {kind} lacks {n}" for n in sorted(needs - set(names))]
        found += [
            f"the {kind} should not hold {n}"
            for n in names
            if not may_hold.fullmatch(n)
        ]
    wheel_names = wheel_files(wheel)
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel_names):
        found.append("the wheel lacks its LICENSE")
    return found


if __name__ == "__main__":
    errors = problems(*sys.argv[1:3])
    for error in errors:
        print("error:", error, file=sys.stderr)
    sys.exit(1 if errors else 0)
