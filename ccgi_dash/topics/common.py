"""What the topic pages share: headline cards, a measure by one breakdown, and the two
"this year against last year" charts.

Each panel is a ``Panel``: a figure and the exact table the page shows and offers as CSV, both
built from one suppressed frame of ``views.metric_view``, so a hidden cell is hidden in the
chart, the table and the download alike. Every function takes (warehouse, scope, ...) first so
that ``ui.data.view`` can cache it per scope; nothing here imports streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ccgi_dash import charts, metrics, views
from ccgi_dash.datasets import DIMENSIONS, SUBGROUP_DIMENSIONS
from ccgi_dash.metrics import METRICS, Filters
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse

SCHOOL_CHART_ROWS = 40
"""A bar chart of more schools than this is unreadable; the table keeps every school."""

BREAKDOWNS: dict[str, str] = {"District": "district", "School": "school", "Student group": ""}
"""Breakdown widget label -> dimension id; "" means: ask which student group dimension."""

GROUPS: tuple[str, ...] = SUBGROUP_DIMENSIONS

PHRASES: dict[str, str] = {
    "aid_submitted": "What share of seniors have submitted a FAFSA or CADAA",
    "aid_completed": "What share of seniors have a completed FAFSA or CADAA",
    "fafsa_submitted": "What share of seniors have submitted a FAFSA",
    "cadaa_submitted": "What share of seniors have submitted a CADAA",
    "aid_opted_out": "What share of seniors have opted out of filing (AB 469)",
    "aid_done_or_opted_out": "What share of seniors have completed a FAFSA/CADAA or opted out",
    "uc_submitted": "What share of seniors have applied to a UC campus",
    "csu_submitted": "What share of seniors have applied to a CSU campus",
    "ccc_submitted": "What share of seniors have applied to a community college",
    "uc_and_csu_submitted": "What share of seniors have applied to both a UC and a CSU",
    "any_app_submitted": "What share of seniors have applied to a UC, CSU or community college",
    "uc_eligible_applied": "What share of UC-eligible seniors have applied to a UC",
    "csu_eligible_applied": "What share of CSU-eligible seniors have applied to a CSU",
    "uc_eligible": "What share of seniors have completed a-g for UC",
    "csu_eligible": "What share of seniors have completed a-g for CSU",
    "uc_on_track": "What share of students in grades 9-11 are on track for UC a-g",
    "csu_on_track": "What share of students in grades 9-11 are on track for CSU a-g",
}
"""The question each chart of a metric answers, as the start of a sentence."""

_BY_PHRASES = {
    "district": "district", "school": "school", "grade_level": "grade", "gender": "gender",
    "race_ethnicity": "race/ethnicity", "el_status": "English learner status",
    "sed": "socioeconomic disadvantage", "swd": "disability", "foster_youth": "foster youth",
    "homeless": "homelessness", "migrant": "migrant status",
}


STUDENTS_PAGE = "pages/students.py"
"""Where the named follow-up lists live, for the roles entitled to student rows."""
_ROOT = Path(__file__).resolve().parents[2]


def students_page_ready() -> bool:
    """Whether the Students page is installed, so a link to it cannot point at nothing."""
    return (_ROOT / STUDENTS_PAGE).is_file()


def metric_title(metric_id: str) -> str:
    """The name a person reads for a metric id (for widget labels)."""
    return METRICS[metric_id].title


def dimension_title(dim: str) -> str:
    """The name a person reads for a breakdown dimension id (for widget labels)."""
    return DIMENSIONS[dim].title


def default_breakdown(options: views.Options) -> str:
    """District for a county view; School when the user sees one district, where a district
    breakdown would be a single bar."""
    return "School" if len(options.districts) <= 1 else "District"


@dataclass(frozen=True)
class Panel:
    """One chart with the table behind it: what ``render.chart_and_table`` shows.

    ``table`` is exactly what the Table tab and the CSV download hold (display strings, with
    ``*`` and ``--`` where due). ``fig`` is None when there is nothing to draw; ``note`` then
    says why, in words.
    """

    name: str
    table: pd.DataFrame
    fig: go.Figure | None = None
    note: str | None = None


_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ccgi-topics")


def parallel(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run independent queries side by side and return their results in order.

    DuckDB releases the GIL while it scans, and each query opens its own cursor
    (``Warehouse.query``), so a page's cards or its two trend charts come back in about the
    time of the slowest query rather than the sum: what keeps a filter change fast on a
    county the size of Los Angeles. The pool is bounded: a call run here must not itself call
    ``parallel``.
    """
    futures = [_POOL.submit(c) for c in calls]
    return [f.result() for f in futures]


