"""gmmlib's version is written once, in ``gmmlib/__init__.py``.

pyproject.toml reads it (``dynamic = ["version"]``, setuptools' ``attr:``), so
the installed distribution's metadata must carry the same string: a build that
read it from elsewhere, or a stale install, fails here. This test reads no file
of the repository, so it also runs against the installed wheel
(``.ci/wheel-test``).
"""

import importlib.metadata
import re

import gmmlib


def test_installed_metadata_version_is_gmmlib_version():
    assert importlib.metadata.version("gmmlib") == gmmlib.__version__


def test_version_is_a_release_or_development_version():
    # PEP 440 public versions of the form this project uses: 0.2.0, 0.3.0.dev1
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+)?", gmmlib.__version__)
