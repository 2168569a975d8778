"""The consultation brief (4(2)) and the dashboard: their numbers against ``report`` on the same dossiers, their charts, their XLSX."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dossier_rules import charts
from dossier_rules.cli import main
from dossier_rules.errors import DossierError
from dossier_rules.results import Filter, Summary
from dossier_rules.services import briefs
from dossier_rules.services.notices import NoticeService
from dossier_rules.sharing import Outbox

from .server_support import ROOT, Service, make_service

SAMPLES = sorted((ROOT / "samples").glob("*.json"))
TODAY = datetime.now(UTC).date()
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Service:
    """Every sample dossier screened into a temporary service database, and notices built from the KH ones."""
    service = make_service(tmp_path_factory.mktemp("briefs"))
    headers = {**service.as_("screener"), "content-type": "application/json"}
    ids = [service.client.post("/api/v1/screenings", content=p.read_bytes(), headers=headers).json()["screening_id"] for p in SAMPLES]
    built = service.client.post("/api/v1/notices/build", json={"screening_ids": ids}, headers=service.as_("reviewer")).json()
    assert built["created"]
    return service


def brief_of(service: Service, country: str, start: date, end: date) -> dict[str, Any]:
    db = service.app.state.db
    with Outbox(db) as box:
        return briefs.brief(NoticeService(box, db), service.app.state.engine.packset, country, start, end, {}, TODAY)


def report_of(tmp_path: Path, *options: str) -> dict[str, Any]:
    """``check`` then ``report --format json`` on the same sample files (the CLI, as an examiner runs it)."""
    runner = CliRunner()
    results = tmp_path / "results.jsonl"
    checked = runner.invoke(main, ["check", "--format", "jsonl", "--fail-on", "never", *map(str, SAMPLES)])
    assert checked.exit_code == 0, checked.output
    results.write_text(checked.stdout, encoding="utf-8")
    shown = runner.invoke(main, ["report", str(results), "--format", "json", *options])
    assert shown.exit_code == 0, shown.output
    return dict(json.loads(shown.stdout)["summary"])


@pytest.mark.parametrize("country", ["KH", "LA", "PK"])
def test_the_briefs_numbers_are_the_reports_on_the_same_dossiers(screened: Service, tmp_path: Path, country: str) -> None:
    found = brief_of(screened, country, TODAY - timedelta(days=29), TODAY)
    summary = report_of(tmp_path, "--country", country)
    assert found["dossiers"] == summary["country"][country]["dossiers"] == summary["records"]
    assert found["findings"] == summary["country"][country]["findings"] == sum(found["findings_by_act"].values()) > 0
    assert {k: v for k, v in found["outcomes"].items() if v} == summary["country"][country]["outcomes"]
    assert sum(found["findings_by_month"].values()) == found["findings"] and len(found["findings_by_month"]) in (1, 2)
    for party in found["intermediaries"]:
        assert party["findings"] == summary["intermediary"][party["key"]]["findings"]
    ranked = [p["findings"] for p in found["intermediaries"]]
    assert ranked == sorted(ranked, reverse=True) and len(ranked) <= briefs.TOP_INTERMEDIARIES


def test_findings_by_act_are_the_acts_of_the_reports_findings(screened: Service, tmp_path: Path) -> None:
    report_of(tmp_path, "--country", "KH")
    acts: dict[str, int] = {}
    for line in (tmp_path / "results.jsonl").read_text().splitlines():
        record = json.loads(line)
        for finding in record.get("findings", []) if record.get("country") == "KH" else []:
            acts[finding.get("act") or "none"] = acts.get(finding.get("act") or "none", 0) + 1
    assert brief_of(screened, "KH", TODAY - timedelta(days=6), TODAY)["findings_by_act"] == acts and "revocation" in acts


def test_the_brief_says_what_changed_since_the_previous_period(screened: Service) -> None:
    now = brief_of(screened, "KH", TODAY - timedelta(days=6), TODAY)
    later = brief_of(screened, "KH", TODAY + timedelta(days=1), TODAY + timedelta(days=7))  # the next brief: nothing screened yet
    assert later["previous_period"] == now["period"]
    assert later["changes"]["counts"]["findings"] == {"before": now["findings"], "now": 0, "change": -now["findings"]}
    assert now["changes"]["counts"]["dossiers"]["before"] == 0 and now["changes"]["new_intermediaries"] == now["intermediaries"]
    assert later["changes"]["new_intermediaries"] == [] and later["intermediaries"] == []
    assert [t["topic"] for t in now["topics"]] == list("abcdef") and now["article"] == "MOC-KH 4(2)"


def test_notices_revocations_and_inquiries_of_the_period_are_counted(tmp_path: Path) -> None:
    from .test_framework import communication, inquiry

    registries = tmp_path / "registries"
    shutil.copytree(ROOT / "rules" / "registries", registries)
    service = make_service(tmp_path, registries_dir=registries)
    reviewer, api, today = service.as_("reviewer"), "/api/v1/framework", TODAY.isoformat()
    headers = {**service.as_("screener"), "content-type": "application/json"}
    sid = service.client.post("/api/v1/screenings", content=(ROOT / "samples" / "kh-candidate-revoked-agency.json").read_bytes(), headers=headers)
    (nid, *_rest) = service.client.post("/api/v1/notices/build", json={"screening_ids": [sid.json()["screening_id"]]}, headers=reviewer).json()["created"]
    assert service.client.post(f"/api/v1/notices/{nid}/approve", headers=reviewer).status_code == 200
    assert service.client.post(f"{api}/notices/{nid}/send", json={"how": "email"}, headers=reviewer).status_code == 200
    answer = {"text": "Guidance issued.", "received_on": today, "reference": "MoLVT-118", "action": "guidance"}
    assert service.client.post(f"{api}/notices/{nid}/answer", json=answer, headers=reviewer).status_code == 200
    posted = {**reviewer, "content-type": "application/json"}
    for letter in (communication(dated=today, received_on=today), inquiry(dated=today, received_on=today, reference="Q-1")):
        assert service.client.post(f"{api}/inbox", content=letter, headers=posted).status_code == 200
    did = service.client.post(f"{api}/japan/inquiries", json={"country": "KH", "subject": "Is agency X accredited?"}, headers=reviewer).json()["id"]
    for action in ("approve", "send"):
        assert service.client.post(f"{api}/japan/{did}/{action}", json={"how": "email"}, headers=reviewer).status_code == 200
    found = brief_of(service, "KH", TODAY - timedelta(days=6), TODAY)
    assert (found["notices_sent"], found["notices_answered"], found["inquiries_received"], found["inquiries_sent"]) == (1, 1, 1, 1)
    assert found["received"] == {"revocation": 1, "accreditation": 0, "result": 0, "inquiry": 1}
    assert found["changes"]["counts"]["revocations"] == {"before": 0, "now": 1, "change": 1}
    earlier = brief_of(service, "KH", TODAY - timedelta(days=13), TODAY - timedelta(days=7))
    assert (earlier["notices_sent"], earlier["received"]["revocation"], earlier["inquiries_sent"], earlier["dossiers"]) == (0, 0, 0, 0)
    assert brief_of(service, "LA", TODAY - timedelta(days=6), TODAY)["notices_sent"] == 0


def test_no_candidates_identity_is_in_the_brief(screened: Service) -> None:
    text = json.dumps([brief_of(screened, c, TODAY - timedelta(days=6), TODAY) for c in ("KH", "LA", "KG", "TJ", "PK")], ensure_ascii=False)
    names = [json.loads(p.read_text()).get("identity", {}).get("name") for p in SAMPLES]
    assert [n for n in names if n] and not [n for n in names if n and n in text]
    assert "N9000003" not in text and "2001-08-09" not in text  # passport number, date of birth


def test_a_party_whose_name_is_personal_data_is_listed_by_id_only() -> None:
    counted = briefs.Tally(Summary())
    for record in (_report("KH-BRK-0009", "Mekong Example"), _report("KH-BRK-0010", "Sok Dara")):
        counted.summary.add(record)
    counted.withheld.add("id:KH-BRK-0010")
    listed = {p["id"]: p["name"] for p in briefs.top_intermediaries(counted)}
    assert listed == {"KH-BRK-0009": "Mekong Example", "KH-BRK-0010": None}


def test_a_party_named_by_a_rule_the_packs_do_not_know_is_withheld(screened: Service) -> None:
    """Redaction's own test decides: a rule it cannot look up may name a person, so its party is listed by id only."""
    counted = briefs.Tally(Summary())
    packset = screened.app.state.engine.packset
    briefs._add(counted, _report("KH-BRK-0009", "Mekong Example"), "2026-12", packset)
    unknown = _report("KH-BRK-0010", "Sok Dara")
    unknown["findings"][0]["rule_id"] = "kh.no-such-rule"
    briefs._add(counted, unknown, "2026-12", packset)
    assert counted.withheld == {"id:KH-BRK-0010"} and counted.findings_by_month["2026-12"] == 2


