"""The pages as a person uses them: Chromium (Debian's package) driven by Playwright against the real service.

The service runs under uvicorn on a free loopback port; each flow asserts
what the page shows. Screenshots of the main pages, in Japanese, are taken on
every run; they are written where ``$DOSSIER_RULES_SCREENSHOTS`` says
(``DOSSIER_RULES_SCREENSHOTS=docs/screenshots`` refreshes the ones the README
shows), else into the test's temporary directory, so a test run does not
rewrite tracked files. Without /usr/bin/chromium the module is skipped, and
the reason says how to install it.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .deploy_support import running

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install -y chromium fonts-noto-cjk"
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS_ENV = "DOSSIER_RULES_SCREENSHOTS"
SAMPLE = ROOT / "samples" / "kh-candidate-abroad-no-agency.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service with the pages, on its own database, under uvicorn on 127.0.0.1."""
    from dossier_rules.web import router

    from .server_support import make_service

    service = make_service(tmp_path_factory.mktemp("web"))
    service.app.include_router(router)
    port = _free_port()
    with running(service.app, host="127.0.0.1", port=port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page_as(browser: Any, base_url: str) -> Iterator[Any]:
    """``page_as("screener")``: a fresh browser context signed in as that user (Japanese, the default)."""
    contexts = []

    def sign_in(who: str) -> Any:
        from .server_support import PASSWORD

        context = browser.new_context(base_url=base_url, locale="ja-JP", viewport={"width": 1280, "height": 900}, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.goto("/screenings/new")
        assert page.url.endswith("/login?next=%2Fscreenings%2Fnew")
        page.get_by_label("ユーザー名").fill(who)
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_url("**/screenings/new")
        return page

    yield sign_in
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get(SCREENSHOTS_ENV)
    directory = (ROOT / chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture()
def shot(screenshots: Path) -> Any:
    """``shot(page, "result")``: a full-page screenshot of what the person sees now."""

    def take(page: Any, name: str) -> None:
        path = screenshots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0

    return take


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def upload(page: Any, path: Path) -> None:
    page.goto("/screenings/new")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="ファイルを審査する").click()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+$"))


# --------------------------------------------------------------------------- flows


def test_sign_in_shows_the_pages_in_japanese(browser: Any, base_url: str, page_as: Any, shot: Any) -> None:
    context = browser.new_context(base_url=base_url)
    login = context.new_page()
    login.goto("/login")
    shot(login, "login")
    assert serious_violations(login) == []
    login.get_by_label("ユーザー名").fill("screener")
    login.get_by_label("パスワード").fill("wrong password")
    login.get_by_role("button", name="サインイン").click()
    assert login.get_by_role("alert").inner_text() == "ユーザー名又はパスワードが正しくないか、アカウントが無効になっています。"
    context.close()
    page = page_as("screener")
    assert page.get_by_role("heading", level=1).inner_text() == "新規審査"
    assert page.get_by_role("navigation").get_by_role("link", name="審査履歴").is_visible()
    shot(page, "new-screening")
    assert serious_violations(page) == []


def test_screen_a_sample_by_upload(page_as: Any, shot: Any) -> None:
    page = page_as("screener")
    upload(page, SAMPLE)
    assert "不適合あり" in page.locator("#verdict").inner_text()
    assert page.get_by_text("架空データ").first.is_visible()
    assert page.locator(".finding .article", has_text="協力覚書 4(1)(e)").count() >= 1
    assert "居住地：国外" in page.locator(".finding ul.evidence").first.inner_text() or page.locator(".finding ul.evidence", has_text="居住地：国外").count()
    assert_reads_as_japanese(page.locator("main").inner_text())  # closed details (pointers, rule ids) are not read
    shot(page, "result")
    page.get_by_text("ルールを確認する方向けの詳細").first.click()
    assert page.locator("details.explain[open] code").first.is_visible()  # the rule id, only in the details
    assert serious_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="ダウンロード（HTML）").click()
    downloaded = Path(download.value.path()).read_text(encoding="utf-8")
    assert "不適合あり" in downloaded and "\\u" not in downloaded


RAW_CODES = re.compile(r"\b(molvt_registration|abroad|SSW1|SSW2|intermediary|sending_agency|direct|nursing_care|construction|null|true|false)\b")
ALLOWED_LATIN = re.compile(r"[A-Z]{2,}-[A-Z0-9-]+|S-\d+|\d[\d,.]*|MoLVT|SHA-256|JST|USD|HTML|JSON|ID|kh|[A-Z][a-z]+(?: [A-Z(][a-z)]+)*(?: \(fictional\))?")


def assert_reads_as_japanese(text: str) -> None:
    """No JSON pointer, JSON, escape or raw code where a screener reads; Latin letters only in ids, numbers and names."""
    visible = text
    assert not re.search(r"(^|\s)/[a-z_]+(/|\s|$)", visible), "a JSON pointer"
    assert "\\u" not in visible and "{" not in visible and '"' not in visible, "JSON or an escape"
    assert not RAW_CODES.search(visible), RAW_CODES.search(visible)
    english = [w for w in re.findall(r"[A-Za-z][A-Za-z ]{3,}", ALLOWED_LATIN.sub("", visible)) if len(w.strip()) > 3]
    assert len(english) <= 12, english  # free text typed in the dossier (names, purposes) is allowed


def _open_form(page: Any) -> None:
    page.goto("/screenings/new")
    page.get_by_label("カンボジア", exact=True).check()
    page.get_by_label("候補者").check()
    page.get_by_role("button", name="フォームを開く").click()
    page.wait_for_url("**/screenings/form?**")


def test_a_cambodian_candidate_by_hand_with_rows_in_place_then_corrected(page_as: Any, shot: Any) -> None:
    page = page_as("reviewer")
    _open_form(page)
    form_url = page.url
    page.get_by_label("案件ID").fill("KH-FORM-0001")
    page.get_by_label("提出日").fill("2025-06-02")
    page.locator("#in-identity-name").fill("Test Candidate")
    page.locator("#in-identity-nationality").select_option(label="カンボジア")
    page.get_by_label("居住地").select_option(label="国外")
    page.get_by_label("申請する在留資格").select_option(label="特定技能1号")
    page.get_by_label("採用経路").select_option(label="直接採用")
    page.get_by_label("クメール語").check()
    page.get_by_role("button", name="仲介機関を追加").click()  # in place: no page load
    page.locator("#in-intermediaries-0-name").fill("Mekong Example Recruiting")
    page.locator("#in-intermediaries-0-name").press("Tab")
    page.get_by_role("button", name="費用を追加").click()
    page.get_by_role("button", name="試験を追加").click()  # the fee row added before stays
    assert page.url == form_url and page.locator("#in-fees-0-amount").is_visible()
    page.locator("#in-fees-0-payee-pick").select_option(label="Mekong Example Recruiting（仲介機関（送出機関以外））")
    page.locator("#in-fees-0-amount").fill("3200")
    page.locator("#in-fees-0-currency").select_option(label="米ドル")
    page.locator("#in-fees-0-basis_shown").select_option(label="いいえ")
    page.locator("#in-fees-0-breakdown_explained").select_option(label="いいえ")
    page.locator("#in-tests-0-kind").select_option(label="技能")
    shot(page, "form")
    assert serious_violations(page) == []
    page.get_by_role("button", name="この内容で審査する").last.click()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+$"))
    first_id = page.url.rsplit("/", 1)[1]
    assert "不適合あり" in page.locator("#verdict").inner_text()
    assert page.locator(".finding", has_text="協力覚書 6(1)").count() == 1
    fee = page.locator(".finding", has_text="4(1)(e)").first.inner_text()
    assert "受領者：Mekong Example Recruiting（仲介機関（送出機関以外））" in fee and "3,200 USD" in fee
    assert_reads_as_japanese(page.locator("main").inner_text())
    # correct it: the fee's basis was shown after all
    page.get_by_role("link", name="案件を修正して再度審査").click()
    page.wait_for_url("**/edit")
    assert page.locator("#in-fees-0-payee-pick").input_value() == "intermediaries.0"
    page.locator("#in-fees-0-basis_shown").select_option(label="はい")
    page.get_by_role("button", name="この内容で審査する").last.click()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+\?changed_from=" + first_id))
    changes = page.locator(".changes").inner_text()
    assert "手数料等の費用 1 › 算出基準の提示" in changes and "いいえ" in changes and "はい" in changes
    assert "算出基準を示さず" in page.locator(".changes").inner_text()  # the finding resolved
    shot(page, "result-corrected")
    assert serious_violations(page) == []
    page.goto("/history")
    assert page.get_by_text(first_id).count() >= 1  # the earlier screening stays in the log


def test_the_issues_languages_mistake_is_counted_and_shown(page_as: Any, shot: Any) -> None:
    page = page_as("screener")
    _open_form(page)
    page.get_by_label("案件ID").fill("KH-FORM-0002")
    page.locator("#in-identity-name").fill("Draft Kept")
    page.get_by_label("居住地").select_option("abroad")
    page.get_by_label("提出日").fill("")  # the required date left out
    page.get_by_role("button", name="この内容で審査する").last.click()
    error = page.locator("#in-submitted-err")
    assert error.inner_text() == "必須の項目です。入力してください。"
    assert page.get_by_label("提出日").get_attribute("aria-invalid") == "true"
    banner = page.locator("#problems")
    assert banner.inner_text().startswith("入力内容に1件の不備があります")
    assert banner.get_by_role("link").count() == page.locator(".field-error").count() == 1
    assert page.get_by_label("案件ID").input_value() == "KH-FORM-0002"
    assert page.locator("#in-identity-name").input_value() == "Draft Kept"
    shot(page, "form-error")
    banner.get_by_role("link").first.click()
    assert page.evaluate("location.hash") == "#in-submitted"
    page.get_by_label("提出日").fill("2025-06-02")
    page.get_by_role("button", name="この内容で審査する").last.click()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+$"))


def test_a_reviewer_approves_and_exports_a_notice(page_as: Any, shot: Any) -> None:
    page = page_as("reviewer")
    upload(page, SAMPLE)
    page.get_by_role("button", name="この審査結果から情報提供の案を作成").click()
    page.wait_for_url("**/notices")
    assert page.get_by_role("heading", level=2).first.inner_text().startswith("カンボジア")
    assert page.get_by_role("cell", name=re.compile("Mekong Example Recruiting")).count() >= 1  # the list names the intermediary
    first = page.locator("input[name=id][type=checkbox]").first
    notice_id = first.get_attribute("value")
    page.get_by_role("link", name=f"相手国向け文書のプレビュー {notice_id}").click()  # in place, not a new window
    assert notice_id in page.locator("div.preview").inner_text()
    shot(page, "notices")
    assert serious_violations(page) == []
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.locator("#preview").get_by_role("button", name=f"{notice_id}を承認").click()
    page.wait_for_url("**/notices?approved=1**")
    assert asked and notice_id in asked[0]  # confirmed before, and said after
    assert "承認しました：1件" in page.get_by_role("status").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_download() as download:
        page.get_by_role("button", name=f"{notice_id}をHTMLで出力").click()
    assert download.value.suggested_filename == f"{notice_id}.html"
    assert notice_id in Path(download.value.path()).read_text(encoding="utf-8")


def test_a_screener_cannot_reach_the_approve_action(page_as: Any) -> None:
    page = page_as("screener")
    assert page.get_by_role("navigation").get_by_role("link", name="情報提供").count() == 0
    assert page.request.get("/notices").status == 403
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post("/notices/approve", form={"csrf_token": csrf, "id": "N-KH-a-0000000000-1"})
    assert refused.status == 403 and "reviewer" in refused.text()


def test_switch_language_is_remembered_for_the_user(page_as: Any) -> None:
    page = page_as("admin")
    page.get_by_label("言語").select_option("en")
    page.get_by_role("button", name="切替").click()
    assert page.get_by_role("heading", level=1).inner_text() == "New screening"
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("User name").fill("admin")  # the signed-out page keeps the chosen language
    from .server_support import PASSWORD

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/history")
    assert page.get_by_role("heading", level=1).inner_text() == "History"
    page.get_by_label("Language").select_option("ja")
    page.get_by_role("button", name="Change").click()
    assert page.get_by_role("heading", level=1).inner_text() == "審査履歴"


def test_a_result_in_english_reads_without_japanese_or_codes(page_as: Any, shot: Any) -> None:
    page = page_as("admin")
    page.get_by_label("言語").select_option("en")
    page.get_by_role("button", name="切替").click()
    page.get_by_label("Dossier files (JSON, one or more)").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Screen the files").click()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+$"))
    messages = " ".join(page.locator(".finding").all_inner_texts())
    assert "MOC 6(1)" in page.locator("main").inner_text() and "outside Japan" in messages
    assert not re.search(r"[\u3040-\u30ff]", messages)  # no kana: every finding is in English
    shot(page, "result-en")
    assert serious_violations(page) == []


