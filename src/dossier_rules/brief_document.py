"""The consultation brief as people read it: words, charts, an HTML document (A4) and an XLSX workbook.

The figures are :func:`dossier_rules.services.briefs.brief`'s; this module only
words and lays them out, in Japanese or English, for the command line
(``exchange brief``) and the pages alike. Every word is a catalog message
(:data:`WORDS`), acts and outcomes are labelled from :mod:`dossier_rules.labels`,
never shown as codes. Names an individual's privacy withholds stay withheld
(the brief lists such an intermediary by id).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from . import charts, labels
from .cells import guard
from .locale import N_, translate, use_language
from .private_files import private_output

WORDS: dict[str, str] = {
    "title": N_("Consultation brief"),
    "subtitle": N_("Materials for the consultation under {article}: {country}"),
    "article": N_("Article"),
    "period": N_("Period"),
    "previous": N_("Previous period"),
    "as_of": N_("Counted on"),
    "figures": N_("Key figures"),
    "item": N_("Item"),
    "now": N_("This period"),
    "before": N_("Previous period"),
    "change": N_("Change from the previous period"),
    "dossiers": N_("Dossiers screened"),
    "findings": N_("Number of findings"),
    "notices_sent": N_("Notices sent"),
    "notices_answered": N_("Notices answered by the partner"),
    "notices_overdue": N_("Notices overdue (now)"),
    "revocations": N_("Revocations received"),
    "inquiries_received": N_("Inquiries received from the partner"),
    "inquiries_sent": N_("Inquiries sent to the partner"),
    "by_act": N_("Findings by act"),
    "by_month": N_("Findings by month"),
    "act": N_("Act"),
    "month": N_("Month"),
    "count": N_("Number"),
    "outcomes": N_("Dossiers by outcome"),
    "outcome": N_("Outcome"),
    "intermediaries": N_("Intermediaries with most findings"),
    "intermediary": N_("Intermediary"),
    "party_id": N_("Identifier"),
    "role": N_("Role"),
    "acts": N_("Acts"),
    "new_intermediaries": N_("Intermediaries not in the previous period"),
    "none": N_("None"),
    "withheld": N_("(name withheld: personal data)"),
    "topics": N_("Topics of consultation (4(2))"),
    "truncated": N_("Only the newest {n} screenings of the period were counted."),
    "basis": N_("Counted from the screenings stored in the service; a dossier screened several times counts once, by its latest screening."),
}
"""Every word of the brief, by role (catalog messages: English ids, Japanese in the catalog)."""

ACT_WORDS = {
    "revocation": N_("Activity of an agency whose accreditation was revoked"),
    "none": N_("Other findings (no act to share)"),
}
"""Acts the dossier model's ``complaint_act`` labels do not name."""
SHEETS = {
    "figures": N_("Key figures"),
    "by_act": N_("By act"),
    "by_month": N_("By month"),
    "outcomes": N_("By outcome"),
    "intermediaries": N_("Intermediaries"),
    "new_intermediaries": N_("New intermediaries"),
    "topics": N_("Topics of 4(2)"),
}
"""Sheet names of the workbook (Excel allows 31 characters): the full heading is the sheet's first row."""
COUNTED = ("dossiers", "findings", "notices_sent", "notices_answered", "revocations", "inquiries_received", "inquiries_sent")

_templates = Environment(loader=PackageLoader("dossier_rules", "templates"), autoescape=select_autoescape(["html"]))


def word(key: str, lang: str, **params: Any) -> str:
    """One word of the brief in ``lang``."""
    text = translate(WORDS[key], lang)
    return text.format(**params) if params else text


def act_words(act: str, lang: str) -> str:
    """An act as people name it (4(1)(a) 金銭・財産の管理, 試験における不正...)."""
    if act in ACT_WORDS:
        return translate(ACT_WORDS[act], lang)
    return labels.label(act, "ja" if lang == "ja" else "en", "complaint_act")


def month_words(month: str, lang: str) -> str:
    """``2026-03`` as 2026年3月 or Mar 2026."""
    year, number = (int(p) for p in month.split("-"))
    return f"{year}年{number}月" if lang == "ja" else format_date(date(year, number, 1), "MMM y", locale="en")


def day_words(day: str, lang: str) -> str:
    return format_date(date.fromisoformat(day), format="long", locale="ja" if lang == "ja" else "en")


def country_words(code: str, lang: str) -> str:
    return labels.label(code, "ja" if lang == "ja" else "en", "country")


def brief_charts(brief: dict[str, Any], lang: str) -> dict[str, str]:
    """The brief's charts as SVG text: findings by act, findings by month."""
    acts = brief["findings_by_act"]
    by_month = brief["findings_by_month"]
    return {
        "by_act": charts.bar_chart(word("by_act", lang), [act_words(a, lang) for a in acts], list(acts.values())),
        "by_month": charts.bar_chart(word("by_month", lang), [month_words(m, lang) for m in by_month], list(by_month.values()), horizontal=False),
    }


