"""Financial aid: FAFSA/CADAA filing, AB 469 opt-outs, and a Race to Submit leaderboard.

The first half of this module holds the panels the three topic pages share (financial aid,
college applications, a-g eligibility): headline cards, a measure by one breakdown, and the
two "this year against last year" charts. Each returns a ``Panel``: a figure and the exact
table the page shows and offers as CSV, both built from one suppressed frame of
``views.metric_view``, so a hidden cell is hidden in the chart, the table and the download
alike. The second half is the leaderboard of schools by senior-class-size tier.

Every function takes (warehouse, scope, ...) first so that ``ui.data.view`` can cache it per
scope; nothing here imports streamlit.
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
from ccgi_dash.privacy import format_count, format_rate, suppress
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse

# --- Shared by the topic pages ----------------------------------------------------------------

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
    table = pd.DataFrame({
        "School year": frame["year"].to_numpy(),
        "Date": [d.isoformat() for d in frame["date"]],
        m.title: [f"{int(n):,}" for n in frame["numerator"]],
        m.population_title: [f"{int(d):,}" for d in frame["denominator"]],
        "Rate": [f"{r * 100:.1f}%" for r in frame["rate"]],
    })
    fig = charts.year_over_year_chart(
        frame, _question(metric_id, " by each date, this year against last"))
    if marks:
        # the season's dates frame the curves even before they are reached, so the reader
        # sees how long until the deadline; a month of margin leaves room for the labels,
        # which sit left of their line
        first, last = min(d for d, _ in marks), max(d for d, _ in marks)
        lo = min(min(frame["date"]) - timedelta(days=3), first - timedelta(days=30))
        hi = max(max(frame["date"]), last) + timedelta(days=7)
        charts._marks(fig, marks, [lo, hi])
        fig.update_xaxes(range=[lo.isoformat(), hi.isoformat()])
    note = None
    if frame["year"].nunique() < 2:
        note = ("No drop from the same week last year is loaded, so only this year's curve "
                "is shown.")
    return Panel(name, table, fig, note)


def trends(wh: Warehouse, scope: Scope, metric_id: str, filters: Filters = Filters(),
           as_of: date | None = None, threshold: int = 11,
           marks: Sequence[tuple[date, str]] = ()) -> list[Panel]:
    """The weekly year-over-year panel, and the cumulative curves when the metric has a date
    behind it (a filing or submission date)."""
    makers = [weekly, cumulative] if METRICS[metric_id].date_column else [weekly]
    return parallel([partial(f, wh, scope, metric_id, filters, as_of, threshold, marks)
                     for f in makers])


# --- Financial aid ----------------------------------------------------------------------------

MEASURES: tuple[str, ...] = ("aid_submitted", "aid_completed", "fafsa_submitted",
                             "cadaa_submitted", "aid_opted_out", "aid_done_or_opted_out")
KEY = "aid_completed"
"""The page's key metric: completion is what Race to Submit ranks schools by."""

LATE_OPENINGS: dict[int, tuple[date, date]] = {
    2023: (date(2023, 12, 31), date(2024, 4, 2)),
    2024: (date(2024, 11, 21), date(2025, 4, 2)),
}
"""School years whose FAFSA opened late, and their extended Cal Grant deadline (domain.md)."""

TIERS: tuple[tuple[str, int, int | None], ...] = (
    ("Fewer than 100 seniors", 0, 100),
    ("100-299 seniors", 100, 300),
    ("300-499 seniors", 300, 500),
    ("500 or more seniors", 500, None),
)
"""Senior-class-size tiers, after Race to Submit's leaderboard levels (CSAC uses six statewide;
four suit one county's schools). Lower bound included, upper bound excluded."""


def marks(drop: date | None) -> list[tuple[date, str]]:
    """The financial aid calendar of the drop's school year: opening day and the Cal Grant
    deadline, with the late openings of 2023-24 and 2024-25."""
    if drop is None:
        return []
    y = metrics.school_year_of(drop)
    opens, deadline = LATE_OPENINGS.get(y, (date(y, 10, 1), date(y + 1, 3, 2)))
    return [(opens, f"FAFSA/CADAA open ({opens:%b} {opens.day})"),
            (deadline, f"Cal Grant deadline ({deadline:%b} {deadline.day})")]


def aid_trends(wh: Warehouse, scope: Scope, metric_id: str, filters: Filters = Filters(),
               as_of: date | None = None, threshold: int = 11) -> list[Panel]:
    """``trends`` with the financial aid calendar marked."""
    return trends(wh, scope, metric_id, filters, as_of, threshold, marks(wh.resolve(as_of)))


def tier_of(seniors: int) -> str:
    """The senior-class-size tier of a school with this many seniors."""
    for label, lo, hi in TIERS:
        if seniors >= lo and (hi is None or seniors < hi):
            return label
    return TIERS[0][0]


