"""Every endpoint by every kind of caller: 401 and 403 exactly where they must be, and nothing read or changed then.

The table below must name every route the app has (a new route without a
row fails the test), with the least role that may call it (None: anyone).
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from dossier_rules.services.accounts import ROLE_RANK

from .server_support import PASSWORD, ROOT, Service, make_service

SAMPLE = (ROOT / "samples" / "kh-candidate-revoked-agency.json").read_bytes()
CSV = "id,name\nKH-X-1,Example Agency (fictional)\n"

# (method, route) -> least role, or None for public routes
ACCESS: dict[tuple[str, str], str | None] = {
    ("GET", "/healthz"): None,
    ("GET", "/readyz"): None,
    ("GET", "/metrics"): None,
    ("GET", "/openapi.json"): None,
    ("POST", "/api/v1/session"): None,
    ("DELETE", "/api/v1/session"): "screener",
    ("GET", "/api/v1/me"): "screener",
    ("PATCH", "/api/v1/me"): "screener",
    ("PUT", "/api/v1/me/password"): "screener",
    ("GET", "/api/v1/tokens"): "screener",
    ("POST", "/api/v1/tokens"): "screener",
    ("DELETE", "/api/v1/tokens/{token_id}"): "screener",
    ("POST", "/api/v1/screenings"): "screener",
    ("POST", "/api/v1/screenings/batch"): "screener",
    ("GET", "/api/v1/screenings"): "screener",
    ("GET", "/api/v1/screenings/{screening_id}"): "screener",
    ("POST", "/api/v1/screenings/{screening_id}/rescreen"): "screener",
    ("GET", "/api/v1/packs"): "screener",
    ("GET", "/api/v1/rules"): "screener",
    ("GET", "/api/v1/rules/{rule_id}"): "screener",
    ("GET", "/api/v1/coverage"): "screener",
    ("GET", "/api/v1/registries"): "screener",
    ("POST", "/api/v1/notices/build"): "reviewer",
    ("GET", "/api/v1/notices"): "reviewer",
    ("GET", "/api/v1/notices/{notice_id}"): "reviewer",
    ("GET", "/api/v1/notices/{notice_id}/preview"): "reviewer",
    ("POST", "/api/v1/notices/{notice_id}/approve"): "reviewer",
    ("POST", "/api/v1/notices/approve"): "reviewer",
    ("POST", "/api/v1/notices/{notice_id}/export"): "reviewer",
    ("POST", "/api/v1/notices/{notice_id}/export/json"): "reviewer",
    ("GET", "/api/v1/framework/open"): "reviewer",
    ("GET", "/api/v1/framework/notices/{notice_id}/history"): "reviewer",
    ("POST", "/api/v1/framework/notices/{notice_id}/send"): "reviewer",
    ("POST", "/api/v1/framework/notices/{notice_id}/answer"): "reviewer",
    ("POST", "/api/v1/framework/notices/{notice_id}/close"): "reviewer",
    ("POST", "/api/v1/framework/notices/{notice_id}/withdraw"): "reviewer",
    ("GET", "/api/v1/framework/inbox"): "reviewer",
    ("POST", "/api/v1/framework/inbox"): "reviewer",
    ("GET", "/api/v1/framework/agenda/{country}"): "reviewer",
    ("GET", "/api/v1/framework/brief/{country}"): "reviewer",
    ("GET", "/api/v1/framework/improvement-orders"): "reviewer",
    ("GET", "/api/v1/framework/inquiries"): "reviewer",
    ("POST", "/api/v1/framework/japan/orders"): "reviewer",
    ("POST", "/api/v1/framework/japan/inquiries"): "reviewer",
    ("GET", "/api/v1/framework/japan"): "reviewer",
    ("POST", "/api/v1/framework/japan/{dispatch_id}/{action}"): "reviewer",
    ("POST", "/api/v1/framework/inquiries/{received_id}/reply"): "reviewer",
    ("GET", "/api/v1/users"): "admin",
    ("POST", "/api/v1/users"): "admin",
    ("GET", "/api/v1/users/{username}"): "admin",
    ("POST", "/api/v1/users/{username}/disable"): "admin",
    ("POST", "/api/v1/users/{username}/enable"): "admin",
    ("POST", "/api/v1/registries/import"): "admin",
    ("GET", "/api/v1/log/checkpoint"): None,
    ("GET", "/api/v1/log/public-key"): None,
    ("GET", "/api/v1/log/proofs/inclusion"): "screener",
    ("GET", "/api/v1/log/proofs/consistency"): None,
}
CALLERS = ("nobody", "revoked", "disabled", "screener", "reviewer", "admin")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Service, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("roles")
    registries = tmp / "registries"
    shutil.copytree(ROOT / "rules" / "registries", registries)
    service = make_service(tmp, registries_dir=registries)
    accounts = service.app.state.accounts
    revoked_id, revoked = accounts.create_token(accounts.user("admin"), "revoked")
    accounts.revoke_token(accounts.user("admin"), revoked_id)
    gone = accounts.add_user("gone", PASSWORD, "admin")
    disabled = accounts.create_token(gone, "before")[1]
    accounts.set_disabled("gone")
    accounts.add_user("target", PASSWORD, "screener")
    victim_id, _ = accounts.create_token(accounts.user("screener"), "victim")
    sid = service.client.post("/api/v1/screenings", content=SAMPLE, headers={**service.as_("screener"), "content-type": "application/json"}).json()[
        "screening_id"
    ]
    built = service.client.post("/api/v1/notices/build", json={"screening_ids": [sid]}, headers=service.as_("reviewer")).json()
    service.tokens.update(revoked=revoked, disabled=disabled)
    values = {
        "screening_id": sid,
        "notice_id": built["created"][0],
        "token_id": victim_id,
        "username": "target",
        "rule_id": "common.act-c-rights-violation",
        "country": "KH",
        "received_id": "R-none",
        "dispatch_id": "J-none",
        "action": "approve",
    }
    return service, values


def request_for(method: str, path: str, values: dict[str, Any]) -> dict[str, Any]:
    """A well-formed request to the route, so an admitted caller is judged by role alone."""
    url = path.format(**values)
    json_bodies = {
        "/api/v1/session": {"username": "screener", "password": PASSWORD},
        "/api/v1/me": {"lang": "en"},
        "/api/v1/tokens": {"name": "table"},
        "/api/v1/notices/build": {"screening_ids": [values["screening_id"]]},
        "/api/v1/notices/approve": {"ids": [values["notice_id"]]},
        "/api/v1/users": {"username": "new-" + str(len(url)), "role": "screener", "password": PASSWORD},
        "/api/v1/framework/notices/{notice_id}/send": {"how": "email"},
        "/api/v1/framework/notices/{notice_id}/answer": {"text": "t", "received_on": "2025-10-01", "reference": "r", "action": "guidance"},
        "/api/v1/framework/notices/{notice_id}/close": {},
        "/api/v1/framework/notices/{notice_id}/withdraw": {"reason": "table"},
        "/api/v1/framework/inquiries/{received_id}/reply": {"reference": "table"},
        "/api/v1/framework/japan/orders": {"from": "2025-01-01", "to": "2025-12-31"},
        "/api/v1/framework/japan/inquiries": {"country": "KH", "subject": "table"},
        "/api/v1/framework/japan/{dispatch_id}/{action}": {},
    }
    if path in ("/api/v1/framework/agenda/{country}", "/api/v1/framework/brief/{country}", "/api/v1/framework/improvement-orders"):
        return {"url": url, "params": {"from": "2025-01-01", "to": "2025-12-31"}}
    if path == "/api/v1/framework/inbox" and method == "POST":
        return {"url": url, "content": b"{}", "headers": {"content-type": "application/json"}}
    if path == "/api/v1/screenings" and method == "POST":
        return {"url": url, "content": SAMPLE, "headers": {"content-type": "application/json"}}
    if path == "/api/v1/screenings/batch":
        return {"url": url, "content": SAMPLE.replace(b"\n", b"") + b"\n", "headers": {"content-type": "application/x-ndjson"}}
    if path == "/api/v1/registries/import":
        return {
            "url": url,
            "params": {"country": "KH", "kind": "sending-agencies", "source": "table test"},
            "content": CSV,
            "headers": {"content-type": "text/csv"},
        }
    if path == "/api/v1/log/proofs/inclusion":
        return {"url": url, "params": {"index": 0}}
    if path == "/api/v1/log/proofs/consistency":
        return {"url": url, "params": {"first": 0}}
    if method in ("POST", "PATCH") and path in json_bodies:
        return {"url": url, "json": json_bodies[path]}
    return {"url": url}


def snapshot(service: Service) -> dict[str, Any]:
    """Everything a refused request must leave as it was (a token's last use is written by any request it authenticates)."""
    queries = {table: f"SELECT * FROM {table} ORDER BY 1" for table in ("users", "log", "screenings", "notices", "items")}
    queries["tokens"] = "SELECT id, user_id, name, secret_hash, created_at, revoked_at, expires_at FROM tokens ORDER BY 1"
    with service.app.state.db.read() as conn:
        return {table: conn.exec_driver_sql(query).all() for table, query in queries.items()}


def test_the_table_names_every_route(world: tuple[Service, dict[str, Any]]) -> None:
    service, _ = world
    paths = service.app.openapi()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() for method in operations} | {("GET", "/openapi.json")}
    assert routes == set(ACCESS)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", list(ACCESS), ids=lambda r: f"{r[0]} {r[1]}")
def test_access(world: tuple[Service, dict[str, Any]], route: tuple[str, str], caller: str) -> None:
    service, values = world
    method, path = route
    least = ACCESS[route]
    spec = request_for(method, path, values)
    headers = {**spec.pop("headers", {}), **({} if caller == "nobody" else {"Authorization": f"Bearer {service.tokens[caller]}"})}
    service.client.cookies.clear()
    before = snapshot(service)
    response = service.client.request(method, headers=headers, **spec)
    if least is None:
        assert response.status_code not in (401, 403, 500)
        return
    if caller in ("nobody", "revoked", "disabled"):
        expected = 401
    elif ROLE_RANK[caller] < ROLE_RANK[least]:  # type: ignore[index]
        expected = 403
    elif route == ("POST", "/api/v1/tokens"):  # any role, but only from a signed-in session: a token cannot make tokens
        assert response.status_code == 403 and "cannot create tokens" in response.text
        return
    else:
        assert response.status_code < 500 and response.status_code not in (401, 403), response.text
        return
    assert response.status_code == expected, response.text
    assert set(response.json()) == {"source", "outcome", "errors", "code", "params"}
    assert response.json()["code"] == ("request.unauthenticated" if expected == 401 else "request.forbidden")
    assert snapshot(service) == before
