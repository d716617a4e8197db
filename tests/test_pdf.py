"""The printed book (`make pdf`): what the PDF says, read back with pypdf.

``make pdf`` prints the book (tests/_pdf.py) into ``_build/pdf/gmm-em-book.pdf``
and, with ``EDITION=student``, the student edition into
``_build/student/_build/pdf/gmm-em-book-student.pdf``. These tests open both
PDFs as a reader's PDF viewer would (their text layer, their images) and check:

- every document of ``_toc.yml`` starts a page with its title (the chapter's
  H1, with its number in the numbered parts): a bookmark of the PDF, in the
  order of ``_toc.yml``, on a page that prints it; the table of contents
  lists it;
- no reference is left unresolved: no "??", no raw label of the book's
  conventions (``eq-...``, ``thm-...``, ``fig-...``), no role, no "Unknown",
  in the text outside code (code is set in a monospace font and shows labels
  legitimately, as in ``# checks: eq-...``);
- every figure is there: as many images as the single page that was printed
  shows, at least one per captioned figure of the chapters, and every caption
  with its number;
- the equation numbers are those of the web pages, in the same order: the
  numbers printed at the right edge of the displays are exactly the sequence
  of ``span.eqno`` of the web book's chapters, read from ``_build/html``;
- the full edition prints every solution; the student edition prints every
  exercise and no solution text (the solutions' phrases come from
  tests/test_editions.py, which reads them from the chapters' sources).

The last tests prove the checks bite: a small page with an unresolved
reference, printed by the same code, is reported.
"""

from __future__ import annotations

import html.parser
import os
import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest
import test_editions
import yaml
from _pdf import toc_parts, unresolved_references
from test_editions import blocks, words

pytestmark = [pytest.mark.book, pytest.mark.repository]

REPO = Path(__file__).resolve().parent.parent
PDFS = {
    "full": Path(
        os.environ.get("GMMBOOK_PDF", REPO / "_build" / "pdf" / "gmm-em-book.pdf")
    ),
    "student": Path(
        os.environ.get(
            "GMMBOOK_STUDENT_PDF",
            REPO / "_build" / "student" / "_build" / "pdf" / "gmm-em-book-student.pdf",
        )
    ),
}
#: The single pages that were printed, and the web book (for its equation numbers).
SINGLEHTML = {
    "full": REPO / "_build" / "singlehtml",
    "student": REPO / "_build" / "student" / "_build" / "singlehtml",
}
WEB = Path(os.environ.get("GMMBOOK_HTML", REPO / "_build" / "html"))
COMMANDS = {"full": "make pdf", "student": "make pdf EDITION=student"}
EDITIONS = sorted(PDFS)


def _is_code_font(font) -> bool:
    name = str((font or {}).get("/BaseFont", ""))
    return bool(re.search(r"mono|courier|consol|menlo|code", name, re.I))


class Printed:
    """A PDF's pages: all their text, their text outside code, the runs of text."""

    def __init__(self, path: Path):
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        self.path = path
        self.pages: list[str] = []
        self.prose: list[str] = []
        #: (page, x, y, text, is_math) of every text run outside code, x and y
        #: as fractions of the page's width and height (y from the top).
        self.runs: list[tuple[int, float, float, str]] = []
        self.images = 0
        for number, page in enumerate(reader.pages, start=1):
            width = float(page.mediabox.width)
            height = float(page.mediabox.height)
            prose: list[str] = []

            def visit(
                text, cm, tm, font, size, _prose=prose, _n=number, _w=width, _h=height
            ):
                if not text or _is_code_font(font):
                    return
                _prose.append(text)
                x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
                y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
                # MathJax's glyphs reach the PDF as Type 3 fonts.
                math = (font or {}).get("/Subtype") == "/Type3"
                self.runs.append((_n, x / _w, 1 - y / _h, text, math))

            self.pages.append(page.extract_text(visitor_text=visit) or "")
            self.prose.append("".join(prose))
            self.images += _count_images(page.get("/Resources"))
        #: (title, page) of the PDF's outline (its bookmarks), in order.
        self.outline: list[tuple[str, int]] = []

        def walk(items):
            for item in items:
                if isinstance(item, list):
                    walk(item)
                else:
                    page = reader.get_destination_page_number(item) + 1
                    self.outline.append((flat(str(item.title)), page))

        walk(reader.outline)

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


