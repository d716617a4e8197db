"""Serve the built book on 127.0.0.1 and check its pages in headless Chromium.

Used by ``tests/test_browser.py``. The checks run in the browser, after the
page's scripts ran and MathJax typeset it, so they see what a reader sees:

- MathJax finished; every Sphinx math element holds an ``mjx-container``; no
  ``mjx-merror`` and no undefined macro (MathJax's ``noundefined`` package
  shows those as red text instead of an error);
- no raw TeX (``$$``, ``\\[``, ``\\frac``, ``\\begin{``, ...) in the page's text
  outside code (``pre``, ``code``) and outside typeset math;
- every image loaded (``complete`` and ``naturalWidth > 0``);
- no error output: no myst-nb ``.output.stderr`` / ``.output.traceback`` /
  ``.output.error`` block and no "Traceback (most recent call last)" in a cell
  output;
- every internal link resolves: its file exists under the served folder and its
  ``#fragment`` is an ``id`` on that page (equation references, ``#equation-*``,
  are reported as such); no unresolved Sphinx cross-reference (``.xref`` that is
  not inside a link, a citation without a link, docutils ``.problematic`` or
  ``.system-message`` markup);
- nothing is requested from any host but the local server (read from Chrome's
  performance log, so failed requests count too), no request the local server
  answered with an error, and no error in the browser console beyond the
  theme's known, harmless ones (``KNOWN_CONSOLE_ERRORS``).

Before the screenshot (``_build/screenshots/<page>.png``, 1200 CSS pixels wide)
hidden solutions are opened so that a reviewer sees the whole page.

``check_page`` returns a list of problems (empty when the page is fine), so the
same checker runs on the book and on the deliberately broken pages of the tests
that prove it can fail.
"""

from __future__ import annotations

import contextlib
import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_HTML = REPO / "_build" / "html"

#: Pages of a Sphinx build that are not pages of the book.
NOT_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
NOT_PAGE_DIRS = {"_static", "_sources", "_images", "_downloads", "_panels_static"}

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver", "chromedriver")


def install_hint() -> str:
    """The one-line command that installs Chromium and its driver on this platform."""
    import platform

    system = platform.system()
    if system == "Darwin":
        command = "brew install --cask chromium && brew install chromedriver"
    elif system == "Windows":
        command = (
            "winget install Google.Chrome  (Selenium Manager then fetches its driver)"
        )
    elif shutil.which("dnf"):
        command = "sudo dnf install chromium chromedriver"
    elif shutil.which("pacman"):
        command = "sudo pacman -S chromium"
    else:
        command = "sudo apt-get install chromium chromium-driver"
    return (
        f"Install them with:\n    {command}\n"
        "(.ci/run does this on CI), or point GMMBOOK_CHROMIUM and "
        "GMMBOOK_CHROMEDRIVER at the two executables."
    )


INSTALL_HINT = install_hint()

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # No network on the test machines: without these Chromium keeps retrying
    # its own background connections (updates, sync, field trials).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--mute-audio",
    # Nothing but the local server resolves: a page that needs the network
    # fails its request at once (and is reported) instead of waiting on it.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

#: Width of the browser window and of the screenshots, in CSS pixels.
WIDTH = 1200
HEIGHT = 900
#: Screenshots taller than this are cut (a PNG of a whole long chapter is huge).
MAX_SCREENSHOT_HEIGHT = 32000
MATHJAX_TIMEOUT_S = 30


class BrowserMissing(RuntimeError):
    """Chromium or chromedriver is not installed."""


# ---------------------------------------------------------------------------
# The book's pages
# ---------------------------------------------------------------------------


def html_root() -> Path:
    """The folder of the built book: $GMMBOOK_HTML, else _build/html."""
    return Path(os.environ.get("GMMBOOK_HTML", DEFAULT_HTML)).resolve()


