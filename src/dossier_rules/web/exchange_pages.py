"""The pages of the information-sharing framework, for reviewers: a notice's life, the inbox, Japan's own notices, the 4(2) agenda.

* ``/notices/{id}``: one notice, its state in words, how long it waited, and the
  changes its state allows (send, record the partner's answer, close, withdraw),
  each confirmed after it was made, with its full history in the office's time.
* ``/exchange/inbox``: communications received from partners (paged), and a form
  to record one, checked field by field; a bad one is refused whole.
* ``/exchange/japan``: Japan's own notices (improvement orders, inquiries), drafted
  here or from a screening result, with the same life.
* ``/exchange/agenda``: the agenda of a 4(2) consultation with one partner for a
  period, laid out to print on A4.

Everything goes through the application layer (:mod:`dossier_rules.services`):
the notices service's one logged gate and the framework service; nothing here
changes state by itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from ..engine import Engine
from ..errors import DossierError
from ..framework import life
from ..framework.inbox import INQUIRY_TO_PARTNER, MODELS, IntermediaryReport
from ..locale import N_, _, translate
from ..model import parse_date
from ..packs import PackSet
from ..server import Principal, optional_principal, require
from ..services import framework as exchange
from ..services.notices import NoticeService
from ..services.screening import use_registries
from . import notice_life, pages, view, words
from .notice_life import term_in

router = APIRouter(include_in_schema=False)
pages.templates.globals.update(
    partner_action_words=lambda code: term_in("partner_action", code),
    send_how_words=lambda code: term_in("send_how", code),
)

INBOX_PAGE = 50
"""Communications one Inbox page lists (the service reads at most 1000, newest first)."""
MAX_REFERENCE = 200
MAX_ID = 128
MAX_NAME = 300
NOTICE_ACTIONS: tuple[life.Action, ...] = ("send", "answer", "close", "withdraw")
DISPATCH_ACTIONS = ("approve", "send", "answer", "close", "withdraw")
DONE = {
    "send": N_("Marked sent: {id} ({how})."),
    "answer": N_("The partner's answer to {id} was recorded."),
    "close": N_("{id} was closed."),
    "withdraw": N_("{id} was withdrawn; the reason is kept with it."),
    "approve": N_("{id} was approved."),
}
"""What each change says it did, on the page it returns to."""
DRAFTED = N_("Drafted: {id}. Approve it before it is sent.")
REQUIRED = N_("Enter this.")
NOT_A_DATE = N_("Enter a date (year, month, day).")
IN_FUTURE = N_("This date is in the future.")
TOO_LONG = N_("At most {n} characters.")
CHOOSE = N_("Choose one of the options.")


def _today() -> date:
    return datetime.now(UTC).date()


def _signed_in_reviewer(request: Request) -> Principal | Response:
    """The reviewer viewing a page; a sign-in redirect when signed out; 403 for a screener (by the server, not the menu)."""
    who = optional_principal(request)
    if who is None:
        return pages.to_login(request)
    return pages._reviewer(who)


# --------------------------------------------------------------------------- checking a form field by field


@dataclass
class Checked:
    """The values a form gave, and the problem of each field that is wrong (in the page's language)."""

    form: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, limit: int, required: bool = True) -> str:
        value = self.form.get(name, "").strip()
        if required and not value:
            self.errors[name] = translate(REQUIRED)
        elif len(value) > limit:
            self.errors[name] = _(TOO_LONG, n=limit)
        return value

    def day(self, name: str, required: bool = True, not_after: date | None = None) -> date | None:
        value = self.form.get(name, "").strip()
        if not value:
            if required:
                self.errors[name] = translate(REQUIRED)
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.errors[name] = translate(NOT_A_DATE)
            return None
        if not_after is not None and parsed > not_after:
            self.errors[name] = translate(IN_FUTURE)
        return parsed

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.form.get(name, "")
        if value not in choices:
            self.errors[name] = translate(CHOOSE)
        return value


def _form(data: FormData) -> dict[str, str]:
    return {k: str(v) for k, v in data.items() if k != "csrf_token"}


# --------------------------------------------------------------------------- one notice: its life and history


@router.get("/notices/{nid}")
def notice_page(nid: str, request: Request, done: str = "", how: str = "") -> Response:
    who = _signed_in_reviewer(request)
    if isinstance(who, Response):
        return who
    with pages.page(request, who):
        message = _(DONE[done], id=nid, how=_how(how)) if done in NOTICE_ACTIONS else None
        return _notice_page(request, who, nid, done=message)