def test_history_packs_and_registries_pages(page_as: Any, shot: Any) -> None:
    page = page_as("reviewer")
    upload(page, SAMPLE)
    page.goto("/history")
    assert page.locator("table.list tbody tr").count() >= 1
    page.locator("select[name=outcome]").select_option("blocked")
    page.get_by_role("button", name="絞り込む").click()
    assert all("不適合あり" in t for t in page.locator("table.list tbody td:nth-child(4)").all_inner_texts())
    shot(page, "history")
    assert serious_violations(page) == []
    page.locator("table.list tbody tr").first.get_by_role("button", name="再度審査").click()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+\?changed_from=S-\d+$"))
    assert "判定：不適合あり → 不適合あり" in page.locator(".changes").inner_text()
    page.goto("/packs")
    assert page.get_by_role("cell", name="kh", exact=True).is_visible()
    shot(page, "packs")
    assert serious_violations(page) == []
    page.get_by_role("link", name="ヘルプ").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("利用の手引き")
    assert page.locator("main img").first.evaluate("img => img.naturalWidth") > 0  # the guide's screenshots load
    assert serious_violations(page) == []
    page.goto("/registries")
    shot(page, "registries")
    assert serious_violations(page) == []


def test_a_laotian_broker_by_hand_in_english_with_the_keyboard(page_as: Any, shot: Any) -> None:
    page = page_as("screener")
    page.get_by_label("言語").select_option("en")
    page.get_by_role("button", name="切替").click()
    page.get_by_label("Laos", exact=True).check()
    page.get_by_label("broker", exact=True).check()
    page.get_by_role("button", name="Open the form").click()
    page.wait_for_url("**/screenings/form?**")
    page.get_by_label("Dossier id").fill("LA-BRK-HAND-1")
    page.get_by_label("Submitted").fill("2025-06-02")
    page.locator("#in-name").fill("Vientiane Example Services")
    page.locator("#in-role").select_option(label="intermediary (not a sending agency)")
    page.locator("#in-based_in").select_option(label="Laos")
    page.locator("#in-practices-holds_passports").select_option(label="yes")
    add = page.get_by_role("button", name="Add Complaints")
    add.focus()
    page.keyboard.press("Enter")  # the keyboard adds a row in place, and the focus moves into it
    assert page.evaluate("document.activeElement.id") == "in-complaints-0-received_on"
    page.locator("#in-complaints-0-received_on").fill("2025-05-01")
    page.locator("#in-complaints-0-act").select_option(label="4(1)(c) violation of rights")
    page.locator("#screen-button").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator("#problems").count() == 0, page.locator("#problems").inner_text()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+$"))
    main = page.locator("main").inner_text()
    assert "Laos" in main and "June 2, 2025" in main and "intermediary (not a sending agency)" in main and "Result: LA-BRK-HAND-1" in main
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", main.replace("日本語", ""))  # no Japanese on the English page
    shot(page, "result-broker-en")
    assert serious_violations(page) == []
    page.get_by_label("Language").select_option("ja")  # the choice is kept for the user: leave it as the other tests expect
    page.get_by_role("button", name="Change").click()


