"""Cite and reuse: CITATION.cff, the BibTeX of README and index.md, the licences.

``CITATION.cff`` is validated against the Citation File Format 1.2.0 JSON
schema exactly as cffconvert 2.0.0 validates it (``jsonschema.validate`` with
a ``FormatChecker``, timestamps read as strings), with the schema read out of
cffconvert's wheel from the package registry. The wheel is downloaded, not
installed (``.ci/cff.txt`` says why): ``make cff`` puts it in ``.cff/``.
Broken copies of the file must fail the same validation, so the check can fail.

The rest keeps the places that repeat a fact in step: the version (one place,
``gmmlib.__version__``), the release date (CHANGELOG.md), the repository URL
(``_config.yml``), the licences (pyproject.toml, LICENSE, LICENSE-text,
README). The footer of every built page is checked by the ``book`` test at the
end, on ``_build/html``.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

import gmmlib

pytestmark = pytest.mark.repository


REPO = Path(__file__).resolve().parent.parent
CITATION = REPO / "CITATION.cff"
HTML = Path(os.environ.get("GMMBOOK_HTML", REPO / "_build" / "html"))
STUDENT = Path(
    os.environ.get(
        "GMMBOOK_STUDENT_HTML", REPO / "_build" / "student" / "_build" / "html"
    )
)
CC_BY_URL = "https://creativecommons.org/licenses/by/4.0/"


def _cffconvert_wheel() -> Path:
    pin = re.search(
        r"^cffconvert==(\S+)", (REPO / ".ci" / "cff.txt").read_text(), re.M
    ).group(1)
    wheel = REPO / ".cff" / f"cffconvert-{pin}-py3-none-any.whl"
    if not wheel.exists():
        pytest.fail(
            f"{wheel.relative_to(REPO)} is missing: run `make cff` (it downloads "
            "cffconvert's wheel, whose CFF schema this test validates against)"
        )
    return wheel


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    with zipfile.ZipFile(_cffconvert_wheel()) as wheel:
        schema = json.loads(wheel.read("cffconvert/schemas/1.2.0/schema.json"))
    assert schema["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


class _CffLoader(yaml.SafeLoader):
    """YAML as cffconvert reads it: a date stays the string it is written as."""


_CffLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str
)


def load_cff(text: str) -> dict:
    return yaml.load(text, Loader=_CffLoader)  # noqa: S506 (a SafeLoader)


def errors(validator, text: str) -> list[str]:
    return [error.message for error in validator.iter_errors(load_cff(text))]


def test_citation_cff_is_valid(validator):
    assert errors(validator, CITATION.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        ("cff-version: 1.2.0", 'cff-version: "1.2"', "an unknown cff-version"),
        ('message: "If you use', 'massage: "If you use', "no message"),
        ("authors:\n  - name:", "people:\n  - name:", "no authors"),
        ('date-released: "2026-', 'date-released: "2026-13-', "a date that is none"),
        ("license: BSD-3-Clause", "license: BSD 3", "a licence that is no SPDX id"),
        ("type: software", "type: library", "an unknown type"),
    ],
)
def test_broken_copies_are_invalid(validator, old, new, what):
    text = CITATION.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    assert errors(validator, text.replace(old, new)), f"{what} passed validation"


def cff() -> dict:
    return load_cff(CITATION.read_text(encoding="utf-8"))


def test_citation_names_this_version_release_and_repository():
    data = cff()
    assert data["version"] == gmmlib.__version__
    assert data["preferred-citation"]["version"] == gmmlib.__version__
    assert data["authors"] == [{"name": "the gmm-em-book developers"}]
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    dated = re.search(
        rf"^## \[{re.escape(gmmlib.__version__)}\] - (\d{{4}}-\d{{2}}-\d{{2}})$",
        changelog,
        re.M,
    )
    assert dated, f"CHANGELOG.md has no dated section for {gmmlib.__version__}"
    assert data["date-released"] == dated.group(1)
    assert str(data["preferred-citation"]["year"]) == dated.group(1)[:4]
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    assert data["repository-code"] == config["repository"]["url"]
    assert data["preferred-citation"]["url"] == config["repository"]["url"]


def test_changelog_keeps_unreleased_and_versions_newest_first():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert headings[0] == "Unreleased"
    versions = [tuple(map(int, v.split("."))) for v in headings[1:]]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(
        versions
    )
    assert headings[1] == gmmlib.__version__


def bibtex_blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(r"^```bibtex\n(.*?)^```$", text, re.M | re.S)


@pytest.mark.parametrize("page", ["README.md", "index.md"])
def test_how_to_cite_gives_the_citation_as_bibtex(page):
    data = cff()
    text = (REPO / page).read_text(encoding="utf-8")
    assert re.search(r"^#+ How to cite$", text, re.M)
    (entry,) = bibtex_blocks(REPO / page)
    fields = dict(re.findall(r"^\s*(\w+)\s*=\s*\{(.*)\},?$", entry, re.M))
    assert fields["author"] == "{" + data["authors"][0]["name"] + "}"
    assert fields["year"] == data["date-released"][:4]
    assert fields["version"] == data["version"]
    assert fields["url"] == data["repository-code"]
    # BibTeX spells the title's Σₖⁿᵉʷ in LaTeX, so that classic BibTeX and
    # pdflatex need no Unicode; the rest is the citation's title
    symbol, words = data["preferred-citation"]["title"].split(": ", 1)
    assert symbol == "Σₖⁿᵉʷ"
    assert fields["title"] == (
        "{$\\Sigma_k^{\\mathrm{new}}$}: " + words.replace("EM", "{EM}")
    )


def test_licences_are_split_and_stated():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^license = "BSD-3-Clause"$', pyproject, re.M)
    assert re.search(r'^license-files = \["LICENSE"\]$', pyproject, re.M)
    assert (REPO / "LICENSE").read_text().startswith("BSD 3-Clause License\n")
    text_licence = (REPO / "LICENSE-text").read_text(encoding="utf-8")
    assert "Creative Commons Attribution 4.0 International" in text_licence
    assert CC_BY_URL in text_licence
    assert cff()["license"] == "BSD-3-Clause"
    assert cff()["preferred-citation"]["license"] == "CC-BY-4.0"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    licence = readme.split("## Licences", 1)[1].split("\n## ", 1)[0]
    for name in ("`LICENSE`", "BSD-3-Clause", "`LICENSE-text`", "CC BY 4.0"):
        assert name in licence


def footer_licences() -> str:
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    return config["html"]["extra_footer"]


def test_footer_names_both_licences():
    footer = footer_licences()
    assert CC_BY_URL in footer and "CC BY 4.0" in footer
    assert "BSD-3-Clause" in footer


@pytest.mark.book
@pytest.mark.parametrize("edition", ["full", "student"])
def test_every_built_page_shows_the_licences(edition):
    html = {"full": HTML, "student": STUDENT}[edition]
    pages = sorted(
        p for p in html.rglob("*.html") if not {"_static", "_sources"} & set(p.parts)
    )
    assert len(pages) > 10, f"no built book at {html}: run `make book` first"
    footer = re.compile(r'<div class="extra_footer">\s*(.*?)\s*</div>', re.S)
    missing = []
    for page in pages:
        found = footer.search(page.read_text(encoding="utf-8"))
        if not found or found.group(1) != footer_licences().strip():
            missing.append(str(page.relative_to(html)))
    assert not missing, f"pages without the licence footer: {missing}"