def _count_images(resources) -> int:
    """Image XObjects a page draws, through its form XObjects (cheap: no decoding)."""
    count = 0
    for ref in ((resources or {}).get("/XObject") or {}).values():
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Image":
            count += 1
        elif xobject.get("/Subtype") == "/Form":
            count += _count_images(xobject.get("/Resources"))
    return count


@cache
def printed(edition: str) -> Printed:
    path = PDFS[edition]
    if not path.is_file():
        pytest.fail(
            f"No PDF at {path}: run `{COMMANDS[edition]}` first.", pytrace=False
        )
    return Printed(path)


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_words(text: str) -> str:
    """test_editions.words of a PDF's text, its ligatures ("ﬁ") undone."""
    return words(unicodedata.normalize("NFKC", text))


PDF_PHRASE_WORDS = 6


def pdf_blocks(kind: str) -> list[tuple[str, list[str]]]:
    """test_editions.blocks, with phrases free of inline math too.

    A web page keeps the TeX of inline math, so test_editions' phrases may
    hold it; a PDF holds MathJax's glyphs instead (which pypdf does not read
    as text), so here inline math splits the text like displays do.
    """
    split, length = test_editions._SPLIT, test_editions.PHRASE_WORDS
    test_editions._SPLIT = re.compile(split.pattern + r"|\$[^$\n]+\$", split.flags)
    # Shorter runs (still unique in their chapter), as math leaves fewer words.
    test_editions.PHRASE_WORDS = PDF_PHRASE_WORDS
    try:
        return blocks(kind)
    finally:
        test_editions._SPLIT, test_editions.PHRASE_WORDS = split, length


SOLUTIONS = pdf_blocks("solution")
EXERCISES = pdf_blocks("exercise")


# ---------------------------------------------------------------------------
# What the book should contain, from its sources
# ---------------------------------------------------------------------------


def _heading(path: Path) -> str:
    """The H1 of a MyST document (outside code fences)."""
    fence = None
    for line in path.read_text(encoding="utf-8").splitlines():
        marker = re.match(r"^(`{3,}|~{3,})", line)
        if marker:
            fence = (
                None if fence and line.startswith(fence) else fence or marker.group(1)
            )
            continue
        if fence is None and line.startswith("# "):
            return line[2:].strip()
    raise AssertionError(f"{path}: no H1")


def expected_titles() -> list[tuple[str, str]]:
    """(document, title as printed) in the order of _toc.yml; numbered parts number."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    titles, number = [], 0
    for part in toc.get("parts", []):
        for entry in part.get("chapters", []):
            title = _heading(REPO / f"{entry['file']}.md")
            if part.get("numbered"):
                number += 1
                title = f"{number}. {title}"
            titles.append((entry["file"], title))
    return titles


TITLES = expected_titles()


def captions() -> list[tuple[str, str]]:
    """(chapter, the first words of the caption) of every captioned figure."""
    found = []
    for path in sorted((REPO / "chapters").glob("*.md")):
        source = path.read_text(encoding="utf-8")
        for match in re.finditer(
            r"^\s+figure:\n\s+caption:\s*(\|)?\s*\n?(?P<text>(?:.*\n){1,3})",
            source,
            re.M,
        ):
            text = re.sub(r"\$[^$]*\$|`[^`]*`|\{[a-z:-]+\}", " ", match.group("text"))
            first = words(text).split()[:6]
            found.append((path.stem, " ".join(first)))
    return found


CAPTIONS = captions()


class _Collect(html.parser.HTMLParser):
    """The eqno texts and the <img> count of an HTML page's article."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.eqnos: list[str] = []
        self.images = 0
        self._eqno = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self._eqno:
            self._eqno += 1
        elif tag == "span" and "eqno" in classes:
            self._eqno = 1
            self.eqnos.append("")
        if tag == "img":
            self.images += 1

    def handle_startendtag(self, tag, attrs):
        if tag == "img":
            self.images += 1

    def handle_endtag(self, tag):
        if self._eqno:
            self._eqno -= 1

    def handle_data(self, data):
        if self._eqno == 1:
            self.eqnos[-1] += data.strip()


def _collect(path: Path) -> _Collect:
    parser = _Collect()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def web_equation_numbers() -> list[str]:
    """The numbers of the displays on the web book's pages, in the order of _toc.yml."""
    if not (WEB / "index.html").is_file():
        pytest.fail(f"No web book at {WEB}: run `make book` first.", pytrace=False)
    numbers = []
    for doc in ["index"] + [doc for doc, _ in TITLES]:
        numbers += _collect(WEB / f"{doc}.html").eqnos
    return numbers


