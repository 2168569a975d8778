"""Traces: each condition node with what it read and its result; failing pack tests show them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from dossier_rules import conditions as cond
from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.model import CandidateDossier
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.registries import Registries
from dossier_rules.sources import load_dossier
from dossier_rules.trace import MISSING, NOT_LOADED, SKIPPED, _Tracer, trace_dossier

from .conftest import MINI_PACK, SAMPLES, candidate, write_pack


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_trace_agrees_with_the_report_on_every_sample(packset: PackSet, registries: Registries, engine: Engine) -> None:
    fired_somewhere: set[str] = set()
    for path in sorted(SAMPLES.glob("*.json")):
        dossier = load_dossier(path.read_bytes(), str(path))
        report = engine.evaluate_data(dossier, timestamp=False)
        pack = packset.for_country(dossier["country"])
        assert pack is not None
        traces = trace_dossier(pack, dossier, date.fromisoformat(report["as_of"]), registries)
        fired = {t.rule for t in traces if t.fired}
        rules = {r.rule.id for r in pack.rules}
        assert fired == {f["rule_id"] for f in report["findings"] if f["rule_id"] in rules}, path.name
        assert len(traces) == len(pack.rules_for(dossier["kind"]))
        fired_somewhere |= fired
    assert len(fired_somewhere) >= 10  # the samples make many rules fire: agreement is not only on silence


def test_values_read_and_missing_fields_are_shown(packset: PackSet) -> None:
    pack = packset.for_country("KH")
    assert pack is not None
    dossier = candidate(residence="japan", fees=[{"amount": 100, "payee": {"role": "intermediary"}}])
    (rule_trace,) = trace_dossier(pack, dossier, date(2025, 3, 1), None, "common.act-e-fee-without-basis")
    (item,) = rule_trace.to_json()["trace"]
    assert not rule_trace.fired and item["item"] == "/fees/0" and item["result"] is False
    steps = item["children"]
    assert steps[0]["values"] == {"/fees/0/amount": 100} and steps[0]["result"] is True
    missing = [s for s in steps if s.get("note") == MISSING]
    assert missing and missing[0]["values"] == {"/fees/0/basis_shown": None}
    assert steps[-1]["note"] == SKIPPED and steps[-1]["result"] is None


def _trace_one(raw: dict[str, Any], dossier: dict[str, Any], registries: Registries) -> dict[str, Any]:
    node = cond.parse(raw, cond.Scope(cond.type_of_model(CandidateDossier)))
    env: cond.Env = {cond.ROOT: dossier, "$as_of": date(2025, 3, 1), "$registries": registries.view(dossier["country"], date(2025, 3, 1))}
    traced: dict[str, Any] = _Tracer(env, {cond.ROOT: ""}).step(node).to_json()
    return traced


def test_a_retrieval_date_is_shown_as_read_or_said_not_loaded(registries: Registries) -> None:
    raw = {"retrieved": "accredited-agencies", "lt": {"field": "certificate.issue_date"}}
    dossier = candidate(certificate={"issue_date": "2099-01-01"})
    loaded = _trace_one(raw, dossier, registries)
    kh = registries.get("KH", "accredited-agencies")
    assert kh is not None
    assert loaded["result"] is True and "note" not in loaded
    assert loaded["values"] == {"/certificate/issue_date": "2099-01-01", "registry accredited-agencies retrieved on": kh.registry.retrieved_on.isoformat()}
    missing = _trace_one(raw, dossier, Registries({}))
    assert missing["result"] is False and missing["note"] == NOT_LOADED
    assert missing["values"]["registry accredited-agencies retrieved on"] is None


def test_among_shows_the_party_and_the_parties_it_compared(registries: Registries) -> None:
    raw = {"field": "sending_agency", "among": "intermediaries"}
    dossier = candidate(sending_agency={"id": "B-1", "name": "Agency"}, intermediaries=[{"id": "B-1"}])
    traced = _trace_one(raw, dossier, registries)
    assert traced["result"] is True and traced["values"] == {"/sending_agency": "(object)", "/intermediaries": "(list of 1)"}
    alone = _trace_one(raw, candidate(sending_agency={"id": "B-1"}), registries)
    assert alone["result"] is False and alone["note"] == MISSING


def test_trace_command(tmp_path: Path) -> None:
    sample = SAMPLES / "la-candidate-penalty-contract.json"
    result = cli("trace", str(sample), "--rule", "common.act-b-penalty-contract", "--format", "json")
    assert result.exit_code == 1  # the traced rule fired
    payload = json.loads(result.output)
    (rule,) = payload["rules"]
    assert rule["rule"] == "common.act-b-penalty-contract" and rule["fired"] is True
    assert rule["trace"][0]["children"][0]["values"] == {"/contract_clauses/0/kind": "penalty"}
    text = cli("trace", str(sample), "--rule", "common.act-e-fee-without-basis")
    assert text.exit_code == 0 and "did not fire" in text.output and "(not evaluated: field missing)" in text.output
    assert cli("trace", str(sample), "--rule", "kh.certificate-missing").exit_code == 2  # not a rule of this pack
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    assert cli("trace", str(bad)).exit_code == 2


def broken_pack(tmp_path: Path) -> Path:
    """The mini pack with a case that expects the rule to fire on a dossier where it cannot."""
    text = MINI_PACK.replace(
        "{name: fires, expect: fire, dossier: {}}", "{name: wrongly expected to fire, expect: fire, dossier: {certificate: {number: C-2}}}"
    )
    text = text.replace(
        "{name: passes, expect: pass, dossier: {certificate: {number: C-1}}}",
        "{name: passes, expect: pass, dossier: {certificate: {number: C-1}}}\n      - {name: fires, expect: fire, dossier: {}}",
    )
    write_pack(tmp_path, "xx.yaml", text)
    return tmp_path


def test_a_failing_case_prints_the_trace_and_json_carries_it(tmp_path: Path) -> None:
    packs = broken_pack(tmp_path)
    result = cli("packs", "test", "--packs", str(packs))
    assert result.exit_code == 1
    assert "FAIL" in result.output and "wrongly expected to fire" in result.output
    assert "xx.no-certificate: did not fire" in result.output and "[false] certificate is missing    (read /certificate = (object))" in result.output
    payload = json.loads(cli("packs", "test", "--packs", str(packs), "--format", "json").output)
    (failed,) = payload["failed"]
    assert failed["case"] == "wrongly expected to fire" and failed["trace"]["fired"] is False
    assert failed["trace"]["trace"][0]["node"] == "certificate is missing"


def test_verbose_selection_and_junit(tmp_path: Path) -> None:
    packs = broken_pack(tmp_path)
    verbose = cli("packs", "test", "--packs", str(packs), "-v")
    assert verbose.output.count("ok   ") == 2 and verbose.output.count("FAIL ") == 1
    selected = cli("packs", "test", "--packs", str(packs), "--case", "passes", "-v")
    assert selected.exit_code == 0 and selected.output.count("ok   ") == 1 and "1 cases: 1 passed" in selected.output
    assert cli("packs", "test", "--packs", str(packs), "--rule", "xx.nothing").exit_code == 2
    junit = tmp_path / "junit.xml"
    cli("packs", "test", "--packs", str(packs), "--junit", str(junit))
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "3" and root.get("failures") == "1"
    (failure,) = root.iter("failure")
    assert failure.get("message") == "expected the rule to fire, it did not" and "certificate is missing" in (failure.text or "")
    assert load_packs(packs).packs["xx"]


def test_check_explain_traces_each_finding_under_it_in_text_and_json() -> None:
    sample = str(SAMPLES / "kh-candidate-revoked-agency.json")
    plain = cli("check", sample, "--format", "json")
    fired = {f["rule_id"] for f in json.loads(plain.output)["results"][0]["findings"]}
    text = cli("check", sample, "--explain")
    assert text.exit_code == plain.exit_code == 1
    for rule in fired:  # each finding's block is followed by its rule's trace, the finding's own rule first
        after = text.output[text.output.index(f"  {rule}\n") :]
        assert after.index("Why it was found:") < after.index(f"{rule}: FIRED") < after.index("[TRUE ]")
    assert "did not fire" not in text.output  # rules that did not fire are not traced
    explained = cli("check", sample, "--explain", "--format", "json")
    (entry,) = json.loads(explained.output)["explain"]
    assert entry["dossier_id"] == "KH-CAND-0004" and {r["rule"] for r in entry["rules"]} == fired and all(r["fired"] for r in entry["rules"])
    untimed = [{k: v for k, v in r.items() if k != "generated_at"} for r in json.loads(plain.output)["results"]]
    assert [
        {k: v for k, v in r.items() if k != "generated_at"} for r in json.loads(explained.output)["results"]
    ] == untimed  # the reports unchanged (each run has its own time)


def test_check_explain_of_a_named_rule_fired_or_not_in_both_languages() -> None:
    clean, broker = str(SAMPLES / "kh-candidate-clean.json"), str(SAMPLES / "la-broker-clean.json")
    rule = "kh.agency-accreditation-revoked"
    english = cli("check", clean, broker, "--explain", rule)
    assert english.exit_code == 0 and "Trace of rule kh.agency-accreditation-revoked:" in english.output
    assert f"{rule}: did not fire" in english.output and "/sending_agency/accreditation/revoked_on = (missing)" in english.output
    assert f"rule {rule} is not applied to broker dossiers under pack la" in english.output
    japanese = cli("check", clean, broker, "--explain", rule, "--lang", "ja")
    assert f"{rule}: 該当せず" in japanese.output and "Trace of rule" not in japanese.output and "is not applied" not in japanese.output
    lines = [json.loads(line) for line in cli("check", clean, broker, "--explain", rule, "--format", "jsonl").output.splitlines()]
    assert [line.get("record_type") for line in lines] == [None, "explain", None, "explain"]
    assert lines[1]["rules"][0]["fired"] is False and lines[3] == {
        "record_type": "explain",
        "source": broker,
        "dossier_id": "LA-BRK-0003",
        "rules": [],
        "rule": rule,
        "applied": False,
    }


def test_check_explain_refuses_an_unknown_rule_and_says_where_a_bare_explain_goes() -> None:
    sample = str(SAMPLES / "kh-candidate-clean.json")
    unknown = CliRunner().invoke(main, ["check", sample, "--explain", "kh.no-such-rule"])
    assert unknown.exit_code == 2 and "no pack has a rule 'kh.no-such-rule'" in unknown.output + unknown.stderr
    swallowed = CliRunner().invoke(main, ["check", "--explain", sample])  # the file was taken for the rule
    assert swallowed.exit_code == 2 and "put --explain after the files" in swallowed.output + swallowed.stderr
