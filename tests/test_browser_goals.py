"""Goals, pace and projection in a real browser (issue 12's "goals in the browser test").

The demo warehouse of the suite, served with a ``settings.toml`` that sets a county goal for
FAFSA/CADAA completion (65% by the Cal Grant deadline) and a goal of Fresno Unified's own
(70%). As the COE coordinator and as Fresno Unified's leader, the test reads the real page:
the Overview card's goal and pace line, the Financial aid trend chart's goal line and dotted
projection (the plotly figure's ``data`` and ``layout`` in the DOM), and the leaderboard's
"Projected at <deadline>" column (the grid's accessible table). Every number is checked
against ``goals``/``pace`` called here on the same warehouse and settings. Marked ``browser``
(Playwright driving Debian's Chromium, with the server and page helpers of
tests/test_browser.py); four page loads in all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import (  # noqa: F401  (browser is a fixture)
    assert_no_error,
    browser,
    enter_demo,
    new_page,
    open_page,
    settle,
    streamlit_server,
    warm,
)

from ccgi_dash import goals, pace
from ccgi_dash.metrics import Filters, Request
from ccgi_dash.scope import Scope
from ccgi_dash.settings import Settings, load_settings
from ccgi_dash.store import DataDir, Warehouse

pytestmark = pytest.mark.browser

FRESNO_UNIFIED = "1062166"
FRESNO_UNIFIED_NAME = "Fresno Unified"
METRIC = "aid_completed"
CARD = "FAFSA/CADAA completed"
SETTINGS_TOML = f"""\
[goals.aid_completed]
goal = "65%"
deadline = "cal_grant"
districts = {{ "{FRESNO_UNIFIED}" = "70%" }}
"""
COORDINATOR = Scope("demo", all_districts=True, dataset="demo")
LEADER = Scope("demo", districts=(FRESNO_UNIFIED,), student_level=True, dataset="demo")


@pytest.fixture(scope="module")
def goals_dir(demo_data, tmp_path_factory) -> DataDir:
    """The suite's demo warehouse (linked, not copied) with the goals' settings beside it."""
    root = tmp_path_factory.mktemp("demo-with-goals")
    for entry in demo_data.root.iterdir():
        if entry.name != "settings.toml":
            (root / entry.name).symlink_to(entry)
    (root / "settings.toml").write_text(SETTINGS_TOML, encoding="utf-8")
    return DataDir(root)


@pytest.fixture(scope="module")
def goals_url(browser, goals_dir, tmp_path_factory) -> Iterator[str]:  # noqa: F811
    tmp = tmp_path_factory.mktemp("browser-goals")
    with streamlit_server(goals_dir.root, tmp / "no-live-data",
                          tmp / "streamlit.log") as url:
        warm(browser, url)
        yield url


# ------------------------------------------------------------------- what the page must show

def expected(root: Path, scope: Scope) -> tuple[Settings, goals.Goal, pace.Pace, Any,
                                                pace.ProjectedBy]:
    """The goal, the card's pace, the trend's projection line and the leaderboard's
    projection for ``scope``'s view of the whole latest drop, from the package itself."""
    settings = load_settings(root)
    request = Request(scope, Filters(), None, settings.privacy.suppression_threshold)
    with contextlib.closing(Warehouse(DataDir(root))) as wh:
        drop = wh.resolve(None)
        goal = goals.goal_for(settings, METRIC, drop, goals.single_district(scope))
        assert goal is not None
        p = pace.pace(wh, request, METRIC, settings)
        line = pace.projection_line(wh, request, METRIC, goal.deadline)
        board = pace.projected_by(wh, request, METRIC, "school", settings)
    return settings, goal, p, line, board


def card_captions(page: Any) -> dict[str, str]:
    """Each Overview card's label -> the caption under it."""
    cols = page.locator('.st-key-ccgi_cards [data-testid="stColumn"]')
    cols.first.wait_for()
    out = {}
    for i in range(cols.count()):
        col = cols.nth(i)
        if col.locator('[data-testid="stMetricLabel"]').count() == 0:
            continue
        label = col.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = "\n".join(
            col.locator('[data-testid="stCaptionContainer"]').all_inner_texts())
    return out


def trend_figure(page: Any) -> dict[str, Any]:
    """The weekly trend chart's traces and layout, as plotly holds them in the page."""
    figure = page.evaluate(
        """() => {
            const e = [...document.querySelectorAll('.js-plotly-plot')].find(
                e => e.layout && e.layout.title
                     && (e.layout.title.text || '').includes('at each weekly drop'));
            if (!e) return null;
            return {traces: e.data.map(t => ({name: t.name, x: t.x, y: t.y,
                                               dash: t.line && t.line.dash})),
                    shapes: (e.layout.shapes || []).map(s => ({y0: s.y0, y1: s.y1,
                                                               yref: s.yref,
                                                               dash: s.line && s.line.dash})),
                    annotations: (e.layout.annotations || []).map(a => a.text)};
        }""")
    assert figure is not None, "no weekly trend chart on the page"
    return figure


