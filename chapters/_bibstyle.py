"""Author-year labels for the reference list (a local Sphinx extension).

The text cites author-year ([Bishop, 2006], bibtex_reference_style
author_year), but pybtex's ``plain`` style labels the list [1], [2], ...
This registers ``plain_author_year``: the same entries, sorted the same way,
labelled as they are cited. Selected by ``bibtex_default_style``.
"""

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person):
    return " ".join(person.prelast_names + person.last_names)


class AuthorYearLabelStyle(BaseLabelStyle):
    """``Bishop, 2006``; ``McLachlan and Krishnan, 2008``; ``Dempster et al., 1977``."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            persons = entry.persons.get("author") or entry.persons.get("editor", [])
            names = [_surname(p) for p in persons]
            if len(names) >= 3 or (names and names[-1] == "others"):
                who = f"{names[0]} et al."
            else:
                who = " and ".join(names) or entry.key
            yield f"{who}, {entry.fields.get('year', 'n.d.')}"


class PlainAuthorYearStyle(PlainStyle):
    default_label_style = "author_year_labels"


def setup(app):
    register_plugin("pybtex.style.labels", "author_year_labels", AuthorYearLabelStyle)
    register_plugin(
        "pybtex.style.formatting", "plain_author_year", PlainAuthorYearStyle
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
