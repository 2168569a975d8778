"""Registries and time: dates on both sides of each boundary, the importer, reproducibility."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from dossier_rules import conditions as cond
from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.model import DOSSIER_ADAPTER, CandidateDossier
from dossier_rules.packs import PackSet
from dossier_rules.problems import InputError
from dossier_rules.registries import (
    Entry,
    Registries,
    Registry,
    comparable_name,
    csv_lines,
    load_registries,
    load_registry,
    registry_file,
    write_registry,
)

from .conftest import RULES, SAMPLES, candidate, sample

SCOPE = cond.Scope(cond.type_of_model(CandidateDossier))


def registries_with(tmp_path: Path, country: str, kind: str, entries: list[dict], retrieved: str = "2025-01-01") -> Registries:
    registry = Registry(kind=kind, country=country, source="test", retrieved_on=date.fromisoformat(retrieved), entries=[Entry(**e) for e in entries])
    write_registry(registry, registry_file(tmp_path, country, kind))
    return load_registries(tmp_path)


def rule_ids(report) -> list[str]:
    return [f.rule_id for f in report.findings]


@pytest.mark.parametrize(
    ("day", "active"),
    [("2024-12-31", False), ("2025-01-01", True), ("2025-06-30", True), ("2025-07-01", False)],
)
def test_entry_is_active_from_listing_until_the_day_it_ends(day: str, active: bool) -> None:
    entry = Entry(id="A", name="A", listed_from=date(2025, 1, 1), ended_on=date(2025, 7, 1), ended_because="revoked")
    assert entry.active_on(date.fromisoformat(day)) is active
    assert entry.revoked_by(date.fromisoformat(day)) is (day == "2025-07-01")


@pytest.mark.parametrize(
    ("as_of", "revoked"),
    [("2025-06-30", False), ("2025-07-01", True), ("2025-08-01", True)],
)
def test_revoked_agency_is_accredited_until_the_revocation_date(packset: PackSet, tmp_path: Path, as_of: str, revoked: bool) -> None:
    regs = registries_with(
        tmp_path, "KH", "accredited-agencies", [{"id": "ACC-1", "name": "A", "listed_from": "2020-01-01", "ended_on": "2025-07-01", "ended_because": "revoked"}]
    )
    dossier = DOSSIER_ADAPTER.validate_python(
        {**sample("kh-candidate-clean.json"), "sending_agency": {"name": "A", "role": "sending_agency", "accreditation": {"number": "ACC-1"}}}
    )
    report = Engine(packset, regs).evaluate(dossier, as_of=date.fromisoformat(as_of))
    # the certificate (2025-02-18) predates the revocation: MoLVT certified the procedure while the agency was
    # accredited, so the revocation is a warn, not a block (as a lapse is)
    assert "kh.agency-revoked-on-list" not in rule_ids(report)
    assert ("kh.agency-revoked-after-certificate" in rule_ids(report)) is revoked
    # and no act of the agency is dated after it, so a 5(5) report to MoLVT is not shown; the revocation is a doubt
    # for a person instead
    assert "kh.agency-revoked-report" not in rule_ids(report)
    assert ("kh.agency-revoked-involvement-undated" in rule_ids(report)) is revoked
    assert "kh.agency-not-on-molvt-list" not in rule_ids(report)  # a revocation is reported once, as a revocation
    warned = [f for f in report.findings if f.rule_id == "kh.agency-revoked-after-certificate"]
    assert all(f.severity == "warn" and not f.share and f.article == "MOC-KH 5(2)" for f in warned)
    reported = [f for f in report.findings if f.rule_id == "kh.agency-revoked-report"]
    assert all(f.severity == "warn" and f.share and f.act == "revocation" and f.article == "MOC-KH 5(5)" for f in reported)


def test_lookup_operators(tmp_path: Path) -> None:
    regs = registries_with(tmp_path, "JP", "support-organisations", [{"id": "SO-1", "name": "S", "listed_from": "2020-01-01"}])
    env = {cond.ROOT: candidate(support_organisation_id="SO-1"), "$as_of": date(2025, 1, 1), "$registries": regs.view("KH", date(2025, 1, 1))}
    listed = cond.parse({"field": "support_organisation_id", "listed_in": "support-organisations"}, SCOPE).program()
    unlisted = cond.parse({"field": "support_organisation_id", "not_listed_in": "support-organisations"}, SCOPE).program()
    assert listed(env) and not unlisted(env)
    env[cond.ROOT] = candidate(support_organisation_id="SO-2")
    assert unlisted(env) and not listed(env)
    env[cond.ROOT] = candidate()
    assert not listed(env) and not unlisted(env)  # nothing to look up: unknown, not "unlisted"
    env["$registries"] = Registries.empty().view("KH", date(2025, 1, 1))
    env[cond.ROOT] = candidate(support_organisation_id="SO-2")
    assert not unlisted(env)  # without the list, nothing can be said


@pytest.mark.parametrize(
    ("listed", "given", "same"),
    [
        ("Angkor Manpower Co., Ltd.", "ANGKOR MANPOWER", True),
        ("Angkor Manpower Co., Ltd.", "Angkor  Manpower Co Ltd", True),
        ("Angkor Manpower", "Ａｎｇｋｏｒ　Ｍａｎｐｏｗｅｒ", True),
        ("Angkor Manpower", "Angkor Manpower International", False),
        ("Angkor Manpower", "Bayon Manpower", False),
        ("Angkor Manpower", "Co., Ltd.", False),
    ],
)
def test_names_are_compared_without_case_punctuation_width_or_legal_form(listed: str, given: str, same: bool) -> None:
    assert (comparable_name(listed) == comparable_name(given)) is same


def test_listed_under_other_name(tmp_path: Path) -> None:
    entries = [
        {"id": "ACC-1", "name": "Angkor Manpower Co., Ltd.", "listed_from": "2020-01-01"},
        {"id": "ACC-2", "name": "Old Name", "listed_from": "2020-01-01", "ended_on": "2024-01-01", "ended_because": "other"},
        {"id": "ACC-2", "name": "New Name", "listed_from": "2024-01-01"},
    ]
    regs = registries_with(tmp_path, "KH", "accredited-agencies", entries)
    day = date(2025, 1, 1)
    program = cond.parse(
        {"field": "sending_agency.accreditation.number", "listed_under_other_name": {"in": "accredited-agencies", "name": "sending_agency.name"}}, SCOPE
    ).program()

    def fires(number: str | None, name: str | None, view_day: date = day, registries: Registries = regs) -> bool:
        agency = {"name": name, "accreditation": {"number": number}}
        return program({cond.ROOT: candidate(sending_agency=agency), "$as_of": view_day, "$registries": registries.view("KH", view_day)})

    assert fires("ACC-1", "Bayon Placement")
    assert not fires("ACC-1", "ANGKOR MANPOWER")
    assert fires("ACC-2", "Old Name")  # the name it had before 2024 is not the name listed on the date evaluated
    assert not fires("ACC-2", "Old Name", date(2023, 6, 1))
    assert not fires("ACC-2", "New Name")
    assert not fires("ACC-9", "Anything")  # not listed: the not-on-list rules say so
    assert not fires("ACC-1", None) and not fires(None, "Bayon Placement")  # unknown is not a different name
    assert not fires("ACC-1", "Bayon Placement", registries=Registries.empty())  # without the list, nothing can be said


def test_lookups_are_statically_checked() -> None:
    with pytest.raises(cond.ConditionError, match="unknown registry 'accredited-agency'"):
        cond.parse({"field": "sending_agency.accreditation.number", "listed_in": "accredited-agency"}, SCOPE)
    with pytest.raises(cond.ConditionError, match="looks up an identifier"):
        cond.parse({"field": "submitted", "listed_in": "improvement-orders"}, SCOPE)
    with pytest.raises(cond.ConditionError, match=r"takes \{in: REGISTRY, name: NAME_PATH\}"):
        cond.parse({"field": "sending_agency.accreditation.number", "listed_under_other_name": "accredited-agencies"}, SCOPE)
    with pytest.raises(cond.ConditionError, match="unknown field 'nmae'"):
        cond.parse(
            {"field": "sending_agency.accreditation.number", "listed_under_other_name": {"in": "accredited-agencies", "name": "sending_agency.nmae"}}, SCOPE
        )
    with pytest.raises(cond.ConditionError, match="compares a name"):
        cond.parse({"field": "sending_agency.accreditation.number", "listed_under_other_name": {"in": "accredited-agencies", "name": "submitted"}}, SCOPE)


def test_listed_in_takes_a_party_only_where_a_party_is() -> None:
    assert "intermediary-reports" in cond.registries_used(cond.parse({"field": "sending_agency", "listed_in": "intermediary-reports"}, SCOPE))
    with pytest.raises(cond.ConditionError, match="looks up an identifier"):
        cond.parse({"field": "sending_agency", "revoked_in": "intermediary-reports"}, SCOPE)  # a party is looked up only by listed_in
    with pytest.raises(cond.ConditionError, match="looks up an identifier"):
        cond.parse({"field": "certificate", "listed_in": "intermediary-reports"}, SCOPE)  # an object, but no party


def test_missing_registry_is_reported_not_passed(packset: PackSet) -> None:
    report = Engine(packset, Registries.empty()).evaluate(DOSSIER_ADAPTER.validate_python(sample("kh-candidate-clean.json")))
    missing = [w for w in report.data_warnings if w.code == "registry-missing"]
    kinds = {"accredited-agencies", "improvement-orders", "support-organisations", "suspended-sectors", "intermediary-reports"}
    assert {r.kind for r in report.registries if r.status == "missing"} == kinds
    assert {w.registry for w in missing} == kinds
    assert any("kh.agency-not-on-molvt-list" in w.message.en and "kh.agency-not-on-molvt-list" in w.rules for w in missing)
    assert report.findings == [] and report.counts == {"block": 0, "warn": 0, "info": 0}


@pytest.mark.parametrize(("retrieved", "stale"), [("2024-09-05", False), ("2024-09-04", True)])
def test_stale_registry_gives_a_warning(packset: PackSet, registries: Registries, tmp_path: Path, retrieved: str, stale: bool) -> None:
    for loaded in registries:
        reg = loaded.registry.model_copy(update={"retrieved_on": date.fromisoformat(retrieved)})
        write_registry(reg, registry_file(tmp_path, reg.country, reg.kind))
    engine = Engine(packset, load_registries(tmp_path), max_registry_age=180)
    report = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample("kh-candidate-clean.json")))  # as of 2025-03-04
    assert {r.age_days for r in report.registries} == {180 if not stale else 181}
    assert ("registry-stale" in [w.code for w in report.data_warnings]) is stale
    assert report.findings == []
    assert {r.status for r in report.registries if r.kind != "intermediary-reports"} == {"stale" if stale else "ok"}
    # the partner's 4(1) reports are kept by the inbox, as current as the last message: never stale
    assert [r.status for r in report.registries if r.kind == "intermediary-reports"] == ["ok"]
    assert "intermediary-reports" not in [w.registry for w in report.data_warnings]


def test_report_records_registries_and_is_reproducible(engine: Engine) -> None:
    dossier = DOSSIER_ADAPTER.validate_python(sample("la-candidate-registry-findings.json"))
    first = engine.evaluate(dossier, as_of=date(2025, 8, 4), source="x")
    again = engine.evaluate(dossier, as_of=date(2025, 8, 4), source="x")
    assert first.model_dump_json(exclude={"generated_at"}) == again.model_dump_json(exclude={"generated_at"})
    used = {(r.country, r.kind): r for r in first.registries}
    assert set(used) == {
        ("LA", "accredited-agencies"),
        ("LA", "intermediary-reports"),
        ("JP", "improvement-orders"),
        ("JP", "support-organisations"),
        ("JP", "suspended-sectors"),
    }
    assert all(r.sha256 and len(r.sha256) == 64 and r.retrieved_on and r.sample for r in used.values())
    assert {"la-kg-tj.agency-revoked", "la-kg-tj.receiving-organisation-under-order", "la-kg-tj.support-organisation-not-registered"} <= set(rule_ids(first))


def test_registry_files_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "kh-accredited-agencies.json"
    path.write_text(json.dumps({"kind": "accredited-agencies", "country": "KH", "source": "s", "retrieved_on": "2025-01-01", "entries": [{"id": "A"}]}))
    with pytest.raises(InputError) as info:
        load_registry(path)
    assert info.value.problems[0].pointer == "/entries/0/name"
    wrong = tmp_path / "jp-accredited-agencies.json"
    wrong.write_text(json.dumps({"kind": "accredited-agencies", "country": "JP", "source": "s", "retrieved_on": "2025-01-01", "entries": []}))
    with pytest.raises(InputError, match=r"kept by each partner country.s ministry, not by Japan"):
        load_registry(wrong)


def test_shipped_registries_are_sample_data_and_current_with_schema(registries: Registries) -> None:
    loaded = list(registries)
    assert len(loaded) == 12 and all(r.registry.sample and "SAMPLE" in r.registry.source for r in loaded)


# --------------------------------------------------------------------------- the importer


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


GOOD = "id,name,listed_from,ended_on,ended_because,note\nACC-1,Agency One,2021-01-01,,,\nACC-2,Agency Two,2021-01-01,2025-02-01,revoked,licence withdrawn\n"
BAD = GOOD + "ACC-3,,2021-01-01,,,\nACC-4,Agency Four,2021-13-01,,,\nACC-1,Agency One again,2021-01-01,,,\nACC-5,Agency Five,2025-01-01,2024-01-01,expired,\n"


def test_import_writes_a_valid_registry(tmp_path: Path) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(GOOD)
    out = tmp_path / "regs"
    result = run(
        "registry",
        "import",
        str(csv_file),
        "--country",
        "KH",
        "--kind",
        "accredited-agencies",
        "--source",
        "MoLVT list",
        "--retrieved-on",
        "2025-03-01",
        "--registries",
        str(out),
    )
    assert result.exit_code == 0, result.output
    loaded = load_registry(out / "kh-accredited-agencies.json")
    assert [e.id for e in loaded.registry.entries] == ["ACC-1", "ACC-2"]
    assert loaded.registry.retrieved_on == date(2025, 3, 1) and loaded.registry.source == "MoLVT list" and not loaded.registry.sample


def test_import_reports_every_bad_row_and_writes_nothing(tmp_path: Path) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(BAD)
    out = tmp_path / "regs"
    result = run("registry", "import", str(csv_file), "--country", "KH", "--kind", "accredited-agencies", "--source", "s", "--registries", str(out))
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith(str(csv_file))]
    assert [line.split(":")[1] for line in lines] == ["4", "5", "6", "7"]
    assert "name" in lines[0] and "date" in lines[1] and "duplicate of line 2" in lines[2] and "before listed_from" in lines[3]
    assert not out.exists()


def test_import_skip_bad_writes_good_rows_and_a_report(tmp_path: Path) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(BAD)
    out = tmp_path / "regs"
    result = run(
        "registry", "import", str(csv_file), "--country", "KH", "--kind", "accredited-agencies", "--source", "s", "--skip-bad", "--registries", str(out)
    )
    assert result.exit_code == 1
    assert [e.id for e in load_registry(out / "kh-accredited-agencies.json").registry.entries] == ["ACC-1", "ACC-2"]
    report = (out / "kh-accredited-agencies.json.rejected.csv").read_text().splitlines()
    assert report[0].startswith("line,reason,id") and len(report) == 5


def test_import_rejects_a_bad_header_and_a_wrong_keeper(tmp_path: Path) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("identifier,name\nA,B\n")
    result = run("registry", "import", str(csv_file), "--country", "KH", "--kind", "accredited-agencies", "--source", "s", "--registries", str(tmp_path))
    assert result.exit_code == 2 and "missing column(s) id" in result.stderr
    csv_file.write_text(GOOD)
    result = run("registry", "import", str(csv_file), "--country", "KH", "--kind", "improvement-orders", "--source", "s", "--registries", str(tmp_path))
    assert result.exit_code == 2 and "kept by Japan (JP), not KH" in result.output


def test_import_accepts_only_lists_a_pack_consults(tmp_path: Path, packset: PackSet) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(GOOD)
    keepers = packset.registry_keepers()["accredited-agencies"]
    idle = next(c for c in packset.countries if c not in keepers)  # a partner whose MOC has no accreditation list
    result = run("registry", "import", str(csv_file), "--country", idle, "--kind", "accredited-agencies", "--source", "s", "--registries", str(tmp_path))
    assert result.exit_code == 2 and f"no pack for {idle} has a rule that consults" in result.output
    assert ", ".join(keepers) in result.output and not list(tmp_path.glob("*.json"))
    result = run(
        "registry", "import", str(csv_file), "--country", keepers[0].lower(), "--kind", "accredited-agencies", "--source", "s", "--registries", str(tmp_path)
    )
    assert result.exit_code == 0 and (tmp_path / f"{keepers[0].lower()}-accredited-agencies.json").exists()  # a code in lower case is accepted


def test_registry_list_and_show() -> None:
    listed = json.loads(run("registry", "list", "--format", "json").output)
    assert {(r["country"], r["kind"]) for r in listed} >= {("KH", "accredited-agencies"), ("JP", "suspended-sectors")}
    assert all(isinstance(r["age_days"], int) for r in listed)
    shown = run("registry", "show", "accredited-agencies", "--country", "KH")
    assert "MOLVT-ACC-0017" in shown.output and "revoked" in shown.output


def test_check_uses_the_registries_option(tmp_path: Path) -> None:
    path = str(SAMPLES / "kh-candidate-clean.json")
    result = run("check", path, "--format", "jsonl", "--registries", str(tmp_path / "none"))
    record = json.loads(result.output)
    assert record["findings"] == [] and {w["code"] for w in record["data_warnings"]} == {"registry-missing", "pack-start-assumed"}
    assert all("article" not in w for w in record["data_warnings"])
    assert run("check", path, "--registries", str(tmp_path / "none"), "--fail-on", "warn").exit_code == 0
    text = run("check", path, "--registries", str(tmp_path / "none")).output
    assert "screening note [registry-missing]" in text
    result = run("check", path, "--format", "jsonl", "--registries", str(RULES / "registries"))
    assert json.loads(result.output)["findings"] == []


@pytest.mark.parametrize("text", ["0", "1700000000", "2025-1-01", "20250101", "2025-02-30", "0000-01-01", " 2025-01-01x"])
def test_import_takes_dates_as_yyyy_mm_dd_only(tmp_path: Path, text: str) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(f"id,name,listed_from\nACC-1,One,2024-01-01\nACC-2,Two,{text}\n")
    result = run("registry", "import", str(csv_file), "--country", "KH", "--kind", "accredited-agencies", "--source", "s", "--registries", str(tmp_path / "r"))
    assert result.exit_code == 1 and f"{csv_file}:3: listed_from" in result.stderr and not (tmp_path / "r").exists()
    with pytest.raises(ValidationError, match="not a date"):  # a registry file is held to the same dates
        Registry.model_validate({"kind": "accredited-agencies", "country": "KH", "source": "s", "retrieved_on": text, "entries": []})


def test_import_reads_the_csv_as_it_parses_it(tmp_path: Path) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_bytes("\ufeffid,name\n".encode() + b"".join(f"ACC-{n},Agency {n}\n".encode() for n in range(1000)) + b"ACC-X,\xff\n")
    lines = csv_lines(csv_file)
    assert next(lines) == "id,name\n" and next(lines) == "ACC-0,Agency 0\n"  # the byte order mark skipped, nothing read whole
    result = run("registry", "import", str(csv_file), "--country", "KH", "--kind", "accredited-agencies", "--source", "s", "--registries", str(tmp_path / "r"))
    assert result.exit_code == 2 and "not UTF-8" in result.stderr
    with pytest.raises(InputError, match="larger than 100 bytes"):
        list(csv_lines(csv_file, limit=100))