def _question(metric_id: str, tail: str) -> str:
    return f"{PHRASES.get(metric_id, METRICS[metric_id].question.rstrip('?'))}{tail}?"


CARD_TITLES: dict[str, str] = {
    "ccc_submitted": "Applied to a CCC",
    "uc_and_csu_submitted": "Applied to UC and CSU",
    "uc_eligible_applied": "UC-eligible who applied",
    "csu_eligible_applied": "CSU-eligible who applied",
}
"""Shorter card labels where the catalogue title would be cut off in a card four abreast; the
card's help and every chart and table keep the full title."""


def headlines(wh: Warehouse, scope: Scope, metric_ids: Sequence[str],
              filters: Filters = Filters(), as_of: date | None = None,
              threshold: int = 11) -> list[views.Headline]:
    """The headline cards of a page, in the order given: one cached call for all cards, their
    queries run in parallel."""
    cards = parallel([partial(views.headline, wh, scope, m, filters, as_of, threshold)
                      for m in metric_ids])
    return [replace(c, title=CARD_TITLES.get(c.metric_id, c.title)) for c in cards]


def population(wh: Warehouse, scope: Scope, metric_ids: Sequence[str],
               filters: Filters = Filters(), as_of: date | None = None) -> pd.DataFrame:
    """Who the page's metrics count, one row per distinct population (``denominator``): the
    page shows its "no students" state when all of them are empty."""
    seen: dict[str, int] = {}
    for m in metric_ids:
        pop = METRICS[m].population
        if pop not in seen:
            frame = metrics.compute(wh, scope, m, (), filters, as_of)
            seen[pop] = int(frame["denominator"].sum())
    return pd.DataFrame({"population": list(seen), "denominator": list(seen.values())})


def district_names(wh: Warehouse, scope: Scope, as_of: date | None) -> dict[str, str]:
    """District code -> name within the scope, to name the district of each school row."""
    return dict(views.options(wh, scope, as_of).districts)


def _sorted_for_display(frame: pd.DataFrame, dim: str) -> pd.DataFrame:
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


def breakdown(wh: Warehouse, scope: Scope, metric_id: str, dim: str,
              filters: Filters = Filters(), as_of: date | None = None,
              threshold: int = 11) -> Panel:
    """A metric by district, school, grade or one student-group dimension.

    Schools: the chart draws the ``SCHOOL_CHART_ROWS`` schools with the most students in the
    population (where most students are), the table lists all, each with its district.
    """
    m = METRICS[metric_id]
    name = f"{metric_id}-by-{dim}"
    frame, overall = parallel([
        partial(views.metric_view, wh, scope, metric_id, (dim,), filters, as_of, threshold),
        partial(views.metric_view, wh, scope, metric_id, (), filters, as_of, threshold)])
    if frame.empty or int(frame["denominator"].sum()) == 0:
        return Panel(name, pd.DataFrame(), None,
                     f"No {m.population_title.lower()} match these filters.")
    frame = _sorted_for_display(frame, dim)
    table = views.table_for(frame, (dim,), m.title, m.population_title)
    if dim == "school":
        names = district_names(wh, scope, as_of)
        table.insert(1, "District", [names.get(c, c) for c in frame["school_district"]])
    rate = overall["rate"].iloc[0] if len(overall) else None
    highlight = None if rate is None or pd.isna(rate) else float(rate)
    chart = frame
    note = None
    if dim == "school" and len(frame) > SCHOOL_CHART_ROWS:
        chart = frame.nlargest(SCHOOL_CHART_ROWS, "denominator", keep="first")
        note = (f"The chart shows the {SCHOOL_CHART_ROWS} schools with the most "
                f"{m.population_title.lower()}; the table lists all {len(frame)}.")
    if dim == "grade_level" and len(frame) == 1:
        note = (f"Only {m.population_title.lower()} count toward \u201c{m.title}\u201d, so there "
                "is one grade to show; an \u201cOn track\u201d measure compares grades 9-11.")
    fig = charts.rate_bars(chart, dim, _question(metric_id, f", by {_BY_PHRASES[dim]}"),
                           m.title, m.population_title, highlight=highlight,
                           sort=not DIMENSIONS[dim].labels and dim != "grade_level",
                           max_rows=None)
    if DIMENSIONS[dim].labels or dim == "grade_level":
        fig.update_yaxes(autorange="reversed")
    return Panel(name, table, fig, note)


