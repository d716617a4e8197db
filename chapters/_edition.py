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

The student edition's Binder and repository buttons lead to the branch
``student``: the repository's files with the same ``{solution}`` blocks
removed, which ``make student-tree`` writes and the Pages workflow pushes
(``.ci/push-student-branch``). Run as a script, this module writes that tree
and the student edition's ``_config.yml``::

    python chapters/_edition.py tree DEST          # the repository, solution-free
    python chapters/_edition.py config SRC DEST    # _config.yml -> the student one

The Binder button reads ``repository.branch``; sphinx-book-theme's repository
button names the repository only, so with ``hide_solutions`` on this extension
points it at the tree of that branch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: The branch the student edition's buttons lead to.
STUDENT_BRANCH = "student"
#: What the student tree leaves out: GitHub's workflows (they would run on the
#: generated branch, and a push with the workflow's token may not write them).
TREE_EXCLUDES = (".github/",)

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
    path.write_text(
        json.dumps(notebook, indent=1, ensure_ascii=False), encoding="utf-8"
    )


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


def _repository_button_to_branch(app, pagename, templatename, context, doctree):
    if not app.config.hide_solutions:
        return
    # sphinx-book-theme reads the builder's copy of html_theme_options
    options = (
        getattr(app.builder, "theme_options", None) or app.config.html_theme_options
    )
    url, branch = options.get("repository_url"), options.get("repository_branch")
    if not url or not branch:
        return
    buttons = list(context.get("header_buttons", []))
    while buttons:
        button = buttons.pop()
        buttons.extend(button.get("buttons", []))
        if button.get("label") == "source-repository-button":
            button["url"] = f"{url.rstrip('/')}/tree/{branch}"


def student_config(config: dict) -> dict:
    """The student edition's configuration from the full edition's ``_config.yml``.

    Solutions hidden, "(student edition)" in the title, the Binder and
    repository buttons on the branch ``student``, and the local extensions'
    folders made absolute (the file is written next to the student build).
    """
    config = json.loads(json.dumps(config))
    config["sphinx"]["config"]["hide_solutions"] = True
    config["title"] += " (student edition)"
    config["repository"]["branch"] = STUDENT_BRANCH
    extensions = config["sphinx"]["local_extensions"]
    extensions.update({k: os.path.abspath(v) for k, v in extensions.items()})
    return config


def tracked_files(root: Path) -> list[str]:
    """The files git tracks under ``root`` (relative paths), as they are on disk."""
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


_BRANCH_LINE = re.compile(r"^(repository:\n(?:[ #][^\n]*\n|\n)*?  branch: )\S+$", re.M)

STUDENT_NOTE = f"""\
> **The student edition.** This branch, `{STUDENT_BRANCH}`, is generated from `main` by
> `make student-tree` on every publication of the book: the same files with
> the exercises' solutions removed (and without `.github/`). Do not edit it
> or open pull requests against it; change `main`.

"""


def write_student_tree(root: Path, dest: Path) -> list[str]:
    """Write the repository's tracked files into ``dest`` without solutions.

    Every Markdown file loses its ``{solution}`` blocks (``strip_solutions``);
    ``_config.yml`` names the branch ``student`` (so a build of that branch
    launches Binder on itself); README.md opens with a note that the branch is
    generated. Returns the relative paths written.
    """
    root, dest = Path(root).resolve(), Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    written = []
    for name in tracked_files(root):
        if name.startswith(TREE_EXCLUDES):
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".md"):
            text = strip_solutions((root / name).read_text(encoding="utf-8"))
            if name == "README.md":
                text = STUDENT_NOTE + text
            target.write_text(text, encoding="utf-8")
        elif name == "_config.yml":
            text = (root / name).read_text(encoding="utf-8")
            text, count = _BRANCH_LINE.subn(rf"\g<1>{STUDENT_BRANCH}", text)
            if count != 1:
                raise ValueError("_config.yml: no 'branch:' line under 'repository:'")
            target.write_text(text, encoding="utf-8")
        else:
            shutil.copy2(root / name, target)
        written.append(name)
    return written


def _main(argv: list[str]) -> int:
    usage = "usage: _edition.py tree DEST | _edition.py config SRC DEST"
    if len(argv) == 2 and argv[0] == "tree":
        root = Path(__file__).resolve().parent.parent
        written = write_student_tree(root, Path(argv[1]))
        print(f"student tree: {len(written)} files, solutions removed, in {argv[1]}")
        return 0
    if len(argv) == 3 and argv[0] == "config":
        import yaml

        with open(argv[1], encoding="utf-8") as source:
            config = student_config(yaml.safe_load(source))
        with open(argv[2], "w", encoding="utf-8") as target:
            yaml.safe_dump(config, target, allow_unicode=True, sort_keys=False)
        return 0
    print(usage, file=sys.stderr)
    return 2


def setup(app):
    app.connect("builder-inited", _html_writers_for_singlehtml)
    # after sphinx-book-theme's own buttons (priority 501)
    app.connect("html-page-context", _repository_button_to_branch, priority=600)
    app.connect("build-finished", _strip_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
