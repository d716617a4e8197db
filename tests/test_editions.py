"""The two editions of the book: the full one, and the student one without solutions.

``make book`` builds the full edition into ``_build/html``; ``make book
EDITION=student`` builds the same chapters with sphinx-exercise's
``hide_solutions`` into ``_build/student/_build/html``, and the local extension
``chapters/_edition.py`` removes the solutions from the downloadable sources.

The tests read the solutions from the chapters' MyST source and look for their
prose, word for word, in what each edition publishes: every page, every
downloadable source (``.md``, ``.ipynb``) and the search index. Each solution
must be found in the full edition (so the search can find what it looks for)
and nowhere in the student edition, whose exercises must all still be there.
"""

from __future__ import annotations

import html.parser
import os
import re
from pathlib import Path

import pytest
from _browser_helpers import NOT_PAGE_DIRS, NOT_PAGES

pytestmark = [pytest.mark.book, pytest.mark.repository]

REPO = Path(__file__).resolve().parent.parent
FULL = Path(os.environ.get("GMMBOOK_HTML", REPO / "_build" / "html"))
STUDENT_BUILD = REPO / "_build" / "student" / "_build" / "html"
STUDENT = Path(os.environ.get("GMMBOOK_STUDENT_HTML", STUDENT_BUILD))

_BLOCK = re.compile(
    r"^(?P<fence>:{3,})\{(?P<kind>exercise|solution)\}[^\n]*\n(?P<body>.*?)^(?P=fence)\s*$",
    re.M | re.S,
)
#: What a page does not reproduce word for word: displayed math (numbered on
#: the page), roles with their targets, inline code, directive options, MyST
#: comments, links. Inline math stays: its TeX is in the page as written.
_SPLIT = re.compile(
    r"\$\$.*?\$\$[^\n]*|\{[a-z:-]+\}`[^`]*`|`[^`]*`"
    r"|^:[a-z-]+:[^\n]*$|^%[^\n]*$|\[|\]\([^)]*\)",
    re.M | re.S,
)
PHRASE_WORDS = 8


def words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def blocks(kind: str) -> list[tuple[str, list[str]]]:
    """(chapter, phrases) for every exercise or solution block of the chapters.

    The phrases are runs of PHRASE_WORDS words that the page reproduces in
    order and that occur nowhere else in the chapter's source, so finding one
    means finding that block.
    """
    found = []
    for path in sorted((REPO / "chapters").glob("*.md")):
        source = path.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(source):
            if match.group("kind") != kind:
                continue
            elsewhere = words(source[: match.start()] + source[match.end() :])
            runs = []
            for piece in _SPLIT.split(match.group("body")):
                piece_words = words(piece).split()
                for start in range(0, len(piece_words) - PHRASE_WORDS + 1):
                    run = " ".join(piece_words[start : start + PHRASE_WORDS])
                    if run not in elsewhere:
                        runs.append(run)
                        break
            found.append((path.stem, runs))
    return found


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in {"script", "style"}

    def handle_endtag(self, tag):
        self._skip -= tag in {"script", "style"} and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def published_text(root: Path) -> dict[str, str]:
    """The words of everything an edition publishes, by file (relative path)."""
    texts = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.suffix == ".html":
            parser = _Text()
            parser.feed(path.read_text(encoding="utf-8", errors="replace"))
            texts[rel] = words(" ".join(parser.parts))
        elif path.suffix in {".md", ".ipynb", ".txt"} or path.name.startswith("search"):
            texts[rel] = words(path.read_text(encoding="utf-8", errors="replace"))
    return texts


def _built(root: Path, command: str) -> dict[str, str]:
    if not (root / "index.html").is_file():
        pytest.fail(
            f"No built edition at {root}: run `{command}` first.", pytrace=False
        )
    return published_text(root)


@pytest.fixture(scope="module")
def full():
    return _built(FULL, "make book")


@pytest.fixture(scope="module")
def student():
    return _built(STUDENT, "make book EDITION=student")


SOLUTIONS = blocks("solution")
EXERCISES = blocks("exercise")


def test_every_block_has_text_that_identifies_it():
    assert len(SOLUTIONS) >= 10, SOLUTIONS
    assert all(runs for _, runs in SOLUTIONS), SOLUTIONS
    assert all(runs for _, runs in EXERCISES), EXERCISES


