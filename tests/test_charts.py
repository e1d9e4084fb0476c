"""Charts that answer one question each (issue 11) and the goal and projection on trend charts
(issue 12): the figures' data checked against hand-made frames and the demo warehouse.

What a reader sees is checked in the figure's own data (trace values, axis range, shapes and
annotations, cell texts), since that is what plotly draws."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pandas as pd
import pytest

from ccgi_dash import charts, metrics
from ccgi_dash.goals import Goal
from ccgi_dash.metrics import Filters, Request
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse
from ccgi_dash.topics import panels

from conftest import FRESNO_UNIFIED, export_rows


def bars(rates: list[float | None], dim: str = "school") -> pd.DataFrame:
    """A suppressed-view-like frame: one row per group, None rate = hidden."""
    return pd.DataFrame({
        dim: [f"S{i:03d}" for i in range(len(rates))],
        f"{dim}_label": [f"School {i:03d}" for i in range(len(rates))],
        "rate": rates,
        "suppressed": [r is None for r in rates],
        "numerator": [None if r is None else round(r * 200) for r in rates],
        "denominator": [200] * len(rates),
        "rate_text": ["*" if r is None else f"{r * 100:.1f}%" for r in rates],
        "count_text": ["*" if r is None else str(round(r * 200)) for r in rates],
    })


def test_rate_axis_fits_the_data_and_starts_at_zero():
    fig = charts.rate_bars(bars([0.073, 0.114, 0.171]), "school", "Q?", "Filed", "Seniors",
                           highlight=0.12)
    lo, hi = fig.layout.xaxis.range
    assert lo == 0
    assert 17.1 < hi <= 25  # a little above the largest bar, not 0-100%
    # a reference line above every bar still fits
    fig = charts.rate_bars(bars([0.073, 0.114]), "school", "Q?", "Filed", "Seniors",
                           county=0.30)
    assert fig.layout.xaxis.range[1] > 30


def test_reference_lines_sit_behind_the_labels_and_are_labelled_above_the_plot():
    fig = charts.rate_bars(bars([0.073, 0.114, 0.171]), "school", "Q?", "Filed", "Seniors",
                           highlight=0.12, county=0.15)
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert [s.x0 for s in lines] == [pytest.approx(12.0), pytest.approx(15.0)]
    assert all(s.layer == "below" for s in lines)
    notes = {a.text: a for a in fig.layout.annotations}
    assert set(notes) == {"All students 12.0%", "County 15.0%"}
    # both labels above the plot area (paper y = 1, anchored at their bottom), one over the other
    assert all(a.yref == "paper" and a.y == 1 and a.yanchor == "bottom" for a in notes.values())
    assert notes["All students 12.0%"].yshift != notes["County 15.0%"].yshift
    # the value labels go inside a bar long enough to hold one (the line runs behind the
    # bars), after it when not: a zero or hidden bar keeps its label
    assert list(fig.data[0].textposition) == ["inside", "inside", "inside"]
    zero = charts.rate_bars(bars([0.0, None, 0.2]), "school", "Q?", "Filed", "Seniors")
    assert list(zero.data[0].textposition)[:2] == ["outside", "outside"]
    assert sorted(zero.data[0].text) == ["*", "0.0%", "20.0%"]
    assert lines[0].line.dash != lines[1].line.dash  # not told apart by colour alone


def test_a_long_list_is_its_top_and_bottom_ten():
    rates = [i / 100 for i in range(1, 81)]  # 80 schools, 1%..80%
    rates[5] = None  # one hidden
    frame = bars(rates)
    chart, note = panels.top_and_bottom(frame, "school_label", what="schools")
    shown = sorted((r, lab) for r, lab in zip(frame["rate"], frame["school_label"],
                                              strict=True) if pd.notna(r))
    top = [lab for _, lab in sorted(shown, reverse=True)[:10]]
    bottom = [lab for _, lab in sorted(shown, reverse=True)[-10:]]
    labels = list(chart["school_label"])
    assert labels[:10] == top
    assert labels[11:] == bottom
    assert labels[10].startswith(charts.SEPARATOR) and "60 more schools" in labels[10]
    assert "all of them" in note and "80" in note
    fig = charts.rate_bars(chart, "school", "Q?", "Filed", "Seniors", sort=False)
    assert len(fig.data[0].y) == 21
    # a short list is left whole
    same, none = panels.top_and_bottom(bars([0.1] * 22), "school_label")
    assert len(same) == 22 and none is None


def trend_frame(dates: list[date], groups: tuple[str, ...] = ("F", "M")) -> pd.DataFrame:
    rows = []
    for g in groups:
        for i, d in enumerate(dates):
            rate = 0.01 if d.month == 7 else 0.1 + i / 100
            rows.append({"drop_date": d, "gender": g, "gender_label": g, "rate": rate,
                         "suppressed": False, "denominator": 100, "count_text": "x",
                         "rate_text": f"{rate * 100:.1f}%"})
    return pd.DataFrame(rows)


def school_year(d: date) -> int:
    return d.year if d.month >= 7 else d.year - 1


def test_school_year_curves_break_at_july_first():
    dates = [date(2026, 6, 5) + timedelta(weeks=i) for i in range(8)]  # Jun 5 .. Jul 24
    fig = charts.trend_lines(trend_frame(dates), "Is the gap closing?", series="gender")
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert len(lines) == 4  # two groups x two school years
    for t in lines:
        assert len({school_year(pd.Timestamp(x).date()) for x in t.x}) == 1
    # one legend entry per group, each group one style
    assert sorted(t.name for t in lines if t.showlegend) == ["F", "M"]
    # the boundary is marked, and the axis fits the data
    assert any("starts" in a.text for a in fig.layout.annotations)
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] < 40


def test_series_styles_are_distinct_and_colour_blind_safe():
    styles = [charts.series_style(i) for i in range(16)]
    assert len({(s["color"], s["dash"]) for s in styles}) == 16
    assert len({s["color"] for s in styles[:8]}) == 8
    assert set(charts.OKABE_ITO) == {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
                                     "#D55E00", "#000000", "#F0E442"}
    # the light yellow is the last colour a series gets
    assert charts.OKABE_ITO[-1] == "#F0E442"


def test_heat_map_cells_read_as_text():
    frame = pd.DataFrame({
        "district_label": ["A", "A", "B"],
        "gender_label": ["Female", "Male", "Female"],
        "rate": [0.5, None, 0.25], "suppressed": [False, True, False],
        "rate_text": ["50.0%", "*", "25.0%"], "count_text": ["50", "*", "25"],
        "denominator": [100, 5, 100],
    })
    fig = charts.heatmap(frame, "district", "gender", "Where do groups lag? A long title")
    cells = fig.data[0].text
    assert [list(r) for r in cells] == [["50.0%", "*"], ["25.0%", "--"]]
    # B has no male students: empty ("--"), not coloured; the hidden cell is not coloured
    assert fig.data[0].z[1][1] is None and fig.data[0].z[0][1] is None
    # column names on their own lines above the cells, the title clear of them
    assert fig.layout.xaxis.side == "top" and fig.layout.xaxis.tickangle == 0
    assert fig.layout.margin.t >= 85
    # legends at the foot of the figure, never over the title
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0


def test_heat_map_grid_for_narrow_screens_holds_the_same_cells():
    """The grid a phone shows instead of the heat map: one row per district, one column per
    group, the rate, ``*`` where hidden and ``--`` where the group has no students."""
    from ccgi_dash.topics import equity

    frame = pd.DataFrame({
        "district_label": ["A", "A", "B"],
        "gender_label": ["Female", "Male", "Female"],
        "rate_text": ["50.0%", "*", "25.0%"],
    })
    grid = equity.heatmap_grid(frame, "district", "gender")
    assert list(grid.columns) == ["District", "Female", "Male"]
    assert grid.to_dict("records") == [
        {"District": "A", "Female": "50.0%", "Male": "*"},
        {"District": "B", "Female": "25.0%", "Male": "--"}]


def test_equity_heat_map_panel_carries_its_grid(wh):
    from ccgi_dash.topics import equity

    panel = equity.district_heatmap(wh, county_req(), "aid_submitted", "race_ethnicity")
    heat = panel.fig.data[0]
    assert list(panel.narrow.iloc[:, 0]) == list(heat.y)
    assert [list(r) for r in panel.narrow.iloc[:, 1:].to_numpy()] == [list(r) for r in heat.text]


def test_gap_labels_of_long_bars_sit_inside_them(wh):
    """Equity's gap chart: the longest bars hold their label inside (white), so a long bar
    below zero never prints its label over the group names on a phone."""
    from ccgi_dash.topics import equity

    bars = equity.gap(wh, county_req(), "aid_submitted", "race_ethnicity").fig.data[0]
    longest = max(range(len(bars.x)), key=lambda i: abs(bars.x[i]))
    assert bars.textposition[longest] == "inside"
    assert all(p == "outside" for x, p in zip(bars.x, bars.textposition, strict=True)
               if abs(x) < 0.3 * abs(bars.x[longest]))


def test_every_chart_is_titled_and_long_titles_wrap_for_phones():
    title = "What share of seniors have a completed FAFSA or CADAA at each weekly drop?"
    fig = charts.rate_bars(bars([0.1, 0.2]), "school", title, "Filed", "Seniors")
    assert fig.layout.meta["title"] == title  # the whole question, the accessible name
    lines = fig.layout.title.text.split("<br>")
    assert len(lines) >= 2 and all(len(x) <= charts.TITLE_LINE for x in lines)
    assert " ".join(lines) == title


@pytest.fixture
def wh(demo_data):
    with contextlib.closing(Warehouse(demo_data)) as w:
        yield w


def county_req() -> Request:
    return Request(Scope.county("demo", student_level=False), Filters(), None, 11)


def district_req() -> Request:
    return Request(Scope("district", districts=(FRESNO_UNIFIED,), dataset="demo"), Filters(),
                   None, 11)


def test_seniors_funnel_is_one_population_in_funnel_order(wh, demo_data):
    panel = panels.senior_funnel(wh, county_req())
    fig = panel.fig
    stages = list(fig.data[0].y)
    assert stages == ["Seniors", "Applied to college", "Filed FAFSA/CADAA",
                      "FAFSA/CADAA completed"]
    assert fig.layout.yaxis.autorange == "reversed"  # read top to bottom
    seniors = export_rows(demo_data, "--metric", "aid_submitted")[0]["denominator"]
    assert fig.data[0].x[0] == seniors
    for stage, metric_id, x, text in zip(stages[1:], ("any_app_submitted", "aid_submitted",
                                                      "aid_completed"), fig.data[0].x[1:],
                                         fig.data[0].text[1:], strict=True):
        row = export_rows(demo_data, "--metric", metric_id)[0]
        assert row["denominator"] == seniors, stage  # every stage of the same seniors
        assert x == row["numerator"]
        assert text.endswith(f"of {seniors:,} seniors")
    # the grade 6-12 roster is not on this axis
    assert all(x <= seniors for x in fig.data[0].x)
    assert "order" in panel.note.lower() or "senior year" in panel.note


def test_a_district_leader_sees_the_county_on_breakdown_and_trend(wh, demo_data):
    county = export_rows(demo_data, "--metric", "aid_completed")[0]
    rate = county["numerator"] / county["denominator"]
    panel = panels.breakdown(wh, district_req(), "aid_completed", "school")
    texts = [a.text for a in panel.fig.layout.annotations]
    assert f"County {rate * 100:.1f}%" in texts
    weekly = panels.weekly(wh, district_req(), "aid_completed")
    names = [t.name for t in weekly.fig.data]
    assert "County (this year)" in names
    last = next(t for t in weekly.fig.data if t.name == "County (this year)").y[-1]
    assert last == pytest.approx(rate * 100)
    # the coordinator's county view has no county line of itself
    own = panels.breakdown(wh, county_req(), "aid_completed", "district")
    assert not any(a.text.startswith("County") for a in own.fig.layout.annotations)


def test_goal_line_and_projection_when_a_goal_is_set(wh):
    drop = wh.resolve(None)
    deadline = date(metrics.school_year_of(drop) + 1, 3, 2)
    goal = Goal("aid_completed", 0.65, deadline, "Cal Grant deadline (Mar 2)")
    from ccgi_dash.topics import aid

    panel = panels.weekly(wh, county_req(), "aid_completed", tuple(aid.marks(drop)), goal)
    fig = panel.fig
    goal_notes = [a for a in fig.layout.annotations if a.text == "Goal 65% by Mar 2"]
    assert goal_notes
    hlines = [s for s in fig.layout.shapes if s.y0 == s.y1 == pytest.approx(65.0)]
    assert hlines
    proj = [t for t in fig.data if t.name.startswith("Projected")]
    assert len(proj) == 1 and proj[0].line.dash == "dot"
    xs = [pd.Timestamp(x).date() for x in proj[0].x]
    assert xs[0] == drop and xs[-1] == deadline  # from the latest drop to the deadline
    assert "last year" in panel.note  # the method beside the chart
    # the axis holds the goal
    assert fig.layout.yaxis.range[1] > 65
    # each of the season's dates drawn once
    texts = [a.text for a in fig.layout.annotations]
    assert len(texts) == len(set(texts))
    # no goal: no goal line
    plain = panels.weekly(wh, county_req(), "aid_completed").fig
    assert not any(a.text.startswith("Goal") for a in plain.layout.annotations)


def test_no_projection_where_last_year_has_no_data(wh):
    first = wh.drops[0]
    req = Request(Scope.county("demo", student_level=False), Filters(), first, 11)
    panel = panels.weekly(wh, req, "aid_completed")
    assert not any(t.name.startswith("Projected") for t in panel.fig.data)


def test_leaderboard_chart_shows_rank_district_seniors_last_year_and_change(wh):
    from ccgi_dash.settings import parse_settings
    from ccgi_dash.topics import aid

    board = aid.leaderboard(wh, county_req(), parse_settings({}))
    tier = board.tiers[-1]
    panel = aid.tier_panel(board, tier)
    bar, marker, labels = panel.fig.data
    part = board.frame[(board.frame["tier"] == tier).to_numpy()
                       & board.frame["rank"].notna().to_numpy()]
    best = part.iloc[0]
    top_label = bar.y[-1]  # the chart reads top-down: the last category is on top
    assert top_label.startswith(f"{int(best['rank'])}. ")
    assert best["district_name"] in top_label
    assert f"{int(best['denominator']):,} seniors" in top_label
    assert marker.name == "Same week last year" and marker.marker.symbol == "diamond"
    assert marker.x[-1] == pytest.approx(best["last_rate"] * 100)
    change = (best["rate"] - best["last_rate"]) * 100
    assert labels.text[-1].startswith(f"{best['rate_text']}<br>")
    assert labels.text[-1].endswith(f">{change:+.1f} pts</span>")
    # the labels stand in a column right of every bar and diamond
    drawn = [x for x in (*bar.x, *marker.x) if x is not None]
    assert min(labels.x) > max(drawn)


def test_equity_trend_has_the_county_line_for_a_district_leader(wh):
    from ccgi_dash.topics import equity

    mine = equity.group_trend(wh, district_req(), "aid_submitted", "gender").fig
    county = [t for t in mine.data if t.name == "County"]
    assert county and county[0].line.dash == "dashdot"
    theirs = equity.group_trend(wh, county_req(), "aid_submitted", "gender").fig
    assert not any(t.name == "County" for t in theirs.data)
    # no trace joins two school years
    for t in mine.data:
        assert len({school_year(pd.Timestamp(x).date()) for x in t.x}) == 1


def test_compare_chart_has_the_county_row_for_a_district_leader(wh, demo_data):
    ids = ("account_registered", "active_30d")
    panel = panels.compare(wh, district_req(), ids, "grade_level", "Q?")
    rows = list(panel.fig.data[0].y)
    assert rows[:2] == ["<b>All students</b>", f"<b>{panels.COUNTY}</b>"]
    county = export_rows(demo_data, "--metric", "account_registered")[0]
    assert panel.fig.data[0].x[1] == pytest.approx(
        county["numerator"] / county["denominator"] * 100)
    assert "County (all districts): Accounts registered" in panel.note
    assert panel.table.iloc[0, 0] == "All students"  # the table keeps the view's own rows
    own = panels.compare(wh, county_req(), ids, "grade_level", "Q?")
    assert f"<b>{panels.COUNTY}</b>" not in list(own.fig.data[0].y)


def test_a_group_hidden_at_every_drop_says_so_in_the_legend():
    frame = pd.DataFrame({
        "drop_date": [date(2026, 9, 1), date(2026, 9, 8)] * 2,
        "gender_label": ["Female", "Female", "Non-binary", "Non-binary"],
        "rate": [0.2, 0.25, None, None], "count_text": ["20", "25", "*", "*"],
        "denominator": [100, 100, 4, 4], "rate_text": ["20.0%", "25.0%", "*", "*"],
    })
    fig = charts.trend_lines(frame, "Is the gap closing?", series="gender")
    names = [t.name for t in fig.data if t.showlegend]
    assert names == ["Female", "Non-binary (hidden: *)"]
