"""The consultation brief and the dashboard in Chromium: charts drawn, in Japanese and English, no serious accessibility problem.

Uses the browser fixtures of :mod:`tests.test_browser` (the same service under
uvicorn, the same screenshots directory: ``DOSSIER_RULES_SCREENSHOTS``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .conftest import SAMPLES
from .test_browser import base_url, browser, page_as, pytestmark, screenshots, serious_violations, shot  # noqa: F401 (fixtures)
from .test_browser_csp import watch_violations

TODAY = datetime.now(UTC).date()
PERIOD = f"start={(TODAY - timedelta(days=29)).isoformat()}&end={TODAY.isoformat()}"


def _english(page: Any) -> None:
    page.select_option("#lang-switch", "en")
    page.locator("form[action='/language'] button").click()
    page.wait_for_load_state()


def test_the_brief_and_the_dashboard_show_their_charts_in_both_languages(page_as: Any, shot: Any) -> None:  # noqa: F811 (fixtures)
    page = page_as("reviewer")
    violations = watch_violations(page)
    page.goto("/screenings/new")
    page.locator("input[type=file]").set_input_files([str(p) for p in sorted(SAMPLES.glob("*.json"))])
    page.get_by_role("button", name="ファイルを審査する").click()
    page.wait_for_load_state()
    page.goto(f"/briefs?country=KH&{PERIOD}")
    assert page.get_by_role("heading", name="協議用資料：カンボジア").is_visible()
    charts = page.locator("figure.chart svg")
    assert charts.count() == 2 and charts.first.bounding_box()["height"] > 50
    assert page.locator("figure.chart svg text", has_text="認定の取消し後の送出機関の活動").count() == 1
    assert serious_violations(page) == []
    shot(page, "brief-ja")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    assert not page.locator("header.top").is_visible() and not page.locator("form.filters").is_visible()
    assert page.locator("figure.chart svg").first.bounding_box()["width"] <= 794
    shot(page, "brief-print-ja")
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/dashboard?{PERIOD}")
    assert page.locator("figure.chart svg").count() == 3
    assert serious_violations(page) == []
    shot(page, "dashboard-ja")
    _english(page)
    page.goto(f"/briefs?country=KH&{PERIOD}")
    assert page.get_by_role("heading", name="Consultation brief: Cambodia").is_visible()
    assert serious_violations(page) == []
    shot(page, "brief-en")
    page.goto(f"/dashboard?{PERIOD}")
    assert page.get_by_role("heading", name="Dashboard", exact=True).is_visible()
    shot(page, "dashboard-en")
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.locator("button[data-print]").click()
    assert page.evaluate("window.__printed === true")  # the Print button works under the policy (static/print.js)
    assert violations == []  # inline SVG, no inline style or script: nothing the policy refuses
