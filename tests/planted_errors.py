"""Plant each catalogued error, run the one chapter it targets, see which cells fail.

The book claims that every check cell would fail if what it checks were
false. This module shows it, cell by cell. The catalogue
(``tests/planted_catalogue/chNN.py``) holds small edits, each of gmmlib's
source or of a chapter's own cell, and names the cells that must fail under
it. For each chapter the runner

1. plants every gmmlib error of the chapter in its own copy of ``gmmlib/``
   (an exact text replacement that fails loudly when the original text is no
   longer there, so the catalogue cannot silently rot), starts a kernel like
   the chapters' kernels with ``PYTHONPATH`` on the copy, checks through an
   IPython startup file that the kernel imported the copy, and runs the code
   cells of the chapter up to the last one the error names (later cells cannot
   change how those end), recording how each cell failed;
2. runs the chapter once more, unedited, and before each cell that an edit of
   the chapter targets runs the edited cell in its place (recording how it
   failed), then the cell itself: every unedited cell must pass, so an edited
   cell cannot leave behind a state that hides or fakes a failure (if one
   does, that edit is run again alone, in a chapter of its own).

A named cell is *caught* when it fails with an ``AssertionError`` (an
``assert`` or ``np.testing.assert_*``): a check that bites, not a crash. The
record of a run is ``chapters/planted_errors.json``, which the "Equations and
their checks" page renders and which fingerprints each caught cell's source, so
that a fast test notices when a chapter changed since the last run. The record
numbers cells as nbval names its test items (``chapters/01_model.md::Cell 2``,
from 0); the book's pages and this runner's arguments count them from 1.

``tests/test_planted_errors.py`` (marker ``planted``, ``make planted``) runs the
whole catalogue, fails if a named cell survives or if a check cell of a
chapter is named by no error, and compares what it observed with the committed
record. To refresh the record by hand::

    .venv/bin/python tests/planted_errors.py --write

(``--jobs N`` runs N kernels at once; ``ID ...`` runs only those errors, without
writing; ``--chapter STEM`` only that chapter's, and with ``--write`` replaces
only that chapter's rows of the record.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from planted_catalogue import CATALOGUE, PlantedError

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
sys.path.insert(0, str(CHAPTERS))
import _equations  # noqa: E402  (chapters/_equations.py, the book's index)

sys.path.remove(str(CHAPTERS))
TABLE = CHAPTERS / "planted_errors.json"
REFRESH = ".venv/bin/python tests/planted_errors.py --write"
CELL_TIMEOUT = 300  # seconds, as nbval's --nbval-cell-timeout in pyproject.toml
BITES = "AssertionError"

__all__ = ["CATALOGUE", "PlantedError", "apply", "run_all", "coverage"]


# ---------------------------------------------------------------------------
# The chapters' code cells, as nbval and the book count them (from 1)
# ---------------------------------------------------------------------------


def code_cells(stem: str) -> list[str]:
    """The source of each code cell of ``chapters/<stem>.md``, counted from 1."""
    return _equations.code_cells(CHAPTERS / f"{stem}.md")


def cell_labels(source: str) -> list[str]:
    """The labels named by the ``# checks:`` lines of a cell."""
    return list(dict.fromkeys(_equations._named_labels(source)))


def _unique_cell(cells: list[str], snippet: str, what: str) -> int:
    hits = [i for i, source in enumerate(cells, 1) if snippet in source]
    if len(hits) != 1:
        raise ValueError(
            f"{what}: {snippet!r} occurs in {len(hits)} code cells (cells {hits}); "
            "it must name exactly one: update tests/planted_catalogue"
        )
    return hits[0]


def named_cells(error: PlantedError, cells: list[str] | None = None) -> list[int]:
    """The cells (from 1) that ``error`` says must fail."""
    cells = code_cells(error.chapter) if cells is None else cells
    snippets = error.cells or ((error.old,) if error.in_chapter else ())
    if not snippets:
        raise ValueError(f"planted error {error.id!r} names no cell that must fail")
    return sorted(
        {_unique_cell(cells, s, f"planted error {error.id!r}") for s in snippets}
    )


# ---------------------------------------------------------------------------
# Planting
# ---------------------------------------------------------------------------


