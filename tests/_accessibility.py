"""Accessibility of a served page: axe-core (WCAG 2.1 A and AA) in both colour modes.

Used by ``tests/test_browser.py`` beside the checks of ``_browser_helpers.py``.
``check_accessibility(driver, server, page, mode)`` opens the page in the
theme's light or dark colour mode and returns its problems (empty when the page
is fine):

- every violation of axe-core's WCAG 2.0/2.1 level A and AA rules
  (``AXE_TAGS``) of impact serious or critical, one line per element, naming
  the page, the mode, the rule and the element (its CSS selector and HTML);
- every ``<img>`` whose alt text says nothing: missing, empty, a file name or
  a path (Sphinx writes the image's path as its alt text when a figure has
  none, and axe accepts that);
- every typeset formula without MathJax's assistive MathML
  (``mjx-assistive-mml``), which is what a screen reader reads;
- a colour mode the page did not take (so a "dark" check cannot silently run
  on the light page).

The colour mode is that of pydata-sphinx-theme: its inline script in ``<head>``
copies ``localStorage`` keys ``mode`` and ``theme`` into the ``data-mode`` and
``data-theme`` attributes of ``<html>``, which its CSS variables follow. The
check stores both keys before any script of the page runs (a script Chromium
evaluates on every new document), exactly as the theme's own switch leaves them.

axe-core comes from the npm registry (``make browser`` installs the version the
Makefile pins into ``.axe/``, which git ignores); ``$GMMBOOK_AXE`` may point at
another ``axe.min.js``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from _browser_helpers import _WAIT_JS, MATHJAX_TIMEOUT_S, REPO, save_screenshot

#: axe-core's tags for the success criteria of WCAG 2.0 and 2.1, levels A and AA.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
#: Violations of these impacts fail; minor and moderate ones are listed only.
FAILING_IMPACTS = ("serious", "critical")
#: The theme's colour modes.
COLOUR_MODES = ("light", "dark")

AXE_DEFAULT = REPO / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_HINT = (
    "axe-core is installed from the npm registry by `make browser` (or `make a11y`) "
    "into .axe/; by hand: npm install --prefix .axe --no-save axe-core@4. "
    "Or point GMMBOOK_AXE at an axe.min.js."
)


class AxeMissing(RuntimeError):
    """axe-core is not installed (or npm is missing)."""


def axe_path() -> Path:
    """axe.min.js: $GMMBOOK_AXE, else the copy `make browser` installs in .axe/."""
    path = Path(os.environ.get("GMMBOOK_AXE", AXE_DEFAULT))
    if not path.is_file():
        npm = "" if shutil.which("npm") else " (npm is not on PATH either)"
        raise AxeMissing(f"no axe-core at {path}{npm}.\n{AXE_HINT}")
    return path


# Stores the colour mode where the theme's inline <head> script reads it.
_SET_MODE_JS = """
try {
  localStorage.setItem("mode", %(mode)r);
  localStorage.setItem("theme", %(mode)r);
} catch (e) {}
"""

_CLEAR_MODE_JS = """
try { localStorage.removeItem("mode"); localStorage.removeItem("theme"); } catch (e) {}
"""

# Runs axe-core (already injected) on the whole document; resolves to the
# violations, reduced to what the report needs.
_AXE_RUN_JS = r"""
const done = arguments[arguments.length - 1];
const tags = arguments[0];
axe.run(document, {
  runOnly: {type: "tag", values: tags},
  resultTypes: ["violations"],
}).then(results => done({violations: results.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map(n => ({
    target: n.target.map(t => Array.isArray(t) ? t.join(" >> ") : t).join(", "),
    html: n.html, impact: n.impact, summary: n.failureSummary || ""})),
}))}), err => done({error: String(err)}));
"""

# What axe cannot judge: alt text that is a path, and math without MathML.
_INSPECT_JS = r"""
const snippet = (s, n = 80) => (s || "").replace(/\s+/g, " ").trim().slice(0, n);
const where = el => {
  const sec = el.closest("article section[id]");
  if (sec) return "(in #" + sec.id + ")";
  const part = el.closest("[id]");
  return part ? "(in #" + part.id + ")" : "";
};
const imageExt = /\.(png|jpe?g|gif|svg|webp|avif|bmp|ico|tiff?)$/i;
const out = {theme: document.documentElement.dataset.theme || null, images: [],
             math: []};
