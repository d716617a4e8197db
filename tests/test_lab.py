"""Run every chapter as a student does: in the project's JupyterLab, in Chromium.

For each chapter this starts from the URL the book's launch button and a
double-click both lead to (``/lab/tree/chapters/<chapter>.md``) and checks:

- the chapter opened as a notebook (a ``.jp-NotebookPanel``), not as text in
  the file editor: that is binder/postBuild's default-viewer override at work;
- Run -> Run All Cells, chosen from the menu bar, runs every code cell (each
  gets an execution count) with no error, no traceback and nothing on stderr;
- every cell that draws a figure shows an image;
- no raw MyST markup (``:::{``, ``{prf:``, ``{eq}`...``, ``{cite}`...``, ...)
  is left in the rendered Markdown cells: that is jupyterlab-myst at work.

One more test opens a chapter's ``.ipynb`` as the book's download button
serves it (``_build/html/_sources/chapters/*.ipynb``), in a JupyterLab whose
root holds that file alone, and runs it the same way: a downloaded notebook
needs gmmlib installed and nothing else of the repository.

JupyterLab runs on 127.0.0.1 with a random token and throwaway runtime,
settings, workspace and config folders, with autosave off, so the test reads
the chapters and never writes them (it checks that too). A screenshot per
chapter goes to ``_build/lab-screenshots/``. Like the book's browser test, a
missing Chromium is a failure with instructions, never a skip.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jupytext
import pytest
from _browser_helpers import BrowserMissing, chromium_driver, find_browser

pytestmark = [pytest.mark.browser, pytest.mark.repository]

REPO = Path(__file__).resolve().parent.parent
CHAPTERS_DIR = REPO / "chapters"
BIN = Path(sys.executable).parent
SCREENSHOTS = REPO / "_build" / "lab-screenshots"
DOWNLOADS = (
    Path(os.environ.get("GMMBOOK_HTML", REPO / "_build" / "html"))
    / "_sources"
    / "chapters"
)

#: The notebook to open as a download: it imports gmmlib, draws figures, and
#: its Markdown holds every MyST construct the book uses.
DOWNLOADED = "05_em_in_action.ipynb"

START_TIMEOUT_S = 120
OPEN_TIMEOUT_S = 120
RUN_TIMEOUT_S = 600

#: Markup that only shows when MyST is not rendered (or a role is unknown). A
#: plain Markdown renderer turns {eq}`label` into "{eq}" and a code span, so
#: the role is matched without its backticks.
RAW_MYST = re.compile(
    r":::\s*\{|```\s*\{|\{(?:prf:[a-z]+|eq|cite(?::[a-z]+)?|ref|numref|doc|math)\}"
)

#: jupyterlab-myst's own words for a directive or role it does not know.
UNKNOWN_MYST = re.compile(r"\S+ - Unknown (?:Directive|Role)")

#: A code cell draws a figure when it displays a matplotlib figure.
FIGURE_SOURCE = re.compile(r"\bplt\.subplots?\(|\bplt\.figure\(|\bplotting\.\w+\(")


def is_myst_notebook(path: Path) -> bool:
    head = path.read_text(encoding="utf-8")[:2048]
    return head.startswith("---") and "format_name: myst" in head


CHAPTERS = sorted(p.name for p in CHAPTERS_DIR.glob("*.md") if is_myst_notebook(p))


def figure_cells(notebook) -> list[int]:
    """Indices, among the code cells, of the cells that draw a figure."""
    code = [c for c in notebook.cells if c.cell_type == "code"]
    return [i for i, cell in enumerate(code) if FIGURE_SOURCE.search(cell.source)]


# ---------------------------------------------------------------------------
# JupyterLab on 127.0.0.1
# ---------------------------------------------------------------------------

#: User settings for the throwaway settings folder. Autosave off: the test
#: must not write the chapters. No windowing: every cell is in the DOM, so all
#: can be checked. No news pop-up.
USER_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A JupyterLab server of this environment, serving ``root``."""

    def __init__(self, root: Path, scratch: Path):
        self.root = root
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        dirs = {name: scratch / name for name in ("runtime", "settings", "ws", "cfg")}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        for plugin, values in USER_SETTINGS.items():
            target = dirs["settings"] / f"{plugin}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values), encoding="utf-8")
        env = dict(
            os.environ,
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
            JUPYTERLAB_WORKSPACES_DIR=str(dirs["ws"]),
            JUPYTER_CONFIG_DIR=str(dirs["cfg"]),
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        command = [
            str(BIN / "jupyter"),
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # CI runs as root
        self.log = scratch / "jupyterlab.log"
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            command, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        self._wait_until_up()

    def _wait_until_up(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        url = f"{self.origin}/api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"JupyterLab exited at start:\n{self.log.read_text()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            time.sleep(0.5)
        pytest.fail(f"JupyterLab did not start in {START_TIMEOUT_S} s:\n{self.log}")

    def url(self, path: str) -> str:
        # ?reset: a fresh workspace, so no earlier tab is restored beside it.
        return f"{self.origin}/lab/tree/{path}?reset&token={self.token}"

    def shut_down_kernels(self):
        """End every kernel this server started (one per notebook run)."""
        headers = {"Authorization": f"token {self.token}"}
        request = urllib.request.Request(f"{self.origin}/api/kernels", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            kernels = json.load(response)
        for kernel in kernels:
            urllib.request.urlopen(
                urllib.request.Request(
                    f"{self.origin}/api/kernels/{kernel['id']}",
                    headers=headers,
                    method="DELETE",
                ),
                timeout=30,
            ).close()

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log_file.close()


@contextlib.contextmanager
def lab_server(root: Path, scratch: Path):
    lab = Lab(root, scratch)
    try:
        yield lab
    finally:
        lab.close()


# ---------------------------------------------------------------------------
# What a student does in the browser
# ---------------------------------------------------------------------------

_PANEL = ".jp-MainAreaWidget.jp-NotebookPanel:not(.lm-mod-hidden)"

_STATE_JS = r"""
const panel = document.querySelector(arguments[0]);
const editor = document.querySelector(
  '.jp-MainAreaWidget:not(.lm-mod-hidden) .jp-FileEditor');
if (!panel) return {notebook: false, editor: !!editor};
const cells = Array.from(new Set(panel.querySelectorAll('.jp-Notebook .jp-Cell')));
const code = cells.filter(c => c.classList.contains('jp-CodeCell'));
const prompts = code.map(c => (c.querySelector('.jp-InputPrompt') || {}).textContent);
const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
return {
  notebook: true,
  editor: !!editor,
  cells: cells.length,
  code: code.length,
  prompts: prompts.map(p => p || ''),
  kernel: status ? status.getAttribute('data-status') : null,
};
"""

_OUTPUTS_JS = r"""
const panel = document.querySelector(arguments[0]);
const cells = Array.from(new Set(panel.querySelectorAll('.jp-Notebook .jp-Cell')));
const code = cells.filter(c => c.classList.contains('jp-CodeCell'));
const markdown = cells.filter(c => c.classList.contains('jp-MarkdownCell'));
return {
  code: code.map(c => ({
    prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
    images: c.querySelectorAll('.jp-OutputArea-output img').length,
    stderr: Array.from(c.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    )).map(e => e.textContent.slice(0, 400)),
    text: Array.from(c.querySelectorAll('.jp-OutputArea-output'))
      .map(e => e.textContent).join('\n').slice(0, 20000),
  })),
  markdown: markdown.map(c => {
    const rendered = c.querySelector('.jp-RenderedMarkdown, .jp-MarkdownOutput, .myst');
    return {
      rendered: !!rendered && !c.classList.contains('jp-mod-editMode'),
      text: (rendered || c).innerText,
    };
  }),
};
"""


_SHOW_FIRST_FIGURE_JS = r"""
const img = document.querySelector(arguments[0] + ' .jp-OutputArea-output img');
if (!img) return false;
img.scrollIntoView({block: 'start'});
return true;
"""


def _wait(driver, predicate, timeout, what):
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = driver.execute_script(_STATE_JS, _PANEL)
        if predicate(state):
            return state
        time.sleep(0.5)
    pytest.fail(f"{what}: not done after {timeout} s; last state {state}")


def _executed(prompt: str) -> bool:
    return re.fullmatch(r"\s*\[\d+\]:\s*", prompt) is not None


def _click_menu(driver, menu: str, command: str):
    """Open ``menu`` in the menu bar and click the entry that runs ``command``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    items = driver.find_elements(By.CSS_SELECTOR, "#jp-MainMenu .lm-MenuBar-item")
    matching = [item for item in items if item.text.strip() == menu]
    assert matching, f"no '{menu}' menu in the menu bar: {[i.text for i in items]}"
    matching[0].click()
    entry = WebDriverWait(driver, 30).until(
        ec.element_to_be_clickable(
            (By.CSS_SELECTOR, f'.lm-Menu .lm-Menu-item[data-command="{command}"]')
        ),
        f"no '{command}' entry in the {menu} menu",
    )
    entry.click()


def run_in_lab(driver, lab: Lab, path: str, notebook, screenshot: Path) -> list[str]:
    """Open ``path`` in JupyterLab and Run All Cells from the menu bar.

    ``notebook`` is the same file as read by jupytext (code cells, sources).
    Returns the problems seen, each naming the file; an empty list means the
    notebook opened as a notebook, ran, and rendered as it should.
    """
    name = Path(path).name
    expected = sum(cell.cell_type == "code" for cell in notebook.cells)
    driver.get(lab.url(path))
    # The notebook panel appears before its content has loaded (with one empty
    # cell): wait for all the file's code cells and an idle kernel.
    state = _wait(
        driver,
        lambda s: (
            s["editor"]
            or (s["notebook"] and s["code"] == expected and s["kernel"] == "idle")
        ),
        OPEN_TIMEOUT_S,
        f"{name}: opening ({expected} code cells expected)",
    )
    if not state["notebook"]:
        return [
            f"{name} opened in the text editor, not as a notebook (is the "
            "default-viewer override of binder/postBuild installed?)"
        ]
    _click_menu(driver, "Run", "runmenu:run-all")
    _wait(
        driver,
        lambda s: (
            s["notebook"]
            and s["code"] > 0
            and all(_executed(p) for p in s["prompts"])
            and s["kernel"] == "idle"
        ),
        RUN_TIMEOUT_S,
        f"{name}: Run All Cells",
    )
    outputs = driver.execute_script(_OUTPUTS_JS, _PANEL)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(screenshot))
    # A second view, at the first figure, for whoever reviews the screenshots.
    if driver.execute_script(_SHOW_FIRST_FIGURE_JS, _PANEL):
        time.sleep(0.5)
        driver.save_screenshot(
            str(screenshot.with_name(f"{screenshot.stem}-figure.png"))
        )

    problems = []
    code = outputs["code"]
    if len(code) != expected:
        problems.append(
            f"{name}: {len(code)} code cells in JupyterLab, {expected} in the file"
        )
    for number, cell in enumerate(code, 1):
        if cell["stderr"]:
            problems.append(
                f"{name}: code cell {number} wrote to stderr: {cell['stderr']}"
            )
        if "Traceback (most recent call last)" in cell["text"] or re.search(
            r"^\w+(Error|Exception)\b", cell["text"], re.M
        ):
            problems.append(
                f"{name}: code cell {number} shows an error: {cell['text'][:400]}"
            )
    for index in figure_cells(notebook):
        if index < len(code) and code[index]["images"] == 0:
            problems.append(
                f"{name}: code cell {index + 1} draws a figure but shows no image"
            )
    for number, cell in enumerate(outputs["markdown"], 1):
        if not cell["rendered"]:
            problems.append(f"{name}: Markdown cell {number} is not rendered")
        unknown = sorted(set(UNKNOWN_MYST.findall(cell["text"])))
        if unknown:
            problems.append(
                f"{name}: Markdown cell {number} has MyST that JupyterLab cannot "
                f"render: {unknown}"
            )
        raw = sorted(set(RAW_MYST.findall(cell["text"])))
        if raw:
            problems.append(
                f"{name}: Markdown cell {number} shows raw MyST markup {raw} "
                "(is jupyterlab-myst installed?)"
            )
    return problems


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    try:
        find_browser()
    except BrowserMissing as err:
        pytest.fail(f"Chromium is needed for the JupyterLab test: {err}", pytrace=False)
    with chromium_driver() as driver:
        driver.set_window_size(1400, 1000)
        yield driver


@pytest.fixture(scope="module")
def repo_lab(tmp_path_factory):
    with lab_server(REPO, tmp_path_factory.mktemp("lab")) as lab:
        yield lab


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs_as_a_rendered_notebook_in_jupyterlab(browser, repo_lab, chapter):
    path = CHAPTERS_DIR / chapter
    before = _digest(path)
    try:
        problems = run_in_lab(
            browser,
            repo_lab,
            f"chapters/{chapter}",
            jupytext.read(path),
            SCREENSHOTS / f"{path.stem}.png",
        )
    finally:
        repo_lab.shut_down_kernels()
    assert _digest(path) == before, f"{chapter} was modified on disk by JupyterLab"
    assert not problems, "\n".join(problems)


def test_downloaded_notebook_runs_with_only_gmmlib(browser, tmp_path_factory):
    source = DOWNLOADS / DOWNLOADED
    if not source.is_file():
        pytest.fail(
            f"No downloaded notebook at {source}: run `make book` first.", pytrace=False
        )
    alone = tmp_path_factory.mktemp("download")
    shutil.copy(source, alone / DOWNLOADED)
    with lab_server(alone, tmp_path_factory.mktemp("lab-download")) as lab:
        problems = run_in_lab(
            browser,
            lab,
            DOWNLOADED,
            jupytext.read(source),
            SCREENSHOTS / f"download-{Path(DOWNLOADED).stem}.png",
        )
    assert not problems, "\n".join(problems)
