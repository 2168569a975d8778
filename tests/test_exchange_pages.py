"""The pages of the exchange with partners without a browser: a notice's life, the inbox, Japan's own notices, the agenda.

Every state change goes through the service's one gate; here each page is
driven as a reviewer would, and checked for the role, the CSRF token, a
refusal that changes nothing, and the words it says afterwards.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dossier_rules.locale import use_language
from dossier_rules.web import exchange_pages, notice_life, router

from .conftest import SAMPLES
from .server_support import PASSWORD, ROOT, make_service


def today() -> str:
    """The date of the day, read when used (a run may cross midnight)."""
    return date.today().isoformat()


@pytest.fixture()
def service(tmp_path: Path) -> Any:
    """The service with the pages, on its own copy of the registries (a revocation received rewrites a list)."""
    shutil.copytree(ROOT / "rules" / "registries", tmp_path / "registries")
    svc = make_service(tmp_path, registries_dir=tmp_path / "registries")
    svc.app.include_router(router)
    return svc


def _sign_in(client: Any, who: str) -> str:
    response = client.post("/login", data={"username": who, "password": PASSWORD}, follow_redirects=True)
    assert response.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)  # type: ignore[union-attr]


def _said(page: str) -> list[str]:
    """What the page says it did (status) or why it refused (alert)."""
    return [html.unescape(t) for t in re.findall(r'role="(?:status|alert)">([^<]+)', page)]


def _field_errors(page: str) -> dict[str, str]:
    """Each problem shown next to its field, by the field's id."""
    return {k: html.unescape(v) for k, v in re.findall(r'<p class="field-error" id="([^"]+)-error">([^<]+)</p>', page)}


def _approved_notice(service: Any, csrf: str, sample: str = "kh-candidate-abroad-no-agency.json") -> str:
    raw = (SAMPLES / sample).read_bytes()
    result = service.client.post("/screenings/upload", data={"csrf_token": csrf}, files=[("files", ("a.json", raw, "application/json"))])
    sid = str(result.url).rsplit("/", 1)[1]
    built = service.client.post("/notices/build", data={"csrf_token": csrf, "screening_id": sid})
    nid = re.findall(r'name="id" value="([^"]+)"', built.text)[0]
    assert service.client.post("/notices/approve", data={"csrf_token": csrf, "id": nid}).status_code == 200
    return nid


PAGES = ("/exchange/inbox", "/exchange/japan", "/exchange/agenda", "/notices/N-KH-a-0-1", "/exchange/japan/J-KH-inquiry-0")
POSTS = (
    "/notices/N-KH-a-0-1/send",
    "/notices/N-KH-a-0-1/answer",
    "/notices/N-KH-a-0-1/close",
    "/notices/N-KH-a-0-1/withdraw",
    "/exchange/inbox",
    "/exchange/japan/orders",
    "/exchange/japan/inquiries",
    "/exchange/japan/J-KH-inquiry-0/approve",
)


def test_the_pages_need_a_reviewer_signed_in_and_the_csrf_token(service: Any) -> None:
    for path in PAGES:
        response = service.client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
    for path in POSTS:
        assert service.client.post(path, data={"how": "email"}).status_code == 401, path
    csrf = _sign_in(service.client, "screener")
    for path in PAGES:
        assert service.client.get(path).status_code == 403, path
    for path in POSTS:
        assert service.client.post(path, data={"csrf_token": csrf, "how": "email"}).status_code == 403, path
    service.client.post("/logout", data={"csrf_token": csrf})
    _sign_in(service.client, "reviewer")
    for path in POSTS:
        assert service.client.post(path, data={"how": "email"}).status_code == 403, path  # no CSRF token
    assert service.client.get("/notices/N-KH-a-0-1").status_code == 404
    assert service.client.get("/exchange/japan/J-KH-inquiry-0").status_code == 404
    assert service.client.get("/exchange/japan?screening=S-99999999").status_code == 404
    banner = service.client.get("/exchange/inbox?done=Pay+a+fee+to+example.org").text
    assert "example.org" not in banner  # a confirmation is never text from the address


