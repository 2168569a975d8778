"""The pages without a browser: the form follows the model, roles are enforced by the server, the result view decides right."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import create_model

from dossier_rules.locale import use_language
from dossier_rules.model import CandidateDossier
from dossier_rules.packs import load_packs
from dossier_rules.web import forms, router, view, words

from .conftest import RULES, SAMPLES
from .server_support import PASSWORD, make_service


def test_a_field_added_to_the_model_appears_in_the_form() -> None:
    extended = create_model("Extended", __base__=CandidateDossier, visa_number=(str | None, None), interview_on=(date | None, None))
    by_name = {c.name: c for c in forms.controls(extended, {}, {})}
    assert by_name["visa_number"].widget == "text" and by_name["interview_on"].widget == "date"
    assert "visa number" in forms.field_names(extended)  # so the catalog test asks for its Japanese label


def test_form_controls_follow_the_field_types() -> None:
    by_name = {c.name: c for c in forms.controls(CandidateDossier, {}, {})}
    assert by_name["submitted"].widget == "date" and by_name["submitted"].required
    assert by_name["residence"].widget == "select" and ("abroad", "abroad") in by_name["residence"].choices
    assert by_name["fees"].widget == "rows" and by_name["identity"].widget == "group"
    assert by_name["languages"].widget == "multi" and "kind" not in by_name
    with use_language("ja"):
        japanese = {c.name: c for c in forms.controls(CandidateDossier, {}, {})}
    assert ("abroad", "国外") in japanese["residence"].choices and ("SSW1", "特定技能1号") in japanese["status_sought"].choices


def test_the_form_reads_back_as_the_dossier_it_describes() -> None:
    form = {
        "identity.name": "A",
        "fees.0.amount": "3,200",
        "fees.0.basis_shown": "false",
        "fees.1.purpose": "",
        "languages": "km, ja",
        "residence": "",
        "tests.0.kind": "skills",
        "csrf_token": "x",
        "add": "",
    }
    assert forms.dossier_from_form(CandidateDossier, form) == {
        "identity": {"name": "A"},
        "fees": [{"amount": 3200, "basis_shown": False}],
        "languages": ["km", "ja"],
        "tests": [{"kind": "skills"}],
    }
    assert forms.dossier_from_form(CandidateDossier, {"fees.0.amount": "lots"}) == {"fees": [{"amount": "lots"}]}  # validation explains it


def test_coded_values_are_chosen_the_dossiers_country_and_currency_first() -> None:
    load_packs(RULES)  # the currency offered first is the pack's (USD for KH), not CLDR's (KHR)
    context = forms.Context("KH", (("intermediaries.0", "Mekong（仲介機関（送出機関以外））"),))
    with use_language("ja"):
        tree = forms.controls(CandidateDossier, {"fees": [{"amount": 1}]}, {}, context=context)
    by_name = {c.name: c for c in tree}
    nationality = {c.name: c for c in by_name["identity"].children}["identity.nationality"]
    assert nationality.widget == "select" and nationality.choices[1] == ("KH", "カンボジア")
    fee = {c.key: c for c in by_name["fees"].rows[0]}
    assert fee["currency"].widget == "select" and fee["currency"].choices[1] == ("USD", "米ドル")
    assert fee["payee"].widget == "party" and ("intermediaries.0", "Mekong（仲介機関（送出機関以外））") in fee["payee"].choices
    assert ("km", "クメール語") in by_name["languages"].choices
    undeclared = {c.key: c for c in {c.name: c for c in forms.controls(CandidateDossier, {"fees": [{}]}, {}, context=forms.Context("TH"))}["fees"].rows[0]}
    assert undeclared["currency"].choices[1][0] == "THB"  # no pack for TH: CLDR's currency of the country
    with use_language("ja"):
        new_test = {c.key: c for c in {c.name: c for c in forms.controls(CandidateDossier, {}, {})}["tests"].template}
    assert new_test["name"].label == "試験の名称"  # not a person's name, in a row the script adds too


def test_a_party_picked_from_those_entered_is_copied_and_an_empty_row_is_kept_while_adding() -> None:
    form = {
        "intermediaries.0.name": "Mekong",
        "intermediaries.0.id": "KH-BRK-9",
        "fees.0.payee._pick": "intermediaries.0",
        "fees.0.amount": "10",
        "tests.0._row": "1",
        "languages": "km,en",
    }
    draft = forms.dossier_from_form(CandidateDossier, form, keep_rows=True)
    assert draft["fees"][0]["payee"] == {"role": "intermediary", "name": "Mekong", "id": "KH-BRK-9"}
    assert draft["tests"] == [{}] and draft["languages"] == ["km", "en"]
    assert "tests" not in forms.dossier_from_form(CandidateDossier, form)  # screening: an empty row is no test


def test_rows_are_added_and_removed_on_the_draft() -> None:
    draft: dict[str, Any] = {"fees": [{"amount": 1}, {"amount": 2}]}
    assert forms.with_row(draft, "fees", add=True)["fees"] == [{"amount": 1}, {"amount": 2}, {}]
    assert forms.with_row(draft, "fees.0", add=False)["fees"] == [{"amount": 2}, {}]
    assert forms.with_row({}, "tests", add=True) == {"tests": [{}]}


def test_the_verdict_never_hides_what_makes_the_result_uncertain() -> None:
    report = {"outcome": "clear", "pack_status": {"state": "start_unknown"}, "registries": [{"sample": True, "status": "stale"}]}
    found = view.verdict(report)
    assert found.css == "clear" and [what for what, _ in found.warnings] == ["not_in_force", "sample", "stale"]
    assert view.verdict({"outcome": "blocked", "pack_status": {"state": "in_force"}, "registries": []}).warnings == []


def test_values_read_in_words_codes_dates_amounts_and_parties() -> None:
    evidence = {
        "/residence": "abroad",
        "/submitted": "2025-07-10",
        "/fees/0/amount": 3200,
        "/fees/0/currency": "USD",
        "/fees/0/payee": {"id": "KH-BRK-9", "name": "Mekong", "role": "intermediary"},
        "/languages": ["km", "en"],
        "/certificate": None,
        "/fees/0/basis_shown": False,
    }
    with use_language("ja"):
        shown = {label: value for label, value, _pointer in words.evidence_words("candidate", evidence)}
    assert shown == {
        "居住地": "国外",
        "提出日": "2025年7月10日",
        "手数料等の費用 1 › 金額": "3,200 USD",
        "手数料等の費用 1 › 受領者": "Mekong（仲介機関（送出機関以外））",
        "読める言語": "クメール語、英語",
        "証明書（登録証明書等）": "記載なし",
        "手数料等の費用 1 › 算出基準の提示": "いいえ",
    }
    with use_language("en"):
        assert words.value_words("candidate", "/status_sought", "SSW1") == "SSW No. 1"
        assert words.time_words("2026-12-06T17:32:05+00:00", "Asia/Tokyo").startswith("December 7, 2026")
    with use_language("ja"):
        assert words.time_words("2026-12-06T17:32:05+00:00", "Asia/Tokyo") == "2026年12月7日 2:32:05 JST"
        assert words.pointer_words("/tests/0/name") == "試験 1 › 試験の名称"


def test_changed_fields_compare_two_dossiers_in_words() -> None:
    with use_language("ja"):
        changed = words.changed_fields("candidate", {"residence": "abroad", "fees": [{"amount": 1}]}, {"residence": "japan", "fees": [{"amount": 1}]})
    assert changed == [("居住地", "国外", "日本国内")]


def test_checks_are_made_before_redaction_and_missing_parents_stand_for_their_fields() -> None:
    from dossier_rules.report import checks_made

    from .server_support import _engine

    engine = _engine()
    dossier = json.loads((SAMPLES / "kh-candidate-abroad-no-agency.json").read_text())
    report = engine.evaluate_data(dossier)
    made = checks_made(engine.packset.packs[report["pack"]], "candidate", dossier, report["findings"])
    missing = [m["pointer"] for m in made["not_provided"]]
    assert "/sending_agency" in missing and not any(p.startswith("/sending_agency/") for p in missing)
    assert "/tests/0/certificate_number" not in missing  # it was given: a role that cannot see it must not be told it is missing
    fired = {f["rule_id"] for f in report["findings"]}
    assert made["passed"] and not fired & {p["rule_id"] for p in made["passed"]}
    dossier["tests"][0].pop("certificate_number")
    again = checks_made(engine.packset.packs[report["pack"]], "candidate", dossier, engine.evaluate_data(dossier)["findings"])
    assert "/tests/0/certificate_number" in [m["pointer"] for m in again["not_provided"]]


@pytest.fixture()
def service(tmp_path: Path) -> Any:
    svc = make_service(tmp_path)
    svc.app.include_router(router)
    return svc


def _sign_in(client: Any, who: str) -> str:
    response = client.post("/login", data={"username": who, "password": PASSWORD}, follow_redirects=True)
    assert response.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)  # type: ignore[union-attr]


def test_pages_need_a_sign_in(service: Any) -> None:
    for path in ("/screenings/new", "/history", "/notices", "/packs", "/registries"):
        response = service.client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    assert service.client.post("/notices/approve", data={"id": "x"}).status_code == 401


def test_a_screener_is_refused_notices_by_the_server(service: Any) -> None:
    csrf = _sign_in(service.client, "screener")
    assert service.client.get("/notices").status_code == 403
    assert service.client.post("/notices/approve", data={"csrf_token": csrf, "id": "N-KH-a-0-1"}).status_code == 403
    assert service.client.post("/notices/N-KH-a-0-1/export", data={"csrf_token": csrf}).status_code == 403


def test_state_changes_need_the_csrf_token(service: Any) -> None:
    _sign_in(service.client, "reviewer")
    assert service.client.post("/notices/approve", data={"id": "x"}).status_code == 403


def test_form_errors_are_in_the_page_language_next_to_the_field(service: Any) -> None:
    csrf = _sign_in(service.client, "screener")
    form = {
        "csrf_token": csrf,
        "_kind": "candidate",
        "_country": "KH",
        "dossier_id": "X-1",
        "submitted": "2025-06-01",
        "identity.name": "Kept",
        "fees.0.amount": "lots",
    }
    response = service.client.post("/screenings/form", data=form)
    assert response.status_code == 422
    assert 'id="in-fees-0-amount-err">数値を引用符なしで入力してください' in response.text
    assert 'value="Kept"' in response.text and 'value="lots"' in response.text


BAD_ENTRIES = {
    "a number that is no number": {"fees.0.amount": "lots"},
    "a date that is no date": {"incidents.0.kind": "threat", "incidents.0.occurred_on": "2025-13-40"},
    "languages typed as words (the issue's case)": {"languages": "クメール語, 英語"},
    "a country typed as a word": {"identity.nationality": "カンボジア"},
    "a currency typed in lower case": {"fees.0.currency": "usd"},
    "a required field left empty": {"identity.name": ""},
    "a row without its required kind": {"tests.0.name": "JFT"},
    "an id with spaces": {"receiving_organisation_id": "A B"},
    "a value out of the list": {"sector": "mining"},
    "a negative amount": {"held_property.0.item": "deposit", "held_property.0.amount": "-5"},
    "several at once": {"fees.0.amount": "lots", "languages": "クメール語, 英語", "identity.nationality": "カンボジア", "submitted": ""},
}


@pytest.mark.parametrize("bad", BAD_ENTRIES.values(), ids=BAD_ENTRIES.keys())
def test_the_banner_counts_exactly_the_problems_shown_next_to_fields(service: Any, bad: dict[str, str]) -> None:
    csrf = _sign_in(service.client, "screener")
    form = {"csrf_token": csrf, "_kind": "candidate", "_country": "KH", "dossier_id": "X-1", "submitted": "2025-06-01", "identity.name": "Kept", **bad}
    response = service.client.post("/screenings/form", data=form)
    assert response.status_code == 422
    banner = re.search(r'<div class="banner warn" role="alert" id="problems">(.*?)</div>', response.text, re.S).group(1)  # type: ignore[union-attr]
    count = int(re.search(r"(\d+)件", banner).group(1))  # type: ignore[union-attr]
    links = re.findall(r'<li><a href="#([^"]+)">', banner)
    shown = re.findall(r'<p class="field-error" id="([^"]+)-err\d*">', response.text)
    assert count == len(re.findall(r"<li>", banner)) == len(shown) == len(links) > 0
    assert sorted(links) == sorted(shown)  # each link leads to a field showing its problem


def test_upload_screens_and_opens_the_result(service: Any) -> None:
    csrf = _sign_in(service.client, "screener")
    raw = (SAMPLES / "kh-candidate-abroad-no-agency.json").read_bytes()
    response = service.client.post("/screenings/upload", data={"csrf_token": csrf}, files=[("files", ("a.json", raw, "application/json"))])
    assert response.status_code == 200 and "不適合あり：協力覚書に照らし" in response.text
    assert "この審査結果の留意事項" in response.text and "pack-start-assumed" not in response.text  # data warnings, in words
    assert "Vanna Example" not in response.text and "ご利用の権限では、個人情報" in response.text  # art. 3: screeners see no names
    assert "試験 1 › 証明書番号" not in response.text  # given, though hidden from a screener: not "missing"
    assert "根拠" in response.text and "上陸" not in response.text  # a block shows its basis (6(1): MOC text, no domestic act)
    bad = service.client.post("/screenings/upload", data={"csrf_token": csrf}, files=[("files", ("b.json", b'{"kind": "candiate"}', "application/json"))])
    assert bad.status_code == 422 and "candiate" in bad.text and "b.json" in bad.text
    assert json.loads(raw)["dossier_id"] in service.client.get("/history").text


def test_only_the_chosen_countrys_declared_fields_appear() -> None:
    from dossier_rules.packs import DeclaredField

    declared = {
        "molvt_office": DeclaredField(
            type="string",
            choices={
                "phnom_penh": {"ja": "プノンペン事務所", "en": "Phnom Penh office"},
                "siem_reap": {"ja": "シェムリアップ事務所", "en": "Siem Reap office"},
            },
            title={"ja": "MoLVT事務所", "en": "MoLVT office"},
        ),
        "briefing_attended": DeclaredField(type="bool", title={"ja": "説明会への出席", "en": "Briefing attended"}),
    }
    without = {c.name for c in forms.controls(CandidateDossier, {}, {})}
    assert "country_fields" not in without
    (group,) = [c for c in forms.controls(CandidateDossier, {}, {}, declared=declared) if c.name == "country_fields"]
    # in the order the pack declares them, each choice by the label the pack gives it
    assert [(c.name, c.widget) for c in group.children] == [("country_fields.molvt_office", "select"), ("country_fields.briefing_attended", "tristate")]
    assert [label for value, label in group.children[0].choices if value] == ["Phnom Penh office", "Siem Reap office"]
    form = {"country_fields.briefing_attended": "true", "country_fields.molvt_office": "siem_reap"}
    assert forms.dossier_from_form(CandidateDossier, form, declared) == {"country_fields": {"briefing_attended": True, "molvt_office": "siem_reap"}}


def test_the_guide_is_reachable_from_every_page_in_the_users_language(service: Any) -> None:
    _sign_in(service.client, "screener")
    assert 'href="/help"' in service.client.get("/screenings/new").text
    guide = service.client.get("/help")
    assert guide.status_code == 200 and "<h1>利用の手引き" in guide.text and 'src="/help/screenshots/form.png"' in guide.text
    assert service.client.get("/help/screenshots/form.png").headers["content-type"] == "image/png"
    assert service.client.get("/help/screenshots/..%2Fguide-ja.md").status_code == 404


def test_pages_allow_only_this_sites_script_and_carry_none_inline(service: Any) -> None:
    _sign_in(service.client, "screener")
    for path in ("/screenings/new", "/screenings/form?kind=candidate&country=KH", "/history", "/help"):
        response = service.client.get(path)
        assert "script-src 'self';" in response.headers["content-security-policy"]
        scripts = re.findall(r"<script[^>]*>", response.text)
        assert scripts == ['<script src="/static/print.js" defer>', '<script src="/static/form.js">'] and " on" + "click=" not in response.text
    assert service.client.get("/static/form.js").headers["content-type"].startswith("text/javascript")


def test_history_finds_a_dossier_by_id_from_the_summaries_and_offers_no_name_search(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    for name in ("kh-candidate-abroad-no-agency.json", "kh-candidate-clean.json"):
        raw = (SAMPLES / name).read_bytes()
        service.client.post("/screenings/upload", data={"csrf_token": csrf}, files=[("files", (name, raw, "application/json"))])
    wanted = json.loads((SAMPLES / "kh-candidate-abroad-no-agency.json").read_text())
    found = service.client.get("/history", params={"dossier_id": wanted["dossier_id"].lower()}).text
    assert found.count('<a href="/screenings/S-') == 1 and wanted["dossier_id"] in found and "カンボジア" in found
    service.client.post("/logout", data={"csrf_token": csrf})
    _sign_in(service.client, "screener")
    page = service.client.get("/history", params={"name": wanted["identity"]["name"]}).text
    assert 'name="name"' not in page and page.count('<a href="/screenings/S-') == 2  # summaries hold no names: no name search


EVERY_FIELD_CANDIDATE: dict[str, Any] = {
    "schema_version": "1.0",
    "dossier_id": "KH-ALL-0001",
    "kind": "candidate",
    "country": "KH",
    "submitted": "2025-06-02",
    "identity": {"name": "Sokha Example", "nationality": "KH", "date_of_birth": "2000-01-02", "passport_number": "N1234567"},
    "languages": ["km", "en"],
    "residence": "abroad",
    "status_sought": "SSW2",
    "sector": "nursing_care",
    "hire_route": "sending_agency",
    "sending_agency": {
        "id": "KH-SA-0001",
        "name": "Angkor Example Agency",
        "role": "sending_agency",
        "legal_form": "corporate",
        "country": "KH",
        "accreditation": {"ministry": "MoLVT", "number": "ACC-1", "valid_from": "2020-01-01", "valid_to": "2030-01-01", "revoked_on": None},
    },
    "intermediaries": [{"id": "KH-BRK-0009", "name": "Mekong Example Recruiting", "role": "intermediary", "legal_form": "individual", "country": "TH"}],
    "certificate": {"kind": "other", "issuer": "Provincial Office", "number": "C-1", "issue_date": "2025-05-01"},
    "tests": [
        {
            "kind": "japanese",
            "name": "JFT-Basic",
            "certificate_number": "J-1",
            "taken_on": "2025-01-10",
            "identity_verified": False,
            "impersonation_reported": True,
            "certificate_forged_or_altered": False,
        }
    ],
    "fees": [
        {
            "payer": "Father",
            "payee": {"id": "KH-BRK-0009", "name": "Mekong Example Recruiting", "role": "intermediary"},
            "amount": 3200,
            "currency": "USD",
            "purpose": "Placement",
            "basis_shown": False,
            "breakdown_explained": False,
            "explanation_language": "ja",
            "acknowledged": False,
        }
    ],
    "held_property": [
        {
            "item": "land_title",
            "holder": {"name": "Mekong Example Recruiting", "role": "intermediary"},
            "owner": "relative",
            "amount": 500,
            "currency": "USD",
            "description": "Family land",
        }
    ],
    "contract_clauses": [
        {
            "kind": "penalty",
            "party": {"name": "Angkor Example Agency", "role": "sending_agency"},
            "concluded": True,
            "amount": 2000,
            "currency": "USD",
            "description": "Penalty",
        }
    ],
    "incidents": [
        {"kind": "threat", "perpetrator": {"name": "Mekong Example Recruiting", "role": "intermediary"}, "occurred_on": "2025-03-01", "description": "Threats"}
    ],
    "documents": [
        {
            "kind": "work_experience_certificate",
            "number": "D-1",
            "provided_by": {"name": "Angkor Example Agency", "role": "sending_agency"},
            "finding": "forged",
        }
    ],
    "dependents": [{"relation": "spouse", "name": "Dara Example", "date_of_birth": "2001-02-03", "accompanying": True}],
    "receiving_organisation_id": "JP-RO-0001",
    "support_organisation_id": "JP-SO-0001",
}
EVERY_FIELD_BROKER: dict[str, Any] = {
    **json.loads((SAMPLES / "kh-broker-revoked.json").read_text()),
    "dossier_id": "KH-ALL-0002",
    "fee_schedule": {"published": False, "basis_shown": False, "breakdown_shown": None},
    "practices": {"holds_passports": True, "takes_deposits": True, "penalty_contracts": True},
    "complaints": [{"received_on": "2025-02-01", "act": "c", "summary": "Passports held", "substantiated": True}],
}
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_.()/' -]*[A-Za-z0-9)]|[A-Za-z]")
ALLOWED = {"MOC", "MoLVT", "SHA-256", "HTML", "JSON", "XLSX", "Excel", "JST", "ID", "English", "USD", "Certificate of Registration", "Reviewer Person"}
"""Latin text a Japanese page may show: acronyms and the language switch; ids, numbers and names come from the dossiers."""


def _visible_text(html: str) -> str:
    """What a screener reads: no script, style, options' values, closed details or code (those may show pointers and ids)."""
    for pattern in (
        r"<script.*?</script>",
        r"<style.*?</style>",
        r"<details.*?</details>",
        r"<code.*?</code>",
        r"<pre.*?</pre>",
        r"<iframe.*?</iframe>",
        r"<template.*?</template>",
    ):
        html = re.sub(pattern, " ", html, flags=re.S)
    return re.sub(r"\s+", " ", __import__("html").unescape(re.sub(r"<[^>]+>", " ", html)))


