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
from dossier_rules.web import forms, router, view

from .conftest import SAMPLES
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
    assert by_name["languages"].widget == "csv" and "kind" not in by_name
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


def test_evidence_links_to_the_nearest_field_the_dossier_has() -> None:
    present = {pointer for pointer, _ in view.flatten({"fees": [{"amount": 1}]})}
    assert view.nearest("/fees/0/amount", present) == "/fees/0/amount"
    assert view.nearest("/fees/0/currency", present) == "/fees/0"
    assert view.nearest("/certificate", present) is None


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


def test_upload_screens_and_opens_the_result(service: Any) -> None:
    csrf = _sign_in(service.client, "screener")
    raw = (SAMPLES / "kh-candidate-abroad-no-agency.json").read_bytes()
    response = service.client.post("/screenings/upload", data={"csrf_token": csrf}, files=[("files", ("a.json", raw, "application/json"))])
    assert response.status_code == 200 and "受入不可: このままでは" in response.text
    assert "この審査の限界" in response.text and "pack-start-assumed" not in response.text  # data warnings, in words
    assert "不適合の根拠" in response.text and "上陸" not in response.text  # a block shows its basis (6(1): MOC text, no domestic act)
    assert "Vanna Example" not in response.text and "あなたの役割では個人情報は表示されません" in response.text  # art. 3: screeners see no names
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
