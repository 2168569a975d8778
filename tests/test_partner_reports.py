"""The partner's 4(1) information about an intermediary: received through the inbox, kept as the registry
``intermediary-reports``, and a warn on every later dossier involving that intermediary until it is withdrawn."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.errors import DossierError
from dossier_rules.model import DOSSIER_ADAPTER
from dossier_rules.packs import PackSet
from dossier_rules.registries import Registry, load_registries
from dossier_rules.services import framework as inbox_service
from dossier_rules.services import registries as registry_service
from dossier_rules.services.notices import NoticeService, Reviewer
from dossier_rules.sharing import Outbox
from dossier_rules.storage import Database
from dossier_rules.storage import framework as inbox_rows
from dossier_rules.storage import registries as import_history

from .conftest import ROOT
from .server_support import make_service

TODAY = date(2025, 10, 1)
WHO = Reviewer("suzuki", "Suzuki")
AGENCY = {"id": "MOLVT-ACC-0042", "name": "Angkor Example Manpower Co. (fictional)"}
RULE = "common.partner-report-sending-agency"
LIST = "kh-intermediary-reports.json"


def report(**fields: Any) -> bytes:
    base = {"country": "KH", "kind": "intermediary_report", "dated": "2025-09-20", "received_on": "2025-09-25", "reference": "MoLVT No. 120/25"}
    base |= {"intermediary": AGENCY, "acts": ["a"], "text": "The agency kept candidates' deposits."}
    return json.dumps(base | fields).encode()


def withdrawal(**fields: Any) -> bytes:
    base = {"country": "KH", "kind": "report_withdrawal", "dated": "2025-09-27", "received_on": "2025-09-28", "reference": "MoLVT No. 131/25"}
    return json.dumps(base | {"intermediary": AGENCY, "withdraws": "MoLVT No. 120/25"} | fields).encode()


@pytest.fixture()
def registries_dir(tmp_path: Path) -> Path:
    target = tmp_path / "registries"
    shutil.copytree(ROOT / "rules" / "registries", target)
    return target


@pytest.fixture()
def service(tmp_path: Path) -> NoticeService:
    return NoticeService(Outbox(tmp_path / "o.sqlite"))


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "samples" / name).read_text())
    return data


def warned(packset: PackSet, registries_dir: Path, dossier: dict[str, Any], on: date) -> list[Any]:
    found = Engine(packset, load_registries(registries_dir)).evaluate(DOSSIER_ADAPTER.validate_python(dossier), as_of=on)
    return [f for f in found.findings if f.rule_id.startswith("common.partner-report-")]


def receive(service: NoticeService, packset: PackSet, registries_dir: Path, data: bytes) -> inbox_service.Received:
    return inbox_service.receive(service, packset, registries_dir, data, "letter.json", WHO, TODAY)


def refused(code: str, call: Any, *args: Any) -> DossierError:
    with pytest.raises(DossierError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value.code
    return caught.value


# --------------------------------------------------------------------------- received, then screened


def received_entries(registries_dir: Path) -> list[Any]:
    """The list's entries the test's messages made: the shipped sample list's own (fictional) entries left out."""
    shipped = {e.id for e in Registry.model_validate_json((ROOT / "rules" / "registries" / LIST).read_bytes()).entries}
    return [e for e in Registry.model_validate_json((registries_dir / LIST).read_bytes()).entries if e.id not in shipped]


def test_a_report_warns_later_dossiers_involving_the_agency_citing_4_1_and_the_message(service: NoticeService, packset: PackSet, registries_dir: Path) -> None:
    clean = sample("kh-candidate-clean.json")
    assert warned(packset, registries_dir, clean, date(2025, 9, 30)) == []
    received = receive(service, packset, registries_dir, report())
    assert received.kind == "intermediary_report" and received.registry == registries_dir / LIST
    (finding,) = warned(packset, registries_dir, clean, date(2025, 9, 30))
    assert (finding.rule_id, finding.severity, finding.share, finding.article) == (RULE, "warn", False, "MOC-KH 4(1)")
    for text in (finding.message.en, finding.message.ja):
        assert "MoLVT No. 120/25, 2025-09-20" in text and received.id in text and "2025-09-25" in text
    assert "相手国省庁から受領した情報" in finding.message.ja and "協力覚書4(1)" in finding.message.ja and "4(1) of the MOC" in finding.message.en
    assert finding.subject is not None and finding.subject["reports"] == [f"MoLVT No. 120/25, 2025-09-20 ({received.id})"]
    # as of a day before it was received, nothing; an agency of another number, nothing
    assert warned(packset, registries_dir, clean, date(2025, 9, 24)) == []
    other = clean | {"sending_agency": clean["sending_agency"] | {"id": "KH-BRK-0002", "accreditation": {"number": "MOLVT-ACC-0017"}}}
    assert warned(packset, registries_dir, other, date(2025, 9, 30)) == []
    (entry,) = received_entries(registries_dir)
    assert (entry.id, entry.listed_from, entry.ended_on) == ("MOLVT-ACC-0042", date(2025, 9, 25), None)


