"""Accounts of the service: sessions and their cookies, CSRF, tokens, disabled users, login limits, body limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.server.auth import SESSION_COOKIE

from .server_support import PASSWORD, Service, make_service


@pytest.fixture()
def service(tmp_path: Path) -> Service:
    return make_service(tmp_path)


def sign_in(service: Service, username: str = "screener", password: str = PASSWORD) -> dict:
    response = service.client.post("/api/v1/session", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def test_sign_in_sets_a_secure_httponly_strict_cookie(service: Service) -> None:
    response = service.client.post("/api/v1/session", json={"username": "screener", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    lowered = cookie.lower()
    assert "httponly" in lowered and "secure" in lowered and "samesite=strict" in lowered
    assert service.client.get("/api/v1/me").json()["username"] == "screener"


def test_cookie_state_change_needs_the_csrf_token(service: Service) -> None:
    csrf = sign_in(service)["csrf_token"]
    refused = service.client.patch("/api/v1/me", json={"lang": "en"})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["kind"] == "forbidden"
    assert service.client.get("/api/v1/me").json()["lang"] == "ja"
    assert service.client.patch("/api/v1/me", json={"lang": "en"}, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    accepted = service.client.patch("/api/v1/me", json={"lang": "en"}, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 200 and accepted.json()["lang"] == "en"


def test_sign_out_ends_the_session(service: Service) -> None:
    csrf = sign_in(service)["csrf_token"]
    assert service.client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert service.client.get("/api/v1/me").status_code == 401


def test_wrong_password_and_unknown_user_are_refused_alike(service: Service) -> None:
    wrong = service.client.post("/api/v1/session", json={"username": "screener", "password": "not the password"})
    unknown = service.client.post("/api/v1/session", json={"username": "nobody", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["errors"][0]["message"] == unknown.json()["errors"][0]["message"]


def test_an_address_that_failed_backs_off_even_with_the_right_password(service: Service) -> None:
    for _ in range(5):
        assert service.client.post("/api/v1/session", json={"username": "reviewer", "password": "guess guess guess"}).status_code == 401
    limited = service.client.post("/api/v1/session", json={"username": "reviewer", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert service.client.post("/api/v1/session", json={"username": "screener", "password": PASSWORD}).status_code == 200


def test_logins_are_limited_per_address(tmp_path: Path) -> None:
    service = make_service(tmp_path, login_failures_per_address=3)
    for name in ("a", "b", "c"):
        assert service.client.post("/api/v1/session", json={"username": name, "password": "guess guess guess"}).status_code == 401
    assert service.client.post("/api/v1/session", json={"username": "admin", "password": PASSWORD}).status_code == 429


def test_a_token_is_shown_once_stored_hashed_and_revocable(service: Service) -> None:
    csrf = sign_in(service, "reviewer")["csrf_token"]
    created = service.client.post("/api/v1/tokens", json={"name": "nightly export"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    secret, token_id = created.json()["token"], created.json()["id"]
    with service.app.state.db.read() as conn:
        stored = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM tokens")]
    assert not any(secret in str(field) for row in stored for field in row)
    listed = service.client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {secret}"}).json()
    assert token_id in [t["id"] for t in listed] and all("token" not in t for t in listed)
    assert service.client.delete(f"/api/v1/tokens/{token_id}", headers=service.as_("reviewer")).status_code == 204
    assert service.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_disabled_user_loses_sessions_and_tokens(service: Service) -> None:
    sign_in(service, "reviewer")
    service.app.state.accounts.set_disabled("reviewer")
    assert service.client.get("/api/v1/me").status_code == 401
    assert service.client.get("/api/v1/me", headers=service.as_("reviewer")).status_code == 401
    assert service.client.post("/api/v1/session", json={"username": "reviewer", "password": PASSWORD}).status_code == 401


def test_a_bad_bearer_token_is_not_rescued_by_a_cookie(service: Service) -> None:
    sign_in(service)
    assert service.client.get("/api/v1/me", headers={"Authorization": "Bearer drt_forged"}).status_code == 401


def test_bodies_over_the_limit_get_413_before_being_read(tmp_path: Path) -> None:
    service = make_service(tmp_path, max_body_bytes=1000)
    response = service.client.post("/api/v1/session", content=b"{" + b" " * 2000 + b"}", headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["kind"] == "too_large"


def test_health_readiness_and_metrics_without_user_credentials(tmp_path: Path) -> None:
    service = make_service(tmp_path, metrics_token="a metrics token")
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200 and "KH" in " ".join(ready.json()["packs"]).upper()
    service.client.post("/api/v1/session", json={"username": "Secret Name", "password": "x" * 12})
    text = service.client.get("/metrics", headers={"Authorization": "Bearer a metrics token"}).text
    assert 'route="/api/v1/session"' in text and "Secret Name" not in text


def test_users_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "users.sqlite")
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", "kimura", "--role", "admin", "--password-stdin", "--db", db], input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    short = runner.invoke(main, ["users", "add", "sato", "--role", "screener", "--password-stdin", "--db", db], input="short\n")
    assert short.exit_code == 2 and "12 characters" in short.output
    last = runner.invoke(main, ["users", "disable", "kimura", "--db", db])
    assert last.exit_code == 2 and "last enabled admin" in last.output
    added = runner.invoke(main, ["users", "add", "tanaka", "--role", "admin", "--password-stdin", "--db", db], input=PASSWORD + "\n")
    assert runner.invoke(main, ["users", "disable", "kimura", "--db", db]).exit_code == 0
    listed = runner.invoke(main, ["users", "list", "--format", "json", "--db", db])
    assert '"disabled": true' in listed.output
    reset = runner.invoke(main, ["users", "reset-password", "nobody", "--password-stdin", "--db", db], input=PASSWORD + "\n")
    assert reset.exit_code == 2


def test_pages_mounted_on_the_app_use_the_same_roles_and_a_csrf_form_field(tmp_path: Path) -> None:
    from fastapi import APIRouter, Depends, Form
    from fastapi.testclient import TestClient

    from dossier_rules.server import Principal, Settings, create_app, require

    pages = APIRouter()
    screener = require("screener")

    @pages.post("/pages/lang")
    def change(lang: str = Form(...), who: Principal = Depends(screener)) -> dict[str, str]:
        return {"user": who.user.username, "lang": lang}

    service = make_service(tmp_path)
    app = create_app(
        Settings(db=tmp_path / "service.sqlite", packs_dir=service.app.state.settings.packs_dir), extra_routers=(pages,), engine=service.app.state.engine
    )
    client = TestClient(app, base_url="https://testserver")
    csrf = client.post("/api/v1/session", json={"username": "screener", "password": PASSWORD}).json()["csrf_token"]
    assert client.post("/pages/lang", data={"lang": "en"}).status_code == 403
    assert client.post("/pages/lang", data={"lang": "en", "csrf_token": "forged"}).status_code == 403
    accepted = client.post("/pages/lang", data={"lang": "en", "csrf_token": csrf})
    assert accepted.status_code == 200 and accepted.json() == {"user": "screener", "lang": "en"}
    client.cookies.clear()
    assert client.post("/pages/lang", data={"lang": "en", "csrf_token": csrf}).status_code == 401


def test_a_chunked_body_over_the_limit_is_cut_off_with_413(tmp_path: Path) -> None:
    service = make_service(tmp_path, max_body_bytes=1000)

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(10):
            yield b" " * 500

    response = service.client.post("/api/v1/screenings", content=chunks(), headers={**service.as_("screener"), "content-type": "application/json"})
    assert response.status_code == 413
    assert service.client.get("/api/v1/screenings", headers=service.as_("admin")).json()["items"] == []
