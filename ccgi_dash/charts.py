"""Plotly figures for the dashboards, built from the frames of ``views``.

Every chart is titled with the question it answers, shows names rather than codes, carries
count, group size and rate in its hover, marks suppressed groups with ``*`` instead of a bar,
and uses the Okabe-Ito palette, which readers with colour-vision deficiencies can tell apart.
Data values reach the browser as plotly data (text), never as HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from ccgi_dash.privacy import format_size

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000")
PRIMARY = OKABE_ITO[0]
MUTED = "#8A8F98"
SEQUENTIAL = "Cividis"
FONT = "Source Sans Pro, Arial, sans-serif"


def layout(fig: go.Figure, title: str, *, height: int | None = None) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 17}},
        font={"family": FONT, "size": 13},
        margin={"l": 10, "r": 20, "t": 56, "b": 10},
        plot_bgcolor="white",
        paper_bgcolor="white",
        hoverlabel={"bgcolor": "white", "font_size": 13},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "title": None},
        colorway=list(OKABE_ITO),
        separators=".,",
    )
    if height:
        fig.update_layout(height=height)
    return fig


def escape(text: object) -> str:
    """Plotly renders a small HTML subset in labels; keep data values literal text."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def hover_text(frame: pd.DataFrame, label_col: str, count_label: str, pop_label: str) -> list[str]:
    out = []
    for lab, cnt, den, rate in zip(frame[label_col], frame["count_text"], frame["denominator"],
                                   frame["rate_text"], strict=True):
        out.append(f"<b>{escape(lab)}</b><br>{escape(count_label)}: {cnt}<br>"
                   f"{escape(pop_label)}: {format_size(den)}<br>Rate: {rate}")
    return out


def rate_bars(frame: pd.DataFrame, dim: str, title: str, count_label: str, pop_label: str,
              *, highlight: float | None = None, sort: bool = True,
              max_rows: int | None = 40) -> go.Figure:
    """Horizontal bars of a rate by one dimension (districts, schools, groups).

    Suppressed groups keep their row with a ``*`` where the bar would be, so a reader sees
    the group exists. ``highlight`` draws a reference line (the all-students rate).
    """
    label_col = f"{dim}_label"
    f = frame.copy()
    f["_rate"] = pd.to_numeric(f["rate"], errors="coerce")
    if sort:
        f = f.sort_values(["_rate", label_col], ascending=[True, False], na_position="first")
    if max_rows and len(f) > max_rows:
        f = f.tail(max_rows)
    labels = [escape(x) for x in f[label_col]]
    values = [0 if pd.isna(v) else v * 100 for v in f["_rate"]]
    text = list(f["rate_text"])
    fig = go.Figure(go.Bar(
        x=values, y=labels, orientation="h", marker_color=PRIMARY, text=text,
        textposition="outside", cliponaxis=False,
        hovertext=hover_text(f, label_col, count_label, pop_label), hoverinfo="text",
    ))
    if highlight is not None:
        fig.add_vline(x=highlight * 100, line_dash="dash", line_color=OKABE_ITO[5],
                      annotation_text=f"All students {highlight * 100:.1f}%",
                      annotation_position="top")
    fig.update_xaxes(title="Percent", range=[0, 105], ticksuffix="%", gridcolor="#eee")
    fig.update_yaxes(type="category", automargin=True)
    return layout(fig, title, height=max(260, 28 * len(f) + 110))


def funnel_chart(frame: pd.DataFrame, title: str) -> go.Figure:
    """The county funnel: one bar per stage, labelled with students and rate."""
    values = [0 if s is None or pd.isna(s) else int(s) for s in frame["students"]]
    text = [f"{c} ({r})" if i not in (0, 2) else c
            for i, (c, r) in enumerate(zip(frame["students_text"], frame["rate_text"],
                                           strict=True))]
    fig = go.Figure(go.Bar(
        x=values, y=[escape(s) for s in frame["stage"]], orientation="h", text=text,
        textposition="outside", cliponaxis=False,
        marker_color=[MUTED if i in (0, 2) else PRIMARY for i in range(len(frame))],
        hovertext=[f"<b>{escape(s)}</b><br>Students: {c}<br>Of: {format_size(p)}"
                   f"<br>Rate: {r}"
                   for s, c, p, r in zip(frame["stage"], frame["students_text"],
                                         frame["population"], frame["rate_text"], strict=True)],
        hoverinfo="text",
    ))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title="Students", gridcolor="#eee", separatethousands=True)
    return layout(fig, title, height=380)


