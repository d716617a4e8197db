"""The branch `student`: what the student edition's Binder and repository buttons open.

``make student-tree`` writes every file git tracks, with the exercises'
solutions removed (``chapters/_edition.py``), and the Pages workflow pushes it
to the branch ``student`` with ``.ci/push-student-branch``. The student
edition's configuration (``make student-config``) points the buttons there.
These tests build the tree with the Makefile's own target into a temporary
folder, look for every solution's prose in it (word for word, as
``tests/test_editions.py`` looks for it in the built pages), check that the
chapters are the same notebooks with their exercises, run the push script
against a local bare repository, and read the workflow.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import jupytext
import pytest
import yaml
from test_editions import blocks, words

pytestmark = pytest.mark.repository


REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "chapters"))
import _edition  # noqa: E402

sys.path.remove(str(REPO / "chapters"))

BIN = Path(sys.executable).parent
SOLUTIONS = blocks("solution")
EXERCISES = blocks("exercise")
CHAPTERS = sorted(path.name for path in (REPO / "chapters").glob("*.md"))


def _make(*args):
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), *args],
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    dest = tmp_path_factory.mktemp("student") / "tree"
    # the Makefile's target, with this interpreter's folder as .venv/bin
    _make("student-tree", f"STUDENT_TREE={dest}", f"BIN={BIN}")
    return dest


def _text_files(root: Path) -> dict[str, str]:
    texts = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(root).parts:
            try:
                texts[path.relative_to(root).as_posix()] = path.read_text("utf-8")
            except UnicodeDecodeError:
                continue
    return texts


def test_the_tree_holds_every_tracked_file_but_the_workflows(tree):
    tracked = set(_edition.tracked_files(REPO))
    written = {p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()}
    assert written == {name for name in tracked if not name.startswith(".github/")}
    assert {f"chapters/{name}" for name in CHAPTERS} <= written


@pytest.mark.parametrize("index", range(len(SOLUTIONS)))
def test_the_tree_has_no_solution_text(tree, index):
    chapter, runs = SOLUTIONS[index]
    texts = {name: words(text) for name, text in _text_files(tree).items()}
    for phrase in runs:
        # the solution is in main's chapter, so the phrase identifies it
        assert phrase in words((REPO / "chapters" / f"{chapter}.md").read_text())
        leaks = [name for name, text in texts.items() if phrase in text]
        assert not leaks, f"solution text {phrase!r} ({chapter}) in the tree: {leaks}"


def test_no_solution_directive_is_left_in_any_markdown_file(tree):
    left = [
        name
        for name, text in _text_files(tree).items()
        if name.endswith(".md")
        and any(_edition._OPEN.match(line) for line in text.splitlines())
    ]
    assert not left, left


@pytest.mark.parametrize("index", range(len(EXERCISES)))
def test_the_tree_keeps_every_exercise(tree, index):
    chapter, runs = EXERCISES[index]
    text = words((tree / "chapters" / f"{chapter}.md").read_text(encoding="utf-8"))
    for phrase in runs:
        assert phrase in text, f"{chapter}: exercise text {phrase!r} missing"


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_is_the_same_notebook_without_its_solutions(tree, name):
    main = jupytext.read(REPO / "chapters" / name, fmt="md:myst")
    student = jupytext.read(tree / "chapters" / name, fmt="md:myst")
    assert student.metadata == main.metadata  # kernelspec, jupytext header
    assert [c.cell_type for c in student.cells] == [c.cell_type for c in main.cells]
    for ours, theirs in zip(student.cells, main.cells, strict=True):
        if theirs.cell_type == "code":
            # the same code runs: nbval and the planted-error record see no change
            assert (ours.source, ours.metadata) == (theirs.source, theirs.metadata)
        else:
            assert (
                ours.source.rstrip() == _edition.strip_solutions(theirs.source).rstrip()
            )
    # the tree's chapter differs from main's exactly when it had a solution
    had = any(chapter == Path(name).stem for chapter, _ in SOLUTIONS)
    changed = [c.source for c in student.cells] != [c.source for c in main.cells]
    assert changed == had


def test_the_trees_config_builds_from_the_student_branch(tree):
    main = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    student = yaml.safe_load((tree / "_config.yml").read_text(encoding="utf-8"))
    assert student["repository"]["branch"] == "student"
    student["repository"]["branch"] = main["repository"]["branch"]
    assert student == main


def test_the_student_config_points_the_buttons_at_the_student_branch(tmp_path):
    # the command `make student-config` runs, printed by make -n and run here
    dry = _make("-n", "student-config", f"STUDENT={tmp_path}", f"BIN={BIN}")
    command = [line for line in dry.stdout.splitlines() if "_edition.py" in line]
    assert len(command) == 1, dry.stdout
    subprocess.run(command[0], shell=True, cwd=REPO, check=True)
    main = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((tmp_path / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"] == {**main["repository"], "branch": "student"}
    assert config["sphinx"]["config"]["hide_solutions"] is True
    assert config["title"] == main["title"] + " (student edition)"
    assert all(
        Path(p).is_absolute() for p in config["sphinx"]["local_extensions"].values()
    )
    assert config["launch_buttons"] == main["launch_buttons"]


def _page_context(url="https://github.com/o/r", branch="student", hide=True):
    theme = {"repository_url": url, "repository_branch": branch}
    app = SimpleNamespace(
        config=SimpleNamespace(hide_solutions=hide, html_theme_options=theme),
        builder=SimpleNamespace(theme_options=theme),
    )
    repository = {"label": "source-repository-button", "url": url}
    issues = {"label": "source-issues-button", "url": f"{url}/issues/new"}
    context = {"header_buttons": [{"type": "group", "buttons": [repository, issues]}]}
    _edition._repository_button_to_branch(app, "index", "page.html", context, None)
    return repository, issues


def test_the_student_editions_repository_button_opens_the_student_branch():
    repository, issues = _page_context()
    assert repository["url"] == "https://github.com/o/r/tree/student"
    assert issues["url"] == "https://github.com/o/r/issues/new"
    # the full edition keeps sphinx-book-theme's link to the repository
    assert _page_context(hide=False)[0]["url"] == "https://github.com/o/r"


def _git(*args, cwd=None):
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def _push(tree, remote, commit):
    return subprocess.run(
        [str(REPO / ".ci" / "push-student-branch"), str(tree), str(remote), commit],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_push_script_keeps_the_branch_equal_to_the_tree(tree, tmp_path):
    remote = tmp_path / "remote.git"
    _git("init", "--quiet", "--bare", str(remote))
    copy = tmp_path / "tree"
    shutil.copytree(tree, copy)

    assert "creating it" in _push(copy, remote, "aaa")
    assert "nothing to push" in _push(copy, remote, "aaa")
    (copy / "chapters" / CHAPTERS[0]).write_text("changed\n", encoding="utf-8")
    (copy / "index.md").unlink()
    assert "pushed" in _push(copy, remote, "bbb")

    log = _git("log", "--format=%s", "student", cwd=remote).splitlines()
    assert [line.split()[3] for line in log] == ["bbb:", "aaa:"]  # one history
    on_branch = set(_git("ls-tree", "-r", "--name-only", "student", cwd=remote).split())
    in_tree = {p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()}
    assert on_branch == in_tree  # index.md removed from the branch too
    shown = _git("show", f"student:chapters/{CHAPTERS[0]}", cwd=remote)
    assert shown == "changed\n"


def test_the_pages_workflow_publishes_both_editions_and_pushes_the_branch():
    workflow = yaml.safe_load(
        (REPO / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    )
    build = "\n".join(
        step.get("run", "") for step in workflow["jobs"]["build"]["steps"]
    )
    for command in (
        "make book\n",
        "make pdf\n",
        "make book EDITION=student",
        "make pdf EDITION=student",
        "cp -r _build/student/_build/html _build/html/student",
    ):
        assert command in build, command
    upload = workflow["jobs"]["build"]["steps"][-1]
    assert upload["with"]["path"] == "_build/html"
    job = workflow["jobs"]["student-branch"]
    assert job["needs"] == "build" and job["permissions"] == {"contents": "write"}
    pushed = "\n".join(step.get("run", "") for step in job["steps"])
    assert "make student-tree" in pushed
    assert ".ci/push-student-branch _build/student-tree" in pushed


def test_the_readme_gives_the_addresses_of_both_published_editions():
    # GitHub Pages publishes a project's site at https://<owner>.github.io/<name>/;
    # the workflow puts the student edition under student/, each with its PDF
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    owner, name = config["repository"]["url"].rstrip("/").split("/")[-2:]
    site = f"https://{owner.lower()}.github.io/{name}/"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    pdf = re.search(r"^WEB_PDF\s*:=\s*(\S+)", (REPO / "Makefile").read_text(), re.M)
    for address in (site, f"{site}{pdf.group(1)}", f"{site}student/"):
        assert f"<{address}>" in readme or f"({address})" in readme, address
    assert f"({site}student/{pdf.group(1)})" in readme
