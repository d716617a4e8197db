"""Print the book to PDF: Sphinx's single-page build, printed by headless Chromium.

``make pdf`` builds the book with Sphinx's ``singlehtml`` builder (the same
sources, configuration and executed notebooks as the web book, every chapter
one after the other in one page, cross-references turned into anchors of that
page) and then runs::

    python tests/_pdf.py _build/singlehtml _build/pdf/gmm-em-book.pdf

which serves that folder on 127.0.0.1, opens it in the headless Chromium the
browser tests use (``_browser_helpers.chromium_driver``), waits until MathJax
has typeset every formula, and then prepares the page for paper:

- ``_static/print.css``: the article only (no sidebars, header or buttons),
  each chapter on a new page, figures and displays kept whole, code wrapped;
- hidden content opened (the solutions' dropdowns, hidden cells);
- a table of contents after the title page, written from the parts of
  ``_toc.yml`` and the chapters' headings (with their numbers), each entry a
  link with its page number.

Chromium prints it through DevTools' ``Page.printToPDF`` (the page number in
every page's footer, a PDF outline from the headings). The page numbers of the
table of contents come from a first printing: Chromium writes every internal
link target as a named destination, whose page ``pypdf`` reads; the second
printing carries them. The result is a real PDF: its text is text (searchable,
copyable), the figures are the PNG images of the web pages.

Reading the PDF back (``pdf_text``, ``unresolved_references``, ...) is here
too, for tests/test_pdf.py.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _browser_helpers import _WAIT_JS, chromium_driver, serve  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PRINT_CSS = REPO / "_static" / "print.css"
TOC_FILE = REPO / "_toc.yml"
#: Typesetting a whole book's formulas in one page takes a while.
MATHJAX_TIMEOUT_S = 600
#: A4, with margins that leave the text column of the web page (about 670 CSS
#: pixels once scaled) and room for the page number.
PAPER = {"paperWidth": 8.27, "paperHeight": 11.69}
MARGINS = {"marginTop": 0.6, "marginBottom": 0.7, "marginLeft": 0.6, "marginRight": 0.6}
SCALE = 0.85

_FOOTER = (
    '<div style="width:100%;font-size:8px;font-family:sans-serif;color:#555;'
    'text-align:center;"><span class="pageNumber"></span> / '
    '<span class="totalPages"></span></div>'
)


def toc_parts(toc_file: Path = TOC_FILE) -> list[dict]:
    """The parts of _toc.yml: [{"caption": ..., "docs": ["chapters/01_model", ...]}]."""
    import yaml

    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    parts = []
    for part in toc.get("parts", []):
        docs = [entry["file"] for entry in part.get("chapters", []) if "file" in entry]
        parts.append({"caption": part.get("caption", ""), "docs": docs})
    if not parts and toc.get("chapters"):
        parts.append({"caption": "", "docs": [c["file"] for c in toc["chapters"]]})
    return parts


# Prepares the single page for print. arguments[0]: the parts of _toc.yml,
# arguments[1]: a line for the title page (the edition) or null. Returns the
# table of contents' targets (ids), in order, and what was found.
_PREPARE_JS = r"""
const parts = arguments[0], editionNote = arguments[1];
const out = {targets: [], chapters: [], missing: []};
// The light colour scheme, whatever the reader's system prefers.
document.documentElement.dataset.theme = "light";
document.documentElement.dataset.mode = "light";
// Hidden content is printed: solutions in dropdowns, hidden cells, <details>.
const closed = 'button.toggle-button[aria-expanded="false"]';
for (const b of document.querySelectorAll(closed)) { b.click(); }
for (const d of document.querySelectorAll("details")) { d.open = true; }
for (const el of document.querySelectorAll(".toggle-hidden")) {
  el.classList.remove("toggle-hidden");
}
// Images load now, not when scrolled to.
for (const img of document.images) { img.loading = "eager"; }

const article = document.querySelector("article.bd-article") || document.body;
const HEADING = ":scope > :is(h1, h2, h3, h4, h5, h6)";
// A document of the single page starts at <span id="document-NAME">; its
// first section follows.
const docSection = name => {
  const span = document.getElementById("document-" + name);
  if (!span) return null;
  let el = span.nextElementSibling;
  while (el && el.tagName !== "SECTION") el = el.nextElementSibling;
  return el;
};
const headingText = h => {
  const copy = h.cloneNode(true);
  for (const a of copy.querySelectorAll(".headerlink")) a.remove();
  return copy.textContent.replace(/\s+/g, " ").trim();
};
// The contents link to the headings, by ids of their own: the single page
// repeats section ids ("exercises" in every chapter).
const ensureId = (el, fresh) => {
  const head = el.querySelector(HEADING) || el;
  head.id = fresh;
  return fresh;
};