@dataclass(frozen=True)
class Leaderboard:
    """Schools ranked by FAFSA/CADAA completion within senior-class-size tiers.

    ``table`` holds every tier (what the all-tiers download writes); ``frame`` the suppressed
    school rows behind it, with their tier, for ``tier_panel`` to chart one tier.
    """

    table: pd.DataFrame
    frame: pd.DataFrame

    @property
    def tiers(self) -> list[str]:
        present = set(self.table["Tier"])
        return [label for label, _, _ in TIERS if label in present]


LEADERBOARD_COLUMNS = ("Tier", "Rank", "School", "District", "Seniors", "Submitted",
                       "Completed")


def leaderboard(wh: Warehouse, scope: Scope, filters: Filters = Filters(),
                as_of: date | None = None, threshold: int = 11) -> Leaderboard:
    """Race to Submit's leaderboard for the schools in scope and filters.

    Schools are suppressed exactly as in the school breakdown (``privacy.suppress`` by school,
    with complementary suppression, as ``views.metric_view`` does): a hidden school shows
    ``*``, gets no rank and goes to the bottom of its tier. Submitted and completed share
    their population (the school's seniors), so one suppression decides both columns. Ranks
    are competition ranks (ties share a rank) on the exact completion rate, highest first.
    """
    done, sub = parallel([
        partial(metrics.compute, wh, scope, "aid_completed", ("school",), filters, as_of),
        partial(metrics.compute, wh, scope, "aid_submitted", ("school",), filters, as_of)])
    if done.empty or int(done["denominator"].sum()) == 0:
        return Leaderboard(pd.DataFrame(columns=list(LEADERBOARD_COLUMNS)), pd.DataFrame())
    frame = views.label(suppress(done, ("school",), threshold), ("school",))
    sub = sub.set_index("school").reindex(frame["school"])
    hidden = frame["suppressed"].to_numpy()
    # same seniors by construction; were they ever not, hide the submitted cell, never show it
    sub_hidden = hidden | (sub["denominator"].to_numpy() != frame["denominator"].to_numpy())
    frame["rate_text"] = [format_rate(r, d, h) for r, d, h in
                          zip(frame["rate"], frame["denominator"], hidden, strict=True)]
    frame["count_text"] = [format_count(n, h) for n, h in
                           zip(frame["numerator"], hidden, strict=True)]
    frame["sub_text"] = [format_rate(r, d, h) for r, d, h in
                         zip(sub["rate"], frame["denominator"], sub_hidden, strict=True)]
    frame["tier"] = [tier_of(int(n)) for n in frame["denominator"]]
    order = {label: i for i, (label, _, _) in enumerate(TIERS)}
    rate = pd.to_numeric(frame["rate"], errors="coerce").where(~frame["suppressed"])
    frame["rank"] = rate.groupby(frame["tier"]).rank(method="min", ascending=False)
    frame = frame.assign(_o=frame["tier"].map(order), _r=rate).sort_values(
        ["_o", "_r", "school_label"], ascending=[True, False, True],
        na_position="last").drop(columns=["_o", "_r"]).reset_index(drop=True)
    names = district_names(wh, scope, as_of)
    table = pd.DataFrame({
        "Tier": frame["tier"].to_numpy(),
        "Rank": pd.array([None if pd.isna(r) else int(r) for r in frame["rank"]],
                         dtype="Int64"),
        "School": frame["school_label"].to_numpy(),
        "District": [names.get(c, c) for c in frame["school_district"]],
        "Seniors": [f"{int(d):,}" for d in frame["denominator"]],
        "Submitted": frame["sub_text"].to_numpy(),
        "Completed": frame["rate_text"].to_numpy(),
    })
    return Leaderboard(table, frame)


def tier_panel(board: Leaderboard, tier: str | None) -> Panel:
    """One tier of the leaderboard: its top schools as bars, all of them in the table.

    Built from the cached leaderboard on each run rather than cached itself: drawing the one
    tier on screen costs about what unpickling a cached figure would.
    """
    name = f"fafsa-cadaa-leaderboard-{tier or 'none'}"
    if board.frame.empty or tier not in board.tiers:
        return Panel(name, pd.DataFrame(columns=list(LEADERBOARD_COLUMNS[1:])), None,
                     "No schools with seniors match these filters.")
    mask = (board.frame["tier"] == tier).to_numpy()
    part = board.frame[mask]
    what = f"{tier[0].lower()}{tier[1:]}"
    fig = charts.rate_bars(part, "school", f"Which schools with {what} lead on completed "
                           "FAFSA/CADAA?", "FAFSA/CADAA completed", "Seniors",
                           max_rows=SCHOOL_CHART_ROWS)
    note = None
    if len(part) > SCHOOL_CHART_ROWS:
        note = (f"The chart shows the top {SCHOOL_CHART_ROWS} of {len(part)} schools in this "
                "tier; the table lists all.")
    return Panel(name, board.table[mask].drop(columns="Tier").reset_index(drop=True), fig, note)
