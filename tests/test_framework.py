"""The framework both ways: a notice's life after approval, its history and timing, and the inbox of partners' communications."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.errors import DossierError
from dossier_rules.framework import life
from dossier_rules.packs import PackSet
from dossier_rules.registries import Registry
from dossier_rules.services import framework as inbox_service
from dossier_rules.services import screening_log
from dossier_rules.services.notices import NoticeService, Reviewer
from dossier_rules.sharing import Outbox
from dossier_rules.storage import framework as life_rows

from .conftest import ROOT
from .server_support import Service, make_service
from .test_sharing import all_samples, write_reports

TODAY = date(2025, 10, 1)
WHO = Reviewer("suzuki", "Suzuki")


def result() -> life.Answer:
    """The partner's result, dated the day it is recorded (read when used: a run may cross midnight)."""
    return life.Answer(text="MoLVT inspected the agency and issued guidance.", received_on=date.today(), reference="MoLVT-2025-118", action="guidance")


@pytest.fixture()
def outbox(engine: Engine, packset: PackSet, tmp_path: Path) -> NoticeService:
    reports = write_reports(engine, tmp_path / "reports.jsonl", all_samples())
    service = NoticeService(Outbox(tmp_path / "o.sqlite"))
    service.build(packset, [(str(reports), r) for _s, r in _read(reports)])
    return service


def _read(path: Path) -> list[tuple[str, Any]]:
    from dossier_rules.report import Report

    return [(str(path), Report.model_validate_json(line)) for line in path.read_text().splitlines()]


def notice_of(service: NoticeService, country: str, act: str) -> str:
    return next(r["id"] for r in service.outbox.notices() if r["country"] == country and r["act"] == act)


def sent(service: NoticeService, packset: PackSet, nid: str) -> None:
    service.approve(nid, WHO)
    service.send(nid, "email", packset, TODAY, WHO)


