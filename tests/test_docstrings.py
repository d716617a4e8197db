"""gmmlib's public docstrings read well in a terminal and on the API page.

In a terminal (``help()``) an equation is named by its label and code sits
between single backticks; the book's Sphinx extension (chapters/_equations.py,
an ``autodoc-process-docstring`` hook) turns the labels into ``:eq:`` links on
the API page, and the API page documents only the public API.
"""

import inspect
import pydoc
import re

import pytest
from test_equation_checks import ROOT, equations_module

import gmmlib
from gmmlib import GaussianMixture

pytestmark = pytest.mark.repository


SPHINX_ONLY = (":eq:", ":math:", ":meth:", ":class:", ":func:", ":mod:", "``")


def _own_docstrings(cls):
    """The class's docstring and those of the methods gmmlib defines on it."""
    docs = {cls.__name__: inspect.getdoc(cls)}
    for name, member in vars(cls).items():
        function = getattr(member, "__wrapped__", member)
        if (
            callable(function)
            and not name.startswith("_")
            and getattr(function, "__module__", "").startswith("gmmlib")
        ):
            docs[f"{cls.__name__}.{name}"] = inspect.getdoc(member)
    return docs


@pytest.mark.parametrize(
    "cls",
    [
        GaussianMixture,
        gmmlib.DegenerateComponentWarning,
        gmmlib.StarvedComponentWarning,
    ],
)
def test_help_shows_no_sphinx_markup_and_no_private_module(cls):
    docs = _own_docstrings(cls)
    help_text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    for name, doc in docs.items():
        assert doc, f"{name} has no docstring"
        # what help() prints is the docstring as written
        assert doc.splitlines()[0] in help_text
        for markup in (*SPHINX_ONLY, "gmmlib._"):
            assert markup not in doc, f"{name}'s docstring holds {markup!r}"


def test_the_estimators_methods_are_all_checked():
    names = set(_own_docstrings(GaussianMixture))
    expected = {"fit", "fit_predict", "partial_fit", "predict", "predict_proba"}
    expected |= {"score", "score_samples", "sample", "bic", "aic"}
    assert {f"GaussianMixture.{name}" for name in expected} <= names


def test_the_docstrings_still_name_their_equations():
    doc = inspect.getdoc(GaussianMixture.partial_fit)
    assert "eq-stepwise" in doc and "eq-step-size" in doc
    cited = equations_module.docstring_references(ROOT / "gmmlib")
    assert "gmmlib.mixture.GaussianMixture.partial_fit" in cited["eq-stepwise"]
    assert "gmmlib.mixture.GaussianMixture.fit" in cited["eq-weighted-pi-new"]


# -- the hook that makes the API page's reST ------------------------------------------

docstring_to_rest = equations_module.docstring_to_rest


def test_hook_turns_a_bare_label_into_an_equation_reference():
    assert (
        docstring_to_rest("Stepwise EM (chapter 11, eq-stepwise).")
        == "Stepwise EM (chapter 11, :eq:`eq-stepwise`)."
    )
    assert docstring_to_rest("eq-bic, eq-aic") == ":eq:`eq-bic`, :eq:`eq-aic`"


def test_hook_turns_single_backticks_into_literals():
    assert docstring_to_rest("Keep `history_` after `fit`.") == (
        "Keep ``history_`` after ``fit``."
    )


@pytest.mark.parametrize(
    "text",
    [
        "See :eq:`eq-sigma-new`.",
        ":math:`\\sum_n γ_{nk}`,\n:math:`\\sum_n γ_{nk} x_n` and ``nk == 0``",
        "``eq-sigma-new`` is a literal",
        ":func:`gmmlib.em.m_step` and :prf:ref:`thm-sigma-new`",
        "no markup, no label: eq- alone, freq-sigma",
    ],
)
def test_hook_leaves_rest_markup_and_plain_text_alone(text):
    assert docstring_to_rest(text) == text


def test_hook_rewrites_only_gmmlibs_docstrings_in_place():
    lines = ["Draw rows (eq-mixture).", "", "Returns `X`."]
    equations_module._process_docstring(None, "method", "gmmlib.X.f", None, {}, lines)
    assert lines == ["Draw rows (:eq:`eq-mixture`).", "", "Returns ``X``."]
    other = ["A `thing` (eq-mixture)."]
    equations_module._process_docstring(None, "method", "numpy.f", None, {}, other)
    assert other == ["A `thing` (eq-mixture)."]


def test_the_extension_connects_the_hook_before_napoleon():
    connected = []

    class App:
        def connect(self, event, callback, priority=500):
            connected.append((event, callback, priority))

    equations_module.setup(App())
    hooks = [
        (cb, p) for event, cb, p in connected if event == "autodoc-process-docstring"
    ]
    assert hooks == [(equations_module._process_docstring, 400)]


# -- the API page -------------------------------------------------------------------


def test_the_api_page_documents_only_the_public_api():
    text = (ROOT / "chapters" / "api.md").read_text(encoding="utf-8")
    targets = re.findall(r"^\s*\.\. auto\w+::\s*(\S+)", text, re.M)
    assert "gmmlib.GaussianMixture" in targets
    private = [t for t in targets if any(p.startswith("_") for p in t.split("."))]
    assert private == [], f"the API page documents private names: {private}"
