"""Admin-only API routes: users, and importing a registry (which the engine then screens with)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..engine import Engine
from ..registries import load_registries
from ..services import accounts as account_service
from ..services import registries as registry_service
from ..sources import InputError
from .account_routes import UserOut
from .accounts import LastAdmin
from .auth import Principal, accounts_of, require
from .catalog_routes import workspace_of
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
    return [UserRow(**UserOut.of(u).model_dump(), disabled=u.disabled, created_at=u.created_at) for u in account_service.users(accounts_of(request))]


@router.post("/users", response_model=UserOut, status_code=201, responses=ADMIN)
def add_user(body: NewUser, request: Request, who: Principal = Depends(require("admin"))) -> UserOut:
    try:
        user = account_service.add_user(accounts_of(request), body.username, body.password, body.role, body.display_name, body.lang)
    except account_service.AccountError as exc:
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
        return UserOut.of(account_service.set_disabled(accounts_of(request), username, disabled))
    except LastAdmin as exc:
        raise HTTPException(409, str(exc)) from None
    except account_service.AccountError as exc:
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
    """Import a registry from CSV, as `registry import` does (every row valid, or nothing is written); screening uses it at once.

    The registries installed with the package are fictional samples and are never overwritten (409).
    """
    require_content_type(request, ("text/csv",))
    data = await request.body()
    workspace = workspace_of(request)
    packset = request.app.state.engine.packset  # the packs present decide who keeps which list
    try:
        imported = await run_in_threadpool(
            registry_service.import_registry,
            packset,
            workspace.registries_dir,
            country,
            kind,
            source,
            retrieved_on,
            data,
            "body",
            history=(request.app.state.db, who.user.username),
        )
    except InputError as exc:
        return problem_response(422, exc.problems, "body")
    await run_in_threadpool(_reload_registries, request, workspace.registries_dir)
    return {"country": country, "kind": kind, "entries": imported.count}


def _reload_registries(request: Request, directory: Any) -> None:
    """Screen with the new registries from now on: one new engine, swapped in whole."""
    state = request.app.state
    old: Engine = state.engine
    engine = Engine(old.packset, load_registries(directory), max_registry_age=old.max_registry_age)
    state.engine = engine
    state.screenings.engine = engine