const toc = document.createElement("nav");
toc.className = "print-toc";
toc.setAttribute("aria-label", "Table of contents");
const title = document.createElement("h2");
title.textContent = "Contents";
toc.appendChild(title);
const list = document.createElement("ol");
toc.appendChild(list);
const entry = (cls, text, target) => {
  const li = document.createElement("li");
  li.className = cls;
  if (target) {
    const a = document.createElement("a");
    a.href = "#" + target;
    a.innerHTML = '<span class="print-toc-title"></span>' +
      '<span class="print-toc-leader"></span><span class="print-toc-page">000</span>';
    a.querySelector(".print-toc-title").textContent = text;
    a.querySelector(".print-toc-page").style.visibility = "hidden";
    a.dataset.target = target;
    li.appendChild(a);
    out.targets.push(target);
  } else {
    li.textContent = text;
  }
  list.appendChild(li);
};
let count = 0;
for (const part of parts) {
  if (part.caption) entry("print-toc-part", part.caption, null);
  for (const name of part.docs) {
    const section = docSection(name);
    if (!section) { out.missing.push(name); continue; }
    section.classList.add("print-chapter");
    // Sphinx nests the included documents under the landing page's section
    // that holds its toctree: a chapter's title is an h3 there, not an h1.
    const head = section.querySelector(HEADING);
    const text = head ? headingText(head) : name;
    out.chapters.push(text);
    entry("print-toc-chapter", text, ensureId(section, "print-doc-" + (++count)));
    for (const sub of section.querySelectorAll(":scope > section")) {
      const head = sub.querySelector(HEADING);
      if (!head) continue;
      const id = ensureId(sub, "print-sec-" + (++count));
      entry("print-toc-section", headingText(head), id);
    }
  }
}
// The title page is the root document (index.md) up to the first chapter;
// the contents follow it.
const first = article.querySelector(".print-chapter");
if (first) {
  let anchor = first;
  const span = first.previousElementSibling;
  if (span && span.id && span.id.startsWith("document-")) anchor = span;
  anchor.parentNode.insertBefore(toc, anchor);
  // Every chapter starts a page; the first follows the contents' own break.
} else {
  article.appendChild(toc);
}
if (editionNote) {
  const h1 = article.querySelector("h1");
  const p = document.createElement("p");
  p.className = "print-edition";
  p.textContent = editionNote;
  if (h1) h1.insertAdjacentElement("afterend", p); else article.prepend(p);
}
return out;
"""

# Writes the page numbers into the table of contents. arguments[0]: {id: page}.
_NUMBER_JS = r"""
const pages = arguments[0];
let missing = [];
for (const a of document.querySelectorAll("nav.print-toc a[data-target]")) {
  const span = a.querySelector(".print-toc-page");
  const page = pages[a.dataset.target];
  if (page === undefined) { missing.push(a.dataset.target); continue; }
  span.textContent = String(page);
  span.style.visibility = "visible";
}
return missing;
"""


def _print(driver) -> bytes:
    params = {
        **PAPER,
        **MARGINS,
        "scale": SCALE,
        "printBackground": True,
        "displayHeaderFooter": True,
        "headerTemplate": "<div></div>",
        "footerTemplate": _FOOTER,
        "generateDocumentOutline": True,
        "generateTaggedPDF": True,
    }
    result = driver.execute_cdp_cmd("Page.printToPDF", params)
    return base64.b64decode(result["data"])


def destination_pages(pdf: bytes) -> dict[str, int]:
    """{named destination: page number (1-based)} of a PDF Chromium printed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    pages = {}
    for name, dest in reader.named_destinations.items():
        try:
            page = reader.get_destination_page_number(dest) + 1
        except Exception:  # a destination without a page: not one of ours
            continue
        # pypdf gives the names as PDF name objects, with their leading "/".
        name = str(name)
        pages[name[1:] if name.startswith("/") else name] = page
    return pages


