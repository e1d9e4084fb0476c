"""College applications: UC, CSU and CCC submissions, where seniors apply, and the follow-up
of a-g eligible seniors who have not applied.

The follow-up is what a counselor acts on. Aggregate roles see it as counts and rates by
school (``uc_eligible_applied`` / ``csu_eligible_applied`` and their complement, suppressed
like every other school breakdown); the named list lives on the Students page, for the roles
entitled to it. Shared panels (cards, breakdowns, trends) come from ``topics.common``.
"""

from __future__ import annotations

from datetime import date
from functools import partial

import pandas as pd
import plotly.graph_objects as go

from ccgi_dash import charts, metrics, views
from ccgi_dash.metrics import RANKINGS, Filters
from ccgi_dash.privacy import format_count, format_rate, suppress
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse
from ccgi_dash.topics.common import (
    BREAKDOWNS,
    GROUPS,
    SCHOOL_CHART_ROWS,
    STUDENTS_PAGE,
    Panel,
    breakdown,
    default_breakdown,
    dimension_title,
    district_names,
    headlines,
    metric_title,
    parallel,
    population,
    students_page_ready,
    trends,
)

__all__ = ["BREAKDOWNS", "GROUPS", "KEY", "MEASURES", "RANKED", "STUDENTS_PAGE", "Panel",
           "app_trends", "breakdown", "default_breakdown", "dimension_title", "follow_up",
           "headlines", "marks", "metric_title", "population", "ranked", "students_page_ready"]
"""The shared panels are re-exported so the page reads ``apps.<name>`` throughout."""

MEASURES: tuple[str, ...] = ("any_app_submitted", "uc_submitted", "csu_submitted",
                             "ccc_submitted", "uc_and_csu_submitted", "uc_eligible_applied",
                             "csu_eligible_applied")
KEY = "any_app_submitted"

RANKED: dict[str, str] = {"UC campuses": "uc_campuses", "CSU campuses": "csu_campuses",
                          "Community colleges": "ccc_colleges"}
"""Ranked-list widget label -> ranking id of metrics.RANKINGS."""

RANKED_CHART_ROWS = 25

def marks(drop: date | None) -> list[tuple[date, str]]:
    """The application calendar of the drop's school year (domain.md)."""
    if drop is None:
        return []
    y = metrics.school_year_of(drop)
    return [(date(y, 10, 1), "UC and CSU open (Oct 1)"),
            (date(y, 11, 30), "UC deadline (Nov 30)")]


def app_trends(wh: Warehouse, scope: Scope, metric_id: str, filters: Filters = Filters(),
               as_of: date | None = None, threshold: int = 11) -> list[Panel]:
    """``aid.trends`` with the application calendar marked."""
    return trends(wh, scope, metric_id, filters, as_of, threshold, marks(wh.resolve(as_of)))


def ranked(wh: Warehouse, scope: Scope, ranking_id: str, filters: Filters = Filters(),
           as_of: date | None = None, threshold: int = 11) -> Panel:
    """The campuses or colleges seniors applied to, in distinct seniors, largest first.

    An entry with 1 to threshold-1 seniors shows ``*`` (access-and-privacy.md); the chart
    draws the top ``RANKED_CHART_ROWS``, the table lists all.
    """
    if ranking_id not in RANKINGS:
        raise metrics.MetricError(f"unknown ranked list {ranking_id!r}")
    name = f"{ranking_id}-applied-to"
    frame = metrics.ranking(wh, scope, ranking_id, filters, as_of, limit=None)
    item = "College" if ranking_id == "ccc_colleges" else "Campus"
    if frame.empty:
        return Panel(name, pd.DataFrame(columns=[item, "Seniors who applied",
                                                 "Share of seniors"]), None,
                     "No seniors in this selection have submitted an application here.")
    frame["share"] = [s / p if p else None for s, p in
                      zip(frame["students"], frame["population"], strict=True)]
    frame = suppress(frame, (), threshold, count_col="students")
    frame["students_text"] = [format_count(n, s) for n, s in
                              zip(frame["students"], frame["suppressed"], strict=True)]
    frame["share_text"] = [format_rate(v, p, s) for v, p, s in
                           zip(frame["share"], frame["population"], frame["suppressed"],
                               strict=True)]
    table = pd.DataFrame({
        item: frame["item"].astype(str).to_numpy(),
        "Seniors who applied": frame["students_text"].to_numpy(),
        "Share of seniors": frame["share_text"].to_numpy(),
    })
    note = None
    if len(frame) > RANKED_CHART_ROWS:
        note = (f"The chart shows the top {RANKED_CHART_ROWS} of {len(frame)}; the table lists "
                "all.")
    question = {"uc_campuses": "Which UC campuses do seniors apply to?",
                "csu_campuses": "Which CSU campuses do seniors apply to?",
                "ccc_colleges": "Which community colleges do seniors apply to?"}[ranking_id]
    if frame["suppressed"].all():
        return Panel(name, table, None, f"Every {item.lower()} here has 1 to {threshold - 1} "
                     "applicants in this selection, so the counts are hidden for privacy.")
    fig = charts.ranked_bars(frame.head(RANKED_CHART_ROWS), question,
                             count_label="Seniors who applied")
    return Panel(name, table, fig, note)