def _free_text(value: Any) -> set[str]:
    """Names, ids and other text typed into the dossiers: allowed in Latin letters."""
    if isinstance(value, dict):
        coded = (
            "kind",
            "role",
            "relation",
            "item",
            "owner",
            "finding",
            "act",
            "country",
            "nationality",
            "based_in",
            "languages",
            "explanation_language",
            "legal_form",
            "residence",
            "status_sought",
            "sector",
            "hire_route",
        )
        return set().union(*(_free_text(v) for k, v in value.items() if k not in coded or (k == "kind" and "number" in value)), set())
    if isinstance(value, list):
        return set().union(*(_free_text(v) for v in value), set())
    return {value} if isinstance(value, str) else set()


def test_every_staff_page_reads_in_japanese_without_pointers_json_escapes_or_codes(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    names = set()
    results = []
    for dossier in (EVERY_FIELD_CANDIDATE, EVERY_FIELD_BROKER, *(json.loads(p.read_text()) for p in sorted(SAMPLES.glob("*.json")))):
        raw = json.dumps(dossier).encode()
        response = service.client.post("/screenings/upload", data={"csrf_token": csrf}, files=[("files", ("d.json", raw, "application/json"))])
        assert response.status_code == 200, response.text[:500]
        results.append(response)
        names |= _free_text(dossier)
    sid = str(response.url).rsplit("/", 1)[1]
    built = service.client.post("/notices/build", data={"csrf_token": csrf, "screening_id": "S-00000001"})
    nid = re.findall(r'name="id" value="([^"]+)"', built.text)[0]
    service.client.post("/notices/approve", data={"csrf_token": csrf, "id": nid})
    service.client.post(f"/notices/{nid}/send", data={"csrf_token": csrf, "how": "email"})
    today = date.today().isoformat()
    asked = {"csrf_token": csrf, "kind": "inquiry", "country": "KH", "dated": today, "received_on": today, "reference": "Q-1", "subject": "確認"}
    service.client.post("/exchange/inbox", data=asked)
    inquiry = service.client.post("/exchange/japan/inquiries", data={"csrf_token": csrf, "country": "KH", "subject": "確認", "due_days": "30"})
    pages = [r.text for r in results] + [inquiry.text]
    for path in (
        "/screenings/new",
        "/screenings/form?kind=candidate&country=KH",
        "/screenings/form?kind=broker&country=LA",
        "/screenings/S-00000001/edit",
        "/history",
        "/notices",
        "/packs",
        "/registries",
        "/help",
        f"/screenings/{sid}?changed_from=S-00000001",
        f"/notices/{nid}",
        "/exchange/inbox",
        "/exchange/japan?screening=S-00000001",
        f"/exchange/agenda?country=KH&start=2020-01-01&end={today}",
    ):
        response = service.client.get(path)
        assert response.status_code == 200, path
        pages.append(response.text)
    allowed = sorted(names | ALLOWED | {"Q-1"} | set(service.app.state.engine.packset.sources), key=len, reverse=True)  # pack ids are ids
    found: dict[str, int] = {}
    for number, html in enumerate(pages):
        text = _visible_text(html)
        assert not re.search(r"(^|[\s(（])/[a-z_]+(/[a-z0-9_]+)*([\s)）]|$)", text), re.search(r".{40}/[a-z_]+/.{40}", text)
        assert "\\u" not in text and '{"' not in text and "null" not in text, "JSON or an escape"
        text = re.sub(r"N-[A-Z]{2}-[a-z_-]+-[0-9a-f]+-\d+", " ", text)  # notice ids
        text = re.sub(r"J-[A-Z]{2}-[a-z]+-[0-9a-f]+|R-[0-9a-f]{16}", " ", text)  # Japan's notices and received communications
        for name in allowed:
            text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", " ", text)
        for word in LATIN.findall(text):
            if not re.fullmatch(r"[A-Z0-9][A-Za-z0-9-]*\d[A-Za-z0-9-]*|N-[A-Za-z0-9-]+|[a-f]\)|\(?[a-f]\)", word):
                found.setdefault(word, number)
    assert found == {}, sorted(found.items())


def test_a_screener_corrects_a_dossier_without_seeing_or_losing_its_personal_data(service: Any) -> None:
    csrf = _sign_in(service.client, "screener")
    raw = (SAMPLES / "kh-candidate-abroad-no-agency.json").read_bytes()
    first = service.client.post("/screenings/upload", data={"csrf_token": csrf}, files=[("files", ("a.json", raw, "application/json"))])
    sid = str(first.url).rsplit("/", 1)[1]
    edit = service.client.get(f"/screenings/{sid}/edit")
    assert edit.status_code == 200 and "Vanna Example" not in edit.text and 'name="_edit_of"' in edit.text
    form = dict(re.findall(r'<input id="[^"]+" name="([^"]+)" value="([^"]*)"', edit.text))
    form |= dict(re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>.*?<option value="([^"]*)" selected', edit.text, re.S))
    form = {k: v for k, v in form.items() if k not in ("lang", "next")}  # the header's language switch is another form
    form |= {"csrf_token": csrf, "_kind": "candidate", "_country": "KH", "_edit_of": sid, "residence": "japan", "languages": "km"}
    done = service.client.post("/screenings/form", data=form)
    assert done.status_code == 200 and f"changed_from={sid}" in str(done.url), done.text[:2000]
    assert "居住地" in done.text and "国外" in done.text and "日本国内" in done.text  # what changed, before and after
    new = str(done.url).rsplit("/", 1)[1].split("?")[0]
    stored = service.client.get(f"/api/v1/screenings/{new}", headers=service.as_("admin")).json()
    assert stored["dossier"]["identity"]["name"] == "Vanna Example" and stored["dossier"]["tests"][0]["certificate_number"] == "CN-2025-0120"