def print_book(
    html_dir: Path,
    out: Path,
    *,
    page: str = "index.html",
    edition_note: str | None = None,
    parts: list[dict] | None = None,
    log=print,
) -> dict:
    """Print html_dir/page to the PDF out; returns what was found (chapters, pages)."""
    html_dir = Path(html_dir).resolve()
    parts = toc_parts() if parts is None else parts
    css = PRINT_CSS.read_text(encoding="utf-8")
    started = time.monotonic()
    with serve(html_dir) as server, chromium_driver() as driver:
        driver.set_page_load_timeout(MATHJAX_TIMEOUT_S)
        driver.set_script_timeout(MATHJAX_TIMEOUT_S + 30)
        driver.get(server.url(page))
        waited = driver.execute_async_script(_WAIT_JS, MATHJAX_TIMEOUT_S * 1000)
        if waited.get("error"):
            raise RuntimeError(f"{page} did not settle: {waited['error']}")
        log(
            f"  page loaded and typeset ({waited.get('mathjax')}) "
            f"in {time.monotonic() - started:.0f} s"
        )
        found = driver.execute_script(_PREPARE_JS, parts, edition_note)
        if found["missing"]:
            raise RuntimeError(
                f"documents of _toc.yml not in {page}: {', '.join(found['missing'])}"
            )
        driver.execute_script(
            "const s = document.createElement('style'); s.id = 'print-book-css';"
            "s.textContent = arguments[0]; document.head.appendChild(s);",
            css,
        )
        # Opened content and the table of contents: typeset and loaded too.
        waited = driver.execute_async_script(_WAIT_JS, MATHJAX_TIMEOUT_S * 1000)
        if waited.get("error"):
            raise RuntimeError(f"{page} did not settle: {waited['error']}")
        first = _print(driver)
        pages = destination_pages(first)
        numbers = {t: pages[t] for t in found["targets"] if t in pages}
        missing = driver.execute_script(_NUMBER_JS, numbers)
        if missing:
            raise RuntimeError(
                "no page found for these entries of the contents: " + ", ".join(missing)
            )
        pdf = _print(driver)
        final = destination_pages(pdf)
        moved = {
            t: (numbers[t], final.get(t)) for t in numbers if final.get(t) != numbers[t]
        }
        if moved:
            raise RuntimeError(f"page numbers moved in the second printing: {moved}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    found["pages"] = numbers
    found["seconds"] = time.monotonic() - started
    return found


# ---------------------------------------------------------------------------
# Reading the PDF back (tests/test_pdf.py)
# ---------------------------------------------------------------------------


def pdf_pages_text(path: Path) -> list[str]:
    """The text of each page, as pypdf extracts it."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return [page.extract_text() or "" for page in reader.pages]


def pdf_image_count(path: Path) -> int:
    """How many images the pages draw (each image XObject, counted per page)."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return sum(len(page.images) for page in reader.pages)


#: What a reference Sphinx could not resolve looks like in the printed text:
#: "??" (an unnumbered reference), a raw label of the book's conventions
#: (eq-..., thm-..., fig-...), a bibliography key with its role, "Unknown"
#: (sphinx-proof/numref's placeholder).
_UNRESOLVED = re.compile(
    r"\?\?"
    r"|(?<![\w-])(?:eq|thm|lem|prop|cor|def|fig|ex|sol|sec|chapter|alg|rem)-"
    r"[a-z0-9]+(?:-[a-z0-9]+)*(?![\w(])"
    r"|\{(?:eq|numref|ref|prf:ref|cite|cite:[pt]|doc)\}"
    r"|\bUnknown\b"
)


def unresolved_references(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Snippets of text around what looks like an unresolved reference."""
    found = []
    for match in _UNRESOLVED.finditer(text):
        token = match.group(0)
        if token in allowed:
            continue
        snippet = text[max(0, match.start() - 40) : match.end() + 40]
        found.append(f"{token!r} in ...{' '.join(snippet.split())}...")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path, help="the singlehtml build")
    parser.add_argument("out", type=Path, help="the PDF to write")
    parser.add_argument(
        "--edition-note", default=None, help="a line for the title page"
    )
    args = parser.parse_args(argv)
    print(f"Printing {args.html_dir}/index.html to {args.out}")
    found = print_book(args.html_dir, args.out, edition_note=args.edition_note)
    from pypdf import PdfReader

    n_pages = len(PdfReader(str(args.out)).pages)
    size = args.out.stat().st_size / 2**20
    print(
        f"  {len(found['chapters'])} chapters, {n_pages} pages, {size:.1f} MiB, "
        f"printed in {found['seconds']:.0f} s"
    )
    print(json.dumps(found["chapters"], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