def _side(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """One metric's school view as follow-up columns: eligible, applied, not yet applied."""
    hidden = frame["suppressed"].astype(bool)
    num = pd.to_numeric(frame["numerator"], errors="coerce")
    missing = (frame["denominator"] - num).where(~hidden)
    return pd.DataFrame({
        "school": frame["school"].to_numpy(),
        f"{prefix}_den": frame["denominator"].to_numpy(),
        f"{prefix}_rate_text": frame["rate_text"].to_numpy(),
        f"{prefix}_missing": missing.to_numpy(),
        f"{prefix}_missing_text": [format_count(n, h) for n, h in
                                   zip(missing, hidden, strict=True)],
        f"{prefix}_name": frame["school_label"].to_numpy(),
        f"{prefix}_district": frame["school_district"].to_numpy(),
    })


def follow_up(wh: Warehouse, scope: Scope, filters: Filters = Filters(),
              as_of: date | None = None, threshold: int = 11) -> Panel:
    """a-g eligible seniors who have not applied, by school: for UC and for CSU, the eligible
    seniors, the share who applied, and how many have not (yet).

    Each side is the school view of ``uc_eligible_applied`` / ``csu_eligible_applied``,
    suppressed on its own population, so the table hides what those breakdowns hide.
    """
    name = "eligible-seniors-not-applied-by-school"
    uc, csu = parallel([
        partial(views.metric_view, wh, scope, m, ("school",), filters, as_of, threshold)
        for m in ("uc_eligible_applied", "csu_eligible_applied")])
    if uc.empty and csu.empty:
        return Panel(name, pd.DataFrame(), None,
                     "No a-g eligible seniors match these filters.")
    both = _side(uc, "uc").merge(_side(csu, "csu"), on="school", how="outer")
    both["school_name"] = both["uc_name"].fillna(both["csu_name"])
    both["district"] = both["uc_district"].fillna(both["csu_district"])
    for p in ("uc", "csu"):
        both[f"{p}_den"] = both[f"{p}_den"].fillna(0).astype(int)
        both[f"{p}_rate_text"] = both[f"{p}_rate_text"].fillna("--")
        both[f"{p}_missing_text"] = both[f"{p}_missing_text"].fillna("--")
        both[f"{p}_missing"] = pd.to_numeric(both[f"{p}_missing"], errors="coerce")
    both["_total"] = both["uc_missing"].fillna(0) + both["csu_missing"].fillna(0)
    both = both.sort_values(["_total", "school_name"], ascending=[False, True]).reset_index(
        drop=True)
    names = district_names(wh, scope, as_of)
    table = pd.DataFrame({
        "School": both["school_name"].to_numpy(),
        "District": [names.get(c, c) for c in both["district"]],
        "UC-eligible seniors": [f"{int(n):,}" for n in both["uc_den"]],
        "Applied to UC": both["uc_rate_text"].to_numpy(),
        "Not yet applied to UC": both["uc_missing_text"].to_numpy(),
        "CSU-eligible seniors": [f"{int(n):,}" for n in both["csu_den"]],
        "Applied to a CSU": both["csu_rate_text"].to_numpy(),
        "Not yet applied to a CSU": both["csu_missing_text"].to_numpy(),
    })
    shown = both[both["_total"] > 0]
    chart = shown.head(SCHOOL_CHART_ROWS)
    note = None
    if len(chart) < len(both):
        note = (f"The chart shows the {len(chart)} schools with the most eligible seniors still "
                "to apply, leaving out schools whose counts are hidden; the table lists all "
                f"{len(both)}.")
    if chart.empty:
        return Panel(name, table, None, "No school has a count to draw: every count of eligible "
                     "seniors who have not applied is zero or hidden for privacy. The table "
                     "lists each school.")
    return Panel(name, table, _follow_up_chart(chart), note)


def _follow_up_chart(frame: pd.DataFrame) -> go.Figure:
    """Grouped bars per school: eligible seniors not yet applied to UC, and to a CSU."""
    f = frame.iloc[::-1]
    labels = [charts.escape(x) for x in f["school_name"]]
    fig = go.Figure()
    # CSU first: horizontal grouped bars stack the first trace at the bottom of each school
    for i, (p, what) in ((1, ("csu", "a CSU")), (0, ("uc", "UC"))):
        pop = f"{'UC' if p == 'uc' else 'CSU'}-eligible seniors"
        fig.add_trace(go.Bar(
            name=f"Not yet applied to {what}", orientation="h", y=labels,
            x=[0 if pd.isna(v) else int(v) for v in f[f"{p}_missing"]],
            text=list(f[f"{p}_missing_text"]), textposition="outside", cliponaxis=False,
            marker_color=charts.OKABE_ITO[i],
            hovertext=[f"<b>{lab}</b><br>{pop}: {int(d):,}<br>Applied to {what}: {r}"
                       f"<br>Not yet applied: {m}"
                       for lab, d, r, m in zip(labels, f[f"{p}_den"], f[f"{p}_rate_text"],
                                               f[f"{p}_missing_text"], strict=True)],
            hoverinfo="text",
        ))
    fig.update_layout(barmode="group", legend_traceorder="reversed")
    fig.update_yaxes(type="category", automargin=True)
    fig.update_xaxes(title="Eligible seniors who have not applied", gridcolor="#eee",
                     separatethousands=True)
    return charts.layout(fig, "Where are the a-g eligible seniors who have not applied yet?",
                          height=max(300, 40 * len(f) + 120))
