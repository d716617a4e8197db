"""Index the book's labelled equations, the gmmlib code behind them and their checks.

Used by ``chapters/equation_checks.md`` (which renders the index at build time)
and by ``tests/test_equation_checks.py`` (which fails when an equation has no
check or no implementation). It lives next to the chapters so the chapter can
``import _equations`` from its working directory; pytest does not collect it
(it is neither a ``test_*.py`` file nor a MyST notebook).

Everything is read as text (``ast`` for gmmlib), so indexing imports nothing.

The conventions it reads are those of CONTRIBUTING.md:

- a labelled display equation closes with ``$$ (eq-...)`` (MyST dollarmath), or
  is a ``{math}`` directive with ``:label: eq-...``;
- every ``$$`` display of a numbered chapter is labelled, or the nearest
  non-blank line above it is a MyST comment ``% unlabelled: <reason>``;
- a checking code cell contains a line ``# checks: eq-a, eq-b`` *and* an
  ``assert`` statement (or a call of an ``assert_*`` function such as
  ``np.testing.assert_allclose``), found by parsing the cell with ``ast``, so a
  comment or a string cannot stand in for one; a cell that names a label but
  asserts nothing is reported by :func:`checks_without_assert` and checks
  nothing;
- a test file checks an equation only inside a ``test_*`` function whose body
  has a line ``# checks: eq-...`` and an assertion; a label mentioned anywhere
  else in a test file (a docstring, a comment at module level) is not a check;
- a gmmlib function names its equation in its docstring, as plain text that
  reads well in a terminal (``help()``): ``chapter 4, eq-sigma-new``; the API
  page turns each label into a link (:func:`docstring_to_rest`, run by the
  ``autodoc-process-docstring`` hook), so an unknown label fails the strict
  build. The older ``:eq:`eq-...``` spelling is read too;
- CONTRIBUTING.md has a table whose first column lists labels and whose last
  column names the gmmlib functions.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LABEL = r"eq-[A-Za-z0-9][A-Za-z0-9_-]*"
_DOLLAR_LABEL = re.compile(r"\$\$\s*\((" + LABEL + r")\)\s*$")
_MATH_LABEL = re.compile(r"^\s*:label:\s*(" + LABEL + r")\s*$")
_CHECKS = re.compile(r"^\s*#\s*checks:\s*(.+)$")
_LABEL_ANYWHERE = re.compile(r"(?<![\w-])(" + LABEL + r")(?![\w-])")
_FENCE = re.compile(r"^(`{3,}|:{3,})\s*(\{[^}]*\})?")
_UNLABELLED = re.compile(r"^%\s*unlabelled:\s*\S")
# reST markup a docstring may hold: a role with its argument, a ``literal``,
# or `code` between single backticks (the only one docstring_to_rest rewrites)
_DOC_MARKUP = re.compile(
    r":[A-Za-z][\w.+-]*(?::[A-Za-z][\w.+-]*)?:`[^`]*`"
    r"|``[^`]*``"
    r"|`[^`]+`"
)


@dataclass
class Equation:
    label: str
    chapter: str  # file stem, e.g. "04_covariance_update"
    line: int
    checks: list[tuple[str, int]] = field(default_factory=list)  # (chapter, cell)
    tests: list[str] = field(default_factory=list)  # "tests/file.py::test_name"
    functions: list[str] = field(default_factory=list)  # "gmmlib.em.f"


def derivation_chapters(chapters_dir: Path) -> list[Path]:
    """The numbered chapters (``01_model.md`` ... ``07_*.md``), in order."""
    return sorted(p for p in chapters_dir.glob("[0-9][0-9]_*.md"))


def labelled_equations(path: Path) -> list[tuple[str, int]]:
    """``(label, line)`` for every labelled display equation in a chapter."""
    found = []
    in_code = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```{code-cell}"):
            in_code = True
            continue
        if in_code:
            in_code = not line.startswith("```")
            continue
        match = _DOLLAR_LABEL.search(line) or _MATH_LABEL.match(line)
        if match:
            found.append((match.group(1), number))
    return found


def code_cells(path: Path) -> list[str]:
    """The source of each ``{code-cell}`` of a MyST notebook, in order."""
    cells, current, fence = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if current is None:
            match = re.match(r"^(`{3,})\{code-cell\}", line)
            if match:
                current, fence = [], match.group(1)
        elif line.rstrip() == fence:
            cells.append("\n".join(current))
            current = None
        else:
            current.append(line)
    return cells


def _python_source(cell: str) -> str:
    """A code cell's Python: cell options, IPython magics and shell escapes blanked."""
    lines = cell.splitlines()
    start = 0
    if lines and lines[0].strip() == "---":  # a YAML block of cell options
        closing = [i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"]
        start = closing[0] + 1 if closing else len(lines)
    while start < len(lines) and re.match(r"^:[\w-]+:", lines[start]):
        start += 1
    return "\n".join(
        "" if i < start or line.lstrip().startswith(("%", "!")) else line
        for i, line in enumerate(lines)
    )


def _is_assertion(node: ast.AST) -> bool:
    """An ``assert`` of something not constant, or a call of ``assert_*``."""
    if isinstance(node, ast.Assert):
        return not isinstance(node.test, ast.Constant)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        # np.testing.assert_allclose, unittest's assertEqual, pytest.raises
        return name.startswith("assert") or name == "raises"
    return False


def asserts(source: str) -> bool:
    """Whether Python source contains an assertion that can fail.

    Parsed with ``ast``: a comment, a string or a disabled line that mentions
    ``assert`` does not count, nor does ``assert True``. Source that does not
    parse asserts nothing.
    """
    try:
        tree = ast.parse(_python_source(source))
    except SyntaxError:
        return False
    return any(_is_assertion(node) for node in ast.walk(tree))


def _named_labels(source: str) -> list[str]:
    """The labels named by the ``# checks:`` lines of a piece of source."""
    labels = []
    for line in source.splitlines():
        match = _CHECKS.match(line)
        if match:
            labels.extend(_LABEL_ANYWHERE.findall(match.group(1)))
    return labels


def checking_cells(path: Path) -> dict[str, list[int]]:
    """Map each label to the cells (1-based) that name it and assert something.

    A cell with a ``# checks:`` line but no assertion checks nothing and is left
    out here (:func:`checks_without_assert` reports it).
    """
    checks: dict[str, list[int]] = {}
    for number, source in enumerate(code_cells(path), 1):
        if not asserts(source):
            continue
        for label in _named_labels(source):
            checks.setdefault(label, []).append(number)
    return checks


def checks_without_assert(path: Path) -> list[tuple[int, list[str]]]:
    """``(cell, labels)`` for each cell with a ``# checks:`` line and no assertion."""
    return [
        (number, labels)
        for number, source in enumerate(code_cells(path), 1)
        if (labels := _named_labels(source)) and not asserts(source)
    ]


def fingerprint(source: str) -> str:
    """A short hash of a cell's source, kept by the planted-error record.

    The record (``chapters/planted_errors.json``) says which cell each planted
    error made fail; when that cell's source changes, the record is stale.
    """
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]


