"""Admin-only API routes: users, and importing a registry (which the engine then screens with)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ..engine import Engine
from ..registries import REGISTRY_KINDS, Registry, load_registries, parse_csv, registry_file, write_registry
from ..sources import InputError, Problem
from ..storage import registries as registry_history
from .account_routes import UserOut
from .accounts import AccountError, LastAdmin, now_iso
from .auth import Principal, accounts_of, require, settings_of
from .errors import problem_response
from .screening_routes import require_content_type

router = APIRouter(prefix="/api/v1", tags=["administration"])
ADMIN: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}
CSV_BODY = {
    "required": True,
    "content": {"text/csv": {"schema": {"type": "string", "description": "Columns: id, name, listed_from, ended_on, ended_because, note"}}},
}


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    role: Literal["screener", "reviewer", "admin"]
    password: str = Field(min_length=12, max_length=1024)
    display_name: str | None = Field(default=None, max_length=200)
    lang: Literal["ja", "en"] = "ja"


class UserRow(UserOut):
    disabled: bool
    created_at: str


@router.get("/users", response_model=list[UserRow], responses=ADMIN)
def list_users(request: Request, who: Principal = Depends(require("admin"))) -> list[UserRow]:
    return [UserRow(**UserOut.of(u).model_dump(), disabled=u.disabled, created_at=u.created_at) for u in accounts_of(request).users()]


@router.post("/users", response_model=UserOut, status_code=201, responses=ADMIN)
def add_user(body: NewUser, request: Request, who: Principal = Depends(require("admin"))) -> UserOut:
    try:
        user = accounts_of(request).add_user(body.username, body.password, body.role, body.display_name, body.lang)
    except AccountError as exc:
        raise HTTPException(409, str(exc)) from None
    return UserOut.of(user)


@router.post("/users/{username}/disable", response_model=UserOut, responses=ADMIN)
def disable_user(username: str, request: Request, who: Principal = Depends(require("admin"))) -> UserOut:
    """Disable a user: their sessions end, their tokens stop working."""
    return _set_disabled(request, username, True)


@router.post("/users/{username}/enable", response_model=UserOut, responses=ADMIN)
def enable_user(username: str, request: Request, who: Principal = Depends(require("admin"))) -> UserOut:
    return _set_disabled(request, username, False)


def _set_disabled(request: Request, username: str, disabled: bool) -> UserOut:
    try:
        return UserOut.of(accounts_of(request).set_disabled(username, disabled))
    except LastAdmin as exc:
        raise HTTPException(409, str(exc)) from None
    except AccountError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/registries/import", openapi_extra={"requestBody": CSV_BODY}, responses={**ADMIN, 413: {}, 415: {}})
async def import_registry(
    request: Request,
    country: str = Query(pattern=r"^[A-Z]{2}$"),
    kind: str = Query(max_length=40),
    source: str = Query(min_length=1, max_length=500, description="Where the list came from"),
    retrieved_on: date | None = Query(default=None, description="Default: today"),
    who: Principal = Depends(require("admin")),
) -> Any:
    """Import a registry from CSV, as `registry import` does (every row valid, or nothing is written); screening uses it at once."""
    require_content_type(request, ("text/csv",))
    path = request.url.path
    keepers = request.app.state.engine.packset.registry_keepers()  # the packs present decide who keeps which list
    if kind not in REGISTRY_KINDS or country not in keepers.get(kind, ()):
        return problem_response(
            422,
            [Problem(path, f"unknown registry: kinds {', '.join(sorted(REGISTRY_KINDS))}, each kept by the countries whose pack consults it", kind="invalid")],
            path,
        )
    try:
        text = (await request.body()).decode("utf-8-sig")
        result = parse_csv(text, "body")
    except UnicodeDecodeError:
        return problem_response(422, [Problem("body", "not UTF-8 text", kind="unreadable")], "body")
    except InputError as exc:
        return problem_response(422, exc.problems, "body")
    if result.rejected:
        problems = [Problem("body", reason, kind="invalid", line=line) for line, _, reason in result.rejected[:100]]
        return problem_response(422, problems, "body")
    settings = settings_of(request)
    directory = settings.registries_dir or settings.packs_dir / "registries"  # type: ignore[operator]
    registry = Registry(kind=kind, country=country, source=source, retrieved_on=retrieved_on or date.today(), entries=result.entries)
    written = registry_file(directory, country, kind)
    write_registry(registry, written)
    with request.app.state.db.write() as conn:
        registry_history.record_import(
            conn,
            country=country,
            kind=kind,
            source=source,
            retrieved_on=registry.retrieved_on.isoformat(),
            entries=len(result.entries),
            sha256=hashlib.sha256(written.read_bytes()).hexdigest(),
            imported_by=who.user.username,
            imported_at=now_iso(),
        )
    _reload_registries(request, directory)
    return {"country": country, "kind": kind, "entries": len(result.entries)}


def _reload_registries(request: Request, directory: Any) -> None:
    """Screen with the new registries from now on: one new engine, swapped in whole."""
    state = request.app.state
    old: Engine = state.engine
    engine = Engine(old.packset, load_registries(directory), max_registry_age=old.max_registry_age)
    state.engine = engine
    state.screenings.engine = engine