@pytest.mark.parametrize(("country", "name"), [("KG", "キルギス"), ("TJ", "タジキスタン"), ("PK", "パキスタン")])
def test_a_candidate_of_each_other_partner_by_hand(page_as: Any, country: str, name: str) -> None:
    page = page_as("screener")
    page.goto(f"/screenings/form?kind=candidate&country={country}")
    page.get_by_label("案件ID").fill(f"{country}-HAND-1")
    page.get_by_label("提出日").fill("2025-06-02")
    page.locator("#in-identity-name").fill("Hand Entered")
    assert page.locator("#in-identity-nationality option").nth(1).inner_text() == name  # the dossier's country first
    page.locator("#in-identity-nationality").select_option(country)
    page.get_by_label("居住地").select_option(label="国外")
    page.get_by_role("button", name="仲介機関を追加").click()
    page.locator("#in-intermediaries-0-name").fill("Example Broker")
    page.locator("#in-intermediaries-0-name").press("Tab")
    page.get_by_role("button", name="費用を追加").click()
    page.locator("#in-fees-0-payee-pick").select_option("intermediaries.0")
    page.locator("#in-fees-0-amount").fill("1000")
    page.locator("#in-fees-0-basis_shown").select_option(label="いいえ")
    page.locator("#in-fees-0-breakdown_explained").select_option(label="いいえ")
    page.get_by_role("button", name="この内容で審査する").last.click()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+$"))
    main = page.locator("main").inner_text()
    assert name in main and "Example Broker（仲介機関（送出機関以外））" in main


