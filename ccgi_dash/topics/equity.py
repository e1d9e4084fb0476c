"""Equity: any metric across any student group, and two panels the other topic pages reuse.

A COE coordinator asks "which groups lag, where, and is the gap closing?". ``panels`` answers
with the gap of each group to all students, a district x group heat map and the trend by group,
for any metric of the catalogue and any subgroup dimension.

The shared panels of ``topics.common`` (breakdown, weekly, headlines, population) cover one
metric of seniors. The pages on all students (favorites, accounts, assessments) also need
``compare``: several metrics of one population side by side per group, and ``since_july``:
the cumulative curve of a metric whose dates reach back years (an account opened in grade 7),
cut to this school year so the chart does not start in 2019.

Every function takes ``(wh, scope, ...)`` first, so pages call it through ``ui.data.view`` and
the result is cached per scope. Charts and tables come from one suppressed frame of
``views.metric_view``, so a hidden cell is hidden in the chart, the table and the CSV alike.
Nothing here imports streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import partial

import pandas as pd
import plotly.graph_objects as go

from ccgi_dash import charts, views
from ccgi_dash.datasets import DIMENSIONS
from ccgi_dash.metrics import METRICS, Filters, Metric
from ccgi_dash.privacy import SUPPRESSED
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse
from ccgi_dash.topics.common import (
    SCHOOL_CHART_ROWS,
    Panel,
    district_names,
    last_year_note,
    parallel,
    weekly,
    year_over_year_table,
)

BREAKDOWNS: dict[str, str] = {"Grade": "grade_level", "School": "school",
                              "District": "district", "Student group": ""}
"""Breakdown widget label -> dimension id; "" means: ask which student group dimension."""


def breakdown_choices(options: views.Options) -> list[str]:
    """The breakdown labels worth offering: no "District" for a user who sees one district,
    where it would be a single bar."""
    return [b for b in BREAKDOWNS if b != "District" or len(options.districts) > 1]


METRIC_IDS: tuple[str, ...] = tuple(METRICS)
DEFAULT_METRIC = "aid_submitted"
"""Equity opens on FAFSA/CADAA submission, the gap COEs are asked about most."""

ALL_STUDENTS = "All students"

PHRASES: dict[str, str] = {
    "account_registered": "What share of students have an account",
    "active_30d": "What share of students logged in within 30 days",
    "favorite_college": "What share of students have favorited a college",
    "favorite_career": "What share of students have favorited a career",
    "favorite_major": "What share of students have favorited a major",
    "career_assessment": "What share of students have taken a career assessment",
}
"""The question a trend of each all-students metric answers, as the start of a sentence,
short enough for a chart in half the page."""

_BY: dict[str, str] = {
    "grade_level": "grade", "school": "school", "district": "district", "gender": "gender",
    "race_ethnicity": "race/ethnicity", "el_status": "English learner status",
    "sed": "socioeconomic disadvantage", "swd": "disability", "foster_youth": "foster youth",
    "homeless": "homelessness", "migrant": "migrant status",
}
"""How a dimension reads after "by" in a chart title."""


def group_size_label(metric: Metric) -> str:
    """The column holding a group's size: "Students", or the narrower population."""
    return "Students" if metric.population == "all" else metric.population_title


def population_noun(metric_id: str) -> str:
    """What the empty state says is missing: "students", "seniors", "UC-eligible seniors"."""
    metric = METRICS[metric_id]
    if metric.population == "all":
        return "students"
    title = metric.population_title
    return title[0].lower() + title[1:] if title[1:2].islower() else title


def _phrase(metric: Metric) -> str:
    return PHRASES.get(metric.id, metric.question.rstrip("?"))