def rows(brief: dict[str, Any], lang: str) -> dict[str, list[list[Any]]]:
    """The brief's tables as rows of words and numbers (the page and the workbook show the same)."""
    counts = brief["changes"]["counts"]
    figures = [[word(k, lang), counts[k]["now"], counts[k]["before"], counts[k]["change"]] for k in COUNTED]
    figures.insert(4, [word("notices_overdue", lang), brief["notices_overdue"], None, None])
    return {
        "figures": figures,
        "by_act": [[act_words(a, lang), v["now"], v["before"], v["change"]] for a, v in brief["changes"]["findings_by_act"].items()],
        "by_month": [[month_words(m, lang), n] for m, n in brief["findings_by_month"].items()],
        "outcomes": [[labels.term(o, "ja" if lang == "ja" else "en"), n] for o, n in brief["outcomes"].items() if n],
        "intermediaries": [_party_row(p, lang) for p in brief["intermediaries"]],
        "new_intermediaries": [_party_row(p, lang) for p in brief["changes"]["new_intermediaries"]],
        "topics": [[f"4(2)({t['topic']})", t["title"]["ja" if lang == "ja" else "en"]] for t in brief["topics"]],
    }


def _party_row(party: dict[str, Any], lang: str) -> list[Any]:
    role = labels.label(party["role"], "ja" if lang == "ja" else "en", "party_role") if party.get("role") else ""
    acts = ("、" if lang == "ja" else ", ").join(act_words(a, lang) for a in party["acts"])
    return [party["name"] or word("withheld", lang), party["id"] or "", role, party["findings"], party["dossiers"], acts]


def fragment(brief: dict[str, Any], lang: str) -> Markup:
    """The brief's body as HTML (headings, charts, tables), for a page or a document."""
    with use_language(lang):
        html = _templates.get_template("brief.html").render(
            b=brief,
            w=lambda key, **p: word(key, lang, **p),
            rows=rows(brief, lang),
            charts={k: Markup(v) for k, v in brief_charts(brief, lang).items()},  # our own SVG, cleaned by charts
            country=country_words(brief["country"], lang),
            day=lambda d: day_words(d, lang),
            lang=lang,
        )
    return Markup(html)  # rendered with autoescape


def document(brief: dict[str, Any], lang: str) -> str:
    """The brief as one HTML file that prints on A4 (its style inline: no server behind it)."""
    title = f"{word('title', lang)}: {country_words(brief['country'], lang)}"
    return _templates.get_template("brief-document.html").render(lang=lang, title=title, body=fragment(brief, lang))


def write_xlsx(brief: dict[str, Any], lang: str, path: Path) -> None:
    """The brief as a workbook (a sheet per table, headers in ``lang``, text guarded against formulas), written 0600."""
    from openpyxl import Workbook  # the workbook library: imported when a workbook is written
    from openpyxl.styles import Font
    from openpyxl.worksheet.properties import PageSetupProperties

    book = Workbook()
    tables = rows(brief, lang)
    parties = [word(k, lang) for k in ("intermediary", "party_id", "role", "findings", "dossiers", "acts")]
    sheets = [
        ("figures", [word("item", lang), word("now", lang), word("before", lang), word("change", lang)]),
        ("by_act", [word("act", lang), word("now", lang), word("before", lang), word("change", lang)]),
        ("by_month", [word("month", lang), word("findings", lang)]),
        ("outcomes", [word("outcome", lang), word("dossiers", lang)]),
        ("intermediaries", parties),
        ("new_intermediaries", parties),
        ("topics", [word("article", lang), word("item", lang)]),
    ]
    for index, (key, header) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = translate(SHEETS[key], lang)[:31]
        if index == 0:
            colon = "：" if lang == "ja" else ": "
            sheet.append([guard(f"{word('title', lang)}{colon}{country_words(brief['country'], lang)}")])
            sheet.append([word("period", lang), f"{day_words(brief['period']['from'], lang)} – {day_words(brief['period']['to'], lang)}"])
            sheet.append([word("article", lang), brief["article"]])
        sheet.append([word(key, lang)])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=12)
        sheet.append(header)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in tables[key]:
            sheet.append([guard(v) for v in row])
        sheet.freeze_panes = sheet.cell(row=sheet.max_row - len(tables[key]) + 1, column=1)
        for column, width in zip("ABCDEF", (44, 14, 14, 12, 12, 40), strict=True):
            sheet.column_dimensions[column].width = width
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    with private_output(path) as handle:
        book.save(handle)