def refused(code: str, call: Any, *args: Any, **kwargs: Any) -> DossierError:
    with pytest.raises(DossierError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.code
    return caught.value


# --------------------------------------------------------------------------- the life of a notice


def test_a_notice_lives_draft_approved_sent_answered_closed_and_its_history_says_who_and_when(outbox: NoticeService, packset: PackSet) -> None:
    nid = notice_of(outbox, "KH", "revocation")
    refused("framework.wrong_state", outbox.send, nid, "email", packset, TODAY, WHO)  # a draft is never sent
    sent(outbox, packset, nid)
    refused("framework.wrong_state", outbox.send, nid, "post", packset, TODAY, WHO)  # sent once
    outbox.answer(nid, result(), WHO)
    refused("framework.wrong_state", outbox.answer, nid, result(), WHO)
    outbox.close(nid, WHO, "guidance given")
    story = outbox.history(nid)
    assert story["state"] == "closed" and story["expects_result"]
    assert [s["kind"] for s in story["steps"]] == ["created", "approved", "send", "answer", "close"]
    assert story["steps"][2]["how"] == "email" and all(s["by"] == "suzuki" for s in story["steps"][2:])
    assert story["answer"]["action"] == "guidance" and story["answer"]["reference"] == "MoLVT-2025-118"
    refused("framework.wrong_state", outbox.withdraw, nid, "too late", WHO)
    assert nid not in [r["id"] for r in outbox.open_notices(frozenset(), {}, TODAY)]


def test_a_notice_asking_for_an_investigation_is_not_closed_without_the_result(outbox: NoticeService, packset: PackSet) -> None:
    kh = notice_of(outbox, "KH", "revocation")
    sent(outbox, packset, kh)
    refused("framework.awaits_result", outbox.close, kh, WHO)
    other = notice_of(outbox, "PK", "b")  # a 4(1) notice asks for nothing back: it closes once sent
    sent(outbox, packset, other)
    outbox.close(other, WHO)
    assert outbox.history(other)["state"] == "closed" and not outbox.history(other)["expects_result"]


def test_a_result_dated_before_the_notice_was_sent_is_refused(outbox: NoticeService, packset: PackSet) -> None:
    nid = notice_of(outbox, "KH", "revocation")
    sent(outbox, packset, nid)
    early = result().model_copy(update={"received_on": date(2020, 1, 1)})
    refused("framework.answer_before_sent", outbox.answer, nid, early, WHO)
    assert outbox.history(nid)["state"] == "sent"


def test_withdrawal_needs_a_reason_and_works_before_and_after_sending(outbox: NoticeService, packset: PackSet) -> None:
    approved = notice_of(outbox, "KH", "revocation")
    refused("framework.wrong_state", outbox.withdraw, approved, "a draft is simply not approved", WHO)
    outbox.approve(approved, WHO)
    refused("framework.reason_missing", outbox.withdraw, approved, "  ", WHO)
    outbox.withdraw(approved, "the dossier was withdrawn by the applicant", WHO)
    assert outbox.history(approved)["state"] == "withdrawn"
    refused("framework.wrong_state", outbox.send, approved, "email", packset, TODAY, WHO)
    refused("framework.wrong_state", outbox.export, approved, packset, TODAY, "json", WHO)  # a withdrawn notice does not leave
    other = notice_of(outbox, "PK", "b")
    sent(outbox, packset, other)
    outbox.withdraw(other, "sent to the wrong contact point", WHO)
    last = outbox.history(other)["steps"][-1]
    assert (last["kind"], last["by"], last["reason"]) == ("withdraw", "suzuki", "sent to the wrong contact point")
    assert other not in [r["id"] for r in outbox.open_notices(frozenset(), {}, TODAY)]


def test_an_unknown_notice_is_refused_by_every_change(outbox: NoticeService, packset: PackSet) -> None:
    for call, args in ((outbox.send, ("email", packset, TODAY, WHO)), (outbox.answer, (result(), WHO)), (outbox.close, (WHO,)), (outbox.history, ())):
        refused("notice.not_found", call, "N-XX-nope", *args)


def test_sending_is_refused_while_the_partners_moc_is_not_in_force(outbox: NoticeService, packset: PackSet) -> None:
    nid = notice_of(outbox, "KH", "revocation")
    outbox.approve(nid, WHO)
    refused("notice.not_in_force", outbox.send, nid, "email", packset, date(2010, 1, 1), WHO)
    assert outbox.history(nid)["state"] == "approved"


def test_an_exported_notice_counts_as_sent_and_takes_its_answer(outbox: NoticeService, packset: PackSet) -> None:
    nid = notice_of(outbox, "KH", "revocation")
    outbox.approve(nid, WHO)
    outbox.export(nid, packset, TODAY, "json", WHO)
    (row,) = [r for r in outbox.open_notices(frozenset(["KH"]), {}, TODAY) if r["id"] == nid]
    assert (row["state"], row["sent_how"]) == ("sent", "exported")
    outbox.answer(nid, result().model_copy(update={"received_on": date.today()}), WHO)
    assert outbox.history(nid)["state"] == "answered"


def test_open_notices_put_the_overdue_first_and_say_how_long_each_waited(outbox: NoticeService, packset: PackSet) -> None:
    nid = notice_of(outbox, "KH", "revocation")
    sent(outbox, packset, nid)
    today = date.today()
    within = outbox.open_notices(frozenset(), {"KH": 30}, today)
    assert within[0]["id"] != nid or not within[0]["overdue"]
    (mine,) = [r for r in within if r["id"] == nid]
    assert mine["days_before_sent"] == 0 and mine["due_on"] == (today + timedelta(days=30)).isoformat() and not mine["overdue"]
    later = outbox.open_notices(frozenset(), {"KH": 30}, today + timedelta(days=31))
    assert later[0]["id"] == nid and later[0]["overdue"]
    assert not [r for r in later[1:] if r["overdue"]]  # nothing else expects a result
    assert outbox.open_notices(frozenset(), {}, today + timedelta(days=life.DEFAULT_DUE_DAYS))[0]["overdue"] is False


def test_timing_counts_days_from_approval_to_sending() -> None:
    waited = life.timing("2025-09-01T10:00:00+00:00", "2025-09-11T09:00:00+00:00", "sent", True, 30, date(2025, 10, 12))
    assert (waited.delay_days, waited.due_on, waited.overdue) == (10, date(2025, 10, 11), True)
    waiting = life.timing("2025-09-01T10:00:00+00:00", None, "approved", False, 30, date(2025, 9, 4))
    assert (waiting.delay_days, waiting.due_on, waiting.overdue) == (3, None, False)


@pytest.mark.parametrize("spec", ["KH", "KH=0", "KH=x", "KHM=5", "KH=99999"])
def test_a_bad_due_period_is_refused(spec: str) -> None:
    refused("framework.bad_due", life.due_periods, [spec])


def test_due_periods_per_partner() -> None:
    assert life.due_periods(["kh=60", "LA=90"]) == {"KH": 60, "LA": 90}


# --------------------------------------------------------------------------- the inbox


def communication(**fields: Any) -> bytes:
    base = {"country": "KH", "kind": "revocation", "dated": "2025-09-20", "received_on": "2025-09-25", "reference": "MoLVT No. 118/25"}
    base.update({"agency": {"id": "MOLVT-ACC-0042", "name": "Angkor Example Manpower Co. (fictional)"}, "effective_on": "2025-03-01"})
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None}).encode()


