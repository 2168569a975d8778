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
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from .. import labels, sharing
from ..errors import DossierError
from ..locale import LANGUAGES, N_, _, language, translate, use_language
from ..model import KINDS
from ..results import Filter
from ..server import AccountError, LoginLimited, Principal, log_in, log_out, optional_principal, require
from ..services import catalog as service_catalog
from ..services.notices import FORMATS, MAX_BUILD, NoticeService, Reviewer
from ..services.screening import ScreeningService, Viewer, viewer
from ..services.workspace import Workspace
from . import forms, view

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"style.css": "text/css; charset=utf-8", "print.js": "text/javascript; charset=utf-8"}
LANG_COOKIE = "dossier_rules_lang"
MAX_UPLOADS = 20
"""Files one upload may carry; more go through ``dossier-rules batch`` or the batch API."""
MAX_APPROVALS = 100
"""Notices one approval form may carry (the API's limit)."""
NOTICE_MEDIA = {"json": "application/json", "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}
STATUS_BY_CODE = {"screening.not_found": 404, "notice.not_found": 404, "notice.none_chosen": 422}
"""The status of a page refused with a typed error; any other code answers 409."""
TERMS = {
    # roles
    "screener": N_("screener"),
    "reviewer": N_("reviewer"),
    "admin": N_("admin"),
    # outcomes of a screening
    "blocked": N_("blocked"),
    "review": N_("needs review"),
    "clear": N_("no findings"),
    "not_in_force": N_("MOC not in force"),
    "unreadable": N_("unreadable"),
    # states of a notice
    "draft": N_("draft"),
    "approved": N_("approved"),
    "exported": N_("exported"),
    # the lists rules consult
    "accredited-agencies": N_("accredited sending agencies"),
    "improvement-orders": N_("improvement orders"),
    "support-organisations": N_("registered support organisations"),
    "suspended-sectors": N_("sectors with acceptance suspended"),
    # severities
    "block": N_("block"),
    "warn": N_("warn"),
    "info": N_("info"),
    # kinds of dossier
    "candidate": N_("candidate"),
    "broker": N_("broker"),
}
"""Codes the pages show as words: each through the catalog (the templates use ``term(code)``)."""

ACTS = ("a", "b", "c", "d", "e", "test_fraud", "other")
"""The acts a notice is about: labelled as a complaint's act is (:mod:`dossier_rules.labels`)."""

NAV = [
    ("/screenings/new", N_("New screening"), "screener"),
    ("/history", N_("History"), "screener"),
    ("/notices", N_("Notices"), "reviewer"),
    ("/packs", N_("Packs"), "screener"),
    ("/registries", N_("Registries"), "screener"),
]

templates = Environment(loader=PackageLoader("dossier_rules.web", "templates"), autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"])
templates.globals.update(
    pointer_label=view.pointer_label,
    act_label=lambda act: forms.value_label(act, ACTS),
    _=_,
    term=lambda code: translate(TERMS.get(code, code)),
    translate=translate,
    localized=view.localized,
    field_label=forms.field_label,
    quote=quote,
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
    html = templates.get_template(name).render(request=request, who=who, lang=language(), nav=nav, csrf=csrf, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


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
    return [(c, country_name(c)) for c in sorted(known)]


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


def _render_form(
    request: Request, who: Principal, kind: str, country: str, draft: dict[str, Any], errors: dict[str, str], general: list[str], status: int = 200
) -> HTMLResponse:
    model = KINDS[kind]
    controls = forms.controls(model, draft, errors, declared=_declared(request, kind, country))
    return render(
        request,
        who,
        "form.html",
        status=status,
        kind=kind,
        country=country,
        country_name=country_name(country),
        controls=controls,
        general=general,
        error_count=len(errors) + len(general),
    )


@router.post("/screenings/form")
async def submit_form(request: Request, who: Principal = Depends(require("screener"))) -> Response:
    """Add or remove a row (the draft comes back as typed), or screen the dossier the form describes."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    kind, country = form.get("_kind", ""), form.get("_country", "")
    if kind not in KINDS:
        with page(request, who):
            raise HTTPException(422, _("The kind of dossier is candidate or broker."))
    return await _in_thread(request, who, lambda: _screen_form(request, who, kind, country, form))


def _screen_form(request: Request, who: Principal, kind: str, country: str, form: dict[str, str]) -> Response:
    """The form's draft with a row added or removed, or its dossier screened (in the thread pool)."""
    draft = forms.dossier_from_form(KINDS[kind], form, _declared(request, kind, country))
    if form.get("add") or form.get("remove"):
        draft = forms.with_row(draft, form.get("add") or form.get("remove") or "", add=bool(form.get("add")))
        return _render_form(request, who, kind, country, draft, {}, [])
    dossier = {"kind": kind, "country": country, **draft}
    record = _screenings(request).screen(orjson.dumps(dossier), None, _viewer(request, who))
    if "errors" not in record:
        return RedirectResponse("/screenings/" + record["source"].removeprefix("api:"), status_code=303)
    errors: dict[str, str] = {}
    general: list[str] = []
    for err in record["errors"]:
        at = err.get("pointer")
        if at and at not in ("/kind", "/country"):
            errors.setdefault(at, _("Required: enter a value.") if not view.present(draft, at) else err["message"])
        else:
            general.append(err["message"])
    return _render_form(request, who, kind, country, draft, errors, general, status=422)


# --------------------------------------------------------------------------- Result


def _stored(request: Request, who: Principal, sid: str) -> tuple[dict[str, Any], list[tuple[str, list[str]]]]:
    """The screening as this role may see it, and the fields its dossier left empty.

    The empty fields are found before redaction: a field hidden from this
    role is not one the dossier lacks.
    """
    try:
        engine = request.app.state.engine
        return _screenings(request).stored_with(sid, _viewer(request, who), lambda stored: view.unknowns(engine, stored["report"], stored.get("dossier")))
    except DossierError as exc:
        raise refused(exc) from None


def _result_context(request: Request, stored: dict[str, Any], unknowns: list[tuple[str, list[str]]]) -> dict[str, Any]:
    engine = request.app.state.engine
    report = stored["report"]
    rows = list(view.flatten(stored.get("dossier") or {}))
    present = {pointer for pointer, _value in rows}
    explanations = {}
    for finding in report.get("findings", []):
        rule = engine.packset.rule(finding["rule_id"])
        if rule is not None and finding["rule_id"] not in explanations:
            explanations[finding["rule_id"]] = service_catalog.explain(engine.packset, rule, _workspace(request).packs_dir)
    return {
        "stored": stored,
        "report": report,
        "verdict": view.verdict(report),
        "groups": view.grouped(report.get("findings", [])),
        "explanations": explanations,
        "unknowns": unknowns,
        "dossier_rows": rows,
        "anchor": lambda pointer: view.nearest(pointer, present),
        "severity_headings": view.SEVERITY_HEADINGS,
    }


@router.get("/screenings/{sid}")
def result(sid: str, request: Request, download: bool = False) -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        context = _result_context(request, *_stored(request, who, sid))
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
    return RedirectResponse(f"/screenings/{new_id}" if new_id else f"/screenings/{sid}", status_code=303)


# --------------------------------------------------------------------------- History


@router.get("/history")
def history(
    request: Request, country: str = "", outcome: str = "", kind: str = "", screened_from: str = "", screened_to: str = "", user: str = "", after: str = ""
) -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        chosen = Filter.of(
            countries=[country] if country else [],
            outcomes=[outcome] if outcome else [],
            kinds=[kind] if kind else [],
        )
        items, cursor = _screenings(request).summaries(chosen, user or None, _date(screened_from), _date(screened_to), after or None, 50)
        filters = {"country": country, "outcome": outcome, "kind": kind, "screened_from": screened_from, "screened_to": screened_to, "user": user}
        next_url = "/history?" + urlencode({**{k: v for k, v in filters.items() if v}, "after": cursor}) if cursor else None
        return render(request, who, "history.html", items=items, filters=filters, countries=_countries(request), next_url=next_url, verdicts=view.VERDICTS)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- Notices (reviewers)


@router.get("/notices")
def notices(request: Request, state: str = "") -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    who = _reviewer(who)
    with page(request, who):
        return _notices_page(request, who, state)


def _notices_page(request: Request, who: Principal, state: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    """The notices, grouped by partner and act; ``error`` says why the last form was refused."""
    chosen = sharing.NoticeFilter(states=frozenset([state]) if state in ("draft", "approved", "exported") else frozenset())
    with _notices(request) as service:
        rows = service.listing(chosen)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["country"], row["act"]), []).append(row)
    names = {c: country_name(c) for c, _act in groups}
    return render(request, who, "notices.html", status=status, groups=sorted(groups.items()), state=state, country_names=names, error=error)


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
    return Response(text, media_type=NOTICE_MEDIA["html"], headers={"Cache-Control": "no-store"})


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
    fmt = next((f for f in FORMATS if f == format), None)
    if fmt is None:
        with page(request, who):
            raise HTTPException(422, _("The format is json, html or md."))
    with page(request, who), _notices(request) as service:
        try:
            notice = service.export(nid, request.app.state.engine.packset, datetime.now(UTC).date(), fmt, _reviewer_of(who))
        except DossierError as exc:
            raise refused(exc) from None
    headers = {"Content-Disposition": f'attachment; filename="{nid}.{format}"', "Cache-Control": "no-store"}
    return Response(sharing.render(notice, fmt), media_type=NOTICE_MEDIA[format], headers=headers)


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
