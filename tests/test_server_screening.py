"""Screening through the service: one, many, read back, list, re-screen, and the hash-chained log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from dossier_rules import batch
from dossier_rules.cli import main
from dossier_rules.report import checks_made
from dossier_rules.services import screening_log

from .server_support import ROOT, Service, make_service

SAMPLES = sorted((ROOT / "samples").glob("*.json"))
JSON = {"content-type": "application/json"}
JSONL = {"content-type": "application/x-ndjson"}


@pytest.fixture()
def service(tmp_path: Path) -> Service:
    return make_service(tmp_path)


def screen(service: Service, path: Path, who: str = "screener", **params: Any) -> dict[str, Any]:
    response = service.client.post("/api/v1/screenings", content=path.read_bytes(), headers={**service.as_(who), **JSON}, params=params)
    assert response.status_code == 201, response.text
    return response.json()


def sample(name: str) -> Path:
    return ROOT / "samples" / name


def test_one_dossier_gives_the_cli_report_and_is_stored(service: Service) -> None:
    out = screen(service, sample("kh-candidate-revoked-agency.json"))
    cli = CliRunner().invoke(main, ["check", str(sample("kh-candidate-revoked-agency.json")), "--format", "jsonl", "--fail-on", "never"])
    expected = json.loads(cli.output)
    for volatile in ("source", "generated_at"):
        out["report"].pop(volatile), expected.pop(volatile)
    assert out["report"] == expected
    stored = service.client.get(f"/api/v1/screenings/{out['screening_id']}", headers=service.as_("reviewer")).json()
    assert stored["screened_by"] == "screener"
    assert stored["dossier"] == json.loads(sample("kh-candidate-revoked-agency.json").read_text())
    assert stored["inputs"]["packs"] == [{"id": p["id"], "sha256": p["sha256"]} for p in stored["report"]["packs"]]


def test_invalid_input_gets_the_cli_error_record_and_nothing_is_stored(service: Service) -> None:
    bad = b'{"kind": "candidate", "country": "KH", "dossier_id": "X", "submitted": "2025-13-01"}'
    response = service.client.post("/api/v1/screenings", content=bad, headers={**service.as_("screener"), **JSON})
    assert response.status_code == 422
    cli = batch.screen_record(service.app.state.engine, "body", None, bad, None)
    assert response.json() == {**cli, "code": "dossier.invalid", "params": {}}
    assert service.client.post("/api/v1/screenings", content=b"{oops", headers={**service.as_("screener"), **JSON}).status_code == 400
    assert service.client.post("/api/v1/screenings", content=bad, headers={**service.as_("screener"), "content-type": "text/plain"}).status_code == 415
    assert service.client.get("/api/v1/screenings", headers=service.as_("admin")).json()["items"] == []


def test_many_dossiers_records_in_equal_records_out_with_the_batch_error_records(service: Service, tmp_path: Path) -> None:
    lines = [json.dumps(json.loads(p.read_text())) for p in SAMPLES]
    lines.insert(3, '{"kind": "candidate"')
    lines.insert(7, '{"kind": "broker", "country": "XX"}')
    body = "\n".join(lines) + "\n"
    response = service.client.post("/api/v1/screenings/batch", content=body.encode(), headers={**service.as_("screener"), **JSONL})
    assert response.status_code == 200
    out = [json.loads(line) for line in response.text.splitlines()]
    assert len(out) == len(lines)
    (tmp_path / "in.jsonl").write_text(body)
    batch.run(service.app.state.engine, str(tmp_path / "in.jsonl"), tmp_path / "out.jsonl", 1)
    cli = [r for r in (json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()) if "errors" in r or "dossier_id" in r]
    assert [r["errors"] for r in out if "errors" in r] == [r["errors"] for r in cli if "errors" in r]
    assert [r.get("dossier_id") for r in out] == [r.get("dossier_id") for r in cli]
    stored = [r["source"].removeprefix("api:") for r in out if "errors" not in r]
    for sid in stored:
        assert service.client.get(f"/api/v1/screenings/{sid}", headers=service.as_("screener")).status_code == 200


def test_list_filters_and_pages(service: Service) -> None:
    for path in SAMPLES:
        screen(service, path)
    screen(service, sample("kh-candidate-clean.json"), who="reviewer")
    everything = service.client.get("/api/v1/screenings", params={"limit": 100}, headers=service.as_("reviewer")).json()["items"]
    assert len(everything) == len(SAMPLES) + 1
    blocked = service.client.get("/api/v1/screenings", params={"severity": "block", "limit": 100}, headers=service.as_("reviewer")).json()["items"]
    assert blocked and all(i["counts"]["block"] > 0 for i in blocked)
    assert len(blocked) < len(everything)
    kh = service.client.get("/api/v1/screenings", params={"country": "kh", "kind": "candidate"}, headers=service.as_("reviewer")).json()["items"]
    assert kh and {(i["country"], i["kind"]) for i in kh} == {("KH", "candidate")}
    mine = service.client.get("/api/v1/screenings", params={"user": "reviewer"}, headers=service.as_("reviewer")).json()["items"]
    assert [i["dossier_id"] for i in mine] == ["KH-CAND-0001"] or len(mine) == 1
    seen, cursor = [], None
    while True:
        page = service.client.get("/api/v1/screenings", params={"limit": 4, **({"after": cursor} if cursor else {})}, headers=service.as_("reviewer")).json()
        seen += [i["screening_id"] for i in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [i["screening_id"] for i in everything] and len(set(seen)) == len(seen)


def test_screeners_do_not_see_candidates_identity(service: Service) -> None:
    sid = screen(service, sample("tj-candidate-dependents-ssw1.json"))["screening_id"]
    as_screener = service.client.get(f"/api/v1/screenings/{sid}", headers=service.as_("screener")).json()
    as_reviewer = service.client.get(f"/api/v1/screenings/{sid}", headers=service.as_("reviewer")).json()
    assert "identity" in as_reviewer["dossier"] and "identity" not in as_screener["dossier"]
    assert "dependents" not in as_screener["dossier"] and as_screener["redacted"] is True
    name = as_reviewer["dossier"]["identity"]["name"]
    assert name not in json.dumps(as_screener, ensure_ascii=False)
    listed = service.client.get("/api/v1/screenings", headers=service.as_("screener")).json()
    assert name not in json.dumps(listed, ensure_ascii=False)


def test_rescreen_puts_the_new_report_beside_the_old_and_says_what_changed(service: Service) -> None:
    sid = screen(service, sample("kh-candidate-revoked-agency.json"))["screening_id"]
    result = service.client.post(f"/api/v1/screenings/{sid}/rescreen", json={"as_of": "2025-06-30"}, headers=service.as_("screener")).json()
    assert result["old"]["as_of"] == "2025-08-20" and result["new"]["as_of"] == "2025-06-30"
    removed = {f["rule_id"] for f in result["changes"]["removed"]}
    assert any("revoked" in rule for rule in removed)
    assert result["changes"]["inputs_changed"] is True
    same = service.client.post(f"/api/v1/screenings/{sid}/rescreen", headers=service.as_("screener")).json()
    assert same["changes"]["added"] == same["changes"]["removed"] == [] and same["changes"]["inputs_changed"] is False
    stored = service.client.get(f"/api/v1/screenings/{same['screening_id']}", headers=service.as_("reviewer")).json()
    assert stored["rescreen_of"] == sid


def test_rescreening_a_stored_dossier_with_the_same_hashes_reproduces_the_stored_report(service: Service) -> None:
    for path in SAMPLES:
        screen(service, path)
    engine = service.app.state.engine
    with service.app.state.db.read() as conn:
        logged = list(screening_log.entries(conn))
    for item in logged:
        body = orjson.loads(item.body)
        report = body["report"]
        assert body["inputs"]["packs"] == [{"id": p["id"], "sha256": p["sha256"]} for p in engine._used[report["pack"]]]
        again = engine.evaluate_data(body["dossier"], None, source=report["source"], timestamp=False)
        # the stored report also records the hash of the bytes screened, which evaluate_data is not given, and what was checked
        made = checks_made(engine.packset.packs[report["pack"]], report["kind"], body["dossier"], again["findings"])
        assert {**again, "generated_at": report["generated_at"], "source_sha256": report["source_sha256"], "checks": made} == report


def test_no_store_dossiers_keeps_only_the_hash(tmp_path: Path) -> None:
    service = make_service(tmp_path, store_dossiers=False)
    raw = sample("kh-candidate-clean.json").read_bytes()
    sid = screen(service, sample("kh-candidate-clean.json"))["screening_id"]
    stored = service.client.get(f"/api/v1/screenings/{sid}", headers=service.as_("admin")).json()
    import hashlib

    assert stored["dossier"] is None and stored["dossier_sha256"] == hashlib.sha256(raw).hexdigest()
    with service.app.state.db.read() as conn:
        dump = b"".join(bytes(str(tuple(r)), "utf-8") for r in conn.exec_driver_sql("SELECT * FROM log"))
    assert b"KH-CAND-0001" in dump and json.loads(raw)["identity"]["name"].encode() not in dump
    assert service.client.post(f"/api/v1/screenings/{sid}/rescreen", headers=service.as_("screener")).status_code == 409


# --------------------------------------------------------------------------- the log


def verify(db: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["log", "verify", "--db", str(db)])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


@pytest.fixture()
def logged(tmp_path: Path) -> tuple[Service, Path]:
    service = make_service(tmp_path)
    for path in SAMPLES[:6]:
        screen(service, path)
    return service, tmp_path / "service.sqlite"


def sql(db: Path, *statements: str) -> None:
    import sqlite3

    conn = sqlite3.connect(db)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_an_untouched_log_verifies(logged: tuple[Service, Path]) -> None:
    code, output = verify(logged[1])
    assert code == 0 and "6 entries" in output


def test_an_edited_entry_is_named(logged: tuple[Service, Path]) -> None:
    sql(logged[1], "UPDATE log SET body = replace(body, '\"blocked\"', '\"clear\"') WHERE seq = 3")
    code, output = verify(logged[1])
    assert code == 1 and "entry 3 was edited" in output


def test_an_edited_actor_is_named(logged: tuple[Service, Path]) -> None:
    sql(logged[1], "UPDATE log SET actor = 'admin' WHERE seq = 2")
    code, output = verify(logged[1])
    assert code == 1 and "entry 2 was edited" in output


def test_a_removed_entry_is_named(logged: tuple[Service, Path]) -> None:
    sql(logged[1], "DELETE FROM log WHERE seq = 4")
    code, output = verify(logged[1])
    assert code == 1 and "entry 4 is missing" in output


def test_a_removed_entry_stays_visible_after_later_appends(logged: tuple[Service, Path]) -> None:
    service, db = logged
    sql(db, "DELETE FROM screenings WHERE log_seq = 6", "DELETE FROM log WHERE seq = 6")
    screen(service, SAMPLES[7])
    code, output = verify(db)
    assert code == 1 and "entry 6 is missing" in output


def test_removed_entries_at_the_end_are_caught(logged: tuple[Service, Path]) -> None:
    sql(logged[1], "DELETE FROM log WHERE seq >= 5")
    code, output = verify(logged[1])
    assert code == 1 and "entries 5 to 6 are missing" in output


def test_swapped_entries_are_caught_at_the_first_one(logged: tuple[Service, Path]) -> None:
    sql(logged[1], "UPDATE log SET seq = -2 WHERE seq = 2", "UPDATE log SET seq = 2 WHERE seq = 5", "UPDATE log SET seq = 5 WHERE seq = -2")
    code, output = verify(logged[1])
    assert code == 1 and "BROKEN at entry 2" in output and "does not follow entry 1" in output


def test_swapped_contents_are_caught_at_the_first_one(logged: tuple[Service, Path]) -> None:
    sql(
        logged[1],
        "CREATE TEMP TABLE t AS SELECT * FROM log WHERE seq IN (3, 4)",
        "UPDATE log SET kind = (SELECT kind FROM t WHERE seq = 4), at = (SELECT at FROM t WHERE seq = 4), actor = (SELECT actor FROM t WHERE seq = 4), body = (SELECT body FROM t WHERE seq = 4), prev_hash = (SELECT prev_hash FROM t WHERE seq = 4), hash = (SELECT hash FROM t WHERE seq = 4) WHERE seq = 3",
        "UPDATE log SET kind = (SELECT kind FROM t WHERE seq = 3), at = (SELECT at FROM t WHERE seq = 3), actor = (SELECT actor FROM t WHERE seq = 3), body = (SELECT body FROM t WHERE seq = 3), prev_hash = (SELECT prev_hash FROM t WHERE seq = 3), hash = (SELECT hash FROM t WHERE seq = 3) WHERE seq = 4",
    )
    code, output = verify(logged[1])
    assert code == 1 and "BROKEN at entry 3" in output


def test_a_rewritten_log_fails_the_expected_head(logged: tuple[Service, Path]) -> None:
    _, db = logged
    head = verify(db)[1].split("head ")[1].split()[0]
    assert CliRunner().invoke(main, ["log", "verify", "--db", str(db), "--expect-head", head]).exit_code == 0
    assert CliRunner().invoke(main, ["log", "verify", "--db", str(db), "--expect-head", "0" * 64]).exit_code == 1


def test_the_export_verifies_and_an_edited_export_does_not(logged: tuple[Service, Path], tmp_path: Path) -> None:
    _, db = logged
    out = tmp_path / "log.jsonl"
    assert CliRunner().invoke(main, ["log", "export", "--db", str(db), "--output", str(out)]).exit_code == 0
    entries = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5, 6] and entries[0]["body"]["report"]["findings"] is not None
    assert CliRunner().invoke(main, ["log", "verify", "--file", str(out)]).exit_code == 0
    entries[2]["body"]["report"]["findings"] = []
    out.write_text("".join(json.dumps(e) + "\n" for e in entries))
    result = CliRunner().invoke(main, ["log", "verify", "--file", str(out)])
    assert result.exit_code == 1 and "entry 3 was edited" in result.output


def test_an_admin_imports_a_registry_and_screening_uses_it_at_once(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "rules" / "registries", tmp_path / "registries")
    service = make_service(tmp_path, registries_dir=tmp_path / "registries")
    params = {"country": "KH", "kind": "accredited-agencies", "source": "MoLVT list (test)", "retrieved_on": "2025-08-01"}
    bad = service.client.post(
        "/api/v1/registries/import",
        params=params,
        content="id,name,listed_from\nA-1,Agency,not a date\n",
        headers={**service.as_("admin"), "content-type": "text/csv"},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["line"] == 2
    before = screen(service, sample("kh-candidate-clean.json"))["report"]
    good = service.client.post(
        "/api/v1/registries/import",
        params=params,
        content="id,name\nOTHER-1,Another Agency (fictional)\n",
        headers={**service.as_("admin"), "content-type": "text/csv"},
    )
    assert good.status_code == 200 and good.json()["entries"] == 1
    listed = {(r["country"], r["kind"]): r for r in service.client.get("/api/v1/registries", headers=service.as_("screener")).json()}
    assert listed[("KH", "accredited-agencies")]["sample"] is False and listed[("KH", "accredited-agencies")]["entries"] == 1
    after = screen(service, sample("kh-candidate-clean.json"))["report"]
    assert inputs_changed(before, after)


def inputs_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    from dossier_rules.services.screening_store import inputs_of

    return inputs_of(old) != inputs_of(new)