def check_cells(path: Path) -> list[int]:
    """The cells (1-based) of a chapter that name a label and assert something."""
    return sorted({n for cells in checking_cells(path).values() for n in cells})


def unpaired_checks(root: Path, records: list[dict]) -> list[tuple[str, int]]:
    """Check cells that no planted error in ``records`` is shown to fail.

    ``records`` is the planted-error record: a cell counts as shown to bite
    when some error names it and made it fail with an ``AssertionError`` in a
    run of the chapter as it is now (the fingerprint of its source matches).
    """
    chapters = root / "chapters"
    sources = {p.stem: code_cells(p) for p in derivation_chapters(chapters)}
    shown = set()
    for record in records:
        for caught in record.get("caught_by") or []:
            cells = sources.get(caught["chapter"], [])
            n = caught["cell"]  # counted from 0, as nbval names its test items
            if n < len(cells) and fingerprint(cells[n]) == caught.get("source"):
                shown.add((caught["chapter"], n + 1))
    return [
        (stem, n)
        for stem in sources
        for n in check_cells(chapters / f"{stem}.md")
        if (stem, n) not in shown
    ]


def unlabelled_displays(path: Path) -> list[int]:
    """Lines opening a display that has no label and no reason to have none.

    A ``$$`` display is labelled when it closes with ``$$ (eq-...)``, a
    ``{math}`` directive when it has a ``:label: eq-...`` option; otherwise the
    nearest non-blank line above the display must be a MyST comment
    ``% unlabelled: <reason>``. Code cells and other backtick-fenced blocks are
    skipped; displays inside ``:::`` directives (theorems, proofs) are not.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    missing = []
    fence = None
    opening = None  # line number of an open display
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if opening is None:
            if fence is not None:
                if stripped == fence:
                    fence = None
                continue
            match = re.match(r"^(`{3,}|:{3,})\{math\}", stripped)
            if match:  # a {math} directive: labelled by a :label: option
                block = _block(lines, number, match.group(1))
                labelled = any(_MATH_LABEL.match(line) for line in block)
                if not labelled and not _marked(lines, number):
                    missing.append(number)
                fence = match.group(1)
                continue
            match = re.match(r"^(`{3,})", stripped)
            if match:
                fence = match.group(1)
                continue
            if not stripped.startswith("$$"):
                continue
            rest = stripped[2:]
            if "$$" in rest:  # a one-line display: $$ ... $$ (label)
                closed = rest[rest.index("$$") :]
                if not _DOLLAR_LABEL.search(closed) and not _marked(lines, number):
                    missing.append(number)
                continue
            opening = number
        elif "$$" in stripped:
            closed = stripped[stripped.index("$$") :]
            if not _DOLLAR_LABEL.search(closed) and not _marked(lines, opening):
                missing.append(opening)
            opening = None
    return missing


def _block(lines: list[str], opening: int, fence: str) -> list[str]:
    """The lines after line ``opening`` (1-based) up to its closing ``fence``."""
    block = []
    for line in lines[opening:]:
        if line.strip() == fence:
            break
        block.append(line)
    return block


def _marked(lines: list[str], opening: int) -> bool:
    """Whether the nearest non-blank line above line ``opening`` (1-based) is
    ``% unlabelled: <reason>``."""
    for line in reversed(lines[: opening - 1]):
        if line.strip():
            return bool(_UNLABELLED.match(line.strip()))
    return False


def docstring_references(package_dir: Path) -> dict[str, list[str]]:
    """Map each label a docstring names to the objects whose docstring names it."""
    refs: dict[str, list[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        module = ".".join(path.relative_to(package_dir.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def visit(node, prefix):
            for child in ast.iter_child_nodes(node):
                if isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
                ):
                    name = f"{prefix}.{child.name}"
                    doc = ast.get_docstring(child) or ""
                    for label in dict.fromkeys(_LABEL_ANYWHERE.findall(doc)):
                        refs.setdefault(label, []).append(name)
                    visit(child, name)

        visit(tree, module)
    return refs


def contributing_table(path: Path) -> dict[str, str]:
    """Map each label in CONTRIBUTING.md's table to its gmmlib column."""
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and line.lstrip().startswith("|"):
            for label in _LABEL_ANYWHERE.findall(cells[0]):
                table[label] = cells[-1]
    return table


