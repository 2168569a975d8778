"""Admin-only API routes: users, and importing a registry (which the engine then screens with)."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..problems import InputError
from ..services import accounts as account_service
from ..services import registries as registry_service
from ..services.accounts import LastAdmin
from ..services.screening import use_registries
from .account_routes import UserOut
from .auth import Principal, accounts_of, require
from .catalog_routes import workspace_of
from .contract import Day, RegistryImported, Text, created, refusals
from .errors import problem_response
from .screening_routes import require_content_type

router = APIRouter(prefix="/api/v1", tags=["administration"])
CSV_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string", "description": "UTF-8 CSV with a header row; columns: id, name, listed_from, ended_on, ended_because, note"}}
    },
}


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Text = Field(min_length=1, max_length=64)
    role: Literal["screener", "reviewer", "admin"]
    password: Text = Field(min_length=12, max_length=1024)
    display_name: Text | None = Field(default=None, max_length=200)
    lang: Literal["ja", "en"] = "ja"


class UserRow(UserOut):
    disabled: bool
    created_at: str

    @classmethod
    def of(cls, user: account_service.User) -> UserRow:
        return cls(**UserOut.of(user).model_dump(), disabled=user.disabled, created_at=user.created_at)


@router.get("/users", response_model=list[UserRow], responses=refusals(401, 403))
def list_users(request: Request, who: Principal = Depends(require("admin"))) -> list[UserRow]:
    """Every account, disabled ones included."""
    return [UserRow.of(u) for u in account_service.users(accounts_of(request))]


@router.get("/users/{username}", response_model=UserRow, responses=refusals(401, 403, 404))
def show_user(username: str, request: Request, who: Principal = Depends(require("admin"))) -> UserRow:
    """One account."""
    try:
        return UserRow.of(accounts_of(request).user(username))
    except account_service.AccountError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    responses={**created("The account", "The account: /api/v1/users/{username}"), **refusals(400, 401, 403, 409, 413, 415, 422)},
)
def add_user(body: NewUser, request: Request, response: Response, who: Principal = Depends(require("admin"))) -> UserOut:
    """Add an account with a role; its password is hashed (argon2) and never shown again."""
    try:
        user = account_service.add_user(accounts_of(request), body.username, body.password, body.role, body.display_name, body.lang)
    except account_service.AccountError as exc:
        raise HTTPException(409, str(exc)) from None
    response.headers["Location"] = f"{router.prefix}/users/{quote(user.username, safe='')}"
    return UserOut.of(user)


@router.post("/users/{username}/disable", response_model=UserOut, responses=refusals(401, 403, 404))
def disable_user(username: str, request: Request, who: Principal = Depends(require("admin"))) -> UserOut:
    """Disable a user: their sessions end, their tokens stop working."""
    return _set_disabled(request, username, True)


@router.post("/users/{username}/enable", response_model=UserOut, responses=refusals(401, 403, 404))
def enable_user(username: str, request: Request, who: Principal = Depends(require("admin"))) -> UserOut:
    """Enable a disabled user again (they sign in anew; revoked tokens stay revoked)."""
    return _set_disabled(request, username, False)


def _set_disabled(request: Request, username: str, disabled: bool) -> UserOut:
    try:
        return UserOut.of(account_service.set_disabled(accounts_of(request), username, disabled))
    except LastAdmin as exc:
        raise HTTPException(409, str(exc)) from None
    except account_service.AccountError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/registries/import", response_model=RegistryImported, openapi_extra={"requestBody": CSV_BODY}, responses=refusals(401, 403, 409, 413, 415, 422))
async def import_registry(
    request: Request,
    country: str = Query(pattern=r"^[A-Z]{2}$"),
    kind: str = Query(max_length=40),
    source: str = Query(min_length=1, max_length=500, description="Where the list came from"),
    retrieved_on: Day | None = Query(default=None, description="Default: today"),
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
    await run_in_threadpool(use_registries, request.app.state, workspace.registries_dir)
    return {"country": country, "kind": kind, "entries": imported.count}
