"""A notice in words: JSON, HTML (escaped) and Markdown (every meaningful character escaped), bilingual, for the partner.

The HTML and Markdown forms come from ``templates/notice.{html,md}``; the list
of dossiers concerned reads dates and amounts in the reader's language.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, select_autoescape

from ..formats import NoticeFormat
from ..labels import Lang, label
from .model import Notice, NoticeDossier

# --------------------------------------------------------------------------- rendering

_TEMPLATES = Environment(
    loader=PackageLoader("dossier_rules", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEMPLATES.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#|<>~&.:@])")


def markdown_text(value: Any) -> str:
    """A value as literal Markdown text, as HTML export escapes for HTML.

    Every character Markdown (CommonMark, GFM tables) gives a meaning inside a
    line is backslash-escaped and line breaks become spaces (so ``-``, ``+``
    and ``=``, which matter only at the start of a line, stay as written), so a name such as
    ``x | y``, ``[x](javascript:...)`` or ``# heading`` reads as written and
    cannot add a link, a heading, a table cell or a line to the notice. ``.``,
    ``:`` and ``@`` are escaped too: renderers that link bare addresses (GFM's
    autolinks, linkify) would otherwise turn ``https://...``, ``www.x.example``
    or ``a@x.example`` in a dossier into a link a partner might follow.
    """
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", re.sub(r"[\r\n\u2028\u2029]+", " ", text))


_MARKDOWN = _TEMPLATES.overlay(finalize=markdown_text)


@dataclass(frozen=True)
class Concerned:
    """One dossier of a notice as its list of dossiers shows it: kind, date and the amounts its findings cite, in words."""

    dossier_id: str
    kind: str
    submitted: str
    amounts: str
    findings: int


def date_in_words(day: str, lang: Lang) -> str:
    """An ISO date as a reader writes it (``June 2, 2025``, ``2025年6月2日``); a value that is no date is shown as it is."""
    try:
        return format_date(date.fromisoformat(day), "long", locale=lang)
    except ValueError:
        return day


def amounts_in_words(dossier: NoticeDossier, lang: Lang) -> str:
    """Every amount the dossier's findings cite as evidence (a ``.../amount`` with its ``.../currency``), once each, in words."""
    amounts: dict[str, str] = {}
    for finding in dossier.findings:
        for pointer, value in finding.evidence.items():
            if pointer.endswith("/amount") and isinstance(value, int | float) and not isinstance(value, bool):
                currency = finding.evidence.get(pointer.removesuffix("amount") + "currency")
                amounts[pointer] = f"{format_decimal(value, locale=lang)} {currency}" if isinstance(currency, str) else format_decimal(value, locale=lang)
    return ", ".join(amounts.values()) if lang == "en" else "、".join(amounts.values())


def concerned(notice: Notice, lang: Lang) -> list[Concerned]:
    """The list of dossiers a notice is about, in the reader's language: the first thing a partner reads after the matter."""
    return [
        Concerned(d.dossier_id, label(d.kind, lang, "kind"), date_in_words(d.submitted_as_of, lang), amounts_in_words(d, lang), len(d.findings))
        for d in notice.dossiers
    ]


def render(notice: Notice, fmt: NoticeFormat) -> str:
    if fmt == "json":
        return json.dumps(notice.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
    template = (_MARKDOWN if fmt == "md" else _TEMPLATES).get_template(f"notice.{fmt}")
    return template.render(
        n=notice,
        scope_en={"third_parties": "no disclosure to third parties", "anyone": "no disclosure to anyone"}[notice.confidentiality["scope"]],
        concerned_en=concerned(notice, "en"),
        concerned_ja=concerned(notice, "ja"),
    )