@pytest.fixture()
def registries_dir(tmp_path: Path) -> Path:
    target = tmp_path / "registries"
    shutil.copytree(ROOT / "rules" / "registries", target)
    return target


BAD = [
    ({"dated": "2025-9-20"}, "/dated"),
    ({"received_on": "20250925"}, "/received_on"),
    ({"country": "XX"}, "/country"),
    ({"kind": "gossip"}, "/kind"),
    ({"effective_on": None}, "/effective_on"),
    ({"extra": 1}, "/extra"),
    ({"dated": "2025-09-26"}, "/dated"),  # written after it was received
    ({"received_on": "2999-01-01", "dated": "2999-01-01"}, "/received_on"),  # in the future
]


@pytest.mark.parametrize(("change", "pointer"), BAD)
def test_a_bad_communication_is_refused_whole_and_located(
    outbox: NoticeService, packset: PackSet, registries_dir: Path, change: dict[str, Any], pointer: str
) -> None:
    before = (registries_dir / "kh-accredited-agencies.json").read_bytes()
    error = refused("framework.refused", inbox_service.receive, outbox, packset, registries_dir, communication(**change), "letter.json", WHO, TODAY)
    assert pointer in [p.pointer for p in error.problems], [str(p) for p in error.problems]
    assert inbox_service.listing(outbox, frozenset()) == []
    assert (registries_dir / "kh-accredited-agencies.json").read_bytes() == before


def test_a_result_for_no_notice_or_another_partners_notice_is_refused(outbox: NoticeService, packset: PackSet, registries_dir: Path) -> None:
    result = {"kind": "result", "text": "guidance given", "action": "guidance", "agency": None, "effective_on": None}
    refused("framework.unknown_notice", inbox_service.receive, outbox, packset, registries_dir, communication(**result, notice_id="N-KH-nope"), "r", WHO, TODAY)
    pk = notice_of(outbox, "PK", "b")
    refused("framework.other_partner", inbox_service.receive, outbox, packset, registries_dir, communication(**result, notice_id=pk), "r", WHO, TODAY)
    assert inbox_service.listing(outbox, frozenset()) == []


def test_a_result_received_answers_its_notice_in_one_step(outbox: NoticeService, packset: PackSet, registries_dir: Path) -> None:
    nid = notice_of(outbox, "KH", "revocation")
    result = {"kind": "result", "text": "accreditation revoked", "action": "revocation", "agency": None, "effective_on": None, "notice_id": nid}
    refused("framework.wrong_state", inbox_service.receive, outbox, packset, registries_dir, communication(**result), "r", WHO, date.today())
    assert inbox_service.listing(outbox, frozenset()) == []  # refused with the answer: not half-recorded
    sent(outbox, packset, nid)
    today = date.today()
    data = communication(**result, dated=today.isoformat(), received_on=today.isoformat(), personal={"name": "A. Person"})
    received = inbox_service.receive(outbox, packset, registries_dir, data, "r", WHO, today)
    assert received.notice_id == nid and outbox.history(nid)["answer"]["received_id"] == received.id
    (listed,) = inbox_service.listing(outbox, frozenset(["KH"]))
    assert listed["body"]["personal_withheld"] is True and "A. Person" not in json.dumps(listed)


def test_a_revocation_received_updates_the_list_and_a_later_screening_finds_it(outbox: NoticeService, packset: PackSet, registries_dir: Path) -> None:
    from dossier_rules.model import DOSSIER_ADAPTER
    from dossier_rules.registries import load_registries

    clean = json.loads((ROOT / "samples" / "kh-candidate-clean.json").read_text())
    assert not Engine(packset, load_registries(registries_dir)).evaluate(DOSSIER_ADAPTER.validate_python(clean)).findings
    received = inbox_service.receive(outbox, packset, registries_dir, communication(), "letter.json", WHO, TODAY)
    listed = Registry.model_validate_json((registries_dir / "kh-accredited-agencies.json").read_bytes())
    (entry,) = [e for e in listed.entries if e.id == "MOLVT-ACC-0042"]
    assert (entry.ended_on, entry.ended_because) == (date(2025, 3, 1), "revoked")
    assert "MoLVT No. 118/25 of 2025-09-20" in (entry.note or "") and received.id in listed.source
    report = Engine(packset, load_registries(registries_dir)).evaluate(DOSSIER_ADAPTER.validate_python(clean))
    # revoked on 2025-03-01, after MoLVT issued the clean sample's certificate (2025-02-18): a warn, not a block
    assert "kh.agency-revoked-after-certificate" in [f.rule_id for f in report.findings]
    refused("framework.already_received", inbox_service.receive, outbox, packset, registries_dir, communication(), "letter.json", WHO, TODAY)


