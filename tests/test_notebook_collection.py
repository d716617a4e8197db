"""The root conftest.py hands MyST chapters to nbval, shown on throwaway chapters."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.repository


ROOT = Path(__file__).resolve().parents[1]

HEADER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def _chapter(*cells):
    body = "\n".join(f"```{{code-cell}} ipython3\n{source}\n```\n" for source in cells)
    return HEADER + "\n# A chapter\n\n" + body


@pytest.fixture
def book(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text(encoding="utf-8"))
    pytester.mkdir("chapters")
    return pytester


def _run(pytester):
    return pytester.runpytest_subprocess(
        "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider", "chapters"
    )


def test_every_code_cell_of_a_myst_chapter_is_a_test_item(book):
    book.path.joinpath("chapters", "good.md").write_text(
        _chapter("x = 2", "assert x + 1 == 3"), encoding="utf-8"
    )
    result = _run(book)
    result.assert_outcomes(passed=2)


def test_failing_assert_fails_the_run_naming_the_chapter_and_the_cell(book):
    book.path.joinpath("chapters", "broken.md").write_text(
        _chapter("x = 2", "assert x + 1 == 4, 'the claim is false'"), encoding="utf-8"
    )
    result = _run(book)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*broken.md::Cell 1*", "*the claim is false*"])


def test_markdown_without_a_jupytext_header_is_not_collected(book):
    book.path.joinpath("chapters", "notes.md").write_text(
        "# Plain notes\n\n```python\nassert False\n```\n", encoding="utf-8"
    )
    result = _run(book)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
