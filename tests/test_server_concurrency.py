"""Many clients at once on loopback: no log entry lost, the chain verifies, no notice approved twice.

Bounded: 24 clients, each screening a few dossiers and trying to approve
every notice, against a real uvicorn server on 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn

from dossier_rules.services import screening_log

from .server_support import ROOT, Service, make_service

CLIENTS = 24
SCREENINGS_PER_CLIENT = 3
SAMPLES = sorted((ROOT / "samples").glob("*.json"))


def serve(service: Service) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(service.app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    host, port = sock.getsockname()
    return server, thread, f"http://{host}:{port}"


def test_concurrent_screening_and_approving(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    server, thread, base = serve(service)
    try:
        with httpx.Client(base_url=base, timeout=120) as setup:
            ids = [
                setup.post("/api/v1/screenings", content=p.read_bytes(), headers={**service.as_("screener"), "content-type": "application/json"}).json()[
                    "screening_id"
                ]
                for p in SAMPLES
            ]
            notices = setup.post("/api/v1/notices/build", json={"screening_ids": ids}, headers=service.as_("reviewer")).json()["created"]
        assert len(notices) >= 3

        def client(number: int) -> dict[str, Any]:
            who = "reviewer" if number % 2 else "admin"
            done: dict[str, Any] = {"screened": [], "approved": [], "errors": []}
            with httpx.Client(base_url=base, timeout=120) as http:
                for k in range(SCREENINGS_PER_CLIENT):
                    path = SAMPLES[(number + k) % len(SAMPLES)]
                    response = http.post("/api/v1/screenings", content=path.read_bytes(), headers={**service.as_(who), "content-type": "application/json"})
                    if response.status_code == 201:
                        done["screened"].append(response.json()["screening_id"])
                    else:
                        done["errors"].append(response.status_code)
                order = notices[number % len(notices) :] + notices[: number % len(notices)]
                for nid in order:
                    response = http.post(f"/api/v1/notices/{nid}/approve", headers=service.as_(who))
                    if response.status_code == 200:
                        done["approved"].append(nid)
                    elif response.status_code != 409:
                        done["errors"].append(response.status_code)
            return done

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(client, range(CLIENTS)))
    finally:
        server.should_exit = True
        thread.join(30)

    assert [e for r in results for e in r["errors"]] == []
    screened = [sid for r in results for sid in r["screened"]]
    assert len(screened) == CLIENTS * SCREENINGS_PER_CLIENT and len(set(screened)) == len(screened)
    approvals = Counter(nid for r in results for nid in r["approved"])
    assert approvals == Counter(dict.fromkeys(notices, 1))

    with service.app.state.db.read() as conn:
        assert screening_log.verify(conn).ok
        entries = list(screening_log.entries(conn))
        states = {row.id: row.state for row in conn.exec_driver_sql("SELECT id, state FROM notices")}
    logged = [orjson.loads(e.body) for e in entries]
    assert sorted(b["screening_id"] for b in logged if "screening_id" in b) == sorted(ids + screened)
    assert Counter(b["notice_id"] for e, b in zip(entries, logged, strict=True) if e.kind == "notice_approved") == approvals
    assert set(states.values()) == {"approved"}
