"""What `make` says to a newcomer before anything is installed.

Each test copies the Makefile into an empty folder and asks make for the one
target it checks, so nothing here creates a virtual environment.
"""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _make(tmp_path, *args):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_python_that_does_not_exist_is_named_as_missing_not_as_too_old(tmp_path):
    missing = tmp_path / "missing" / "python3.12"
    result = _make(tmp_path, ".venv/bin/python", f"PYTHON={missing}")
    assert result.returncode != 0
    assert f"PYTHON={missing} is not an interpreter" in result.stderr
    assert "older than Python 3.10" not in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_help_lists_every_target_a_user_can_run(tmp_path):
    result = _make(tmp_path, "help")
    assert result.returncode == 0
    listed = {
        line.split()[1]
        for line in result.stdout.splitlines()
        if line.startswith("make ")
    }
    phony = (ROOT / "Makefile").read_text(encoding="utf-8").split(".PHONY:")[1]
    internal = {"help", "full-book", "student-book", "student-config"}
    internal |= {"full-pdf", "student-pdf", "pdfs"}  # what `make pdf` runs
    targets = set(phony.splitlines()[0].split()) - internal
    assert targets <= listed, sorted(targets - listed)
