"""The Rete backend: translation, refusal, crash containment, and differential tests against native.

durable-rules only ever runs in worker processes here, as in the product:
a crash in it must not take the test runner down either.
"""

from __future__ import annotations

import copy
import faulthandler
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from dossier_rules import batch, results, rete, workers
from dossier_rules import conditions as cond
from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.model import CandidateDossier
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.registries import Registries
from dossier_rules.sources import check_dossier_data, load_dossier
from dossier_rules.testing import case_dossier, pack_test_registries

from .conftest import MINI_PACK, RULES, SAMPLES, write_pack
from .test_robustness import results_in

pytest.importorskip("durable")


def findings_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    return report["findings"]


# --------------------------------------------------------------------------- translation


def test_every_shipped_rule_translates(packset: PackSet) -> None:
    assert rete.check_packs(packset) == []


def test_translation_never_emits_nex_and_guards_field_references(packset: PackSet) -> None:
    text = json.dumps([t.condition for p in packset.packs.values() for t in rete.translate_pack(p)])
    assert "$nex" not in text  # it never returns in durable-rules 2.0.28


def _translate(condition: dict[str, Any]) -> dict[str, Any]:
    node = cond.parse(condition, cond.Scope(cond.type_of_model(CandidateDossier)))
    return rete._Translator("t.rule", None).translate(node)


def test_negation_keeps_missing_is_not_false() -> None:
    # not (x == false) is true when x is missing: the translation must say so explicitly
    translated = _translate({"not": {"field": "residence", "eq": "abroad"}})
    assert translated == {"$or": [{"x.has_residence": False}, {"$neq": {"r.residence": "abroad"}}]}


def test_quantifier_that_reads_outside_its_item_is_refused_with_the_rule_named(tmp_path: Path) -> None:
    rule = {"some": {"in": "fees", "as": "f", "where": {"field": "f.explanation_language", "in": {"field": "languages"}}}}
    with pytest.raises(rete.Untranslatable, match=r"rule t\.rule"):
        _translate(rule)
    text = MINI_PACK.replace("      missing: certificate\n", "      some: {in: fees, as: f, where: {missing: f.amount}}\n")
    text = text.replace("dossier: {}}", "dossier: {fees: [{currency: USD}]}}").replace(
        "dossier: {certificate: {number: C-1}}}", "dossier: {fees: [{amount: 1}]}}"
    )
    write_pack(tmp_path, "xx.yaml", text)
    problems = rete.check_packs(load_packs(tmp_path))
    assert len(problems) == 1 and "xx.no-certificate" in problems[0] and "xx.yaml:" in problems[0]
    result = CliRunner().invoke(main, ["check", str(SAMPLES / "kh-candidate-clean.json"), "--engine", "rete", "--packs", str(tmp_path)])
    assert result.exit_code == 2 and "xx.no-certificate" in result.stderr


def test_some_and_every_translate_when_their_condition_stays_in_the_item() -> None:
    some = _translate({"some": {"in": "fees", "as": "f", "where": {"field": "f.amount", "gt": 0}}})
    every = _translate({"every": {"in": "fees", "as": "f", "where": {"field": "f.amount", "gt": 0}}})
    assert some == {"$iany": {"r.fees": {"$gt": {"$i.amount": 0}}}}
    assert every == {"$or": [{"x.count_fees": 0}, {"$iall": {"r.fees": {"$gt": {"$i.amount": 0}}}}]}


def test_aggregates_are_computed_into_the_fact_and_compared_by_durable_rules() -> None:
    count = {"count": {"in": "dependents"}, "gt": 2}
    assert _translate(count) == {"$and": [{"x.agg_0_known": True}, {"$gt": {"x.agg_0": 2}}]}
    # negated: also true when the aggregate is unknown (unknown is not false)
    assert _translate({"not": count}) == {"$or": [{"x.agg_0_known": False}, {"$and": [{"x.agg_0_known": True}, {"$lte": {"x.agg_0": 2}}]}]}
    latest = _translate({"max": {"in": "tests", "as": "t", "of": "t.taken_on"}, "lt": {"var": "as_of", "offset": "-1y"}})
    assert latest == {"$and": [{"x.agg_0_known": True}, {"$ex": {"x.date_1": 1}}, {"$lt": {"x.agg_0": {"$m": "x.date_1"}}}]}


