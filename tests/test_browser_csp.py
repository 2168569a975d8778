"""The Content-Security-Policy in a real browser: no page breaks under it, the Print button still prints, the notice
preview keeps its inline style sheet, and nothing the policy blocks is ever attempted.

Uses the browser and the service of tests/test_browser.py (skipped, with its reason, without Chromium).
"""

from __future__ import annotations

import re
from typing import Any

from .test_browser import ROOT, base_url, browser, page_as, pytestmark  # noqa: F401 (fixtures and the skip mark)

SAMPLE = ROOT / "samples" / "kh-candidate-revoked-agency.json"


def watch_violations(page: Any) -> list[str]:
    """Console messages in which Chromium reports a Content-Security-Policy violation."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    return seen


def test_the_pages_work_under_the_policy(page_as: Any) -> None:  # noqa: F811 (the fixture imported above)
    page = page_as("reviewer")
    violations = watch_violations(page)
    page.goto("/screenings/new")
    page.locator("input[type=file]").set_input_files(str(SAMPLE))
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+$"))
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.locator("button[data-print]").click()
    assert page.evaluate("window.__printed === true")
    for path in ("/history", "/packs", "/registries", "/notices", "/screenings/form?kind=candidate&country=KH"):
        page.goto(path)
        assert page.locator("main").count() == 1
        assert page.evaluate("getComputedStyle(document.body).margin") != "8px"  # the style sheet applied
    assert violations == []


def test_the_notice_preview_keeps_its_own_style(page_as: Any) -> None:  # noqa: F811 (the fixture imported above)
    page = page_as("reviewer")
    violations = watch_violations(page)
    page.goto("/screenings/new")
    page.locator("input[type=file]").set_input_files(str(SAMPLE))
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/screenings/S-\d+$"))
    sid = page.url.rsplit("/", 1)[1]
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    built = page.request.post("/api/v1/notices/build", data={"screening_ids": [sid]}, headers={"X-CSRF-Token": csrf})
    notice = (built.json()["created"] or built.json().get("existing") or [None])[0]
    assert notice, built.text()
    page.goto(f"/notices/{notice}/preview")
    assert "Serif" in page.evaluate("getComputedStyle(document.body).fontFamily")  # the notice's inline <style> applied
    assert violations == []
