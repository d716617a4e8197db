"""The catalogue of planted errors: one module per chapter, ``chNN.py``.

Each :class:`PlantedError` is one small edit, made in a copy, of either

- gmmlib's source (``file="gmmlib/em.py"``): a bug the derivation could hide;
- a chapter's own cell (``file="chapters/05_em_in_action.md"``): the claim as
  the cell states it (the bound's formula, the exponent of a rate), to show
  that the cell's check would catch a wrong claim.

Every error names the one chapter it targets and the cells that must fail
under it, each with an ``AssertionError``: a check cell counts as shown to
bite only when an error names it and the run observes it failing that way.
``tests/planted_errors.py`` runs the catalogue; CONTRIBUTING.md says how a new
check cell gets its error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlantedError:
    """Replace ``old`` (which occurs once) by ``new`` in ``file``.

    ``cells`` are snippets of source, each occurring in exactly one code cell
    of ``chapter``: the cells that must fail with an ``AssertionError``. For an
    edit of a chapter, the empty default names the cell that holds ``old``.
    """

    id: str
    file: str
    old: str
    new: str
    description: str
    chapter: str
    cells: tuple[str, ...] = ()

    @property
    def in_chapter(self) -> bool:
        """Whether the edit is of a chapter's cell (else of gmmlib)."""
        return self.file.startswith("chapters/")


from . import (  # noqa: E402  (the modules import PlantedError from here)
    ch01,
    ch02,
    ch03,
    ch04,
    ch05,
    ch06,
    ch07,
    ch08,
    ch09,
    ch10,
    ch11,
    ch12,
)

CATALOGUE: tuple[PlantedError, ...] = (
    ch01.ERRORS
    + ch02.ERRORS
    + ch03.ERRORS
    + ch04.ERRORS
    + ch05.ERRORS
    + ch06.ERRORS
    + ch07.ERRORS
    + ch08.ERRORS
    + ch09.ERRORS
    + ch10.ERRORS
    + ch11.ERRORS
    + ch12.ERRORS
)
