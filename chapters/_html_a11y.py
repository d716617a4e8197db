"""Two HTML elements written with ARIA that WCAG 2.1 checkers reject.

A Sphinx extension (``local_extensions`` in ``_config.yml``), so the pages are
right as built rather than patched in the browser:

- docutils writes each entry of a reference list as
  ``<div role="doc-biblioentry">`` inside ``<div role="list">``. DPUB-ARIA 1.1
  deprecates ``doc-biblioentry``, so the list has no list items and its
  back-links count as its children (axe-core: ``aria-required-children``,
  critical, and ``aria-deprecated-role``). The entries become ``listitem``,
  the role DPUB-ARIA names in its place.
- myst-nb names the ``<summary>`` of a collapsed code cell "Toggle hidden
  content" while it shows "Show code cell source", so a speech-input user who
  says what they see misses it (WCAG 2.5.3 Label in Name; axe-core:
  ``label-content-name-mismatch``, serious). Without the aria-label the
  summary is named by its visible text.

Each visitor runs the original one and changes only the attribute.
"""

from __future__ import annotations

from docutils import nodes
from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

_BIBLIOENTRY = 'role="doc-biblioentry"'
_SUMMARY_LABEL = ' aria-label="Toggle hidden content"'


def _replace_in_last(body: list[str], count: int, old: str, new: str) -> None:
    """Replace old by new in the last `count` strings the visitor appended."""
    for i in range(len(body) - count, len(body)):
        body[i] = body[i].replace(old, new)


def visit_citation(self, node):
    start = len(self.body)
    type(self).visit_citation(self, node)
    _replace_in_last(self.body, len(self.body) - start, _BIBLIOENTRY, 'role="listitem"')


def depart_citation(self, node):
    type(self).depart_citation(self, node)


def visit_hide_cell_input(self, node):
    start = len(self.body)
    visit_HideCellInput(self, node)
    _replace_in_last(self.body, len(self.body) - start, _SUMMARY_LABEL, "")


def setup(app):
    app.setup_extension("myst_nb")
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    app.add_node(
        HideCodeCellNode,
        override=True,
        html=(visit_hide_cell_input, depart_HideCellInput),
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