def _replace_once(text: str, error: PlantedError) -> str:
    count = text.count(error.old)
    if count != 1:
        raise ValueError(
            f"planted error {error.id!r}: the text to replace occurs {count} times "
            f"in {error.file} (it must occur once); the source changed, so "
            f"update the catalogue in tests/planted_catalogue:\n{error.old}"
        )
    return text.replace(error.old, error.new)


def apply(error: PlantedError, package: Path) -> None:
    """Apply a gmmlib ``error`` to the copy of gmmlib at ``package``, in place."""
    path = package / Path(error.file).relative_to("gmmlib")
    path.write_text(_replace_once(path.read_text(encoding="utf-8"), error), "utf-8")


def edited_cell(error: PlantedError, cells: list[str]) -> tuple[int, str]:
    """For a chapter ``error``: the cell (from 1) it edits and its edited source."""
    where = _unique_cell(cells, error.old, f"planted error {error.id!r}")
    return where, _replace_once(cells[where - 1], error)


# ---------------------------------------------------------------------------
# Running a chapter cell by cell
# ---------------------------------------------------------------------------


@dataclass
class ChapterRun:
    """How each cell of one run of a chapter ended (``None``: it passed)."""

    cells: dict[int, str | None] = field(default_factory=dict)
    trials: dict[str, str | None] = field(default_factory=dict)


def _outcome(client: NotebookClient, cell, index: int) -> str | None:
    try:
        client.execute_cell(cell, index)
    except CellExecutionError as exc:
        return exc.ename or "error"
    return None


@contextmanager
def _client(notebook, sockets: Path, env: dict[str, str]):
    """A client of a fresh kernel on local sockets (no TCP, no network).

    The sockets' path is absolute: the kernel runs in ``chapters/``.
    """
    manager = KernelManager(
        kernel_name="python3", transport="ipc", ip=str(sockets / "kernel")
    )
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(CHAPTERS)}},
    )
    with client.setup_kernel(env=env, cwd=str(CHAPTERS), cleanup_kc=True):
        yield client


def run_chapter(
    stem: str,
    env: dict[str, str],
    trials: dict[int, list[PlantedError]] | None = None,
    edits: dict[int, PlantedError] | None = None,
    last: int | None = None,
) -> ChapterRun:
    """Run the code cells of a chapter in a fresh kernel, up to cell ``last``.

    ``trials`` maps a cell (from 1) to chapter edits, each run in a copy of the
    cell just before the cell itself; ``edits`` edits a cell for the whole
    run. A failing cell does not stop the run: like nbval, later cells run in
    whatever state it left. Cells after ``last`` (by default none) cannot
    change how the cells before them end, so they are not run.
    """
    notebook = jupytext.read(CHAPTERS / f"{stem}.md")
    counted = sum(cell.cell_type == "code" for cell in notebook.cells)
    if counted != len(code_cells(stem)):
        raise RuntimeError(f"jupytext and the book count the cells of {stem} apart")
    run = ChapterRun()
    number = 0
    with (
        tempfile.TemporaryDirectory(prefix="planted-kernel-") as sockets,
        _client(notebook, Path(sockets), env) as client,
    ):
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            number += 1
            if last is not None and number > last:
                break
            for error in (trials or {}).get(number, []):
                trial = cell.copy()
                trial.source = _replace_once(cell.source, error)
                run.trials[error.id] = _outcome(client, trial, index)
            if edits and number in edits:
                cell.source = _replace_once(cell.source, edits[number])
            run.cells[number] = _outcome(client, cell, index)
    return run


def _environment(extra_path: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(extra_path), *filter(None, [env.get("PYTHONPATH")])]
        )
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _record(error: PlantedError, cells: list[str], failed: dict[int, str]) -> dict:
    # the record numbers cells as nbval names its test items ("Cell 0", from 0)
    named = named_cells(error, cells)
    caught = [n for n in named if failed.get(n) == BITES]
    return {
        "id": error.id,
        "description": error.description,
        "file": error.file,
        "chapter": error.chapter,
        "named": [n - 1 for n in named],
        "caught_by": [
            {
                "chapter": error.chapter,
                "cell": n - 1,
                "checks": cell_labels(cells[n - 1]),
                "source": _equations.fingerprint(cells[n - 1]),
            }
            for n in caught
        ],
        "also_failed": {
            str(n - 1): e for n, e in sorted(failed.items()) if n not in caught
        },
    }