def test_an_intermediary_listed_by_name_only_and_a_broker_dossier_are_warned_too(service: NoticeService, packset: PackSet, registries_dir: Path) -> None:
    receive(service, packset, registries_dir, report(intermediary={"id": "KH-BRK-0077", "name": "Mekong Example Fixers"}))
    named = sample("kh-candidate-clean.json") | {"intermediaries": [{"name": "MEKONG EXAMPLE FIXERS", "role": "other"}]}
    assert [f.rule_id for f in warned(packset, registries_dir, named, date(2025, 9, 30))] == ["common.partner-report-intermediary"]
    namesake = named | {"intermediaries": [{"id": "KH-BRK-0078", "name": "Mekong Example Fixers", "role": "other"}]}
    assert warned(packset, registries_dir, namesake, date(2025, 9, 30)) == []  # another id: another party, whatever its name
    broker = sample("kh-broker-revoked.json") | {"broker_id": "KH-BRK-0077"}
    assert [f.rule_id for f in warned(packset, registries_dir, broker, date(2025, 9, 30))] == ["common.partner-report-broker"]


def test_a_withdrawn_report_no_longer_warns_from_the_day_the_withdrawal_was_received(service: NoticeService, packset: PackSet, registries_dir: Path) -> None:
    clean = sample("kh-candidate-clean.json")
    receive(service, packset, registries_dir, report())
    refused("framework.nothing_to_withdraw", receive, service, packset, registries_dir, withdrawal(withdraws="MoLVT No. 999/25"))
    receive(service, packset, registries_dir, withdrawal())
    assert warned(packset, registries_dir, clean, date(2025, 9, 30)) == []
    assert [f.rule_id for f in warned(packset, registries_dir, clean, date(2025, 9, 27))] == [RULE]  # as of before the withdrawal
    listed = Registry.model_validate_json((registries_dir / LIST).read_bytes())
    (entry,) = received_entries(registries_dir)
    assert (entry.ended_on, entry.ended_because) == (date(2025, 9, 28), "withdrawn") and "MoLVT No. 131/25" in listed.source
    (before,) = warned(packset, registries_dir, clean, date(2025, 9, 27))
    assert "131/25" not in before.message.en  # as of a day before, the report is cited as it then stood
    assert [r["kind"] for r in inbox_service.listing(service, frozenset(["KH"]))] == ["report_withdrawal", "intermediary_report"]


def test_a_later_report_supersedes_the_earlier_one(service: NoticeService, packset: PackSet, registries_dir: Path) -> None:
    receive(service, packset, registries_dir, report())
    receive(service, packset, registries_dir, report(reference="MoLVT No. 140/25", dated="2025-09-29", received_on="2025-09-30"))
    first, second = received_entries(registries_dir)
    assert (first.ended_on, first.ended_because, second.listed_from) == (date(2025, 9, 30), "superseded", date(2025, 9, 30))
    (finding,) = warned(packset, registries_dir, sample("kh-candidate-clean.json"), date(2025, 10, 1))
    assert "MoLVT No. 140/25" in finding.message.en and "MoLVT No. 120/25" not in finding.message.en


# --------------------------------------------------------------------------- the list and the inbox row: both or neither