def trend_lines(frame: pd.DataFrame, title: str, *, series: str | None = None,
                marks: Sequence[tuple[date, str]] = ()) -> go.Figure:
    """A weekly trend (one point per drop); ``series`` splits it into lines by a dimension.
    Suppressed points are gaps, not zeros."""
    fig = go.Figure()
    groups = [(None, frame)] if series is None else list(
        frame.groupby(f"{series}_label", sort=True))
    for i, (name, part) in enumerate(groups):
        part = part.sort_values("drop_date")
        fig.add_trace(go.Scatter(
            x=list(part["drop_date"]),
            y=[None if v is None or pd.isna(v) else v * 100 for v in part["rate"]],
            mode="lines+markers", name=escape(name) if name is not None else "Rate",
            line={"color": OKABE_ITO[i % len(OKABE_ITO)], "width": 2.5},
            hovertext=[f"<b>{d}</b>{'<br>' + escape(name) if name is not None else ''}"
                       f"<br>Count: {c}<br>Of: {format_size(p)}<br>Rate: {r}"
                       for d, c, p, r in zip(part["drop_date"], part["count_text"],
                                             part["denominator"], part["rate_text"],
                                             strict=True)],
            hoverinfo="text", connectgaps=False,
        ))
    add_marks(fig, marks, frame["drop_date"] if len(frame) else [])
    fig.update_yaxes(title="Percent", ticksuffix="%", rangemode="tozero", gridcolor="#eee")
    fig.update_xaxes(title="Drop date", gridcolor="#eee")
    fig.update_layout(showlegend=series is not None)
    return layout(fig, title, height=400)


def weekly_year_over_year_chart(frame: pd.DataFrame, title: str,
                                marks: Sequence[tuple[date, str]] = ()) -> go.Figure:
    """Weekly points of this school year and last (``views.weekly_year_over_year``)."""
    fig = go.Figure()
    years = sorted(frame["year_label"].unique(), reverse=True) if len(frame) else []
    for i, year in enumerate(years):
        part = frame[frame["year_label"] == year].sort_values("plot_date")
        fig.add_trace(go.Scatter(
            x=list(part["plot_date"]),
            y=[None if v is None or pd.isna(v) else v * 100 for v in part["rate"]],
            mode="lines+markers", name=str(year),
            line={"color": OKABE_ITO[0] if i == 0 else OKABE_ITO[1],
                  "width": 3 if i == 0 else 2, "dash": "solid" if i == 0 else "dash"},
            hovertext=[f"<b>Drop of {d:%b %d, %Y}</b><br>Count: {c}<br>Of: {format_size(p)}"
                       f"<br>Rate: {r}"
                       for d, c, p, r in zip(part["drop_date"], part["count_text"],
                                             part["denominator"], part["rate_text"],
                                             strict=True)],
            hoverinfo="text", connectgaps=False,
        ))
    if len(frame):
        add_marks(fig, marks, list(frame["plot_date"]))
    fig.update_yaxes(title="Percent", ticksuffix="%", rangemode="tozero", gridcolor="#eee")
    fig.update_xaxes(title="Week (last year shown on this year's calendar)", gridcolor="#eee")
    return layout(fig, title, height=400)


def add_marks(fig: go.Figure, marks: Sequence[tuple[date, str]], xs: Sequence[date]) -> None:
    xs = list(xs)
    if not xs:
        return
    lo, hi = min(xs), max(xs)
    for d, text in marks:
        if lo <= d <= hi:
            fig.add_vline(x=pd.Timestamp(d).timestamp() * 1000, line_dash="dot",
                          line_color=MUTED, annotation_text=escape(text),
                          annotation_position="top left", annotation_font_size=11)


