"""The views of a results summary as rows with Japanese or English headers: one shape for tables, CSV and XLSX.

:class:`dossier_rules.results.Summary` counts; this module only lays the
counts out, so the batch summary, ``report`` and its spreadsheet show the
same columns under the same names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.table import Table

from ..labels import TERMS
from ..report import OUTCOMES
from ..results import VIEWS, Summary

__all__ = ["VIEWS", "headers", "rows", "table", "title"]

Row = list[Any]

OUTCOME_LABELS = TERMS["outcome"]
"""How outcomes read in Japanese and English headers and cells (the one vocabulary, :data:`dossier_rules.labels.TERMS`)."""
SEVERITY = TERMS["severity"]

COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    # view -> (key, ja, en)
    "outcome": [("outcome", "判定", "outcome"), ("dossiers", "件数", "dossiers")],
    "country": [
        ("country", "国", "country"),
        ("dossiers", "件数", "dossiers"),
        *((o, *OUTCOME_LABELS[o]) for o in OUTCOMES),
        ("findings", "指摘数", "findings"),
    ],
    "article": [
        ("article", "条項", "article"),
        ("findings", "指摘数", "findings"),
        ("dossiers", "件数", "dossiers"),
        *((s, *SEVERITY[s]) for s in ("block", "warn", "info")),
        ("shared", "共有対象", "to share"),
        ("countries", "国", "countries"),
    ],
    "rule": [
        ("rule", "規則", "rule"),
        ("findings", "指摘数", "findings"),
        ("dossiers", "件数", "dossiers"),
        *((s, *SEVERITY[s]) for s in ("block", "warn", "info")),
        ("shared", "共有対象", "to share"),
        ("countries", "国", "countries"),
    ],
    "intermediary": [
        ("key", "識別子", "key"),
        ("name", "名称", "name"),
        ("role", "役割", "role"),
        ("candidates", "候補者数", "candidates"),
        ("brokers", "仲介機関記録数", "broker dossiers"),
        ("findings", "指摘数", "findings"),
        ("shared", "共有対象", "to share"),
        ("acts", "行為", "acts"),
        ("countries", "国", "countries"),
        ("first_seen", "初出", "first seen"),
        ("last_seen", "最終", "last seen"),
    ],
}
"""Columns of each view: the key in the data, the Japanese header, the English header."""

TITLES = {
    "outcome": ("判定別", "by outcome"),
    "country": ("国別", "by country"),
    "article": ("条項別", "by article"),
    "rule": ("規則別", "by rule"),
    "intermediary": ("仲介機関別", "by intermediary"),
}


def headers(view: str, lang: str) -> list[str]:
    return [ja if lang == "ja" else en for _, ja, en in COLUMNS[view]]


def title(view: str, lang: str) -> str:
    ja, en = TITLES[view]
    return ja if lang == "ja" else en


def rows(summary: Summary, view: str, lang: str = "en") -> Iterator[Row]:
    """The rows of one view, largest first (countries alphabetically, outcomes in triage order)."""
    data = summary.view_json(view)
    if view == "outcome":
        for state in OUTCOMES:
            ja, en = OUTCOME_LABELS[state]
            yield [ja if lang == "ja" else en, data[state]]
        return
    for key, group in data.items():
        flat = {view: key, "key": key, **group}
        flat.update({o: group.get("outcomes", {}).get(o, 0) for o in OUTCOMES})
        flat.update({s: group.get("severity", {}).get(s, 0) for s in ("block", "warn", "info")})
        yield [_cell(flat.get(k)) for k, _, _ in COLUMNS[view]]


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def table(summary: Summary, view: str, lang: str = "en", limit: int | None = None) -> Table:
    """One view as a rich table; with ``limit``, the largest rows and a line saying how many were left out."""
    out = Table(title=title(view, lang), title_justify="left")
    for i, header in enumerate(headers(view, lang)):
        out.add_column(header, justify="left" if i == 0 or header in ("name", "名称") else "right", overflow="fold")
    shown = 0
    left = 0
    for row in rows(summary, view, lang):
        if limit is not None and shown >= limit:
            left += 1
            continue
        out.add_row(*("" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in row))
        shown += 1
    if left:
        out.caption = f"… {left:,} more (dossier-rules report)" if lang == "en" else f"… ほか {left:,} 行（dossier-rules report で表示）"
    return out
