"""The Rete backend: translation, refusal, crash containment, and differential tests against native.

durable-rules only ever runs in worker processes here, as in the product:
a crash in it must not take the test runner down either.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, seed, settings

from dossier_rules import batch, results, rete, workers
from dossier_rules import conditions as cond
from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.model import CandidateDossier
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.registries import Registries
from dossier_rules.sources import check_dossier_data, load_dossier
from dossier_rules.testing import case_dossier, pack_test_registries

from .conftest import AGGREGATE_RULES, MINI_PACK, SAMPLES, write_pack
from .strategies import aggregate_candidates, budget, dossiers
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
    def screen(engine: Engine, source: str, line: int | None, raw: bytes, as_of: Any, **options: Any) -> dict[str, Any]:
        if marker.encode() in raw:
            faulthandler.disable()  # a deliberate crash: no fault dump in the test output
            os.kill(os.getpid(), signal.SIGSEGV)
        return original(engine, source, line, raw, as_of, **options)

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
    monkeypatch.setattr(batch, "screen_record", _segfault_on("PK-POISON-1", batch.screen_record))
    result = CliRunner().invoke(main, ["batch", str(source), "--out", str(tmp_path / "out.jsonl"), "--jobs", "2", "--engine", backend])
    out = list(results.read_results(tmp_path / "out.jsonl"))  # the results, without the run header and checkpoints
    assert len(out) == len(lines)  # nothing lost, and the parent lived to write the summary
    crashed = [r for r in out if "errors" in r]
    assert [r["source"] for r in crashed] == [f"{source}:334"]
    assert crashed[0]["errors"][0]["kind"] == "worker_crashed" and "SIGSEGV" in crashed[0]["errors"][0]["message"]
    assert [r["dossier_id"] for r in out if "errors" not in r] == [json.loads(line)["dossier_id"] for i, line in enumerate(lines) if i != 333]
    assert result.exit_code == 2 and f"{len(lines):,} = {len(lines):,}" in result.stderr


def test_a_worker_bug_stops_the_run_instead_of_passing_for_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(engine: Engine, source: str, line: int | None, raw: bytes, as_of: Any, **options: Any) -> dict[str, Any]:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(batch, "screen_record", broken)
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
@settings(max_examples=budget(10_000))
@given(dossier=dossiers())
def test_generated_dossiers_agree(dossier: dict[str, Any], rete_pool: Any, native: Engine) -> None:
    expected = native.evaluate_data(check_dossier_data(dossier, "generated"), timestamp=False)
    (rete_report,) = next(iter(rete_pool.map([[dossier]])))
    assert findings_of(rete_report) == findings_of(expected), json.dumps(dossier, ensure_ascii=False)


def test_generated_dossiers_exercise_every_rule(packset: PackSet, native: Engine) -> None:
    """The differential test means something only if the generated dossiers make every rule fire.

    A fixed seed and budget, so the run is the same every time. When a pack change leaves a rule unreached, give
    the generator (tests/strategies.py) the values that rule needs, as it has for revoked and expired numbers.
    """
    fired: set[str] = set()

    @seed(2027)
    @settings(max_examples=15_000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(dossier=dossiers())
    def collect(dossier: dict[str, Any]) -> None:
        fired.update(f["rule_id"] for f in native.evaluate_data(check_dossier_data(dossier, "generated"), timestamp=False)["findings"])

    collect()
    every_rule = {rule.id for source in packset.sources.values() for rule in source.rules}
    assert every_rule - fired == set()


# --------------------------------------------------------------------------- aggregates, generated


@pytest.fixture(scope="module")
def aggregate_packs(tmp_path_factory: pytest.TempPathFactory) -> PackSet:
    directory = tmp_path_factory.mktemp("aggregates")
    write_pack(directory, "xx.yaml", MINI_PACK.rstrip("\n") + AGGREGATE_RULES)
    return load_packs(directory)


@seed(20261122)
@settings(max_examples=budget(1_500))
@given(dossier=aggregate_candidates("KH"))
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
    @given(dossier=aggregate_candidates("KH"))
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
