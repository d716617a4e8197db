"""Run a book build, keep its whole output in a log file, and print what matters.

    python .ci/build_log.py LOG -- jupyter-book build . -W -n --keep-going

``make book`` (and ``make pdf``) run Jupyter Book through this script. A build
prints a few hundred lines, most of them noise for a reader: every kernel's
"Kernel is running over TCP without encryption" (one per chapter), the
configuration dumps of myst-parser and myst-nb (``MdParserConfig(...)``),
Sphinx's progress through each of its phases. The script writes every line,
unchanged, to LOG, and prints:

- one line per chapter executed (its path and the seconds it took) and a line
  per phase of the build (reading, writing pages, and the like);
- every other line it does not know as routine, as it comes: Sphinx's
  warnings and errors, a failing cell's traceback, anything new;
- at the end, where the log is; when the build failed, why, again: each
  failing cell's code with the exception it raised, Sphinx's warnings and
  errors (or, if there are none of those, the build's last lines). The exit
  status is the build's.

Unknown lines are shown, never dropped: only the routine lines listed below
are left to the log.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

#: Routine lines: kept in the log, not printed.
ROUTINE = [
    re.compile(pattern)
    for pattern in (
        # every kernel, once per executed notebook (ipykernel's log line, and
        # its continuation when it wraps)
        r"Kernel is running over TCP without encryption",
        r"^\s*(All communication|and is susceptible|Use IPC transport|CurveZMQ keys)",
        # the parsers' configuration, printed whole on every build
        r"^myst v\S+: MdParserConfig\(",
        r"^myst-nb v\S+: NbParserConfig\(",
        r"(MdParserConfig|NbParserConfig)\(",
        # Jupyter Book's banner and closing words (the Makefile says where the
        # book is)
        r"^Running Jupyter-Book",
        r"^(Source Folder|Config Path|Output Path):",
        r"^Running Sphinx v",
        r"^Finished generating HTML for book",
        r"^=+$",  # the rules around those words
        r"^Your book's HTML pages are here",
        r"^You can look at your book by opening",
        r"^Or paste this line directly into your browser",
        r"^\s*(_build\S*|file://\S*)\s*$",
        # Sphinx's routine progress
        r"^\[etoc\]",
        r"^(loading pickled environment|checking bibtex cache)",
        r"^bibtex data is up to date",
        r"^(parsing bibtex file|loading translations|making output directory)",
        r"^(looking for now-outdated files|pickling environment|checking consistency)",
        r"^(preparing documents|copying assets|copying static files)",
        r"^copying extra files",
        r"^(copying notebook assets|copying images|copying downloadable files)",
        r"^(generating indices|highlighting module code|writing additional pages)",
        r"^(dumping search index|dumping object inventory|done$|\s*$)",
        r"^(building \[mo\]|loading intersphinx|updating environment)",
        r"^(reading sources\.\.\.|writing output\.\.\.|Writing evaluated template)",
        r"^(assembling single document|writing\.\.\.|executing outdated notebooks)",
        r"^no targets are out of date",
        r"^Using jupyter-cache",
        r"^\S+ v[\d.]+: Loaded$",
        r"^(build succeeded|The HTML pages? (is|are) in|The text files are in)",
        r"^\s*copying (MathJax|mathjax)",
    )
]

ANSI = re.compile(r"\x1b\[[0-9;]*m")
EXECUTING = re.compile(r"^(?P<path>\S+?): Executing notebook using")
EXECUTED = re.compile(
    r"^(?P<path>\S+?): Executed notebook in (?P<seconds>[\d.]+) seconds"
)
BUILDING = re.compile(r"^building \[(?P<builder>[a-z]+)\]: (?P<what>.*)")
WRITING = re.compile(r"^writing output\.\.\. \[\s*\d+%\] (?P<page>\S+)")
#: Sphinx's warnings and errors (with -W, a warning fails the build).
PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b")
#: A failing cell, as nbclient reports it: the cell's code between two rules.
FAILED_CELL = "An error occurred while executing the following cell:"
RULE = "------------------"
#: The line that names an exception and its message ("AssertionError: ...").
EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)(: .*)?$")


def _relative(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path


class Filter:
    """Turns the build's lines into what the console shows (``feed``/``finish``)."""

    def __init__(self):
        self.lines: list[str] = []
        self.written = 0
        self.executing = False  # "executing <chapter> ..." waits for its time

    def feed(self, line: str) -> str:
        """What to write for one line of the build's output (often nothing)."""
        line = ANSI.sub("", line.rstrip("\n"))
        self.lines.append(line)
        executing = EXECUTING.match(line)
        if executing:
            path = _relative(executing.group("path"))
            return self._line(f"executing {path} ...", end="")
        executed = EXECUTED.match(line)
        if executed:
            seconds = f" {float(executed.group('seconds')):.1f} s"
            if self.executing:
                self.executing = False
                return seconds + "\n"
            return self._line(f"executed {_relative(executed.group('path'))}:{seconds}")
        building = BUILDING.match(line)
        if building and building.group("builder") == "mo":
            return ""  # translations: none
        if building:
            return self._line(
                f"building {building.group('builder')}: {building.group('what')}"
            )
        if WRITING.match(line):
            self.written += 1
            return self._line("writing the pages") if self.written == 1 else ""
        if line.startswith("build succeeded"):
            return self._line(f"wrote {self.written} pages; {line}")
        if _is_routine(line):
            return ""
        return self._line(line)

    def _line(self, text: str, end: str = "\n") -> str:
        """``text`` on a line of its own (closing an open "executing" line first)."""
        before = "\n" if self.executing else ""
        self.executing = end == ""
        return before + text + end

    def failed_cells(self) -> list[list[str]]:
        """Each failing cell's code and the exception it raised, from the output."""
        cells = []
        for at, line in enumerate(self.lines):
            if FAILED_CELL not in line:
                continue
            rest = self.lines[at + 1 :]
            if not rest or rest[0].strip() != RULE or RULE not in rest[1:]:
                continue
            end = rest.index(RULE, 1)
            code = rest[1:end]
            raised = next((x for x in rest[end + 1 :] if EXCEPTION.match(x)), None)
            cells.append(code + ([raised] if raised else []))
        return cells

    def finish(self, returncode: int, log: Path) -> str:
        """The closing lines: when the build failed, why (again); the log's path."""
        out = []
        if returncode != 0:
            out += ["", f"error: the build failed (exit status {returncode})."]
            for cell in self.failed_cells():
                out.append("A cell failed:")
                out += ["    " + line for line in cell]
            problems = [x for x in self.lines if PROBLEM.search(x)]
            problems = [x for x in problems if not _is_routine(x)]
            if problems:
                out.append(
                    "Sphinx's warnings and errors (-W: a warning fails the build):"
                )
                out += ["    " + line for line in problems]
            if len(out) == 2:
                shown = [x for x in self.lines if not _is_routine(x)]
                out.append("The last lines of the build:")
                out += ["    " + line for line in shown[-30:]]
        out.append(f"The whole build log: {log}")
        return ("\n" if self.executing else "") + "\n".join(out) + "\n"


def _is_routine(line: str) -> bool:
    return any(pattern.search(line) for pattern in ROUTINE)


def run(log: Path, command: list[str]) -> int:
    """Run ``command``, its output to ``log`` and, filtered, to stdout."""
    log.parent.mkdir(parents=True, exist_ok=True)
    keep = Filter()
    with open(log, "w", encoding="utf-8") as record:
        record.write("$ " + " ".join(command) + "\n")
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        for line in process.stdout:
            record.write(line)
            record.flush()
            sys.stdout.write(keep.feed(line))
            sys.stdout.flush()
        returncode = process.wait()
    (sys.stderr if returncode else sys.stdout).write(keep.finish(returncode, log))
    return returncode


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: build_log.py LOG -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return run(Path(argv[0]), argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
