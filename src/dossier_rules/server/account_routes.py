"""API routes for signing in and out, the caller's own account, and personal tokens."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ..services.accounts import AccountError, LoginLimited, NotAllowed, User
from .auth import Principal, accounts_of, client_address, log_in, log_out, signed_in
from .contract import Text, created, refusals

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class _AccountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Credentials(_AccountRequest):
    username: Text = Field(max_length=64)
    password: Text = Field(max_length=1024)


class UserOut(BaseModel):
    username: str
    display_name: str
    role: Literal["screener", "reviewer", "admin"]
    lang: Literal["ja", "en"]

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(username=user.username, display_name=user.display_name, role=user.role, lang=user.lang)


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="Send it as X-CSRF-Token with every state-changing request made with the session cookie")
    expires_at: str


class Preferences(_AccountRequest):
    lang: Literal["ja", "en"]


class TokenRequest(_AccountRequest):
    name: Text = Field(min_length=1, max_length=100, description="What the token is for, e.g. the script that uses it")
    expires_days: int | None = Field(default=None, ge=1, le=366, description="Days until the token stops working; none: until revoked")


class PasswordChange(_AccountRequest):
    current: str = Field(max_length=1024)
    new: str = Field(min_length=12, max_length=1024)


class TokenCreated(BaseModel):
    id: str
    name: str
    token: str = Field(description="The secret: shown this once, never again")


class TokenInfo(BaseModel):
    id: str
    name: str
    created_at: str
    last_used: str | None = None
    revoked_at: str | None = None
    expires_at: str | None = None


SESSION_SET = {"Set-Cookie": {"description": "The session cookie (HttpOnly, Secure, SameSite=Strict)", "schema": {"type": "string"}}}


@router.post("/session", response_model=SessionOut, responses={200: {"headers": SESSION_SET}, **refusals(400, 401, 413, 415, 422, 429)})
def sign_in(credentials: Credentials, request: Request, response: Response) -> SessionOut:
    """Sign in with a username and password: sets the session cookie (HttpOnly, Secure, SameSite=Strict).

    Requests made with the cookie that change anything must send the returned `csrf_token` as `X-CSRF-Token`.
    Repeated failures for one account or from one address are refused for a while (429, `Retry-After`).
    """
    try:
        session = log_in(request, response, credentials.username, credentials.password)
    except LoginLimited as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    except AccountError as exc:
        raise HTTPException(401, str(exc)) from None
    return SessionOut(user=UserOut.of(session.user), csrf_token=session.csrf, expires_at=session.expires_at)


@router.delete("/session", status_code=204, responses={204: {"description": "Signed out: the cookie is cleared", "headers": SESSION_SET}, **refusals(401, 403)})
def sign_out(request: Request, response: Response, who: Principal = Depends(signed_in)) -> None:
    """End the session the cookie names."""
    log_out(request, response)


@router.get("/me", response_model=UserOut, responses=refusals(401, 403))
def me(who: Principal = Depends(signed_in)) -> UserOut:
    """The caller's own account: name, role and language."""
    return UserOut.of(who.user)


@router.patch("/me", response_model=UserOut, responses=refusals(400, 401, 403, 413, 415, 422))
def set_preferences(preferences: Preferences, request: Request, who: Principal = Depends(signed_in)) -> UserOut:
    """Change the caller's language for pages and messages."""
    return UserOut.of(accounts_of(request).set_language(who.user, preferences.lang))


@router.put("/me/password", status_code=204, responses=refusals(400, 401, 403, 413, 415, 422, 429))
def change_password(body: PasswordChange, request: Request, who: Principal = Depends(signed_in)) -> None:
    """Change the caller's own password (the current one is checked); every session and token of the caller ends."""
    try:
        accounts_of(request).change_password(who.user, body.current, body.new, client_address(request))
    except LoginLimited as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    except AccountError as exc:
        raise HTTPException(403, str(exc)) from None


@router.get("/tokens", response_model=list[TokenInfo], responses=refusals(401, 403))
def list_tokens(request: Request, who: Principal = Depends(signed_in)) -> list[TokenInfo]:
    """The caller's personal tokens (never their secrets), revoked ones included."""
    return [TokenInfo(**t) for t in accounts_of(request).tokens(who.user)]


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    responses={
        **created("The token, with its secret", "The token: /api/v1/tokens/{id} (revoke it with DELETE)"),
        **refusals(400, 401, 403, 409, 413, 415, 422),
    },
)
def create_token(body: TokenRequest, request: Request, response: Response, who: Principal = Depends(signed_in)) -> TokenCreated:
    """A personal token for scripts, with the caller's role; the secret is in this response only. Only a signed-in session can make one."""
    try:
        token_id, secret = accounts_of(request).create_token(who.user, body.name, body.expires_days, by_token=who.via == "token")
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    except AccountError as exc:
        raise HTTPException(409, str(exc)) from None
    response.headers["Location"] = f"{router.prefix}/tokens/{token_id}"
    return TokenCreated(id=token_id, name=body.name, token=secret)


@router.delete("/tokens/{token_id}", status_code=204, responses=refusals(401, 403, 404))
def revoke_token(token_id: str, request: Request, who: Principal = Depends(signed_in)) -> None:
    """Revoke one of the caller's tokens: it stops working at once."""
    try:
        accounts_of(request).revoke_token(who.user, token_id)
    except AccountError as exc:
        raise HTTPException(404, str(exc)) from None