def check_trend(figure: dict[str, Any], goal: goals.Goal, p: pace.Pace, line: Any) -> None:
    """The goal as a dashed horizontal line at its rate, labelled with its text, and the
    dotted projection: the same dates and rates as ``pace.projection_line`` to the goal's
    deadline, ending at the card's projection."""
    goal_lines = [s for s in figure["shapes"] if s["yref"] == "y" and s["y0"] == s["y1"]]
    assert [s["y0"] for s in goal_lines] == [pytest.approx(goal.rate * 100)]
    assert goal_lines[0]["dash"] == "longdash"
    assert f"Goal {goal.text}" in figure["annotations"]
    dotted = [t for t in figure["traces"] if t["name"] == "Projected (dotted)"]
    assert len(dotted) == 1 and dotted[0]["dash"] == "dot"
    assert len(line) >= 2, "the warehouse has last year's drops: a projection is drawn"
    assert [str(x)[:10] for x in dotted[0]["x"]] == [d.isoformat() for d in line["date"]]
    assert dotted[0]["y"] == pytest.approx([r * 100 for r in line["rate"]], abs=1e-6)
    assert p.at_deadline is not None and p.at_deadline.rate is not None
    assert str(dotted[0]["x"][-1])[:10] == goal.deadline.isoformat()
    assert dotted[0]["y"][-1] == pytest.approx(p.at_deadline.rate * 100, abs=1e-6)


# ---------------------------------------------------------------------------------- the tests

def test_the_coordinator_sees_the_county_goal_pace_projection_and_leaderboard(
        browser, goals_url, goals_dir):  # noqa: F811
    _, goal, p, line, board = expected(goals_dir.root, COORDINATOR)
    assert goal.text == "65% by Mar 2" and goal.district is None
    with new_page(browser) as page:
        enter_demo(page, goals_url + "/")
        assert_no_error(page, "Overview with goals")
        captions = card_captions(page)
        # the card: goal, projection at the deadline and the pace in words
        assert p.card_text and p.card_text in captions[CARD], captions[CARD]
        assert f"projected {p.at_deadline.text}" in p.card_text
        assert ("not on pace" if p.on_pace is False else "on pace") in captions[CARD]
        assert not any("Goal" in text for label, text in captions.items() if label != CARD)

        open_page(page, "Financial aid")
        check_trend(trend_figure(page), goal, p, line)

        # the leaderboard: its "Projected at Mar 2" column, each school as projected_by says
        box = page.locator('[data-testid="stExpander"]').filter(has_text="Race to Submit")
        box.locator("summary").first.click()
        settle(page)
        box.get_by_role("tab", name="Table").click()
        settle(page)
        grid = box.locator('[data-testid="stDataFrame"] [role="grid"]').first
        grid.wait_for(state="attached")
        headers = grid.locator('[role="columnheader"]').all_inner_texts()
        assert board.column == "Projected at Mar 2" and board.column in headers
        column, school = headers.index(board.column), headers.index("School")
        projected = {r["school_name"]: r["projected"] for _, r in board.frame.iterrows()}
        rows = grid.locator('tbody [role="row"]')
        checked = 0
        for i in range(min(rows.count(), 5)):
            cells = rows.nth(i).locator('[role="gridcell"]').all_inner_texts()
            if cells[school] not in projected:  # a name shared by two schools: skip it
                continue
            want = projected[cells[school]]
            if want is None or want != want:  # nothing to project from: an empty cell
                assert cells[column].strip() in ("", "*")
                continue
            # the grid prints the table's one-decimal percent without a trailing zero
            assert float(cells[column]) == round(want * 100, 1), (cells[school], cells[column])
            checked += 1
        assert checked >= 1
        assert_no_error(page, "Financial aid with goals")


def test_a_district_leader_sees_their_districts_own_goal(browser, goals_url,  # noqa: F811
                                                         goals_dir):
    _, goal, p, line, _board = expected(goals_dir.root, LEADER)
    assert goal.text == "70% by Mar 2" and goal.district == FRESNO_UNIFIED
    with new_page(browser) as page:
        enter_demo(page, goals_url + "/", FRESNO_UNIFIED_NAME)
        captions = card_captions(page)
        assert p.card_text and p.card_text.startswith("Goal 70% by Mar 2")
        assert p.card_text in captions[CARD], captions[CARD]
        assert "Goal 65%" not in captions[CARD]
        open_page(page, "Financial aid")
        check_trend(trend_figure(page), goal, p, line)
        assert_no_error(page, "Financial aid as Fresno Unified's leader")