def _report(party: str, name: str) -> dict[str, Any]:
    finding = {
        "rule_id": "common.act-a-property-held",
        "article": "MOC-KH 4(1)(a)",
        "severity": "warn",
        "share": True,
        "act": "a",
        "subject": {"id": party, "name": name},
    }
    return {"dossier_id": party, "kind": "candidate", "country": "KH", "outcome": "review", "findings": [finding]}


def test_a_period_too_long_or_backwards_is_refused(screened: Service) -> None:
    with pytest.raises(DossierError) as caught:
        brief_of(screened, "KH", TODAY - timedelta(days=briefs.MAX_BRIEF_DAYS), TODAY)
    assert caught.value.code == "framework.bad_period"
    with pytest.raises(DossierError):
        brief_of(screened, "KH", TODAY, TODAY - timedelta(days=1))
    assert briefs.months(date(2025, 11, 30), date(2026, 2, 1)) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_the_dashboard_filters_as_report_does(screened: Service, tmp_path: Path) -> None:
    db, start = screened.app.state.db, TODAY - timedelta(days=29)
    every = briefs.dashboard(db, Filter(), start, TODAY)
    summary = report_of(tmp_path)
    assert every["dossiers"] == summary["records"] and every["findings"] == summary["findings"]
    assert every["by_country"] == {c: g["outcomes"] for c, g in summary["country"].items()}
    assert sum(sum(m.values()) for m in every["outcomes_by_month"].values()) == every["dossiers"]
    chosen = briefs.dashboard(db, Filter.of(countries=["LA"], kinds=["candidate"], outcomes=["review"]), start, TODAY)
    narrowed = report_of(tmp_path, "--country", "LA", "--kind", "candidate", "--outcome", "review")
    assert chosen["dossiers"] == narrowed["records"] > 0 and set(chosen["by_country"]) == {"LA"}
    assert briefs.dashboard(db, Filter(), TODAY + timedelta(days=1), TODAY + timedelta(days=2))["dossiers"] == 0
    submitted = briefs.dashboard(db, Filter.of(submitted_from=date(2025, 6, 1), submitted_to=date(2025, 6, 30)), start, TODAY)
    in_june = report_of(tmp_path, "--submitted-from", "2025-06-01", "--submitted-to", "2025-06-30")
    assert submitted["dossiers"] == in_june["records"] and 0 < submitted["dossiers"] < every["dossiers"]


