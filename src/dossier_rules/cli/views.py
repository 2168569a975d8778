"""The views of a results summary as rows under headers in the reader's language: one shape for tables, CSV and XLSX.

:class:`dossier_rules.results.Summary` counts; this module only lays the
counts out, so the batch summary, ``report`` and its spreadsheet show the
same columns under the same names. Cells are words, never codes: outcomes,
severities, countries, roles and acts read as their labels
(the one vocabulary of :mod:`dossier_rules.labels`, which the pages use too),
and dates are :class:`datetime.date` (an Excel date in a workbook).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from rich.table import Table

from ..labels import Lang, act_label, label, term
from ..locale import N_, translate
from ..report import OUTCOMES
from ..results import OTHER, VIEWS, Summary

__all__ = ["VIEWS", "headers", "rows", "table", "text_table", "title"]

Row = list[Any]

SEVERITIES = ("block", "warn", "info")
_COUNTS = [("findings", N_("findings")), ("dossiers", N_("dossiers")), *((s, s) for s in SEVERITIES), ("shared", N_("to share"))]

COLUMNS: dict[str, list[tuple[str, str]]] = {
    # view -> (key, English header; the catalog holds the Japanese). An outcome's or a severity's column is headed
    # by its code, which reads as the one vocabulary's label (:func:`header`).
    "outcome": [("outcome", N_("outcome")), ("dossiers", N_("dossiers"))],
    "country": [
        ("country", N_("country")),
        ("dossiers", N_("dossiers")),
        *((o, o) for o in OUTCOMES),
        ("findings", N_("findings")),
    ],
    "article": [("article", N_("article")), *_COUNTS, ("countries", N_("countries"))],
    "rule": [("rule", N_("rule")), *_COUNTS, ("countries", N_("countries"))],
    "intermediary": [
        ("id", N_("id")),
        ("name", N_("name")),
        ("role", N_("role")),
        ("candidates", N_("candidates")),
        ("brokers", N_("broker dossiers")),
        ("findings", N_("findings")),
        ("shared", N_("to share")),
        ("acts", N_("acts")),
        ("countries", N_("countries")),
        ("first_seen", N_("first seen")),
        ("last_seen", N_("last seen")),
        ("partner_reports", N_("partner's 4(1) reports")),
    ],
}
"""Columns of each view: the key in the data and the English header (or the code of a term)."""

TITLES = {
    "outcome": N_("by outcome"),
    "country": N_("by country"),
    "article": N_("by article"),
    "rule": N_("by rule"),
    "intermediary": N_("by intermediary"),
}

UNIDENTIFIED = N_("(not identified)")
"""The intermediary view's row for findings about a party the dossier names neither by id nor by name."""


TERM_COLUMNS = frozenset((*OUTCOMES, *SEVERITIES))
"""Columns headed by an outcome or a severity: their header is its label in :data:`dossier_rules.labels.TERMS`."""


def header(key: str, en: str, lang: str) -> str:
    """A column's header in ``lang``: a term's label for an outcome or a severity, else the catalog's words."""
    return term(key, lang) if key in TERM_COLUMNS else translate(en, lang)


def headers(view: str, lang: str) -> list[str]:
    return [header(key, en, lang) for key, en in COLUMNS[view]]


def title(view: str, lang: str) -> str:
    return translate(TITLES[view], lang)


def country_label(code: str | None, lang: str) -> str | None:
    """A country in words (ベトナム, Vietnam); ``None`` stays empty."""
    return label(code, _lang(lang), "country") if code else None


def labels(codes: Iterable[str], lang: str, enum: str) -> str:
    """Several codes of one enumeration in words, comma-separated."""
    return ", ".join(label(code, _lang(lang), enum) for code in codes)


def _lang(lang: str) -> Lang:
    return "ja" if lang == "ja" else "en"


