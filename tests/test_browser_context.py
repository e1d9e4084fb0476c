"""Whose numbers, reload and narrow screens in a real browser (issue 11).

* A demo visitor who reloads (F5) stays in, on the same page and filters; one who left the
  demo and reloads is at the welcome page again.
* A district leader's Overview names the district and shows the county's rate on the cards.
* At 400x800 no page scrolls sideways, the sidebar does not lie over the page after a move
  to another page, and no card value or title is cut off.
* The first filter change after entering keeps the page's elements in place (the session
  cookie's component comes and goes last in the sidebar, not at the top of the page).
* A filter keeps its height when the focus moves on, so the next filter's list stays open.
* At 1440x900 the main story of the Overview and of every topic page fits in about two
  screens: the page, expanders closed, is at most ``TWO_SCREENS`` pixels tall, for the
  coordinator and a district leader.

Shares the demo server of ``test_browser.py`` (its ``browser`` and ``demo_url`` fixtures).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_browser import (  # noqa: F401  (browser, demo_url: fixtures)
    COORDINATOR,
    LEADER,
    NAV,
    OTHER_DISTRICT,
    OTHER_DISTRICT_NAME,
    PAGES,
    TIMEOUT,
    assert_no_error,
    browser,
    choose,
    demo_url,
    enter_demo,
    open_page,
    settle,
)

pytestmark = pytest.mark.browser

TWO_SCREENS = 1_900
"""Pixels a topic page may take at 1440x900 with its expanders closed (issue 11: "a page's
main story fits in about two screens")."""
PAGE_HEIGHT = """() => Math.max(...[...document.querySelectorAll(
    '[data-testid="stMain"], [data-testid="stMainBlockContainer"]')].map(e => e.scrollHeight),
    document.documentElement.scrollHeight)"""
"""The page's height: Streamlit scrolls its main area, not the document, so the taller of
the main area's scroll height (padding included) and the document's."""


def narrow_page(browser: Any) -> Any:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 400, "height": 800})
    ctx.set_default_timeout(TIMEOUT)
    return ctx.new_page()


def wide_page(browser: Any) -> Any:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    ctx.set_default_timeout(TIMEOUT)
    return ctx.new_page()


def heading(page: Any) -> str:
    return page.locator("h1").first.inner_text().strip()


def sidebar_open(page: Any) -> bool:
    return page.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "false"


def show_nav(page: Any) -> None:
    """Open the sidebar when a narrow window has it closed, to reach the navigation."""
    opener = page.locator('[data-testid="stExpandSidebarButton"]')
    if opener.count() and opener.first.is_visible():
        opener.first.click()
        page.locator(NAV).first.wait_for()


def sideways(page: Any) -> list[str]:
    """Elements that scroll sideways: the document and the main area."""
    return page.evaluate("""() => ['html', '[data-testid="stMain"]'].filter(sel => {
        const e = sel === 'html' ? document.scrollingElement : document.querySelector(sel);
        return e && e.scrollWidth > e.clientWidth + 1; })""")