EQNO = re.compile(r"\(\d+\.\d+\)")


def printed_equation_numbers(pdf: Printed) -> list[str]:
    """The equation numbers of the printed displays, in order.

    A display's number is a run "(c.n)" in the right part of the page whose
    line holds nothing but math (MathJax's glyphs) besides it; a reference
    "(c.n)" in the text shares its line with prose.
    """
    lines: dict[tuple[int, int], list[tuple[str, bool]]] = {}
    for page, _, y, text, math in pdf.runs:
        if text.strip():
            lines.setdefault((page, round(y * 300)), []).append((text.strip(), math))
    numbers = []
    for page, x, y, text, math in pdf.runs:
        if math or x < 0.6 or not EQNO.fullmatch(text.strip()):
            continue
        line = [
            (t, m)
            for key in ((page, round(y * 300) + d) for d in (-1, 0, 1))
            for t, m in lines.get(key, [])
        ]
        if all(m or t == text.strip() for t, m in line):
            numbers.append(text.strip())
    return numbers


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------


def test_the_sources_name_what_the_pdf_must_hold():
    assert len(TITLES) == sum(len(p["docs"]) for p in toc_parts())
    assert len(CAPTIONS) >= 10, CAPTIONS
    assert all(first for _, first in CAPTIONS), CAPTIONS


def contents_pages(pdf: Printed) -> dict[str, int]:
    """{title: page number} as the printed table of contents gives them."""
    start = next(
        (i for i, t in enumerate(pdf.pages) if flat(t).startswith("Contents")), None
    )
    assert start is not None, f"{pdf.path.name}: no page starts with 'Contents'"
    # The contents end where the first chapter starts (the page they give it).
    text = flat(" ".join(pdf.pages[start : start + 10]))
    pages = {}
    for _, title in TITLES:
        pattern = r"\s*".join(re.escape(word) for word in title.split())
        match = re.search(pattern + r"\s+(\d+)\b", text)
        if match:
            pages[title] = int(match.group(1))
    return pages


@pytest.mark.parametrize("edition", EDITIONS)
def test_contents_list_every_chapter_on_its_page_in_order(edition):
    """The contents give each title a page; the title is printed on that page."""
    pdf = printed(edition)
    pages = contents_pages(pdf)
    missing = [title for _, title in TITLES if title not in pages]
    assert not missing, f"{pdf.path.name}: not in the contents: {missing}"
    order = [pages[title] for _, title in TITLES]
    assert order == sorted(set(order)), f"chapters out of order: {pages}"
    bare = "".join
    absent = [
        (title, page)
        for title, page in pages.items()
        if bare(title.split()) not in bare(pdf.pages[page - 1].split())
    ]
    assert not absent, f"title not on the page the contents give: {absent}"


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_chapter_is_a_bookmark(edition):
    """Chromium's outline has one bookmark per heading, on the chapter's page."""
    pdf = printed(edition)
    pages = contents_pages(pdf)
    marked = {page for _, page in pdf.outline}
    assert set(pages.values()) <= marked, sorted(set(pages.values()) - marked)


