"""Personal data reaches a notice only when asked for and only from the dossier the report was made from;
notices are escaped for Markdown; a report is shared only if its packs and articles check out."""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dossier_rules import redaction
from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.model import PERSONAL, CandidateDossier, personal_fields, personal_pointer
from dossier_rules.packs import PackSet
from dossier_rules.registries import registry_file, write_registry
from dossier_rules.results import complete
from dossier_rules.sharing import Outbox, render
from dossier_rules.testing import case_dossier, case_engine, pack_test_registries

from .conftest import SAMPLES
from .test_robustness import results_in
from .test_sharing import TODAY

MARKER = "ZZSECRET"
MARKER_DATE = "1901-02-03"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def mark_personal(data: dict[str, Any]) -> dict[str, Any]:
    """The dossier with every personal field that can hold text set to the marker (dates to the marker date)."""
    identity = data.setdefault("identity", {})
    identity.update(name=MARKER + "-name", passport_number=MARKER + "-passport", date_of_birth=MARKER_DATE)
    for key in ("certificate",):
        if isinstance(data.get(key), dict):
            data[key]["number"] = MARKER + "-cert"
    for name, field in (
        ("tests", "certificate_number"),
        ("fees", "payer"),
        ("documents", "number"),
        ("held_property", "description"),
        ("contract_clauses", "description"),
        ("incidents", "description"),
        ("dependents", "name"),
    ):
        for item in data.get(name) or []:
            item[field] = f"{MARKER}-{name}"
    return data


def share_cases(packset: PackSet) -> dict[tuple[str, str | None], list[dict[str, Any]]]:
    """Every firing test case of every share-marked rule, by pack and the as-of date it is tested at."""
    cases: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for pack in packset.packs.values():
        for resolved in pack.rules:
            spec = resolved.rule.spec
            if spec.share is None or spec.applies_to != "candidate":
                continue
            for index, case in enumerate(spec.tests):
                if case.expect == "fire":
                    data = mark_personal(json.loads(json.dumps(case_dossier(pack, resolved, index))))
                    key = (pack.id, str(case.as_of) if case.as_of else None)
                    data["dossier_id"] = f"{data['dossier_id']}-{len(cases[key])}"
                    cases[key].append(data)
    return cases


def test_the_model_declares_personal_fields_once_and_the_schema_shows_them() -> None:
    fields = personal_fields(CandidateDossier)
    assert {"/identity", "/dependents", "/documents/*/number", "/certificate/number"} <= set(fields)
    assert personal_pointer("/documents/3/number") and personal_pointer("/identity/name") and not personal_pointer("/documents/3/finding")
    schema = json.loads((SAMPLES.parent / "schemas" / "candidate.schema.json").read_text())
    assert schema["properties"]["identity"]["x-personal"] is True == PERSONAL["x-personal"]


def test_no_personal_datum_reaches_any_export_of_any_shared_rule(packset: PackSet, tmp_path: Path) -> None:
    reports = []
    for n, ((pack_id, as_of), dossiers) in enumerate(sorted(share_cases(packset).items(), key=str)):
        registries = tmp_path / f"registries-{n}"
        for loaded in pack_test_registries(packset.packs[pack_id]):
            write_registry(loaded.registry, registry_file(registries, *loaded.key))
        source = tmp_path / f"cases-{n}.jsonl"
        source.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in dossiers), encoding="utf-8")
        out = tmp_path / f"reports-{n}.jsonl"
        as_of_option = ["--as-of", as_of] if as_of else []
        invoke("batch", str(source), "--out", str(out), "--jobs", "1", "--registries", str(registries), "--max-registry-age", "100000", *as_of_option)
        reports.append(out)
    outbox = tmp_path / "o.sqlite"
    with Outbox(outbox) as box:
        result = box.build(packset, reports)
        assert result.problems == []
        exports = []
        rules_seen = set()
        for row in box.notices():
            box.approve(row["id"], "Examiner")
            notice = box.export(row["id"], packset, TODAY)
            rules_seen |= {f.rule_id for d in notice.dossiers for f in d.findings}
            exports += [render(notice, fmt) for fmt in ("json", "html", "md")]  # type: ignore[arg-type]
    shared_rules = {r.rule.id for p in packset.packs.values() for r in p.rules if r.rule.spec.share and r.rule.spec.applies_to == "candidate"}
    assert rules_seen == shared_rules, "every shared rule must be rendered"
    text = "\n".join(exports)
    assert MARKER not in text and MARKER_DATE not in text
    assert "withheld: personal data" in text, "some shared message quotes a personal field, and it is withheld"
    with Outbox(tmp_path / "p.sqlite") as box:
        box.build(packset, reports, with_personal_data=True)
        personal = "".join(render(box.notice(r["id"]), "json") for r in box.notices())
    assert MARKER in personal, "with --with-personal-data the identity is included (the marker test can fail)"


