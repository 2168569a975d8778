"""The exchange with partners in a real browser: a finding's notice approved, sent, answered and closed; a revocation
received; an inquiry drafted from a result; the 4(2) agenda printed. Screenshots in Japanese and English.

Uses the browser and the sign-in of tests/test_browser.py (skipped, with its reason, without Chromium), on a service
of its own whose registries are a copy: recording a revocation rewrites the partner's list.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from .deploy_support import running
from .test_browser import (  # noqa: F401 (fixtures and the skip mark)
    ROOT,
    SAMPLE,
    _free_port,
    browser,
    page_as,
    pytestmark,
    screenshots,
    serious_violations,
    shot,
    upload,
)
from .test_browser_csp import watch_violations

TODAY = date.today().isoformat()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service with the pages, on its own database and its own copy of the registries, under uvicorn on 127.0.0.1."""
    from dossier_rules.web import router

    from .server_support import make_service

    where = tmp_path_factory.mktemp("exchange")
    shutil.copytree(ROOT / "rules" / "registries", where / "registries")
    service = make_service(where, registries_dir=where / "registries")
    service.app.include_router(router)
    port = _free_port()
    with running(service.app, host="127.0.0.1", port=port):
        yield f"http://127.0.0.1:{port}"


def _confirming(page: Any) -> list[str]:
    """Accept every confirmation the page asks for, keeping what it asked."""
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    return asked


def _english(page: Any) -> None:
    """Switch to English and come back to the same page (the switch returns to its path, without the query)."""
    back = page.url
    page.get_by_label("言語").select_option("en")
    page.get_by_role("button", name="切替").click()
    page.goto(back)


def _japanese(page: Any) -> Any:
    """The reviewer's language is kept on the account: an earlier test may have left it in English."""
    if page.locator("html").get_attribute("lang") == "en":
        page.get_by_label("Language").select_option("ja")
        page.get_by_role("button", name="Change").click()
    return page


def test_a_finding_notice_is_approved_sent_answered_and_closed(page_as: Any, shot: Any) -> None:  # noqa: F811
    page = _japanese(page_as("reviewer"))
    blocked = watch_violations(page)
    asked = _confirming(page)
    upload(page, SAMPLE)
    page.get_by_role("button", name="この審査結果から情報提供の案を作成").click()
    page.wait_for_url("**/notices")
    nid = page.locator("input[name=id][type=checkbox]").first.get_attribute("value")
    page.get_by_role("link", name=nid, exact=True).click()
    page.wait_for_url(f"**/notices/{nid}")
    assert "案（未承認）" in page.locator("dl.facts").inner_text()
    page.get_by_role("button", name="承認", exact=True).click()
    page.wait_for_url("**/notices?approved=1**")
    page.get_by_role("link", name=nid, exact=True).click()
    page.get_by_label("送付の方法").select_option(label="電子メール")
    page.get_by_role("button", name="送付済みとする").click()
    assert page.get_by_role("status").inner_text() == f"{nid}を送付済みとしました（電子メール）。"
    page.get_by_label("相手国の調査結果（原文又は要旨）").fill("当該機関に対し指導を行った。")
    page.get_by_label("相手国の文書の日付").fill(TODAY)
    page.get_by_label("文書番号", exact=True).fill("MoLVT 7/2026")
    page.get_by_label("相手国がとった措置").select_option(label="指導")
    page.get_by_role("button", name="回答を記録する").click()
    assert page.get_by_role("status").inner_text() == f"{nid}に対する相手国の回答を記録しました。"
    page.get_by_role("button", name="完了とする").click()
    assert page.get_by_role("status").inner_text() == f"{nid}を完了としました。"
    assert any(nid in question and "送付済み" in question for question in asked)  # each change asked first
    history = page.locator("table.list tbody tr").all_inner_texts()
    assert [row.split("\t")[0] for row in history] == ["案（未承認）", "承認済み", "送付済み", "回答受領", "完了"]
    shot(page, "notice-life")
    assert serious_violations(page) == []
    page.goto("/notices?state=closed")
    assert page.get_by_role("link", name=nid, exact=True).is_visible()
    shot(page, "notices-life")
    assert serious_violations(page) == []
    page.goto(f"/notices/{nid}")
    _english(page)
    assert "closed" in page.locator("dl.facts").first.inner_text() and "e-mail" in page.locator("table.list").inner_text()
    shot(page, "notice-life-en")
    assert blocked == []  # nothing the Content-Security-Policy forbids was attempted


def test_a_revocation_is_received_in_the_inbox(page_as: Any, shot: Any) -> None:  # noqa: F811
    page = _japanese(page_as("reviewer"))
    _confirming(page)
    page.get_by_role("navigation").get_by_role("link", name="受領文書").click()
    page.wait_for_url("**/exchange/inbox")
    page.get_by_label("文書の種類", exact=True).select_option(label="認定の取消しの通報")
    page.locator("#in-country").select_option(label="カンボジア")  # the list above has its own partner filter
    page.get_by_label("文書の日付", exact=True).fill(TODAY)
    page.get_by_label("受領日", exact=True).fill(TODAY)
    page.get_by_label("文書番号", exact=True).fill("MoLVT 12/2026")
    page.get_by_label("認定番号", exact=True).fill("KH-SA-0999")
    page.get_by_label("送出機関の名称", exact=True).fill("Example Agency")
    page.get_by_label("効力発生日", exact=True).fill(TODAY)
    page.get_by_role("button", name="記録する").click()
    assert page.get_by_role("status").inner_text().startswith("記録しました：R-")
    assert page.get_by_role("cell", name="認定の取消しの通報").is_visible()
    shot(page, "inbox")
    assert serious_violations(page) == []
    _english(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Received from partners"
    shot(page, "inbox-en")


def test_an_inquiry_drafted_from_a_result_and_the_agenda_printed(page_as: Any, shot: Any) -> None:  # noqa: F811
    page = _japanese(page_as("reviewer"))
    blocked = watch_violations(page)
    _confirming(page)
    upload(page, SAMPLE)
    page.get_by_role("link", name="相手国への照会の案を作成").click()
    page.wait_for_url("**/exchange/japan?screening=*")
    page.get_by_label("照会事項（例：証明書又は認定番号の確認）").fill("登録証明書の番号が正しいことの確認")
    page.get_by_role("button", name="照会の案を作成する").click()
    page.wait_for_url(re.compile(r".*/exchange/japan/J-KH-inquiry-[0-9a-f]+\?done=drafted"))
    assert "案を作成しました" in page.get_by_role("status").inner_text()
    page.get_by_role("button", name="承認", exact=True).click()
    assert "承認しました" in page.get_by_role("status").inner_text()
    shot(page, "japan-inquiry")
    assert serious_violations(page) == []
    page.goto("/exchange/japan")
    shot(page, "japan")
    assert serious_violations(page) == []
    page.goto("/exchange/agenda")
    page.get_by_label("相手国").select_option(label="カンボジア")
    page.get_by_label("対象期間（始期）").fill("2026-01-01")
    page.get_by_role("button", name="協議事項を表示").click()
    assert page.get_by_role("heading", level=2).first.inner_text() == "カンボジアとの協議事項"
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.get_by_role("button", name="印刷").click()
    assert page.evaluate("window.__printed === true")
    shot(page, "agenda")
    assert serious_violations(page) == []
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible() and not page.locator("form.filters").is_visible()  # only the agenda prints
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")
    _english(page)
    assert page.get_by_role("heading", level=2).first.inner_text() == "Agenda of the consultation with Cambodia"
    shot(page, "agenda-en")
    assert blocked == []
