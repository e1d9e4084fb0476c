"""The panels topic pages share: headline cards, a measure by one breakdown, the "this year
against last year" charts, several measures side by side, and ranked lists.

Each panel is a ``Panel``: a figure and the exact table the page shows and offers as CSV, both
built from one suppressed frame of ``views.metric_view``, so a hidden cell is hidden in the
chart, the table and the download alike. Every function takes ``(warehouse, request, ...)``
so that ``ui.data.view`` caches it per request (which holds the scope); nothing here imports
streamlit. Topic modules import from here and never from each other; every word about a
metric comes from the catalogue (``metrics.METRICS``) and about a dimension from
``datasets.DIMENSIONS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ccgi_dash import charts, metrics, pace, views
from ccgi_dash.datasets import DIMENSIONS
from ccgi_dash.goals import Goal
from ccgi_dash.metrics import RANKINGS, Request
from ccgi_dash.privacy import format_count, format_rate, format_size, suppress
from ccgi_dash.store import Warehouse

TOP_BOTTOM = 10
"""A long list (schools, districts) is charted as its top and bottom this many; the table
keeps every row."""
LONG_LIST = 2 * TOP_BOTTOM + 2
"""Lists longer than this are cut to the top and bottom ``TOP_BOTTOM``."""

ALL_STUDENTS = "All students"

ALL_HIDDEN = ("Nothing to chart: every group here is hidden to protect privacy (it has fewer "
              "than {n} students, or hides one that has). The table lists the groups.")
"""The note of a panel whose every group is suppressed: no chart of nothing but stars."""


@dataclass(frozen=True)
class Panel:
    """One chart with the table behind it: what ``ui.render.chart_and_table`` shows.

    ``table`` is exactly what the Table tab and the CSV download hold (display strings, with
    ``*`` and ``--`` where due). ``fig`` is None when there is nothing to draw; ``note`` then
    says why, in words.
    """

    name: str
    table: pd.DataFrame
    fig: go.Figure | None = None
    note: str | None = None
    narrow: pd.DataFrame | None = None
    """What the Chart tab shows instead of ``fig`` on a narrow screen, where the figure
    cannot be read (a heat map of 21 districts by 8 groups at 400 px): the same cells as a
    grid, scrolled inside itself, never the page."""


_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ccgi-topics")


def _day(d: date) -> str:
    """A drop's date as the page header writes it: "Dec 4, 2026" (no leading zero)."""
    return f"{d:%b} {d.day}, {d.year}"