def weekly(wh: Warehouse, scope: Scope, metric_id: str, filters: Filters = Filters(),
           as_of: date | None = None, threshold: int = 11,
           marks: Sequence[tuple[date, str]] = ()) -> Panel:
    """The metric at each weekly drop of this school year and last, on one calendar."""
    m = METRICS[metric_id]
    name = f"{metric_id}-weekly-this-year-and-last"
    frame = views.weekly_year_over_year(wh, scope, metric_id, filters, as_of, threshold)
    if frame.empty:
        return Panel(name, pd.DataFrame(), None, "No weekly drops to chart yet.")
    frame = frame.sort_values("drop_date")
    table = pd.DataFrame({
        "School year": frame["year_label"].to_numpy(),
        "Drop date": [d.isoformat() for d in frame["drop_date"]],
        m.title: frame["count_text"].to_numpy(),
        m.population_title: [f"{int(d):,}" for d in frame["denominator"]],
        "Rate": frame["rate_text"].to_numpy(),
    })
    fig = charts.weekly_year_over_year_chart(
        frame, _question(metric_id, " at each weekly drop, this year and last"), marks)
    note = None
    if frame["year_label"].nunique() < 2:
        note = ("No drop from last school year is loaded, so there is no earlier line to "
                "compare with.")
    return Panel(name, table, fig, note)


def cumulative(wh: Warehouse, scope: Scope, metric_id: str, filters: Filters = Filters(),
               as_of: date | None = None, threshold: int = 11,
               marks: Sequence[tuple[date, str]] = ()) -> Panel:
    """Cumulative curves by the date each student filed, this year against the same week last
    year (from the as-of drop and the drop 52 weeks before)."""
    m = METRICS[metric_id]
    name = f"{metric_id}-cumulative-this-year-and-last"
    frame = views.year_over_year(wh, scope, metric_id, filters, as_of, threshold)
    if frame.empty:
        return Panel(name, pd.DataFrame(), None,
                     f"No curve to draw: no {m.population_title.lower()} in this drop have a "
                     f"date for \u201c{m.title}\u201d yet, or there are fewer than {threshold} "
                     f"{m.population_title.lower()}.")
    table = year_over_year_table(frame, m.title, m.population_title)
    fig = charts.year_over_year_chart(
        frame, _question(metric_id, " by each date, this year against last"))
    if marks:
        # the season's dates frame the curves even before they are reached, so the reader
        # sees how long until the deadline; a month of margin leaves room for the labels,
        # which sit left of their line
        first, last = min(d for d, _ in marks), max(d for d, _ in marks)
        lo = min(min(frame["date"]) - timedelta(days=3), first - timedelta(days=30))
        hi = max(max(frame["date"]), last) + timedelta(days=7)
        charts.add_marks(fig, marks, [lo, hi])
        fig.update_xaxes(range=[lo.isoformat(), hi.isoformat()])
    return Panel(name, table, fig, last_year_note(frame))


def year_over_year_table(frame: pd.DataFrame, count: str, population: str) -> pd.DataFrame:
    """The table behind a this-year-against-last chart (:func:`views.year_over_year`)."""
    return pd.DataFrame({
        "School year": frame["year"].to_numpy(),
        "Date": [d.isoformat() for d in frame["date"]],
        count: [f"{int(n):,}" for n in frame["numerator"]],
        population: [f"{int(d):,}" for d in frame["denominator"]],
        "Rate": [f"{r * 100:.1f}%" for r in frame["rate"]],
    })


def last_year_note(frame: pd.DataFrame) -> str | None:
    """Why a this-year-against-last chart has one curve, when it has."""
    if frame["year"].nunique() < 2:
        return ("No drop from the same week last year is loaded, so only this year's curve "
                "is shown.")
    return None


def trends(wh: Warehouse, scope: Scope, metric_id: str, filters: Filters = Filters(),
           as_of: date | None = None, threshold: int = 11,
           marks: Sequence[tuple[date, str]] = ()) -> list[Panel]:
    """The weekly year-over-year panel, and the cumulative curves when the metric has a date
    behind it (a filing or submission date)."""
    makers = [weekly, cumulative] if METRICS[metric_id].date_column else [weekly]
    return parallel([partial(f, wh, scope, metric_id, filters, as_of, threshold, marks)
                     for f in makers])