def test_checks(tests_dir: Path, exclude=("test_equation_checks.py",)) -> dict:
    """Map each label to the ``tests/file.py::test_name`` functions that check it.

    A test function checks a label when its body has a line ``# checks: eq-...``
    naming it and an assertion (:func:`asserts`). Labels mentioned elsewhere, in
    a docstring or a module comment, do not count.
    """
    found: dict[str, list[str]] = {}
    for path in sorted(tests_dir.glob("test_*.py")):
        if path.name in exclude:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name.startswith("test")
            ):
                continue
            body = "\n".join(lines[node.lineno - 1 : node.end_lineno])
            if not any(_is_assertion(child) for child in ast.walk(node)):
                continue
            for label in dict.fromkeys(_named_labels(body)):
                found.setdefault(label, []).append(f"tests/{path.name}::{node.name}")
    return found


def index(root: Path = ROOT) -> list[Equation]:
    """Every labelled equation of the derivation chapters, with code and checks.

    Checking cells are collected from every chapter (a later chapter may check
    an earlier equation); equations are collected from the numbered chapters.
    """
    chapters_dir = root / "chapters"
    checks: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(chapters_dir.glob("*.md")):
        for label, cells in checking_cells(path).items():
            checks.setdefault(label, []).extend((path.stem, n) for n in cells)
    functions = docstring_references(root / "gmmlib")
    tests = test_checks(root / "tests") if (root / "tests").is_dir() else {}
    equations = []
    for path in derivation_chapters(chapters_dir):
        for label, line in labelled_equations(path):
            equations.append(
                Equation(
                    label,
                    path.stem,
                    line,
                    checks=checks.get(label, []),
                    tests=tests.get(label, []),
                    functions=functions.get(label, []),
                )
            )
    return equations