def cut_off(page: Any) -> list[str]:
    """Card titles and values, and links in the page, whose text is wider than their box
    (drawn cut off)."""
    return page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid="stMetricValue"], [data-testid="stMetricLabel"], '
        + '[data-testid="stMain"] [data-testid="stPageLink-NavLink"]')]
        .filter(e => e.offsetParent !== null)
        .filter(e => [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1))
        .map(e => e.innerText)""")


def test_the_first_filter_change_keeps_the_page_in_place(browser, demo_url):  # noqa: F811
    """The session cookie's component is drawn until the browser has written the cookie and
    then no more. Drawn in the page, its going shifted every element after it, and the
    browser built the whole page again (a page's worth of work on the first click after
    entering); drawn last in the sidebar, it moves nothing."""
    page = wide_page(browser)
    try:
        enter_demo(page, demo_url + "/")
        page.wait_for_function("() => document.cookie.includes('ccgi_demo=')")
        page.evaluate("""() => { window.__ccgiKept = [...document.querySelectorAll(
            '[data-testid="stMain"] h1, [data-testid="stMain"] [data-testid="stAlert"]')]; }""")
        choose(page, "District", OTHER_DISTRICT_NAME)
        settle(page)
        assert OTHER_DISTRICT_NAME in page.locator('[data-testid="stMain"]').inner_text()
        kept = page.evaluate("() => window.__ccgiKept.map(e => e.isConnected)")
        assert kept and all(kept), kept
    finally:
        page.context.close()


def test_a_filter_keeps_its_height_when_the_focus_moves_on(browser, demo_url):  # noqa: F811
    """Picking a district leaves the focus in the District filter, and Streamlit widens a
    focused filter's text box: a district's chip and the box took two lines there, and one
    once the focus moved on. So the click on Grade made the sidebar shorter under the
    pointer; scrolled to its end (Grade is below the first screen at 1440x900), the sidebar
    jumped, and the Grade list that click had just opened closed again (react-aria closes a
    list when the page behind it scrolls)."""
    page = wide_page(browser)
    try:
        enter_demo(page, demo_url + "/")
        choose(page, "District", "Caruthers Unified")
        settle(page)
        district = page.locator('.st-key-f_district [data-testid="stMultiSelect"]')
        assert district.evaluate("e => e.contains(document.activeElement)")
        focused = district.bounding_box()["height"]
        sidebar = page.locator('[data-testid="stSidebarContent"]')
        assert sidebar.evaluate("e => e.scrollHeight > e.clientHeight")  # Grade is below
        sidebar.evaluate("e => { e.scrollTop = e.scrollHeight; }")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                      "requestAnimationFrame(r)))")  # the scroll is done before the click
        page.locator('.st-key-f_grade [data-testid="stMultiSelect"] input').click()
        page.wait_for_timeout(500)
        assert district.bounding_box()["height"] == focused
        assert page.get_by_role("listbox").is_visible()
        assert page.get_by_role("option", name="12", exact=True).is_visible()
    finally:
        page.context.close()


def test_reload_keeps_the_demo_visitor_on_the_same_page_and_filters(browser, demo_url):  # noqa: F811
    page = wide_page(browser)
    try:
        enter_demo(page, demo_url + "/")
        open_page(page, "Financial aid")
        choose(page, "District", OTHER_DISTRICT_NAME)
        settle(page)
        page.wait_for_url(re.compile(rf"district={OTHER_DISTRICT}"))
        page.wait_for_function("() => document.cookie.includes('ccgi_demo=')")
        url = page.url

        page.reload()
        page.locator("h1").first.wait_for()
        settle(page)
        assert heading(page) == "Financial aid", "a reload left the page"
        assert page.url == url
        district = page.locator('[data-testid="stMultiSelect"]').filter(has_text="District")
        assert OTHER_DISTRICT_NAME in district.first.inner_text(), "the filter was lost"
        assert page.get_by_role("button", name="Leave the demo").count() == 1, "not in"
        assert OTHER_DISTRICT_NAME in page.locator('[data-testid="stMain"]').inner_text()
        assert_no_error(page, "after reload")

        # leaving the demo ends its session: a reload then shows the welcome page
        page.get_by_role("button", name="Leave the demo").click()
        page.get_by_role("button", name="Enter the demo").wait_for()
        settle(page)
        page.wait_for_function("() => !document.cookie.includes('ccgi_demo=')")
        page.reload()
        page.get_by_role("button", name="Enter the demo").wait_for()
        assert page.get_by_role("button", name="Leave the demo").count() == 0
    finally:
        page.context.close()


def test_district_leader_overview_names_the_district_and_shows_the_county(browser, demo_url):  # noqa: F811
    page = wide_page(browser)
    try:
        enter_demo(page, demo_url + "/", OTHER_DISTRICT_NAME)
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert OTHER_DISTRICT_NAME in main
        assert "county's students" not in main
        page.locator('[data-testid="stMetricValue"]').first.wait_for()
        assert page.locator('[data-testid="stMetricValue"]').count() == 8
        county_lines = [t for t in page.locator('[data-testid="stCaptionContainer"]')
                        .all_inner_texts() if "county:" in t]
        assert len(county_lines) == 8, county_lines
        assert all(re.search(r"^of [\d,*]+ (seniors|students in grades 6-12) · county: "
                             r"(\d+\.\d%|\*|--)", t) for t in county_lines), county_lines
        district = page.locator('[data-testid="stMultiSelect"]').filter(has_text="District")
        assert "All districts" not in district.first.inner_text()
    finally:
        page.context.close()


@pytest.mark.parametrize("district", [None, OTHER_DISTRICT_NAME],
                         ids=["coordinator", "leader"])
def test_narrow_screen(browser, demo_url, district):  # noqa: F811
    """400x800, every page the persona may open: no sideways scroll, nothing cut off, cards
    compact (two abreast), and the sidebar closed after each move to another page."""
    page = narrow_page(browser)
    try:
        enter_demo(page, demo_url + "/", district)
        assert not sidebar_open(page), "the sidebar lies over the page after entering"
        titles = [s.title for s in PAGES if s.allowed(LEADER if district else COORDINATOR)]
        for title in titles:
            if heading(page) != title:
                show_nav(page)
                open_page(page, title)
                page.wait_for_function("""() => document.querySelector(
                    '[data-testid="stSidebar"]').getAttribute('data-collapsed') === 'true'""")
            assert not sidebar_open(page), f"{title}: the sidebar covers the page"
            assert sideways(page) == [], f"{title}: scrolls sideways"
            assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), \
                f"{title}: the document is wider than the window"
            assert cut_off(page) == [], f"{title}: cut off"
            assert_no_error(page, title)
        # the Overview's cards sit two abreast
        show_nav(page)
        open_page(page, "Overview")
        boxes = page.locator('.st-key-ccgi_cards [data-testid="stColumn"]')
        boxes.first.wait_for()
        first, second = boxes.nth(0).bounding_box(), boxes.nth(1).bounding_box()
        assert abs(first["y"] - second["y"]) < 5 and second["x"] > first["x"]
    finally:
        page.context.close()


def test_every_topic_page_fits_two_screens_at_1440(browser, demo_url):  # noqa: F811
    """1440x900, as the coordinator and as a district leader: the Overview and every topic
    page (expanders closed, as it opens) is at most ``TWO_SCREENS`` pixels tall."""
    tall = []
    for district, scope in ((None, COORDINATOR), (OTHER_DISTRICT_NAME, LEADER)):
        page = wide_page(browser)
        try:
            enter_demo(page, demo_url + "/", district)
            for spec in PAGES:
                if (spec.topic is None and spec.id != "overview") or not spec.allowed(scope):
                    continue
                if heading(page) != spec.title:
                    open_page(page, spec.title)
                assert page.locator('[data-testid="stExpander"] details[open]').count() == 0
                height = page.evaluate(PAGE_HEIGHT)
                if height > TWO_SCREENS:
                    tall.append(f"{spec.title} ({district or 'coordinator'}): {height} px")
        finally:
            page.context.close()
    assert not tall, f"taller than {TWO_SCREENS} px at 1440x900: {tall}"