def test_a_message_quoting_a_personal_field_is_withheld_there(packset: PackSet, tmp_path: Path) -> None:
    data = json.loads((SAMPLES / "pk-candidate-false-documents.json").read_text())
    for doc in data["documents"]:
        doc["number"] = MARKER
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(data) + "\n")
    invoke("batch", str(source), "--out", str(tmp_path / "r.jsonl"), "--jobs", "1")
    with Outbox(tmp_path / "o.sqlite") as box:
        box.build(packset, [tmp_path / "r.jsonl"])
        texts = [render(box.notice(r["id"]), "md") for r in box.notices()]
    assert texts and not any(MARKER in t for t in texts)


def test_personal_data_only_from_the_dossier_the_report_was_made_from(packset: PackSet, tmp_path: Path) -> None:
    first = json.loads((SAMPLES / "pk-candidate-false-documents.json").read_text())
    second = dict(first, dossier_id="PK-OTHER-1", identity={"name": "Other Person", "passport_number": "P-OTHER"})
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    invoke("batch", str(source), "--out", str(tmp_path / "r.jsonl"), "--jobs", "1")
    source.write_text(json.dumps(second) + "\n" + json.dumps(first) + "\n")  # the input reordered after screening
    result = invoke("share", "build", str(tmp_path / "r.jsonl"), "--with-personal-data", "--outbox", str(tmp_path / "o.sqlite"))
    assert result.exit_code == 2 and "no longer holds the dossier" in result.stderr
    with Outbox(tmp_path / "o.sqlite") as box:
        assert box.notices() == []


def test_a_relabelled_report_is_not_shared(packset: PackSet, tmp_path: Path) -> None:
    source = SAMPLES / "pk-candidate-false-documents.json"
    invoke("batch", str(source.parent), "--out", str(tmp_path / "r.jsonl"), "--jobs", "1")
    report = next(r for r in results_in(tmp_path / "r.jsonl") if r.get("dossier_id") == "PK-CAND-0002")
    report = complete(report, json.loads((tmp_path / "r.jsonl").read_text().splitlines()[0]))
    kh = next(p for p in packset.packs.values() if p.country == "KH")
    forged = dict(report, country="KH", pack=kh.id)
    (tmp_path / "forged.jsonl").write_text(json.dumps(forged) + "\n")
    result = invoke("share", "build", str(tmp_path / "forged.jsonl"), "--outbox", str(tmp_path / "o.sqlite"))
    assert result.exit_code == 2 and "re-screen" in result.stderr
    forged["packs"] = [{"id": s.id, "version": s.spec.pack.version, "sha256": s.sha256} for s in kh.chain]
    (tmp_path / "forged.jsonl").write_text(json.dumps(forged) + "\n")
    result = invoke("share", "build", str(tmp_path / "forged.jsonl"), "--outbox", str(tmp_path / "o.sqlite"))
    assert result.exit_code == 2 and "not what pack" in result.stderr
    with Outbox(tmp_path / "o.sqlite") as box:
        assert box.notices() == []


