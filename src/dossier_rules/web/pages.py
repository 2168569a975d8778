"""The pages: sign in, New screening, Result, History, Notices, Packs and registries.

Every page calls the application layer (:mod:`dossier_rules.services`) the
API calls, on the service's own objects (``app.state``), so a page shows
exactly what the API returns; nothing here screens, stores or approves by
itself, and a refusal is the service's typed error, worded here. Pages render
in the user's language (日本語 by default); a signed-out visitor's choice is
kept in a cookie until they sign in.

Work that blocks (SQLite, argon2, screening) never runs on the event loop: a
page handler is a plain function (run in the thread pool), or reads its form
and hands the rest to :func:`run_in_threadpool`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from .. import labels, sharing
from ..errors import DossierError
from ..formats import NOTICE_FORMATS, notice_format, unknown_notice_format
from ..locale import LANGUAGES, N_, _, language, translate, use_language
from ..model import KINDS
from ..package_data import docs_dir
from ..results import Filter, change
from ..server import AccountError, LoginLimited, Principal, log_in, log_out, optional_principal, require
from ..services import catalog as service_catalog
from ..services.accounts import Role
from ..services.notices import MAX_BUILD, NoticeService, Reviewer
from ..services.screening import ScreeningService, Viewer, viewer
from ..services.workspace import Workspace
from . import forms, notice_life, view, words

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"style.css": "text/css; charset=utf-8", "print.js": "text/javascript; charset=utf-8", "form.js": "text/javascript; charset=utf-8"}
LANG_COOKIE = "dossier_rules_lang"
MAX_UPLOADS = 20
"""Files one upload may carry; more go through ``dossier-rules batch`` or the batch API."""
MAX_APPROVALS = 100
"""Notices one approval form may carry (the API's limit)."""
STATUS_BY_CODE = {"screening.not_found": 404, "notice.not_found": 404, "notice.none_chosen": 422}
"""The status of a page refused with a typed error; any other code answers 409."""


def term(code: str) -> str:
    """One of the product's codes (outcome, severity, kind, notice state, role, registry) in the page's language (:data:`labels.TERMS`)."""
    return labels.term(code, "ja" if language() == "ja" else "en")


CSP = "default-src 'self'; script-src 'self'; img-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
"""Every page's Content-Security-Policy: only this site's own script (``static/form.js``), no inline script; styles
from the stylesheet only, except in a downloaded result, which carries its stylesheet inline."""

MARKDOWN = MarkdownIt("js-default")
"""Markdown to HTML for the guide and the notice preview: tables on, raw HTML off (it is escaped, never passed through)."""

ACTS = ("a", "b", "c", "d", "e", "test_fraud", "other")
"""The acts a notice is about: labelled as a complaint's act is (:mod:`dossier_rules.labels`)."""

NAV: list[tuple[str, str, Role]] = [
    ("/screenings/new", N_("New screening"), "screener"),
    ("/history", N_("History"), "screener"),
    ("/notices", N_("Notices"), "reviewer"),
    ("/exchange/inbox", N_("Received"), "reviewer"),
    ("/exchange/japan", N_("Japan's notices"), "reviewer"),
    ("/exchange/agenda", N_("Consultation agenda"), "reviewer"),
    ("/dashboard", N_("Dashboard"), "screener"),
    ("/briefs", N_("Consultation brief"), "reviewer"),
    ("/packs", N_("Packs"), "screener"),
    ("/registries", N_("Registries"), "screener"),
]

templates = Environment(loader=PackageLoader("dossier_rules.web", "templates"), autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"])
templates.globals.update(
    pointer_label=words.pointer_words,
    act_label=lambda act: forms.value_label(act, ACTS),
    _=_,
    term=term,
    translate=translate,
    localized=view.localized,
    field_label=forms.field_label,
    quote=quote,
    date_words=words.date_words,
    role_words=lambda role: words.code_words(role, "party_role"),
    country_name=lambda code: words.code_words(code, "country"),
    article_words=lambda article: words.article_words(article),
    count_words=lambda n: f"（{n}件）" if language() == "ja" else f" ({n})",
    paren=lambda text: f"（{text}）" if language() == "ja" else f" ({text})",
)


def page_language(request: Request, who: Principal | None) -> str:
    """The user's language; signed out, the cookie's; else Japanese."""
    if who is not None:
        return who.user.lang if who.user.lang in LANGUAGES else "ja"
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGUAGES else "ja"


@contextmanager
def page(request: Request, who: Principal | None) -> Iterator[str]:
    """Make messages in the page's language while the page is built."""
    lang = page_language(request, who)
    with use_language(lang):
        yield lang


def render(request: Request, who: Principal | None, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the current language, with the header every page shares."""
    nav = [(href, translate(text)) for href, text, role in NAV if who is not None and who.user.can(role)]
    csrf = who.session.csrf if who is not None and who.session is not None else ""
    colon = "：" if language() == "ja" else ": "
    html = templates.get_template(name).render(request=request, who=who, lang=language(), nav=nav, csrf=csrf, path=request.url.path, colon=colon, **context)
    policy = CSP + ("; style-src 'self' 'unsafe-inline'" if context.get("standalone") else "; style-src 'self'")
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store", "Content-Security-Policy": policy})


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def _screenings(request: Request) -> ScreeningService:
    return ScreeningService(request.app.state.screenings)


def _viewer(request: Request, who: Principal) -> Viewer:
    return viewer(who.user.username, who.user.role, request.app.state.settings.names_visible_to)


@contextmanager
def _notices(request: Request) -> Iterator[NoticeService]:
    """The notice service on the service's database (its outbox tables and its log)."""
    box = sharing.Outbox(request.app.state.db)
    try:
        yield NoticeService(box, request.app.state.db)
    finally:
        box.close()


def _reviewer_of(who: Principal) -> Reviewer:
    return Reviewer(who.user.username, who.user.display_name)


def _workspace(request: Request) -> Workspace:
    settings = request.app.state.settings
    return Workspace.of(settings.packs_dir, settings.registries_dir, settings.db, settings.max_registry_age)


def refused(exc: DossierError) -> HTTPException:
    """A typed error as the page's refusal, worded in the page's language."""
    return HTTPException(STATUS_BY_CODE.get(exc.code, 409), exc.message())


async def _in_thread(request: Request, who: Principal | None, work: Callable[[], Response]) -> Response:
    """Run ``work`` (which blocks) in the thread pool, in the page's language."""

    def run() -> Response:
        with page(request, who):
            return work()

    return await run_in_threadpool(run)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    return target if target and target.startswith("/") and not target.startswith("//") else "/screenings/new"


# --------------------------------------------------------------------------- static files and the start page


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC_FILES:
        raise HTTPException(404, "no such file")
    return Response((STATIC / name).read_bytes(), media_type=STATIC_FILES[name], headers={"Cache-Control": "max-age=3600"})


@router.get("/help")
def help_page(request: Request) -> Response:
    """The staff guide (docs/guide-ja.md or guide-en.md) in the page's language, reachable from every page."""
    who = optional_principal(request)
    with page(request, who) as lang:
        text = (docs_dir() / f"guide-{lang}.md").read_text(encoding="utf-8").replace("](screenshots/", "](/help/screenshots/")
        return render(request, who, "help.html", guide=MARKDOWN.render(text))


@router.get("/help/screenshots/{name}")
def help_screenshot(name: str) -> Response:
    if not re.fullmatch(r"[a-z0-9-]+\.png", name) or not (docs_dir() / "screenshots" / name).is_file():
        raise HTTPException(404, "no such file")
    return Response((docs_dir() / "screenshots" / name).read_bytes(), media_type="image/png", headers={"Cache-Control": "max-age=3600"})


@router.get("/")
def start(request: Request) -> RedirectResponse:
    return RedirectResponse("/screenings/new" if optional_principal(request) else "/login", status_code=303)


# --------------------------------------------------------------------------- signing in and out, language


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    who = optional_principal(request)
    if who is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    with page(request, None):
        return render(request, None, "login.html", next=_safe_next(next), error=None, username="")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username, password, target = str(form.get("username", "")), str(form.get("password", "")), _safe_next(str(form.get("next", "")))
    response = RedirectResponse(target, status_code=303)
    try:
        await run_in_threadpool(log_in, request, response, username, password)  # argon2 and SQLite: off the event loop
    except LoginLimited as exc:
        with page(request, None):
            error = _("Too many attempts. Try again in {minutes} minutes.", minutes=max(1, exc.retry_after // 60))
            return render(request, None, "login.html", status=429, next=target, error=error, username=username)
    except AccountError:
        with page(request, None):
            error = _("The user name or password is wrong, or the account is disabled.")
            return render(request, None, "login.html", status=401, next=target, error=error, username=username)
    return response


@router.post("/logout")
def logout(request: Request, who: Principal = Depends(require("screener"))) -> Response:
    response = RedirectResponse("/login", status_code=303)
    log_out(request, response)
    return response


@router.post("/language")
async def switch_language(request: Request) -> Response:
    """Remember the language: on the account when signed in (CSRF-checked), else in a cookie."""
    form = await request.form()
    lang, back = str(form.get("lang", "")), _safe_next(str(form.get("next", "")))
    if lang not in LANGUAGES:
        with page(request, None):
            raise HTTPException(422, _("The language is ja (日本語) or en (English)."))
    who = await run_in_threadpool(optional_principal, request)
    if who is not None:
        who = await require("screener")(request)
        await run_in_threadpool(request.app.state.accounts.set_language, who.user, lang)
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", httponly=True, secure=request.app.state.settings.secure_cookies)
    return response


# --------------------------------------------------------------------------- New screening


@router.get("/screenings/new")
def new_screening(request: Request) -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        return render(request, who, "new.html", countries=_countries(request), results=None)


def country_name(code: str) -> str:
    """A country's name in the page's language: the one its pack declares, else CLDR's (:mod:`dossier_rules.labels`)."""
    return labels.label(code, "ja" if language() == "ja" else "en", "country")


def _countries(request: Request) -> list[tuple[str, str]]:
    """The countries that can be screened (one per concrete pack present), by name."""
    known = {p.country for p in request.app.state.engine.packset.packs.values() if p.country}
    return [(c, words.code_words(c, "country")) for c in sorted(known)]


@router.post("/screenings/upload")
async def upload(request: Request, who: Principal = Depends(require("screener"))) -> Response:
    """Screen each uploaded file; one file opens its result, several list theirs."""
    form = await request.form()
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename][:MAX_UPLOADS]
    blobs = [(f.filename or "?", await f.read()) for f in files]
    return await _in_thread(request, who, lambda: _screen_uploads(request, who, blobs))


def _screen_uploads(request: Request, who: Principal, blobs: list[tuple[str, bytes]]) -> Response:
    """Screen each file (in the thread pool); one file opens its result, several list theirs."""
    service, asker = _screenings(request), _viewer(request, who)
    results = [(name, service.screen(raw, None, asker)) for name, raw in blobs]
    if len(results) == 1 and "errors" not in results[0][1]:
        return RedirectResponse("/screenings/" + results[0][1]["source"].removeprefix("api:"), status_code=303)
    if not results:
        results = [("-", {"errors": [{"message": _("Choose one or more dossier files (JSON) to upload.")}]})]
    status = 200 if all("errors" not in r for _n, r in results) else 422
    return render(request, who, "new.html", status=status, countries=_countries(request), results=results)


@router.get("/screenings/form")
def form_page(request: Request, kind: str = "candidate", country: str = "") -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        if kind not in KINDS or country not in dict(_countries(request)):
            return RedirectResponse("/screenings/new", status_code=303)
        return _render_form(request, who, kind, country, {}, {}, [])


def _declared(request: Request, kind: str, country: str) -> dict[str, Any]:
    """The country fields the pack for ``country`` declares for ``kind`` of dossier."""
    packset = request.app.state.engine.packset
    for pack in packset.packs.values():
        if pack.country == country:
            return dict(packset.sources[pack.id].spec.pack.dossier_fields.get(kind, {}))
    return {}


SECTION_WIDGETS = ("group", "rows", "multi")
"""Controls that are a section of the form of their own; the single fields before them form the first section."""


def _render_form(
    request: Request,
    who: Principal,
    kind: str,
    country: str,
    draft: dict[str, Any],
    errors: dict[str, str],
    general: list[str],
    status: int = 200,
    editing: dict[str, Any] | None = None,
) -> HTMLResponse:
    model = KINDS[kind]
    context = forms.Context(country, forms.parties(draft))
    controls = forms.controls(model, draft, {}, declared=_declared(request, kind, country), context=context)
    problems = forms.place_errors(controls, errors) + [("", "", message) for message in general]
    return render(
        request,
        who,
        "form.html",
        status=status,
        kind=kind,
        country=country,
        country_name=words.code_words(country, "country"),
        basics=[c for c in controls if c.widget not in SECTION_WIDGETS],
        controls=[c for c in controls if c.widget in SECTION_WIDGETS],
        problems=problems,
        editing=editing,
        sections=[("sec-basics", translate(words.SECTIONS[0][0]))] + [(c.dom_id, c.label) for c in controls if c.widget in SECTION_WIDGETS],
    )


@router.post("/screenings/form")
async def submit_form(request: Request, who: Principal = Depends(require("screener"))) -> Response:
    """Add or remove a row (the draft comes back as typed), or screen the dossier the form describes."""
    submitted = await request.form()
    form = {k: ",".join(v for v in submitted.getlist(k) if isinstance(v, str) and v) for k in submitted}
    kind, country = form.get("_kind", ""), form.get("_country", "")
    if kind not in KINDS:
        with page(request, who):
            raise HTTPException(422, _("The kind of dossier is candidate or broker."))
    return await _in_thread(request, who, lambda: _screen_form(request, who, kind, country, form))


def _screen_form(request: Request, who: Principal, kind: str, country: str, form: dict[str, str]) -> Response:
    """The form's draft with a row added or removed, or its dossier screened (in the thread pool)."""
    declared = _declared(request, kind, country)
    if form.get("add") or form.get("remove"):
        draft = forms.dossier_from_form(KINDS[kind], form, declared, keep_rows=True)
        draft = forms.with_row(draft, form.get("add") or form.get("remove") or "", add=bool(form.get("add")))
        return _render_form(request, who, kind, country, draft, {}, [])
    draft = forms.dossier_from_form(KINDS[kind], form, declared)
    dossier = {"kind": kind, "country": country, **draft}
    edited = form.get("_edit_of", "")
    try:
        record = (
            _screenings(request).screen_correction(edited, dossier, _viewer(request, who))
            if edited
            else _screenings(request).screen(orjson.dumps(dossier), None, _viewer(request, who))
        )
    except DossierError as exc:
        raise refused(exc) from None
    if "errors" not in record:
        after = "?" + urlencode({"changed_from": edited}) if edited else ""
        return RedirectResponse("/screenings/" + record["source"].removeprefix("api:") + after, status_code=303)
    errors: dict[str, str] = {}
    general: list[str] = []
    for err in record["errors"]:
        at = err.get("pointer")
        if at and at not in ("/kind", "/country"):
            errors.setdefault(at, _("Required: enter a value.") if not view.present(draft, at) else err["message"])
        else:
            general.append(err["message"])
    editing = {"screening_id": edited, "redacted": not _viewer(request, who).sees_names} if edited else None
    return _render_form(request, who, kind, country, draft, errors, general, status=422, editing=editing)


@router.get("/screenings/{sid}/edit")
def edit_page(sid: str, request: Request) -> Response:
    """A stored screening's dossier in the form, to correct and screen again (the stored screening stays in the log)."""
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        stored = _stored(request, who, sid)
        dossier = stored.get("dossier")
        if not dossier:
            raise HTTPException(409, _("Only the dossier's SHA-256 was kept."))
        draft = {k: v for k, v in dossier.items() if k not in forms.FIXED}
        editing = {"screening_id": sid, "redacted": bool(stored.get("redacted"))}
        return _render_form(request, who, dossier["kind"], dossier["country"], draft, {}, [], editing=editing)


# --------------------------------------------------------------------------- Result


def _stored(request: Request, who: Principal, sid: str) -> dict[str, Any]:
    """The screening as this role may see it (its report's checks were made on the whole dossier, before any redaction)."""
    try:
        return _screenings(request).stored(sid, _viewer(request, who))
    except DossierError as exc:
        raise refused(exc) from None


def _result_context(request: Request, stored: dict[str, Any]) -> dict[str, Any]:
    engine = request.app.state.engine
    report = stored["report"]
    kind = report["kind"]
    pack = engine.packset.packs.get(report["pack"])
    titles = {article: entry.title.model_dump() for article, entry in pack.inventory()} if pack is not None else {}
    explanations = {}
    for finding in report.get("findings", []):
        rule = engine.packset.rule(finding["rule_id"])
        if rule is not None and finding["rule_id"] not in explanations:
            explanations[finding["rule_id"]] = service_catalog.explain(engine.packset, rule, _workspace(request).packs_dir)
    dossier = stored.get("dossier") or {}
    return {
        "stored": stored,
        "report": report,
        "verdict": view.verdict(report),
        "groups": view.grouped(report.get("findings", [])),
        "explanations": explanations,
        "article_title": lambda article: view.localized(titles.get(article)),
        "checks": view.checks(engine, report, stored.get("dossier"), bool(stored.get("redacted"))),
        "sections": words.sections(kind, dossier),
        "evidence": lambda finding: words.evidence_words(kind, finding.get("evidence") or {}),
        "screened_by": _display_name(request, stored.get("screened_by")),
        "screened_at": words.time_words(stored.get("screened_at"), request.app.state.settings.office_timezone),
    }


def _changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What a correction changed: the dossier's fields, and the outcome and findings as ``diff`` compares them."""
    before, after = old["report"], new["report"]
    found = change(before, after)
    titles = {f["rule_id"]: view.localized(f["title"]) for f in (*before["findings"], *after["findings"])}
    return {
        "old_id": old["screening_id"],
        "fields": words.changed_fields(after["kind"], old.get("dossier") or {}, new.get("dossier") or {}),
        "old_outcome": before["outcome"],
        "new_outcome": after["outcome"],
        "added": [titles[r] for r in found.added] if found else [],
        "removed": [titles[r] for r in found.removed] if found else [],
    }


def _display_name(request: Request, username: str | None) -> str:
    """The screener as staff know them (their display name); the user name when the account is gone."""
    if not username:
        return ""
    try:
        return str(request.app.state.accounts.user(username).display_name or username)
    except AccountError:
        return username


@router.get("/screenings/{sid}")
def result(sid: str, request: Request, download: bool = False, changed_from: str = "") -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        stored = _stored(request, who, sid)
        context = _result_context(request, stored)
        if changed_from:
            context["changes"] = _changes(_stored(request, who, changed_from), stored)
        response = render(request, who, "result.html", standalone=download, inline_css=(STATIC / "style.css").read_text() if download else "", **context)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{sid}.html"'
    return response


@router.post("/screenings/{sid}/rescreen")
def rescreen(sid: str, request: Request, who: Principal = Depends(require("screener"))) -> Response:
    with page(request, who):
        try:
            outcome = _screenings(request).rescreen(sid, None, _viewer(request, who))
        except DossierError as exc:
            raise refused(exc) from None
    new_id = outcome.get("screening_id")
    return RedirectResponse(f"/screenings/{new_id}?" + urlencode({"changed_from": sid}) if new_id else f"/screenings/{sid}", status_code=303)


# --------------------------------------------------------------------------- History


HISTORY_PAGE = 50
"""Screenings one History page lists."""
HISTORY_READS = 10
"""Pages of the service's listing one History page reads at most to fill itself when it narrows by dossier id or name."""


@router.get("/history")
def history(
    request: Request,
    country: str = "",
    outcome: str = "",
    kind: str = "",
    screened_from: str = "",
    screened_to: str = "",
    user: str = "",
    dossier_id: str = "",
    after: str = "",
) -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        chosen = Filter.of(countries=[country] if country else [], outcomes=[outcome] if outcome else [], kinds=[kind] if kind else [])
        wanted = _history_match(dossier_id)
        items: list[dict[str, Any]] = []
        cursor: str | None = after or None
        for _read in range(HISTORY_READS):
            found, cursor = _screenings(request).summaries(chosen, user or None, _date(screened_from), _date(screened_to), cursor, HISTORY_PAGE)
            items.extend(row for row in map(_summary, found) if wanted(row))
            if cursor is None or len(items) >= HISTORY_PAGE:
                break
        if len(items) > HISTORY_PAGE:
            items, cursor = items[:HISTORY_PAGE], items[HISTORY_PAGE - 1]["screening_id"]
        filters = {
            "country": country,
            "outcome": outcome,
            "kind": kind,
            "screened_from": screened_from,
            "screened_to": screened_to,
            "user": user,
            "dossier_id": dossier_id,
        }
        next_url = "/history?" + urlencode({**{k: v for k, v in filters.items() if v}, "after": cursor}) if cursor else None
        zone = request.app.state.settings.office_timezone
        rows = [{**item, "by": _display_name(request, item.get("screened_by")), "at": words.time_words(item.get("screened_at"), zone)} for item in items]
        return render(
            request,
            who,
            "history.html",
            items=rows,
            filters=filters,
            countries=_countries(request),
            next_url=next_url,
            verdicts=view.VERDICTS,
        )


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    """One listed screening as the History page shows it (an indexed summary: no personal data, no stored report read)."""
    fields = ("screening_id", "screened_by", "screened_at", "dossier_id", "kind", "country", "outcome")
    return {key: item.get(key) for key in fields}


def _history_match(dossier_id: str) -> Callable[[dict[str, Any]], bool]:
    """Whether a listed screening is the dossier asked for (its id starts with what was typed)."""
    wanted_id = dossier_id.strip().casefold()

    def match(row: dict[str, Any]) -> bool:
        return not wanted_id or str(row.get("dossier_id") or "").casefold().startswith(wanted_id)

    return match


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- Notices (reviewers)


@router.get("/notices")
def notices(request: Request, state: str = "", preview: str = "", country: str = "") -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    who = _reviewer(who)
    with page(request, who):
        return _notices_page(request, who, state, preview=preview, country=country)


def _notices_page(
    request: Request, who: Principal, state: str, error: str | None = None, status: int = 200, preview: str = "", country: str = ""
) -> HTMLResponse:
    """The notices, grouped by partner and act, each naming its intermediary, with its life (state, days waited,
    overdue: overdue first), filtered by partner and state; ``preview`` opens one notice's partner-facing document in
    the page (as text: no frame, which the service's headers forbid), beside its approve and export buttons, and is
    logged as a preview; ``error`` says why the last form was refused."""
    chosen = sharing.NoticeFilter(countries=frozenset([country]) if country else frozenset())
    with _notices(request) as service:
        listed = [{**row, "intermediary": _intermediary_words(service, row["id"])} for row in service.listing(chosen)]
        rows = [r for r in notice_life.with_life(service, listed, datetime.now(UTC).date()) if not state or r["state"] == state]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["country"], row["act"]), []).append(row)
    shown = next((row for row in rows if row["id"] == preview), None)
    if shown is not None:
        with _notices(request) as service:
            shown = {**shown, "html": MARKDOWN.render(service.preview(shown["id"], "md", _reviewer_of(who)))}
    ordered = sorted(groups.items(), key=lambda g: (not any(r["overdue"] for r in g[1]), g[0]))
    filters = {"state": state, "country": country, "countries": _countries(request)}
    return render(request, who, "notices.html", status=status, groups=ordered, state=state, error=error, preview=shown, filters=filters)


def _intermediary_words(service: NoticeService, nid: str) -> str:
    """The intermediary a notice concerns, by name and id; a test-fraud notice concerns none."""
    party = service.notice(nid).intermediary or {}
    name, pid = party.get("name"), party.get("id")
    return " ".join(str(v) for v in (name, f"({pid})" if pid and name else pid) if v)


def _reviewer(who: Principal) -> Principal:
    """Notices are for reviewers: a screener is refused by the server, not only shown fewer buttons."""
    if not who.user.can("reviewer"):
        with use_language(who.user.lang if who.user.lang in LANGUAGES else "ja"):
            raise HTTPException(403, _("Notices are for reviewers."))
    return who


@router.get("/notices/{nid}/preview")
def notice_preview(nid: str, request: Request) -> Response:
    """The partner-facing notice as the partner would read it: a draft is marked as one; the preview is logged (nothing is exported)."""
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    who = _reviewer(who)
    with page(request, who), _notices(request) as service:
        try:
            text = service.preview(nid, "html", _reviewer_of(who))
        except DossierError as exc:
            raise refused(exc) from None
    return Response(text, media_type=NOTICE_FORMATS["html"].media_type, headers={"Cache-Control": "no-store"})


@router.post("/notices/build")
async def build_notices(request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    """Draft notices from the screenings ticked (or the one the result page names); none ticked is said on the page."""
    form = await request.form()
    ids = [str(v) for v in form.getlist("screening_id")][:MAX_BUILD]
    return await _in_thread(request, who, lambda: _build_notices(request, who, ids))


def _build_notices(request: Request, who: Principal, ids: list[str]) -> Response:
    state = request.app.state
    with _notices(request) as service:
        try:
            service.build_from_screenings(state.engine.packset, state.screenings, ids)
        except DossierError as exc:
            return _notices_page(request, who, "", error=exc.message(), status=STATUS_BY_CODE.get(exc.code, 409))
    return RedirectResponse("/notices", status_code=303)


@router.post("/notices/approve")
async def approve_notices(request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    form = await request.form()
    ids = _ids(form)
    if not ids:
        return RedirectResponse("/notices", status_code=303)
    return await _in_thread(request, who, lambda: _approve_notices(request, who, ids))


def _ids(form: FormData) -> list[str]:
    return [str(v) for v in form.getlist("id")][:MAX_APPROVALS]


def _approve_notices(request: Request, who: Principal, ids: list[str]) -> Response:
    with _notices(request) as service:
        outcome = service.approve_many(ids, _reviewer_of(who))
    query = urlencode({"approved": len(outcome.approved), "refused": len(outcome.refused)})
    return RedirectResponse(f"/notices?{query}", status_code=303)


@router.post("/notices/{nid}/export")
def export_notice(nid: str, request: Request, format: str = "html", who: Principal = Depends(require("reviewer"))) -> Response:
    fmt = notice_format(format)
    if fmt is None:
        with page(request, who):
            raise HTTPException(422, unknown_notice_format())
    with page(request, who), _notices(request) as service:
        try:
            notice = service.export(nid, request.app.state.engine.packset, datetime.now(UTC).date(), fmt, _reviewer_of(who))
        except DossierError as exc:
            raise refused(exc) from None
    headers = {"Content-Disposition": f'attachment; filename="{nid}.{fmt}"', "Cache-Control": "no-store"}
    return Response(sharing.render(notice, fmt), media_type=NOTICE_FORMATS[fmt].media_type, headers=headers)


# --------------------------------------------------------------------------- Packs and registries


@router.get("/packs")
def packs_page(request: Request) -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        packset = request.app.state.engine.packset
        return render(
            request, who, "packs.html", packs=service_catalog.packs(packset, _workspace(request).packs_dir), coverage=service_catalog.coverage(packset)
        )


@router.get("/registries")
def registries_page(request: Request) -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        rows = service_catalog.registries(request.app.state.engine, date.today(), _workspace(request).registries_dir)
        return render(request, who, "registries.html", registries=rows)