def run_gmmlib_error(error: PlantedError) -> dict:
    """Plant ``error`` in a copy of gmmlib and run its chapter against the copy."""
    started = time.perf_counter()
    cells = code_cells(error.chapter)
    with tempfile.TemporaryDirectory(prefix=f"planted-{error.id}-") as tmp:
        copy_root = Path(tmp)
        package = copy_root / "gmmlib"
        # numba's cache (__pycache__/*.nbi, *.nbc) comes along, with the files'
        # times: kernels whose source is not edited load instead of compiling
        shutil.copytree(
            ROOT / "gmmlib", package, ignore=shutil.ignore_patterns("*.pyc")
        )
        apply(error, package)
        env = _environment(copy_root)
        # The kernel says what it imported: an IPython startup file (in a
        # profile of our own, not in gmmlib) records gmmlib.__file__.
        seen = copy_root / "imported-by-kernel.txt"
        startup = copy_root / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-planted.py").write_text(
            "import gmmlib\n"
            f"with open({str(seen)!r}, 'a') as f:\n"
            "    f.write(gmmlib.__file__ + '\\n')\n",
            encoding="utf-8",
        )
        env["IPYTHONDIR"] = str(copy_root / "ipython")
        run = run_chapter(error.chapter, env, last=max(named_cells(error, cells)))
        kernels = seen.read_text(encoding="utf-8").split() if seen.is_file() else []
        if not kernels or any(not f.startswith(str(package)) for f in kernels):
            raise RuntimeError(
                f"planted error {error.id!r}: the chapter's kernel imported gmmlib "
                f"from {kernels or 'nowhere'}, not from the edited copy {package}"
            )
    failed = {n: e for n, e in run.cells.items() if e is not None}
    record = _record(error, cells, failed)
    record["seconds"] = round(time.perf_counter() - started, 1)
    return record


def run_chapter_errors(stem: str, errors: list[PlantedError]) -> list[dict]:
    """Every chapter edit of one chapter, tried in place in one run of it."""
    started = time.perf_counter()
    cells = code_cells(stem)
    edited = {error.id: edited_cell(error, cells)[0] for error in errors}
    trials: dict[int, list[PlantedError]] = {}
    for error in errors:
        where = edited[error.id]
        if named_cells(error, cells) != [where]:
            raise ValueError(
                f"planted error {error.id!r} edits cell {where} of {stem}: it must "
                "name that cell, and only that one, as the cell that fails"
            )
        trials.setdefault(where, []).append(error)
    env = _environment()
    last = max(trials)
    run = run_chapter(stem, env, trials, last=last)
    outcomes = run.trials
    if any(e is not None for e in run.cells.values()):
        # an unedited cell failed: the chapter itself, or a trial's leftovers?
        clean = run_chapter(stem, env, last=last)
        broken = [n for n, e in clean.cells.items() if e is not None]
        if broken:
            raise RuntimeError(f"chapter {stem} fails unedited, at cells {broken}")
        outcomes = {}
        for error in errors:  # each edit in a run of its own
            where = edited[error.id]
            alone = run_chapter(stem, env, edits={where: error}, last=where)
            outcomes[error.id] = alone.cells[where]
    records = []
    for error in errors:
        where = edited[error.id]
        outcome = outcomes[error.id]
        record = _record(error, cells, {where: outcome} if outcome else {})
        record["seconds"] = round((time.perf_counter() - started) / len(errors), 1)
        records.append(record)
    return records


# ---------------------------------------------------------------------------
# The whole catalogue
# ---------------------------------------------------------------------------