def test_an_aggregate_inside_some_or_every_is_refused_with_the_rule_named() -> None:
    inside = {"some": {"in": "intermediaries", "as": "i", "where": {"count": {"in": "fees"}, "gt": 1}}}
    with pytest.raises(rete.Untranslatable, match=r"rule t.rule: an aggregate \(count/sum/min/max\) inside some/every"):
        _translate(inside)


# --------------------------------------------------------------------------- differential


def rete_reports(packset: PackSet, registries: Registries | None, dossiers: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    """Evaluate with the Rete backend in an isolated worker (durable-rules never loads in the test runner)."""

    def work(items: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
        engine = Engine(packset, registries, max_registry_age=None, backend="rete")
        return [engine.evaluate_data(d, as_of, timestamp=False) for d, as_of in items]

    return workers.run_isolated(work, dossiers)


def test_pack_test_cases_agree(packset: PackSet) -> None:
    for pack in packset.packs.values():
        cases = [(case_dossier(pack, r, i), r.rule.spec.tests[i].as_of) for r in pack.rules for i in range(len(r.rule.spec.tests))]
        native = Engine(packset, pack_test_registries(pack), max_registry_age=None)
        expected = [findings_of(native.evaluate_data(d, as_of, timestamp=False)) for d, as_of in cases]
        got = [findings_of(r) for r in rete_reports(packset, pack_test_registries(pack), cases)]
        assert got == expected, pack.id


def test_samples_agree(packset: PackSet, registries: Registries, native: Engine) -> None:
    dossiers = [(load_dossier(p.read_bytes(), str(p)), None) for p in sorted(SAMPLES.glob("*.json"))]
    expected = [native.evaluate_data(d, timestamp=False) for d, _ in dossiers]
    assert rete_reports(packset, registries, dossiers) == expected


# --------------------------------------------------------------------------- crash containment


def _segfault_on(marker: str, original: Any):
    def screen(engine: Engine, source: str, line: int | None, raw: bytes, as_of: Any) -> dict[str, Any]:
        if marker.encode() in raw:
            faulthandler.disable()  # a deliberate crash: no fault dump in the test output
            os.kill(os.getpid(), signal.SIGSEGV)
        return original(engine, source, line, raw, as_of)

    return screen


@pytest.mark.parametrize("backend", ["native", "rete"])
def test_a_dossier_that_kills_its_worker_gets_an_error_record_and_nothing_is_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    lines = [json.dumps(json.loads(p.read_text())) for p in sorted(SAMPLES.glob("*.json"))] * 40
    poison = json.loads((SAMPLES / "pk-candidate-clean-no-certificate.json").read_text())
    poison["dossier_id"] = "PK-POISON-1"
    lines.insert(333, json.dumps(poison))
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    # workers are forked from this process after the patch: they inherit the segfaulting screen
    monkeypatch.setattr(batch, "screen_one", _segfault_on("PK-POISON-1", batch.screen_one))
    result = CliRunner().invoke(main, ["batch", str(source), "--out", str(tmp_path / "out.jsonl"), "--jobs", "2", "--engine", backend])
    out = list(results.read_results(tmp_path / "out.jsonl"))  # the results, without the run header and checkpoints
    assert len(out) == len(lines)  # nothing lost, and the parent lived to write the summary
    crashed = [r for r in out if "errors" in r]
    assert [r["source"] for r in crashed] == [f"{source}:334"]
    assert crashed[0]["errors"][0]["kind"] == "worker_crashed" and "SIGSEGV" in crashed[0]["errors"][0]["message"]
    assert [r["dossier_id"] for r in out if "errors" not in r] == [json.loads(line)["dossier_id"] for i, line in enumerate(lines) if i != 333]
    assert result.exit_code == 2 and f"{len(lines):,} = {len(lines):,}" in result.stderr


def test_a_worker_bug_stops_the_run_instead_of_passing_for_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(engine: Engine, source: str, line: int | None, raw: bytes, as_of: Any) -> dict[str, Any]:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(batch, "screen_one", broken)
    source = tmp_path / "in.jsonl"
    source.write_text((SAMPLES / "pk-candidate-clean-no-certificate.json").read_text().replace("\n", "") + "\n")
    with pytest.raises(workers.WorkerError, match="ZeroDivisionError"):
        CliRunner().invoke(main, ["batch", str(source), "--out", str(tmp_path / "o.jsonl"), "--jobs", "2"], catch_exceptions=False)


def test_rete_check_and_batch_match_native(tmp_path: Path) -> None:
    runner = CliRunner()
    native = runner.invoke(main, ["batch", str(SAMPLES), "--out", str(tmp_path / "n.jsonl"), "--jobs", "1"])
    rete_run = runner.invoke(main, ["batch", str(SAMPLES), "--out", str(tmp_path / "r.jsonl"), "--jobs", "2", "--engine", "rete"])
    assert native.exit_code == rete_run.exit_code == 0
    native_lines, rete_lines = ((tmp_path / name).read_text().splitlines() for name in ("n.jsonl", "r.jsonl"))
    assert json.loads(rete_lines[0])["engine"]["backend"] == "rete"  # the run header says which backend ran
    assert native_lines[1:] == rete_lines[1:]  # every report, byte for byte
    tested = runner.invoke(main, ["packs", "test", "--engine", "rete"])
    assert tested.exit_code == 0 and " 0 failed" in tested.output, tested.output[-2000:]


def test_numbers_in_exponent_form_never_end_a_rete_run(tmp_path: Path) -> None:
    """durable-rules refuses ``1e+16`` or ``5e-324`` as written by Python: converted, or that record's error record."""
    clean = json.loads((SAMPLES / "kh-candidate-clean.json").read_text())
    lines = []
    for amount in ("1e16", "5e-324", "1e300", "1000000000000000000000000000000"):
        clean["fees"] = [{"amount": 0, "currency": "USD"}]
        lines.append(json.dumps(clean).replace('"amount": 0', f'"amount": {amount}'))
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    runner = CliRunner()
    native = runner.invoke(main, ["batch", str(source), "--out", str(tmp_path / "n.jsonl"), "--jobs", "1"])
    rete_run = runner.invoke(main, ["batch", str(source), "--out", str(tmp_path / "r.jsonl"), "--jobs", "1", "--engine", "rete"])
    assert rete_run.exit_code == 2, rete_run.output
    n = results_in(tmp_path / "n.jsonl")
    r = results_in(tmp_path / "r.jsonl")
    assert len(r) == 4 and native.exit_code in (0, 1)
    assert r[1]["errors"][0]["kind"] == "unsupported_number" and r[1]["errors"][0]["pointer"] == "/fees/0/amount"
    assert [findings_of(x) for i, x in enumerate(r) if i != 1] == [findings_of(x) for i, x in enumerate(n) if i != 1]


def test_aggregate_pack_cases_pass_on_both_backends(aggregate_packs: PackSet) -> None:
    directory = str(next(iter(aggregate_packs.sources.values())).path.parent)
    for engine in ("native", "rete"):
        result = CliRunner().invoke(main, ["packs", "test", "--packs", directory, "--engine", engine])
        assert result.exit_code == 0 and " 0 failed" in result.output, result.output[-2000:]


# --------------------------------------------------------------------------- generated dossiers (last: the
# module-scoped Rete worker they use then lives only while nothing else forks)


# generated dossiers: values chosen around the boundaries the rules care about
COUNTRIES = load_packs(RULES).countries
DATES = ["2023-12-31", "2024-06-01", "2025-01-14", "2025-01-15", "2025-03-01", "2025-07-01", "2025-09-30", "2025-10-01", "2026-06-01"]
ROLES = [None, "sending_agency", "intermediary", "receiving_organisation", "support_organisation", "relative", "other"]
TRI = st.sampled_from([None, True, False])
ACCREDITATION_NUMBERS = [
    None,
    "KH-ACC-TEST",
    "MOLVT-ACC-0042",
    "MOLVT-ACC-0017",
    "MOLVT-ACC-0063",
    "LA-ACC-0210",
    "LA-ACC-0187",
    "KG-ACC-0008",
    "TJ-ACC-0011",
    "UNKNOWN-1",
]
LISTED_NAMES = ["Angkor Example Manpower Co. (fictional)", "Vientiane Example Placement (fictional)"]
"""Names the sample registries give some of those numbers: a dossier naming the agency as listed, or not."""


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


def party() -> st.SearchStrategy:
    accreditation = st.fixed_dictionaries(
        {},
        optional={
            "number": st.sampled_from(ACCREDITATION_NUMBERS[1:]),
            "valid_from": st.sampled_from(DATES),
            "valid_to": st.sampled_from(DATES),
            "revoked_on": st.sampled_from(DATES),
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "id": st.sampled_from(["B-1", "B-2"]),
            "name": st.sampled_from(["Example Broker", "Example Agency"]),
            "role": st.sampled_from(ROLES[1:]),
            "accreditation": accreditation,
        },
    )


def agency() -> st.SearchStrategy:
    """A sending agency with an accreditation number, often one the registries list, revoke or expire."""
    dates = {"valid_from": st.sampled_from(DATES), "valid_to": st.sampled_from(DATES), "revoked_on": st.sampled_from(DATES)}
    accreditation = st.fixed_dictionaries({"number": st.sampled_from(ACCREDITATION_NUMBERS[1:])}, optional=dates)
    names = st.sampled_from(["Example Agency", *LISTED_NAMES])
    return st.fixed_dictionaries({"role": st.just("sending_agency"), "accreditation": accreditation}, optional={"name": names})


def items(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return maybe(st.lists(strategy, max_size=3))


CANDIDATE_FIELDS = {
    "residence": maybe(st.sampled_from(["abroad", "japan"])),
    "status_sought": maybe(st.sampled_from(["SSW1", "SSW2"])),
    "sector": maybe(st.sampled_from(["agriculture", "shipbuilding", "fishery", "construction"])),
    "hire_route": maybe(st.sampled_from(["direct", "sending_agency"])),
    "languages": maybe(st.lists(st.sampled_from(["km", "en", "ur", "ja"]), max_size=2)),
    "sending_agency": maybe(st.one_of(agency(), party())),
    "certificate": maybe(
        st.fixed_dictionaries(
            {},
            optional={
                "kind": st.sampled_from(["molvt_registration", "other"]),
                "issuer": st.sampled_from(["MoLVT", "Provincial office"]),
                "number": st.just("C-1"),
                "issue_date": st.sampled_from(DATES),
            },
        )
    ),
    "tests": items(
        st.fixed_dictionaries(
            {"kind": st.sampled_from(["skills", "japanese"])},
            optional={"identity_verified": TRI, "impersonation_reported": TRI, "certificate_forged_or_altered": TRI},
        )
    ),
    "fees": items(
        st.fixed_dictionaries(
            {},
            optional={
                "payee": party(),
                "amount": st.sampled_from([0, 0.5, 300, 1e16, 10**30, 1.5e300]),
                "currency": st.just("USD"),
                "basis_shown": TRI,
                "breakdown_explained": TRI,
                "explanation_language": st.sampled_from(["km", "en", "ja"]),
                "acknowledged": TRI,
            },
        )
    ),
    "held_property": items(
        st.fixed_dictionaries({"item": st.sampled_from(["passport", "residence_card", "deposit", "land_title"])}, optional={"holder": party()})
    ),
    "contract_clauses": items(
        st.fixed_dictionaries({"kind": st.sampled_from(["penalty", "unjust_transfer", "other"])}, optional={"party": party(), "concluded": TRI})
    ),
    "incidents": items(st.fixed_dictionaries({"kind": st.sampled_from(["violence", "threat"])}, optional={"perpetrator": party()})),
    "documents": items(
        st.fixed_dictionaries(
            {"kind": st.just("diploma")}, optional={"finding": st.sampled_from(["authentic", "forged", "altered", "false"]), "provided_by": party()}
        )
    ),
    "dependents": items(st.fixed_dictionaries({"relation": st.sampled_from(["spouse", "child"])}, optional={"accompanying": TRI})),
    "receiving_organisation_id": maybe(st.sampled_from(["RO-JP-0999", "RO-JP-0310", "RO-X"])),
    "support_organisation_id": maybe(st.sampled_from(["SO-JP-0101", "SO-JP-0202", "SO-X"])),
}
BROKER_FIELDS = {
    "role": maybe(st.sampled_from(["sending_agency", "intermediary"])),
    "based_in": maybe(st.sampled_from(["home", "JP"])),  # "home": the dossier's own country
    "accreditation": maybe(st.one_of(agency(), party()).map(lambda p: p.get("accreditation", {}))),
    "fee_schedule": maybe(st.fixed_dictionaries({}, optional={"published": TRI, "basis_shown": TRI, "breakdown_shown": TRI})),
    "practices": maybe(st.fixed_dictionaries({}, optional={"holds_passports": TRI, "takes_deposits": TRI, "penalty_contracts": TRI})),
    "complaints": items(st.fixed_dictionaries({}, optional={"act": st.sampled_from(["a", "b", "c", "d", "e", "test_fraud", "other"]), "substantiated": TRI})),
}


@st.composite
def dossiers(draw: st.DrawFn) -> dict[str, Any]:
    country = draw(st.sampled_from(COUNTRIES))
    kind = draw(st.sampled_from(["candidate", "candidate", "broker"]))
    data: dict[str, Any] = {"dossier_id": "GEN-1", "kind": kind, "country": country, "submitted": draw(st.sampled_from(DATES))}
    if kind == "candidate":
        data["identity"] = {"name": "Generated Candidate"}
        fields = CANDIDATE_FIELDS
    else:
        data["name"] = draw(st.sampled_from(["Generated Broker", *LISTED_NAMES]))
        fields = BROKER_FIELDS
    for name, strategy in fields.items():
        value = draw(strategy)
        if value == "home":
            value = country
        if value is not None:
            data[name] = copy.deepcopy(value)
    return data


@pytest.fixture(scope="module")
def rete_pool(packset: PackSet, registries: Registries):
    """One long-lived worker with the Rete backend, fed one dossier at a time."""
    engine = Engine(packset, registries, max_registry_age=None, backend="rete")

    def work(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [engine.evaluate_data(check_dossier_data(d, "generated"), timestamp=False) for d in chunk]

    def fail(task: Any, how: str) -> list[dict[str, Any]]:
        raise AssertionError(f"the rete worker died ({how}) on {task}")

    with workers.OrderedPool(1, work, lambda parts: [r for p in parts for r in p], fail) as pool:
        yield pool


@pytest.fixture(scope="module")
def native(packset: PackSet, registries: Registries) -> Engine:
    """The native engine with the same settings as the Rete worker."""
    return Engine(packset, registries, max_registry_age=None)


@seed(20261122)
@settings(max_examples=10_000, deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True)
@given(dossier=dossiers())
def test_generated_dossiers_agree(dossier: dict[str, Any], rete_pool: Any, native: Engine) -> None:
    expected = native.evaluate_data(check_dossier_data(dossier, "generated"), timestamp=False)
    (rete_report,) = next(iter(rete_pool.map([[dossier]])))
    assert findings_of(rete_report) == findings_of(expected), json.dumps(dossier, ensure_ascii=False)


def test_generated_dossiers_exercise_every_rule(packset: PackSet, native: Engine) -> None:
    """The differential test means something only if the generated dossiers make every rule fire."""
    fired: set[str] = set()

    @seed(20261122)
    @settings(max_examples=10_000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(dossier=dossiers())
    def collect(dossier: dict[str, Any]) -> None:
        fired.update(f["rule_id"] for f in native.evaluate_data(check_dossier_data(dossier, "generated"), timestamp=False)["findings"])

    collect()
    every_rule = {rule.id for source in packset.sources.values() for rule in source.rules}
    assert every_rule - fired == set()


# --------------------------------------------------------------------------- aggregates, generated

AGGREGATE_RULES = """
  - id: xx.fees-above-cap
    title: {ja: 手数料合計が上限超過, en: Fees above the cap}
    article: "{acts}(e)"
    applies_to: candidate
    severity: warn
    when:
      sum: {in: fees, as: f, of: f.amount, where: {field: f.payee.role, in: [sending_agency, intermediary]}, unit: {field: f.currency, eq: USD}}
      gt: 1000
    message: {ja: 超過, en: Above the cap}
    tests:
      - {name: fires, expect: fire, dossier: {fees: [{payee: {role: intermediary}, amount: 700, currency: USD}, {payee: {role: sending_agency}, amount: 700, currency: USD}]}}
      - {name: at the cap, expect: pass, dossier: {fees: [{payee: {role: intermediary}, amount: 1000, currency: USD}]}}
  - id: xx.fees-not-within-cap
    title: {ja: 上限内と確認できない, en: Not shown within the cap}
    article: "{acts}(e)"
    applies_to: candidate
    severity: warn
    when:
      not: {sum: {in: fees, as: f, of: f.amount, unit: {field: f.currency, eq: USD}}, le: 1000}
    message: {ja: 確認できない, en: Not shown}
    tests:
      - {name: other currency, expect: fire, dossier: {fees: [{amount: 10, currency: KHR}]}}
      - {name: within, expect: pass, dossier: {fees: [{amount: 10, currency: USD}]}}
  - id: xx.many-dependents
    title: {ja: 同伴家族が多い, en: Many accompanying dependents}
    article: "{acts}(a)"
    applies_to: candidate
    severity: info
    when:
      any:
        - count: {in: dependents, as: d, where: {field: d.accompanying, eq: true}}
          ge: 2
        - count: {in: dependents}
          eq: 0
    message: {ja: 家族, en: Dependents}
    tests:
      - {name: two accompanying, expect: fire, dossier: {dependents: [{relation: child, accompanying: true}, {relation: spouse, accompanying: true}]}}
      - {name: one, expect: pass, dossier: {dependents: [{relation: child, accompanying: true}]}}
  - id: xx.old-tests
    title: {ja: 試験が古い, en: Tests taken long ago}
    article: "{acts}(d)"
    applies_to: candidate
    severity: info
    when:
      all:
        - max: {in: tests, as: t, of: t.taken_on}
          lt: {var: as_of, offset: "-1y"}
        - min: {in: tests, as: t, of: t.taken_on, where: {field: t.kind, eq: skills}}
          ne: "2024-06-01"
    message: {ja: 古い, en: Old}
    tests:
      - {name: old, expect: fire, dossier: {tests: [{kind: skills, taken_on: "2023-12-31"}]}}
      - {name: recent, expect: pass, dossier: {tests: [{kind: skills, taken_on: "2025-01-15"}]}}
  - id: xx.largest-fee
    title: {ja: 最大の手数料, en: The largest fee}
    article: "{acts}(e)"
    applies_to: candidate
    severity: info
    for_each: {in: fees, as: fee}
    when:
      max: {in: fees, as: f, of: f.amount, unit: {field: f.currency, eq: USD}}
      eq: {field: fee.amount}
    message: {ja: 最大, en: Largest}
    tests:
      - {name: largest, expect: fire, count: 1, dossier: {fees: [{amount: 10, currency: USD}, {amount: 20, currency: USD}]}}
      - {name: unknown currency, expect: pass, dossier: {fees: [{amount: 10}]}}
"""


@pytest.fixture(scope="module")
def aggregate_packs(tmp_path_factory: pytest.TempPathFactory) -> PackSet:
    directory = tmp_path_factory.mktemp("aggregates")
    write_pack(directory, "xx.yaml", MINI_PACK.rstrip("\n") + AGGREGATE_RULES)
    return load_packs(directory)


@st.composite
def khmer_candidates(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {"dossier_id": "GEN-1", "kind": "candidate", "country": "KH", "submitted": draw(st.sampled_from(DATES)), "identity": {"name": "G"}}
    fields = {
        # amounts that add up across the caps, currencies that must not be mixed, dates on both sides of a year
        "fees": items(
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "payee": st.fixed_dictionaries({"role": st.sampled_from(ROLES[1:])}),
                        "amount": st.sampled_from([0, 0.5, 300, 700, 1000]),
                        "currency": st.sampled_from(["USD", "USD", "USD", "KHR"]),
                    }
                ),
                st.fixed_dictionaries({}, optional={"payee": party(), "amount": st.sampled_from([0, 700]), "currency": st.sampled_from(["USD", "KHR"])}),
            )
        ),
        "tests": items(st.fixed_dictionaries({"kind": st.sampled_from(["skills", "japanese"])}, optional={"taken_on": st.sampled_from(DATES)})),
        "dependents": CANDIDATE_FIELDS["dependents"],
        "intermediaries": items(party()),
    }
    for name in ("fees", "dependents", "tests", "intermediaries"):
        value = draw(fields[name])
        if value is not None:
            data[name] = copy.deepcopy(value)
    return data


@seed(20261122)
@settings(max_examples=1_500, deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True)
@given(dossier=khmer_candidates())
def test_generated_dossiers_agree_on_aggregates(dossier: dict[str, Any], aggregate_packs: PackSet, aggregate_pool: Any) -> None:
    native = Engine(aggregate_packs, None, max_registry_age=None)
    expected = native.evaluate_data(check_dossier_data(dossier, "generated"), timestamp=False)
    (rete_report,) = next(iter(aggregate_pool.map([[dossier]])))
    assert findings_of(rete_report) == findings_of(expected), json.dumps(dossier, ensure_ascii=False)


def test_generated_dossiers_make_every_aggregate_rule_fire_and_pass(aggregate_packs: PackSet) -> None:
    native = Engine(aggregate_packs, None, max_registry_age=None)
    seen: dict[str, set[bool]] = {}

    @seed(20261122)
    @settings(max_examples=1_500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(dossier=khmer_candidates())
    def collect(dossier: dict[str, Any]) -> None:
        fired = {f["rule_id"] for f in native.evaluate_data(check_dossier_data(dossier, "generated"), timestamp=False)["findings"]}
        for rule in aggregate_packs.sources["xx"].rules:
            if f"id: {rule.id}\n" in AGGREGATE_RULES:
                seen.setdefault(rule.id, set()).add(rule.id in fired)

    collect()
    assert len(seen) == AGGREGATE_RULES.count("  - id: ")
    assert {rule: outcomes for rule, outcomes in seen.items() if outcomes != {True, False}} == {}


@pytest.fixture(scope="module")
def aggregate_pool(aggregate_packs: PackSet):
    engine = Engine(aggregate_packs, None, max_registry_age=None, backend="rete")

    def work(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [engine.evaluate_data(check_dossier_data(d, "generated"), timestamp=False) for d in chunk]

    def fail(task: Any, code: int | None) -> list[dict[str, Any]]:
        raise AssertionError(f"the rete worker died ({workers.signal_name(code)}) on {task}")

    with workers.OrderedPool(1, work, lambda parts: [r for p in parts for r in p], fail) as pool:
        yield pool