def discover_pages(root: Path) -> list[str]:
    """Every HTML page of the build, as paths relative to root ("chapters/x.html")."""
    pages = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root)
        if rel.parts[0] in NOT_PAGE_DIRS or rel.parts[0].startswith("."):
            continue
        if rel.as_posix() in NOT_PAGES:
            continue
        pages.append(rel.as_posix())
    # The root page first, then the rest in path order.
    pages.sort(key=lambda p: (p != "index.html", p))
    return pages


class _IdCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)


@functools.lru_cache(maxsize=256)
def _ids_in(path: Path) -> frozenset[str]:
    parser = _IdCollector()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def _local_target(root: Path, url_path: str) -> Path:
    """The file the local server answers url_path with."""
    rel = urllib.parse.unquote(url_path).lstrip("/")
    target = root / rel
    if not rel or rel.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


# ---------------------------------------------------------------------------
# The local server
# ---------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, quietly, and remembers the requests it failed."""

    failures: list[str]

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def log_request(self, code="-", size="-"):
        try:
            status = int(code)
        except (TypeError, ValueError):
            status = 0
        path = urllib.parse.urlsplit(self.path).path
        if status >= 400 and not path.endswith("/favicon.ico"):
            self.failures.append(f"{status} {self.path}")


class Server:
    """http.server on 127.0.0.1, a free port, serving one folder from a thread."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.failures: list[str] = []
        handler = type("Handler", (_Handler,), {"failures": self.failures})
        self._httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(self.root))
        )
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="book-server", daemon=True
        )
        self._thread.start()

    def url(self, page: str) -> str:
        return f"{self.origin}/{urllib.parse.quote(page)}"

    def take_failures(self) -> list[str]:
        failures = list(self.failures)
        self.failures.clear()
        return failures

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def serve(root: Path) -> Iterator[Server]:
    server = Server(root)
    try:
        yield server
    finally:
        server.close()


# ---------------------------------------------------------------------------
# The browser
# ---------------------------------------------------------------------------


def _find_executable(env_var: str, candidates: tuple[str, ...]) -> str | None:
    explicit = os.environ.get(env_var)
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def _selenium_manager_browser() -> tuple[str, str] | None:
    """(browser, driver) fetched by Selenium Manager, or None where it cannot.

    Selenium Manager (shipped inside the selenium wheel) downloads Chrome for
    Testing and its chromedriver into ~/.cache/selenium on a machine with
    internet access. On the project's offline CI it fails at once, and the
    caller then says how to install a system browser.
    """
    os.environ.setdefault("SE_AVOID_STATS", "true")  # no usage report to a web service
    try:
        from selenium.webdriver.common.selenium_manager import SeleniumManager

        paths = SeleniumManager().binary_paths(["--browser", "chrome"])
    except Exception:  # no network, unsupported platform, no binary: all mean "no"
        return None
    browser, driver = paths.get("browser_path"), paths.get("driver_path")
    if (
        browser
        and driver
        and os.access(browser, os.X_OK)
        and os.access(driver, os.X_OK)
    ):
        return browser, driver
    return None


@functools.lru_cache(maxsize=1)
def find_browser() -> tuple[str, str]:
    """(chromium, chromedriver) paths, or BrowserMissing saying how to install.

    A system Chromium and chromedriver come first (or GMMBOOK_CHROMIUM and
    GMMBOOK_CHROMEDRIVER). Where there is none, Selenium Manager may fetch
    Chrome for Testing (it needs internet access); where that fails too, the
    error gives the one-line install command for this platform.
    """
    chromium = _find_executable("GMMBOOK_CHROMIUM", CHROMIUM_CANDIDATES)
    driver = _find_executable("GMMBOOK_CHROMEDRIVER", CHROMEDRIVER_CANDIDATES)
    if chromium and driver:
        return chromium, driver
    fetched = _selenium_manager_browser()
    if fetched:
        return fetched
    missing = [
        name
        for name, path in (("chromium", chromium), ("chromedriver", driver))
        if path is None
    ]
    raise BrowserMissing(
        f"not found: {', '.join(missing)}, and Selenium Manager could not fetch "
        f"a browser either.\n{INSTALL_HINT}"
    )


@contextlib.contextmanager
def chromium_driver() -> Iterator[object]:
    """Headless Chromium under Selenium, with a fresh profile.

    The browser and driver come from ``find_browser``; Selenium is then given
    both paths, so it does not look for (or download) anything itself.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = find_browser()
    profile = tempfile.mkdtemp(prefix="gmmbook-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={WIDTH},{HEIGHT}")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability(
        "goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"}
    )
    service = Service(executable_path=chromedriver)
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    try:
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(MATHJAX_TIMEOUT_S + 10)
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        )
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# ---------------------------------------------------------------------------
# The page checks
# ---------------------------------------------------------------------------

