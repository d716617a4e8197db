"""Every error planted in gmmlib is caught by a chapter cell.

The catalogue and the runner are in ``tests/planted_errors.py``. The fast tests
here keep the catalogue in step with gmmlib's source and with the committed
table; the test marked ``planted`` (``make planted``, several minutes) plants
every error, runs the chapters, and compares with ``chapters/planted_errors.json``.
"""

import json
import os
import shutil

import planted_errors
import pytest

ROOT = planted_errors.ROOT


def test_the_catalogue_holds_at_least_25_distinct_errors():
    ids = [error.id for error in planted_errors.CATALOGUE]
    assert len(ids) >= 25
    assert len(set(ids)) == len(ids)
    for error in planted_errors.CATALOGUE:
        assert error.old != error.new, error.id
        assert error.chapters, error.id
        for stem in error.chapters:
            assert (ROOT / "chapters" / f"{stem}.md").is_file(), (error.id, stem)


@pytest.mark.parametrize("error", planted_errors.CATALOGUE, ids=lambda e: e.id)
def test_each_planted_edit_still_applies_to_gmmlib(error, tmp_path):
    package = tmp_path / "gmmlib"
    shutil.copytree(ROOT / "gmmlib", package)
    before = (package / error.file).read_text(encoding="utf-8")
    planted_errors.apply(error, package)
    after = (package / error.file).read_text(encoding="utf-8")
    assert after != before
    assert after.count(error.new) >= 1
    # the edited module still compiles: an error must fail a cell, not an import
    compile(after, error.file, "exec")


def test_an_edit_whose_text_is_gone_fails_loudly(tmp_path):
    package = tmp_path / "gmmlib"
    package.mkdir()
    (package / "em.py").write_text("x = 1\n", encoding="utf-8")
    stale = planted_errors.PlantedError(
        "stale", "em.py", "x = 2", "x = 3", "an edit of text that is gone", ()
    )
    with pytest.raises(ValueError, match="occurs 0 times"):
        planted_errors.apply(stale, package)


def test_the_committed_table_lists_the_catalogue_in_order():
    records = json.loads(planted_errors.TABLE.read_text(encoding="utf-8"))
    assert [record["id"] for record in records] == [
        error.id for error in planted_errors.CATALOGUE
    ], f"the table is stale; refresh it with: {planted_errors.REFRESH}"
    assert all(record["caught_by"] for record in records)


@pytest.mark.planted
@pytest.mark.timeout(3600)
def test_every_planted_error_is_caught_by_a_chapter_cell():
    jobs = int(os.environ.get("PLANTED_JOBS", "2"))
    records = planted_errors.run_all(jobs=jobs)
    survivors = {
        record["id"]: record.get("problem", "every chapter passed")
        for record in records
        if not record["caught_by"]
    }
    assert not survivors, (
        "planted errors that no chapter cell caught (a defect of the book: "
        f"strengthen the check, do not drop the error): {survivors}"
    )
    observed = planted_errors.dumps(planted_errors.table(records))
    table = planted_errors.TABLE
    committed = table.read_text(encoding="utf-8") if table.is_file() else ""
    if observed != committed:
        planted_errors.TABLE.write_text(observed, encoding="utf-8")
        pytest.fail(
            "chapters/planted_errors.json did not match what this run observed "
            "(a chapter moved its cells, or the catalogue changed); it has been "
            "rewritten: review `git diff chapters/planted_errors.json` and commit "
            f"it. To refresh it alone: {planted_errors.REFRESH}"
        )