def parallel(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run independent queries side by side and return their results in order.

    DuckDB releases the GIL while it scans, and each query opens its own cursor
    (``Warehouse.query``), so a page's cards or its two trend charts come back in about the
    time of the slowest query rather than the sum. The pool is bounded: a call run here must
    not itself call ``parallel``.
    """
    futures = [_POOL.submit(c) for c in calls]
    return [f.result() for f in futures]


def question(metric_id: str, tail: str) -> str:
    """The question a chart of a metric answers: the catalogue's phrase, then ``tail``."""
    return f"{metrics.metric(metric_id).phrase}{tail}?"


def size_title(metric_id: str) -> str:
    """The column holding a group's size: "Students", or the narrower population."""
    m = metrics.metric(metric_id)
    return "Students" if m.population == "all" else m.population_title


def headlines(wh: Warehouse, req: Request, metric_ids: Sequence[str]) -> list[views.Headline]:
    """The headline cards of a page, in the order given: one cached call for all cards, their
    queries run in parallel."""
    return parallel([partial(views.headline, wh, req, m) for m in metric_ids])


def population(wh: Warehouse, req: Request, metric_ids: Sequence[str]) -> pd.DataFrame:
    """Who the page's metrics count, one row per distinct population (``denominator``): the
    page shows its "no students" state when all of them are empty."""
    seen: dict[str, int] = {}
    for m in metric_ids:
        pop = metrics.metric(m).population
        if pop not in seen:
            frame = metrics.compute(wh, req.scope, m, (), req.filters, req.as_of)
            seen[pop] = int(frame["denominator"].sum())
    return pd.DataFrame({"population": list(seen), "denominator": list(seen.values())})


def district_names(wh: Warehouse, req: Request) -> dict[str, str]:
    """District code -> name within the scope, to name the district of each school row."""
    return dict(views.options(wh, req.scope, req.as_of).districts)


def display_order(frame: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Student groups in their natural order (as CDE lists them); districts and schools by
    rate, highest first, with hidden and empty groups last, as the chart reads top-down."""
    if dim in DIMENSIONS and DIMENSIONS[dim].labels:
        order = {code: i for i, code in enumerate(DIMENSIONS[dim].labels)}
        return frame.sort_values(dim, key=lambda s: s.map(lambda v: order.get(str(v), 99)),
                                 kind="stable")
    if dim == "grade_level":
        return frame.sort_values("grade_level", kind="stable")
    rate = pd.to_numeric(frame["rate"], errors="coerce")
    return frame.assign(_r=rate).sort_values(["_r", f"{dim}_label"], ascending=[False, True],
                                             na_position="last").drop(columns="_r")


def county_rate(wh: Warehouse, req: Request, metric_id: str) -> float | None:
    """The county's rate of a metric as a reference for a narrower view (None: no reference,
    the view is the county, or the county's cell is hidden)."""
    creq = views.county_request(req)
    if creq is None:
        return None
    row = views.metric_view(wh, creq, metric_id, ())
    if row.empty or bool(row["suppressed"].iloc[0]):
        return None
    rate = row["rate"].iloc[0]
    return None if rate is None or pd.isna(rate) else float(rate)


def top_and_bottom(frame: pd.DataFrame, label_col: str, n: int = TOP_BOTTOM,
                   what: str = "rows") -> tuple[pd.DataFrame, str | None]:
    """A long list cut to its ``n`` highest and ``n`` lowest shown rates, highest first,
    with a gap row between them that says how many are left out (``charts.SEPARATOR``);
    hidden rows are left out of the chart. Returns the rows and the note for under the
    chart (None when nothing was cut)."""
    rate = pd.to_numeric(frame["rate"], errors="coerce")
    shown = frame.assign(_r=rate)[rate.notna().to_numpy()]
    if len(shown) <= 2 * n + 2:
        return frame, None
    ordered = shown.sort_values(["_r", label_col], ascending=[False, True])
    top, bottom = ordered.head(n), ordered.tail(n)
    left_out = len(frame) - 2 * n
    gap = dict.fromkeys(frame.columns)
    gap.update({label_col: f"{charts.SEPARATOR} {left_out:,} more {what} in the Table tab",
                "rate_text": "", "count_text": "", "suppressed": False, "denominator": None})
    rows = pd.concat([top.drop(columns="_r"), pd.DataFrame([gap]), bottom.drop(columns="_r")],
                     ignore_index=True)
    note = (f"The chart shows the {n} {what} with the highest and the {n} with the lowest "
            f"rates of {len(frame):,}; the Table tab lists all of them, including any hidden "
            "for privacy.")
    return rows, note


def all_hidden(frame: pd.DataFrame) -> bool:
    return bool(len(frame)) and bool(frame["suppressed"].astype(bool).all())


def breakdown(wh: Warehouse, req: Request, metric_id: str, dim: str) -> Panel:
    """A metric by district, school, grade or one student-group dimension.

    A long list (schools, districts) is charted as its top and bottom ``TOP_BOTTOM`` rates
    (``top_and_bottom``), the table lists all, a school with its district. The all-students
    rate, and the county's for a narrower view, are reference lines.
    """
    m = metrics.metric(metric_id)
    name = f"{metric_id}-by-{dim}"
    frame, overall = parallel([partial(views.metric_view, wh, req, metric_id, (dim,)),
                               partial(views.metric_view, wh, req, metric_id, ())])
    if views.population_size(frame) == 0:
        return Panel(name, pd.DataFrame(), None, f"No {m.noun} match these filters.")
    frame = display_order(frame, dim)
    table = views.table_for(frame, (dim,), metric_id)
    if dim == "school":
        names = district_names(wh, req)
        table.insert(1, "District", [names.get(c, c) for c in frame["school_district"]])
    rate = overall["rate"].iloc[0] if len(overall) else None
    highlight = None if rate is None or pd.isna(rate) or bool(overall["suppressed"].iloc[0]) \
        else float(rate)
    chart = frame
    note = None
    ordered_dim = bool(DIMENSIONS[dim].labels) or dim == "grade_level"
    if not ordered_dim:
        what = "schools" if dim == "school" else f"{DIMENSIONS[dim].by}s"
        chart, note = top_and_bottom(frame, f"{dim}_label", what=what)
    if dim == "grade_level" and len(frame) == 1:
        note = (f"Only {m.noun} count toward \u201c{m.title}\u201d, so there is one grade to "
                "show; an \u201cOn track\u201d measure compares grades 9-11.")
    if all_hidden(frame):
        return Panel(name, table, None, ALL_HIDDEN.format(n=req.threshold))
    county = county_rate(wh, req, metric_id)
    creq = views.county_request(req)
    if county is None and creq is not None:
        withheld = views.county_withheld_note(views.suppressed(wh, creq, metric_id))
        note = " ".join(x for x in (note, withheld) if x) or None
    fig = charts.rate_bars(chart, dim, question(metric_id, f", by {DIMENSIONS[dim].by}"),
                           m.title, m.population_title, highlight=highlight, county=county,
                           sort=False, max_rows=None, subtitle=_of_whom(overall, m))
    fig.update_yaxes(autorange="reversed")
    return Panel(name, table, fig, note)


def _of_whom(overall: pd.DataFrame, m: metrics.Metric) -> str | None:
    """A chart's subtitle: the population its rates are of ("of 4,612 seniors")."""
    if overall is None or overall.empty:
        return None
    den = overall["denominator"].iloc[0]
    if den is None or pd.isna(den):
        return None
    return f"Rates of {format_size(den)} {m.noun}"


def projection_through(drop: date | None, goal: Goal | None,
                       marks: Sequence[tuple[date, str]]) -> date | None:
    """Where a trend's dotted projection ends: the goal's deadline, else the season's last
    date still ahead (the Cal Grant deadline), else the end of the school year."""
    if drop is None:
        return None
    if goal is not None and goal.deadline > drop:
        return goal.deadline
    ahead = [d for d, _ in marks if d > drop]
    return max(ahead) if ahead else pace.school_year_end(drop)


def weekly(wh: Warehouse, req: Request, metric_id: str,
           marks: Sequence[tuple[date, str]] = (), goal: Goal | None = None) -> Panel:
    """The metric at each weekly drop of this school year and last, on one calendar.

    With it, where they apply: the goal as a labelled line, the projection (``pace``) as a
    dotted continuation of this year's line to the deadline, with its method in the note,
    and the county's line for a view narrower than the county."""
    m = metrics.metric(metric_id)
    name = f"{metric_id}-weekly-this-year-and-last"
    frame = views.weekly_year_over_year(wh, req, metric_id)
    if frame.empty:
        return Panel(name, pd.DataFrame(), None, "No weekly drops to chart yet.")
    frame = frame.sort_values("drop_date")
    table = pd.DataFrame({
        "School year": frame["year_label"].to_numpy(),
        "Drop date": [d.isoformat() for d in frame["drop_date"]],
        m.title: frame["count_text"].to_numpy(),
        m.population_title: frame["size_text"].to_numpy(),
        "Rate": frame["rate_text"].to_numpy(),
    })
    drop = wh.resolve(req.as_of)
    this_year = frame["year_label"].iloc[-1]
    county = None
    creq = views.county_request(req)
    if creq is not None:
        cframe = views.weekly_year_over_year(wh, creq, metric_id)
        if len(cframe):
            county = cframe[(cframe["year_label"] == this_year).to_numpy()
                            & ~cframe["suppressed"].astype(bool).to_numpy()]
    notes = []
    if creq is not None and views.county_withheld_note(cframe):
        notes.append(views.county_withheld_note(cframe))
    projection = None
    through = projection_through(drop, goal, marks)
    if metric_id in pace.CUMULATIVE and through is not None:
        projection = pace.projection_line(wh, req, metric_id, through)
        notes.append(pace.WEEKLY if len(projection) else pace.NO_DATA)
    goal_line = None
    if goal is not None:
        goal_line = (goal.rate, f"Goal {goal.text}")
    fig = charts.weekly_year_over_year_chart(
        frame, question(metric_id, " at each weekly drop, this year and last"), marks,
        goal=goal_line, projection=projection, county=county,
        subtitle=_weekly_subtitle(frame, m))
    if projection is not None and len(projection):
        lo = min(frame["plot_date"])
        fig.update_xaxes(range=[(lo - timedelta(days=5)).isoformat(),
                                (max(projection["date"]) + timedelta(days=10)).isoformat()])
    if frame["year_label"].nunique() < 2:
        notes.append("No drop from last school year is loaded, so there is no earlier line "
                     "to compare with.")
    return Panel(name, table, fig, " ".join(notes) or None)


def _weekly_subtitle(frame: pd.DataFrame, m: metrics.Metric) -> str | None:
    last = frame.iloc[-1]
    den = last["denominator"]
    if den is None or pd.isna(den):
        return None
    return (f"Rates of {format_size(den)} {m.noun} at the drop of "
            f"{_day(last['drop_date'])}")


def trends(wh: Warehouse, req: Request, metric_id: str,
           marks: Sequence[tuple[date, str]] = (), goal: Goal | None = None) -> list[Panel]:
    """The trend of a measure: one chart, its weekly values this year against last (with
    goal, projection and county where they apply). The curve by filing date
    (``cumulative``) asks the same question and is no longer drawn beside it."""
    return [weekly(wh, req, metric_id, tuple(marks), goal)]


def _unique_school_labels(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Two schools of one name in two districts would share a bar: name the district."""
    if not names:
        return frame
    dup = frame["school_label"].duplicated(keep=False)
    if not dup.any():
        return frame
    out = frame.copy()
    out.loc[dup, "school_label"] = [f"{s} ({names.get(d, d)})" for s, d in
                                    zip(out.loc[dup, "school_label"],
                                        out.loc[dup, "school_district"], strict=True)]
    return out


COUNTY = "County (all districts)"


def _bold_total(label: object) -> str:
    if label in (ALL_STUDENTS, COUNTY):
        return f"<b>{label}</b>"
    return charts.escape(label)


def compare(wh: Warehouse, req: Request, metric_ids: Sequence[str], dim: str,
            title: str) -> Panel:
    """Several metrics of one population side by side per group (registered and active...).

    The metrics must share a population, so each group has one size and one suppression
    pattern. Chart and table start with all students, since one reference line cannot serve
    several metrics.
    """
    ms = [metrics.metric(m) for m in metric_ids]
    if len({m.population for m in ms}) != 1:
        raise ValueError("compare needs metrics of one population")
    name = f"{'-'.join(metric_ids)}-by-{dim}"
    calls = [partial(views.metric_view, wh, req, m.id, by) for m in ms for by in ((dim,), ())]
    if dim == "school":
        calls.append(partial(district_names, wh, req))
    results = parallel(calls)
    views_by, totals = results[0:2 * len(ms):2], results[1:2 * len(ms):2]
    first = views_by[0]
    if views.population_size(first) == 0:
        return Panel(name, pd.DataFrame(), None, f"No {ms[0].noun} match these filters.")
    if any(not v[dim].equals(first[dim]) for v in views_by):
        raise ValueError("metrics of one population must give the same groups")
    order = display_order(first, dim).index
    names = results[-1] if dim == "school" else {}
    label = f"{dim}_label"
    parts = [pd.concat([t.assign(**{label: ALL_STUDENTS}),
                        _unique_school_labels(v.loc[order], names)], ignore_index=True)
             for v, t in zip(views_by, totals, strict=True)]
    table = pd.DataFrame({DIMENSIONS[dim].title: parts[0][label].to_numpy()})
    if names:
        table["District"] = ["", *(names.get(c, c) for c in parts[0]["school_district"][1:])]
    table[size_title(ms[0].id)] = parts[0]["size_text"].to_numpy()
    for m, part in zip(ms, parts, strict=True):
        table[m.title] = part["count_text"].to_numpy()
        table[f"{m.title} (rate)"] = part["rate_text"].to_numpy()
    if all_hidden(first):
        return Panel(name, table, None, ALL_HIDDEN.format(n=req.threshold))
    rows = list(range(len(parts[0])))
    note = None
    if len(order) > LONG_LIST:
        # rows after the first ("All students") are in display order, highest rate of the
        # first measure first: keep its top and bottom TOP_BOTTOM shown rates
        rates = pd.to_numeric(parts[0]["rate"].iloc[1:], errors="coerce")
        shown = [i for i, r in zip(rows[1:], rates, strict=True) if not pd.isna(r)]
        if len(shown) > 2 * TOP_BOTTOM:
            shown = [*shown[:TOP_BOTTOM], *shown[-TOP_BOTTOM:]]
        rows = [0, *shown]
        what = "schools" if dim == "school" else f"{DIMENSIONS[dim].by}s"
        note = (f"The chart shows the {TOP_BOTTOM} {what} with the highest and the "
                f"{TOP_BOTTOM} with the lowest rates of \u201c{ms[0].title}\u201d, of "
                f"{len(order):,}; the Table tab lists all of them.")
    county: list[pd.DataFrame] = []
    creq = views.county_request(req)
    if creq is not None:
        # a district's view: the county's row right under its own "All students", in the
        # chart, and its rates in words under it (the table keeps the view's own rows)
        county = [views.metric_view(wh, creq, m.id, ()).assign(**{label: COUNTY})
                  for m in ms]
        said = ", ".join(f"{m.title} {c['rate_text'].iloc[0]}"
                         for m, c in zip(ms, county, strict=True))
        note = " ".join(x for x in (f"County (all districts): {said}.", note) if x)
        rows = [rows[0], -1, *rows[1:]]
    fig = go.Figure()
    values: list[float] = []
    for i, (m, part) in enumerate(zip(ms, parts, strict=True)):
        if county:
            part = pd.concat([part, county[i]], ignore_index=True)
            p = part.iloc[[len(part) - 1 if r == -1 else r for r in rows]]
        else:
            p = part.iloc[rows]
        fig.add_trace(go.Bar(
            name=charts.escape(m.title), orientation="h",
            y=[_bold_total(x) for x in p[label]],
            x=[0 if r is None or pd.isna(r) else r * 100 for r in p["rate"]],
            text=list(p["rate_text"]), textposition="outside", cliponaxis=False,
            marker_color=charts.OKABE_ITO[i % len(charts.OKABE_ITO)],
            marker_pattern_shape=("", "/", ".", "x")[i % 4],
            hovertext=charts.hover_text(p, label, m.title, size_title(m.id)),
            hoverinfo="text"))
        values.extend(r * 100 for r in p["rate"] if r is not None and not pd.isna(r))
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(title="Percent", range=[0, charts.fitted_top(values, pad=0.2)],
                     ticksuffix="%", gridcolor="#eee")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    height = max(300, len(rows) * (12 * len(ms) + 14) + 130)
    fig = charts.layout(fig, f"{title} By {DIMENSIONS[dim].by}", height=height)
    return Panel(name, table, fig, note)


SENIOR_FUNNEL: tuple[tuple[str, str], ...] = (
    ("Applied to college", "any_app_submitted"),
    ("Filed FAFSA/CADAA", "aid_submitted"),
    ("FAFSA/CADAA completed", "aid_completed"),
)
"""The seniors' funnel after the roster: the order a senior goes through the year (applications
open Oct 1 and UC closes Nov 30; aid is filed from Oct 1 to the Cal Grant deadline, then
processed to "completed"). a-g eligibility is a status of the courses taken, not a step of
the year, so it is on its own page, not in the funnel."""

FUNNEL_CAPTION = (
    "In the order of the senior year: college applications (UC, CSU or a community "
    "college; Oct 1 to Nov 30 for UC), then "
    "financial aid filed (FAFSA or CADAA, by the Cal Grant deadline) and completed. Every rate "
    "is of all seniors in this view; a senior may file aid without having applied, so a stage "
    "is not always inside the one above it. a-g eligibility is a status, not a step: see the "
    "a-g eligibility page.")


def senior_funnel(wh: Warehouse, req: Request) -> Panel:
    """The seniors' funnel: seniors, then each stage of ``SENIOR_FUNNEL``, every rate of the
    same seniors (one population on one axis), each from its metric's suppressed view."""
    name = "overview-seniors-funnel"
    cols = ["Stage", "Seniors", "Rate (of all seniors)"]
    views_ = parallel([partial(views.metric_view, wh, req, m, ()) for _, m in SENIOR_FUNNEL])
    first = views_[0]
    seniors = views.population_size(first)
    if seniors == 0:
        return Panel(name, pd.DataFrame(columns=cols), None, "No seniors match these filters.")
    hide_all = 0 < seniors < req.threshold
    rows = [("Seniors", None if hide_all else seniors, seniors, None if hide_all else 1.0,
             hide_all)]
    for (stage, _), v in zip(SENIOR_FUNNEL, views_, strict=True):
        r = v.iloc[0]
        sup = bool(r["suppressed"])
        rows.append((stage, None if sup else r["numerator"], int(r["denominator"]),
                     None if sup else r["rate"], sup))
    frame = pd.DataFrame(rows, columns=["stage", "students", "population", "rate",
                                        "suppressed"])
    frame["students_text"] = [format_count(n, h) for n, h in
                              zip(frame["students"], frame["suppressed"], strict=True)]
    frame["rate_text"] = [format_rate(r, d, h) for r, d, h in
                          zip(frame["rate"], frame["population"], frame["suppressed"],
                              strict=True)]
    frame["noun"] = "seniors"
    table = pd.DataFrame({cols[0]: frame["stage"].to_numpy(),
                          cols[1]: frame["students_text"].to_numpy(),
                          cols[2]: frame["rate_text"].to_numpy()})
    if hide_all:
        return Panel(name, table, None, ALL_HIDDEN.format(n=req.threshold))
    drop = wh.resolve(req.as_of)
    fig = charts.funnel_chart(
        frame, "How far along are the seniors?",
        subtitle=f"Of {format_size(seniors)} seniors"
                 + (f", drop of {_day(drop)}" if drop else ""))
    return Panel(name, table, fig, FUNNEL_CAPTION)


def _weekly_short(wh: Warehouse, req: Request, metric_id: str) -> Panel:
    """``weekly``, titled with the catalogue's phrase above the time frame (half a page)."""
    panel = weekly(wh, req, metric_id)
    if panel.fig is not None:
        charts.layout(panel.fig, f"{metrics.metric(metric_id).phrase}?",
                      subtitle="At each weekly drop, this year and last")
    return panel


def trend_calls(wh: Warehouse, req: Request,
                metric_ids: Sequence[str]) -> list[Callable[[], Panel]]:
    """For each metric its weekly panel: one chart per measure (the curve since July 1,
    ``since_july``, asked the same question again).

    Returned as calls, not run, so a caller can put them into one ``parallel`` batch with its
    own queries: ``parallel`` must never be nested.
    """
    return [partial(_weekly_short, wh, req, m) for m in metric_ids]


def this_year_and_last(wh: Warehouse, req: Request, metric_ids: Sequence[str]) -> list[Panel]:
    """The section "this year against last year" of a page: ``trend_calls`` run side by
    side, in one cached call."""
    return parallel(trend_calls(wh, req, metric_ids))


TOP = 15
"""Entries a ranked chart shows; the table holds the whole list."""

ITEM_TITLES = {"favorite_colleges": "College", "favorite_careers": "Career",
               "favorite_majors": "Major", "assessments": "Assessment",
               "uc_campuses": "Campus", "csu_campuses": "Campus", "ccc_colleges": "College"}
COUNT_TITLES = {"uc_campuses": "Seniors who applied", "csu_campuses": "Seniors who applied",
                "ccc_colleges": "Seniors who applied"}
"""The count column of a ranked list, where "Students"/"Seniors" would not say what counts."""
EXTRA_TITLES = {"onet_code": "O*NET-SOC code", "cip_code": "CIP code"}
QUESTIONS = {
    "favorite_colleges": "Which colleges do students favorite most?",
    "favorite_careers": "Which careers do students favorite most?",
    "favorite_majors": "Which majors do students favorite most?",
    "assessments": "Which career assessments do students complete?",
    "uc_campuses": "Which UC campuses do seniors apply to?",
    "csu_campuses": "Which CSU campuses do seniors apply to?",
    "ccc_colleges": "Which community colleges do seniors apply to?",
}
SEGMENT_NAMES = {"UC": "University of California (UC)",
                 "CSU": "California State University (CSU)",
                 "CCC": "California Community Colleges (CCC)",
                 "Private CA": "Private colleges in California", "Out of State": "Out of state"}
"""The drop contract's segment codes, as a reader names them."""


def ranked_view(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Add share, suppression and display strings to ``item``/``students``/``population``:
    an entry of 1 to threshold-1 students is hidden, and the whole list when the students
    behind it are that few."""
    population = int(frame["population"].iloc[0]) if len(frame) else 0
    frame = frame.assign(share=[s / population if population else None
                                for s in frame["students"]])
    frame = suppress(frame, [], threshold, count_col="students")
    if 0 < population < threshold:
        frame = frame.assign(suppressed=True, students=None, share=None)
    frame["students_text"] = [format_count(n, s) for n, s in
                              zip(frame["students"], frame["suppressed"], strict=True)]
    frame["share_text"] = [format_rate(r, population, s) for r, s in
                           zip(frame["share"], frame["suppressed"], strict=True)]
    return frame


def ranked(wh: Warehouse, req: Request, ranking_id: str, top: int = TOP) -> Panel:
    """A ranked list (favorites, assessments, campuses): the chart shows the ``top``
    entries, the table every one.

    Entries hidden by suppression follow the shown ones in alphabetical order, without a
    rank: their order by count would tell more about them than ``*`` does.
    """
    r = RANKINGS.get(ranking_id)
    if r is None:
        raise metrics.MetricError(f"unknown ranked list {ranking_id!r}")
    noun = metrics.POPULATIONS[r.population].noun
    name = f"{ranking_id}-ranked"
    frame = ranked_view(metrics.ranking(wh, req.scope, ranking_id, req.filters, req.as_of,
                                        limit=None), req.threshold)
    item = ITEM_TITLES.get(ranking_id, "Item")
    who = COUNT_TITLES.get(ranking_id, noun[0].upper() + noun[1:])
    if frame.empty:
        return Panel(name, pd.DataFrame(columns=["Rank", item, who, f"Share of {noun}"]), None,
                     f"No {noun[:-1] if noun.endswith('s') else noun} in this selection has "
                     "one yet.")
    frame = pd.concat([frame[~frame["suppressed"]],
                       frame[frame["suppressed"]].sort_values("item", kind="stable")],
                      ignore_index=True)
    shown = int((~frame["suppressed"]).sum())
    table = pd.DataFrame({"Rank": pd.array([*range(1, shown + 1), *[None] * (len(frame) - shown)],
                                           dtype="Int64"),
                          item: frame["item"].astype(str).to_numpy()})
    if r.extra == "segment":
        table["Segment"] = [SEGMENT_NAMES.get(x, x) for x in frame["extra"]]
    elif r.extra:
        table[EXTRA_TITLES.get(r.extra, r.extra)] = frame["extra"].to_numpy()
    table[who] = frame["students_text"].to_numpy()
    table[f"Share of {noun}"] = frame["share_text"].to_numpy()
    if shown == 0:
        return Panel(name, table, None, ALL_HIDDEN.format(n=req.threshold))
    # whose shares these are, as every rate on the page says ("of 4,600 seniors")
    population = int(frame["population"].iloc[0])
    note = (f"Shares are of the {population:,} {noun} in this selection, each counted once "
            f"per {item.lower()}.")
    if len(frame) > top:
        note = f"The chart shows the top {top} of {len(frame):,}; the table lists all. {note}"
    fig = charts.ranked_bars(frame.head(top), QUESTIONS.get(ranking_id, r.title),
                             item_label="item", count_label=who)
    return Panel(name, table, fig, note)