def unchecked(equations: list[Equation]) -> list[Equation]:
    """The equations that no code cell names in a ``# checks:`` line."""
    return [eq for eq in equations if not eq.checks]


def unimplemented(equations: list[Equation], table: dict[str, str]) -> list[Equation]:
    """The equations that neither CONTRIBUTING.md's table nor a docstring maps."""
    # A table entry names its functions in backticks, e.g. `em.update_means`.
    return [
        eq
        for eq in equations
        if not eq.functions and "`" not in table.get(eq.label, "")
    ]


def duplicates(equations: list[Equation]) -> list[str]:
    """Labels defined more than once (Sphinx would warn; this says where)."""
    seen: dict[str, int] = {}
    for eq in equations:
        seen[eq.label] = seen.get(eq.label, 0) + 1
    return sorted(label for label, count in seen.items() if count > 1)


def api_targets(api_page: Path) -> tuple[set[str], list[str]]:
    """The modules (``automodule``) and classes (``autoclass``) of the API page."""
    text = api_page.read_text(encoding="utf-8") if api_page.is_file() else ""
    modules = set(re.findall(r"^\s*\.\. automodule::\s*(\S+)", text, re.M))
    classes = re.findall(r"^\s*\.\. autoclass::\s*(\S+)", text, re.M)
    return modules, classes


def api_name(qualname: str, modules: set[str], classes: list[str]) -> str | None:
    """The name under which the API page documents ``qualname``, if it does.

    ``gmmlib.mixture.GaussianMixture.fit`` is documented as
    ``gmmlib.GaussianMixture.fit`` when the page has ``autoclass::
    gmmlib.GaussianMixture``; ``gmmlib.em.m_step`` as itself when it has
    ``automodule:: gmmlib.em``. A private name after the documented module
    or class (a module ``_parsimonious``, a method ``_incomplete_terms``) is
    not on the page (autodoc leaves private members out): None.
    """
    parts = qualname.split(".")

    def private(names):
        return any(n.startswith("_") and not n.startswith("__") for n in names)

    for public in classes:
        name = public.rsplit(".", 1)[-1]
        if name in parts[1:]:
            rest = parts[parts.index(name, 1) + 1 :]
            return None if private(rest) else ".".join([public, *rest])
    for i in range(len(parts) - 1, 0, -1):
        if ".".join(parts[:i]) in modules:
            return None if private(parts[i:]) else qualname
    return None


def _chapter_link(stem: str) -> str:
    """``{doc}`ch. 4 <04_covariance_update>``` for a numbered chapter, else its name."""
    number, _, _ = stem.partition("_")
    text = f"ch. {int(number)}" if number.isdigit() else stem.replace("_", " ")
    return f"{{doc}}`{text} <{stem}>`"


def survived(record: dict) -> list[int]:
    """The cells a planted error names that did not fail under it (from 0)."""
    caught = {c["cell"] for c in record.get("caught_by") or []}
    return sorted(set(record.get("named", [])) - caught)


def planted_by_cell(records: list[dict]) -> dict[tuple[str, int], list[str]]:
    """``(chapter, cell)`` to the ids of the planted errors shown to fail it."""
    found: dict[tuple[str, int], list[str]] = {}
    for record in records:
        for caught in record.get("caught_by") or []:
            found.setdefault((caught["chapter"], caught["cell"] + 1), []).append(
                record["id"]
            )
    return found


def markdown_table(
    equations: list[Equation],
    table: dict[str, str],
    api_page: Path,
    records: list[dict] = (),
) -> str:
    """The index as a MyST Markdown table: links to equations, chapters and API.

    With the planted-error ``records``, each checking cell lists the planted
    errors that were shown to make it fail (their ids, rows of the table below).

    Meant to be displayed from a cell whose Markdown output is parsed as MyST
    (cell metadata ``mystnb: {markdown_format: myst}``), so that a broken
    label or API name fails the strict build like any other reference.
    """
    modules, classes = api_targets(api_page)
    rows = [
        "| equation | chapter | checked by | gmmlib |",
        "|---|---|---|---|",
    ]
    for eq in equations:
        code = []
        for qualname in eq.functions:
            public = api_name(qualname, modules, classes)
            short = (public or qualname).removeprefix("gmmlib.")
            code.append(f"{{py:obj}}`{short} <{public}>`" if public else f"`{short}`")
        if not code and eq.label in table:
            code.append(table[eq.label])
        bites = planted_by_cell(records)
        checks = [
            f"{_chapter_link(stem)}, cell {n}"
            + "".join(f" `{i}`" for i in bites.get((stem, n), []))
            for stem, n in eq.checks
        ]
        checks += [f"`{test}`" for test in eq.tests]
        rows.append(
            f"| {{eq}}`{eq.label}` `{eq.label}` | {_chapter_link(eq.chapter)} "
            f"| {'<br>'.join(checks) or '**none**'} | {'<br>'.join(code) or '—'} |"
        )
    return "\n".join(rows)