# --------------------------------------------------------------------------- charts


def test_a_chart_is_well_formed_svg_with_no_script_or_style_and_text_as_text() -> None:
    for svg in (
        charts.bar_chart("行為別の指摘数", ["4(1)(a) 金銭・財産の管理", "その他"], [3, 10]),
        charts.line_chart("月別の審査結果", ["2026-01", "2026-02"], {"不適合あり": [1, 2], "要確認": [0, 3]}),
        charts.stacked_bar_chart("国別", ["カンボジア", "ラオス"], {"不適合あり": [1, 2]}),
        charts.bar_chart("なし", [], []),
    ):
        root = ET.fromstring(svg)
        assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title") is not None
        tags = {e.tag.removeprefix(SVG) for e in root.iter()}
        assert not tags & {"script", "style", "foreignObject", "image"}
        assert not any(k == "style" or k.startswith("on") for e in root.iter() for k in e.attrib)
        assert "javascript:" not in svg and "font-family" not in svg
    texts = "".join(e.text or "" for e in ET.fromstring(charts.bar_chart("行為別", ["試験における不正"], [1])).iter(f"{SVG}text"))
    assert "試験における不正" in texts  # kept as text, drawn by the page's fonts


def test_a_long_line_labels_a_few_of_its_points() -> None:
    points = [f"{2016 + i // 12}-{i % 12 + 1:02d}" for i in range(121)]
    root = ET.fromstring(charts.line_chart("月別", points, {"a": list(range(121))}))
    shown = [t.text for t in root.iter(f"{SVG}text") if t.text and re.fullmatch(r"\d{4}-\d{2}", t.text)]
    assert 8 <= len(shown) <= charts.MAX_LABELS and shown[0] == "2016-01"