@pytest.mark.parametrize("index", range(len(SOLUTIONS)))
def test_full_edition_publishes_the_solution(full, index):
    chapter, runs = SOLUTIONS[index]
    page = f"chapters/{chapter}.html"
    for phrase in runs:
        assert phrase in full[page], f"{page}: solution text {phrase!r} not found"


@pytest.mark.parametrize("index", range(len(SOLUTIONS)))
def test_student_edition_has_no_solution_text(student, index):
    chapter, runs = SOLUTIONS[index]
    for phrase in runs:
        leaks = [rel for rel, text in student.items() if phrase in text]
        assert not leaks, f"solution text {phrase!r} ({chapter}) published in {leaks}"


@pytest.mark.parametrize("index", range(len(EXERCISES)))
def test_student_edition_keeps_every_exercise(student, index):
    chapter, runs = EXERCISES[index]
    page = f"chapters/{chapter}.html"
    for phrase in runs:
        assert phrase in student[page], f"{page}: exercise text {phrase!r} missing"


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def reachable_pages(root: Path) -> set[str]:
    """The HTML pages reached from index.html by following links within the book."""
    seen, todo = set(), ["index.html"]
    while todo:
        rel = todo.pop()
        if rel in seen or not (root / rel).is_file():
            continue
        seen.add(rel)
        parser = _Links()
        parser.feed((root / rel).read_text(encoding="utf-8", errors="replace"))
        for href in parser.hrefs:
            target = href.split("#")[0].split("?")[0]
            if not target or re.match(r"^[a-z]+:", target):
                continue
            resolved = (root / rel).parent / target
            todo.append(os.path.relpath(os.path.normpath(resolved), root))
    return seen


@pytest.mark.parametrize("edition", ["full", "student"])
def test_every_page_of_an_edition_is_reached_by_a_link(edition, request):
    request.getfixturevalue(edition)  # fails with the command when unbuilt
    root = FULL if edition == "full" else STUDENT
    pages = {
        path.relative_to(root).as_posix()
        for path in root.rglob("*.html")
        if path.relative_to(root).parts[0] not in NOT_PAGE_DIRS
        and not path.relative_to(root).parts[0].startswith("_")
        and path.relative_to(root).as_posix() not in NOT_PAGES
    }
    orphans = sorted(pages - reachable_pages(root))
    assert not orphans, f"pages of the {edition} edition no link reaches: {orphans}"


def test_no_page_shows_a_raw_bibtex_accent():
    # an accent typed in references.bib as Capp{\'e} is printed as typed, in
    # the reference list and in every author-year citation
    raw = re.compile(r"\{\\['`^\"~][a-zA-Z]\}")
    found = {}
    for path in sorted(FULL.rglob("*.html")):
        parser = _Text()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        hits = raw.findall(" ".join(parser.parts))
        if hits:
            found[path.relative_to(FULL).as_posix()] = hits[:5]
    assert not found, f"raw BibTeX accents on the pages: {found}"


def _button_links(root: Path) -> list[str]:
    parser = _Links()
    parser.feed((root / "chapters" / "01_model.html").read_text(encoding="utf-8"))
    return parser.hrefs


@pytest.mark.parametrize("edition", ["full", "student"])
def test_the_binder_and_repository_buttons_open_the_editions_branch(edition, request):
    # the student edition's lead to the solution-free branch `student` (make
    # student-tree, pushed by the Pages workflow), the full edition's to main
    request.getfixturevalue(edition)  # fails with the command when unbuilt
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    url = config["repository"]["url"].rstrip("/")
    owner_name = "/".join(url.split("/")[-2:])
    branch = {"full": config["repository"]["branch"], "student": "student"}[edition]
    links = _button_links(FULL if edition == "full" else STUDENT)
    binder = [link for link in links if link.startswith("https://mybinder.org/")]
    assert binder == [
        f"https://mybinder.org/v2/gh/{owner_name}/{branch}"
        "?urlpath=lab/tree/chapters/01_model.md"
    ]
    repository = url if edition == "full" else f"{url}/tree/student"
    assert repository in links, links