def _escape(text: str) -> str:
    """Plain text for a Markdown table cell (no emphasis, no column break)."""
    for char in "\\_*|`":
        text = text.replace(char, "\\" + char)
    return text


def planted_table(records: list[dict]) -> str:
    """The planted-error evidence (``chapters/planted_errors.json``) as MyST.

    One row per error: what was planted and where (gmmlib, or the claim as a
    chapter's cell states it), and the cells it made fail with an
    ``AssertionError``, with the labels those cells check.
    """
    rows = [
        "| error planted | in | shown to fail |",
        "|---|---|---|",
    ]
    for record in records:
        where = []
        for caught in record.get("caught_by") or []:
            cell = f"{_chapter_link(caught['chapter'])}, cell {caught['cell'] + 1}"
            labels = ", ".join(f"{{eq}}`{label}`" for label in caught["checks"])
            where.append(f"{cell} (checks {labels})" if labels else cell)
        missed = survived(record)
        if missed or not where:
            where.append(f"**survived** (cells {[n + 1 for n in missed]})")
        place = (
            "the chapter's own cell"
            if record["file"].startswith("chapters/")
            else f"`{record['file']}`"
        )
        # a label in a description becomes a reference (its number, a link)
        described = _LABEL_ANYWHERE.sub(
            lambda m: f"{{eq}}`{m.group(1)}`", _escape(record["description"])
        )
        rows.append(
            f"| {described} (`{record['id']}`) | {place} | {'<br>'.join(where)} |"
        )
    return "\n".join(rows)


# ---------------------------------------------------------------------------
# As a Sphinx extension (local_extensions in _config.yml)
# ---------------------------------------------------------------------------

#: The page whose content is compiled from every other chapter and gmmlib.
CHECKS_PAGE = "chapters/equation_checks"


def _always_reread_checks_page(app, env, added, changed, removed):
    """An incremental build must recompile the table whenever anything changed.

    Sphinx re-reads a page only when its own source changed, but this page's
    table is computed from the chapters and gmmlib's source when it runs. Read
    it again on every build, so it never shows a stale label or table.
    """
    return [CHECKS_PAGE] if CHECKS_PAGE in env.found_docs else []


def docstring_to_rest(text: str) -> str:
    """gmmlib's terminal-friendly docstring markup as reStructuredText.

    Docstrings are written for ``help()``: an equation as its bare label
    (``chapter 11, eq-stepwise``), code between single backticks. On the API
    page a label becomes an ``:eq:`` role (a link; an unknown label is a
    warning, which fails the strict build), and code between single
    backticks a double-backtick literal. Roles and double-backtick literals
    already in reST are left as they are.
    """
    parts, start = [], 0
    for markup in _DOC_MARKUP.finditer(text):
        parts.append(_LABEL_ANYWHERE.sub(r":eq:`\1`", text[start : markup.start()]))
        token = markup.group(0)
        single = token.startswith("`") and not token.startswith("``")
        parts.append(f"`{token}`" if single else token)
        start = markup.end()
    parts.append(_LABEL_ANYWHERE.sub(r":eq:`\1`", text[start:]))
    return "".join(parts)


def _process_docstring(app, what, name, obj, options, lines):
    """``autodoc-process-docstring``: :func:`docstring_to_rest` on gmmlib's."""
    if name.split(".", 1)[0] != "gmmlib":
        return
    lines[:] = docstring_to_rest("\n".join(lines)).split("\n")


def setup(app):
    app.connect("env-get-outdated", _always_reread_checks_page)
    # before napoleon (priority 500) turns the numpy sections into reST
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
