"""Every check cell of the book is shown to bite by a planted error.

The catalogue is ``tests/planted_catalogue/``, the runner
``tests/planted_errors.py``. The fast tests here keep the catalogue in step
with gmmlib's source, with the chapters and with the committed record
(``chapters/planted_errors.json``); the test marked ``planted`` (``make
planted``, a few minutes) plants every error, runs its chapter, and compares
with the record.
"""

import json
import os
import re
import shutil

import planted_errors
import pytest
from planted_catalogue import PlantedError
from test_equation_checks import equations_module as _equations

pytestmark = pytest.mark.repository


ROOT = planted_errors.ROOT
CATALOGUE = planted_errors.CATALOGUE
GMMLIB = [error for error in CATALOGUE if not error.in_chapter]
CLAIMS = [error for error in CATALOGUE if error.in_chapter]


def _record():
    return json.loads(planted_errors.TABLE.read_text(encoding="utf-8"))


def test_the_catalogue_holds_distinct_errors_each_aimed_at_one_chapter():
    ids = [error.id for error in CATALOGUE]
    assert len(ids) >= 25
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    for error in CATALOGUE:
        assert error.old != error.new, error.id
        assert (ROOT / "chapters" / f"{error.chapter}.md").is_file(), error.id
        assert error.file.startswith(("gmmlib/", "chapters/")), error.id
        if error.in_chapter:
            assert error.file == f"chapters/{error.chapter}.md", error.id
        else:
            assert error.cells, f"{error.id}: a gmmlib error names its cells"


def test_contributing_states_the_catalogues_true_size():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    counts = re.findall(r"(\d+) errors in about", text)
    assert counts == [str(len(CATALOGUE))], (
        f"CONTRIBUTING.md §4 says {counts} errors; the catalogue holds "
        f"{len(CATALOGUE)}: update the number there."
    )


@pytest.mark.parametrize("error", CATALOGUE, ids=lambda e: e.id)
def test_each_named_cell_is_one_cell_of_its_chapter(error):
    cells = planted_errors.code_cells(error.chapter)
    named = planted_errors.named_cells(error, cells)
    assert named and all(1 <= n <= len(cells) for n in named)


@pytest.mark.parametrize("error", GMMLIB, ids=lambda e: e.id)
def test_each_planted_edit_still_applies_to_gmmlib(error, tmp_path):
    package = tmp_path / "gmmlib"
    shutil.copytree(ROOT / "gmmlib", package)
    path = package / error.file.removeprefix("gmmlib/")
    before = path.read_text(encoding="utf-8")
    planted_errors.apply(error, package)
    after = path.read_text(encoding="utf-8")
    assert after != before
    assert after.count(error.new) >= 1
    # the edited module still compiles: an error must fail a cell, not an import
    compile(after, error.file, "exec")


@pytest.mark.parametrize("error", CLAIMS, ids=lambda e: e.id)
def test_each_claim_edit_applies_to_the_cell_it_names(error):
    cells = planted_errors.code_cells(error.chapter)
    where, source = planted_errors.edited_cell(error, cells)
    assert source != cells[where - 1]
    assert planted_errors.named_cells(error, cells) == [where]
    compile(_equations._python_source(source), error.id, "exec")


def test_an_edit_whose_text_is_gone_fails_loudly(tmp_path):
    package = tmp_path / "gmmlib"
    package.mkdir()
    (package / "em.py").write_text("x = 1\n", encoding="utf-8")
    stale = PlantedError("stale", "gmmlib/em.py", "x = 2", "x = 3", "gone", "01_model")
    with pytest.raises(ValueError, match="occurs 0 times"):
        planted_errors.apply(stale, package)


def test_a_snippet_that_names_no_cell_or_two_fails_loudly():
    cells = ["a = 1\nassert a", "b = 2\nassert b", "a = 3"]
    for snippet, count in (("zzz", 0), ("a = ", 2)):
        error = PlantedError("x", "gmmlib/em.py", "o", "n", "d", "01_model", (snippet,))
        with pytest.raises(ValueError, match=f"occurs in {count} code cells"):
            planted_errors.named_cells(error, cells)


def test_the_committed_record_lists_the_catalogue_in_order_all_caught():
    records = _record()
    assert [r["id"] for r in records] == [e.id for e in CATALOGUE], (
        f"the record is stale; refresh it with: {planted_errors.REFRESH}"
    )
    assert not planted_errors.missed(records), planted_errors.missed(records)


def test_the_committed_record_is_of_the_chapters_as_they_are():
    stale = []
    for record in _record():
        cells = planted_errors.code_cells(record["chapter"])
        for caught in record["caught_by"]:
            n = caught["cell"]  # from 0, as nbval counts
            source = cells[n] if n < len(cells) else ""
            if _equations.fingerprint(source) != caught["source"]:
                stale.append(f"{record['id']}: {record['chapter']} cell {n}")
    assert not stale, (
        f"chapter cells changed since the planted errors last ran: {stale}; "
        f"refresh the record with: {planted_errors.REFRESH}"
    )


def test_every_check_cell_is_shown_to_bite():
    bite, unpaired = planted_errors.coverage(_record())
    assert bite
    assert not unpaired, (
        "check cells that no planted error is shown to fail (add an error to "
        "tests/planted_catalogue that names each, then refresh the record with "
        f"{planted_errors.REFRESH}): {unpaired}"
    )


@pytest.mark.planted
@pytest.mark.timeout(3600)
def test_every_planted_error_fails_the_cells_it_names():
    jobs = int(os.environ.get("PLANTED_JOBS", "2"))
    records = planted_errors.run_all(jobs=jobs)
    print(planted_errors.coverage_line(records))
    assert not planted_errors.missed(records), (
        "planted errors under which a cell they name did not fail with an "
        "AssertionError (a defect of the book: strengthen the check, do not "
        f"drop the error): {planted_errors.missed(records)}"
    )
    _, unpaired = planted_errors.coverage(records)
    assert not unpaired, f"check cells no planted error is shown to fail: {unpaired}"
    observed = planted_errors.dumps(planted_errors.table(records))
    table = planted_errors.TABLE
    committed = table.read_text(encoding="utf-8") if table.is_file() else ""
    if observed != committed:
        table.write_text(observed, encoding="utf-8")
        pytest.fail(
            "chapters/planted_errors.json did not match what this run observed "
            "(a chapter moved its cells, or the catalogue changed); it has been "
            "rewritten: review `git diff chapters/planted_errors.json` and commit "
            f"it. To refresh it alone: {planted_errors.REFRESH}"
        )
