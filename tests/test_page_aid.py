"""The Financial aid page in AppTest on the demo warehouse: cards, breakdowns, trends and the
Race to Submit leaderboard, checked against what ``python -m ccgi_dash export`` reports."""

import html

import pytest

from ccgi_dash import metrics
from ccgi_dash.store import Warehouse
from ccgi_dash.ui.filters import KEYS

from conftest import (
    FRESNO_UNIFIED,
    card,
    demo_app,
    export_rows,
    pct,
    reveal,
    table_values,
    table_with,
)

PAGE = "app_pages/financial_aid.py"





@pytest.mark.parametrize("persona", ["coe", f"district:{FRESNO_UNIFIED}"])
def test_renders_for_each_persona(app_env, persona):
    at = demo_app(persona, PAGE)
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert labels == ["FAFSA/CADAA submitted", "FAFSA/CADAA completed", "FAFSA submitted",
                      "CADAA submitted", "Opted out (AB 469)", "AB 469 compliance"]
    weekly = table_with(at, "Drop date", "FAFSA/CADAA completed")
    assert set(weekly["School year"]) == {"2025-26", "2026-27"}
    # one year-over-year chart of the measure (the weekly one), not two
    assert table_with(at, "Date", "FAFSA/CADAA completed") is None
    # a district leader sees one district: the breakdown starts at its schools
    first = "District" if persona == "coe" else "School"
    assert at.segmented_control(key="aid_by").value == first
    assert table_with(at, first, "Rate").columns[0] == first
    if persona != "coe":
        assert set(table_with(at, "School", "Rate")["District"]) == {"Fresno Unified"}
    # the named list of seniors who have not filed: only for roles entitled to it
    assert bool(list(at.main.get("page_link"))) == (persona != "coe")


def test_district_filter_changes_numbers_as_export_reports(app_env, demo_data):
    at = demo_app("coe", PAGE)
    before = card(at, "FAFSA/CADAA completed")
    at.session_state[KEYS["district"]] = [FRESNO_UNIFIED]
    at.segmented_control(key="aid_by").set_value("School")
    at.run()
    assert not at.exception
    where = ("--where", f"district={FRESNO_UNIFIED}")
    county = export_rows(demo_data, "--metric", "aid_completed", *where)[0]
    assert card(at, "FAFSA/CADAA completed") == pct(county) != before
    opted = export_rows(demo_data, "--metric", "aid_opted_out", *where)[0]
    assert card(at, "Opted out (AB 469)") == pct(opted)
    shown = table_with(at, "School", "Rate").set_index("School")
    rows = export_rows(demo_data, "--metric", "aid_completed", "--by", "school", *where)
    assert len(shown) == len(rows)
    for row in rows:
        assert shown.loc[row["school_name"], "Rate"] == pct(row)
        assert shown.loc[row["school_name"], "Seniors"] == f"{row['denominator']:,}"


def test_small_groups_show_a_star_as_the_export_suppresses(app_env, demo_data):
    at = demo_app("coe", PAGE)
    at.session_state[KEYS["foster_youth"]] = ["Y"]
    at.run()
    assert not at.exception
    shown = table_with(at, "District", "Rate").set_index("District")
    rows = export_rows(demo_data, "--metric", "aid_completed", "--by", "district",
                       "--where", "foster_youth=Y")
    hidden = [r for r in rows if r["suppressed"]]
    assert hidden and "*" in set(shown["Rate"])
    for row in rows:
        assert shown.loc[row["district_name"], "Rate"] == pct(row)
    # the same cells are hidden in the leaderboard
    board = table_with(at, "Rank")
    assert (board["Completed"] == "*").all() and (board["Rank"] == "").all()
    assert table_values(at, "Rank")["Rank"].isna().all()