def _how(code: str) -> str:
    """How a notice was sent, in words; only a known way (the confirmation comes from the query, which anyone can write)."""
    return term_in("send_how", code) if code in get_args(life.SendHow) else ""


def _notice_page(
    request: Request, who: Principal, nid: str, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, **extra: Any
) -> HTMLResponse:
    """One notice: what it is about, its state and timing, the forms its state allows, its history."""
    today = _today()
    status = extra.pop("status", 422 if errors else 200)
    with pages._notices(request) as service:
        try:
            notice = service.notice(nid)
            history = service.history(nid)
        except DossierError as exc:
            raise pages.refused(exc) from None
        listed = {"id": nid, "state": notice.state, "country": notice.country}
        current = notice_life.with_life(service, [listed], today)[0]
        intermediary = pages._intermediary_words(service, nid)
    zone = request.app.state.settings.office_timezone
    state = history["state"]
    allowed = [a for a in NOTICE_ACTIONS if state in life.ALLOWED_FROM[a]]
    if state == "sent" and history["expects_result"]:
        allowed.remove("close")  # it awaits the partner's result first
    context = {
        "notice": notice,
        "current": current,
        "intermediary": intermediary,
        "expects_result": history["expects_result"],
        "answer": history["answer"],
        "steps": notice_life.history_rows(history, zone, lambda name: pages._display_name(request, name)),
        "allowed": allowed,
        "errors": errors or {},
        "values": values or {},
        "send_how": _choices("send_how", get_args(life.SendHow)),
        "partner_actions": _choices("partner_action", get_args(life.PartnerAction)),
        "today": today.isoformat(),
        **extra,
    }
    return pages.render(request, who, "notice.html", status=status, **context)


def _choices(table: str, codes: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(code, term_in(table, code)) for code in codes]


