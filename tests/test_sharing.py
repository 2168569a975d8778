"""Sharing notices: grouping, dedup, the approval gate, confidentiality, no cross-country leaks, faults."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from dossier_rules.batch import record_digest
from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.locale import set_language, use_language
from dossier_rules.model import DOSSIER_ADAPTER
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.sharing import Outbox, OutboxError, provenance_problem, render

from .conftest import ROOT, SAMPLES, sample

TODAY = date(2025, 10, 1)


def write_reports(engine: Engine, path: Path, dossiers: list[tuple[str, dict]]) -> Path:
    """Screen dossiers (with their source paths) and write the reports as JSON Lines."""
    with path.open("w", encoding="utf-8") as out:
        for source, data in dossiers:
            report = engine.evaluate(DOSSIER_ADAPTER.validate_python(data), source=source)
            if Path(source).is_file():  # as batch and check record it: the proof of which dossier this is
                report.source_sha256 = record_digest(Path(source).read_bytes())
            out.write(report.model_dump_json() + "\n")
    return path


def all_samples() -> list[tuple[str, dict]]:
    return [(str(p), json.loads(p.read_text())) for p in sorted(SAMPLES.glob("*.json"))]


@pytest.fixture()
def reports(engine: Engine, tmp_path: Path) -> Path:
    return write_reports(engine, tmp_path / "reports.jsonl", all_samples())


def build(packset: PackSet, outbox: Path, *sources: Path, personal: bool = False):
    with Outbox(outbox) as box:
        return box.build(packset, sources, with_personal_data=personal)


def notices(outbox: Path) -> dict[str, object]:
    with Outbox(outbox) as box:
        return {row["id"]: box.notice(row["id"]) for row in box.notices()}


def test_grouping_one_notice_per_partner_intermediary_and_act(packset: PackSet, reports: Path, tmp_path: Path) -> None:
    build(packset, tmp_path / "o.sqlite", reports)
    found = notices(tmp_path / "o.sqlite")
    keys = [(n.country, n.act, (n.intermediary or {}).get("id")) for n in found.values() if n.act != "test_fraud"]
    assert len(keys) == len(set(keys))
    pk = {n.act for n in found.values() if n.country == "PK"}
    assert pk == {"b", "c", "d", "e"}
    (revocation,) = [n for n in found.values() if n.country == "KH" and n.act == "revocation"]
    # a broker dossier dates no act after the revocation, so only the candidate's (a certificate issued after it) is reported
    assert [d.dossier_id for d in revocation.dossiers] == ["KH-CAND-0004"]
    assert revocation.intermediary["id"] == "KH-BRK-0007"
    fraud = [n for n in found.values() if n.act == "test_fraud"]
    assert len(fraud) == 2 and all(n.intermediary is None and n.provision == "MOC-KG 5" for n in fraud)


def test_acts_cite_the_article_of_their_own_moc(packset: PackSet, reports: Path, tmp_path: Path) -> None:
    build(packset, tmp_path / "o.sqlite", reports)
    for n in notices(tmp_path / "o.sqlite").values():
        assert n.provision.startswith(f"MOC-{n.country} ")
        assert all(f.article.startswith(f"MOC-{n.country} ") for d in n.dossiers for f in d.findings)


def test_same_findings_again_create_nothing_and_ids_are_deterministic(packset: PackSet, reports: Path, tmp_path: Path) -> None:
    first = build(packset, tmp_path / "a.sqlite", reports)
    again = build(packset, tmp_path / "a.sqlite", reports)
    assert first.created and not again.created and not again.extended
    assert again.duplicates == len(snapshot(tmp_path / "a.sqlite")[1])
    build(packset, tmp_path / "b.sqlite", reports)
    assert sorted(notices(tmp_path / "a.sqlite")) == sorted(notices(tmp_path / "b.sqlite"))


def test_new_dossier_joins_the_open_draft_and_an_approved_notice_is_frozen(engine: Engine, packset: PackSet, tmp_path: Path) -> None:
    base = sample("pk-candidate-false-documents.json")
    second = {**base, "dossier_id": "PK-CAND-0099"}
    outbox = tmp_path / "o.sqlite"
    build(packset, outbox, write_reports(engine, tmp_path / "1.jsonl", [("x", base)]))
    (d_notice,) = [n for n in notices(outbox).values() if n.act == "d"]
    result = build(packset, outbox, write_reports(engine, tmp_path / "2.jsonl", [("y", second)]))
    assert d_notice.notice_id in result.extended and not result.created
    assert [d.dossier_id for d in notices(outbox)[d_notice.notice_id].dossiers] == ["PK-CAND-0002", "PK-CAND-0099"]
    with Outbox(outbox) as box:
        box.approve(d_notice.notice_id, "Sato")
    third = {**base, "dossier_id": "PK-CAND-0100"}
    result = build(packset, outbox, write_reports(engine, tmp_path / "3.jsonl", [("z", third)]))
    assert d_notice.notice_id.replace("-1", "-2") in result.created
    assert len(notices(outbox)[d_notice.notice_id].dossiers) == 2


def test_nothing_leaves_without_approval(packset: PackSet, reports: Path, tmp_path: Path) -> None:
    outbox = tmp_path / "o.sqlite"
    build(packset, outbox, reports)
    nid = next(iter(notices(outbox)))
    with Outbox(outbox) as box:
        with pytest.raises(OutboxError, match="draft"):
            box.export(nid, packset, TODAY)
        with pytest.raises(OutboxError, match="approver"):
            box.approve(nid, "  ")
        approved = box.approve(nid, "Suzuki")
        assert (approved.state, approved.approved_by) == ("approved", "Suzuki")
        with pytest.raises(OutboxError, match="already approved"):
            box.approve(nid, "Suzuki")
        exported = box.export(nid, packset, TODAY)
        assert exported.state == "exported" and exported.exported_at
    runner = CliRunner()
    other = next(i for i in notices(outbox) if i != nid)
    refused = runner.invoke(main, ["share", "export", other, "--outbox", str(outbox)])
    assert refused.exit_code == 1 and "approve it first" in refused.stderr
    assert runner.invoke(main, ["share", "export", "N-XX-nope", "--outbox", str(outbox)]).exit_code == 2


def test_confidentiality_wording_follows_each_moc(packset: PackSet, reports: Path, tmp_path: Path) -> None:
    outbox = tmp_path / "o.sqlite"
    build(packset, outbox, reports)
    for n in notices(outbox).values():
        moc = packset.for_country(n.country).moc
        assert n.confidentiality["article"] == f"MOC-{n.country} 3"
        assert n.confidentiality["text"] == moc.confidentiality.text.model_dump()
        html = render(n, "html")
        if n.country == "PK":
            assert n.confidentiality["scope"] == "anyone" and "no disclosure to anyone" in html
        else:
            assert n.confidentiality["scope"] == "third_parties" and "no disclosure to third parties" in html


def test_no_notice_carries_another_countrys_dossier(engine: Engine, packset: PackSet, tmp_path: Path) -> None:
    """A mixed batch where one intermediary id appears under several countries still never mixes them."""
    mixed = all_samples()
    for country in ("LA", "KG", "TJ", "PK", "KH"):
        data = sample("pk-candidate-false-documents.json")
        mixed.append((f"m-{country}", {**data, "dossier_id": f"{country}-MIX-1", "country": country}))
    outbox = tmp_path / "o.sqlite"
    build(packset, outbox, write_reports(engine, tmp_path / "mixed.jsonl", mixed))
    country_of = {data["dossier_id"]: data["country"] for _, data in mixed}
    with Outbox(outbox) as box:
        for row in box.notices():
            box.approve(row["id"], "Reviewer")
            notice = box.export(row["id"], packset, TODAY)
            exported = json.loads(render(notice, "json"))
            partner = packset.for_country(exported["country"]).moc
            assert exported["recipient"]["contact_point"] == partner.contact_points.partner.model_dump()
            assert {country_of[d["dossier_id"]] for d in exported["dossiers"]} == {exported["country"]}


def test_candidates_appear_by_reference_unless_personal_data_is_asked_for(engine: Engine, packset: PackSet, tmp_path: Path) -> None:
    path = str(SAMPLES / "pk-candidate-false-documents.json")
    reports = write_reports(engine, tmp_path / "r.jsonl", [(path, sample("pk-candidate-false-documents.json"))])
    build(packset, tmp_path / "plain.sqlite", reports)
    for n in notices(tmp_path / "plain.sqlite").values():
        text = render(n, "json") + render(n, "html") + render(n, "md")
        assert "Bilal Example" not in text and "PK-CAND-0002" in text
        assert n.intermediary["name"] == "Indus Example Promoters (fictional)"
    build(packset, tmp_path / "personal.sqlite", reports, personal=True)
    for n in notices(tmp_path / "personal.sqlite").values():
        assert n.dossiers[0].identity["name"] == "Bilal Example"
        assert "Bilal Example" in render(n, "html")


def test_html_escapes_dossier_text(engine: Engine, packset: PackSet, tmp_path: Path) -> None:
    data = sample("pk-candidate-false-documents.json")
    data["documents"][0]["provided_by"]["name"] = "<script>alert(1)</script>"
    build(packset, tmp_path / "o.sqlite", write_reports(engine, tmp_path / "r.jsonl", [("x", data)]))
    html = "".join(render(n, "html") for n in notices(tmp_path / "o.sqlite").values())
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_exported_json_matches_the_published_schema(packset: PackSet, reports: Path, tmp_path: Path) -> None:
    schema = json.loads((ROOT / "schemas" / "notice.schema.json").read_text())
    build(packset, tmp_path / "o.sqlite", reports)
    for n in notices(tmp_path / "o.sqlite").values():
        jsonschema.validate(json.loads(render(n, "json")), schema)


def snapshot(outbox: Path) -> tuple[list, list]:
    db = sqlite3.connect(outbox)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM notices n WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.notice_id = n.id)").fetchone()[0] == 0
        return (
            db.execute("SELECT id, state FROM notices ORDER BY id").fetchall(),
            db.execute("SELECT finding_key, notice_id FROM items ORDER BY finding_key").fetchall(),
        )
    finally:
        db.close()


BUILD_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from dossier_rules.packs import load_packs
    from dossier_rules.sharing import Outbox
    die_after = int(sys.argv[3])
    if die_after:
        original, calls = Outbox._add, []
        def dying(self, *args):
            calls.append(1)
            if len(calls) > die_after:
                os._exit(9)   # like a kill: no cleanup, no rollback by Python
            return original(self, *args)
        Outbox._add = dying
    with Outbox(Path(sys.argv[1])) as box:
        box.build(load_packs(Path(sys.argv[4])), [Path(sys.argv[2])])
    """
)


