"""The tests that read the repository carry the marker `repository`.

`.ci/wheel-test` runs the unit tests against the installed wheel from a folder
that holds only `tests/` and `pyproject.toml`; a test that reads the
repository's other files (the chapters, README, the Makefile, the built
book...) tests the book, not gmmlib, and cannot run there. Such a module says
so with ``pytestmark = pytest.mark.repository``, and the wheel test leaves it
behind. The check here reads each test module's syntax tree: a path built from
a top-level entry of the repository (``ROOT / "chapters"``,
``Path("README.md")``), in the module or in a helper module of tests/ that it
imports, must come with the marker, and the marker only with such a path.
"""

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.repository

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# what .ci/wheel-test copies: the tests and pytest's settings
COPIED = {"tests", "pyproject.toml"}
# top-level entries that are no part of the repository, only of a checkout
LOCAL = {"__pycache__"}
PATH_CALLS = {"Path", "PurePath", "open", "joinpath"}


def repository_entries(root):
    """Top-level names of the repository that the wheel test does not copy."""
    names = {path.name for path in root.iterdir()} | {"_build", ".git"}
    hidden = {name for name in names if name.startswith(".")}
    return names - COPIED - LOCAL - (hidden - {".ci", ".github", ".git"})


def _first_component(text):
    return text.strip("/").split("/", 1)[0]


def _call_name(node):
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def repository_paths(tree, entries):
    """The string constants of ``tree`` used as repository paths.

    A string is one when it is an operand of ``/`` (a pathlib join) or an
    argument of ``Path``, ``open`` or ``joinpath``, and its first component
    is one of ``entries``. A message that mentions ``.ci/run`` is no path.
    """
    candidates = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            candidates += [node.left, node.right]
        elif isinstance(node, ast.Call) and _call_name(node) in PATH_CALLS:
            candidates += node.args
    return {
        node.value
        for node in candidates
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _first_component(node.value) in entries
    }


def local_imports(tree, folder):
    """The modules of ``folder`` (tests/) that ``tree`` imports."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    found = set()
    for name in names:
        for path in (folder / f"{name}.py", folder / name / "__init__.py"):
            if path.is_file():
                found.add(path)
    return found


def reads_repository(path, entries, seen=None):
    """The repository paths that module ``path`` or its helpers in its folder use."""
    seen = set() if seen is None else seen
    if path in seen:
        return set()
    seen.add(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = repository_paths(tree, entries)
    for helper in local_imports(tree, path.parent):
        found |= reads_repository(helper, entries, seen)
    return found


def _is_repository_mark(node):
    return ast.unparse(node) == "pytest.mark.repository"


def carries_marker(tree):
    """Whether the module's ``pytestmark`` holds ``pytest.mark.repository``."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytestmark"
            for target in node.targets
        ):
            value = node.value
            marks = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
            if any(_is_repository_mark(mark) for mark in marks):
                return True
    return False


def wheel_test_pattern():
    """The regular expression by which .ci/wheel-test finds the marked modules."""
    script = (ROOT / ".ci" / "wheel-test").read_text(encoding="utf-8")
    match = re.search(r"grep -lE '([^']+)' tests/test_\*\.py", script)
    assert match, ".ci/wheel-test no longer finds the modules with grep -lE"
    return re.compile(match.group(1), re.MULTILINE)


def test_a_module_reads_the_repository_exactly_when_it_carries_the_marker():
    entries = repository_entries(ROOT)
    assert {"chapters", "Makefile", "README.md", "_config.yml", ".ci"} <= entries
    unmarked, needless = {}, []
    for path in sorted(TESTS.glob("test_*.py")):
        reads = reads_repository(path, entries)
        marked = carries_marker(ast.parse(path.read_text(encoding="utf-8")))
        if reads and not marked:
            unmarked[path.name] = sorted(reads)
        if marked and not reads:
            needless.append(path.name)
    assert not unmarked, (
        f"these modules read the repository but lack the marker: {unmarked}; add "
        "`pytestmark = pytest.mark.repository` so that .ci/wheel-test leaves them out"
    )
    assert not needless, (
        f"these modules carry the marker but read nothing of the repository: "
        f"{needless}; remove it so that the wheel test runs them"
    )


def test_the_wheel_test_finds_every_marked_module():
    pattern = wheel_test_pattern()
    for path in sorted(TESTS.glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        assert carries_marker(ast.parse(text)) == bool(pattern.search(text)), (
            f"{path.name}: write the marker as a module-level "
            "`pytestmark = pytest.mark.repository` (or a list holding it), "
            "the line .ci/wheel-test looks for"
        )


def test_the_marker_is_registered(pytestconfig):
    markers = pytestconfig.getini("markers")
    assert any(marker.startswith("repository:") for marker in markers)


SOURCES = {
    "joined": 'from pathlib import Path\nTEXT = (Path(".") / "Makefile")\n',
    "called": 'from pathlib import Path\nTEXT = Path("chapters/01_model.md")\n',
    "message": 'def test_x():\n    assert ".ci/run" in "see .ci/run"\n',
    "helper_user": "import helper_reader\n",
    "helper_reader": 'ROOT = None\nCONFIG = ROOT / "_config.yml"\n',
    "marked": "pytestmark = [pytest.mark.book, pytest.mark.repository]\n",
    "other_mark": "pytestmark = pytest.mark.browser\n",
}


@pytest.fixture
def sources(tmp_path):
    for name, text in SOURCES.items():
        (tmp_path / f"{name}.py").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "name, expected",
    [
        ("joined", {"Makefile"}),
        ("called", {"chapters/01_model.md"}),
        ("message", set()),
        ("helper_user", {"_config.yml"}),
    ],
)
def test_the_scan_finds_repository_paths_and_only_them(sources, name, expected):
    entries = {"Makefile", "chapters", "_config.yml", ".ci"}
    assert reads_repository(sources / f"{name}.py", entries) == expected


def test_the_scan_reads_the_marker_alone_or_in_a_list(sources):
    def marked(name):
        return carries_marker(ast.parse((sources / f"{name}.py").read_text()))

    assert marked("marked")
    assert not marked("other_mark")
    pattern = wheel_test_pattern()
    assert pattern.search(SOURCES["marked"])
    assert not pattern.search(SOURCES["other_mark"])