# Resolves to {"mathjax": ..., "error": ...} once the page's own MathJax (if
# any) has typeset everything and its fonts and images are loaded.
_WAIT_JS = r"""
const done = arguments[arguments.length - 1];
const timeoutMs = arguments[0];
const withTimeout = (p, what) => Promise.race([p, new Promise((_, reject) =>
  setTimeout(() => reject(new Error(what + " timed out")), timeoutMs))]);
const settled = img => img.complete ? null : new Promise(r => {
  img.addEventListener("load", r);
  img.addEventListener("error", r);
});
(async () => {
  const result = {mathjax: "absent", error: null};
  try {
    // Images are checked after they finished, whether loaded or failed.
    for (const img of document.images) { img.loading = "eager"; }
    await withTimeout(Promise.all(Array.from(document.images, settled)), "images");
    if (window.MathJax) {
      result.mathjax = "loading";
      // MathJax 3 defines startup.promise once its (deferred) script ran, which
      // is before the page is "complete": if it is still missing a moment
      // after that, the script was not served or failed.
      const t0 = Date.now();
      let completeAt = null;
      while (!(MathJax.startup && MathJax.startup.promise)) {
        if (document.readyState === "complete" && completeAt === null) {
          completeAt = Date.now();
        }
        if (completeAt !== null && Date.now() - completeAt > 2000) {
          throw new Error("MathJax is configured but its script never ran");
        }
        if (Date.now() - t0 > timeoutMs) throw new Error("MathJax never started");
        await new Promise(r => setTimeout(r, 50));
      }
      await withTimeout(MathJax.startup.promise, "MathJax startup");
      if (MathJax.typesetPromise) {
        await withTimeout(MathJax.typesetPromise(), "MathJax typeset");
      }
      result.mathjax = "done";
    }
    if (document.fonts) await withTimeout(document.fonts.ready, "fonts");
  } catch (e) {
    result.error = String(e);
  }
  done(result);
})();
"""