@pytest.mark.parametrize("name", ["Agency | x", "Line\n# Heading", "[click](javascript:alert(1))", "<b>bold</b> & `code`"])
def test_markdown_export_is_escaped_names_and_approver_too(packset: PackSet, tmp_path: Path, name: str) -> None:
    data = json.loads((SAMPLES / "pk-candidate-false-documents.json").read_text())
    for doc in data["documents"]:
        doc["provided_by"]["name"] = name
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(data) + "\n")
    invoke("batch", str(source), "--out", str(tmp_path / "r.jsonl"), "--jobs", "1")
    with Outbox(tmp_path / "o.sqlite") as box:
        box.build(packset, [tmp_path / "r.jsonl"])
        row = box.notices()[0]
        plain = render(box.notice(row["id"]), "md")
        box.approve(row["id"], name)
        md = render(box.export(row["id"], packset, TODAY), "md")
    for text in (plain, md):
        assert "](javascript" not in text and "<b>" not in text and "\n# Heading" not in text
        tables = [list(rows) for in_table, rows in itertools.groupby(text.splitlines(), lambda line: line.startswith("|")) if in_table]
        assert len(tables) == 2  # the header table, the dossiers concerned
        for table in tables:  # every row has as many cells as the table's header row: no name adds one
            assert all(line.replace("\\|", "").count("|") == table[0].count("|") for line in table), table
    assert len(md.splitlines()) == len(plain.splitlines())


# ---------------------------------------------------------------- reports for roles that may not see personal data

WITHHELD_TEXTS = ("[withheld: personal data]", "［個人情報のため省略］")