@pytest.mark.parametrize("edition", EDITIONS)
def test_no_unresolved_reference(edition):
    pdf = printed(edition)
    problems = [
        f"page {n}: {p}"
        for n, text in enumerate(pdf.prose, start=1)
        for p in unresolved_references(text)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_figure_is_printed(edition):
    pdf = printed(edition)
    page = SINGLEHTML[edition] / "index.html"
    shown = _collect(page).images if page.is_file() else 0
    assert pdf.images >= len(CAPTIONS), (pdf.images, len(CAPTIONS))
    if shown:
        assert pdf.images == shown, f"{shown} images in {page}, {pdf.images} in the PDF"
    text = pdf_words(pdf.text)
    missing = [(chapter, first) for chapter, first in CAPTIONS if first not in text]
    assert not missing, f"captions not printed: {missing}"
    numbered = re.findall(r"\bFig\. \d+\.\d+\b", flat(pdf.text))
    assert len(set(numbered)) >= len(CAPTIONS), sorted(set(numbered))


@pytest.mark.parametrize("edition", EDITIONS)
def test_equation_numbers_as_on_the_web_and_in_order(edition):
    expected = web_equation_numbers()
    assert len(expected) > 50, expected
    got = printed_equation_numbers(printed(edition))
    first = next(
        (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
        min(len(got), len(expected)),
    )
    assert got == expected, (
        f"{len(got)} equation numbers printed, {len(expected)} on the web; they "
        f"differ from position {first}: printed {got[first : first + 5]}, "
        f"web {expected[first : first + 5]}"
    )
    chapters = [int(n[1:].split(".")[0]) for n in got]
    assert chapters == sorted(chapters)


def _solution_phrases() -> list[tuple[str, list[str]]]:
    """The solutions' phrases that the full PDF prints exactly once.

    A phrase unique in its chapter's source may still occur in another
    chapter; one that the whole full PDF prints once identifies its solution.
    """
    full = pdf_words(printed("full").text)
    return [
        (chapter, [p for p in runs if full.count(p) == 1])
        for chapter, runs in SOLUTIONS
    ]


def test_full_pdf_prints_every_solution():
    missing = [chapter for chapter, runs in _solution_phrases() if not runs]
    assert not missing, f"solutions with no phrase in the full PDF: {missing}"


def test_student_pdf_prints_no_solution():
    student = pdf_words(printed("student").text)
    leaks = [
        (chapter, phrase)
        for chapter, runs in _solution_phrases()
        for phrase in runs
        if phrase in student
    ]
    assert not leaks, f"solution text in the student PDF: {leaks}"


def _printed(phrase: str, text: str) -> bool:
    """phrase is in text, or split in two by a page break.

    pypdf reads a page's text out of order around a box that a page break
    splits, so the two halves of a phrase can land apart.
    """
    if phrase in text:
        return True
    half = len(phrase.split()) // 2
    first, second = phrase.split()[:half], phrase.split()[half:]
    return " ".join(first) in text and " ".join(second) in text


def test_student_pdf_keeps_every_exercise():
    student = pdf_words(printed("student").text)
    full = pdf_words(printed("full").text)
    printed_runs = [(c, [p for p in runs if p in full]) for c, runs in EXERCISES]
    missing = [
        (chapter, phrase)
        for chapter, runs in printed_runs
        for phrase in runs
        if not _printed(phrase, student)
    ]
    assert not missing, f"exercise text missing from the student PDF: {missing}"
    # Every exercise keeps its numbered title ("Exercise 2.3"); the student
    # edition prints no "Solution to Exercise ...".
    titles = {
        edition: re.findall(r"\bExercise \d+\.\d+\b", flat(printed(edition).text))
        for edition in EDITIONS
    }
    exercises = sorted(set(titles["full"]))
    assert len(exercises) >= len(EXERCISES), (exercises, len(EXERCISES))
    assert sorted(set(titles["student"])) == exercises
    assert "Solution to" not in flat(printed("student").text)
    assert flat(printed("full").text).count("Solution to") >= len(SOLUTIONS)


# ---------------------------------------------------------------------------
# The checks fail on a broken book
# ---------------------------------------------------------------------------

_BROKEN_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>broken</title></head><body><article class="bd-article"><section id="root">
<h1>A broken book</h1>
<span id="document-chapters/one"></span><section id="one"><h1>1. One</h1>
<p>By {body}, the update follows.</p>
<p><code>print("eq-in-code is fine")</code></p></section>
</section></article></body></html>
"""


@pytest.mark.parametrize(
    ("body", "reported"),
    [
        ("equation (??)", "??"),
        ("<a>eq-stationarity</a>", "eq-stationarity"),
        ("{prf:ref}`thm-covariance-update`", "{prf:ref}"),
        ("Unknown", "Unknown"),
    ],
)
def test_an_unresolved_reference_fails(tmp_path, body, reported):
    """The page is printed by tests/_pdf.py and read back as the book's PDF is."""
    from _pdf import print_book

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(
        _BROKEN_PAGE.format(body=body), encoding="utf-8"
    )
    out = tmp_path / "broken.pdf"
    print_book(
        tmp_path / "site",
        out,
        parts=[{"caption": "", "docs": ["chapters/one"]}],
        log=lambda *a: None,
    )
    pdf = Printed(out)
    problems = [p for text in pdf.prose for p in unresolved_references(text)]
    assert any(repr(reported) in p for p in problems), problems
    # The code line's label is code, not a reference: it is not reported.
    assert not any("eq-in-code" in p for p in problems), problems