@router.post("/notices/{nid}/{action}")
async def change_notice(nid: str, action: str, request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    """Send, answer, close or withdraw one notice (the export and approval are the Notices page's own)."""
    if action not in NOTICE_ACTIONS:
        raise HTTPException(404, "no such action")
    values = _form(await request.form())
    return await pages._in_thread(request, who, lambda: _change_notice(request, who, nid, action, values))


def _change_notice(request: Request, who: Principal, nid: str, action: str, values: dict[str, str]) -> Response:
    checked = Checked(values)
    today = _today()
    run = _notice_change(checked, nid, action, request.app.state.engine.packset, today)
    if checked.errors:
        return _notice_page(request, who, nid, errors=checked.errors, values=values, error=_("Nothing was changed: correct the fields marked."))
    with pages._notices(request) as service:
        try:
            run(service, pages._reviewer_of(who))
        except DossierError as exc:
            status = pages.STATUS_BY_CODE.get(exc.code, 409)
            return _notice_page(request, who, nid, values=values, error=exc.message(), status=status)
    query = {"done": action} | ({"how": values.get("how", "")} if action == "send" else {})
    return RedirectResponse(f"/notices/{nid}?{urlencode(query)}", status_code=303)


def _notice_change(checked: Checked, nid: str, action: str, packset: PackSet, today: date) -> Callable[[NoticeService, Any], Any]:
    """The change a notice form asks for, its fields checked first (problems in ``checked.errors``)."""
    if action == "send":
        how = checked.choice("how", get_args(life.SendHow))
        return lambda service, who: service.send(nid, cast(life.SendHow, how), packset, today, who)
    if action == "answer":
        text = checked.text("text", life.MAX_TEXT)
        received = checked.day("received_on", not_after=today)
        reference = checked.text("reference", MAX_REFERENCE)
        did = checked.choice("action", get_args(life.PartnerAction))
        if checked.errors or received is None:
            return lambda service, who: None
        answer = life.Answer(text=text, received_on=received, reference=reference, action=did)
        return lambda service, who: service.answer(nid, answer, who)
    if action == "close":
        note = checked.text("note", life.MAX_TEXT, required=False)
        return lambda service, who: service.close(nid, who, note)
    reason = checked.text("reason", life.MAX_TEXT)
    return lambda service, who: service.withdraw(nid, reason, who)


# --------------------------------------------------------------------------- the inbox


INBOX_KINDS = tuple(MODELS)
REPORTED_ACTS = get_args(get_args(IntermediaryReport.model_fields["acts"].annotation)[0])
"""The acts a partner's 4(1) report may name: 4(1)(a)-(e), or other."""


@router.get("/exchange/inbox")
def inbox_page(request: Request, page: int = 1, country: str = "", done: str = "") -> Response:
    who = _signed_in_reviewer(request)
    if isinstance(who, Response):
        return who
    with pages.page(request, who):
        return _inbox_page(request, who, max(1, page), country, done=done)


def _inbox_page(request: Request, who: Principal, number: int, country: str, errors: dict[str, str] | None = None, **extra: Any) -> HTMLResponse:
    with pages._notices(request) as service:
        found = exchange.listing(service, frozenset([country]) if country else frozenset())
    start = (number - 1) * INBOX_PAGE
    rows = [_inbox_row(r, request.app.state.settings.office_timezone) for r in found[start : start + INBOX_PAGE]]
    query = {"country": country} if country else {}
    more = f"/exchange/inbox?{urlencode(query | {'page': number + 1})}" if len(found) > start + INBOX_PAGE else None
    back = f"/exchange/inbox?{urlencode(query | {'page': number - 1})}" if number > 1 else None
    done = extra.pop("done", "")
    context = {
        "rows": rows,
        "country": country,
        "countries": pages._countries(request),
        "kinds": _choices("communication_kind", INBOX_KINDS),
        "partner_actions": _choices("partner_action", get_args(life.PartnerAction)),
        "acts": [(act, notice_life.act_words(act)) for act in REPORTED_ACTS],
        "errors": errors or {},
        "values": extra.pop("values", {}),
        "next_url": more,
        "previous_url": back,
        "page_number": number,
        "done": _("Recorded: {id}.", id=done) if re.fullmatch(r"R-[0-9a-f]{16}", done) else None,
        "today": _today().isoformat(),
    }
    status = extra.pop("status", 422 if errors else 200)
    return pages.render(request, who, "inbox.html", status=status, **context, **extra)


def _inbox_row(row: dict[str, Any], zone: str) -> dict[str, Any]:
    body = row["body"]
    agency = body.get("agency") or body.get("intermediary") or {}
    acts = " / ".join(notice_life.act_words(act) for act in body.get("acts") or ())
    what = {
        "revocation": lambda: f"{agency.get('name', '')} ({agency.get('id', '')})",
        "accreditation": lambda: f"{agency.get('name', '')} ({agency.get('id', '')})",
        "result": lambda: f"{row.get('notice_id') or ''} · {term_in('partner_action', body.get('action'))}",
        "inquiry": lambda: str(body.get("subject") or ""),
        "intermediary_report": lambda: f"{agency.get('name', '')} ({agency.get('id', '')})" + (f" · {acts}" if acts else ""),
        "report_withdrawal": lambda: f"{agency.get('name', '')} ({agency.get('id', '')}) · {body.get('withdraws', '')}",
    }[row["kind"]]()
    return {
        "id": row["id"],
        "country": row["country"],
        "kind": term_in("communication_kind", row["kind"]),
        "reference": row["reference"],
        "dated": words.date_words(row["dated"]),
        "received_on": words.date_words(row["received_on"]),
        "what": what,
        "effective_on": words.date_words(body["effective_on"]) if body.get("effective_on") else "",
        "personal_withheld": body.get("personal_withheld", False),
        "recorded_at": words.time_words(row["recorded_at"], zone),
    }


@router.post("/exchange/inbox")
async def record_received(request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    """Record one communication received from a partner, checked whole: nothing is recorded when any field is wrong."""
    values = _form(await request.form())
    return await pages._in_thread(request, who, lambda: _record_received(request, who, values))


def _record_received(request: Request, who: Principal, values: dict[str, str]) -> Response:
    checked, today = Checked(values), _today()
    kind = checked.choice("kind", INBOX_KINDS)
    body = _communication(checked, kind, [c for c, _n in pages._countries(request)], today)
    if checked.errors:
        return _inbox_page(request, who, 1, "", errors=checked.errors, values=values, error=_("Nothing was recorded: correct the fields marked."))
    workspace = pages._workspace(request)
    engine: Engine = request.app.state.engine
    with pages._notices(request) as service:
        try:
            received = exchange.receive(service, engine.packset, workspace.registries_dir, json.dumps(body).encode(), "form", pages._reviewer_of(who), today)
        except DossierError as exc:
            wrong = {"notice_id": exc.message()} if exc.code in ("framework.unknown_notice", "framework.other_partner") else {}
            status = 422 if exc.code == "framework.refused" else pages.STATUS_BY_CODE.get(exc.code, 409)
            return _inbox_page(request, who, 1, "", errors=wrong, values=values, error=exc.message(), status=status)
    if received.registry is not None:
        use_registries(request.app.state, workspace.registries_dir)
    return RedirectResponse(f"/exchange/inbox?{urlencode({'done': received.id})}", status_code=303)


def _communication(checked: Checked, kind: str, countries: list[str], today: date) -> dict[str, Any]:
    """The communication the form describes, as the inbox's JSON; every field checked, its problem kept next to it."""
    country = checked.choice("country", tuple(countries))
    dated = checked.day("dated", not_after=today)
    received = checked.day("received_on", not_after=today)
    if dated and received and dated > received:
        checked.errors["dated"] = _("The document cannot be dated after it was received.")
    body: dict[str, Any] = {"kind": kind, "country": country, "dated": _iso(dated), "received_on": _iso(received)}
    body["reference"] = checked.text("reference", MAX_REFERENCE)
    if kind in ("revocation", "accreditation"):
        body["agency"] = {"id": checked.text("agency_id", MAX_ID), "name": checked.text("agency_name", MAX_NAME)}
        body["effective_on"] = _iso(checked.day("effective_on"))
    elif kind == "result":
        body |= {"notice_id": checked.text("notice_id", MAX_REFERENCE), "text": checked.text("text", life.MAX_TEXT)}
        body["action"] = checked.choice("action", get_args(life.PartnerAction))
    elif kind == "inquiry":
        body["subject"] = checked.text("subject", life.MAX_TEXT)
        due = checked.day("due_on", required=False)
        if due is not None and received is not None and due < received:
            checked.errors["due_on"] = _("The answer cannot be due before the inquiry was received.")
        if due is not None:
            body["due_on"] = due.isoformat()
    elif kind in ("intermediary_report", "report_withdrawal"):
        body["intermediary"] = {"id": checked.text("intermediary_id", MAX_ID), "name": checked.text("intermediary_name", MAX_NAME)}
        if kind == "report_withdrawal":
            body["withdraws"] = checked.text("withdraws", MAX_REFERENCE)
        else:
            body["acts"] = [act for act in REPORTED_ACTS if checked.form.get(f"act_{act}")]
            body["text"] = checked.text("report_text", life.MAX_TEXT, required=False)
    return body


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --------------------------------------------------------------------------- Japan's own notices


@router.get("/exchange/japan")
def japan_page(request: Request, screening: str = "") -> Response:
    who = _signed_in_reviewer(request)
    if isinstance(who, Response):
        return who
    with pages.page(request, who):
        values = _from_screening(request, who, screening) if screening else {}
        return _japan_page(request, who, values=values)


def _from_screening(request: Request, who: Principal, sid: str) -> dict[str, str]:
    """The inquiry form started from a screening result: its partner and id (the facts to ask about are typed by the reviewer)."""
    stored = pages._stored(request, who, sid)
    return {"country": stored["report"]["country"], "screening_id": sid, "dossier_id": str(stored["report"].get("dossier_id") or "")}


def _japan_page(request: Request, who: Principal, errors: dict[str, str] | None = None, **extra: Any) -> HTMLResponse:
    with pages._notices(request) as service:
        found = exchange.dispatches(service, frozenset(), _today())
    packset = request.app.state.engine.packset
    asking = [(c, n) for c, n in pages._countries(request) if (p := packset.for_country(c)) is not None and INQUIRY_TO_PARTNER in p.provisions()]
    today = _today()
    context = {
        "rows": [_dispatch_row(r) for r in found],
        "countries": asking,
        "errors": errors or {},
        "values": {"from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat(), "due_days": str(life.DEFAULT_DUE_DAYS)} | extra.pop("values", {}),
    }
    status = extra.pop("status", 422 if errors else 200)
    return pages.render(request, who, "japan.html", status=status, **context, **extra)


def _dispatch_row(row: dict[str, Any]) -> dict[str, Any]:
    body = row["body"]
    if row["kind"] == "inquiry":
        about = str(body.get("subject") or "")
    else:
        about = "、".join(f"{o['name']} ({o['id']})" for o in body.get("orders", []))
    return {**row, "kind_words": term_in("dispatch_kind", row["kind"]), "about": about}


@router.post("/exchange/japan/orders")
async def draft_orders(request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    """Draft the notices of improvement orders first listed in a period (KH 6(4); LA, KG, TJ 6(3)); drafting the same again creates nothing."""
    values = _form(await request.form())
    return await pages._in_thread(request, who, lambda: _draft_orders(request, who, values))


def _draft_orders(request: Request, who: Principal, values: dict[str, str]) -> Response:
    checked, today = Checked(values), _today()
    start, end = checked.day("from"), checked.day("to")
    if start and end and end < start:
        checked.errors["to"] = _("The end of the period is before its start.")
    if checked.errors or start is None or end is None:
        return _japan_page(request, who, errors=checked.errors, values=values, error=_("Nothing was drafted: correct the fields marked."))
    engine: Engine = request.app.state.engine
    with pages._notices(request) as service:
        found = exchange.draft_orders(service, engine.packset, engine.registries, start, end, pages._reviewer_of(who), today)
    drafted = [n["id"] for n in found.notices]
    held = [f"{pages.country_name(h['country'])}{paren_words(term_in('outcome', 'not_in_force'))}" for h in found.held_back]
    summary = _("Drafted: {n}.", n=len(drafted)) + (" " + _("Held back: {countries}.", countries="、".join(held)) if held else "")
    return _japan_page(request, who, values={}, done=summary if drafted or held else _("No improvement order was first listed in that period."))


def paren_words(text: str) -> str:
    return f"（{text}）" if notice_life.lang() == "ja" else f" ({text})"


@router.post("/exchange/japan/inquiries")
async def draft_inquiry(request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    """Draft an inquiry to a partner (KH 5(7); LA, KG, TJ 7(6)), from a screening result or on its own."""
    values = _form(await request.form())
    return await pages._in_thread(request, who, lambda: _draft_inquiry(request, who, values))


def _draft_inquiry(request: Request, who: Principal, values: dict[str, str]) -> Response:
    checked = Checked(values)
    country = checked.choice("country", tuple(c for c, _n in pages._countries(request)))
    subject = checked.text("subject", life.MAX_TEXT)
    days = values.get("due_days", "").strip()
    if not (days.isdigit() and 1 <= int(days) <= 3650):
        checked.errors["due_days"] = _("Enter a number of days from 1 to 3650.")
    if checked.errors:
        return _japan_page(request, who, errors=checked.errors, values=values, error=_("Nothing was drafted: correct the fields marked."))
    state = request.app.state
    with pages._notices(request) as service:
        try:
            did = exchange.draft_inquiry(
                service, state.engine.packset, country, subject, int(days), pages._reviewer_of(who), state.screenings, values.get("screening_id", "").strip()
            )
        except DossierError as exc:
            return _japan_page(request, who, values=values, error=exc.message(), status=pages.STATUS_BY_CODE.get(exc.code, 409))
    return RedirectResponse(f"/exchange/japan/{did}?{urlencode({'done': 'drafted'})}", status_code=303)


@router.get("/exchange/japan/{did}")
def dispatch_page(did: str, request: Request, done: str = "", how: str = "") -> Response:
    who = _signed_in_reviewer(request)
    if isinstance(who, Response):
        return who
    with pages.page(request, who):
        message = _(DRAFTED, id=did) if done == "drafted" else _(DONE[done], id=did, how=_how(how)) if done in DONE else None
        return _dispatch_page(request, who, did, done=message)


def _dispatch_page(request: Request, who: Principal, did: str, errors: dict[str, str] | None = None, **extra: Any) -> HTMLResponse:
    with pages._notices(request) as service:
        try:
            found = exchange.dispatch_view(service, did, _today())
        except DossierError as exc:
            raise HTTPException(404, exc.message()) from None
    zone = request.app.state.settings.office_timezone
    allowed = [a for a in DISPATCH_ACTIONS if found["state"] in exchange.DISPATCH_ALLOWED[a]]
    if found["kind"] == "inquiry" and found["state"] == "sent":
        allowed.remove("close")
    context = {
        "d": _dispatch_row(found),
        "allowed": allowed,
        "errors": errors or {},
        "values": extra.pop("values", {}),
        "send_how": _choices("send_how", get_args(life.SendHow)),
        "when": {k: words.time_words(found[k], zone) if found.get(k) else "" for k in ("created_at", "approved_at", "sent_at")},
        "created_by": pages._display_name(request, found.get("created_by")),
    }
    status = extra.pop("status", 422 if errors else 200)
    return pages.render(request, who, "dispatch.html", status=status, **context, **extra)


@router.post("/exchange/japan/{did}/{action}")
async def change_dispatch(did: str, action: str, request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    """Approve, send, record the answer to, close or withdraw one of Japan's own notices; each change logged."""
    if action not in DISPATCH_ACTIONS:
        raise HTTPException(404, "no such action")
    values = _form(await request.form())
    return await pages._in_thread(request, who, lambda: _change_dispatch(request, who, did, action, values))


def _change_dispatch(request: Request, who: Principal, did: str, action: str, values: dict[str, str]) -> Response:
    checked = Checked(values)
    data: dict[str, str] = {}
    if action == "send":
        data["how"] = checked.choice("how", get_args(life.SendHow))
    elif action == "answer":
        data = {"text": checked.text("text", life.MAX_TEXT), "reference": checked.text("reference", MAX_REFERENCE)}
    elif action == "withdraw":
        data["reason"] = checked.text("reason", life.MAX_TEXT)
    if checked.errors:
        return _dispatch_page(request, who, did, errors=checked.errors, values=values, error=_("Nothing was changed: correct the fields marked."))
    with pages._notices(request) as service:
        try:
            exchange.change_dispatch(service, did, action, pages._reviewer_of(who), request.app.state.engine.packset, _today(), **data)
        except DossierError as exc:
            return _dispatch_page(request, who, did, values=values, error=exc.message(), status=pages.STATUS_BY_CODE.get(exc.code, 409))
    query = {"done": action} | ({"how": data["how"]} if action == "send" else {})
    return RedirectResponse(f"/exchange/japan/{did}?{urlencode(query)}", status_code=303)


# --------------------------------------------------------------------------- the 4(2) agenda


AGENDA_DAYS = 182
"""The period the agenda form offers first: about six months to today."""


@router.get("/exchange/agenda")
def agenda_page(request: Request, country: str = "", start: str = "", end: str = "") -> Response:
    """The agenda of a 4(2) consultation with one partner for a period, to print (A4)."""
    who = _signed_in_reviewer(request)
    if isinstance(who, Response):
        return who
    with pages.page(request, who):
        today = _today()
        values = {"country": country, "start": start or (today - timedelta(days=AGENDA_DAYS)).isoformat(), "end": end or today.isoformat()}
        checked = Checked(values)
        found = None
        if country:
            checked.choice("country", tuple(c for c, _n in pages._countries(request)))
            first, last = checked.day("start"), checked.day("end")
            if not checked.errors and first and last:
                with pages._notices(request) as service:
                    try:
                        found = exchange.agenda(service, country, first, last, life.configured_due_periods(), today)
                    except DossierError as exc:
                        checked.errors["end"] = exc.message()
        context = {
            "values": values,
            "errors": checked.errors,
            "countries": pages._countries(request),
            "agenda": _agenda_words(found) if found else None,
        }
        return pages.render(request, who, "agenda.html", status=422 if checked.errors else 200, **context)


def _agenda_words(found: dict[str, Any]) -> dict[str, Any]:
    """The agenda's topics with their numbers as labelled lines (no code, no JSON)."""
    topics = []
    for topic in found["topics"]:
        items = topic["items"]
        lines: list[tuple[str, str]] = []
        for act, n in items.get("findings_by_act", {}).items():
            lines.append((_("Findings: {act}", act=notice_life.act_words(act)), str(n)))
        for state, n in items.get("open_notices_by_state", {}).items():
            lines.append((_("Notices not closed: {state}", state=term_in("notice_state", state)), str(n)))
        labels = {
            "overdue": N_("Notices overdue for the partner's result"),
            "longest_wait_before_sending_days": N_("Longest wait between approval and sending (days)"),
            "revocations_received": N_("Revocations received"),
            "accreditations_received": N_("Accreditations received"),
            "results_received": N_("Investigation results received"),
            "test_fraud_findings": N_("Findings of test fraud"),
        }
        for key, label in labels.items():
            if key in items:
                lines.append((translate(label), "—" if items[key] is None else str(items[key])))
        people = [
            {"name": i.get("name") or i.get("id") or "", "id": i.get("id") or "", "act": notice_life.act_words(i["act"]), "findings": i["findings"]}
            for i in items.get("intermediaries", [])
        ]
        topics.append({"topic": topic["topic"], "title": view.localized(topic["title"]), "lines": lines, "intermediaries": people})
    return {"country": found["country"], "article": words.article_words(found["article"]), "period": found["period"], "topics": topics}