def rows(summary: Summary, view: str, lang: str = "en") -> Iterator[Row]:
    """The rows of one view, largest first (countries alphabetically, outcomes in triage order)."""
    data = summary.view_json(view)
    if view == "outcome":
        for state in OUTCOMES:
            yield [term(state, lang, "outcome"), data[state]]
        return
    for key, group in data.items():
        flat = {view: _other(key, lang), **group, "countries": labels(group.get("countries", ()), lang, "country")}
        flat.update({o: group.get("outcomes", {}).get(o, 0) for o in OUTCOMES})
        flat.update({s: group.get("severity", {}).get(s, 0) for s in SEVERITIES})
        if view == "country":
            flat["country"] = _other(key, lang) if key == OTHER else country_label(key, lang)
        if view == "intermediary":
            flat.update(_party(key, group, lang))
        yield [flat.get(k) for k, _ in COLUMNS[view]]


def _other(key: str, lang: str) -> str:
    return translate(N_("(other)"), lang) if key == OTHER else key


def _party(key: str, group: dict[str, Any], lang: str) -> dict[str, Any]:
    """The intermediary view's own cells: id and name apart (no ``id:`` prefix), role and acts in words, dates as dates."""
    kind, _, value = key.partition(":")
    name = group.get("name") or (value if kind == "name" else None)
    if key == OTHER:
        name = _other(key, lang)
    elif kind not in ("id", "name"):
        name = translate(UNIDENTIFIED, lang)
    return {
        "id": value if kind == "id" else None,
        "name": name,
        "role": label(group["role"], _lang(lang), "party_role") if group.get("role") else None,
        "acts": ("、" if lang == "ja" else ", ").join(act_label(act, lang) for act in group.get("acts", ())),
        "first_seen": as_date(group.get("first_seen")),
        "last_seen": as_date(group.get("last_seen")),
        "partner_reports": "; ".join(group.get("partner_reports", ())),
    }


def as_date(text: str | None) -> date | None:
    """An ISO date of a result as a date (an Excel date in a workbook); ``None`` when absent or not a date."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def text(value: Any) -> str:
    """A cell as a table shows it: counts with thousands separators, dates as YYYY-MM-DD, nothing for ``None``."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


ID_COLUMNS = frozenset({"id", "rule", "article"})
"""Keys of columns whose cells are identifiers: kept whole on one line, so they can be copied (see :func:`text_table`)."""


def table(summary: Summary, view: str, lang: str = "en", limit: int | None = None) -> Table:
    """One view as a rich table; with ``limit``, the largest rows and a line saying how many were left out."""
    keys = [key for key, _ in COLUMNS[view]]
    shown: list[list[str]] = []
    left = 0
    for row in rows(summary, view, lang):
        if limit is not None and len(shown) >= limit:
            left += 1
            continue
        shown.append([text(v) for v in row])
    ids = [i for i, key in enumerate(keys) if key in ID_COLUMNS or (i == 0 and view in ("article", "rule"))]
    numeric = [i for i, key in enumerate(keys) if i and key not in ("name", "role", "acts", "countries", "partner_reports", *ID_COLUMNS)]
    out = text_table(headers(view, lang), shown, ids=ids, right=numeric, title=title(view, lang))
    if left:
        out.caption = translate(N_("… {left} more (dossier-rules report)"), lang).format(left=f"{left:,}")
    return out


def text_table(header: Sequence[str], body: Iterable[Sequence[str]], ids: Iterable[int] = (), right: Iterable[int] = (), title: str | None = None) -> Table:
    """A table that is never cut: on a terminal text cells wrap at spaces (folding a long word), and the
    columns in ``ids`` stay whole on one line (an id cut or wrapped cannot be pasted back into a command).

    Written to a file or a pipe (:func:`dossier_rules.cli.common.console` is then wide), nothing wraps.
    """
    whole, right_aligned = set(ids), set(right)
    body = [list(row) for row in body]
    out = Table(title=title, title_justify="left")
    for i, name in enumerate(header):
        longest = max((len(row[i]) for row in body), default=0)
        if i in whole:
            out.add_column(name, no_wrap=True, overflow="ignore", min_width=max(longest, len(name)))
        else:
            out.add_column(name, overflow="fold", justify="right" if i in right_aligned else "left")
    for row in body:
        out.add_row(*row)
    return out