BROKER_COUNTRIES = [("KH", "カンボジア"), ("KG", "キルギス"), ("TJ", "タジキスタン"), ("PK", "パキスタン")]


@pytest.mark.parametrize(("country", "name"), BROKER_COUNTRIES)
def test_a_broker_of_each_other_partner_by_hand(page_as: Any, shot: Any, country: str, name: str) -> None:
    """The LA broker flow above, in Japanese, for the other four partners: chosen on the New screening page, every
    coded value picked from a list, a complaint row added in place; the result names the country and the role."""
    page = page_as("screener")
    page.get_by_label(name, exact=True).check()
    page.get_by_label("仲介機関案件", exact=True).check()
    page.get_by_role("button", name="フォームを開く").click()
    page.wait_for_url("**/screenings/form?**")
    assert f"country={country}" in page.url and "kind=broker" in page.url
    page.get_by_label("案件ID").fill(f"{country}-BRK-HAND-1")
    page.get_by_label("提出日").fill("2025-06-02")
    page.locator("#in-name").fill(f"{country} Example Services")
    page.locator("#in-role").select_option(label="仲介機関（送出機関以外）")
    assert page.locator("#in-based_in option").nth(1).inner_text() == name  # the dossier's country first
    page.locator("#in-based_in").select_option(label=name)
    page.locator("#in-practices-holds_passports").select_option(label="はい")
    page.get_by_role("button", name="苦情を追加").click()
    page.locator("#in-complaints-0-received_on").fill("2025-05-01")
    page.locator("#in-complaints-0-act").select_option(label="4(1)(c) 人権侵害")
    page.get_by_role("button", name="この内容で審査する").last.click()
    page.wait_for_load_state()
    assert page.locator("#problems").count() == 0, page.locator("#problems").inner_text()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+$"))
    main = page.locator("main").inner_text()
    assert name in main and "仲介機関案件" in main and "仲介機関（送出機関以外）" in main and f"{country}-BRK-HAND-1" in main
    assert page.locator(".finding").count() >= 1, main
    assert_reads_as_japanese(page.locator("main").inner_text())
    if country == "KH":
        shot(page, "result-broker-kh")
        assert serious_violations(page) == []