# --------------------------------------------------------------------------- the service: API, log, CLI


def log_kinds(service: Service) -> list[tuple[str, str, Any]]:
    with service.app.state.db.read() as conn:
        return [(e.kind, e.actor, orjson.loads(e.body).get("notice_id")) for e in screening_log.entries(conn)]


def revocation_notice(service: Service) -> str:
    path = ROOT / "samples" / "kh-candidate-revoked-agency.json"
    headers = {**service.as_("screener"), "content-type": "application/json"}
    sid = service.client.post("/api/v1/screenings", content=path.read_bytes(), headers=headers).json()["screening_id"]
    built = service.client.post("/api/v1/notices/build", json={"screening_ids": [sid]}, headers=service.as_("reviewer")).json()
    (nid,) = built["created"]
    return str(nid)


def test_end_to_end_finding_notice_approved_sent_answered_closed_all_logged(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    nid = revocation_notice(service)
    reviewer = service.as_("reviewer")
    api = f"/api/v1/framework/notices/{nid}"
    assert service.client.post(f"{api}/send", json={"how": "email"}, headers=reviewer).status_code == 409  # a draft
    assert service.client.post(f"/api/v1/notices/{nid}/approve", headers=reviewer).status_code == 200
    assert service.client.post(f"{api}/send", json={"how": "email"}, headers=service.as_("screener")).status_code == 403
    assert service.client.post(f"{api}/send", json={"how": "email"}, headers=reviewer).json()["state"] == "sent"
    opened = service.client.get("/api/v1/framework/open", params={"country": "kh"}, headers=reviewer).json()
    assert [(r["id"], r["state"], r["expects_result"]) for r in opened] == [(nid, "sent", True)]
    closing = service.client.post(f"{api}/close", json={}, headers={**reviewer, "accept-language": "ja"})
    assert closing.status_code == 409 and "調査" in closing.json()["errors"][0]["message"]
    answer = {"text": "Guidance issued.", "received_on": date.today().isoformat(), "reference": "MoLVT-118", "action": "guidance"}
    assert service.client.post(f"{api}/answer", json={**answer, "received_on": "2025-13-01"}, headers=reviewer).status_code == 422
    assert service.client.post(f"{api}/answer", json=answer, headers=reviewer).json()["state"] == "answered"
    assert service.client.post(f"{api}/close", json={"note": "done"}, headers=reviewer).json()["state"] == "closed"
    story = service.client.get(f"{api}/history", headers=reviewer).json()
    assert [s["kind"] for s in story["steps"]] == ["created", "approved", "send", "answer", "close"]
    kinds = [k for k in log_kinds(service) if k[2] == nid]
    assert [k[0] for k in kinds] == ["notice_approved", "notice_sent", "notice_answered", "notice_closed"] and {k[1] for k in kinds} == {"reviewer"}
    assert "Guidance issued." not in json.dumps(log_kinds(service))


def test_a_revocation_posted_to_the_inbox_is_screened_with_at_once_and_logged(tmp_path: Path, registries_dir: Path) -> None:
    service = make_service(tmp_path, registries_dir=registries_dir)
    reviewer = service.as_("reviewer")
    bad = service.client.post("/api/v1/framework/inbox", content=communication(dated="2025-02-30"), headers={**reviewer, "content-type": "application/json"})
    assert bad.status_code == 422 and bad.json()["errors"]
    posted = service.client.post("/api/v1/framework/inbox", content=communication(), headers={**reviewer, "content-type": "application/json"})
    assert posted.status_code == 200, posted.text
    assert [k[0] for k in log_kinds(service)] == ["communication_received"]
    path = ROOT / "samples" / "kh-candidate-clean.json"
    report = service.client.post(
        "/api/v1/screenings", content=path.read_bytes(), headers={**service.as_("screener"), "content-type": "application/json"}
    ).json()
    assert "kh.agency-revoked-after-certificate" in [f["rule_id"] for f in report["report"]["findings"]]
    (listed,) = service.client.get("/api/v1/framework/inbox", headers=reviewer).json()
    assert listed["id"] == posted.json()["id"] and listed["reference"] == "MoLVT No. 118/25"


def test_the_exchange_command_runs_the_life_on_a_standalone_outbox(outbox: NoticeService, packset: PackSet) -> None:
    path = str(outbox.outbox.path)
    nid = notice_of(outbox, "KH", "revocation")
    outbox.approve(nid, WHO)
    runner = CliRunner()
    assert runner.invoke(main, ["exchange", "send", nid, "--how", "post", "--by", "Sato", "--outbox", path]).exit_code == 0
    bad_date = runner.invoke(
        main, ["exchange", "answer", nid, "--text", "t", "--date", "2025-9-1", "--reference", "r", "--action", "guidance", "--outbox", path]
    )
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.stderr
    early = runner.invoke(main, ["exchange", "close", nid, "--by", "Sato", "--outbox", path])
    assert early.exit_code == 1 and "result" in early.stderr
    overdue = runner.invoke(main, ["exchange", "open", "--due", "KH=1", "--format", "json", "--outbox", path])
    assert overdue.exit_code == 0 and not [r for r in json.loads(overdue.stdout) if r["overdue"]]  # sent today: not overdue yet
    assert runner.invoke(main, ["exchange", "open", "--due", "KH=zero", "--outbox", path]).exit_code == 2
    history = runner.invoke(main, ["exchange", "history", nid, "--format", "json", "--outbox", path])
    assert [s["kind"] for s in json.loads(history.stdout)["steps"]][-1] == "send"
    assert runner.invoke(main, ["exchange", "history", "N-XX-nope", "--outbox", path]).exit_code == 2
    assert life_rows.MAX_OPEN == 1000


# --------------------------------------------------------------------------- the consultations of 4(2)


def test_the_agenda_puts_the_periods_numbers_under_the_topics_of_4_2(outbox: NoticeService, packset: PackSet, registries_dir: Path) -> None:
    today = date.today()
    nid = notice_of(outbox, "KH", "revocation")
    sent(outbox, packset, nid)
    inbox_service.receive(outbox, packset, registries_dir, communication(), "letter.json", WHO, TODAY)
    found = inbox_service.agenda(outbox, "KH", today - timedelta(days=30), today, {"KH": 1}, today + timedelta(days=5))
    assert found["article"] == "MOC-KH 4(2)" and [t["topic"] for t in found["topics"]] == list("abcdef")
    b, c = found["topics"][1]["items"], found["topics"][2]["items"]
    with outbox.outbox.db.read() as conn:
        items = conn.exec_driver_sql(
            "SELECT count(*) FROM items JOIN notices ON notices.id = items.notice_id WHERE country = 'KH' AND act <> 'test_fraud'"
        ).scalar()
    assert sum(b["findings_by_act"].values()) == items and b["findings_by_act"]["revocation"] >= 1
    assert b["intermediaries"][0]["findings"] >= b["intermediaries"][-1]["findings"] and "KH-BRK-0007" in [i["id"] for i in b["intermediaries"]]
    assert c["overdue"] == 1 and c["open_notices_by_state"]["sent"] == 1 and c["longest_wait_before_sending_days"] == 0
    assert c["revocations_received"] == 0  # received on 2025-09-25: outside the period
    earlier = inbox_service.agenda(outbox, "KH", date(2025, 9, 1), date(2025, 9, 30), {}, today)
    assert earlier["topics"][2]["items"]["revocations_received"] == 1 and earlier["topics"][1]["items"]["findings_by_act"] == {}
    refused("framework.bad_period", inbox_service.agenda, outbox, "KH", today, today - timedelta(days=1), {}, today)


# --------------------------------------------------------------------------- what Japan sends on its own


def test_improvement_orders_go_to_kh_under_6_4_and_to_la_kg_under_6_3_none_to_tj_or_pk(packset: PackSet, registries: Any) -> None:
    from dossier_rules.framework.japan import improvement_order_notices

    found = improvement_order_notices(packset, registries, date(2025, 1, 1), date(2025, 9, 30), TODAY)
    by_country = {n["country"]: n for n in found.notices}
    assert sorted(by_country) == ["KG", "KH", "LA"]
    assert (by_country["KH"]["provision"], by_country["KH"]["word"]["ja"]) == ("MOC-KH 6(4)", "通知")
    assert (by_country["LA"]["provision"], by_country["LA"]["word"]["ja"]) == ("MOC-LA 6(3)", "通報")
    # KH 6(4) covers registered support organisations too; LA/KG/TJ 6(3) receiving organisations only
    assert [o["id"] for o in by_country["KH"]["orders"]] == ["RO-JP-0999", "SO-JP-0202"]
    assert [o["id"] for o in by_country["LA"]["orders"]] == [o["id"] for o in by_country["KG"]["orders"]] == ["RO-JP-0999"]
    assert [(h["country"], h["state"]) for h in found.held_back] == [("TJ", "start_unknown")]
    none = improvement_order_notices(packset, registries, date(2025, 6, 1), date(2025, 9, 30), TODAY)
    assert none.notices == []  # no order first listed in that period


def test_the_orders_preview_on_the_command_line(tmp_path: Path) -> None:
    shown = CliRunner().invoke(main, ["exchange", "orders", "--from", "2025-01-01", "--to", "2025-09-30"])
    assert shown.exit_code == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert [n["country"] for n in found["notices"]] == ["KG", "KH", "LA"] and found["held_back"][0]["country"] == "TJ"


# --------------------------------------------------------------------------- inquiries from a partner


def inquiry(**fields: Any) -> bytes:
    base: dict[str, Any] = {"kind": "inquiry", "subject": "Is RO-JP-0999 under an improvement order?", "agency": None, "effective_on": None}
    return communication(**{**base, **fields})


def test_an_inquiry_received_is_due_and_overdue_until_japan_replies(outbox: NoticeService, packset: PackSet, registries_dir: Path) -> None:
    la = inbox_service.receive(outbox, packset, registries_dir, inquiry(country="LA", due_on="2025-10-10"), "q1", WHO, TODAY)
    kh = inbox_service.receive(outbox, packset, registries_dir, inquiry(reference="MoLVT Q-7"), "q2", WHO, TODAY)
    listed = inbox_service.inquiries(outbox, packset, frozenset(), date(2025, 10, 20))
    assert [(r["id"], r["provision"], r["due_on"], r["overdue"]) for r in listed] == [
        (la.id, "MOC-LA 6(4)", "2025-10-10", True),
        (kh.id, "MOC-KH 6(5)", "2025-10-25", False),  # 30 days after receipt when it names no date
    ]
    refused("framework.reference_missing", inbox_service.reply, outbox, la.id, " ", WHO)
    inbox_service.reply(outbox, la.id, "ISA 2025-331", WHO)
    refused("framework.not_an_open_inquiry", inbox_service.reply, outbox, la.id, "again", WHO)
    refused("framework.not_an_open_inquiry", inbox_service.reply, outbox, "R-none", "x", WHO)
    after = inbox_service.inquiries(outbox, packset, frozenset(), date(2025, 10, 20))
    assert [r["id"] for r in after] == [kh.id, la.id] and after[1]["answer_reference"] == "ISA 2025-331" and not after[1]["overdue"]


@pytest.mark.parametrize(("change", "pointer"), [({"country": "PK"}, "/kind"), ({"due_on": "2025-09-01"}, "/due_on"), ({"subject": ""}, "/subject")])
def test_an_inquiry_the_moc_does_not_provide_for_or_with_bad_dates_is_refused(
    outbox: NoticeService, packset: PackSet, registries_dir: Path, change: dict[str, Any], pointer: str
) -> None:
    error = refused("framework.refused", inbox_service.receive, outbox, packset, registries_dir, inquiry(**change), "q", WHO, TODAY)
    assert pointer in [p.pointer for p in error.problems]
    assert inbox_service.inquiries(outbox, packset, frozenset(), TODAY) == []


def test_an_inquiry_reply_through_the_api_is_logged(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    reviewer = service.as_("reviewer")
    posted = service.client.post("/api/v1/framework/inbox", content=inquiry(), headers={**reviewer, "content-type": "application/json"}).json()
    assert service.client.get("/api/v1/framework/inquiries", headers=reviewer).json()[0]["overdue"] is True  # received 2025-09-25, due 30 days later
    replied = service.client.post(f"/api/v1/framework/inquiries/{posted['id']}/reply", json={"reference": "ISA-1"}, headers=reviewer)
    assert replied.status_code == 200
    assert service.client.post(f"/api/v1/framework/inquiries/{posted['id']}/reply", json={"reference": "ISA-1"}, headers=reviewer).status_code == 409
    assert [k[0] for k in log_kinds(service)] == ["communication_received", "inquiry_answered"]


# --------------------------------------------------------------------------- Japan's own notices: drafted, approved, sent, answered, closed


def test_improvement_order_notices_drafted_once_and_sent_through_their_life(outbox: NoticeService, packset: PackSet, registries: Any) -> None:
    found = inbox_service.draft_orders(outbox, packset, registries, date(2025, 1, 1), date(2025, 9, 30), WHO, TODAY)
    assert sorted(n["country"] for n in found.notices) == ["KG", "KH", "LA"] and [h["country"] for h in found.held_back] == ["TJ"]
    again = inbox_service.draft_orders(outbox, packset, registries, date(2025, 1, 1), date(2025, 9, 30), WHO, TODAY)
    assert again.notices == []
    kh = next(n["id"] for n in found.notices if n["country"] == "KH")
    refused("framework.wrong_state", inbox_service.change_dispatch, outbox, kh, "send", WHO, packset, TODAY)
    inbox_service.change_dispatch(outbox, kh, "approve", WHO, packset, TODAY)
    refused("notice.not_in_force", inbox_service.change_dispatch, outbox, kh, "send", WHO, packset, date(2010, 1, 1))
    sent_view = inbox_service.change_dispatch(outbox, kh, "send", WHO, packset, TODAY, how="email")
    assert (sent_view["state"], sent_view["sent_how"], sent_view["provision"], sent_view["due_on"]) == ("sent", "email", "MOC-KH 6(4)", None)
    closed = inbox_service.change_dispatch(outbox, kh, "close", WHO, packset, TODAY)  # a notification expects no answer
    assert closed["state"] == "closed"
    refused("framework.no_dispatch", inbox_service.change_dispatch, outbox, "J-none", "approve", WHO, packset, TODAY)


def test_an_inquiry_to_a_partner_awaits_its_answer_and_is_overdue_past_its_due_days(outbox: NoticeService, packset: PackSet) -> None:
    refused("framework.no_inquiry_article", inbox_service.draft_inquiry, outbox, packset, "PK", "confirm certificate", 30, WHO)
    refused("framework.subject_missing", inbox_service.draft_inquiry, outbox, packset, "KH", " ", 30, WHO)
    did = inbox_service.draft_inquiry(outbox, packset, "LA", "Confirm accreditation LA-ACC-0001", 14, WHO)
    inbox_service.change_dispatch(outbox, did, "approve", WHO, packset, TODAY)
    inbox_service.change_dispatch(outbox, did, "send", WHO, packset, TODAY, how="email")
    refused("framework.awaits_result", inbox_service.change_dispatch, outbox, did, "close", WHO, packset, TODAY)
    today = date.today()
    (late,) = [d for d in inbox_service.dispatches(outbox, frozenset(["LA"]), today + timedelta(days=15)) if d["id"] == did]
    assert late["overdue"] and late["provision"] == "MOC-LA 7(6)" and late["due_on"] == (today + timedelta(days=14)).isoformat()
    answered = inbox_service.change_dispatch(outbox, did, "answer", WHO, packset, TODAY, text="Accredited since 2023", reference="MoLSW 55")
    assert answered["answer"] == {"text": "Accredited since 2023", "reference": "MoLSW 55"} and not answered["overdue"]
    refused(
        "framework.reason_missing",
        inbox_service.change_dispatch,
        outbox,
        inbox_service.draft_inquiry(outbox, packset, "KG", "q", 7, WHO),
        "withdraw",
        WHO,
        packset,
        TODAY,
    )


def test_japans_own_notices_through_the_api_are_logged(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    reviewer = service.as_("reviewer")
    drafted = service.client.post(
        "/api/v1/framework/japan/inquiries", json={"country": "KH", "subject": "Confirm MOLVT-ACC-0042", "due_days": 10}, headers=reviewer
    )
    did = drafted.json()["id"]
    assert drafted.json()["provision"] == "MOC-KH 5(7)"
    for action in ("approve", "send"):
        assert service.client.post(f"/api/v1/framework/japan/{did}/{action}", json={"how": "email"}, headers=reviewer).status_code == 200
    assert service.client.post("/api/v1/framework/japan/J-none/approve", json={}, headers=reviewer).status_code == 404
    assert service.client.post("/api/v1/framework/japan/inquiries", json={"country": "PK", "subject": "x"}, headers=reviewer).status_code == 422
    path = ROOT / "samples" / "kh-candidate-clean.json"
    sid = service.client.post("/api/v1/screenings", content=path.read_bytes(), headers={**service.as_("screener"), "content-type": "application/json"}).json()[
        "screening_id"
    ]
    linked = service.client.post("/api/v1/framework/japan/inquiries", json={"country": "KH", "subject": "Confirm", "screening_id": sid}, headers=reviewer)
    assert linked.json()["body"] == {"country": "KH", "subject": "Confirm", "screening_id": sid, "dossier_id": "KH-CAND-0001"}
    other = service.client.post("/api/v1/framework/japan/inquiries", json={"country": "LA", "subject": "Confirm", "screening_id": sid}, headers=reviewer)
    assert other.status_code == 422
    missing = service.client.post("/api/v1/framework/japan/inquiries", json={"country": "KH", "subject": "x", "screening_id": "S-none"}, headers=reviewer)
    assert missing.status_code == 404
    kinds = [k[0] for k in log_kinds(service) if k[0].startswith("dispatch")]
    assert kinds == ["dispatch_drafted", "dispatch_approved", "dispatch_sent", "dispatch_drafted"]


def test_receive_on_the_command_line_refuses_a_bad_letter_with_exit_2_and_records_a_good_one(
    outbox: NoticeService, registries_dir: Path, tmp_path: Path
) -> None:
    path = str(outbox.outbox.path)
    bad = tmp_path / "bad.json"
    bad.write_bytes(communication(dated="2025-02-30"))
    runner = CliRunner()
    refused_run = runner.invoke(main, ["exchange", "receive", str(bad), "--registries", str(registries_dir), "--outbox", path])
    assert refused_run.exit_code == 2 and "/dated" in refused_run.stderr and "YYYY-MM-DD" in refused_run.stderr
    good = tmp_path / "good.json"
    good.write_bytes(communication())
    recorded = runner.invoke(main, ["exchange", "receive", str(good), "--registries", str(registries_dir), "--outbox", path])
    assert recorded.exit_code == 0, recorded.stderr
    listed = json.loads(runner.invoke(main, ["exchange", "inbox", "--outbox", path]).stdout)
    assert [(r["kind"], r["reference"]) for r in listed] == [("revocation", "MoLVT No. 118/25")]


def test_the_whole_framework_on_sqlite_and_postgresql(
    db_location: str | Path, engine: Engine, packset: PackSet, registries: Any, registries_dir: Path, tmp_path: Path
) -> None:
    from dossier_rules.storage import Database

    reports = write_reports(engine, tmp_path / "reports.jsonl", all_samples())
    db = Database(db_location)
    service = NoticeService(Outbox(db))
    try:
        service.build(packset, _read(reports))
        nid = notice_of(service, "KH", "revocation")
        sent(service, packset, nid)
        service.answer(nid, result(), WHO)
        assert [s["kind"] for s in service.history(nid)["steps"]] == ["created", "approved", "send", "answer"]
        assert service.open_notices(frozenset(["KH"]), {}, date.today())[0]["state"] in ("approved", "answered", "draft", "sent")
        inbox_service.receive(service, packset, registries_dir, communication(), "letter.json", WHO, TODAY)
        asked = inbox_service.receive(service, packset, registries_dir, inquiry(), "q", WHO, TODAY)
        assert [r["id"] for r in inbox_service.inquiries(service, packset, frozenset(), TODAY)] == [asked.id]
        agenda = inbox_service.agenda(service, "KH", date(2025, 9, 1), date.today(), {}, date.today())
        assert agenda["topics"][2]["items"]["revocations_received"] == 1 and agenda["topics"][1]["items"]["findings_by_act"]["revocation"] >= 1
        drafted = inbox_service.draft_orders(service, packset, registries, date(2025, 1, 1), date(2025, 9, 30), WHO, TODAY)
        assert len(inbox_service.dispatches(service, frozenset(), TODAY)) == len(drafted.notices) == 3
    finally:
        service.outbox.close()
        db.close()


def test_the_articles_and_words_of_the_framework_come_from_the_packs(packset: PackSet) -> None:
    """A new partner is a pack: its inquiry articles, its word for improvement-order notices and their scope are its own data."""
    kh, la = packset.for_country("KH"), packset.for_country("LA")
    assert kh is not None and la is not None
    assert (kh.provisions()["inquiry_from_partner"], kh.provisions()["inquiry_to_partner"]) == ("6(5)", "5(7)")
    assert (la.provisions()["inquiry_from_partner"], la.provisions()["inquiry_to_partner"]) == ("6(4)", "7(6)")
    assert kh.wording()["improvement_orders_notice"].ja == "通知" and la.wording()["improvement_orders_notice"].ja == "通報"
    assert "support_organisation_orders" in kh.provisions() and "support_organisation_orders" not in la.provisions()
    pk = packset.for_country("PK")
    assert pk is not None and "inquiry_from_partner" not in pk.provisions() and "improvement_orders" not in pk.provisions()