def year_over_year_chart(frame: pd.DataFrame, title: str,
                         marks: Sequence[tuple[date, str]] = ()) -> go.Figure:
    """Cumulative curves, this school year against last, on one calendar."""
    fig = go.Figure()
    years = sorted(frame["year"].unique(), reverse=True) if len(frame) else []
    for i, year in enumerate(years):
        part = frame[frame["year"] == year].sort_values("date")
        fig.add_trace(go.Scatter(
            x=list(part["date"]), y=[v * 100 for v in part["rate"]], mode="lines",
            name=str(year),
            line={"color": OKABE_ITO[0] if i == 0 else OKABE_ITO[1],
                  "width": 3 if i == 0 else 2, "dash": "solid" if i == 0 else "dash"},
            hovertext=[f"<b>{year}</b> as of {d:%b %d}<br>Count: {int(n):,}<br>"
                       f"Of: {format_size(p)}<br>Rate: {r * 100:.1f}%"
                       for d, n, p, r in zip(part["date"], part["numerator"],
                                             part["denominator"], part["rate"], strict=True)],
            hoverinfo="text",
        ))
    if len(frame):
        add_marks(fig, marks, list(frame["date"]))
    fig.update_yaxes(title="Percent (cumulative)", ticksuffix="%", rangemode="tozero",
                     gridcolor="#eee")
    fig.update_xaxes(title="Date (last year shown on this year's calendar)", gridcolor="#eee")
    return layout(fig, title, height=420)


def ranked_bars(frame: pd.DataFrame, title: str, *, item_label: str = "item",
                count_label: str = "Students") -> go.Figure:
    """A ranked list: distinct students per item, largest on top; ``*`` for small counts."""
    f = frame.iloc[::-1]
    fig = go.Figure(go.Bar(
        x=[0 if v is None or pd.isna(v) else int(v) for v in f["students"]],
        y=[escape(x) for x in f[item_label]], orientation="h", marker_color=PRIMARY,
        text=list(f["students_text"]), textposition="outside", cliponaxis=False,
        hovertext=[f"<b>{escape(i)}</b><br>{count_label}: {c}<br>Share: {s}"
                   for i, c, s in zip(f[item_label], f["students_text"], f["share_text"],
                                      strict=True)],
        hoverinfo="text",
    ))
    fig.update_yaxes(type="category", automargin=True)
    fig.update_xaxes(title=count_label, gridcolor="#eee", separatethousands=True)
    return layout(fig, title, height=max(260, 26 * len(f) + 110))


def heatmap(frame: pd.DataFrame, row_dim: str, col_dim: str, title: str) -> go.Figure:
    """Rates of a row dimension by a column dimension (district x group); ``*`` cells blank."""
    rows = list(dict.fromkeys(frame[f"{row_dim}_label"]))
    cols = list(dict.fromkeys(frame[f"{col_dim}_label"]))
    z, text, hover = [], [], []
    index = {(r, c): rec for r, c, rec in zip(frame[f"{row_dim}_label"],
                                              frame[f"{col_dim}_label"],
                                              frame.to_dict("records"), strict=True)}
    for r in rows:
        zr, tr, hr = [], [], []
        for c in cols:
            rec = index.get((r, c))
            if rec is None:
                zr.append(None)
                tr.append("")
                hr.append(f"{escape(r)} / {escape(c)}: no students")
                continue
            rate = rec["rate"]
            zr.append(None if rate is None or pd.isna(rate) else rate * 100)
            tr.append(rec["rate_text"])
            hr.append(f"<b>{escape(r)}</b><br>{escape(c)}<br>Count: {rec['count_text']}<br>"
                      f"Of: {format_size(rec['denominator'])}<br>Rate: {rec['rate_text']}")
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    fig = go.Figure(go.Heatmap(
        z=z, x=[escape(c) for c in cols], y=[escape(r) for r in rows], text=text,
        texttemplate="%{text}", hovertext=hover, hoverinfo="text", colorscale=SEQUENTIAL,
        zmin=0, zmax=100, colorbar={"title": "%", "ticksuffix": "%"}, xgap=2, ygap=2,
    ))
    fig.update_yaxes(autorange="reversed", type="category", automargin=True)
    fig.update_xaxes(type="category", side="top")
    return layout(fig, title, height=max(320, 30 * len(rows) + 160))