# --------------------------------------------------------------------------- the keyboard only

FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return {id: "", tag: "body", visible: false, after: true, text: ""}; }
  const style = getComputedStyle(el);
  const visible = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== "none";
  const prev = window.__lastFocus;
  const after = !prev || !prev.isConnected || prev === el || !!(prev.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
  window.__lastFocus = el;
  return {id: el.id, tag: el.tagName.toLowerCase(), visible, after, text: (el.innerText || el.value || "").trim().slice(0, 60)};
}"""


class Keyboard:
    """A person with a keyboard and no mouse: Tab and Shift+Tab move, Enter and Space press, arrow keys choose.

    Every stop the focus makes is checked: it is visible (an outline of 2px or more) and, going forward, it moves
    down the page in reading order (no positive tabindex, no focus jumping back up)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.stops = 0

    def state(self) -> dict[str, Any]:
        return dict(self.page.evaluate(FOCUS_STATE))

    def tab_to(self, selector: str, limit: int = 250) -> None:
        """Tab forward until ``selector`` has the focus."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            self.stops += 1
            state = self.state()
            assert state["visible"], (
                f"focus not visible on {state} (going to {selector}, after {self.page.evaluate('() => window.__lastFocus && window.__lastFocus.outerHTML.slice(0, 200)')})"
            )
            assert state["after"], f"focus went back up the page to {state}"
            if self.page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"{selector} not reached with Tab")

    def focused(self, selector: str) -> bool:
        return bool(self.page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector))

    def choose(self, text: str, limit: int = 300) -> None:
        """On a focused select, press the down arrow until the option ``text`` is chosen."""
        for _ in range(limit):
            if self.page.evaluate("() => document.activeElement.selectedOptions[0].textContent.trim()") == text:
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"option {text} not reached with the arrow keys")

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def press(self, key: str) -> None:
        """Press a key that may move the focus on purpose (Enter on an add button moves it into the new row, above)."""
        self.page.keyboard.press(key)
        self.page.evaluate("() => { window.__lastFocus = document.activeElement; }")


DATE_KEYS = "06022025"
"""2 June 2025 typed into a date field of headless Chromium, whose parts follow its own locale (en-US), not the page's."""


