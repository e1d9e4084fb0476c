"""Tables in a real browser: a Table tab sorted by rate orders the rows by the numbers (not
as text: "2.4%" before "10.7%"), hidden cells still read ``*``; the Students list fills the
page and leaves empty dates blank.

The grid draws on a canvas, so the test reads cells the way a person would take them out:
it selects a range and copies it (the clipboard holds the cells in the order shown). The
app's own config turns the grid's copy and CSV export off (``client.disableDataExport``:
every download goes through the audited *Download CSV* button); this test's server turns
them back on through the environment, and nothing else differs.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
from collections.abc import Iterator
from typing import Any

import pytest
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT,
    assert_no_error,
    open_page,
    pass_door,
    settle,
    streamlit_server,
)

pytestmark = pytest.mark.browser

ROW = 35
"""Pixels of one grid row (Streamlit's default row height), the header's included."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"the browser tests need Debian's Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def url(browser, demo_data, tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("browser-tables")
    old = os.environ.get("STREAMLIT_CLIENT_DISABLE_DATA_EXPORT")
    os.environ["STREAMLIT_CLIENT_DISABLE_DATA_EXPORT"] = "false"
    try:
        with streamlit_server(demo_data.root, tmp / "no-live-data",
                              tmp / "streamlit.log") as served:
            yield served
    finally:
        if old is None:
            os.environ.pop("STREAMLIT_CLIENT_DISABLE_DATA_EXPORT", None)
        else:
            os.environ["STREAMLIT_CLIENT_DISABLE_DATA_EXPORT"] = old


@contextlib.contextmanager
def window(browser: Any, width: int = 1440, height: int = 900) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": width, "height": height},
                              permissions=["clipboard-read", "clipboard-write"])
    ctx.set_default_timeout(TIMEOUT)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def copy_cells(page: Any, grid: Any, rows: int, right_x: float | None = None) -> list[list[str]]:
    """Select the first ``rows`` rows of a grid, from its first column to the column at
    ``right_x`` px from the grid's left (the last column when None), copy them and return
    the clipboard's cells."""
    grid.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(200)
    box = grid.locator('[data-testid="data-grid-canvas"]').bounding_box()
    x = box["width"] - 30 if right_x is None else right_x
    page.mouse.click(box["x"] + 40, box["y"] + ROW + ROW // 2)
    page.keyboard.down("Shift")
    page.mouse.click(box["x"] + x, box["y"] + ROW * rows + ROW // 2)
    page.keyboard.up("Shift")
    page.keyboard.press("Control+c")
    page.wait_for_timeout(300)
    text = page.evaluate("navigator.clipboard.readText()")
    return [line.split("\t") for line in text.splitlines()]


def number(cell: str) -> float:
    """A copied cell as the grid holds it: a number, ``-Infinity`` for ``*`` and ``--``."""
    return -math.inf if cell == "-Infinity" else float(cell)


def test_a_table_tab_sorted_by_rate_is_in_numeric_order(browser, url):
    with window(browser) as page:
        page.goto(url + "/")
        pass_door(page)
        open_page(page, "Financial aid")
        heading = page.locator("h3").filter(has_text="Where seniors stand")
        tab = heading.locator("xpath=following::*[@role='tab'][normalize-space()='Table'][1]")
        tab.click()
        settle(page)
        grid = tab.locator("xpath=following::*[@data-testid='stDataFrame'][1]")
        grid.wait_for()
        before = copy_cells(page, grid, 10)
        # the rate is the last column; clicking its header sorts ascending
        box = grid.locator('[data-testid="data-grid-canvas"]').bounding_box()
        page.mouse.click(box["x"] + box["width"] - 30, box["y"] + ROW // 2)
        settle(page)
        after = copy_cells(page, grid, 10)
        page.screenshot(path="/tmp/browser-tables-sorted.png")
        assert_no_error(page, "Financial aid, sorted table")
    rates = [number(r[-1]) for r in after]
    assert rates == sorted(rates), rates
    shown = [r for r in rates if r != -math.inf]
    assert len(shown) >= 5
    # a text sort would not give this order: some rate of one digit comes before one of two
    assert any(a < 10 <= b for a, b in itertools.pairwise(shown)), shown
    assert sorted(f"{r:.1f}%" for r in shown) != [f"{r:.1f}%" for r in shown]
    # the table came highest rate first; the rows moved with their rate
    first = [number(r[-1]) for r in before]
    assert first == sorted(first, reverse=True) and first != rates


def test_the_students_list_fills_the_page_and_leaves_empty_dates_blank(browser, url):
    with window(browser) as page:
        page.goto(url + "/")
        pass_door(page, "Fresno Unified")
        open_page(page, "Students")
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.wait_for()
        grid.scroll_into_view_if_needed()
        assert grid.bounding_box()["height"] >= 600
        cells = copy_cells(page, grid, 15)
        page.screenshot(path="/tmp/browser-tables-students.png")
        assert_no_error(page, "Students")
    assert all(len(r) == len(cells[0]) for r in cells)
    last_login = [r[-1] for r in cells]
    assert "" in last_login and "None" not in last_login and "NaT" not in last_login
    assert all(c == "" or (len(c) == 10 and c[4] == "-") for c in last_login), last_login
    assert {r[4] for r in cells} == {"Fresno Unified"}  # the District column
