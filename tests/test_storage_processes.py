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
from dossier_rules.server import Settings, create_app, screening_log
from dossier_rules.server.accounts import Accounts
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


def test_the_service_screens_lists_shares_and_verifies_on_both_engines(db_location: str | Path) -> None:
    tokens = with_users(db_location)
    app = create_app(Settings(db=db_location, packs_dir=ROOT / "rules"), engine=_engine())
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
    by_rule = client.get("/api/v1/screenings", params={"rule": "kh.revoked-agency", "limit": 100}, headers=as_("screener")).json()
    assert by_rule["next"] is None
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
    for n in range(2):
        port = _free_port()
        log = (tmp_path / f"serve-{n}.log").open("wb")
        command = [sys.executable, "-m", "dossier_rules", "serve", "--db", url, "--port", str(port), "--packs", str(ROOT / "rules")]
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