def test_leaderboard_ranks_only_unsuppressed_schools_in_order(app_env, demo_data):
    at = reveal(demo_app("coe", PAGE))  # the leaderboard is a folded detail
    tier = at.segmented_control(key="aid_tier")
    assert tier.value == "Fewer than 100 seniors"
    board = table_with(at, "Rank")
    ranks = table_values(at, "Rank")["Rank"]
    ranked = board[ranks.notna()].assign(Rank=ranks[ranks.notna()].astype(int))
    hidden = board[ranks.isna()]
    assert len(ranked) and len(hidden)
    assert (hidden["Completed"] == "*").all() and (ranked["Completed"] != "*").all()
    assert list(board.index[:len(ranked)]) == list(ranked.index)  # hidden schools last
    assert ranked["Rank"].is_monotonic_increasing and ranked["Rank"].iloc[0] == 1
    rates = ranked["Completed"].str.rstrip("%").astype(float)
    assert rates.is_monotonic_decreasing
    rows = export_rows(demo_data, "--metric", "aid_completed", "--by", "school")
    small = {r["school_name"]: r for r in rows if r["denominator"] < 100}
    assert set(board["School"]) == set(small)
    assert set(hidden["School"]) == {n for n, r in small.items() if r["suppressed"]}
    for school, completed in zip(ranked["School"], ranked["Completed"], strict=True):
        assert completed == pct(small[school])


def test_leaderboard_has_last_year_and_the_change_as_export_reports(app_env, demo_data):
    """Race to Submit and more: each school's rate at the same week last year and the change
    in points, equal to ``export`` at this drop and at last year's drop (each suppressed in
    its own drop), and the projection's column titled with its date."""
    wh = Warehouse(demo_data)
    drop = wh.drops[-1]
    before = metrics.same_week_last_year(wh.drops, drop)
    assert before is not None
    at = reveal(demo_app("coe", PAGE))
    at.segmented_control(key="aid_tier").set_value("100-299 seniors").run()
    assert not at.exception
    board = table_with(at, "Rank", "Last year, same week", "Change (points)")
    assert board is not None
    assert [c for c in board.columns if c.startswith("Projected at ")]
    assert any(f"{before:%b %d, %Y}" in c.value for c in at.caption)
    now = {r["school_name"]: r for r in export_rows(
        demo_data, "--metric", "aid_completed", "--by", "school", "--as-of", str(drop))}
    then = {r["school_name"]: r for r in export_rows(
        demo_data, "--metric", "aid_completed", "--by", "school", "--as-of", str(before))}
    compared = 0
    for _, line in board.iterrows():
        row, old = now[line["School"]], then.get(line["School"])
        assert line["Completed"] == pct(row)
        assert line["Last year, same week"] == ("--" if old is None or not old["denominator"]
                                                else pct(old))
        if row["suppressed"] or (old is not None and old["suppressed"]):
            assert line["Change (points)"] == "*"
        elif old is not None and old["denominator"]:
            change = (row["numerator"] / row["denominator"]
                      - old["numerator"] / old["denominator"]) * 100
            assert line["Change (points)"] == f"{change:+.1f}"
            compared += 1
    assert compared >= 5
    # the numbers underneath sort as numbers: the change column is a float column
    values = table_values(at, "Rank", "Change (points)")
    assert values["Change (points)"].dtype.kind == "f"


def test_measure_and_breakdown_widgets_switch_the_view(app_env):
    at = demo_app("coe", PAGE)
    at.selectbox(key="aid_measure").set_value("aid_opted_out")
    at.segmented_control(key="aid_by").set_value("Student group").run()
    assert not at.exception
    at.selectbox(key="aid_group").set_value("race_ethnicity").run()
    assert not at.exception
    shown = table_with(at, "Race/ethnicity")
    assert list(shown.columns) == ["Race/ethnicity", "Opted out (AB 469)", "Seniors", "Rate"]
    assert "Hispanic or Latino" in set(shown["Race/ethnicity"])
    # FAFSA alone has no filing date: the weekly chart only, no cumulative curve
    assert table_with(at, "Drop date", "Opted out (AB 469)") is not None
    assert table_with(at, "Date") is None


def test_empty_states_are_said_in_words(app_env, demo_data):
    at = demo_app("coe", PAGE)
    at.session_state[KEYS["grade_level"]] = [9]
    at.run()
    assert not at.exception and not at.metric
    assert any("No seniors match these filters" in i.value for i in at.info)
    # the first drop has no same week last year, and no FAFSA/CADAA filed yet (July)
    at.session_state[KEYS["grade_level"]] = []
    at.session_state[KEYS["as_of"]] = Warehouse(demo_data).drops[0]
    at.run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "No drop from last school year is loaded" in captions
    assert "No projection: last year has no data" in captions
    assert "No drop from last year to compare with" in captions


