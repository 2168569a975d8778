"""Outcomes, filters and summaries over results (the module both the CLI and the service use)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dossier_rules import results
from dossier_rules.batch import error_record
from dossier_rules.engine import Engine
from dossier_rules.problems import InputError, Problem
from dossier_rules.report import outcome
from dossier_rules.results import OTHER, Filter, Summary, read_results, summarise

from .conftest import sample

AGENCY = {"id": "KH-BRK-0009", "name": "Mekong  Example Recruiting", "role": "intermediary"}
BROKER = {"name": "Sakura Example Brokerage", "role": "intermediary", "country": "JP"}


def finding(rule: str, severity: str, article: str, subject: dict | None = None, act: str | None = None, also: list[str] | None = None) -> dict[str, Any]:
    return {
        "rule_id": rule,
        "pack": rule.split(".")[0],
        "article": article,
        "also": also or [],
        "severity": severity,
        "share": act is not None,
        "act": act,
        "title": {"ja": "t", "en": "t"},
        "message": {"ja": "m", "en": "m"},
        "evidence": {},
        "item": None,
        "subject": subject,
    }


def report(
    dossier_id: str,
    country: str,
    findings: list[dict],
    kind: str = "candidate",
    state: str = "in_force",
    submitted: str = "2025-05-01",
    sector: str | None = "construction",
) -> dict[str, Any]:
    return {
        "dossier_id": dossier_id,
        "kind": kind,
        "country": country,
        "outcome": outcome(state, findings),
        "source": f"in.jsonl:{dossier_id}",
        "submitted": submitted,
        "sector": sector,
        "as_of": submitted,
        "pack": country.lower(),
        "pack_status": {"state": state},
        "counts": {},
        "findings": findings,
    }


def corpus() -> list[dict[str, Any]]:
    return [
        report(
            "KH-1",
            "KH",
            [
                finding("common.act-a-property-held", "block", "MOC-KH 4(1)(a)", AGENCY, "a"),
                finding("common.act-e-fee-without-basis", "block", "MOC-KH 4(1)(e)", AGENCY, "e"),
            ],
            submitted="2025-03-01",
        ),
        report(
            "KH-2",
            "KH",
            [finding("common.act-a-property-held", "block", "MOC-KH 4(1)(a)", {**AGENCY, "id": None, "name": "mekong example recruiting"}, "a")],
            submitted="2025-06-30",
        ),
        report("KH-3", "KH", [finding("kh.x", "warn", "MOC-KH 4(10)")], sector="agriculture"),
        report(
            "LA-1",
            "LA",
            [finding("common.act-b-penalty-contract", "block", "MOC-LA 4(1)(b)", BROKER, "b"), finding("la.note", "info", "MOC-LA 6(3)")],
            submitted="2025-07-15",
        ),
        report("LA-2", "LA", [finding("la.note", "info", "MOC-LA 6(3)")]),
        report("TJ-1", "TJ", [finding("tj.y", "warn", "MOC-TJ 8", AGENCY)], state="start_unknown"),
        report(
            "KH-BRK-0009",
            "KH",
            [finding("common.broker-holds-property", "block", "MOC-KH 4(1)(a)", {"id": "KH-BRK-0009", "name": "Mekong Example Recruiting"}, "a")],
            kind="broker",
            sector=None,
            submitted="2025-01-10",
        ),
        error_record("in.jsonl:9", [Problem("in.jsonl", "invalid JSON", kind="syntax", line=9)]),
    ]


def ids(chosen: Filter) -> list[str]:
    return [r.get("dossier_id", r["source"]) for r in results.select(corpus(), chosen)]


# --------------------------------------------------------------------------- outcome


@pytest.mark.parametrize(
    ("state", "severities", "expected"),
    [
        ("in_force", [], "clear"),
        ("in_force", ["info"], "clear"),
        ("in_force", ["info", "warn"], "review"),
        ("in_force", ["warn", "block", "info"], "blocked"),
        ("not_yet_in_force", ["block"], "not_in_force"),
        ("start_unknown", [], "not_in_force"),
        ("ended", ["warn"], "not_in_force"),
    ],
)
def test_outcome_from_pack_state_and_worst_finding(state: str, severities: list[str], expected: str) -> None:
    assert outcome(state, [{"severity": s} for s in severities]) == expected


def test_every_report_and_error_record_carries_its_outcome(engine: Engine) -> None:
    clean = engine.evaluate_data(sample("kh-candidate-clean.json"), timestamp=False)
    assert clean["outcome"] == "clear" and not any(f["severity"] in ("block", "warn") for f in clean["findings"])
    held = engine.evaluate_data(sample("kh-candidate-abroad-no-agency.json"), timestamp=False)
    assert any(f["severity"] == "block" for f in held["findings"]) and held["outcome"] == "blocked"
    tajik = engine.evaluate_data(sample("tj-candidate-clean.json"), timestamp=False)
    assert tajik["pack_status"]["state"] != "in_force" and tajik["outcome"] == "not_in_force"
    assert tajik["submitted"] == sample("tj-candidate-clean.json")["submitted"]
    assert error_record("x", [])["outcome"] == "unreadable"


def test_outcome_of_older_results_is_computed() -> None:
    old = report("KH-1", "KH", [finding("r", "warn", "MOC-KH 5")])
    del old["outcome"]
    assert results.outcome_of(old) == "review"
    assert results.outcome_of({"source": "x", "errors": []}) == "unreadable"


# --------------------------------------------------------------------------- filters


def test_no_criteria_selects_everything() -> None:
    assert len(ids(Filter())) == len(corpus())


def test_dossier_criteria() -> None:
    assert ids(Filter.of(countries=["LA"])) == ["LA-1", "LA-2"]
    assert ids(Filter.of(kinds="broker")) == ["KH-BRK-0009"]
    assert ids(Filter.of(outcomes=["review", "unreadable"])) == ["KH-3", "in.jsonl:9"]
    assert ids(Filter.of(outcomes="not_in_force")) == ["TJ-1"]
    assert ids(Filter.of(sectors="agriculture")) == ["KH-3"]
    assert ids(Filter.of(submitted_from=date(2025, 6, 30), submitted_to=date(2025, 7, 15))) == ["KH-2", "LA-1"]
    assert ids(Filter.of(countries="KH", outcomes="blocked")) == ["KH-1", "KH-2", "KH-BRK-0009"]


def test_finding_criteria_select_reports_with_a_matching_finding() -> None:
    assert ids(Filter.of(severities="info")) == ["LA-1", "LA-2"]
    assert ids(Filter.of(rules="common.act-e-fee-without-basis")) == ["KH-1"]
    # an article selects what is under it, not a longer number
    assert ids(Filter.of(articles="MOC-KH 4(1)")) == ["KH-1", "KH-2", "KH-BRK-0009"]
    assert ids(Filter.of(articles="MOC-KH 4(1)(e)")) == ["KH-1"]
    assert ids(Filter.of(articles="MOC-KH 4(10)")) == ["KH-3"]
    # by id, or by name ignoring case and spacing
    assert ids(Filter.of(intermediaries="KH-BRK-0009")) == ["KH-1", "TJ-1", "KH-BRK-0009"]
    assert ids(Filter.of(intermediaries="Sakura Example Brokerage", severities="info")) == []


@pytest.mark.parametrize(
    "typed", ["Mekong Example  RECRUITING", "mekong example recruiting co., ltd.", "Ｍｅｋｏｎｇ Ｅｘａｍｐｌｅ Ｒｅｃｒｕｉｔｉｎｇ", "kh-brk-0009 "]
)
def test_intermediary_by_name_finds_the_party_that_has_an_id(typed: str) -> None:
    """A name finds the party whether or not the dossier gave it an id; case, spacing, width and legal-form words do not count."""
    found = ids(Filter.of(intermediaries=typed))
    assert {"KH-1", "TJ-1", "KH-BRK-0009"} <= set(found)
    assert ("KH-2" in found) == typed.startswith(("Mekong", "mekong", "Ｍ"))


def test_intermediary_of_another_name_matches_nothing() -> None:
    assert ids(Filter.of(intermediaries="Mekong Example")) == []
    assert ids(Filter.of(intermediaries="Ltd.")) == []


def test_article_filter_reads_the_also_citations() -> None:
    records = [report("PK-1", "PK", [finding("r", "block", "MOC-PK 4(1)(d)", also=["MOC-PK 5(2)"])])]
    assert len(list(results.select(records, Filter.of(articles="MOC-PK 5")))) == 1


def test_an_error_record_is_selected_only_by_outcome() -> None:
    error = corpus()[-1]
    assert Filter().matches(error) and Filter.of(outcomes="unreadable").matches(error)
    for chosen in (Filter.of(countries="KH"), Filter.of(severities="block"), Filter.of(submitted_from=date(2000, 1, 1)), Filter.of(outcomes="clear")):
        assert not chosen.matches(error)


def test_unknown_criterion_is_refused() -> None:
    with pytest.raises(TypeError, match="colour"):
        Filter.of(colour="red")


# --------------------------------------------------------------------------- summaries


def test_summary_counts_dossiers_by_outcome_first() -> None:
    view = summarise(corpus()).to_json()
    assert list(view) == ["records", "findings", "outcome", "severity", "country", "article", "rule", "intermediary"]
    assert view["outcome"] == {"blocked": 4, "review": 1, "clear": 1, "not_in_force": 1, "unreadable": 1}
    assert view["records"] == 8 and view["findings"] == 9
    assert view["country"]["KH"] == {"dossiers": 4, "outcomes": {"blocked": 3, "review": 1}, "findings": 5}
    assert view["article"]["MOC-KH 4(1)(a)"]["findings"] == 3 and view["article"]["MOC-KH 4(1)(a)"]["dossiers"] == 3
    assert view["rule"]["la.note"] == {"findings": 2, "dossiers": 2, "shared": 0, "severity": {"info": 2}, "countries": ["LA"]}
    assert next(iter(view["rule"])) == "common.act-a-property-held"  # largest first


def test_by_intermediary_across_dossiers() -> None:
    view = summarise(corpus()).to_json()["intermediary"]
    agency = view["id:KH-BRK-0009"]
    # KH-1 (two findings), TJ-1 and the broker dossier itself; KH-2 names it without id and stays apart
    assert agency["candidates"] == 2 and agency["brokers"] == 1 and agency["findings"] == 4
    assert agency["acts"] == ["a", "e"] and agency["countries"] == ["KH", "TJ"]
    assert (agency["first_seen"], agency["last_seen"]) == ("2025-01-10", "2025-05-01")
    assert view["name:mekong example recruiting"]["candidates"] == 1
    assert view["name:sakura example brokerage"] == {
        "name": "Sakura Example Brokerage",
        "role": "intermediary",
        "candidates": 1,
        "brokers": 0,
        "findings": 1,
        "shared": 1,
        "acts": ["b"],
        "countries": ["LA"],
        "rules": {"common.act-b-penalty-contract": 1},
        "first_seen": "2025-07-15",
        "last_seen": "2025-07-15",
        "partner_reports": [],
    }


def test_filtered_summary_counts_only_selected_findings() -> None:
    view = summarise(corpus(), Filter.of(severities="block", countries="KH")).to_json()
    assert view["records"] == 3 and view["findings"] == 4
    assert view["severity"] == {"block": 4, "warn": 0, "info": 0}
    assert "kh.x" not in view["rule"]


def test_merged_summaries_equal_one_summary() -> None:
    records = corpus()
    whole = summarise(records)
    parts = Summary()
    for half in (records[:3], records[3:]):
        parts.merge(summarise(half))
    assert parts.to_json() == whole.to_json()


def test_views_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "MAX_GROUPS", 2)
    view = summarise(corpus()).to_json()
    assert len(view["rule"]) == 3 and OTHER in view["rule"]
    assert sum(g["findings"] for g in view["rule"].values()) == view["findings"]


# --------------------------------------------------------------------------- reading


def test_read_results_skips_the_header_and_names_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    lines = [{"record_type": "run", "format": "x"}, *corpus()]
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    assert list(read_results(path)) == corpus()
    assert results.read_header(path) == lines[0]
    path.write_text(json.dumps(corpus()[0]) + "\n[1]\n")
    with pytest.raises(InputError) as caught:
        list(read_results(path))
    assert caught.value.problems[0].line == 2
