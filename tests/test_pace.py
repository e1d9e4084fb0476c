"""Pace and projection against hand computations on small hand-made drops.

One school (Lakewood High, Long Beach Unified) with 140 students, of whom every seventh is a
senior: 20 seniors. Each drop sets how many seniors have a completed FAFSA, so every rate
is a number written here, and each projection is worked out by hand below.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest

from ccgi_dash import pace
from ccgi_dash.metrics import Filters, Request
from ccgi_dash.scope import Scope
from ccgi_dash.settings import parse_settings
from ccgi_dash.store import DataDir, Warehouse
from tests.dropkit import Drop, ingest, make_drop

SCHOOL = "19647251934678"
DISTRICT = "1964725"
SENIORS = 20
REQ = Request(Scope.county(), Filters(), None, 11)
"""The county at the latest drop, with the threshold of the privacy spec (11)."""


def completed(day: str, n: int, dates: list[str] | None = None, students: int = 140) -> Drop:
    """A drop of ``students`` students (every seventh a senior: 20 by default), ``n`` seniors
    with a completed FAFSA (on ``dates`` if given), the other seniors started."""
    drop = make_drop(day, students=students, schools=(SCHOOL,))
    seniors = [s["ssid"] for s in drop.tables["students"] if s["grade_level"] == "12"]
    assert len(seniors) == students // 7
    rows = []
    for k, ssid in enumerate(seniors):
        done = k < n
        when = dates[k] if dates and done else (drop.day - timedelta(days=3)).isoformat()
        rows.append({"ssid": ssid, "application_type": "FAFSA",
                     "status": "Completed" if done else "Started",
                     "submitted_date": when if done else "", "completed_date": when if done
                     else ""})
    drop.tables["fafsa_cadaa"] = rows
    return drop


def load(tmp_path, *drops: Drop) -> DataDir:
    dd = DataDir(tmp_path / "data")
    for d in drops:
        folder = tmp_path / f"in-{d.stamp}"
        d.write(folder)
        report = ingest(dd, folder)
        assert report.exit_code == 0, report.summary_lines()
    return dd


@pytest.fixture
def weekly(tmp_path) -> DataDir:
    """Last year: 4 of 20 on Nov 21, 14 on Mar 6, 16 on Jun 26. This year: 6 on Nov 20."""
    return load(tmp_path, completed("2025-11-21", 4), completed("2026-03-06", 14),
                completed("2026-06-26", 16), completed("2026-11-20", 6))


def test_projection_by_hand_from_last_years_weekly_drops(weekly):
    with contextlib.closing(Warehouse(weekly)) as wh:
        p = pace.project(wh, REQ, "aid_completed", date(2027, 3, 2))
        end = pace.project(wh, REQ, "aid_completed", date(2027, 6, 30))
    # Last year's drops move forward one school year (365 days): Nov 21 2025 -> Nov 21 2026,
    # Mar 6 2026 -> Mar 6 2027, Jun 26 2026 -> Jun 26 2027.
    # Last year at this week (Nov 20): Nov 21 is 1 day away (within a week) -> 4/20 = 0.20.
    # Last year at Mar 2: between Nov 21 (0.20) and Mar 6 (0.70): Nov 21 -> Mar 2 is
    # 9 + 31 + 31 + 28 + 2 = 101 days of 105, so 0.20 + 0.50 * 101 / 105.
    ly_target = 0.20 + 0.50 * 101 / 105
    assert p.rate_now == pytest.approx(6 / 20)
    assert p.last_year_now == pytest.approx(0.20)
    assert p.last_year_target == pytest.approx(ly_target)
    assert p.rate == pytest.approx(0.30 + (ly_target - 0.20))  # 0.7810
    assert "weekly drops" in p.method and "plus the points last year gained" in p.method
    # End of year (Jun 30): 4 days after Jun 26 (0.80): 0.30 + 0.80 - 0.20 = 0.90
    assert end.rate == pytest.approx(0.90)


def test_on_pace_compares_the_projection_at_the_deadline_with_the_goal(weekly):
    with contextlib.closing(Warehouse(weekly)) as wh:
        ok = pace.pace(wh, REQ, "aid_completed",
                       parse_settings({"goals": {"aid_completed": {"goal": "78%"}}}))
        short = pace.pace(wh, REQ, "aid_completed",
                          parse_settings({"goals": {"aid_completed": {"goal": "79%"}}}))
        own = pace.pace(wh, Request(Scope.county(), Filters(districts=(DISTRICT,)), None, 11),
                        "aid_completed", parse_settings({"goals": {"aid_completed": {
                            "goal": "50%", "districts": {DISTRICT: "90%"}}}}))
        none = pace.pace(wh, REQ, "aid_completed", parse_settings({}))
    assert ok.deadline == date(2027, 3, 2) and ok.on_pace is True  # 78.1% >= 78%
    assert short.on_pace is False and "Not on pace" in short.status
    assert own.goal is not None and own.goal.rate == pytest.approx(0.9)
    assert own.on_pace is False
    assert none.goal is None and none.on_pace is None
    assert none.at_year_end is not None and none.at_year_end.rate == pytest.approx(0.90)


def test_projection_by_district_and_the_dotted_line_agree_with_project(weekly):
    with contextlib.closing(Warehouse(weekly)) as wh:
        one = pace.project(wh, REQ, "aid_completed", date(2027, 3, 2))
        by = pace.project_by(wh, REQ, "aid_completed", "district", date(2027, 3, 2))
        line = pace.projection_line(wh, REQ, "aid_completed", date(2027, 3, 2))
    assert list(by["district"]) == [DISTRICT]
    assert by["projected"].iloc[0] == pytest.approx(one.rate)
    assert line["date"].iloc[0] == date(2026, 11, 20)
    assert line["rate"].iloc[0] == pytest.approx(0.30)
    assert line["date"].iloc[-1] == date(2027, 3, 2)
    assert line["rate"].iloc[-1] == pytest.approx(one.rate)


def test_nothing_where_last_year_has_no_data(tmp_path):
    dd = load(tmp_path, completed("2026-11-13", 5), completed("2026-11-20", 6))
    with contextlib.closing(Warehouse(dd)) as wh:
        p = pace.project(wh, REQ, "aid_completed", date(2027, 3, 2))
        line = pace.projection_line(wh, REQ, "aid_completed", date(2027, 3, 2))
    assert p.rate is None and p.rate_now == pytest.approx(0.30)
    assert p.method == pace.NO_DATA
    assert line.empty


def test_last_years_dates_when_its_weekly_drops_do_not_cover_the_weeks(tmp_path):
    # Only last year's final drop is loaded; its completion dates make the curve:
    # 4 by Nov 1 2025, 10 more on Feb 15 2026, 2 more on May 1 2026 (16 of 20).
    dates = ["2025-11-01"] * 4 + ["2026-02-15"] * 10 + ["2026-05-01"] * 2
    dd = load(tmp_path, completed("2026-06-26", 16, dates), completed("2026-11-20", 6))
    with contextlib.closing(Warehouse(dd)) as wh:
        p = pace.project(wh, REQ, "aid_completed", date(2027, 3, 2))
    # last year at Nov 20 (2025-11-20 before the shift): 4/20; at Mar 2 (2026-03-02): 14/20
    assert p.last_year_now == pytest.approx(0.20)
    assert p.last_year_target == pytest.approx(0.70)
    assert p.rate == pytest.approx(0.30 + 0.50)
    assert "dates in last year's latest drop" in p.method


def test_a_small_group_gets_no_projection(tmp_path):
    # 70 students, 10 seniors: a group of 1 to 10 students is hidden, and so is its projection
    dd = load(tmp_path, completed("2025-11-21", 2, students=70),
              completed("2026-03-06", 7, students=70), completed("2026-11-20", 3, students=70))
    with contextlib.closing(Warehouse(dd)) as wh:
        p = pace.project(wh, REQ, "aid_completed", date(2027, 3, 2))
    assert p.rate is None and p.rate_now is None and p.method == pace.HIDDEN


def test_status_metrics_and_past_deadlines_are_not_projected(weekly):
    with contextlib.closing(Warehouse(weekly)) as wh:
        status = pace.project(wh, REQ, "uc_eligible", date(2027, 3, 2))
        passed = pace.project(wh, REQ, "aid_completed", date(2026, 10, 1))
    assert status.rate is None and status.method == pace.NOT_CUMULATIVE
    assert passed.rate is None and passed.method == pace.PASSED
    assert "aid_completed" in pace.CUMULATIVE and "active_30d" not in pace.CUMULATIVE


def test_value_at_interpolates_and_stops_a_week_beyond_the_data():
    curve = [(date(2026, 1, 1), 0.0), (date(2026, 1, 11), 1.0)]
    assert pace.value_at(curve, date(2026, 1, 6)) == pytest.approx(0.5)
    assert pace.value_at(curve, date(2026, 1, 18)) == pytest.approx(1.0)
    assert pace.value_at(curve, date(2026, 1, 19)) is None
    assert pace.value_at(curve, date(2025, 12, 24)) is None
    assert pace.value_at([(date(2026, 1, 1), None), (date(2026, 1, 11), 1.0)],
                         date(2026, 1, 6)) is None


def test_the_three_calls_the_pages_draw(weekly):
    # goal 78% by Mar 2: projected 30% + (70% - 20%... by hand in the first test) = 78.1%
    settings = parse_settings({"goals": {"aid_completed": {
        "goal": "78%", "districts": {DISTRICT: "90%"}}}})
    with contextlib.closing(Warehouse(weekly)) as wh:
        one = pace.project(wh, REQ, "aid_completed", date(2027, 3, 2))
        end = pace.project(wh, REQ, "aid_completed", date(2027, 6, 30))
        card = pace.pace(wh, REQ, "aid_completed", settings)
        trend = pace.trend_projection(wh, REQ, "aid_completed", settings)
        board = pace.projected_by(wh, REQ, "aid_completed", "school", settings)
    assert card.card_text == f"Goal 78% by Mar 2 · projected {one.text} · on pace"
    assert trend.goal_rate == pytest.approx(0.78) and trend.deadline == date(2027, 3, 2)
    assert trend.line["date"].iloc[0] == date(2026, 11, 20)
    assert trend.line["date"].iloc[-1] == date(2027, 6, 30)
    assert trend.line["rate"].iloc[-1] == pytest.approx(end.rate)
    assert trend.method == pace.WEEKLY
    assert board.column == "Projected at Mar 2" and board.target == date(2027, 3, 2)
    row = board.frame.iloc[0]
    assert row["school"] == SCHOOL and row["projected"] == pytest.approx(one.rate)
    # the school's district has its own goal of 90%: the projected 78.1% falls short
    assert row["goal"] == pytest.approx(0.90) and row["on_pace"] is False