def _figures(at) -> list[dict]:
    """The plotly figures the page drew, as the JSON the browser receives."""
    import json

    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_trend_chart_shows_the_goal_and_the_projection(demo_data, tmp_path, monkeypatch):
    """A goal in the data directory's settings.toml: the weekly trend chart draws it as a
    labelled line and this year's dotted projection up to its deadline."""
    import shutil

    demo = tmp_path / "demo"
    shutil.copytree(demo_data.root, demo)
    (demo / "settings.toml").write_text(
        '[goals.aid_completed]\ngoal = "65%"\ndeadline = "cal_grant"\n', encoding="utf-8")
    monkeypatch.setenv("CCGI_DEMO_DIR", str(demo))
    monkeypatch.setenv("CCGI_DATA_DIR", str(tmp_path / "live"))
    monkeypatch.delenv("CCGI_USERS_FILE", raising=False)
    monkeypatch.delenv("CCGI_COOKIE_KEY", raising=False)
    at = demo_app("coe", PAGE)
    assert not at.exception, at.exception
    trend = next(f for f in _figures(at)
                 if "weekly drop" in f["layout"].get("meta", {}).get("title", ""))
    notes = [a["text"] for a in trend["layout"].get("annotations", [])]
    assert "Goal 65% by Mar 2" in notes
    goal_lines = [s for s in trend["layout"]["shapes"]
                  if s.get("y0") == s.get("y1") == pytest.approx(65.0)]
    assert goal_lines
    projected = [t for t in trend["data"] if t.get("name", "").startswith("Projected")]
    assert len(projected) == 1 and projected[0]["line"]["dash"] == "dot"
    assert projected[0]["x"][-1].startswith("2027-03-02")
    # the breakdown's axis fits its bars (0 to a little above the largest), not 0-100%
    bars = next(f for f in _figures(at) if "by district" in f["layout"]["meta"]["title"])
    lo, hi = bars["layout"]["xaxis"]["range"]
    top = max(x for x in bars["data"][0]["x"] if x is not None)
    assert lo == 0 and top < hi < max(top * 1.5, top + 10) and hi < 100


def test_leaderboard_chart_and_table_read_one_last_year(demo_data):
    """One definition of last year's rate: in every tier, each charted school's diamond (last
    year at the same week) and its change label equal ``export`` at last year's drop, and
    the table's "Last year, same week" and "Change (points)" cells of that school say the
    same numbers."""
    from ccgi_dash.metrics import Filters, Request
    from ccgi_dash.scope import Scope
    from ccgi_dash.settings import parse_settings
    from ccgi_dash.topics import aid

    wh = Warehouse(demo_data)
    drop = wh.drops[-1]
    before = metrics.same_week_last_year(wh.drops, drop)
    assert before is not None
    then = {r["school_name"]: r for r in export_rows(
        demo_data, "--metric", "aid_completed", "--by", "school", "--as-of", str(before))}
    now = {r["school_name"]: r for r in export_rows(
        demo_data, "--metric", "aid_completed", "--by", "school", "--as-of", str(drop))}
    board = aid.leaderboard(wh, Request(Scope.county("demo", student_level=False), Filters(),
                                        drop, 11), parse_settings({}))
    checked = 0
    for tier in board.tiers:
        panel = aid.tier_panel(board, tier)
        if panel.fig is None:
            continue
        bar, marker, labels = panel.fig.data
        rows = panel.table.set_index("School")
        for label, last_x, text in zip(bar.y, marker.x, labels.text, strict=True):
            if label.startswith("\u22ef"):  # the gap between top and bottom
                continue
            school = html.unescape(label.split(". ", 1)[1].split("<br>")[0])
            old, row = then.get(school), now[school]
            if old is None or old["suppressed"] or not old["denominator"]:
                assert last_x is None
                assert not text.endswith("pts</span>")
                continue
            old_rate = old["numerator"] / old["denominator"]
            assert last_x == pytest.approx(old_rate * 100)
            change = (row["numerator"] / row["denominator"] - old_rate) * 100
            assert text.endswith(f">{change:+.1f} pts</span>"), text
            assert rows.loc[school, "Last year, same week"] == pct(old)
            assert rows.loc[school, "Change (points)"] == f"{change:+.1f}"
            checked += 1
    assert checked >= 5
