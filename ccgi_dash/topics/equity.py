"""Equity: any metric across any student group.

A COE coordinator asks "which groups lag, where, and is the gap closing?". ``panels`` answers
with the gap of each group to all students, a district x group heat map and the trend by group,
for any metric of the catalogue and any subgroup dimension (a metric added to the catalogue is
in the picker with no other edit).

Every function takes ``(wh, request, ...)`` first, so pages call it through ``ui.data.view``
and the result is cached per request. Charts and tables come from one frame of
``views.metric_view`` (suppressed by ``privacy.suppress_metric``), so a hidden cell is hidden
in the chart, the table and the CSV alike. Nothing here imports streamlit.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import plotly.graph_objects as go

from ccgi_dash import charts, metrics, views
from ccgi_dash.datasets import DIMENSIONS
from ccgi_dash.metrics import Request
from ccgi_dash.privacy import EMPTY_GROUP, SUPPRESSED
from ccgi_dash.store import Warehouse
from ccgi_dash.topics import Section, Topic
from ccgi_dash.topics.panels import (
    ALL_HIDDEN,
    ALL_STUDENTS,
    Panel,
    all_hidden,
    display_order,
    parallel,
    size_title,
)

DEFAULT_METRIC = "aid_submitted"
"""Equity opens on FAFSA/CADAA submission, the gap COEs are asked about most."""


def gap(wh: Warehouse, req: Request, metric_id: str, dim: str) -> Panel:
    """Each group's rate minus the all-students rate, in percentage points.

    A group's gap is hidden (``*``) wherever its rate is: the gap and the shown all-students
    rate would give the hidden rate back.
    """
    metric = metrics.metric(metric_id)
    name = f"{metric_id}-gap-by-{dim}"
    frame = views.metric_view(wh, req, metric_id, (dim,))
    total = views.metric_view(wh, req, metric_id, ())
    if views.population_size(frame) == 0:
        return Panel(name, pd.DataFrame(), None, f"No {metric.noun} match these filters.")
    all_rate = total["rate"].iloc[0]
    all_rate = None if all_rate is None or pd.isna(all_rate) else float(all_rate)
    frame = display_order(frame, dim)
    frame = frame.assign(gap=[None if s or r is None or pd.isna(r) or all_rate is None
                              else (float(r) - all_rate) * 100
                              for r, s in zip(frame["rate"], frame["suppressed"], strict=True)])
    frame["gap_text"] = [_gap_text(g, s, d) for g, s, d in
                         zip(frame["gap"], frame["suppressed"], frame["denominator"],
                             strict=True)]
    size = size_title(metric_id)
    total_gap = _gap_text(None if all_rate is None else 0.0, bool(total["suppressed"].iloc[0]),
                          total["denominator"].iloc[0])
    rows = pd.concat([total.assign(**{dim: ALL_STUDENTS, f"{dim}_label": ALL_STUDENTS},
                                   gap_text=total_gap), frame], ignore_index=True)
    table = views.table_for(rows, (dim,), metric_id, size)
    table["Gap to all students"] = rows["gap_text"].to_numpy()
    if all_rate is None or all_hidden(frame):
        return Panel(name, table, None, ALL_HIDDEN.format(n=req.threshold))
    label = f"{dim}_label"
    hover = [f"{h}<br>Gap to all students: {g}" for h, g in
             zip(charts.hover_text(frame, label, metric.title, size), frame["gap_text"],
                 strict=True)]
    xs = [0 if g is None or pd.isna(g) else g for g in frame["gap"]]
    reach = max((abs(x) for x in xs), default=0.0) or 1.0
    fig = go.Figure(go.Bar(
        x=xs, y=[charts.escape(x) for x in frame[label]], orientation="h",
        text=list(frame["gap_text"]), cliponaxis=False, hovertext=hover, hoverinfo="text",
        # a long bar holds its label (white, at its end): outside, the label of the longest
        # bar below zero would run over the group names on a phone
        textposition=charts.bar_text_positions([abs(x) for x in xs], reach),
        insidetextanchor="end", insidetextfont={"color": "white"},
        outsidetextfont={"color": charts.TEXT}, constraintext="none",
        marker_color=[charts.OKABE_ITO[5] if g is not None and not pd.isna(g) and g < 0
                      else charts.OKABE_ITO[0] for g in frame["gap"]]))
    fig.add_vline(x=0, line_color="#444", line_width=1,
                  annotation_text=f"All students {all_rate * 100:.1f}%",
                  annotation_position="top")
    shown = [g for g in frame["gap"] if g is not None and not pd.isna(g)] or [0.0]
    pad = max(1.0, (max(shown) - min(shown)) * 0.2)
    fig.update_xaxes(title="Points above or below all students",
                     ticksuffix=" pts", gridcolor="#eee", zeroline=False,
                     range=[min(0.0, min(shown)) - pad, max(0.0, max(shown)) + pad])
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    title = (f"Which groups are above or below all students? {metric.title}, by "
             f"{DIMENSIONS[dim].by}")
    return Panel(name, table, charts.layout(fig, title, height=max(280, 34 * len(frame) + 130)))


def _gap_text(value: float | None, suppressed: bool, denominator: object) -> str:
    if suppressed:
        return SUPPRESSED
    if value is None or pd.isna(value) or denominator is None or not denominator:
        return "--"
    return f"{value:+.1f} pts"


def district_heatmap(wh: Warehouse, req: Request, metric_id: str, dim: str) -> Panel:
    """The metric in every district x group cell: one query, suppressed as one table.

    The colour scale spans the shown rates (in whole tens) so a metric between 5% and 20%
    does not paint every cell the same dark colour; ``charts.heatmap`` writes every cell's
    text (rate, ``*``, ``--``) and keeps the group names clear of the title.
    """
    metric = metrics.metric(metric_id)
    name = f"{metric_id}-by-district-and-{dim}"
    frame = views.metric_view(wh, req, metric_id, ("district", dim))
    if frame.empty:
        return Panel(name, pd.DataFrame(), None, f"No {metric.noun} match these filters.")
    order = {code: i for i, code in enumerate(DIMENSIONS[dim].labels)}
    frame = frame.assign(_o=[order.get(str(v), len(order)) for v in frame[dim]])
    frame = frame.sort_values(["district_label", "_o"], kind="stable")
    frame = frame.drop(columns="_o").reset_index(drop=True)
    table = views.table_for(frame, ("district", dim), metric_id, size_title(metric_id))
    if all_hidden(frame):
        return Panel(name, table, None, ALL_HIDDEN.format(n=req.threshold))
    title = f"Where do groups lag? {metric.title}, by district and {DIMENSIONS[dim].by}"
    fig = charts.heatmap(frame, "district", dim, title)
    rates = pd.to_numeric(frame["rate"], errors="coerce").dropna()
    if len(rates):
        lo = 10 * (float(rates.min()) * 100 // 10)
        hi = 10 * -(-float(rates.max()) * 100 // 10)
        fig.update_traces(zmin=lo, zmax=max(hi, lo + 10))
    return Panel(name, table, fig, narrow=heatmap_grid(frame, "district", dim))


def heatmap_grid(frame: pd.DataFrame, row_dim: str, col_dim: str) -> pd.DataFrame:
    """The heat map's cells as a grid of text, one row per district and one column per
    group, for a screen too narrow for the figure: the rate, ``*`` where hidden, ``--``
    where the group has no students (as the heat map writes them)."""
    rows = list(dict.fromkeys(frame[f"{row_dim}_label"]))
    cols = list(dict.fromkeys(frame[f"{col_dim}_label"]))
    cells = {(r, c): t for r, c, t in zip(frame[f"{row_dim}_label"], frame[f"{col_dim}_label"],
                                          frame["rate_text"], strict=True)}
    grid = pd.DataFrame({DIMENSIONS[row_dim].title: rows})
    for c in cols:
        grid[str(c)] = [cells.get((r, c), EMPTY_GROUP) for r in rows]
    return grid


def group_trend(wh: Warehouse, req: Request, metric_id: str, dim: str) -> Panel:
    """The metric of each group at every loaded drop: is the gap closing? Each school year
    is its own piece of line; a view narrower than the county gets the county's line (all
    its students, suppressed like any aggregate)."""
    metric = metrics.metric(metric_id)
    name = f"{metric_id}-by-{dim}-weekly"
    frame = views.trend(wh, req, metric_id, by=dim)
    if frame.empty:
        return Panel(name, pd.DataFrame(), None, "No weekly drops to chart yet.")
    ordered = frame.sort_values(["drop_date", dim], ascending=[False, True], kind="stable")
    table = views.table_for(ordered, ("drop_date", dim), metric_id, size_title(metric_id))
    if all_hidden(frame):
        return Panel(name, table, None, ALL_HIDDEN.format(n=req.threshold))
    county = None
    note = None
    creq = views.county_request(req)
    if creq is not None:
        county = views.trend(wh, creq, metric_id)
        note = views.county_withheld_note(county)
        county = county[~county["suppressed"].astype(bool).to_numpy()]
    fig = charts.trend_lines(frame, f"Is the gap closing? {metric.title}, by "
                             f"{DIMENSIONS[dim].by}, at each weekly drop", series=dim,
                             county=county)
    return Panel(name, table, fig, note)


def panels(wh: Warehouse, req: Request, metric_id: str, dim: str) -> list[Panel]:
    """The Equity page's two main panels (gap, trend), queried side by side (so neither may
    call ``parallel`` itself) and drawn side by side."""
    return parallel([partial(f, wh, req, metric_id, dim) for f in (gap, group_trend)])


def folded_panels(wh: Warehouse, req: Request, metric_id: str, dim: str) -> list[Panel]:
    """What the page folds below its main panels (``Section.more``), asked only when
    unfolded: the district heat map."""
    return [district_heatmap(wh, req, metric_id, dim)]


TOPIC = Topic(
    id="equity", page="equity", title="Equity",
    question="Which student groups lag behind all students, in which districts, and whether "
             "the gap is closing, for any metric.",
    noun="students", key=DEFAULT_METRIC, breakdowns=("group",), default_breakdown="group",
    sections=(Section("equity", view=panels, half=True,
                      more="Where do groups lag, district by district? (heat map)",
                      more_view=folded_panels),),
    cards_per_row=3,
)
"""Equity's measures are the whole catalogue, not the metrics naming the topic."""
