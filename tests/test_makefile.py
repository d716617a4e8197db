"""What `make` says and does for a newcomer, and what `make book` prints.

The first tests copy the Makefile into an empty folder and ask make for the one
target they check; the others read make's plan (`make -n`, which runs nothing)
or feed recorded builds (tests/build_logs/) to the filter that `make book`
prints through (.ci/build_log.py). Nothing here creates a virtual environment.
"""

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.repository


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


# -- what `make book` and `make lab` install ------------------------------------------


def _planned(*args):
    """The commands `make -n -B` would run here (all targets out of date, none run)."""
    return subprocess.run(
        # PYTHON given: make need not probe python3.13 ... python3
        ["make", "--no-print-directory", "-n", "-B", f"PYTHON={sys.executable}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.parametrize("goal", [["book"], ["book", "EDITION=student"], ["lab"]])
def test_reading_and_running_the_chapters_installs_no_test_tools(goal):
    planned = _planned(*goal)
    assert re.search(r"pip install .*-r requirements\.txt", planned)
    assert "requirements-test.txt" not in planned


def test_the_checks_install_the_test_tools():
    # the same reading of make's plan finds them where they belong
    assert re.search(r"pip install .*-r requirements-test\.txt", _planned("test-setup"))


def test_make_book_runs_jupyter_book_through_the_log_filter():
    planned = _planned("book").replace("\\\n", " ")
    build = [line for line in planned.splitlines() if "jupyter-book build" in line]
    assert len(build) == 1, planned
    assert ".ci/build_log.py _build/logs/book.log -- " in build[0]
    # the kernels are compiled once: by make, not by postBuild as well
    assert len([line for line in planned.splitlines() if "warm_up()" in line]) == 1
    assert "GMMBOOK_NO_WARM_UP=1 .venv/bin/python binder/postBuild" in planned


# -- the build's console output (.ci/build_log.py) on recorded builds ---------------

LOGS = Path(__file__).resolve().parent / "build_logs"


def _build_log():
    spec = importlib.util.spec_from_file_location(
        "build_log", ROOT / ".ci" / "build_log.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _console(recorded, returncode, cwd="/home/reader/book"):
    """What the filter prints for a recorded build (streamed, then its end)."""
    build_log = _build_log()
    keep = build_log.Filter()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build_log.Path, "cwd", lambda: Path(cwd))
        stream = "".join(keep.feed(line) for line in recorded.splitlines(True))
    return stream, keep.finish(returncode, Path("_build/logs/book.log"))


def test_a_built_book_shows_one_line_per_chapter_and_none_of_the_noise():
    recorded = (LOGS / "book.log").read_text(encoding="utf-8")
    stream, end = _console(recorded, 0)
    executed = re.findall(r"Executed notebook in [\d.]+ seconds", recorded)
    assert len(executed) >= 11  # the recording executed every chapter
    lines = stream.splitlines()
    progress = [
        x for x in lines if re.fullmatch(r"executing \S+\.md \.\.\. [\d.]+ s", x)
    ]
    assert len(progress) == len(executed)
    assert any(x.startswith("wrote ") and "build succeeded" in x for x in lines)
    for noise in ("without encryption", "MdParserConfig", "NbParserConfig", "\x1b["):
        assert noise in recorded
        assert noise not in stream + end, noise
    assert len(lines) <= len(executed) + 8, stream
    assert end == "The whole build log: _build/logs/book.log\n"


def test_a_warning_is_shown_as_it_comes_and_again_when_the_strict_build_fails():
    recorded = (LOGS / "book.log").read_text(encoding="utf-8").splitlines(True)
    warning = (
        "/home/reader/book/chapters/05_em_in_action.md:120: "
        "\x1b[91mWARNING: undefined label: 'eq-sigma-nwe'\x1b[39;49;00m\n"
    )
    at = len(recorded) // 2
    stream, end = _console("".join(recorded[:at] + [warning] + recorded[at:]), 1)
    plain = "/home/reader/book/chapters/05_em_in_action.md:120: WARNING: undefined"
    assert plain in stream
    assert "error: the build failed (exit status 1)" in end
    assert plain in end


def test_a_failing_cell_is_shown_with_its_code_and_error():
    recorded = (LOGS / "failing_cell.log").read_text(encoding="utf-8")
    stream, end = _console(recorded, 1)
    assert "executing chapter.md ..." in stream  # which chapter was running
    assert "AssertionError: the sum is 2, not 3" in stream  # as it came
    assert "without encryption" in recorded and "without encryption" not in stream
    assert end.splitlines()[1:6] == [
        "error: the build failed (exit status 1).",
        "A cell failed:",
        "    # checks: the sum",
        '    assert x == 3, f"the sum is {x}, not 3"',
        "    AssertionError: the sum is 2, not 3",
    ]


def test_an_unknown_line_is_shown_and_a_failure_without_a_cell_shows_the_last_lines():
    stream, end = _console("Running Sphinx v7.4.7\nsomething new happened\n", 2)
    assert stream == "something new happened\n"
    assert "exit status 2" in end and "    something new happened" in end


def test_the_filter_keeps_the_whole_output_and_the_exit_status(tmp_path, capfd):
    recorded = LOGS / "failing_cell.log"
    log = tmp_path / "logs" / "book.log"
    command = [
        sys.executable,
        "-c",
        "import sys; sys.stdout.write(open(sys.argv[1]).read()); sys.exit(1)",
        str(recorded),
    ]
    assert _build_log().run(log, command) == 1
    assert log.read_text(encoding="utf-8").split("\n", 1)[1] == recorded.read_text(
        encoding="utf-8"
    )
    out, err = capfd.readouterr()
    assert "AssertionError: the sum is 2, not 3" in out
    assert "without encryption" not in out + err
    assert "A cell failed:" in err and f"The whole build log: {log}" in err
