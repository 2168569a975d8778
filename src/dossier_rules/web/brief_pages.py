"""The pages of the consultations (4(2)): a partner's consultation brief, and the examiners' dashboard.

Both call the application layer (:mod:`dossier_rules.services.briefs`) on the
service's database, as the command line does, and show its charts inline:
SVG drawn on the server (:mod:`dossier_rules.charts`), no script, nothing
from elsewhere. The brief is for reviewers and prints on A4; the dashboard is
for every examiner, with the filters of ``report`` (country, kind, outcome)
and a period of days screened.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from markupsafe import Markup

from .. import brief_document, charts, sharing
from ..errors import DossierError
from ..framework.life import configured_due_periods
from ..locale import N_, _
from ..model import KINDS
from ..report import OUTCOMES
from ..results import Filter
from ..server import Principal, optional_principal
from ..services import briefs
from ..services.notices import NoticeService
from .pages import _countries, _reviewer, page, refused, render, term, to_login

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 90
"""The period a brief or the dashboard shows when none is chosen: the last 90 days."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DASHBOARD_WORDS = {
    "over_time": N_("Outcomes by month screened"),
    "by_country": N_("Dossiers by country and outcome"),
    "by_act": N_("Findings by act"),
}


def _today() -> date:
    return datetime.now(UTC).date()


def _period(start: str, end: str) -> tuple[date, date]:
    """The period chosen in the form (the last :data:`DEFAULT_DAYS` days by default); 422 on a date that is no date."""
    try:
        last = date.fromisoformat(end) if end else _today()
        first = date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise HTTPException(422, _("A date is written YYYY-MM-DD, e.g. 2025-07-10.")) from None
    return first, last


def _day(value: str) -> date | None:
    """An optional date of the form (None when empty); 422 when it is no date."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise HTTPException(422, _("A date is written YYYY-MM-DD, e.g. 2025-07-10.")) from None


def _brief(request: Request, country: str, first: date, last: date) -> dict[str, Any]:
    db = request.app.state.db
    box = sharing.Outbox(db)
    try:
        return briefs.brief(NoticeService(box, db), request.app.state.engine.packset, country, first, last, configured_due_periods(), _today())
    finally:
        box.close()


@router.get("/briefs")
def brief_page(request: Request, country: str = "", start: str = "", end: str = "") -> Response:
    """Choose a partner and a period; with both, the brief itself (print it, or download it as XLSX)."""
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    who = _reviewer(who)
    with page(request, who) as lang:
        first, last = _period(start, end)
        countries, country = _countries(request), country.upper()
        body = None
        if country:
            if country not in dict(countries):
                raise HTTPException(422, _("Choose a partner country."))
            try:
                body = brief_document.fragment(_brief(request, country, first, last), lang)
            except DossierError as exc:
                raise refused(exc) from None
        return render(request, who, "brief.html", countries=countries, country=country, start=first.isoformat(), end=last.isoformat(), body=body)


@router.get("/briefs/{country}.xlsx")
def brief_xlsx(request: Request, country: str, start: str = "", end: str = "") -> Response:
    """The brief as an XLSX workbook, in the page's language (written to a private temporary file, then sent)."""
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    who = _reviewer(who)
    with page(request, who) as lang:
        first, last = _period(start, end)
        country = country.upper()
        if country not in dict(_countries(request)):
            raise HTTPException(404, _("Choose a partner country."))
        try:
            found = _brief(request, country, first, last)
        except DossierError as exc:
            raise refused(exc) from None
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "brief.xlsx"
            brief_document.write_xlsx(found, lang, path)
            data = path.read_bytes()
    name = f"brief-{country}-{first.isoformat()}-{last.isoformat()}.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.get("/dashboard")
def dashboard_page(
    request: Request, country: str = "", kind: str = "", outcome: str = "", start: str = "", end: str = "", submitted_from: str = "", submitted_to: str = ""
) -> Response:
    """Outcomes over time, by country, findings by act: the screenings stored in the period that the filters select
    (those of ``report``: country, kind, outcome, submitted dates)."""
    who: Principal | None = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who) as lang:
        first, last = _period(start, end)
        chosen = Filter.of(
            countries=[country] if country else None,
            kinds=[kind] if kind in KINDS else None,
            outcomes=[outcome] if outcome in OUTCOMES else None,
            submitted_from=_day(submitted_from),
            submitted_to=_day(submitted_to),
        )
        try:
            found = briefs.dashboard(request.app.state.db, chosen, first, last)
        except DossierError as exc:
            raise refused(exc) from None
        context: dict[str, Any] = {"country": country, "kind": kind, "outcome": outcome, "start": first.isoformat(), "end": last.isoformat()}
        context |= {"submitted_from": submitted_from if chosen.submitted_from else "", "submitted_to": submitted_to if chosen.submitted_to else ""}
        return render(request, who, "dashboard.html", found=found, charts=_dashboard_charts(found, lang), countries=_countries(request), **context)


def _dashboard_charts(found: dict[str, Any], lang: str) -> dict[str, Markup]:
    """The dashboard's three charts, labelled in the page's language."""
    shown = [o for o in OUTCOMES if found["outcomes"][o]] or ["clear"]
    names = {o: term(o) for o in OUTCOMES}
    months = list(found["outcomes_by_month"])
    over_time = {names[o]: [found["outcomes_by_month"][m][o] for m in months] for o in shown}
    countries = list(found["by_country"])
    by_country = {names[o]: [found["by_country"][c].get(o, 0) for c in countries] for o in shown}
    colours = {names[o]: c for o, c in charts.OUTCOME_COLOURS.items()}
    acts = found["findings_by_act"]
    words = {k: _(v) for k, v in DASHBOARD_WORDS.items()}
    svgs = {
        "over_time": charts.line_chart(words["over_time"], [brief_document.month_words(m, lang) for m in months], over_time, colours),
        "by_country": charts.stacked_bar_chart(words["by_country"], [brief_document.country_words(c, lang) for c in countries], by_country, colours),
        "by_act": charts.bar_chart(words["by_act"], [brief_document.act_words(a, lang) for a in acts], list(acts.values())),
    }
    return {k: Markup(v) for k, v in svgs.items()}  # our own SVG, cleaned by charts