# Everything else is read from the DOM in one pass.
_INSPECT_JS = r"""
const snippet = (s, n = 100) => s.replace(/\s+/g, " ").trim().slice(0, n);
const quote = s => '"' + s + '"';
// Where on the page: the section, else the part of the theme (sidebar, ...).
const where = el => {
  const sec = el.closest("article section[id]");
  if (sec) return "(in #" + sec.id + ")";
  const part = el.closest("[id]");
  return part ? "(in #" + part.id + ")" : "";
};
const out = {};

// Math: Sphinx's math elements, each must now hold typeset output.
const maths = Array.from(document.querySelectorAll("span.math, div.math"));
out.mathCount = maths.length;
out.mathUntypeset = maths.filter(el => !el.querySelector("mjx-container"))
  .map(el => snippet(el.textContent) + " " + where(el));
out.mathErrors = Array.from(document.querySelectorAll("mjx-merror"), el =>
  (el.getAttribute("data-mjx-error") || snippet(el.textContent)) + " " + where(el));
// MathJax's noundefined extension renders an unknown macro as red text
// rather than an error; its internal MathML keeps the macro's name.
out.mathUndefined = [];
if (window.MathJax && MathJax.startup && MathJax.startup.document) {
  for (const item of MathJax.startup.document.math) {
    const bad = [];
    if (item.root && item.root.walkTree) {
      item.root.walkTree(node => {
        if (node.isKind && node.isKind("mtext") && node.attributes &&
            node.attributes.get("mathcolor") === "red") {
          bad.push(node.getText ? node.getText() : "?");
        }
      });
    }
    if (bad.length) {
      out.mathUndefined.push(bad.join(" ") + " in " + snippet(item.math, 60));
    }
  }
}

// Raw TeX in the text a reader sees: skip code, scripts and typeset math, and
// what is never shown on screen (the theme's print-only header), but not what
// a click reveals (collapsed solutions, <details>).
const skip = "pre, code, kbd, samp, script, style, noscript, template, " +
             "textarea, mjx-container, .highlight";
const revealable = ".toggle-hidden, .toggle, .dropdown, details";
const onScreen = el => (el.checkVisibility ? el.checkVisibility() :
  el.getClientRects().length > 0) || el.closest(revealable) !== null;
const tex = new RegExp([
  String.raw`\$\$`, String.raw`\\[\[\]()]`, String.raw`\\(begin|end)\{`,
  String.raw`\\(frac|sum|prod|int|sqrt|mathbf|mathrm|mathsf|boldsymbol|text)\b`,
  String.raw`\\(left|right|partial|top|cdot|operatorname|log|exp)\b`,
  String.raw`\\(alpha|beta|gamma|delta|epsilon|mu|pi|sigma|Sigma|theta|lambda)\b`,
].join("|"));
out.rawTex = [];
// The title shows in the browser's tab, bookmarks and search results.
out.titleTex = tex.test(document.title) ? quote(document.title) : null;
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const parent = node.parentElement;
  if (!parent || parent.closest(skip) || !onScreen(parent)) continue;
  const m = node.textContent.match(tex);
  if (m) {
    const text = snippet(node.textContent.slice(Math.max(0, m.index - 30)), 80);
    out.rawTex.push(quote(text) + " " + where(parent));
  }
}

// Images.
out.images = Array.from(document.images, img => ({
  src: img.getAttribute("src") || "",
  ok: img.complete && img.naturalWidth > 0,
  where: where(img)}));

// Cell outputs that are errors (myst-nb's classes, and tracebacks anywhere).
out.errorOutputs = [];
const errorClasses = ".output.stderr, .output.traceback, .output.error, " +
                     ".output_stderr, .output_error";
for (const el of document.querySelectorAll(errorClasses)) {
  const kind = el.className.split(/\s+/).filter(c => c.startsWith("output") ||
    ["stderr", "traceback", "error"].includes(c)).join(".");
  out.errorOutputs.push(
    kind + ": " + quote(snippet(el.textContent, 160)) + " " + where(el));
}
const traceback =
  /Traceback \(most recent call last\)|^\s*-{20,}\s*\n\s*\w+(Error|Exception)\b/m;
for (const el of document.querySelectorAll(".cell_output, .output")) {
  if (traceback.test(el.textContent)) {
    out.errorOutputs.push("traceback in output: " +
      quote(snippet(el.textContent, 160)) + " " + where(el));
  }
}

// Links to this server (the same origin as the page).
out.links = [];
for (const a of document.querySelectorAll("a[href]")) {
  const raw = a.getAttribute("href");
  if (!raw || raw === "#" || raw.startsWith("javascript:")) continue;
  let url;
  try {
    url = new URL(raw, document.baseURI);
  } catch (e) {
    out.links.push({raw, bad: true});
    continue;
  }
  if (url.origin !== location.origin) continue;
  out.links.push({
    raw, path: url.pathname, hash: url.hash.slice(1),
    text: snippet(a.textContent, 60),
    eq: url.hash.startsWith("#equation-") || a.querySelector(".eq") !== null});
}

// Cross-references Sphinx could not resolve: it leaves them as unlinked text
// (and docutils marks what it could not parse as "problematic").
out.unresolved = [];
const refs = ".xref, .bibtex-citation, .footnote-reference, .problematic, " +
             ".system-message";
for (const el of document.querySelectorAll(refs)) {
  const text = el.textContent.trim();
  // A Python object of another package (numpy.ndarray, matplotlib.*) has no
  // page without intersphinx, which needs the network: Sphinx prints its name
  // as code. Only gmmlib's own objects must resolve.
  if (el.classList.contains("py") && /^[A-Za-z_]\w*\./.test(text) &&
      !text.startsWith("gmmlib.")) continue;
  const linked = el.classList.contains("problematic") ||
    el.classList.contains("system-message") ? null :
    el.classList.contains("bibtex-citation") ? el.querySelector("a") : el.closest("a");
  if (!linked) {
    out.unresolved.push(el.className + ": " +
      quote(snippet(el.textContent, 60)) + " " + where(el));
  }
}
out.scrollHeight = Math.max(
  document.documentElement.scrollHeight, document.body.scrollHeight);
return out;
"""


