"""The pages: sign in, New screening, Result, History, Notices, Packs and registries.

Every page calls the service's own objects (``app.state.screenings``, the
notice routes, the catalog) so a page shows exactly what the API returns;
nothing here screens, stores or approves by itself. Pages render in the
user's language (日本語 by default); a signed-out visitor's choice is kept in
a cookie until they sign in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import UploadFile

from .. import labels
from ..locale import LANGUAGES, N_, _, language, translate, use_language
from ..model import KINDS
from ..results import Filter
from ..server import AccountError, LoginLimited, Principal, log_in, log_out, notice_routes, optional_principal, require
from ..server import catalog as service_catalog
from ..server.screening_routes import _may_see_names
from ..server.screenings import NotFound, redact
from . import forms, view

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"style.css": "text/css; charset=utf-8"}
LANG_COOKIE = "dossier_rules_lang"
MAX_UPLOADS = 20
"""Files one upload may carry; more go through ``dossier-rules batch`` or the batch API."""
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
        log_in(request, response, username, password)
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
        raise HTTPException(422, "language must be ja or en")
    who = optional_principal(request)
    if who is not None:
        who = await require("screener")(request)
        request.app.state.accounts.set_language(who.user, lang)
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
    with page(request, who):
        screenings = request.app.state.screenings
        results = []
        for name, raw in blobs:
            record = screenings.screen(raw, None, who.user.username)
            results.append((name, record))
        if len(results) == 1 and "errors" not in results[0][1]:
            return RedirectResponse("/screenings/" + results[0][1]["source"].removeprefix("api:"), status_code=303)
        if not results:
            results = [("-", {"errors": [{"message": _("Choose one or more dossier files (JSON) to upload.")}]})]
        return render(
            request, who, "new.html", status=200 if all("errors" not in r for _n, r in results) else 422, countries=_countries(request), results=results
        )


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
        raise HTTPException(422, "unknown kind")
    model = KINDS[kind]
    draft = forms.dossier_from_form(model, form, _declared(request, kind, country))
    with page(request, who):
        if form.get("add") or form.get("remove"):
            draft = forms.with_row(draft, form.get("add") or form.get("remove") or "", add=bool(form.get("add")))
            return _render_form(request, who, kind, country, draft, {}, [])
        dossier = {"kind": kind, "country": country, **draft}
        record = request.app.state.screenings.screen(orjson.dumps(dossier), None, who.user.username)
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


def _stored(request: Request, who: Principal, sid: str) -> dict[str, Any]:
    try:
        stored = request.app.state.screenings.stored(sid)
    except NotFound:
        raise HTTPException(404, f"no screening {sid}") from None
    return stored if _may_see_names(request, who) else redact(stored)


def _result_context(request: Request, stored: dict[str, Any]) -> dict[str, Any]:
    engine = request.app.state.engine
    report = stored["report"]
    rows = list(view.flatten(stored.get("dossier") or {}))
    present = {pointer for pointer, _value in rows}
    explanations = {}
    for finding in report.get("findings", []):
        rule = engine.packset.rule(finding["rule_id"])
        if rule is not None and finding["rule_id"] not in explanations:
            explanations[finding["rule_id"]] = service_catalog.explain(engine.packset, rule, None)
    return {
        "stored": stored,
        "report": report,
        "verdict": view.verdict(report),
        "groups": view.grouped(report.get("findings", [])),
        "explanations": explanations,
        "unknowns": view.unknowns(engine, report, stored.get("dossier")),
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
        context = _result_context(request, _stored(request, who, sid))
        response = render(request, who, "result.html", standalone=download, inline_css=(STATIC / "style.css").read_text() if download else "", **context)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{sid}.html"'
    return response


@router.post("/screenings/{sid}/rescreen")
def rescreen(sid: str, request: Request, who: Principal = Depends(require("screener"))) -> Response:
    with page(request, who):
        try:
            outcome = request.app.state.screenings.rescreen(sid, None, who.user.username)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
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
        items, cursor = request.app.state.screenings.listing(chosen, user or None, _date(screened_from), _date(screened_to), after or None, 50)
        if not _may_see_names(request, who):
            items = [redact(item) for item in items]
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
        rows = notice_routes.list_notices(request, state=state or None, country=None, act=None, who=who)  # type: ignore[arg-type]
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault((row["country"], row["act"]), []).append(row)
        return render(request, who, "notices.html", groups=sorted(groups.items()), state=state, country_names={c: country_name(c) for c, _act in groups})


def _reviewer(who: Principal) -> Principal:
    """Notices are for reviewers: a screener is refused by the server, not only shown fewer buttons."""
    if not who.user.can("reviewer"):
        raise HTTPException(403, "this needs the reviewer role")
    return who


@router.get("/notices/{nid}/preview")
def notice_preview(nid: str, request: Request) -> Response:
    """The partner-facing notice as the partner would read it (nothing is exported)."""
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    return notice_routes.show(nid, request, format="html", who=_reviewer(who))


@router.post("/notices/build")
async def build_notices(request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    form = await request.form()
    ids = [str(v) for v in form.getlist("screening_id")][:500]
    notice_routes.build(notice_routes.BuildRequest(screening_ids=ids), request, who)
    return RedirectResponse("/notices", status_code=303)


@router.post("/notices/approve")
async def approve_notices(request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    form = await request.form()
    ids = [str(v) for v in form.getlist("id")][: notice_routes.MAX_IDS]
    with page(request, who):
        if not ids:
            return RedirectResponse("/notices", status_code=303)
        outcome = notice_routes.approve_many(notice_routes.ApproveMany(ids=ids), request, who)
    query = urlencode({"approved": len(outcome["approved"]), "refused": len(outcome["refused"])})
    return RedirectResponse(f"/notices?{query}", status_code=303)


@router.post("/notices/{nid}/export")
def export_notice(nid: str, request: Request, format: str = "html", who: Principal = Depends(require("reviewer"))) -> Response:
    if format not in notice_routes.MEDIA:
        raise HTTPException(422, "format must be json, html or md")
    response = notice_routes.export(nid, request, format=format, who=who)  # type: ignore[arg-type]
    response.headers["Content-Disposition"] = f'attachment; filename="{nid}.{format}"'
    return response


# --------------------------------------------------------------------------- Packs and registries


@router.get("/packs")
def packs_page(request: Request) -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        engine = request.app.state.engine
        return render(request, who, "packs.html", packs=service_catalog.packs(engine, None), coverage=service_catalog.coverage(engine.packset))


@router.get("/registries")
def registries_page(request: Request) -> Response:
    who = optional_principal(request)
    if who is None:
        return to_login(request)
    with page(request, who):
        return render(request, who, "registries.html", registries=service_catalog.registries(request.app.state.engine, date.today()))
