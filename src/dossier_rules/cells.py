"""Text bound for a spreadsheet cell: never read as a formula (CSV injection, OWASP).

One guard for every file a spreadsheet opens: the ``report`` CSV and XLSX,
the dossier spreadsheet (:mod:`dossier_rules.spreadsheets`) and the rows a
registry import rejects. Dossier text is written by people outside the
examiner's office, so a cell that starts like a formula is written with a
leading ``'`` and read back without it.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Characters a spreadsheet may read as the start of a formula (OWASP, CSV injection): tab and CR included."""


def guard(value: Any) -> Any:
    """``value`` as a cell that shows as text: a string starting like a formula gets a leading ``'``; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def guard_row(row: list[Any]) -> list[Any]:
    """Every cell of a row through :func:`guard`."""
    return [guard(value) for value in row]


def unguard(text: str) -> str:
    """A cell's text as it was before :func:`guard` (a ``'`` written before a formula character is taken off)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text
