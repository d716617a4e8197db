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
- a checking code cell contains a line ``# checks: eq-a, eq-b``;
- a gmmlib function names its equation as ``:eq:`eq-...``` in its docstring;
- CONTRIBUTING.md has a table whose first column lists labels and whose last
  column names the gmmlib functions.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LABEL = r"eq-[A-Za-z0-9][A-Za-z0-9_-]*"
_DOLLAR_LABEL = re.compile(r"\$\$\s*\((" + LABEL + r")\)\s*$")
_MATH_LABEL = re.compile(r"^\s*:label:\s*(" + LABEL + r")\s*$")
_CHECKS = re.compile(r"^\s*#\s*checks:\s*(.+)$")
_LABEL_ANYWHERE = re.compile(r"(?<![\w-])(" + LABEL + r")(?![\w-])")
_DOC_EQ = re.compile(r":eq:`(" + LABEL + r")`")
_FENCE = re.compile(r"^(`{3,}|:{3,})\s*(\{[^}]*\})?")


@dataclass
class Equation:
    label: str
    chapter: str  # file stem, e.g. "04_covariance_update"
    line: int
    checks: list[tuple[str, int]] = field(default_factory=list)  # (chapter, cell)
    tests: list[str] = field(default_factory=list)  # "tests/file.py"
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


def checking_cells(path: Path) -> dict[str, list[int]]:
    """Map each label named by a ``# checks:`` line to the cells (1-based) naming it."""
    checks: dict[str, list[int]] = {}
    for number, source in enumerate(code_cells(path), 1):
        for line in source.splitlines():
            match = _CHECKS.match(line)
            if match:
                for label in _LABEL_ANYWHERE.findall(match.group(1)):
                    checks.setdefault(label, []).append(number)
    return checks


def docstring_references(package_dir: Path) -> dict[str, list[str]]:
    """Map each label cited as ``:eq:`...``` to the objects whose docstring cites it."""
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
                    for label in _DOC_EQ.findall(ast.get_docstring(child) or ""):
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


def test_mentions(tests_dir: Path, exclude=("test_equation_checks.py",)) -> dict:
    """Map each label mentioned in a test file to the files mentioning it."""
    mentions: dict[str, list[str]] = {}
    for path in sorted(tests_dir.glob("*.py")):
        if path.name in exclude:
            continue
        text = path.read_text(encoding="utf-8")
        for label in sorted(set(_LABEL_ANYWHERE.findall(text))):
            mentions.setdefault(label, []).append(f"tests/{path.name}")
    return mentions


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
    tests = test_mentions(root / "tests") if (root / "tests").is_dir() else {}
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
    ``automodule:: gmmlib.em``.
    """
    parts = qualname.split(".")
    for public in classes:
        name = public.rsplit(".", 1)[-1]
        if name in parts[1:]:
            return ".".join([public, *parts[parts.index(name, 1) + 1 :]])
    for i in range(len(parts) - 1, 0, -1):
        if ".".join(parts[:i]) in modules:
            return qualname
    return None


def _chapter_link(stem: str) -> str:
    """``{doc}`ch. 4 <04_covariance_update>``` for a numbered chapter, else its name."""
    number, _, _ = stem.partition("_")
    text = f"ch. {int(number)}" if number.isdigit() else stem.replace("_", " ")
    return f"{{doc}}`{text} <{stem}>`"


def markdown_table(
    equations: list[Equation], table: dict[str, str], api_page: Path
) -> str:
    """The index as a MyST Markdown table: links to equations, chapters and API.

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
        checks = [f"{_chapter_link(stem)}, cell {n}" for stem, n in eq.checks]
        checks += [f"`{test}`" for test in eq.tests]
        rows.append(
            f"| {{eq}}`{eq.label}` `{eq.label}` | {_chapter_link(eq.chapter)} "
            f"| {'<br>'.join(checks) or '**none**'} | {'<br>'.join(code) or '—'} |"
        )
    return "\n".join(rows)
