"""The service on both engines, and two ``serve`` processes on one PostgreSQL database under many clients."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dossier_rules.cli import main
from dossier_rules.server import Settings, create_app
from dossier_rules.services import screening_log
from dossier_rules.services.accounts import Accounts
from dossier_rules.storage import Database

from .postgres_support import Cluster
from .server_support import ROOT, _engine

SAMPLES = sorted((ROOT / "samples").glob("*.json"))
PASSWORD = "a long enough password"
CLIENTS = 24
SCREENINGS_PER_CLIENT = 2


def with_users(location: str | Path) -> dict[str, str]:
    """Users screener, reviewer and admin in a new database; their tokens."""
    database = Database(location)
    accounts = Accounts(database)
    tokens = {}
    for role in ("screener", "reviewer", "admin"):
        user = accounts.add_user(role, PASSWORD, role, display_name=f"{role.title()} Person")  # type: ignore[arg-type]
        tokens[role] = accounts.create_token(user, "tests")[1]
    database.close()
    return tokens


def test_the_service_screens_lists_shares_and_verifies_on_both_engines(db_location: str | Path, tmp_path: Path) -> None:
    tokens = with_users(db_location)
    app = create_app(Settings(db=db_location, packs_dir=ROOT / "rules", log_key=tmp_path / "log.key"), engine=_engine())
    client = TestClient(app, base_url="https://testserver")

    def as_(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    ids = [
        client.post("/api/v1/screenings", content=p.read_bytes(), headers={**as_("screener"), "content-type": "application/json"}).json()["screening_id"]
        for p in SAMPLES
    ]
    listed = client.get("/api/v1/screenings", params={"country": "kh", "outcome": "blocked", "limit": 100}, headers=as_("screener")).json()
    assert listed["items"] and {(i["country"], i["outcome"]) for i in listed["items"]} == {("KH", "blocked")}
    assert "report" not in listed["items"][0] and "dossier" not in listed["items"][0]
    reports = {sid: client.get(f"/api/v1/screenings/{sid}", headers=as_("reviewer")).json()["report"] for sid in ids}
    rule = next(f["rule_id"] for r in reports.values() for f in r["findings"])
    by_rule = client.get("/api/v1/screenings", params={"rule": rule, "limit": 100}, headers=as_("screener")).json()
    assert by_rule["next"] is None
    assert {i["screening_id"] for i in by_rule["items"]} == {sid for sid, r in reports.items() if any(f["rule_id"] == rule for f in r["findings"])}
    notices = client.post("/api/v1/notices/build", json={"screening_ids": ids}, headers=as_("reviewer")).json()["created"]
    assert client.post(f"/api/v1/notices/{notices[0]}/approve", headers=as_("reviewer")).status_code == 200
    assert client.post(f"/api/v1/notices/{notices[0]}/approve", headers=as_("admin")).status_code == 409
    assert client.post(f"/api/v1/notices/{notices[0]}/export", headers=as_("reviewer")).status_code == 200
    assert [n["id"] for n in client.get("/api/v1/notices", params={"state": "exported"}, headers=as_("reviewer")).json()] == [notices[0]]
    app.state.db.close()
    verified = CliRunner().invoke(main, ["log", "verify", "--db", str(db_location)])
    assert verified.exit_code == 0 and f"ok: {len(SAMPLES) + 2} entries" in verified.output


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_servers(postgres_cluster: Cluster, tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str], str]]:
    url = postgres_cluster.create_database()
    tokens = with_users(url)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DOSSIER_RULES_CACHE": str(tmp_path / "cache")}
    servers, bases = [], []
    key = tmp_path / "log.key"  # one signing key for both processes, as on several hosts
    assert CliRunner().invoke(main, ["log", "keygen", "--log-key", str(key)]).exit_code == 0
    for n in range(2):
        port = _free_port()
        log = (tmp_path / f"serve-{n}.log").open("wb")
        command = [sys.executable, "-m", "dossier_rules", "serve", "--db", url, "--log-key", str(key), "--port", str(port), "--packs", str(ROOT / "rules")]
        servers.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base, server in zip(bases, servers, strict=True):
            for _ in range(600):
                assert server.poll() is None, (tmp_path / "serve-0.log").read_text() + (tmp_path / "serve-1.log").read_text()
                try:
                    if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield bases, tokens, url
    finally:
        for server in servers:
            server.terminate()
            server.wait(30)


def test_two_serve_processes_on_one_postgresql_database(two_servers: tuple[list[str], dict[str, str], str]) -> None:
    bases, tokens, url = two_servers

    def as_(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    with httpx.Client(base_url=bases[0], timeout=120) as setup:
        ids = [
            setup.post("/api/v1/screenings", content=p.read_bytes(), headers={**as_("screener"), "content-type": "application/json"}).json()["screening_id"]
            for p in SAMPLES
        ]
        notices = setup.post("/api/v1/notices/build", json={"screening_ids": ids}, headers=as_("reviewer")).json()["created"]
    assert len(notices) >= 3

    def client(number: int) -> dict[str, Any]:
        who = "reviewer" if number % 2 else "admin"
        done: dict[str, Any] = {"screened": [], "approved": [], "errors": []}
        with httpx.Client(base_url=bases[number % 2], timeout=120) as http:
            for k in range(SCREENINGS_PER_CLIENT):
                path = SAMPLES[(number + k) % len(SAMPLES)]
                response = http.post("/api/v1/screenings", content=path.read_bytes(), headers={**as_(who), "content-type": "application/json"})
                if response.status_code == 201:
                    done["screened"].append(response.json()["screening_id"])
                else:
                    done["errors"].append(response.status_code)
            for nid in notices[number % len(notices) :] + notices[: number % len(notices)]:
                response = http.post(f"/api/v1/notices/{nid}/approve", headers=as_(who))
                if response.status_code == 200:
                    done["approved"].append(nid)
                elif response.status_code != 409:
                    done["errors"].append(response.status_code)
        return done

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(client, range(CLIENTS)))
    assert [e for r in results for e in r["errors"]] == []
    screened = [sid for r in results for sid in r["screened"]]
    assert len(screened) == CLIENTS * SCREENINGS_PER_CLIENT and len(set(screened)) == len(screened)
    approvals = Counter(nid for r in results for nid in r["approved"])
    assert approvals == Counter(dict.fromkeys(notices, 1))
    database = Database(url)
    with database.read() as conn:
        verification = screening_log.verify(conn)
        entries = list(screening_log.entries(conn))
    database.close()
    assert verification.ok and verification.entries == len(ids) + len(screened) + len(notices)
    logged = [orjson.loads(e.body) for e in entries]
    assert sorted(b["screening_id"] for b in logged if "screening_id" in b) == sorted(ids + screened)
    assert Counter(b["notice_id"] for e, b in zip(entries, logged, strict=True) if e.kind == "notice_approved") == approvals


def test_credentials_through_the_api(tmp_path: Path) -> None:
    from .server_support import PASSWORD as TEMPLATE_PASSWORD
    from .server_support import make_service

    service = make_service(tmp_path)
    by_token = service.client.post("/api/v1/tokens", json={"name": "from a token"}, headers=service.as_("screener"))
    assert by_token.status_code == 403 and "cannot create tokens" in by_token.json()["errors"][0]["message"]
    last = service.client.post("/api/v1/users/admin/disable", headers=service.as_("admin"))
    assert last.status_code == 409 and "last enabled admin" in last.json()["errors"][0]["message"]
    session = service.client.post("/api/v1/session", json={"username": "screener", "password": TEMPLATE_PASSWORD}).json()
    csrf = {"X-CSRF-Token": session["csrf_token"]}
    made = service.client.post("/api/v1/tokens", json={"name": "nightly", "expires_days": 30}, headers=csrf)
    assert made.status_code == 201
    wrong = service.client.put("/api/v1/me/password", json={"current": "not my password", "new": "a new long password"}, headers=csrf)
    assert wrong.status_code == 403
    changed = service.client.put("/api/v1/me/password", json={"current": TEMPLATE_PASSWORD, "new": "a new long password"}, headers=csrf)
    assert changed.status_code == 204
    assert service.client.get("/api/v1/me", headers={"Authorization": f"Bearer {made.json()['token']}"}).status_code == 401
    assert service.client.get("/api/v1/me", headers=service.as_("screener")).status_code == 401
    assert service.client.post("/api/v1/session", json={"username": "screener", "password": "a new long password"}).status_code == 200


def test_a_database_that_cannot_be_used_is_503_with_retry_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dossier_rules.storage import DatabaseUnavailable

    from .server_support import make_service

    service = make_service(tmp_path)

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseUnavailable(where="service.sqlite", reason="busy")

    monkeypatch.setattr(service.app.state.db, "write", unavailable)
    response = service.client.post(
        "/api/v1/screenings", content=SAMPLES[0].read_bytes(), headers={**service.as_("screener"), "content-type": "application/json"}
    )
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["errors"][0]["kind"] == "unavailable" and "service.sqlite" not in response.text


def test_a_registry_import_is_recorded_with_who_and_the_hash(tmp_path: Path) -> None:
    import hashlib
    import shutil

    from dossier_rules.registries import registry_file
    from dossier_rules.storage import registries

    from .server_support import make_service

    shutil.copytree(ROOT / "rules" / "registries", tmp_path / "registries")
    service = make_service(tmp_path, registries_dir=tmp_path / "registries")
    params = {"country": "KH", "kind": "accredited-agencies", "source": "MoLVT list (test)", "retrieved_on": "2025-08-01"}
    body = "id,name\nOTHER-1,Another Agency (fictional)\n"
    assert (
        service.client.post("/api/v1/registries/import", params=params, content=body, headers={**service.as_("admin"), "content-type": "text/csv"}).status_code
        == 200
    )
    with service.app.state.db.read() as conn:
        (row,) = registries.history(conn, "KH", "accredited-agencies")
    written = registry_file(tmp_path / "registries", "KH", "accredited-agencies")
    assert (row["imported_by"], row["source"], row["entries"], row["retrieved_on"]) == ("admin", "MoLVT list (test)", 1, "2025-08-01")
    assert row["sha256"] == hashlib.sha256(written.read_bytes()).hexdigest()
