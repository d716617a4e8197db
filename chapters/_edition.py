"""Keep the student edition's downloads free of solutions (a local Sphinx extension).

sphinx-exercise's ``hide_solutions`` drops every ``{solution}`` directive from
the pages (and so from the search index). The pages' download buttons,
though, serve copies of the sources from ``_sources/``: the chapter's MyST
file and the executed ``.ipynb`` that myst-nb writes there. With
``hide_solutions`` on, this extension removes the same ``{solution}`` blocks
from those copies once the build has finished, so a student who downloads a
chapter gets its exercises without their solutions. With it off (the full
edition) it does nothing.

The printed edition (``make pdf``) is Sphinx's ``singlehtml`` build. Sphinx
looks up a node's HTML writer under the builder's name first and falls back to
``html`` only when no extension registered any writer for ``singlehtml``;
sphinx-exercise registers its own, so the nodes of the other extensions that
only name ``html`` (sphinx-jupyterbook-latex's ``HiddenCellNode`` next to the
landing page's table of contents) would have no writer there. Before a
``singlehtml`` build this extension gives every such node its ``html`` writer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_OPEN = re.compile(r"^(?P<fence>:{3,}|`{3,})\{solution(?:-start)?\}")


def strip_solutions(text: str) -> str:
    """``text`` without its ``{solution}`` directive blocks (colon or backtick fences)."""
    kept, fence = [], None
    for line in text.splitlines(keepends=True):
        if fence is None:
            match = _OPEN.match(line)
            if match:
                fence = match.group("fence")
                continue
            kept.append(line)
        elif line.rstrip() == fence:
            fence = None
    if fence is not None:
        raise ValueError(f"unclosed {{solution}} block (fence {fence!r})")
    return "".join(kept)


def _strip_notebook(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell["source"]
        text = source if isinstance(source, str) else "".join(source)
        cell["source"] = strip_solutions(text)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False), encoding="utf-8")


def _strip_sources(app, exception) -> None:
    if exception is not None or not app.config.hide_solutions:
        return
    sources = Path(app.outdir) / "_sources"
    for path in sorted(sources.rglob("*")):
        if path.suffix == ".ipynb":
            _strip_notebook(path)
        elif path.suffix in {".md", ".txt"}:
            text = path.read_text(encoding="utf-8")
            path.write_text(strip_solutions(text), encoding="utf-8")


def _html_writers_for_singlehtml(app) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, writers in handlers.get("html", {}).items():
        single.setdefault(node, writers)


def setup(app):
    app.connect("builder-inited", _html_writers_for_singlehtml)
    app.connect("build-finished", _strip_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