def _display_order(frame: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Grades and student groups in their own order; districts and schools by rate, highest
    first, with hidden and empty groups last (charts read top-down)."""
    if DIMENSIONS[dim].labels:
        order = {code: i for i, code in enumerate(DIMENSIONS[dim].labels)}
        return frame.sort_values(dim, key=lambda s: s.map(lambda v: order.get(str(v), 99)),
                                 kind="stable")
    if dim == "grade_level":
        return frame.sort_values(dim, kind="stable")
    rate = pd.to_numeric(frame["rate"], errors="coerce")
    return frame.assign(_r=rate).sort_values(["_r", f"{dim}_label"], ascending=[False, True],
                                             na_position="last").drop(columns="_r")


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


ALL_HIDDEN = ("Nothing to chart: every group here is hidden to protect privacy (it has fewer "
              "than {n} students, or hides one that has). The table lists the groups.")
"""The note of a panel whose every group is suppressed: no chart of nothing but stars."""


def _all_hidden(frame: pd.DataFrame) -> bool:
    return bool(len(frame)) and bool(frame["suppressed"].astype(bool).all())


def _bold_total(label: object) -> str:
    return f"<b>{ALL_STUDENTS}</b>" if label == ALL_STUDENTS else charts.escape(label)


def compare(wh: Warehouse, scope: Scope, metric_ids: Sequence[str], dim: str, title: str,
            filters: Filters = Filters(), as_of: date | None = None,
            threshold: int = 11) -> Panel:
    """Several metrics of one population side by side per group (registered and active...).

    The metrics must share a population, so each group has one size and one suppression
    pattern (suppression looks at group sizes only). Chart and table start with all
    students, since one reference line cannot serve several metrics.
    """
    ms = [METRICS[m] for m in metric_ids]
    if len({m.population for m in ms}) != 1:
        raise ValueError("compare needs metrics of one population")
    name = f"{'-'.join(metric_ids)}-by-{dim}"
    calls = [partial(views.metric_view, wh, scope, m.id, by, filters, as_of, threshold)
             for m in ms for by in ((dim,), ())]
    if dim == "school":
        calls.append(partial(district_names, wh, scope, as_of))
    results = parallel(calls)
    views_by, totals = results[0:2 * len(ms):2], results[1:2 * len(ms):2]
    first = views_by[0]
    if first.empty or int(first["denominator"].sum()) == 0:
        return Panel(name, pd.DataFrame(), None,
                     f"No {population_noun(ms[0].id)} match these filters.")
    if any(not v[dim].equals(first[dim]) for v in views_by):
        raise ValueError("metrics of one population must give the same groups")
    order = _display_order(first, dim).index
    names = results[-1] if dim == "school" else {}
    label = f"{dim}_label"
    parts = [pd.concat([t.assign(**{label: ALL_STUDENTS}),
                        _unique_school_labels(v.loc[order], names)], ignore_index=True)
             for v, t in zip(views_by, totals, strict=True)]
    table = pd.DataFrame({DIMENSIONS[dim].title: parts[0][label].to_numpy()})
    if names:
        table["District"] = ["", *(names.get(c, c) for c in parts[0]["school_district"][1:])]
    table[group_size_label(ms[0])] = [f"{int(d):,}" for d in parts[0]["denominator"]]
    for m, part in zip(ms, parts, strict=True):
        table[m.title] = part["count_text"].to_numpy()
        table[f"{m.title} (rate)"] = part["rate_text"].to_numpy()
    if _all_hidden(first):
        return Panel(name, table, None, ALL_HIDDEN.format(n=threshold))
    rows = list(range(len(parts[0])))
    note = None
    if len(order) > SCHOOL_CHART_ROWS:
        keep = set(parts[0]["denominator"].iloc[1:].nlargest(SCHOOL_CHART_ROWS, keep="first")
                   .index)
        rows = [0, *(i for i in rows[1:] if i in keep)]
        note = (f"The chart shows the {SCHOOL_CHART_ROWS} {_BY.get(dim, dim)}s with the most "
                f"students; the table lists all {len(order):,}.")
    fig = go.Figure()
    for i, (m, part) in enumerate(zip(ms, parts, strict=True)):
        p = part.iloc[rows]
        fig.add_trace(go.Bar(
            name=charts.escape(m.title), orientation="h",
            y=[_bold_total(x) for x in p[label]],
            x=[0 if r is None or pd.isna(r) else r * 100 for r in p["rate"]],
            text=list(p["rate_text"]), textposition="outside", cliponaxis=False,
            marker_color=charts.OKABE_ITO[i % len(charts.OKABE_ITO)],
            hovertext=charts.hover_text(p, label, m.title, group_size_label(m)), hoverinfo="text"))
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(title="Percent", range=[0, 110], ticksuffix="%", gridcolor="#eee")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    height = max(300, len(rows) * (12 * len(ms) + 14) + 130)
    fig = charts.layout(fig, f"{title} By {_BY.get(dim, dim)}", height=height)
    return Panel(name, table, fig, note)


def since_july(wh: Warehouse, scope: Scope, metric_id: str, filters: Filters = Filters(),
               as_of: date | None = None, threshold: int = 11) -> Panel:
    """The cumulative rate by the date students got there, this school year against last.

    Accounts and assessments carry dates from earlier years, so both curves start on July 1
    of their school year at the level already reached (not at zero).
    """
    metric = METRICS[metric_id]
    name = f"{metric_id}-since-july-this-year-and-last"
    drop = wh.resolve(as_of)
    frame = views.year_over_year(wh, scope, metric_id, filters, as_of, threshold)
    if drop is not None and len(frame):
        start = views.school_year_start(drop)
        frame = frame[[d >= start for d in frame["date"]]].reset_index(drop=True)
    if frame.empty or drop is None:
        return Panel(name, pd.DataFrame(), None,
                     f"No curve to draw: no {population_noun(metric_id)} have a date for "
                     f"\u201c{metric.title}\u201d this school year, or there are fewer than "
                     f"{threshold}.")
    table = year_over_year_table(frame, metric.title, group_size_label(metric))
    fig = _two_line_title(charts.year_over_year_chart(frame, f"{_phrase(metric)}?"),
                          "By each date since July 1, this year against last")
    return Panel(name, table, fig, last_year_note(frame))


def trend_calls(wh: Warehouse, scope: Scope, metric_ids: Sequence[str],
                filters: Filters = Filters(), as_of: date | None = None,
                threshold: int = 11) -> list[Callable[[], Panel]]:
    """For each metric: its weekly panel, then its curve since July 1 when it has a date.

    Returned as calls, not run, so a caller can put them into one ``parallel`` batch with its
    own queries: ``parallel`` must never be nested (a worker waiting on the shared pool can
    wait forever when every worker does the same).
    """
    calls: list[Callable[[], Panel]] = []
    for m in metric_ids:
        calls.append(partial(_weekly, wh, scope, m, filters, as_of, threshold))
        if METRICS[m].date_column:
            calls.append(partial(since_july, wh, scope, m, filters, as_of, threshold))
    return calls


def _weekly(wh: Warehouse, scope: Scope, metric_id: str, filters: Filters,
            as_of: date | None, threshold: int) -> Panel:
    """``aid.weekly``, titled with the question of an all-students metric."""
    panel = weekly(wh, scope, metric_id, filters, as_of, threshold)
    if panel.fig is not None:
        panel.fig.update_layout(title_text=f"{_phrase(METRICS[metric_id])}?")
        _two_line_title(panel.fig, "At each weekly drop, this year and last")
    return panel


def _two_line_title(fig: go.Figure, subtitle: str) -> go.Figure:
    """The question above, the time frame below: one long line is cut off in half a page."""
    fig.update_layout(title_subtitle_text=subtitle, margin_t=84,
                      legend={"x": 1, "xanchor": "right"})
    return fig


def this_year_and_last(wh: Warehouse, scope: Scope, metric_ids: Sequence[str],
                       filters: Filters = Filters(), as_of: date | None = None,
                       threshold: int = 11) -> list[Panel]:
    """The section "this year against last year" of a page: ``trend_calls`` run side by
    side, in one cached call."""
    return parallel(trend_calls(wh, scope, metric_ids, filters, as_of, threshold))


def gap(wh: Warehouse, scope: Scope, metric_id: str, dim: str, filters: Filters = Filters(),
        as_of: date | None = None, threshold: int = 11) -> Panel:
    """Each group's rate minus the all-students rate, in percentage points.

    A group's gap is hidden (``*``) wherever its rate is: the gap and the shown all-students
    rate would give the hidden rate back.
    """
    metric = METRICS[metric_id]
    name = f"{metric_id}-gap-by-{dim}"
    frame = views.metric_view(wh, scope, metric_id, (dim,), filters, as_of, threshold)
    total = views.metric_view(wh, scope, metric_id, (), filters, as_of, threshold)
    if frame.empty or int(frame["denominator"].sum()) == 0:
        return Panel(name, pd.DataFrame(), None,
                     f"No {population_noun(metric_id)} match these filters.")
    all_rate = total["rate"].iloc[0]
    all_rate = None if all_rate is None or pd.isna(all_rate) else float(all_rate)
    frame = _display_order(frame, dim)
    frame = frame.assign(gap=[None if s or r is None or pd.isna(r) or all_rate is None
                              else (float(r) - all_rate) * 100
                              for r, s in zip(frame["rate"], frame["suppressed"], strict=True)])
    frame["gap_text"] = [_gap_text(g, s, d) for g, s, d in
                         zip(frame["gap"], frame["suppressed"], frame["denominator"],
                             strict=True)]
    size = group_size_label(metric)
    total_gap = _gap_text(None if all_rate is None else 0.0, bool(total["suppressed"].iloc[0]),
                          int(total["denominator"].iloc[0]))
    rows = pd.concat([total.assign(**{dim: ALL_STUDENTS, f"{dim}_label": ALL_STUDENTS},
                                   gap_text=total_gap), frame], ignore_index=True)
    table = views.table_for(rows, (dim,), metric.title, size)
    table["Gap to all students"] = rows["gap_text"].to_numpy()
    if all_rate is None or _all_hidden(frame):
        return Panel(name, table, None, ALL_HIDDEN.format(n=threshold))
    label = f"{dim}_label"
    hover = [f"{h}<br>Gap to all students: {g}" for h, g in
             zip(charts.hover_text(frame, label, metric.title, size), frame["gap_text"],
                 strict=True)]
    fig = go.Figure(go.Bar(
        x=[0 if g is None or pd.isna(g) else g for g in frame["gap"]],
        y=[charts.escape(x) for x in frame[label]], orientation="h",
        text=list(frame["gap_text"]), textposition="outside", cliponaxis=False,
        hovertext=hover, hoverinfo="text",
        marker_color=[charts.OKABE_ITO[5] if g is not None and not pd.isna(g) and g < 0
                      else charts.OKABE_ITO[0] for g in frame["gap"]]))
    fig.add_vline(x=0, line_color="#444", line_width=1,
                  annotation_text=f"All students {all_rate * 100:.1f}%",
                  annotation_position="top")
    shown = [g for g in frame["gap"] if g is not None and not pd.isna(g)] or [0.0]
    pad = max(1.0, (max(shown) - min(shown)) * 0.2)
    fig.update_xaxes(title="Percentage points above (+) or below (-) all students",
                     ticksuffix=" pts", gridcolor="#eee", zeroline=False,
                     range=[min(0.0, min(shown)) - pad, max(0.0, max(shown)) + pad])
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    title = (f"Which groups are above or below all students? {metric.title}, by "
             f"{_BY.get(dim, dim)}")
    return Panel(name, table, charts.layout(fig, title, height=max(280, 34 * len(frame) + 130)))


def _gap_text(value: float | None, suppressed: bool, denominator: int) -> str:
    if suppressed:
        return SUPPRESSED
    if value is None or pd.isna(value) or not denominator:
        return "--"
    return f"{value:+.1f} pts"


def district_heatmap(wh: Warehouse, scope: Scope, metric_id: str, dim: str,
                     filters: Filters = Filters(), as_of: date | None = None,
                     threshold: int = 11) -> Panel:
    """The metric in every district x group cell: one query, suppressed as one table.

    The colour scale spans the shown rates (in whole tens) so a metric between 5% and 20%
    does not paint every cell the same dark colour, and the title gets room above the group
    names, which ``charts.heatmap`` puts on top.
    """
    metric = METRICS[metric_id]
    name = f"{metric_id}-by-district-and-{dim}"
    frame = views.metric_view(wh, scope, metric_id, ("district", dim), filters, as_of,
                              threshold)
    if frame.empty:
        return Panel(name, pd.DataFrame(), None,
                     f"No {population_noun(metric_id)} match these filters.")
    order = {code: i for i, code in enumerate(DIMENSIONS[dim].labels)}
    frame = frame.assign(_o=[order.get(str(v), len(order)) for v in frame[dim]])
    frame = frame.sort_values(["district_label", "_o"], kind="stable")
    frame = frame.drop(columns="_o").reset_index(drop=True)
    table = views.table_for(frame, ("district", dim), metric.title, group_size_label(metric))
    if _all_hidden(frame):
        return Panel(name, table, None, ALL_HIDDEN.format(n=threshold))
    fig = charts.heatmap(frame, "district", dim, f"Where do groups lag? {metric.title}, by "
                         f"district and {_BY.get(dim, dim)}")
    fig.update_layout(margin={"t": 110})
    rates = pd.to_numeric(frame["rate"], errors="coerce").dropna()
    if len(rates):
        lo = 10 * (float(rates.min()) * 100 // 10)
        hi = 10 * -(-float(rates.max()) * 100 // 10)
        fig.update_traces(zmin=lo, zmax=max(hi, lo + 10))
    return Panel(name, table, fig)


def group_trend(wh: Warehouse, scope: Scope, metric_id: str, dim: str,
                filters: Filters = Filters(), as_of: date | None = None,
                threshold: int = 11) -> Panel:
    """The metric of each group at every loaded drop: is the gap closing?"""
    metric = METRICS[metric_id]
    name = f"{metric_id}-by-{dim}-weekly"
    frame = views.trend(wh, scope, metric_id, filters, as_of, by=dim, threshold=threshold)
    if frame.empty:
        return Panel(name, pd.DataFrame(), None, "No weekly drops to chart yet.")
    ordered = frame.sort_values(["drop_date", dim], ascending=[False, True], kind="stable")
    table = views.table_for(ordered, ("drop_date", dim), metric.title, group_size_label(metric))
    if _all_hidden(frame):
        return Panel(name, table, None, ALL_HIDDEN.format(n=threshold))
    fig = charts.trend_lines(frame, f"Is the gap closing? {metric.title}, by {_BY.get(dim, dim)}"
                             ", at each weekly drop", series=dim)
    return Panel(name, table, fig)


def panels(wh: Warehouse, scope: Scope, metric_id: str, dim: str, filters: Filters = Filters(),
           as_of: date | None = None, threshold: int = 11) -> list[Panel]:
    """The Equity page's three panels (gap, district heat map, trend), queried side by side
    (so none of them may call ``parallel`` itself)."""
    return parallel([partial(f, wh, scope, metric_id, dim, filters, as_of, threshold)
                     for f in (gap, district_heatmap, group_trend)])
