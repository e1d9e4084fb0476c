"""Drill-down in a real browser: a real click on a district's bar on the Overview sets the
district filter and the URL and shows the district's schools; a click on a school's bar opens
its view; "Back to ..." returns in one click. Marked ``browser`` (Playwright driving Debian's
Chromium, as tests/test_browser.py, whose server and page helpers it uses)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from test_browser import (  # noqa: F401  (browser and demo_url are fixtures)
    assert_no_error,
    browser,
    chips,
    demo_url,
    enter_demo,
    new_page,
    open_page,
    settle,
)

from ccgi_dash.charts import escape

pytestmark = pytest.mark.browser

FRESNO_UNIFIED = "1062166"


def drill_chart(page: Any) -> Any:
    """The Overview's drillable chart (the one whose caption invites a click)."""
    caption = page.get_by_text(re.compile(r"^Click a (district|school)'s bar"))
    caption.wait_for()
    return page.locator('[data-testid="stPlotlyChart"]').filter(
        has=page.locator(".js-plotly-plot")).last


def click_bar(page: Any, chart: Any, label: str | None = None) -> str:
    """Click the bar of ``label`` (the first bar with a value when None); its label."""
    labels = chart.locator(".js-plotly-plot").evaluate("e => e.data[0].y")
    values = chart.locator(".js-plotly-plot").evaluate("e => e.data[0].x")
    if label is None:
        index = max(range(len(values)), key=lambda i: values[i] or 0)
    else:
        index = labels.index(escape(label))
    bar = chart.locator(".trace.bars .point path").nth(index)
    bar.scroll_into_view_if_needed()
    bar.click(force=True)
    settle(page)
    return labels[index]


def title(chart: Any) -> str:
    return str(chart.locator(".js-plotly-plot").evaluate(
        "e => (e.layout && e.layout.title && e.layout.title.text) || ''"))


def query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_a_click_on_a_district_opens_its_schools_and_back_returns(browser, demo_url):  # noqa: F811
    with new_page(browser) as page:
        page.set_viewport_size({"width": 1440, "height": 900})
        enter_demo(page, demo_url + "/")
        settle(page)
        chart = drill_chart(page)
        assert "by district" in title(chart)
        click_bar(page, chart, "Fresno Unified")
        page.get_by_role("button", name="Back to the county").wait_for()
        assert_no_error(page, "drilled into Fresno Unified")
        assert chips(page, "District", 1) == ["Fresno Unified"]
        assert query(page).get("district") == [FRESNO_UNIFIED]
        chart = drill_chart(page)
        assert "by school" in title(chart)
        page.screenshot(path="/tmp/actui-drill-district.png", full_page=True)
        # a school's bar: its view (the school filter and the URL follow)
        school = click_bar(page, chart)
        page.get_by_role("button", name="Back to Fresno Unified").wait_for()
        assert query(page).get("school") and query(page)["district"] == [FRESNO_UNIFIED]
        assert len(chips(page, "School", 1)) == 1
        assert school
        page.screenshot(path="/tmp/actui-drill-school.png", full_page=True)
        page.get_by_role("button", name="Back to Fresno Unified").click()
        page.get_by_role("button", name="Back to the county").wait_for()
        page.wait_for_function("() => !location.search.includes('school=')")
        settle(page)
        assert "school" not in query(page) and query(page)["district"] == [FRESNO_UNIFIED]
        page.get_by_role("button", name="Back to the county").click()
        page.wait_for_function("() => !location.search.includes('district=')")
        settle(page)
        page.get_by_text("Click a district's bar").wait_for()
        assert "district" not in query(page)
        assert chips(page, "District", 0) == []
        assert_no_error(page, "back to the county")


def test_a_topic_page_by_district_drills_to_schools_and_back(browser, demo_url):  # noqa: F811
    with new_page(browser) as page:
        page.set_viewport_size({"width": 1440, "height": 900})
        enter_demo(page, demo_url + "/")
        open_page(page, "Financial aid")
        chart = by(page, "by district")
        clicked = click_bar(page, chart)
        page.get_by_role("button", name="Back to the county").first.wait_for()
        assert chips(page, "District", 1) == [clicked.replace("&amp;", "&")]
        assert len(query(page).get("district", [])) == 1
        # the breakdown switched to the district's schools
        assert by(page, "by school") is not None
        page.get_by_role("button", name="Back to the county").first.click()
        page.wait_for_function("() => !location.search.includes('district=')")
        settle(page)
        assert "district" not in query(page)
        assert by(page, "by district") is not None
        assert_no_error(page, "Financial aid, back to the county")


def by(page: Any, words: str) -> Any:
    """The first chart whose title has ``words`` ("by district")."""
    charts = page.locator('[data-testid="stPlotlyChart"]').filter(
        has=page.locator(".js-plotly-plot"))
    page.wait_for_function(
        """w => [...document.querySelectorAll('.js-plotly-plot')].some(
            e => e.layout && e.layout.title && (e.layout.title.text || '').includes(w))""",
        arg=words)
    return next(c for c in charts.all() if words in title(c))