def run_all(errors=CATALOGUE, jobs: int = 2, echo=print) -> list[dict]:
    """Run ``errors``, ``jobs`` kernels at a time; records in catalogue order."""
    chapter_edits: dict[str, list[PlantedError]] = {}
    for error in errors:
        if error.in_chapter:
            chapter_edits.setdefault(error.chapter, []).append(error)
    tasks = [("chapter", stem, group) for stem, group in chapter_edits.items()]
    tasks += [("gmmlib", error.id, error) for error in errors if not error.in_chapter]

    def one(task):
        kind, name, payload = task
        records = (
            run_chapter_errors(name, payload)
            if kind == "chapter"
            else [run_gmmlib_error(payload)]
        )
        for record in records:
            missed = _equations.survived(record)
            # as nbval names the cells (from 0)
            cells = [c["cell"] for c in record["caught_by"]]
            where = f"{record['chapter']}::Cell {cells}"
            status = f"MISSED Cell {missed}" if missed else "caught"
            echo(f"{record['id']:40s} {where:38s} {status} {record['seconds']:6.1f} s")
        return records

    # the longest first: chapter runs, then gmmlib errors in catalogue order
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        found = {r["id"]: r for records in pool.map(one, tasks) for r in records}
    return [found[error.id] for error in errors]


def missed(records: list[dict]) -> dict[str, list[int]]:
    """Errors whose named cells did not all fail with an AssertionError."""
    return {r["id"]: lost for r in records if (lost := _equations.survived(r))}


def coverage(records: list[dict]) -> tuple[int, list[tuple[str, int]]]:
    """(the number of check cells, those that no error is shown to fail)."""
    chapters = _equations.derivation_chapters(CHAPTERS)
    total = sum(len(_equations.check_cells(path)) for path in chapters)
    return total, _equations.unpaired_checks(ROOT, records)


def other_asserting_cells(records: list[dict]) -> tuple[int, int]:
    """Asserting cells without ``# checks:``: (how many, how many shown to bite)."""
    caught = {(c["chapter"], c["cell"]) for r in records for c in r["caught_by"]}
    total = bite = 0
    for path in _equations.derivation_chapters(CHAPTERS):
        for n, source in enumerate(_equations.code_cells(path), 1):
            if _equations.asserts(source) and not cell_labels(source):
                total += 1
                bite += (path.stem, n - 1) in caught  # the record counts from 0
    return total, bite


def coverage_line(records: list[dict]) -> str:
    total, unpaired = coverage(records)
    bite = total - len(unpaired)
    others, others_bite = other_asserting_cells(records)
    return (
        f"check cells shown to bite by a planted error: {bite}/{total} "
        f"({100 * bite / max(total, 1):.0f}%); other asserting cells: "
        f"{others_bite}/{others}"
    )


def table(records: list[dict]) -> list[dict]:
    """What the committed record keeps (no timings)."""
    return [{k: v for k, v in record.items() if k != "seconds"} for record in records]


def dumps(rows: list[dict]) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def merged(old: list[dict], new: list[dict]) -> list[dict]:
    """The record ``old`` with the errors run again replaced, in catalogue order."""
    by_id = {record["id"]: record for record in old}
    by_id.update({record["id"]: record for record in new})
    return [by_id[e.id] for e in CATALOGUE if e.id in by_id]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="run only these errors")
    parser.add_argument(
        "--chapter",
        action="append",
        help="run only the errors of this chapter (stem); may be repeated",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--write",
        action="store_true",
        help=f"rewrite {TABLE.relative_to(ROOT)} (with --chapter, only their rows)",
    )
    args = parser.parse_args(argv)
    known = {error.id: error for error in CATALOGUE}
    unknown = [name for name in args.ids if name not in known]
    if unknown:
        parser.error(f"no planted error {unknown}; known: {sorted(known)}")
    errors = [known[name] for name in args.ids] if args.ids else list(CATALOGUE)
    if args.chapter:
        errors = [e for e in errors if e.chapter in args.chapter]
    started = time.perf_counter()
    records = run_all(errors, args.jobs)
    print(f"{len(records)} planted errors in {time.perf_counter() - started:.0f} s")
    if args.write and not args.ids:
        if args.chapter and TABLE.is_file():
            old = json.loads(TABLE.read_text(encoding="utf-8"))
            old = [r for r in old if r["chapter"] not in args.chapter]
            records = merged(old, records)
        TABLE.write_text(dumps(table(records)), encoding="utf-8")
        print(f"wrote {TABLE.relative_to(ROOT)}")
    if not args.ids and (args.write or not args.chapter):
        print(coverage_line(records))
        _, unpaired = coverage(records)
        for stem, n in unpaired:
            print(f"  no error catches {stem} cell {n}")
    return 0 if not missed(records) else 1


if __name__ == "__main__":
    sys.exit(main())