def test_a_notice_is_sent_answered_and_closed_each_step_confirmed_and_in_its_history(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    nid = _approved_notice(service, csrf)
    page = service.client.get(f"/notices/{nid}").text
    assert "承認済み" in page and f'action="/notices/{nid}/send"' in page and f'action="/notices/{nid}/answer"' not in page
    refused = service.client.post(f"/notices/{nid}/send", data={"csrf_token": csrf, "how": "pigeon"})
    assert refused.status_code == 422 and _field_errors(refused.text) == {"send-how": "選択肢から選んでください。"}
    assert _said(refused.text) == ["変更していません。表示された項目を修正してください。"]
    sent = service.client.post(f"/notices/{nid}/send", data={"csrf_token": csrf, "how": "email"})
    assert sent.status_code == 200 and _said(sent.text) == [f"{nid}を送付済みとしました（電子メール）。"]
    bad = service.client.post(f"/notices/{nid}/answer", data={"csrf_token": csrf, "text": "", "received_on": "2099-01-01", "reference": "", "action": "x"})
    assert bad.status_code == 422
    assert _field_errors(bad.text) == {
        "ans-text": "入力してください。",
        "ans-date": "将来の日付になっています。",
        "ans-ref": "入力してください。",
        "ans-action": "選択肢から選んでください。",
    }
    assert "送付済み" in bad.text  # nothing was changed
    answer = {"csrf_token": csrf, "text": "指導を行った", "received_on": today(), "reference": "MoLVT 7/2026", "action": "guidance"}
    answered = service.client.post(f"/notices/{nid}/answer", data=answer)
    assert _said(answered.text) == [f"{nid}に対する相手国の回答を記録しました。"] and "MoLVT 7/2026" in answered.text and "指導" in answered.text
    closed = service.client.post(f"/notices/{nid}/close", data={"csrf_token": csrf, "note": ""})
    assert _said(closed.text) == [f"{nid}を完了としました。"] and 'action="/notices/' + nid + '/withdraw"' not in closed.text
    steps = re.findall(r"<tr><td>([^<]+)</td><td>([^<]*)</td><td>([^<]+)</td>", closed.text)
    assert [s[0] for s in steps] == ["案（未承認）", "承認済み", "送付済み", "回答受領", "完了"]
    assert all(s[1] == "Reviewer Person" for s in steps[1:]) and all(s[2].endswith("JST") for s in steps)
    again = service.client.post(f"/notices/{nid}/withdraw", data={"csrf_token": csrf, "reason": "誤り"})
    assert again.status_code == 409 and "完了" in _said(again.text)[0]  # the service's refusal, in words


def test_a_notice_withdrawn_needs_a_reason_and_the_list_filters_by_state_and_partner(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    nid = _approved_notice(service, csrf)
    empty = service.client.post(f"/notices/{nid}/withdraw", data={"csrf_token": csrf, "reason": "  "})
    assert empty.status_code == 422 and _field_errors(empty.text) == {"wd-reason": "入力してください。"}
    done = service.client.post(f"/notices/{nid}/withdraw", data={"csrf_token": csrf, "reason": "対象者の取下げ"})
    assert _said(done.text) == [f"{nid}を取り下げました。理由はこの情報提供とともに保存されます。"] and "対象者の取下げ" in done.text
    assert nid in service.client.get("/notices?state=withdrawn").text
    assert nid not in service.client.get("/notices?state=draft").text
    assert nid not in service.client.get("/notices?country=LA").text and nid in service.client.get("/notices?country=KH").text
    listed = service.client.get("/notices").text
    assert f'<a href="/notices/{nid}">' in listed and "取下げ" in listed


class _Open:
    """A notices service answering with fixed open notices (the overdue order is the page's own)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def open_notices(self, countries: frozenset[str], due: dict[str, int], today: date) -> list[dict[str, Any]]:
        return self.rows

    def history(self, nid: str) -> dict[str, Any]:
        return {"state": "closed"}


def test_overdue_notices_come_first_with_their_days_and_ended_ones_keep_their_state() -> None:
    base = {"sent_how": "email", "days_before_sent": 2}
    rows = [
        {"id": "N-1", "state": "sent", "overdue": False, "due_on": "2026-03-01", **base},
        {"id": "N-2", "state": "sent", "overdue": True, "due_on": "2026-01-01", **base},
        {"id": "N-3", "state": "sent", "overdue": True, "due_on": "2026-01-21", **base},
    ]
    listed = [{"id": r, "state": "exported", "country": "KH"} for r in ("N-1", "N-2", "N-3", "N-4")]
    found = notice_life.with_life(_Open(rows), listed, date(2026, 1, 31))  # type: ignore[arg-type]
    assert [(r["id"], r["days_overdue"]) for r in found] == [("N-2", 30), ("N-3", 10), ("N-1", None), ("N-4", None)]
    assert found[-1]["state"] == "closed" and found[0]["days_waited"] == 2


def test_a_revocation_received_updates_the_list_and_is_listed(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    form = {
        "csrf_token": csrf,
        "kind": "revocation",
        "country": "KH",
        "dated": today(),
        "received_on": today(),
        "reference": "MoLVT 12/2026",
        "agency_id": "KH-SA-0999",
        "agency_name": "Example Agency",
        "effective_on": today(),
    }
    done = service.client.post("/exchange/inbox", data=form)
    assert done.status_code == 200 and _said(done.text)[0].startswith("記録しました：R-")
    assert "認定の取消しの通報" in done.text and "Example Agency (KH-SA-0999)" in done.text
    listed = (service.app.state.settings.registries_dir / "kh-accredited-agencies.json").read_text(encoding="utf-8")
    assert "KH-SA-0999" in listed and "revoked per" in listed and "MoLVT 12/2026" in listed
    again = service.client.post("/exchange/inbox", data=form)
    assert again.status_code == 409 and "R-" in _said(again.text)[0]  # recorded once


def test_a_bad_communication_is_refused_whole_with_each_problem_next_to_its_field(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    bad = {"csrf_token": csrf, "kind": "result", "country": "XX", "dated": "2026-13-01", "received_on": "2099-01-01", "reference": ""}
    refused = service.client.post("/exchange/inbox", data=bad)
    assert refused.status_code == 422 and _said(refused.text) == ["何も記録していません。表示された項目を修正してください。"]
    assert _field_errors(refused.text) == {
        "in-country": "選択肢から選んでください。",
        "in-dated": "日付（年月日）を入力してください。",
        "in-received": "将来の日付になっています。",
        "in-ref": "入力してください。",
        "in-notice": "入力してください。",
        "in-text": "入力してください。",
        "in-action": "選択肢から選んでください。",
    }
    later = {"csrf_token": csrf, "kind": "inquiry", "country": "KH", "dated": today(), "received_on": "2020-01-01", "reference": "Q-1", "subject": "質問"}
    assert _field_errors(service.client.post("/exchange/inbox", data=later).text) == {"in-dated": "文書の日付が受領日より後になっています。"}
    unknown = {"csrf_token": csrf, "kind": "result", "country": "KH", "dated": today(), "received_on": today(), "reference": "R-1"}
    answered = service.client.post("/exchange/inbox", data=unknown | {"notice_id": "N-KH-a-0-1", "text": "調査済み", "action": "guidance"})
    assert answered.status_code == 409 and "in-notice" in _field_errors(answered.text)
    assert "受領した文書はまだありません。" in service.client.get("/exchange/inbox").text


def test_the_inbox_is_paged(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exchange_pages, "INBOX_PAGE", 1)
    csrf = _sign_in(service.client, "reviewer")
    for n, received in ((1, "2026-01-02"), (2, today())):
        form = {
            "csrf_token": csrf,
            "kind": "inquiry",
            "country": "LA",
            "dated": "2026-01-01",
            "received_on": received,
            "reference": f"Q-{n}",
            "subject": "質問",
        }
        assert service.client.post("/exchange/inbox", data=form).status_code == 200
    first = service.client.get("/exchange/inbox").text
    assert "Q-2" in first and "Q-1" not in first and "/exchange/inbox?page=2" in first
    second = service.client.get("/exchange/inbox?page=2").text
    assert "Q-1" in second and "/exchange/inbox?page=1" in second and "page=3" not in second
    assert "Q-1" not in service.client.get("/exchange/inbox?country=KH").text


def test_an_inquiry_drafted_from_a_result_follows_the_notice_life(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    raw = (SAMPLES / "kh-candidate-abroad-no-agency.json").read_bytes()
    result = service.client.post("/screenings/upload", data={"csrf_token": csrf}, files=[("files", ("a.json", raw, "application/json"))])
    sid = str(result.url).rsplit("/", 1)[1]
    assert f"/exchange/japan?screening={sid}#inquiry" in result.text and "相手国への照会の案を作成" in result.text
    start = service.client.get(f"/exchange/japan?screening={sid}").text
    assert f'name="screening_id" value="{sid}"' in start and '<option value="KH" selected>' in start
    assert '<option value="PK"' not in start  # PK's MOC has no article for Japan's inquiries
    empty = service.client.post("/exchange/japan/inquiries", data={"csrf_token": csrf, "country": "KH", "subject": "", "due_days": "0", "screening_id": sid})
    assert empty.status_code == 422 and _field_errors(empty.text) == {"q-subject": "入力してください。", "q-days": "1から3650までの日数を入力してください。"}
    drafted = service.client.post(
        "/exchange/japan/inquiries", data={"csrf_token": csrf, "country": "KH", "subject": "登録証明書番号の確認", "due_days": "30", "screening_id": sid}
    )
    did = str(drafted.url).rsplit("/", 1)[1].split("?")[0]
    assert did.startswith("J-KH-inquiry-") and _said(drafted.text) == [f"{did}の案を作成しました。送付する前に承認してください。"]
    assert f'href="/screenings/{sid}"' in drafted.text and "協力覚書 5(7)" in drafted.text
    steps = [("approve", {}), ("send", {"how": "post"}), ("answer", {"text": "番号は正しい", "reference": "MoLVT 9"}), ("close", {})]
    for action, data in steps:
        response = service.client.post(f"/exchange/japan/{did}/{action}", data={"csrf_token": csrf, **data})
        assert response.status_code == 200 and did in _said(response.text)[0], (action, _said(response.text))
    listed = service.client.get("/exchange/japan").text
    assert did in listed and "完了" in listed and "日本からの照会" in listed


def test_a_sent_inquiry_is_not_closed_before_its_answer(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    drafted = service.client.post("/exchange/japan/inquiries", data={"csrf_token": csrf, "country": "LA", "subject": "確認", "due_days": "30"})
    did = str(drafted.url).rsplit("/", 1)[1].split("?")[0]
    for action, data in (("approve", {}), ("send", {"how": "email"})):
        service.client.post(f"/exchange/japan/{did}/{action}", data={"csrf_token": csrf, **data})
    page = service.client.get(f"/exchange/japan/{did}").text
    assert f"/exchange/japan/{did}/close" not in page and f"/exchange/japan/{did}/answer" in page
    refused = service.client.post(f"/exchange/japan/{did}/close", data={"csrf_token": csrf})
    assert refused.status_code == 409 and _said(refused.text)


def test_improvement_order_notices_go_to_partners_in_force_only(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    backwards = service.client.post("/exchange/japan/orders", data={"csrf_token": csrf, "from": "2026-12-01", "to": "2026-01-01"})
    assert backwards.status_code == 422 and _field_errors(backwards.text) == {"o-to": "終期が始期より前になっています。"}
    done = service.client.post("/exchange/japan/orders", data={"csrf_token": csrf, "from": "2000-01-01", "to": today()})
    said = _said(done.text)[0]
    assert said.startswith("案を作成しました：3件。") and "タジキスタン（協力覚書適用期間外）" in said
    ids = set(re.findall(r'href="/exchange/japan/(J-[A-Z]{2})-orders-', done.text))
    assert ids == {"J-KH", "J-LA", "J-KG"}
    again = service.client.post("/exchange/japan/orders", data={"csrf_token": csrf, "from": "2000-01-01", "to": today()})
    assert _said(again.text)[0].startswith("案を作成しました：0件。")  # drafting the same again creates nothing


def test_the_agenda_shows_each_topic_in_words_and_prints(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    _approved_notice(service, csrf)
    page = service.client.get(f"/exchange/agenda?country=KH&start=2020-01-01&end={today()}")
    assert page.status_code == 200 and "カンボジアとの協議事項" in page.text and "協力覚書 4(2)" in page.text
    assert "指摘数：4(1)(a) 金銭・財産の管理" in page.text and "未完了の情報提供：承認済み" in page.text
    assert '<button type="button" data-print>' in page.text and len(re.findall(r'<h3 id="t-[a-f]">', page.text)) == 6
    bad = service.client.get("/exchange/agenda?country=KH&start=2026-12-01&end=2000-01-01")
    assert bad.status_code == 422 and "a-to" in _field_errors(bad.text)
    assert "カンボジアとの協議事項" not in service.client.get("/exchange/agenda").text  # a partner is chosen first


def test_the_pages_carry_no_inline_script(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    nid = _approved_notice(service, csrf)
    for path in (f"/notices/{nid}", "/exchange/inbox", "/exchange/japan", "/exchange/agenda?country=LA"):
        response = service.client.get(path)
        assert "script-src 'self';" in response.headers["content-security-policy"]
        assert re.findall(r"<script[^>]*>", response.text) == ['<script src="/static/print.js" defer>', '<script src="/static/form.js">']
        assert " style=" not in response.text and "<style" not in response.text


def test_the_pages_read_in_english_without_japanese(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    service.client.post("/language", data={"csrf_token": csrf, "lang": "en", "next": "/exchange/inbox"})
    nid = _approved_notice(service, csrf, "la-candidate-penalty-contract.json")
    service.client.post(f"/notices/{nid}/send", data={"csrf_token": csrf, "how": "courier"})
    for path in (f"/notices/{nid}", "/notices", "/exchange/inbox", "/exchange/japan", "/exchange/agenda?country=LA"):
        text = re.sub(r"<[^>]+>", " ", service.client.get(path).text)
        text = text.replace("日本語", "")  # the language switch names itself
        assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), (path, re.search(r".{30}[\u3040-\u30ff\u4e00-\u9fff].{30}", text))
    with use_language("en"):
        assert notice_life.term_in("send_how", "courier") == "courier"


def test_a_partners_4_1_report_entered_on_the_inbox_page_warns_later_screenings_until_withdrawn(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    form = service.client.get("/exchange/inbox").text
    assert all(f'name="act_{act}"' in form for act in "abcde") and "4(1)(e) 算出基準を示さず" in form  # each act offered, in words
    common = {"csrf_token": csrf, "country": "KH", "dated": today(), "received_on": today(), "intermediary_id": "KH-BRK-0001"}
    report = common | {"kind": "intermediary_report", "reference": "MoLVT 4(1)/7", "intermediary_name": "Angkor Example Manpower Co.", "act_e": "1"}
    report |= {"report_text": "Fees collected without a breakdown."}
    done = service.client.post("/exchange/inbox", data=report)
    assert done.status_code == 200 and _said(done.text)[0].startswith("記録しました：R-")
    assert "仲介機関に関する情報（4(1)）" in done.text and "Angkor Example Manpower Co. (KH-BRK-0001) · 4(1)(e) 算出基準を示さず" in done.text
    dossier = json.loads((SAMPLES / "kh-candidate-clean.json").read_text(encoding="utf-8"))
    raw = json.dumps(dossier | {"submitted": today()}).encode()  # evaluated as of today: the report is known then

    def screened() -> str:
        return service.client.post("/screenings/upload", data={"csrf_token": csrf}, files=[("files", ("a.json", raw, "application/json"))]).text

    warned = screened()
    assert "相手国から4(1)の情報が共有されている送出機関" in warned and "相手国から4(1)の情報が共有されている送出機関：確認済み" not in warned
    withdrawal = common | {
        "kind": "report_withdrawal",
        "reference": "MoLVT 4(1)/9",
        "intermediary_name": "Angkor Example Manpower Co.",
        "withdraws": "MoLVT 4(1)/7",
    }
    assert service.client.post("/exchange/inbox", data=withdrawal).status_code == 200
    assert "相手国から4(1)の情報が共有されている送出機関：確認済み" in screened()  # checked, and passed


def test_a_partners_report_without_the_intermediary_is_refused_next_to_its_fields(service: Any) -> None:
    csrf = _sign_in(service.client, "reviewer")
    bad = {"csrf_token": csrf, "kind": "intermediary_report", "country": "KH", "dated": today(), "received_on": today(), "reference": "MoLVT 4(1)/8"}
    refused = service.client.post("/exchange/inbox", data=bad)
    assert refused.status_code == 422
    assert set(_field_errors(refused.text)) == {"in-int-id", "in-int-name"}