for (const img of document.images) {
  const src = img.getAttribute("src") || "";
  const alt = img.getAttribute("alt");
  const text = (alt || "").trim();
  const file = src.split(/[?#]/)[0].split("/").pop();
  let bad = null;
  if (alt === null) bad = "has no alt attribute";
  else if (!text) bad = "has empty alt text";
  else if (text === src || (file && (text === file || text.endsWith("/" + file))))
    bad = "has its own path as alt text";
  else if (!/\s/.test(text) && /[\/\\]/.test(text)) bad = "has a path as alt text";
  else if (!/\s/.test(text) && imageExt.test(text)) bad = "has a file name as alt text";
  else if (/^no description has been provided/i.test(text))
    bad = "has a placeholder as alt text";
  if (bad) {
    out.images.push("<img src=" + JSON.stringify(src) + "> " + bad + ": alt=" +
      JSON.stringify(alt) + " " + where(img));
  }
}
// The TeX of each typeset formula, to name the ones without MathML.
const texOf = new Map();
if (window.MathJax && MathJax.startup && MathJax.startup.document) {
  for (const item of MathJax.startup.document.math) {
    if (item.typesetRoot) texOf.set(item.typesetRoot, item.math);
  }
}
for (const el of document.querySelectorAll("span.math, div.math")) {
  if (!el.querySelector("mjx-container")) {
    out.math.push(snippet(el.textContent) + " (not typeset at all) " + where(el));
  }
}
for (const el of document.querySelectorAll("mjx-container")) {
  const mml = el.querySelector("mjx-assistive-mml math");
  if (!mml || !mml.textContent.trim()) {
    out.math.push(snippet(texOf.get(el) || "?") + " " + where(el));
  }
}
return out;
"""

#: How long axe-core may take on one page, in seconds.
AXE_TIMEOUT_S = 180
#: At most this many elements are listed per rule (the count is always given).
MAX_NODES_PER_RULE = 8


def _format_violations(page: str, mode: str, violations: list[dict]) -> list[str]:
    problems = []
    for v in violations:
        if v["impact"] not in FAILING_IMPACTS:
            continue
        nodes = v["nodes"]
        head = (
            f"{page} [{mode}] axe {v['impact']} {v['id']}: {v['help']} "
            f"({len(nodes)} element(s))"
        )
        lines = [head]
        for node in nodes[:MAX_NODES_PER_RULE]:
            summary = " ".join(node["summary"].split())[:240]
            html = " ".join(node["html"].split())[:160]
            lines.append(f"    at {node['target']}: {html}\n      {summary}")
        if len(nodes) > MAX_NODES_PER_RULE:
            lines.append(f"    ... and {len(nodes) - MAX_NODES_PER_RULE} more")
        problems.append("\n".join(lines))
    return problems


def minor_violations(violations: list[dict]) -> list[str]:
    """Rules axe flags below serious impact (listed in the report, not failing)."""
    return [
        f"{v['id']} ({v['impact']}, {len(v['nodes'])})"
        for v in violations
        if v["impact"] not in FAILING_IMPACTS
    ]


def check_accessibility(
    driver, server, page: str, mode: str, screenshot: Path | None = None
) -> tuple[list[str], list[str]]:
    """Open page in colour mode ("light" or "dark") and check its accessibility.

    Returns (problems, notes): problems fail the test, notes are the minor and
    moderate axe violations, for the report.
    """
    if mode not in COLOUR_MODES:
        raise ValueError(f"mode must be one of {COLOUR_MODES}, got {mode!r}")
    axe_source = axe_path().read_text(encoding="utf-8")
    script = driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": _SET_MODE_JS % {"mode": mode}},
    )
    try:
        driver.get(server.url(page))
        waited = driver.execute_async_script(_WAIT_JS, MATHJAX_TIMEOUT_S * 1000)
    finally:
        driver.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument",
            {"identifier": script["identifier"]},
        )
    problems: list[str] = []
    if waited.get("error"):
        problems.append(f"{page} [{mode}] page did not settle: {waited['error']}")
    found = driver.execute_script(_INSPECT_JS)
    if found["theme"] != mode:
        problems.append(
            f"{page} [{mode}] the page did not take the {mode} colour mode: "
            f"<html data-theme={found['theme']!r}>"
        )
    problems += [f"{page} [{mode}] image {m}" for m in found["images"]]
    problems += [
        f"{page} [{mode}] formula without assistive MathML (mjx-assistive-mml), "
        f"which screen readers read: {m}"
        for m in found["math"]
    ]

    driver.execute_script(axe_source)
    # axe visits every element (a chapter has thousands inside its formulas):
    # on a busy machine that can take longer than the MathJax wait allows.
    driver.set_script_timeout(AXE_TIMEOUT_S)
    try:
        result = driver.execute_async_script(_AXE_RUN_JS, list(AXE_TAGS))
    finally:
        driver.set_script_timeout(MATHJAX_TIMEOUT_S + 10)
    if result.get("error"):
        problems.append(f"{page} [{mode}] axe-core failed to run: {result['error']}")
        return problems, []
    problems += _format_violations(page, mode, result["violations"])
    if screenshot is not None:
        save_screenshot(driver, screenshot, 0)
    # Leave the browser as a first visit finds it, for the checks that follow.
    driver.execute_script(_CLEAR_MODE_JS)
    return problems, minor_violations(result["violations"])


__all__ = [
    "AXE_TAGS",
    "AxeMissing",
    "COLOUR_MODES",
    "FAILING_IMPACTS",
    "axe_path",
    "check_accessibility",
]
