"""Every labelled equation of the derivation has gmmlib code and a checking cell.

The index is built by ``chapters/_equations.py``, the same module that renders
the "Equations and their checks" page, so the page and this test cannot drift.
"""

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.repository


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


def test_every_checking_cell_asserts(book_equations):
    bare = {
        path.name: found
        for path in sorted((ROOT / "chapters").glob("*.md"))
        if (found := equations_module.checks_without_assert(path))
    }
    assert not bare, (
        "code cells with a '# checks:' line but no assert (they check nothing; "
        f"add an assert against an independent computation): {bare}"
    )


def test_every_display_is_labelled_or_says_why_not():
    chapters = equations_module.derivation_chapters(ROOT / "chapters")
    bare = {
        path.name: lines
        for path in chapters
        if (lines := equations_module.unlabelled_displays(path))
    }
    assert not bare, (
        "$$ displays with neither a label '$$ (eq-...)' nor a line "
        f"'% unlabelled: <reason>' just above them, by file and line: {bare}"
    )


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
assert a == e
```

```{code-cell} ipython3
x = "$$ (eq-not-an-equation)"
```
"""

# A chapter whose checks cannot fail and whose displays are not all labelled.
WEAK_CHAPTER = """\
---
jupytext:
  text_representation:
    format_name: myst
---

$$
a = b
$$ (eq-commented)

$$
c = d
$$ (eq-asserted)

$$
e = f
$$

% unlabelled: a worked line of the proof of eq-asserted, checked with it

$$
g = h
$$

$$ i = j $$

% unlabelled:
$$
k = l
$$

```{code-cell} ipython3
---
tags: [hide-input]
---
# checks: eq-commented
c = 1  # assert c == 1
text = "assert c == 1"
# assert c == 2
```

```{code-cell} ipython3
# checks: eq-asserted
np.testing.assert_allclose(1.0, 1.0)
```

```{code-cell} ipython3
# checks: eq-commented
assert True
```

```{code-cell} ipython3
$$
not = a_display
$$
```

```{math}
m = n
```

:::{prf:proof}
$$
o = p
$$
:::
"""


@pytest.fixture
def toy_book(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_toy.md").write_text(CHAPTER, encoding="utf-8")
    (tmp_path / "chapters" / "notes.md").write_text(
        "```{code-cell} ipython3\n# checks: eq-directive\nassert e == 1\n```\n",
        encoding="utf-8",
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


def test_private_names_after_a_documented_module_or_class_are_not_linked():
    # autodoc leaves private members out, so a link to one would not resolve
    modules = {"gmmlib.covariance", "gmmlib.suffstats"}
    classes = ["gmmlib.covariance.Diag"]
    api_name = equations_module.api_name
    private = (
        "gmmlib.covariance._parsimonious.n_variance_parameters",
        "gmmlib.suffstats.BlockEStep._incomplete_terms",
        "gmmlib.covariance._diagonal.Diag._given",
    )
    for qualname in private:
        assert api_name(qualname, modules, classes) is None, qualname
    assert (
        api_name("gmmlib.covariance._diagonal.Diag.maximise", modules, classes)
        == "gmmlib.covariance.Diag.maximise"
    )
    assert (
        api_name("gmmlib.suffstats.BlockEStep.statistics", modules, classes)
        == "gmmlib.suffstats.BlockEStep.statistics"
    )


@pytest.fixture
def weak_chapter(tmp_path):
    path = tmp_path / "weak" / "chapters" / "01_weak.md"
    path.parent.mkdir(parents=True)
    path.write_text(WEAK_CHAPTER, encoding="utf-8")
    return path


def test_a_checks_comment_without_assert_checks_nothing(weak_chapter):
    # a comment, a string and `assert True` are not assertions; a call of
    # np.testing.assert_allclose is
    assert equations_module.checks_without_assert(weak_chapter) == [
        (1, ["eq-commented"]),
        (3, ["eq-commented"]),
    ]
    assert equations_module.checking_cells(weak_chapter) == {"eq-asserted": [2]}
    equations = {
        eq.label: eq for eq in equations_module.index(weak_chapter.parent.parent)
    }
    assert [eq.label for eq in equations_module.unchecked(equations.values())] == [
        "eq-commented"
    ]


def test_an_unlabelled_display_without_a_reason_is_reported(weak_chapter, toy_book):
    # lines 15 (bare), 25 (one line), 28 (a marker with no reason), 58 (a
    # {math} directive without :label:) and 63 (a display inside a proof);
    # the display after the marker with a reason, and the one in a code cell,
    # pass
    assert equations_module.unlabelled_displays(weak_chapter) == [15, 25, 28, 58, 63]
    # labelled $$ displays and a {math} directive with :label: pass
    toy = toy_book / "chapters" / "01_toy.md"
    assert equations_module.unlabelled_displays(toy) == []


def test_a_test_checks_a_label_only_inside_an_asserting_test_function(tmp_path):
    (tmp_path / "test_labels.py").write_text(
        textwrap.dedent(
            '''
            """Module docstring naming eq-docstring."""
            # checks: eq-module-comment


            def helper():
                # checks: eq-helper
                assert 1


            def test_without_assert():
                # checks: eq-no-assert
                x = 1  # assert x


            def test_with_assert():
                # checks: eq-a, eq-b
                assert 1 + 1 == 2


            def test_with_raises():
                # checks: eq-raises
                with pytest.raises(ValueError):
                    int("x")
            '''
        ),
        encoding="utf-8",
    )
    assert equations_module.test_checks(tmp_path) == {
        "eq-a": ["tests/test_labels.py::test_with_assert"],
        "eq-b": ["tests/test_labels.py::test_with_assert"],
        "eq-raises": ["tests/test_labels.py::test_with_raises"],
    }
