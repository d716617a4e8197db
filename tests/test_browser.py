"""Every page of the built book, opened in headless Chromium (`make browser`).

The book in _build/html (or $GMMBOOK_HTML) is served on 127.0.0.1 and each page
is checked as a reader's browser shows it: MathJax typeset every formula with no
error, no raw TeX is left in the text, every image loaded, no cell shows an error
or a traceback, every internal link and equation reference resolves, and nothing
is fetched from the network. What is checked, and how, is in _browser_helpers.py.
A screenshot of each page goes to _build/screenshots/<page>.png for people to
look at.

Every page is also laid out at two widths, a 1280 px desktop window (1265 px
of viewport beside its scroll bar) and a phone (390 px), and every display
equation and code cell is measured against its column: nothing may scroll
sideways on the desktop, and on the phone only inside its own box, never the
page (test_displays_and_code_fit_their_column says why). One search field
shows at both widths.

Every page is also checked for accessibility (WCAG 2.1 AA) in both of the
theme's colour modes, light and dark: axe-core's serious and critical
violations, alt text that is empty, a file name or a path, and formulas without
MathJax's assistive MathML (_accessibility.py). Dark-mode screenshots go to
_build/screenshots/dark/<page>.png.

The second half proves the checkers fail: they open small pages that are broken
on purpose (raw TeX, a missing image, a dead link, a traceback, a display or a
code line too wide for its column, low contrast, a button named unlike its
text, a path as alt text, ...) and assert that each breakage is reported.

Without Chromium these tests fail, with the command that installs it; they are
never skipped (`make pytest` deselects them with -m "not browser").
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
import yaml
from _accessibility import COLOUR_MODES, AxeMissing, axe_path, check_accessibility
from _browser_helpers import (
    DESKTOP_WIDTH,
    PHONE_WIDTH,
    BrowserMissing,
    check_page,
    chromium_driver,
    discover_pages,
    find_browser,
    html_root,
    mathjax_dir,
    measure_fit,
    overflows,
    screenshot_path,
    serve,
    visible_search_fields,
)

pytestmark = [pytest.mark.browser, pytest.mark.repository]

ROOT = html_root()
BUILT = (ROOT / "index.html").is_file()
PAGES = discover_pages(ROOT) if BUILT else []
TOC = Path(
    os.environ.get("GMMBOOK_TOC", Path(__file__).resolve().parents[1] / "_toc.yml")
)


@pytest.fixture(scope="module")
def browser():
    try:
        find_browser()
        missing = None
    except BrowserMissing as err:
        missing = str(err)
    if missing:
        # A failure, not a skip, on every machine: a skip would let `make test`
        # pass with the pages untested. `make pytest` deselects these tests.
        pytest.fail(
            f"Chromium is needed for the browser test: {missing}", pytrace=False
        )
    with chromium_driver() as driver:
        yield driver


@pytest.fixture(scope="module")
def axe():
    try:
        return axe_path()
    except AxeMissing as err:
        pytest.fail(
            f"axe-core is needed for the accessibility check: {err}", pytrace=False
        )


@pytest.fixture(scope="module")
def book():
    if not BUILT:
        pytest.fail(
            f"No built book at {ROOT} (no index.html). Run `make book` first "
            "(or set GMMBOOK_HTML to a built _build/html).",
            pytrace=False,
        )
    with serve(ROOT) as server:
        yield server


# ---------------------------------------------------------------------------
# The book
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES or ["index.html"])
def test_page(browser, book, page):
    problems = check_page(browser, book, page, screenshot_path(ROOT, page))
    assert not problems, f"{page}: {len(problems)} problem(s):\n  " + "\n  ".join(
        problems
    )


@pytest.mark.parametrize("mode", COLOUR_MODES)
@pytest.mark.parametrize("page", PAGES or ["index.html"])
def test_page_accessible(browser, book, axe, page, mode):
    """WCAG 2.1 AA by axe-core, meaningful alt text, assistive MathML."""
    # Light-mode screenshots are test_page's; these are the dark ones.
    shot = ROOT.parent / "screenshots" / "dark" / Path(page).with_suffix(".png")
    shot = shot if mode == "dark" else None
    problems, notes = check_accessibility(browser, book, page, mode, shot)
    if notes:
        print(f"{page} [{mode}] minor/moderate axe findings: {', '.join(notes)}")
    assert not problems, f"{page} [{mode}]: {len(problems)} problem(s):\n" + "\n".join(
        problems
    )


def _toc_files(entry):
    if isinstance(entry, dict):
        for key, value in entry.items():
            if key in ("root", "file"):
                yield value
            elif isinstance(value, list | dict):
                yield from _toc_files(value)
    elif isinstance(entry, list):
        for item in entry:
            yield from _toc_files(item)


def test_every_toc_file_became_a_page(book):
    """A chapter in _toc.yml that the build skipped would escape test_page."""
    if not TOC.is_file():
        pytest.fail(f"no table of contents at {TOC} (set GMMBOOK_TOC)", pytrace=False)
    wanted = {
        str(Path(f).with_suffix("")) + ".html"
        for f in _toc_files(yaml.safe_load(TOC.read_text(encoding="utf-8")))
    }
    missing = sorted(wanted - set(PAGES))
    assert not missing, f"listed in {TOC.name} but not built into {ROOT}: {missing}"


def test_mathjax_is_served_locally(book):
    """MathJax comes from _static (sphinx-mathjax-offline), not from a CDN."""
    assert (ROOT / "_static" / "mathjax" / "tex-chtml.js").is_file(), (
        "no _static/mathjax/tex-chtml.js: is sphinx-mathjax-offline enabled?"
    )
    problems = []
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        scripts = re.findall(r'<script[^>]*\ssrc="([^"]*mathjax[^"]*)"', text, re.I)
        for src in scripts:
            if "://" in src or src.startswith("//") or "_static/mathjax/" not in src:
                problems.append(f"{page} loads MathJax from {src}")
        if 'class="math' in text and not scripts:
            problems.append(
                f"{page} has math but no MathJax script (Sphinx adds MathJax only "
                "to pages with math of their own: TeX in a title that the "
                "navigation shows on every page stays raw elsewhere)"
            )
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# Layout: what fits a 1280 px window and a phone
# ---------------------------------------------------------------------------

#: The two screens of a reader: a 1280 px desktop window (less its scroll
#: bar) and a phone held upright.
SCREENS = {"desktop": DESKTOP_WIDTH, "phone": PHONE_WIDTH}


def _count(pattern, text):
    return len(re.findall(pattern, text))


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("page", PAGES or ["index.html"])
def test_displays_and_code_fit_their_column(browser, book, page, screen):
    """Every display equation and code cell fits its column (issue 22).

    Measured in the browser after MathJax typeset the page, with collapsed
    solutions and cells opened: each display (its ``mjx-container``), each code
    cell's input and each of its outputs (the output, the text in it, its
    images), and each code block outside cells, against the box the theme gives
    it and against the article's column.

    desktop (1265 px: a 1280 px window less its scroll bar): nothing may be
    wider than its box; a display or a code line that scrolls sideways hides
    its end (the "∞" of a formula, an argument of a call) behind a scroll bar
    the reader may not notice. Displays may not scroll up and down either.

    phone (390 px): a display of a derivation or an 80-column line of code
    cannot fit 358 px without being broken where its author did not break it,
    so what a phone reader needs is that the page itself never moves sideways
    (the prose stays in place and readable) and that every display and code
    block wider than the screen scrolls sideways in its own box, so all of it
    can be reached by swiping that box: one that is cut off (overflow hidden)
    or spills over the page's edge fails, as does a cell's output or image that
    is wider than its box (outputs wrap, images scale).
    """
    width = SCREENS[screen]
    measured = measure_fit(browser, book, page, width)
    # The measurement saw every display and every code cell of the page.
    source = (ROOT / page).read_text(encoding="utf-8")
    kinds = [item["kind"] for item in measured["items"]]
    assert kinds.count("display") == _count(r'<div class="math[ "]', source)
    assert kinds.count("code cell input") == _count(r'class="cell_input[ "]', source)
    problems = overflows(measured, scrolling_allowed=screen == "phone")
    assert not problems, (
        f"{page} at {width} px ({screen}; the article column is "
        f"{measured['column']} px): {len(problems)} element(s) do not fit:\n  "
        + "\n  ".join(problems)
    )


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if p in ("index.html", "chapters/01_model.html")]
    or ["index.html"],
)
def test_one_search_field_shows(browser, book, page, screen):
    """One search field, not the header's and the sidebar's at once (issue 22).

    pydata-sphinx-theme puts a search field in its header unless
    ``navbar_persistent`` is set, while sphinx-book-theme has one in its
    sidebar (and an icon in the article's header on narrow screens).
    """
    fields = visible_search_fields(browser, book, page, SCREENS[screen])
    assert len(fields) == 1, (
        f"{page} at {SCREENS[screen]} px shows {len(fields)} search fields: {fields}"
    )


# ---------------------------------------------------------------------------
# The checker catches broken pages
# ---------------------------------------------------------------------------

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)

# The page skeleton: MathJax configured the way Sphinx does it.
HEAD = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title>
<script>window.MathJax = {options: {processHtmlClass:
  "tex2jax_process|mathjax_process|math|output_area"}}</script>
<script defer src="mathjax/tex-chtml.js"></script></head>
<body><article class="bd-article"><section id="s" class="tex2jax_ignore mathjax_ignore">
"""
HEAD_NO_MATHJAX = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title>
</head><body><article class="bd-article"><section id="s">
"""
TAIL = "</section></article></body></html>\n"


def _cell(output_class, text):
    return (
        '<div class="cell docutils container"><div class="cell_output docutils '
        f'container"><div class="{output_class}"><div class="highlight"><pre>'
        f"{text}</pre></div></div></div></div>"
    )


GOOD = (
    HEAD
    + r"""<p>Inline <span class="math notranslate">\(\frac{a}{b}\)</span>.</p>
<div class="math notranslate nohighlight" id="equation-one">
\[\boldsymbol{\Sigma}_k = \frac{1}{N_k}\sum_n \gamma_{nk} x_n x_n^{\mathsf{T}}\]</div>
<p><a class="reference internal" href="#equation-one">(<span class="eq">1</span>)</a>
and <a class="reference internal" href="#equation-one">(<span class="eq">1</span>)</a>,
<a class="reference internal" href="other.html#target">there</a>,
<a class="reference internal" href="other.html">other</a>,
<a class="reference external" href="https://example.org/">outside</a>,
<code class="xref py py-class docutils literal notranslate">numpy.ndarray</code>.</p>
<p><img alt="dot" src="pixel.png"></p>
<pre>$$\frac{a}{b}$$ in code is fine</pre>
<div class="onlyprint" style="display:none">print only \frac{a}{b}</div>
"""
    + _cell("output stream highlight-myst-ansi", "all good")
    + TAIL
)

BROKEN = {
    # page: (html, what the report must say)
    "raw_tex.html": (
        HEAD_NO_MATHJAX.replace("<title>t</title>", r"<title>\(\Sigma_k\)</title>")
        + r"<p>$$\frac{a}{b}$$</p>"
        + r'<div class="dropdown admonition toggle-hidden" style="display:none">'
        + r"<p>hidden solution \begin{pmatrix}</p></div>"
        + TAIL,
        ["raw TeX", r"\frac", r"\begin{pmatrix}", "raw TeX in the <title>"],
    ),
    "math_without_mathjax.html": (
        HEAD_NO_MATHJAX + r'<p><span class="math">\(x^2\)</span></p>' + TAIL,
        ["MathJax is absent", "math not typeset"],
    ),
    "mathjax_not_served.html": (
        HEAD.replace("mathjax/tex-chtml.js", "_static/no-mathjax/tex-chtml.js")
        + r'<p><span class="math">\(x^2\)</span></p>'
        + TAIL,
        [
            "MathJax is configured but its script never ran",
            "math not typeset by MathJax",
            "404 /_static/no-mathjax/tex-chtml.js",
        ],
    ),
    "math_error.html": (
        HEAD + r'<p><span class="math">\(x^^2\)</span></p>' + TAIL,
        ["MathJax error (mjx-merror): Missing open brace"],
    ),
    "undefined_macro.html": (
        HEAD + r'<p><span class="math">\(\Sigmaa_k\)</span></p>' + TAIL,
        ["undefined TeX macro", r"\Sigmaa"],
    ),
    "broken_image.html": (
        HEAD + '<p><img alt="gone" src="_images/missing.png"></p>' + TAIL,
        ["image did not load: '_images/missing.png'", "404 /_images/missing.png"],
    ),
    "broken_links.html": (
        HEAD + '<p><a class="reference internal" href="nowhere.html">a</a> '
        '<a class="reference internal" href="other.html#no-such-id">b</a> '
        '<a class="reference internal" href="#equation-nope">(<span class="eq">9'
        "</span>)</a></p>" + TAIL,
        [
            "link 'nowhere.html' ('a'): no file nowhere.html",
            "link 'other.html#no-such-id' ('b'): no id 'no-such-id' on other.html",
            "equation reference '#equation-nope'",
        ],
    ),
    "traceback.html": (
        HEAD
        + _cell(
            "output traceback highlight-ipythontb",
            "ZeroDivisionError: division by zero",
        )
        + _cell(
            "output stream highlight-myst-ansi",
            "Traceback (most recent call last):\n  File x\nValueError: bad",
        )
        + TAIL,
        ["output.traceback", "traceback in output"],
    ),
    "stderr.html": (
        HEAD + _cell("output stderr highlight-myst-ansi", "UserWarning: hmm") + TAIL,
        ["output.stderr", "UserWarning"],
    ),
    "unresolved_refs.html": (
        HEAD + '<p><span class="xref std std-ref">no-such-label</span> '
        '<code class="xref eq docutils literal notranslate">no-such-eq</code> '
        '<span class="bibtex-citation" id="id1">[]</span> '
        '<code class="xref py py-class docutils literal notranslate">'
        '<span class="pre">gmmlib.NoSuchClass</span></code> '
        '<a class="problematic" href="#id9" id="id8">|f|</a></p>' + TAIL,
        [
            "std-ref",
            "xref eq",
            "bibtex-citation",
            "gmmlib.NoSuchClass",
            'problematic: "|f|"',
        ],
    ),
    "network.html": (
        HEAD + '<p><img alt="cdn" src="https://cdn.example.org/logo.png"></p>' + TAIL,
        ["outside the local server: https://cdn.example.org/logo.png"],
    ),
    "script_error.html": (
        HEAD + "<script>throw new Error('boom in the page')</script>" + TAIL,
        ["console error", "boom in the page"],
    ),
}


def _synthetic_site(folder, pages: dict[str, str]):
    """Serve ``pages`` (name -> HTML) beside the bundled MathJax and a 1-px PNG."""
    mathjax = mathjax_dir()
    if mathjax is None:
        pytest.fail("sphinx-mathjax-offline is not installed (requirements.txt)")
    (folder / "mathjax").symlink_to(mathjax, target_is_directory=True)
    (folder / "pixel.png").write_bytes(PNG_1PX)
    for name, text in pages.items():
        (folder / name).write_text(text, encoding="utf-8")
    return serve(folder)


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory):
    pages = {
        "good.html": GOOD,
        "other.html": HEAD_NO_MATHJAX + '<p id="target">here</p>' + TAIL,
    }
    pages.update({name: text for name, (text, _) in BROKEN.items()})
    with _synthetic_site(tmp_path_factory.mktemp("broken_site"), pages) as server:
        yield server


def test_checker_passes_a_good_page(browser, broken_site, tmp_path):
    shot = tmp_path / "good.png"
    assert check_page(browser, broken_site, "good.html", shot) == []
    assert shot.stat().st_size > 0


@pytest.mark.parametrize("page", sorted(BROKEN))
def test_checker_reports_a_broken_page(browser, broken_site, page):
    problems = check_page(browser, broken_site, page)
    report = "\n".join(problems)
    for expected in BROKEN[page][1]:
        assert expected in report, f"{expected!r} not reported for {page}:\n{report}"


# ---------------------------------------------------------------------------
# The layout checker catches what does not fit
# ---------------------------------------------------------------------------

# The theme's rules that decide how a display and a code cell overflow
# (pydata-sphinx-theme 0.17: the formula scrolls in its mjx-container, the
# equation number stays beside it), in an article column of at most 700 px.
FIT_STYLE = """<style>
article.bd-article { max-width: 700px; padding: 0 24px; }
div.math { display: flex; flex-direction: row-reverse; max-width: 100%;
           overflow: hidden; }
div.math mjx-container { flex-grow: 1; overflow: auto; padding-bottom: .2rem; }
div.cell_input pre { overflow: auto; }
.clipped div.math mjx-container { overflow: hidden; }
</style>
"""
WIDE_TEX = r"\text{" + "a formula far too long for any column " * 3 + "}"


def _code_cell(code, output=""):
    return (
        '<div class="cell docutils container"><div class="cell_input docutils '
        f'container"><div class="highlight"><pre>{code}</pre></div></div>'
        f'<div class="cell_output docutils container">{output}</div></div>'
    )


FITS = (
    HEAD
    + FIT_STYLE
    + r"""<div class="math notranslate nohighlight" id="equation-short">
<span class="eqno">(1)</span>\[\Sigma_k = \frac{1}{N_k} S_k\]</div>"""
    + _code_cell("x = 1", '<img alt="dot" src="pixel.png" width="300">')
    + TAIL
)
# page: (html, on the desktop, on a phone: what the report must say)
DOES_NOT_FIT = {
    "wide_display.html": (
        HEAD
        + FIT_STYLE
        + '<div class="math notranslate nohighlight" id="equation-wide">'
        + f'<span class="eqno">(1)</span>\\[{WIDE_TEX}\\]</div>'
        + TAIL,
        ["display #equation-wide", "scrolls"],
        [],
    ),
    "wide_code.html": (
        HEAD + FIT_STYLE + _code_cell("y = " + "1 + " * 60 + "1") + TAIL,
        ["code cell input code cell 1", '"y = 1 + 1', "scrolls"],
        [],
    ),
    "wide_output.html": (
        HEAD
        + FIT_STYLE
        + _code_cell("plot()", '<img alt="plot" src="pixel.png" width="1000">')
        + TAIL,
        ["code cell output image code cell 1", "1000 px"],
        ["code cell output image code cell 1", "1000 px"],
    ),
    "clipped_display.html": (
        HEAD
        + FIT_STYLE
        + '<div class="clipped"><div class="math notranslate nohighlight">'
        + f"\\[{WIDE_TEX}\\]</div></div>"
        + TAIL,
        ["display", "a formula far too long"],
        ["display", "a formula far too long", "is cut off"],
    ),
    "wide_page.html": (
        HEAD + FIT_STYLE + '<p style="width: 1500px">a wide paragraph</p>' + TAIL,
        ["the page is", "scrolls sideways"],
        ["the page is", "scrolls sideways"],
    ),
}


@pytest.fixture(scope="module")
def fit_site(tmp_path_factory):
    pages = {"fits.html": FITS}
    pages.update({name: text for name, (text, _, _) in DOES_NOT_FIT.items()})
    with _synthetic_site(tmp_path_factory.mktemp("fit_site"), pages) as server:
        yield server


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_fit_checker_passes_what_fits(browser, fit_site, screen):
    measured = measure_fit(browser, fit_site, "fits.html", SCREENS[screen])
    kinds = sorted(item["kind"] for item in measured["items"])
    assert kinds == [
        "code cell input",
        "code cell output",
        "code cell output image",
        "display",
    ]
    assert overflows(measured, scrolling_allowed=screen == "phone") == []


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("page", sorted(DOES_NOT_FIT))
def test_fit_checker_reports_what_does_not_fit(browser, fit_site, page, screen):
    _, on_desktop, on_phone = DOES_NOT_FIT[page]
    expected = on_desktop if screen == "desktop" else on_phone
    measured = measure_fit(browser, fit_site, page, SCREENS[screen])
    report = "\n".join(overflows(measured, scrolling_allowed=screen == "phone"))
    if not expected:
        # On a phone a display or a code line that scrolls in its box is fine.
        assert report == "", f"{page} [{screen}] reported:\n{report}"
    for text in expected:
        assert text in report, f"{text!r} not reported for {page} [{screen}]:\n{report}"


# ---------------------------------------------------------------------------
# The accessibility checker catches inaccessible pages
# ---------------------------------------------------------------------------

# A page that passes in both modes: a language, a title, a main landmark, a
# heading, and the theme's mode switch (data-theme from localStorage) with dark
# colours that keep their contrast.
A11Y_HEAD = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>An accessible page</title>
<script>document.documentElement.dataset.theme =
  localStorage.getItem("theme") || "light";</script>
<style>
html[data-theme="dark"] body { background: #14181e; color: #ced6dd; }
html[data-theme="dark"] a { color: #9ec5fe; }
</style>
<script>window.MathJax = {options: {processHtmlClass: "math"%s}}</script>
<script defer src="mathjax/tex-chtml.js"></script>
</head><body><main><h1>A page</h1>
"""
A11Y_TAIL = "</main></body></html>\n"


def _a11y_page(body, mathjax_options=""):
    return A11Y_HEAD % mathjax_options + body + A11Y_TAIL


A11Y_GOOD = _a11y_page(
    r"""<p>Text with <a href="#f">a link</a> and inline math
<span class="math">\(\Sigma_k = \frac{1}{N_k} S_k\)</span>.</p>
<figure id="f"><img src="pixel.png" alt="One black pixel on a white ground">
<figcaption>A figure with alt text that says what it shows.</figcaption></figure>
<button type="button" aria-label="Switch to dark mode">Switch to dark mode</button>
"""
)

# page: (html, mode, what the report must say)
A11Y_BROKEN = {
    # The numbers: #176de8 on #ecf3ff is 4.29:1, AA needs 4.5:1.
    "low_contrast.html": (
        _a11y_page(
            '<div style="background:#ecf3ff"><p>See <a href="#x" id="x" '
            'style="color:#176de8">the proof</a>.</p></div>'
        ),
        "light",
        ["[light] axe serious color-contrast", "#x", "4.29"],
    ),
    # Fine in light mode, unreadable in dark: the dark check must see it.
    "dark_only_contrast.html": (
        _a11y_page(
            '<style>html[data-theme="dark"] .note { color: #3b4048; }</style>'
            '<p class="note">A note that fades into the dark background.</p>'
        ),
        "dark",
        ["[dark] axe serious color-contrast", 'class="note"', "#3b4048"],
    ),
    "button_names.html": (
        _a11y_page(
            '<button type="button" aria-label="Colour mode">Light</button> '
            '<button type="button" class="icon-only"><i></i></button>'
        ),
        "light",
        [
            "label-content-name-mismatch",
            'aria-label="Colour mode"',
            "axe critical button-name",
            ".icon-only",
        ],
    ),
    "aria_children.html": (
        _a11y_page('<ul role="tablist" id="tabs"><li>not a tab</li></ul>'),
        "light",
        ["axe critical aria-required-children", "#tabs"],
    ),
    "alt_texts.html": (
        _a11y_page(
            '<p><img src="pixel.png" alt=""> '
            '<img src="pixel.png" alt="4e7fcff4.png"> '
            '<img src="pixel.png" alt="../_images/4e7fcff4.png"> '
            '<img src="pixel.png" alt="pixel.png"> '
            '<img src="pixel.png" alt="No description has been provided for this '
            'image"> <img src="pixel.png"></p>'
        ),
        "light",
        [
            'has empty alt text: alt=""',
            'has a file name as alt text: alt="4e7fcff4.png"',
            'has a path as alt text: alt="../_images/4e7fcff4.png"',
            'has its own path as alt text: alt="pixel.png"',
            "has a placeholder as alt text",
            "has no alt attribute",
            "axe critical image-alt",
        ],
    ),
    "math_without_mathml.html": (
        _a11y_page(
            r'<p><span class="math">\(x^2\)</span></p>',
            # What a reader gets by unticking "Assistive MathML" in MathJax's
            # menu (its setting overrides the enableAssistiveMml option).
            ", menuOptions: {settings: {assistiveMml: false}}",
        ),
        "light",
        ["formula without assistive MathML", "x^2"],
    ),
    "math_not_typeset.html": (
        _a11y_page(r'<p><span class="math">\(y^2\)</span></p>').replace(
            "mathjax/tex-chtml.js", "mathjax/missing.js"
        ),
        "light",
        ["formula without assistive MathML", "y^2", "not typeset at all"],
    ),
    "no_colour_modes.html": (
        _a11y_page("<p>No theme script.</p>").replace(
            "document.documentElement.dataset.theme", "window.ignored"
        ),
        "dark",
        ["did not take the dark colour mode", "data-theme=None"],
    ),
}


@pytest.fixture(scope="module")
def a11y_site(tmp_path_factory):
    pages = {"good.html": A11Y_GOOD}
    pages.update({name: text for name, (text, _, _) in A11Y_BROKEN.items()})
    with _synthetic_site(tmp_path_factory.mktemp("a11y_site"), pages) as server:
        yield server


@pytest.mark.parametrize("mode", COLOUR_MODES)
def test_accessibility_checker_passes_a_good_page(browser, axe, a11y_site, mode):
    problems, _ = check_accessibility(browser, a11y_site, "good.html", mode)
    assert problems == []


@pytest.mark.parametrize("page", sorted(A11Y_BROKEN))
def test_accessibility_checker_reports_a_broken_page(browser, axe, a11y_site, page):
    _, mode, expected = A11Y_BROKEN[page]
    problems, _ = check_accessibility(browser, a11y_site, page, mode)
    report = "\n".join(problems)
    for text in expected:
        assert text in report, f"{text!r} not reported for {page} [{mode}]:\n{report}"


def test_accessibility_checker_passes_dark_only_contrast_in_light_mode(
    browser, axe, a11y_site
):
    """The dark-mode violation above is really the dark mode's."""
    problems, _ = check_accessibility(
        browser, a11y_site, "dark_only_contrast.html", "light"
    )
    assert problems == []