def _performance_requests(driver) -> list[str]:
    """URLs the page requested since the last call (from Chrome's performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        try:
            message = json.loads(entry["message"])["message"]
        except (KeyError, ValueError):
            continue
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


#: Console errors of the theme stack itself, harmless to the reader, that the
#: book cannot fix from its configuration. Anything else in the console fails.
KNOWN_CONSOLE_ERRORS = (
    # jupyter-book 1 with sphinx-thebe 0.3 writes the inline thebe settings
    # twice into every page; the second `const` declaration throws. Both
    # copies are identical, and thebe only loads when "Live code" is clicked.
    re.compile(r"Identifier 'THEBE_JS_URL' has already been declared"),
    # pydata-sphinx-theme on a first visit (empty localStorage, as in our fresh
    # profile) logs this and falls back to the "auto" colour mode.
    re.compile(r"Got invalid theme mode: \. Resetting to auto\."),
    # Chromium asks every origin for /favicon.ico; the book has none.
    re.compile(r"/favicon\.ico\b"),
)


def _console_errors(driver) -> list[str]:
    errors = []
    for entry in driver.get_log("browser"):
        if entry.get("level") != "SEVERE":
            continue
        text = entry.get("message", "")
        if any(pattern.search(text) for pattern in KNOWN_CONSOLE_ERRORS):
            continue
        errors.append(text)
    return errors


def _check_link(root: Path, page: str, link: dict) -> str | None:
    if link.get("bad"):
        return f"malformed link {link['raw']!r}"
    target = _local_target(root, link["path"])
    kind = "equation reference" if link["eq"] else "link"
    label = f"{kind} {link['raw']!r} ({link['text']!r})"
    try:
        target.relative_to(root)
    except ValueError:
        return f"{label} leaves the book"
    if not target.is_file():
        return f"{label}: no file {target.relative_to(root).as_posix()}"
    fragment = urllib.parse.unquote(link["hash"])
    if fragment and target.suffix == ".html" and fragment not in _ids_in(target):
        return f"{label}: no id {fragment!r} on {target.relative_to(root).as_posix()}"
    return None


def check_page(driver, server: Server, page: str, screenshot: Path | None = None):
    """Open page (relative to the served folder) and return its problems."""
    # Drop what earlier pages left in the logs.
    driver.get_log("performance")
    driver.get_log("browser")
    server.take_failures()

    driver.get(server.url(page))
    waited = driver.execute_async_script(_WAIT_JS, MATHJAX_TIMEOUT_S * 1000)
    found = driver.execute_script(_INSPECT_JS)
    problems: list[str] = []

    if waited.get("error"):
        problems.append(f"page did not settle: {waited['error']}")
    if found["mathCount"] and waited.get("mathjax") != "done":
        problems.append(
            f"{found['mathCount']} math elements but MathJax is "
            f"{waited.get('mathjax')} (is its script served?)"
        )
    problems += [f"math not typeset by MathJax: {m}" for m in found["mathUntypeset"]]
    problems += [f"MathJax error (mjx-merror): {m}" for m in found["mathErrors"]]
    problems += [f"undefined TeX macro: {m}" for m in found["mathUndefined"]]
    if found["titleTex"]:
        problems.append(f"raw TeX in the <title> (tab, search): {found['titleTex']}")
    problems += [f"raw TeX in the page text: {m}" for m in found["rawTex"]]
    problems += [
        f"image did not load: {img['src']!r} {img['where']}"
        for img in found["images"]
        if not img["ok"]
    ]
    problems += [f"error output in a cell: {m}" for m in found["errorOutputs"]]
    problems += [f"unresolved cross-reference: {m}" for m in found["unresolved"]]

    seen = set()
    for link in found["links"]:
        key = (link.get("path"), link.get("hash"), link.get("raw"))
        if key in seen:
            continue
        seen.add(key)
        problem = _check_link(server.root, page, link)
        if problem:
            problems.append(problem)

    for url in _performance_requests(driver):
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme in ("data", "blob", "about", "chrome", "devtools"):
            continue
        if not url.startswith(server.origin + "/"):
            problems.append(f"requested from outside the local server: {url}")
    problems += [f"local server answered {f}" for f in server.take_failures()]
    problems += [f"browser console error: {e}" for e in _console_errors(driver)]

    if screenshot is not None:
        save_screenshot(driver, screenshot, found["scrollHeight"])
    return problems


# Open hidden solutions and <details> so the screenshot shows everything.
_EXPAND_JS = r"""
const closed = 'button.toggle-button[aria-expanded="false"]';
for (const b of document.querySelectorAll(closed)) { b.click(); }
for (const d of document.querySelectorAll("details")) { d.open = true; }
return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);
"""


def save_screenshot(driver, path: Path, height: int):
    """The whole page (up to MAX_SCREENSHOT_HEIGHT) at WIDTH CSS pixels.

    Hidden solutions and collapsed blocks are opened first (after the checks,
    which see the page as served), so a reviewer sees all of the content.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script(_EXPAND_JS) or height
    height = max(HEIGHT, min(int(height or HEIGHT), MAX_SCREENSHOT_HEIGHT))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        )