def run_build(outbox: Path, reports: Path, die_after: int = 0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BUILD_SCRIPT, str(outbox), str(reports), str(die_after), str(ROOT / "rules")])


def test_a_killed_run_leaves_the_outbox_consistent_and_a_rerun_completes(packset: PackSet, reports: Path, tmp_path: Path) -> None:
    reference = tmp_path / "ref.sqlite"
    build(packset, reference, reports)
    outbox = tmp_path / "o.sqlite"
    assert run_build(outbox, reports, die_after=5).wait() == 9
    _partial_notices, partial_items = snapshot(outbox)
    assert 0 < len(partial_items) < len(snapshot(reference)[1])
    assert run_build(outbox, reports).wait() == 0
    assert snapshot(outbox) == snapshot(reference)


def test_two_builds_at_once_neither_corrupt_nor_duplicate(packset: PackSet, reports: Path, tmp_path: Path) -> None:
    reference = tmp_path / "ref.sqlite"
    build(packset, reference, reports)
    outbox = tmp_path / "o.sqlite"
    procs = [run_build(outbox, reports) for _ in range(2)]
    assert [p.wait() for p in procs] == [0, 0]
    assert snapshot(outbox) == snapshot(reference)


def test_share_cli_round_trip(engine: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(main, ["check", str(SAMPLES), "--format", "json", "--fail-on", "never"])
    (tmp_path / "reports.json").write_text(checked.output)
    outbox = str(tmp_path / "o.sqlite")
    built = runner.invoke(main, ["share", "build", str(tmp_path / "reports.json"), "--outbox", outbox])
    assert built.exit_code == 0 and "notice(s) built" in built.output
    listed = json.loads(runner.invoke(main, ["share", "list", "--format", "json", "--outbox", outbox]).output)
    nid = listed[0]["id"]
    assert runner.invoke(main, ["share", "approve", nid, "--by", "Kato", "--outbox", outbox]).exit_code == 0
    html = tmp_path / "n.html"
    assert runner.invoke(main, ["share", "export", nid, "--format", "html", "--output", str(html), "--outbox", outbox]).exit_code == 0
    text = html.read_text()
    assert text.startswith("<!DOCTYPE html>") and "内部確認用の要約" in text and "Contact point" in text
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"dossier_id": \n')
    assert runner.invoke(main, ["share", "build", str(broken), "--outbox", outbox]).exit_code == 2


def test_personal_data_is_found_for_batch_reports_too(packset: PackSet, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n" + (SAMPLES / "pk-candidate-false-documents.json").read_text().replace("\n", "") + "\n")
    CliRunner().invoke(main, ["batch", str(source), "--out", str(tmp_path / "out.jsonl"), "--jobs", "1"])
    build(packset, tmp_path / "o.sqlite", tmp_path / "out.jsonl", personal=True)
    assert {n.dossiers[0].identity["name"] for n in notices(tmp_path / "o.sqlite").values()} == {"Bilal Example"}


def test_reports_under_a_moc_not_in_force_are_held_back_and_reported(engine: Engine, packset: PackSet, tmp_path: Path) -> None:
    tajik = sample("tj-candidate-clean.json")
    tajik["held_property"] = [{"item": "deposit", "amount": 500, "currency": "USD", "holder": {"name": "Broker", "role": "intermediary"}}]
    cambodian = sample("kh-candidate-abroad-no-agency.json")
    early = tmp_path / "early.jsonl"
    with early.open("w", encoding="utf-8") as out:
        out.write(engine.evaluate(DOSSIER_ADAPTER.validate_python(cambodian), as_of=date(2019, 3, 1), source="kh.json").model_dump_json() + "\n")
    reports = write_reports(engine, tmp_path / "tj.jsonl", [("tj.json", tajik)])
    # a report written as if the findings were shared must still be held back: the pack status decides
    forged = tmp_path / "forged.jsonl"
    record = json.loads(reports.read_text())
    for finding in record["findings"]:
        finding.update(share=True, severity="block")
    forged.write_text(json.dumps(record) + "\n")
    result = build(packset, tmp_path / "o.sqlite", early, reports, forged)
    assert result.created == [] and notices(tmp_path / "o.sqlite") == {}
    assert [(h.dossier_id, h.state) for h in result.held_back] == [
        ("KH-CAND-0003", "not_yet_in_force"),
        ("TJ-CAND-0001", "start_unknown"),
        ("TJ-CAND-0001", "start_unknown"),
    ]
    assert all(h.findings >= 1 for h in result.held_back)
    in_force = write_reports(engine, tmp_path / "kh.jsonl", [("kh.json", cambodian)])
    assert build(packset, tmp_path / "o.sqlite", in_force).created and not build(packset, tmp_path / "o2.sqlite", in_force).held_back


def test_build_cli_reports_what_it_held_back(engine: Engine, tmp_path: Path) -> None:
    tajik = sample("tj-candidate-clean.json")
    tajik["documents"] = [{"kind": "diploma", "finding": "forged", "provided_by": {"name": "Broker", "role": "intermediary"}}]
    reports = write_reports(engine, tmp_path / "tj.jsonl", [("tj.json", tajik)])
    result = CliRunner().invoke(main, ["share", "build", str(reports), "--outbox", str(tmp_path / "o.sqlite")])
    assert result.exit_code == 0 and "0 notice(s) built" in result.output
    assert "held back, not shared: 1 report(s), 1 finding(s): the date the MOC with Tajikistan took effect is not known" in result.output
    assert "TJ-CAND-0001" not in result.output  # details only with -v
    verbose = CliRunner().invoke(main, ["share", "build", str(reports), "--outbox", str(tmp_path / "o.sqlite"), "-v"])
    assert "held back: " in verbose.output and "TJ-CAND-0001" in verbose.output
    try:
        japanese = CliRunner().invoke(main, ["--lang", "ja", "share", "build", str(reports), "--outbox", str(tmp_path / "o.sqlite")])
    finally:
        set_language("en")
    assert "共有せず保留：審査結果1件、指摘1件。協力覚書（タジキスタン）に基づく協力の開始日が分かりません" in japanese.output


def test_build_cli_prints_counts_by_outcome_and_details_only_when_asked(engine: Engine, tmp_path: Path) -> None:
    base = sample("pk-candidate-false-documents.json")
    outbox = tmp_path / "o.sqlite"
    first = write_reports(engine, tmp_path / "1.jsonl", [("x", base)])
    second = write_reports(engine, tmp_path / "2.jsonl", [("y", {**base, "dossier_id": f"PK-CAND-{i:04d}"}) for i in range(100, 130)])
    CliRunner().invoke(main, ["share", "build", str(first), "--outbox", str(outbox)])
    result = CliRunner().invoke(main, ["share", "build", str(second), "--outbox", str(outbox)])
    drafts = len(notices(outbox))
    assert result.exit_code == 0
    assert result.output.splitlines() == [f"{outbox}: 0 notice(s) built, 30 dossier(s) added to {drafts} open draft(s), 0 finding(s) already in the outbox"]
    third = write_reports(engine, tmp_path / "3.jsonl", [("z", {**base, "dossier_id": f"PK-CAND-{i:04d}"}) for i in (200, 201)])
    verbose = CliRunner().invoke(main, ["share", "build", str(third), "--outbox", str(outbox), "-v"])
    details = [line for line in verbose.output.splitlines() if line.startswith("added to N-PK-")]
    assert len(details) == drafts and all(line.endswith(": PK-CAND-0200, PK-CAND-0201") for line in details)
    try:
        japanese = CliRunner().invoke(main, ["--lang", "ja", "share", "build", str(second), "--outbox", str(outbox)])
    finally:
        set_language("en")  # the command line sets the process language: English for the tests that follow
    assert "情報提供の案を0件作成" in japanese.output and "notice(s)" not in japanese.output


def test_export_is_refused_while_the_partners_moc_is_not_in_force(packset: PackSet, reports: Path, tmp_path: Path) -> None:
    build(packset, tmp_path / "o.sqlite", reports)
    with Outbox(tmp_path / "o.sqlite") as box:
        nid = next(row["id"] for row in box.notices() if row["country"] == "KH")
        box.approve(nid, "Sato")
        with pytest.raises(OutboxError, match="not in force on 2019-01-01"):
            box.export(nid, packset, date(2019, 1, 1))
        assert box.notice(nid).state == "approved"
        assert box.export(nid, packset, date(2019, 3, 25)).state == "exported"


def test_a_tajik_notice_is_not_exported_while_the_start_of_its_moc_is_unknown(packset: PackSet, registries, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    tj = rules / "tj.yaml"
    tj.write_text(tj.read_text(encoding="utf-8").replace("starts_on: null", 'starts_on: "2025-01-01"'), encoding="utf-8")
    started = load_packs(rules)
    tajik = sample("tj-candidate-clean.json")
    tajik["held_property"] = [{"item": "deposit", "amount": 500, "currency": "USD", "holder": {"name": "Broker", "role": "intermediary"}}]
    reports = write_reports(Engine(started, registries), tmp_path / "tj.jsonl", [("tj.json", tajik)])
    (nid,) = build(started, tmp_path / "o.sqlite", reports).created
    with Outbox(tmp_path / "o.sqlite") as box:
        box.approve(nid, "Sato")
        with pytest.raises(OutboxError, match="MOC-TJ is not in force"):
            box.export(nid, packset, TODAY)
        assert box.export(nid, started, TODAY).state == "exported"


def test_a_notice_lists_every_dossier_with_its_date_and_amounts_in_words(engine: Engine, packset: PackSet, tmp_path: Path) -> None:
    base = sample("kh-candidate-abroad-no-agency.json")
    other = json.loads(json.dumps(base))
    other.update(dossier_id="KH-CAND-0777", submitted="2025-07-15")
    other["fees"][0]["amount"] = 1250000
    other["fees"][0]["currency"] = "KHR"
    outbox = tmp_path / "o.sqlite"
    build(packset, outbox, write_reports(engine, tmp_path / "r.jsonl", [("a", base), ("b", other)]))
    (notice,) = [n for n in notices(outbox).values() if n.act == "e"]
    markdown, html = render(notice, "md"), render(notice, "html")
    assert "| KH-CAND-0003 | candidate | June 2, 2025 | 3,200 USD | 1 |" in markdown
    assert "| KH-CAND-0777 | candidate | July 15, 2025 | 1,250,000 KHR | 1 |" in markdown
    assert "<td>KH-CAND-0777</td><td>candidate</td><td>July 15, 2025</td><td>1,250,000 KHR</td>" in html
    assert "対象案件の一覧：KH-CAND-0003（候補者案件、基準日 2025年6月2日、金額 3,200 USD）、KH-CAND-0777（" in html
    assert (
        "対象案件2件：KH-CAND-0003（候補者案件、基準日 2025年6月2日、金額 3,200 USD）、KH-CAND-0777（候補者案件、基準日 2025年7月15日、金額 1,250,000 KHR）"
        in markdown
    )


def test_a_report_that_does_not_name_its_packs_is_held_back(engine: Engine, packset: PackSet) -> None:
    """A lean batch report cut from its run header says nothing of its packs: it is not shared, and the problem says why."""
    report = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample("kh-candidate-abroad-no-agency.json")))
    pack = packset.packs[report.pack]
    shared = [f for f in report.findings if f.share]
    assert shared and provenance_problem(pack, report, shared, "r.jsonl") is None
    problem = provenance_problem(pack, report.model_copy(update={"packs": None}), shared, "r.jsonl")
    assert problem is not None and problem.kind == "unverified"
    assert f"report {report.dossier_id} does not name the packs it was made with" in problem.message
    with use_language("ja"):  # share build --lang ja words it in Japanese too
        worded = provenance_problem(pack, report.model_copy(update={"packs": None}), shared, "r.jsonl")
        other = provenance_problem(pack, report.model_copy(update={"packs": report.packs[:1]}), shared, "r.jsonl")
    assert worded is not None and f"審査結果 {report.dossier_id} には、審査に用いたパックが記録されていません" in worded.message
    assert other is not None and "現在読み込まれているパックとは異なるパック" in other.message


def fraud_case(dossier_id: str, name: str, taken_on: str | None) -> tuple[str, dict]:
    """A KG candidate whose skills certificate was found altered, at the test ``name`` taken on ``taken_on``."""
    data = sample("kg-candidate-test-fraud.json")
    test = {"kind": "skills", "name": name, "certificate_number": f"AG-{dossier_id}", "certificate_forged_or_altered": True}
    data.update(dossier_id=dossier_id, tests=[test | ({"taken_on": taken_on} if taken_on else {})])
    return f"{dossier_id}.json", data


def test_test_fraud_notices_group_by_test_sitting(engine: Engine, packset: PackSet, tmp_path: Path) -> None:
    """KG 5 shares information about the test (当該試験に関し): one notice per sitting (kind, name, date), the same name
    spelled twice ways counting once; a case without its date cannot be placed in a sitting and stays alone."""
    cases = [
        fraud_case("KG-F-1", "Agriculture Skills Test", "2025-03-09"),
        fraud_case("KG-F-2", "agriculture  skills test", "2025-03-09"),
        fraud_case("KG-F-3", "Agriculture Skills Test", "2025-04-13"),
        fraud_case("KG-F-4", "Agriculture Skills Test", None),
    ]
    build(packset, tmp_path / "o.sqlite", write_reports(engine, tmp_path / "r.jsonl", cases))
    fraud = [n for n in notices(tmp_path / "o.sqlite").values() if n.act == "test_fraud"]
    grouped = sorted(sorted(d.dossier_id for d in n.dossiers) for n in fraud)
    assert grouped == [["KG-F-1", "KG-F-2"], ["KG-F-3"], ["KG-F-4"]]
    assert all(n.intermediary is None and n.provision == "MOC-KG 5" for n in fraud)
    later = write_reports(engine, tmp_path / "later.jsonl", [fraud_case("KG-F-5", "AGRICULTURE SKILLS TEST", "2025-03-09")])
    result = build(packset, tmp_path / "o.sqlite", later)
    assert not result.created and len(result.extended) == 1
    sitting = notices(tmp_path / "o.sqlite")[result.extended[0]]
    assert sorted(d.dossier_id for d in sitting.dossiers) == ["KG-F-1", "KG-F-2", "KG-F-5"]
