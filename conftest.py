"""Collect the book's MyST Markdown notebooks for nbval.

nbval only collects ``.ipynb`` files. The chapters are MyST Markdown notebooks
(``.md`` with a jupytext header), so this hook reads each chapter with jupytext
and hands the notebook to nbval's own collector, which starts a kernel and runs
every code cell as a test item named ``chapters/<chapter>.md::Cell <n>``.
MyST notebooks store no outputs: the cells check their results with ``assert``.
"""

from types import SimpleNamespace
from unittest import mock

import jupytext
import nbval.plugin


def _is_myst_notebook(path):
    """A Markdown file is a notebook when its front matter names a jupytext format."""
    if path.suffix != ".md":
        return False
    with path.open(encoding="utf-8") as f:
        head = f.read(2048)
    return head.startswith("---") and "format_name: myst" in head


class MystNotebookFile(nbval.plugin.IPyNbFile):
    """nbval's notebook collector, fed a notebook that jupytext read from MyST."""

    def collect(self):
        notebook = jupytext.read(self.path)
        reader = SimpleNamespace(read=lambda *args, **kwargs: notebook)
        # nbval reads the file with nbformat.read; give it the jupytext notebook.
        with mock.patch.object(nbval.plugin, "nbformat", reader):
            yield from super().collect()


def pytest_collect_file(file_path, parent):
    option = parent.config.option
    if (option.nbval or option.nbval_lax) and _is_myst_notebook(file_path):
        return MystNotebookFile.from_parent(parent, path=file_path)
    return None
