"""Notices through the service: built from stored screenings, approved once, exported, all in the log."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.services import screening_log

from .server_support import ROOT, Service, make_service

SAMPLES = sorted((ROOT / "samples").glob("*.json"))


def screened(service: Service) -> list[str]:
    ids = []
    for path in SAMPLES:
        response = service.client.post("/api/v1/screenings", content=path.read_bytes(), headers={**service.as_("screener"), "content-type": "application/json"})
        ids.append(response.json()["screening_id"])
    return ids


def built(service: Service) -> list[str]:
    result = service.client.post("/api/v1/notices/build", json={"screening_ids": screened(service)}, headers=service.as_("reviewer")).json()
    assert result["created"] and result["problems"] == []
    return result["created"]


def test_build_list_show_approve_export(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    ids = built(service)
    reviewer = service.as_("reviewer")
    listed = service.client.get("/api/v1/notices", params={"state": "draft"}, headers=reviewer).json()
    assert sorted(n["id"] for n in listed) == sorted(ids)
    kh = service.client.get("/api/v1/notices", params={"country": "kh"}, headers=reviewer).json()
    assert kh and {n["country"] for n in kh} == {"KH"}
    first = ids[0]
    assert first in service.client.get(f"/api/v1/notices/{first}/preview", params={"format": "md"}, headers=reviewer).text
    assert service.client.post(f"/api/v1/notices/{first}/export", headers=reviewer).status_code == 409
    approved = service.client.post(f"/api/v1/notices/{first}/approve", headers=reviewer).json()
    assert approved["state"] == "approved" and approved["approved_by"] == "Reviewer Person"
    again = service.client.post(f"/api/v1/notices/{first}/approve", headers=service.as_("admin"))
    assert again.status_code == 409 and "already approved" in again.json()["errors"][0]["message"]
    exported = service.client.post(f"/api/v1/notices/{first}/export/json", headers=reviewer)
    assert exported.status_code == 200 and exported.json()["state"] == "exported"
    assert service.client.post("/api/v1/notices/nope/approve", headers=reviewer).status_code == 404
    with service.app.state.db.read() as conn:
        kinds = [(e.kind, orjson.loads(e.body).get("notice_id")) for e in screening_log.entries(conn)]
        assert ("notice_approved", first) in kinds and ("notice_exported", first) in kinds
        assert screening_log.verify(conn).ok


def test_approve_many_approves_each_draft_once(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    ids = built(service)
    result = service.client.post("/api/v1/notices/approve", json={"ids": [*ids, ids[0], "N-XX-nope"]}, headers=service.as_("reviewer")).json()
    assert result["approved"] == ids
    assert [r["id"] for r in result["refused"]] == ["N-XX-nope"]
    second = service.client.post("/api/v1/notices/approve", json={"ids": ids}, headers=service.as_("reviewer")).json()
    assert second["approved"] == [] and len(second["refused"]) == len(ids)
    db = tmp_path / "service.sqlite"
    verified = CliRunner().invoke(main, ["log", "verify", "--db", str(db)])
    assert verified.exit_code == 0 and f"{len(SAMPLES) + len(ids)} entries" in verified.output


def test_notices_built_through_the_service_carry_no_identity(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    names = [json.loads(p.read_text()).get("identity", {}).get("name") for p in SAMPLES]
    for nid in built(service):
        text = service.client.get(f"/api/v1/notices/{nid}", headers=service.as_("reviewer")).text
        assert not any(name and name in text for name in names)