def screenshot_path(root: Path, page: str) -> Path:
    """_build/screenshots/<page>.png next to the html folder."""
    return root.parent / "screenshots" / Path(page).with_suffix(".png")


def mathjax_dir() -> Path | None:
    """MathJax 3 as bundled by sphinx-mathjax-offline (for the synthetic pages)."""
    import importlib.util

    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "static" / "mathjax"
    return path if (path / "tex-chtml.js").is_file() else None


# ---------------------------------------------------------------------------
# Does everything fit its column? (displays, code cells, the page itself)
# ---------------------------------------------------------------------------

#: A 1280 px desktop window less its ~15 px scroll bar, and a phone (iPhone 12
#: to 15: 390 CSS px). The browser runs with --hide-scrollbars, so these are
#: the viewport widths the page lays itself out in.
DESKTOP_WIDTH = 1265
PHONE_WIDTH = 390
#: Sub-pixel rounding of scrollWidth / clientWidth and of the rectangles.
FIT_TOLERANCE_PX = 1

# Returns one record per display equation, code block and cell output of the
# article, with the width its content needs and the width it has.
_FIT_JS = r"""
const snippet = (s, n = 60) => s.replace(/\s+/g, " ").trim().slice(0, n);
const where = el => {
  const sec = el.closest("article section[id]");
  return sec ? "#" + sec.id : "";
};
const article = document.querySelector("article.bd-article") ||
                document.querySelector(".bd-article") || document.body;
const ar = article.getBoundingClientRect();
const as = getComputedStyle(article);
const column = {left: ar.left + parseFloat(as.paddingLeft),
                right: ar.right - parseFloat(as.paddingRight)};
const columnWidth = Math.round(column.right - column.left);
// The TeX of each typeset display, to name the unlabelled ones.
const texOf = new Map();
if (window.MathJax && MathJax.startup && MathJax.startup.document) {
  for (const item of MathJax.startup.document.math) {
    if (item.typesetRoot) texOf.set(item.typesetRoot, item.math);
  }
}
const scrolls = el => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
const record = (kind, name, box, el) => {
  // box: the element whose content must fit; el: what is named.
  const r = box.getBoundingClientRect();
  return {
    kind, name, where: where(el),
    need: Math.round(box.scrollWidth), have: Math.round(box.clientWidth),
    needHeight: Math.round(box.scrollHeight), haveHeight: Math.round(box.clientHeight),
    // The box itself must stay in the article's column.
    spill: Math.round(Math.max(column.left - r.left, r.right - column.right, 0)),
    scrolls: scrolls(box), column: columnWidth,
  };
};
const out = [];
for (const div of article.querySelectorAll("div.math")) {
  const c = div.querySelector("mjx-container");
  if (!c) continue;
  const tex = texOf.get(c) || div.textContent;
  const name = (div.id ? "#" + div.id + " " : "") + '"' + snippet(tex) + '"';
  out.push(record("display", name, c, div));
}
let cellNo = 0;
for (const cell of article.querySelectorAll("div.cell")) {
  cellNo += 1;
  const input = cell.querySelector("div.cell_input pre");
  const first = input ? snippet(input.textContent.split("\n")[0], 50) : "";
  const name = "code cell " + cellNo + ' "' + first + '"';
  if (input) out.push(record("code cell input", name, input, cell));
  for (const output of cell.querySelectorAll("div.cell_output")) {
    out.push(record("code cell output", name, output, cell));
    for (const pre of output.querySelectorAll("pre")) {
      out.push(record("code cell output text", name, pre, cell));
    }
    for (const img of output.querySelectorAll("img")) {
      out.push(record("code cell output image", name, img, cell));
    }
  }
}
// Code blocks outside cells (literalinclude, examples of the API page).
for (const pre of article.querySelectorAll("pre")) {
  if (pre.closest("div.cell")) continue;
  const name = 'code block "' + snippet(pre.textContent.split("\n")[0], 50) + '"';
  out.push(record("code block", name, pre, pre));
}
const doc = document.scrollingElement || document.documentElement;
return {items: out, column: columnWidth, viewport: window.innerWidth,
        pageWidth: Math.round(doc.scrollWidth)};
"""


