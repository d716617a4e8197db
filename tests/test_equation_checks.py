"""Every labelled equation of the derivation has gmmlib code and a checking cell.

The index is built by ``chapters/_equations.py``, the same module that renders
the "Equations and their checks" page, so the page and this test cannot drift.
"""

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_equations_module():
    spec = importlib.util.spec_from_file_location(
        "_equations", ROOT / "chapters" / "_equations.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


equations_module = _load_equations_module()


@pytest.fixture(scope="module")
def book_equations():
    equations = equations_module.index(ROOT)
    assert equations, "no labelled equation found in chapters/NN_*.md"
    return equations


def _where(equations):
    return ", ".join(f"{eq.label} ({eq.chapter}.md:{eq.line})" for eq in equations)


def test_every_labelled_equation_has_a_checking_cell(book_equations):
    missing = equations_module.unchecked(book_equations)
    assert not missing, (
        f"labelled equations with no '# checks: <label>' code cell: {_where(missing)}"
    )


def test_every_labelled_equation_names_its_gmmlib_code(book_equations):
    table = equations_module.contributing_table(ROOT / "CONTRIBUTING.md")
    missing = equations_module.unimplemented(book_equations, table)
    assert not missing, (
        "labelled equations with no gmmlib function (add a row to CONTRIBUTING.md's "
        f"table or cite the label in a docstring with :eq:): {_where(missing)}"
    )


def test_equation_labels_are_unique(book_equations):
    assert not equations_module.duplicates(book_equations)


def test_every_checks_comment_names_a_defined_equation(book_equations):
    defined = {eq.label for eq in book_equations}
    for path in sorted((ROOT / "chapters").glob("*.md")):
        named = set(equations_module.checking_cells(path))
        assert named <= defined, (
            f"{path.name} checks undefined labels {sorted(named - defined)}"
        )


def test_every_docstring_equation_reference_is_defined(book_equations):
    defined = {eq.label for eq in book_equations}
    cited = equations_module.docstring_references(ROOT / "gmmlib")
    undefined = {label: where for label, where in cited.items() if label not in defined}
    assert not undefined, f"docstrings cite labels no chapter defines: {undefined}"


CHAPTER = """\
---
jupytext:
  text_representation:
    format_name: myst
---

# A chapter

$$
a = b
$$ (eq-checked)

$$
c = d
$$ (eq-unchecked)

```{math}
:label: eq-directive
e = f
```

```{code-cell} ipython3
# checks: eq-checked, eq-directive
a, e = 1, 1
```

```{code-cell} ipython3
x = "$$ (eq-not-an-equation)"
```
"""


@pytest.fixture
def toy_book(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_toy.md").write_text(CHAPTER, encoding="utf-8")
    (tmp_path / "chapters" / "notes.md").write_text(
        "```{code-cell} ipython3\n# checks: eq-directive\n```\n", encoding="utf-8"
    )
    (tmp_path / "gmmlib").mkdir()
    (tmp_path / "gmmlib" / "core.py").write_text(
        textwrap.dedent(
            '''
            def f():
                """Compute a. See :eq:`eq-checked`."""
            '''
        ),
        encoding="utf-8",
    )
    (tmp_path / "CONTRIBUTING.md").write_text(
        "| label | what | gmmlib |\n|---|---|---|\n| eq-directive | e | `core.g` |\n",
        encoding="utf-8",
    )
    return tmp_path


def test_checker_reports_a_labelled_equation_without_a_check(toy_book):
    equations = equations_module.index(toy_book)
    assert [eq.label for eq in equations] == [
        "eq-checked",
        "eq-unchecked",
        "eq-directive",
    ]
    assert [eq.label for eq in equations_module.unchecked(equations)] == [
        "eq-unchecked"
    ]
    checked = {eq.label: eq for eq in equations}["eq-checked"]
    assert checked.checks == [("01_toy", 1)]
    assert checked.functions == ["gmmlib.core.f"]
    directive = {eq.label: eq for eq in equations}["eq-directive"]
    assert directive.checks == [("01_toy", 1), ("notes", 1)]


def test_checker_reports_a_labelled_equation_without_gmmlib_code(toy_book):
    equations = equations_module.index(toy_book)
    table = equations_module.contributing_table(toy_book / "CONTRIBUTING.md")
    assert [eq.label for eq in equations_module.unimplemented(equations, table)] == [
        "eq-unchecked"
    ]


def test_table_links_documented_code_and_flags_missing_checks(toy_book):
    (toy_book / "chapters" / "api.md").write_text(
        "```{eval-rst}\n.. automodule:: gmmlib.core\n```\n", encoding="utf-8"
    )
    equations = equations_module.index(toy_book)
    table = equations_module.contributing_table(toy_book / "CONTRIBUTING.md")
    rows = equations_module.markdown_table(
        equations, table, toy_book / "chapters" / "api.md"
    ).splitlines()
    assert len(rows) == 2 + 3
    checked, unchecked, directive = rows[2:]
    assert "{eq}`eq-checked`" in checked
    assert "{py:obj}`core.f <gmmlib.core.f>`" in checked
    assert "{doc}`ch. 1 <01_toy>`, cell 1" in checked
    assert "**none**" in unchecked and "—" in unchecked
    assert "`core.g`" in directive  # from CONTRIBUTING.md: no link


def test_api_names_follow_the_api_page():
    modules, classes = {"gmmlib.em"}, ["gmmlib.GaussianMixture"]
    api_name = equations_module.api_name
    assert api_name("gmmlib.em.m_step", modules, classes) == "gmmlib.em.m_step"
    assert (
        api_name("gmmlib.mixture.GaussianMixture.fit", modules, classes)
        == "gmmlib.GaussianMixture.fit"
    )
    assert api_name("gmmlib.suffstats.m_step", modules, classes) is None