def marked_reports(packset: PackSet) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every firing case of every rule, with the marker in every personal field: (dossier, report), screened as the pack tests do."""
    out = []
    for pack in packset.packs.values():
        engine = Engine(packset, pack_test_registries(pack), max_registry_age=None)
        for resolved in pack.rules:
            for index, case in enumerate(resolved.rule.spec.tests):
                if case.expect == "fire":
                    data = json.loads(json.dumps(case_dossier(pack, resolved, index)))
                    data = mark_personal(data) if data["kind"] == "candidate" else data  # brokers have no personal field
                    screening = case_engine(engine, pack, case.registries_retrieved_on)
                    out.append((data, screening.evaluate_data(data, as_of=case.as_of, timestamp=False)))
    return out


def test_no_personal_value_survives_redaction_of_any_rules_finding(packset: PackSet) -> None:
    quoted, rules = [], set()
    for _data, report in marked_reports(packset):
        rules |= {f["rule_id"] for f in report["findings"]}
        redacted = json.dumps(redaction.redact_report(report, packset), ensure_ascii=False)
        assert MARKER not in redacted and MARKER_DATE not in redacted, report["dossier_id"]
        quoted += [f for f in report["findings"] if MARKER in json.dumps(f["message"], ensure_ascii=False)]
    fired = {r.rule.id for p in packset.packs.values() for r in p.rules if any(c.expect == "fire" for c in r.rule.spec.tests)}
    assert rules >= fired, "every rule's firing case is screened"
    by_field = {pointer.split("/")[1] for f in quoted for pointer in f["evidence"] if personal_pointer(pointer)}
    assert {"documents", "tests", "contract_clauses"} <= by_field, "messages quoting those fields are among those checked"
    kept = [redaction.redact_finding(f, packset)["message"] for f in quoted]
    assert all(WITHHELD_TEXTS[0] in m["en"] and WITHHELD_TEXTS[1] in m["ja"] for m in kept)
    assert any(m["en"] != WITHHELD_TEXTS[0] for m in kept), "the rest of a message is kept, not withheld whole"


def test_without_the_rule_a_message_is_withheld_whole() -> None:
    finding = {"rule_id": "no-such-rule", "message": {"ja": MARKER, "en": MARKER}, "evidence": {"/documents/0/number": MARKER, "/fees/0/amount": 5}}
    assert redaction.redact_finding(finding, None) == {
        "rule_id": "no-such-rule",
        "message": {"ja": WITHHELD_TEXTS[1], "en": WITHHELD_TEXTS[0]},
        "evidence": {"/fees/0/amount": 5},
    }


@pytest.fixture(scope="module")
def screened_service(packset: PackSet, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[str]]:
    """A service holding every marked firing case that quotes a personal value in a finding, screened there as of its test date."""
    from dossier_rules.web import router

    from .server_support import make_service

    service = make_service(tmp_path_factory.mktemp("service"))
    service.app.include_router(router)
    ids = []
    for data, _report in marked_reports(packset):
        as_of = {"as_of": data["submitted"]}
        response = service.client.post("/api/v1/screenings", json=data, headers=service.as_("admin"), params=as_of)
        assert response.status_code == 201, response.text
        if any(MARKER in json.dumps(f, ensure_ascii=False) for f in response.json()["report"]["findings"]):
            ids.append(response.json()["screening_id"])
    assert ids, "some finding quotes a marked value (the test can fail)"
    return service, ids


@pytest.mark.parametrize("role", ["screener", "reviewer", "admin"])
def test_every_role_sees_personal_values_only_if_the_policy_allows_it(screened_service: tuple[Any, list[str]], role: str) -> None:
    from .server_support import PASSWORD

    service, ids = screened_service
    texts = [service.client.get(f"/api/v1/screenings/{sid}", headers=service.as_(role)).text for sid in ids]
    texts += [service.client.get("/api/v1/screenings", headers=service.as_(role), params={"limit": 100}).text]
    texts += [service.client.post(f"/api/v1/screenings/{ids[0]}/rescreen", headers=service.as_(role)).text]
    service.client.cookies.clear()
    service.client.post("/login", data={"username": role, "password": PASSWORD}, follow_redirects=True)
    for lang, withheld in zip(("en", "ja"), WITHHELD_TEXTS, strict=True):
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', service.client.get("/screenings/new").text).group(1)  # type: ignore[union-attr]
        service.client.post("/language", data={"lang": lang, "csrf_token": csrf, "next": "/"})
        pages = [service.client.get(f"/screenings/{sid}").text for sid in ids]
        pages += [service.client.get(f"/screenings/{ids[0]}", params={"download": "true"}).text, service.client.get("/history").text]
        assert all(f'<html lang="{lang}"' in page for page in pages)
        assert role != "screener" or withheld in "".join(pages), "the page is in that language, personal values withheld in it"
        texts += pages
    text = "\n".join(texts)
    if role == "screener":
        assert MARKER not in text and MARKER_DATE not in text
    else:
        assert MARKER in text, "reviewers and administrators see the values (the test can fail)"


def test_a_field_hidden_from_a_role_is_not_listed_as_not_provided(screened_service: tuple[Any, list[str]]) -> None:
    from .server_support import PASSWORD

    service, ids = screened_service
    pages = {}
    for role in ("screener", "reviewer"):
        service.client.cookies.clear()
        service.client.post("/login", data={"username": role, "password": PASSWORD}, follow_redirects=True)
        pages[role] = [re.findall(r'<ul class="unknowns">(.*?)</ul>', service.client.get(f"/screenings/{sid}").text, re.S) for sid in ids]
    assert pages["screener"] == pages["reviewer"]


@pytest.mark.parametrize(
    ("pointer", "personal"),
    [
        ("/identity/name", True),
        ("/certificate", True),
        ("/certificate/number", True),
        ("/fees/3", True),
        ("/fees", True),
        ("", True),
        ("/fees/3/amount", False),
        ("/certificate/issuer", False),
        ("/sending_agency", False),
        ("/documents/0/finding", False),
    ],
)
def test_a_placeholder_quoting_an_object_that_holds_a_personal_field_is_withheld(pointer: str, personal: bool) -> None:
    assert redaction.holds_personal(pointer) is personal