# Two animation frames after the last change, so opened blocks are laid out.
_SETTLE_JS = r"""
const done = arguments[arguments.length - 1];
setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(done)), 300);
"""


def set_viewport(driver, width: int, height: int = HEIGHT, *, mobile: bool = False):
    """Lay pages out in a viewport of width x height CSS pixels."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def measure_fit(driver, server: Server, page: str, width: int) -> dict:
    """Open page at a viewport width and measure what its content needs.

    Returns ``{"items": [...], "column": px, "viewport": px, "pageWidth": px}``:
    one item per display equation (its ``mjx-container``), code cell input,
    cell output (and the text and images in it) and code block outside cells,
    each with ``need`` (scrollWidth), ``have`` (clientWidth), ``spill`` (how
    far its box leaves the article's column) and ``scrolls`` (overflow-x auto
    or scroll). The viewport is restored to WIDTH afterwards.
    """
    set_viewport(driver, width)
    try:
        driver.get(server.url(page))
        waited = driver.execute_async_script(_WAIT_JS, MATHJAX_TIMEOUT_S * 1000)
        if waited.get("error"):
            raise RuntimeError(f"{page} at {width} px: {waited['error']}")
        # Collapsed solutions and cells hold displays and code too: open them
        # (their content has no width while closed) and let the layout settle.
        driver.execute_script(_EXPAND_JS)
        driver.execute_async_script(_SETTLE_JS)
        return driver.execute_script(_FIT_JS)
    finally:
        set_viewport(driver, WIDTH)


def overflows(measured: dict, *, scrolling_allowed: bool) -> list[str]:
    """The items of ``measure_fit`` that do not fit, as readable lines.

    Without ``scrolling_allowed`` (a desktop window) every item must fit its
    box and its box the column. With it (a phone), an item wider than its box
    passes if the box scrolls sideways by itself (overflow-x auto or scroll),
    while the page as a whole must still not be wider than the viewport. A
    display never passes if it is higher than its box (it would scroll up and
    down, a scroll bar over the formula).
    """
    problems = []
    tol = FIT_TOLERANCE_PX
    for item in measured["items"]:
        label = f"{item['kind']} {item['name']} (in {item['where'] or 'the page'})"
        if item["spill"] > tol:
            problems.append(
                f"{label}: its box leaves the {item['column']} px column by "
                f"{item['spill']} px"
            )
        if item["kind"] == "display" and item["needHeight"] > item["haveHeight"] + tol:
            problems.append(
                f"{label}: {item['needHeight']} px high in {item['haveHeight']} px "
                "(it scrolls up and down)"
            )
        if item["need"] > item["have"] + tol:
            if scrolling_allowed and item["scrolls"]:
                continue
            how = "scrolls" if item["scrolls"] else "is cut off"
            problems.append(
                f"{label}: {item['need']} px wide in {item['have']} px "
                f"(the column is {item['column']} px; {how})"
            )
    if measured["pageWidth"] > measured["viewport"] + tol:
        problems.append(
            f"the page is {measured['pageWidth']} px wide in a "
            f"{measured['viewport']} px viewport (it scrolls sideways)"
        )
    return problems


# What a reader can click or type into to search: the theme's search field
# (header, sidebar), its icon button, and any search input. The search dialog
# (hidden until Ctrl+K or a click) holds an input too, which does not show.
_SEARCH_JS = r"""
const selector = '.search-button-field, .search-button, input[type="search"], ' +
                 'form[role="search"] input, .bd-search input';