def test_two_charts_in_one_page_share_no_id() -> None:
    one, two = charts.bar_chart("a", ["x"], [1]), charts.bar_chart("b", ["y"], [2])
    ids = [e.get("id") for svg in (one, two) for e in ET.fromstring(svg).iter() if e.get("id")]
    assert len(ids) == len(set(ids))


# --------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_brief_as_xlsx_opens_with_its_labels_in_the_language(screened: Service, tmp_path: Path, lang: str) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "brief.xlsx"
    args = ["--lang", lang, "exchange", "brief", "--partner", "kh", "--from", (TODAY - timedelta(days=6)).isoformat(), "--to", TODAY.isoformat()]
    done = CliRunner().invoke(main, [*args, "--outbox", str(screened.app.state.settings.db), "--format", "xlsx", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert out.stat().st_mode & 0o777 == 0o600
    book = load_workbook(out)
    cells = [ws.title for ws in book.worksheets] + [str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    expected = (
        ("協議用資料", "行為別の指摘数", "仲介機関", "認定の取消し後の送出機関の活動", "不適合あり")
        if lang == "ja"
        else ("Consultation brief", "Findings by act", "Intermediary")
    )
    for text in expected:
        assert any(text in c for c in cells), text
    assert not {"test_fraud", "revocation", "none", "not_in_force", "sending_agency"} & set(cells)


def test_the_brief_as_html_and_its_refusals_on_the_command_line(screened: Service, tmp_path: Path) -> None:
    out = tmp_path / "brief.html"
    base = ["--lang", "ja", "exchange", "brief", "--partner", "KH", "--outbox", str(screened.app.state.settings.db)]
    done = CliRunner().invoke(main, [*base, "--from", TODAY.isoformat(), "--to", TODAY.isoformat(), "--format", "html", "--out", str(out)])
    assert done.exit_code == 0, done.output
    html = out.read_text()
    assert "<svg" in html and "<script" not in html and "協議用資料" in html
    backwards = CliRunner().invoke(main, [*base, "--from", TODAY.isoformat(), "--to", "2020-01-01", "--out", str(tmp_path / "x.xlsx")])
    assert backwards.exit_code == 2 and not (tmp_path / "x.xlsx").exists()
    missing = CliRunner().invoke(main, [*base[:-1], str(tmp_path / "none.sqlite"), "--from", "2026-01-01", "--to", "2026-01-31", "--out", str(out)])
    assert missing.exit_code == 2 and not (tmp_path / "none.sqlite").exists()


# --------------------------------------------------------------------------- pages


@pytest.fixture()
def pages(tmp_path: Path) -> Service:
    from dossier_rules.web import router

    service = make_service(tmp_path)
    service.app.include_router(router)
    headers = {**service.as_("screener"), "content-type": "application/json"}
    ids = [service.client.post("/api/v1/screenings", content=p.read_bytes(), headers=headers).json()["screening_id"] for p in SAMPLES]
    service.client.post("/api/v1/notices/build", json={"screening_ids": ids}, headers=service.as_("reviewer"))
    return service


def _signed_in(service: Service, who: str, lang: str) -> None:
    from .test_web import _sign_in

    csrf = _sign_in(service.client, who)
    service.client.post("/language", data={"csrf_token": csrf, "lang": lang, "next": "/briefs"})


def test_the_brief_and_dashboard_pages_read_in_japanese_without_codes(pages: Service) -> None:
    from .test_web import ALLOWED, LATIN, _visible_text

    _signed_in(pages, "reviewer", "ja")
    period = f"start={(TODAY - timedelta(days=29)).isoformat()}&end={TODAY.isoformat()}"
    names = {p["name"] for p in brief_of(pages, "KH", TODAY - timedelta(days=29), TODAY)["intermediaries"] if p["name"]}
    for path in (f"/briefs?country=KH&{period}", "/briefs", f"/dashboard?{period}", "/dashboard?country=LA&kind=candidate&outcome=review"):
        response = pages.client.get(path)
        assert response.status_code == 200, path
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        html = response.text
        assert "<script>" not in html and " style=" not in html and "<style" not in html.split("</head>")[1]
        text = re.sub(r"MOC-[A-Z]{2} [0-9()a-z]+", " ", _visible_text(html))  # citations
        for name in sorted(names | ALLOWED, key=len, reverse=True):
            text = text.replace(name, " ")
        leftover = [w for w in LATIN.findall(text) if not re.fullmatch(r"[A-Z]{2,3}-[A-Z]+-\d+|KH|XLSX|YYYY-MM-DD|\(?[a-f]\)", w)]
        assert leftover == [], (path, leftover)
    brief = pages.client.get(f"/briefs?country=KH&{period}").text
    assert "協議用資料" in brief and "<svg" in brief and "行為別の指摘数" in brief and "MOC-KH 4(2)" in brief


def test_the_pages_in_english_and_the_xlsx_download(pages: Service) -> None:
    _signed_in(pages, "reviewer", "en")
    period = f"start={(TODAY - timedelta(days=29)).isoformat()}&end={TODAY.isoformat()}"
    brief = pages.client.get(f"/briefs?country=KH&{period}").text
    assert "Consultation brief" in brief and "Findings by act" in brief and "協議用資料" not in brief
    assert "Outcomes by month screened" in pages.client.get("/dashboard").text
    sheet = pages.client.get(f"/briefs/KH.xlsx?{period}")
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK" and "brief-KH-" in sheet.headers["content-disposition"]
    assert pages.client.get(f"/briefs?country=KH&start={TODAY.isoformat()}&end=2020-01-01").status_code == 409
    assert pages.client.get("/briefs?country=KH&start=2026-02-30").status_code == 422
    assert pages.client.get("/dashboard?submitted_from=2025-13-01").status_code == 422
    june = pages.client.get("/dashboard?submitted_from=2025-06-01&submitted_to=2025-06-30")
    assert june.status_code == 200 and 'value="2025-06-01"' in june.text


def test_a_screener_sees_the_dashboard_but_not_the_brief(pages: Service) -> None:
    assert pages.client.get("/dashboard", follow_redirects=False).status_code == 303  # signed out: to the sign-in page
    _signed_in(pages, "screener", "ja")
    assert pages.client.get("/dashboard").status_code == 200
    assert pages.client.get("/briefs?country=KH").status_code == 403
    assert pages.client.get("/briefs/KH.xlsx").status_code == 403


def test_the_brief_through_the_api_is_for_reviewers(screened: Service) -> None:
    params = {"from": (TODAY - timedelta(days=6)).isoformat(), "to": TODAY.isoformat()}
    got = screened.client.get("/api/v1/framework/brief/kh", params=params, headers=screened.as_("reviewer"))
    assert got.status_code == 200 and got.json()["findings"] == brief_of(screened, "KH", TODAY - timedelta(days=6), TODAY)["findings"]
    assert screened.client.get("/api/v1/framework/brief/KH", params=params, headers=screened.as_("screener")).status_code == 403
    too_long = screened.client.get("/api/v1/framework/brief/KH", params={**params, "from": "2020-01-01"}, headers=screened.as_("reviewer"))
    assert too_long.status_code in (409, 422) and too_long.json()["code"] == "framework.bad_period"


def test_without_the_workbook_library_the_command_says_which_extra_to_install(screened: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dossier_rules import brief_document

    def missing(*args: Any) -> None:
        raise ModuleNotFoundError("No module named 'openpyxl'", name="openpyxl")

    monkeypatch.setattr(brief_document, "write_xlsx", missing)
    args = ["--lang", "en", "exchange", "brief", "--partner", "KH", "--from", TODAY.isoformat(), "--to", TODAY.isoformat()]
    done = CliRunner().invoke(main, [*args, "--outbox", str(screened.app.state.settings.db), "--out", str(tmp_path / "b.xlsx")])
    assert done.exit_code == 2 and "openpyxl is not installed: pip install 'dossier-rules[xlsx]'" in done.stderr