def test_a_cambodian_candidate_screened_with_the_keyboard_only(page_as: Any, shot: Any) -> None:
    page = page_as("screener")
    keys = Keyboard(page)
    # New screening: the country and the kind are radio groups (arrow keys), then the button (Enter)
    keys.tab_to("input[type=radio][name=country]")
    for _ in range(10):
        if keys.focused("input[value=KH]:checked"):
            break
        page.keyboard.press("ArrowDown")
    assert keys.focused("input[value=KH]:checked")
    keys.tab_to("input[type=radio][name=kind]")
    if not keys.focused("input[value=candidate]:checked"):
        page.keyboard.press("ArrowUp")
    assert keys.focused("input[value=candidate]:checked")
    keys.tab_to("button:is([type=submit], :not([type]))")
    while "フォームを開く" not in keys.state()["text"]:
        keys.tab_to("button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/screenings/form?**")
    # the form, top to bottom
    keys.tab_to("#in-dossier_id")
    keys.type("KH-KEYS-0001")
    keys.tab_to("#in-submitted")
    keys.type(DATE_KEYS)  # a date field's parts in the browser's own order (headless Chromium: month, day, year)
    assert page.locator("#in-submitted").input_value() == "2025-06-02"
    keys.tab_to("#in-residence")
    keys.choose("国外")
    keys.tab_to("#in-status_sought")
    keys.choose("特定技能1号")
    keys.tab_to("#in-hire_route")
    keys.choose("直接採用")
    keys.tab_to("#in-identity-name")
    keys.type("Keyboard Candidate")
    keys.tab_to("#in-identity-nationality")
    keys.choose("カンボジア")
    # the languages (about 180 boxes) are one stop for Tab: the arrow keys move among them, Space ticks
    keys.tab_to("input[name=languages]")
    for _ in range(300):
        if keys.focused("input[value=km]"):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert page.locator("input[name=languages][value=km]").is_checked()
    tabbable = page.evaluate("() => Array.from(document.querySelectorAll('input[name=languages]')).filter(b => b.tabIndex >= 0).length")
    assert tabbable == 1
    # a row added with Enter takes the focus; Shift+Tab goes back to where it was
    keys.tab_to("button[name=add][value=intermediaries]")
    keys.press("Enter")
    first = page.evaluate("() => document.activeElement.id")
    assert keys.focused("#rows-intermediaries input, #rows-intermediaries select"), keys.state()
    page.keyboard.press("Shift+Tab")  # back to the field before the new row, then forward into it again
    assert not keys.focused("#rows-intermediaries *") and keys.state()["visible"]
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == first
    keys.tab_to("#in-intermediaries-0-name")
    keys.type("Mekong Example Recruiting")
    # a row added by mistake is removed with the keyboard, and the focus stays in the form
    keys.tab_to("button[name=add][value=tests]")
    keys.press("Enter")
    keys.tab_to("button[name=remove][value='tests.0']")
    keys.press("Enter")
    assert page.locator("#rows-tests fieldset.row").count() == 0
    assert keys.state()["tag"] != "body", "the focus was lost when the row was removed"
    keys.tab_to("button[name=add][value=fees]")
    keys.press("Enter")
    keys.tab_to("#in-fees-0-payee-pick")
    keys.choose("Mekong Example Recruiting（仲介機関（送出機関以外））")
    keys.tab_to("#in-fees-0-amount")
    keys.type("3200")
    keys.tab_to("#in-fees-0-currency")
    keys.choose("米ドル")
    keys.tab_to("#in-fees-0-basis_shown")
    keys.choose("いいえ")
    keys.tab_to("#in-fees-0-breakdown_explained")
    keys.choose("いいえ")
    shot(page, "form-keyboard")
    keys.tab_to("#screen-button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/screenings/S-\d+$"))
    assert "不適合あり" in page.locator("#verdict").inner_text()
    fee = page.locator(".finding", has_text="4(1)(e)").first.inner_text()
    assert "受領者：Mekong Example Recruiting（仲介機関（送出機関以外））" in fee and "3,200 USD" in fee
    # the result, read with the keyboard: the first finding's details open with Enter
    keys.tab_to("details.explain summary")
    keys.press("Enter")
    assert page.locator("details.explain[open]").count() >= 1
    shot(page, "result-keyboard")
    assert keys.stops < 400, keys.stops