def test_a_failure_after_the_list_was_written_leaves_neither_half(
    service: NoticeService, packset: PackSet, registries_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (registries_dir / LIST).read_bytes()

    def broken(*_args: Any, **_kwargs: Any) -> bool:
        assert (registries_dir / LIST).read_bytes() != before  # the list was written: this failure comes after it
        raise RuntimeError("disk full while recording the inbox row")

    monkeypatch.setattr(inbox_rows, "add_received", broken)
    with pytest.raises(RuntimeError):
        receive(service, packset, registries_dir, report())
    monkeypatch.undo()
    assert (registries_dir / LIST).read_bytes() == before
    assert inbox_service.listing(service, frozenset()) == []
    receive(service, packset, registries_dir, report())  # recorded whole once the failure is gone
    assert len(inbox_service.listing(service, frozenset())) == 1


def test_a_list_that_cannot_be_written_records_no_inbox_row_nor_import(
    tmp_path: Path, packset: PackSet, registries_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(tmp_path, registries_dir=registries_dir)
    db: Database = service.app.state.db
    notices = NoticeService(Outbox(db), db)
    before = (registries_dir / "kh-accredited-agencies.json").read_bytes()

    def no_space(*_args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(registry_service, "write_registry", no_space)
    for data in (_revocation(), report()):  # either kind of list
        with pytest.raises(OSError):
            receive(notices, packset, registries_dir, data)
    assert (registries_dir / "kh-accredited-agencies.json").read_bytes() == before
    assert inbox_service.listing(notices, frozenset()) == []
    with db.read() as conn:
        assert import_history.history(conn) == []
    monkeypatch.undo()
    receive(notices, packset, registries_dir, report())
    with db.read() as conn:
        (imported,) = import_history.history(conn, "KH", "intermediary-reports")
    assert imported["imported_by"] == "suzuki" and "MoLVT No. 120/25" in imported["source"]


def _revocation() -> bytes:
    base = {"country": "KH", "kind": "revocation", "dated": "2025-09-20", "received_on": "2025-09-25", "reference": "MoLVT No. 118/25"}
    return json.dumps(base | {"agency": AGENCY, "effective_on": "2025-03-01"}).encode()


# --------------------------------------------------------------------------- end to end: SQLite and PostgreSQL, API, CLI


def test_end_to_end_on_sqlite_and_postgresql(db_location: str | Path, packset: PackSet, registries_dir: Path) -> None:
    db = Database(db_location)
    service = NoticeService(Outbox(db))
    try:
        clean = sample("kh-candidate-clean.json")
        receive(service, packset, registries_dir, report())
        assert [f.rule_id for f in warned(packset, registries_dir, clean, date(2025, 9, 30))] == [RULE]
        receive(service, packset, registries_dir, withdrawal())
        assert warned(packset, registries_dir, clean, date(2025, 9, 30)) == []
        assert [r["reference"] for r in inbox_service.listing(service, frozenset(["KH"]))] == ["MoLVT No. 131/25", "MoLVT No. 120/25"]
        refused("framework.already_received", receive, service, packset, registries_dir, report())
    finally:
        service.outbox.close()
        db.close()


def test_a_report_posted_to_the_api_warns_the_next_screening_and_is_logged(tmp_path: Path, registries_dir: Path) -> None:
    service = make_service(tmp_path, registries_dir=registries_dir)
    reviewer = {**service.as_("reviewer"), "content-type": "application/json"}
    posted = service.client.post("/api/v1/framework/inbox", content=report(received_on=date.today().isoformat()), headers=reviewer)
    assert posted.status_code == 200, posted.text
    screened = service.client.post(
        "/api/v1/screenings",
        content=json.dumps(sample("kh-candidate-clean.json") | {"submitted": date.today().isoformat()}).encode(),
        headers={**service.as_("screener"), "content-type": "application/json"},
    ).json()
    (finding,) = [f for f in screened["report"]["findings"] if f["rule_id"] == RULE]
    assert posted.json()["id"] in finding["message"]["en"]
    gone = service.client.post("/api/v1/framework/inbox", content=withdrawal(withdraws="MoLVT No. 1/24"), headers=reviewer)
    assert gone.status_code == 422 and gone.json()["errors"]


def test_the_command_line_receives_a_report_and_the_intermediary_view_shows_it(tmp_path: Path, packset: PackSet, registries_dir: Path) -> None:
    runner = CliRunner()
    letter = tmp_path / "letter.json"
    letter.write_bytes(report())
    outbox = str(tmp_path / "o.sqlite")
    recorded = runner.invoke(main, ["exchange", "receive", str(letter), "--registries", str(registries_dir), "--outbox", outbox])
    assert recorded.exit_code == 0, recorded.stderr
    dossier = tmp_path / "kh.json"
    dossier.write_text(json.dumps(sample("kh-candidate-clean.json")))
    results = tmp_path / "results.jsonl"
    checked = runner.invoke(
        main, ["check", str(dossier), "--registries", str(registries_dir), "--as-of", "2025-09-30", "--format", "jsonl", "--fail-on", "warn"]
    )
    assert checked.exit_code == 1, checked.stderr
    results.write_text(checked.stdout)
    shown = runner.invoke(main, ["report", str(results), "--view", "intermediary", "--format", "csv"])
    assert shown.exit_code == 0, shown.stderr
    header, row = list(csv.reader(shown.stdout.splitlines()))[:2]
    assert "MoLVT No. 120/25, 2025-09-20" in row[header.index("partner's 4(1) reports")]


# --------------------------------------------------------------------------- Japan's own drafts can be withdrawn


def test_drafts_of_japans_improvement_order_notices_and_inquiries_can_be_withdrawn(service: NoticeService, packset: PackSet, registries: Any) -> None:
    did = inbox_service.draft_inquiry(service, packset, "LA", "Confirm accreditation LA-ACC-0001", 14, WHO)
    refused("framework.reason_missing", inbox_service.change_dispatch, service, did, "withdraw", WHO, packset, TODAY)
    gone = inbox_service.change_dispatch(service, did, "withdraw", WHO, packset, TODAY, reason="asked by telephone instead")
    assert (gone["state"], gone["reason"]) == ("withdrawn", "asked by telephone instead")
    refused("framework.wrong_state", inbox_service.change_dispatch, service, did, "approve", WHO, packset, TODAY)
    orders = inbox_service.draft_orders(service, packset, registries, date(2025, 1, 1), date(2025, 9, 30), WHO, TODAY)
    first = orders.notices[0]["id"]
    assert inbox_service.change_dispatch(service, first, "withdraw", WHO, packset, TODAY, reason="the order was lifted")["state"] == "withdrawn"