const shown = el => {
  const r = el.getBoundingClientRect();
  const visible = el.checkVisibility ? el.checkVisibility(
    {checkOpacity: true, checkVisibilityCSS: true}) : el.getClientRects().length > 0;
  return visible && r.width > 0 && r.height > 0;
};
return Array.from(new Set(document.querySelectorAll(selector)))
  .filter(shown)
  .map(el => {
    const part = el.closest("[id]");
    return el.tagName.toLowerCase() + "." + Array.from(el.classList).join(".") +
      (part ? " in #" + part.id : "");
  });
"""


def visible_search_fields(driver, server: Server, page: str, width: int) -> list[str]:
    """The search fields and buttons a reader sees on page at a viewport width."""
    set_viewport(driver, width)
    try:
        driver.get(server.url(page))
        driver.execute_async_script(_WAIT_JS, MATHJAX_TIMEOUT_S * 1000)
        return driver.execute_script(_SEARCH_JS)
    finally:
        set_viewport(driver, WIDTH)


__all__ = [
    "BrowserMissing",
    "DESKTOP_WIDTH",
    "INSTALL_HINT",
    "PHONE_WIDTH",
    "Server",
    "check_page",
    "chromium_driver",
    "discover_pages",
    "find_browser",
    "html_root",
    "mathjax_dir",
    "measure_fit",
    "overflows",
    "screenshot_path",
    "serve",
    "set_viewport",
    "visible_search_fields",
]
