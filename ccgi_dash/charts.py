"""Plotly figures for the dashboards, built from the frames of ``views``.

Every chart is titled with the question it answers, shows names rather than codes, carries
count, group size and rate in its hover, marks suppressed groups with ``*`` instead of a bar,
and uses the Okabe-Ito palette, which readers with colour-vision deficiencies can tell apart.
Data values reach the browser as plotly data (text), never as HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from ccgi_dash.privacy import format_size

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
             "#F0E442")
"""Okabe and Ito's palette, the yellow last: it is the one colour too light for a thin line
on white, so a series gets it only after seven others."""
PRIMARY = OKABE_ITO[0]
MUTED = "#8A8F98"
SEQUENTIAL = "Cividis"
FONT = "Source Sans Pro, Arial, sans-serif"
TEXT = "#31333F"

ALL_STUDENTS_REF = "#444444"
"""The all-students reference: dark grey, dashed."""
COUNTY_REF = OKABE_ITO[5]
"""The county reference beside a district's own numbers: vermillion, dotted, in every chart."""
GOAL_REF = OKABE_ITO[2]
"""A goal line: bluish green, long dashes."""

DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "star",
           "hexagon", "cross", "pentagon")
"""Line styles and marker shapes that go with the colours, so no series is told by colour
alone."""


def series_style(i: int) -> dict[str, object]:
    """The i-th series' colour, dash and marker: eight colours, and past eight a new dash, so
    two series never look the same."""
    return {"color": OKABE_ITO[i % len(OKABE_ITO)],
            "dash": DASHES[(i // len(OKABE_ITO) + i) % len(DASHES)] if i else "solid",
            "symbol": SYMBOLS[i % len(SYMBOLS)]}


BAR_ROW = 22
"""Pixels per bar of a rate chart: 21 districts fit beside a trend within two screens, and
the 13 px labels keep a clear gap."""

SHORT_LIST = 10
SHORT_BAR_ROW = 34
"""A list of at most ``SHORT_LIST`` bars (grades, groups) gets this many pixels per bar: the
bars stay thick enough to read, and the reference line shows between them."""
TITLE_LINE = 44
"""Characters on one line of a chart title: plotly does not wrap titles, and a longer line is
cut off on a 400 px phone screen."""


def wrap_title(text: str, width: int = TITLE_LINE) -> str:
    """A chart title on lines of at most ``width`` characters (``<br>`` between words)."""
    words, lines, line = str(text).split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "<br>".join(lines)


def layout(fig: go.Figure, title: str, *, height: int | None = None,
           subtitle: str | None = None) -> go.Figure:
    """Title (the chart's question, and its accessible name: ``meta.title`` keeps it whole),
    font, white ground, and a legend under the plot at the foot of the figure, where it
    neither covers the title nor the axis title."""
    wrapped = wrap_title(title)
    extra = 22 * wrapped.count("<br>")
    title_spec: dict[str, object] = {"text": wrapped, "x": 0, "xanchor": "left",
                                     "font": {"size": 17}, "yref": "container", "y": 1,
                                     "yanchor": "top", "pad": {"t": 14}}
    if subtitle:
        title_spec["subtitle"] = {"text": wrap_title(subtitle, 70),
                                  "font": {"size": 13, "color": "#555"}}
        extra += 18 * wrap_title(subtitle, 70).count("<br>")
    legends = sum(1 for t in fig.data if t.showlegend is not False and t.name)
    set_layout(fig, {
        "title": title_spec,
        "font": {"family": FONT, "size": 13, "color": TEXT},
        "margin": {"l": 10, "r": 24, "t": (84 if subtitle else 56) + extra,
                   "b": 96 if legends > 1 else 10},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "hoverlabel": {"bgcolor": "white", "font": {"size": 13}},
        "legend": {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.0,
                   "x": 0, "xanchor": "left", "title": None},
        "colorway": list(OKABE_ITO),
        "separators": ".,",
        "meta": {"title": title},
    })
    if height:
        fig.layout.height = height + extra + (70 if legends > 1 else 0)
    return fig


def set_layout(fig: go.Figure, spec: dict[str, object]) -> None:
    """``fig.update_layout(spec)``, the same figure, several times faster: plotly's update
    merges each nested dictionary key by key through its relayout bookkeeping (15-20 ms for
    the layout of one chart, paid on every new filter), while a property nothing has set yet
    can simply be assigned whole. One already set (a chart's own legend order, say) is
    merged as before."""
    for key, value in spec.items():
        current = fig.layout[key]
        if isinstance(value, dict) and getattr(current, "to_plotly_json", None) \
                and current.to_plotly_json():
            fig.update_layout({key: value})
        else:
            fig.layout[key] = value


def fitted_top(values: Sequence[object], refs: Sequence[float | None] = (), *,
               pad: float = 0.18, floor: float = 5.0) -> float:
    """The top of a rate axis in percent: a little above the largest value or reference line
    (room for the value labels), never more than needed: 7-17% bars get a 0-20% axis,
    not 0-100%. Bars start at zero; this only decides the top."""
    shown = [float(v) for v in [*values, *refs] if v is not None and not pd.isna(v)]
    top = max(shown, default=0.0)
    return max(floor, min(100.0 * (1 + pad), top * (1 + pad) + 1.0))


def add_reference(fig: go.Figure, x: float, text: str, *, color: str, dash: str,
                  row: int = 0) -> None:
    """A vertical reference line (a rate in percent) behind the bars, labelled above the plot
    area (``row`` stacks a second label above the first), so it never runs through a value
    label's text nor hides under the title."""
    fig.add_shape(type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="paper",
                  line={"color": color, "dash": dash, "width": 2}, layer="below")
    fig.add_annotation(x=x, xref="x", y=1, yref="paper", yanchor="bottom", yshift=2 + 18 * row,
                       text=escape(text), showarrow=False, font={"color": color, "size": 12},
                       bgcolor="rgba(255,255,255,0.9)")

def escape(text: object) -> str:
    """Plotly renders a small HTML subset in labels; keep data values literal text."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def hover_text(frame: pd.DataFrame, label_col: str, count_label: str, pop_label: str) -> list[str]:
    out = []
    for lab, cnt, den, rate in zip(frame[label_col], frame["count_text"], frame["denominator"],
                                   frame["rate_text"], strict=True):
        if str(lab).startswith(SEPARATOR):
            out.append(escape(lab))
            continue
        out.append(f"<b>{escape(lab)}</b><br>{escape(count_label)}: {cnt}<br>"
                   f"{escape(pop_label)}: {format_size(den)}<br>Rate: {rate}")
    return out


@dataclass(frozen=True)
class Reference:
    """A rate drawn across a chart for comparison: "All students", "County", a goal."""

    rate: float
    """A share, 0..1."""
    label: str
    color: str
    dash: str

    @property
    def text(self) -> str:
        return f"{self.label} {self.rate * 100:.1f}%"


def all_students_ref(rate: float) -> Reference:
    return Reference(rate, "All students", ALL_STUDENTS_REF, "dash")


def county_ref(rate: float) -> Reference:
    return Reference(rate, "County", COUNTY_REF, "dot")


def bar_text_positions(values: Sequence[float], top: float) -> list[str]:
    """Value labels inside the bar's end (white) when the bar is long enough to hold one,
    after it when not (a short, zero or hidden bar keeps its label, ``0.0%`` or ``*``): a
    reference line runs behind the bars, so the labels of the bars it crosses sit on the bar,
    clear of the line."""
    return ["inside" if v >= 0.3 * top else "outside" for v in values]


def _bar_text_fonts(values: Sequence[float], top: float) -> dict[str, object]:
    return {"textposition": bar_text_positions(values, top), "insidetextanchor": "end",
            "insidetextfont": {"color": "white"}, "outsidetextfont": {"color": TEXT},
            "cliponaxis": False, "constraintext": "none"}


def rate_bars(frame: pd.DataFrame, dim: str, title: str, count_label: str, pop_label: str,
              *, highlight: float | None = None, county: float | None = None,
              sort: bool = True, max_rows: int | None = None,
              subtitle: str | None = None) -> go.Figure:
    """Horizontal bars of a rate by one dimension (districts, schools, groups).

    Suppressed groups keep their row with a ``*`` where the bar would be, so a reader sees
    the group exists. ``highlight`` is the all-students rate and ``county`` the county's
    (beside a district's numbers): each a labelled vertical line. The axis runs from 0 to a
    little above the largest bar or line. A row whose label starts with ``SEPARATOR`` is a
    gap (top and bottom of a long list) with no bar.
    """
    label_col = f"{dim}_label"
    f = frame.copy()
    f["_rate"] = pd.to_numeric(f["rate"], errors="coerce")
    if sort:
        f = f.sort_values(["_rate", label_col], ascending=[True, False], na_position="first")
    if max_rows and len(f) > max_rows:
        f = f.tail(max_rows)
    labels = [x if str(x).startswith(SEPARATOR) else escape(x) for x in f[label_col]]
    values = [0 if pd.isna(v) else v * 100 for v in f["_rate"]]
    refs = [r for r in (None if highlight is None else all_students_ref(highlight),
                        None if county is None else county_ref(county)) if r is not None]
    top = fitted_top(values, [r.rate * 100 for r in refs])
    fig = go.Figure(go.Bar(
        x=values, y=labels, orientation="h", marker_color=PRIMARY, text=list(f["rate_text"]),
        hovertext=hover_text(f, label_col, count_label, pop_label), hoverinfo="text",
        name=escape(count_label), showlegend=False, **_bar_text_fonts(values, top),
    ))
    for i, ref in enumerate(refs):
        add_reference(fig, ref.rate * 100, ref.text, color=ref.color, dash=ref.dash, row=i)
    fig.update_xaxes(title="Percent", range=[0, top], ticksuffix="%", gridcolor="#eee",
                     zeroline=True, zerolinecolor="#999")
    fig.update_yaxes(type="category", automargin=True)
    row = BAR_ROW if len(f) > SHORT_LIST else SHORT_BAR_ROW
    fig = layout(fig, title, height=max(260, row * len(f) + 120 + 18 * len(refs)),
                 subtitle=subtitle)
    # the reference labels sit above the plot: the figure grows by their room, so a short
    # list's bars keep their thickness
    fig.update_layout(margin_t=fig.layout.margin.t + 20 * len(refs),
                      height=fig.layout.height + 20 * len(refs))
    return fig


SEPARATOR = "⋯"
"""The label that starts the gap row between the top and the bottom of a long list."""


def funnel_chart(frame: pd.DataFrame, title: str, *, subtitle: str | None = None) -> go.Figure:
    """A funnel of one population: one bar per stage in funnel order, top to bottom, each
    labelled with its students and its rate "of N seniors"; the first stage is the
    population itself (grey)."""
    values = [0 if s is None or pd.isna(s) else int(s) for s in frame["students"]]
    pop = frame["population"].iloc[0] if len(frame) else 0
    noun = frame["noun"].iloc[0] if "noun" in frame and len(frame) else "students"
    text = [c if i == 0 else f"{c}<br>{r} of {format_size(pop)} {noun}"
            for i, (c, r) in enumerate(zip(frame["students_text"], frame["rate_text"],
                                           strict=True))]
    fig = go.Figure(go.Bar(
        x=values, y=[escape(s) for s in frame["stage"]], orientation="h", text=text,
        textposition="outside", cliponaxis=False, showlegend=False,
        marker_color=[MUTED if i == 0 else PRIMARY for i in range(len(frame))],
        hovertext=[f"<b>{escape(s)}</b><br>Students: {c}<br>Of: {format_size(p)} {escape(noun)}"
                   f"<br>Rate: {r}"
                   for s, c, p, r in zip(frame["stage"], frame["students_text"],
                                         frame["population"], frame["rate_text"], strict=True)],
        hoverinfo="text",
    ))
    fig.update_yaxes(autorange="reversed", automargin=True, type="category")
    # room on the right for the longest label ("1,234" over "26.8% of 4,600 seniors")
    fig.update_xaxes(title=noun[0].upper() + noun[1:], gridcolor="#eee",
                     separatethousands=True, range=[0, max(values, default=1) * 1.75 or 1])
    return layout(fig, title, height=70 + 52 * len(frame) + (84 if subtitle else 56),
                  subtitle=subtitle)


def school_year_traces(frame: pd.DataFrame, date_col: str) -> list[pd.DataFrame]:
    """A series cut at each July 1: one part per school year, so no line joins the last
    drop of June to the first of July (a new year's seniors start again near zero)."""
    if frame.empty:
        return []
    years = [d.year if d.month >= 7 else d.year - 1 for d in frame[date_col]]
    part = frame.assign(_sy=years)
    return [g.drop(columns="_sy") for _, g in part.groupby("_sy", sort=True)]


def trend_lines(frame: pd.DataFrame, title: str, *, series: str | None = None,
                marks: Sequence[tuple[date, str]] = (), subtitle: str | None = None,
                county: pd.DataFrame | None = None) -> go.Figure:
    """A weekly trend (one point per drop); ``series`` splits it into lines by a dimension.
    Suppressed points are gaps, not zeros; each school year is its own piece of line, with
    the July 1 boundary marked, so a new year's start never reads as a fall. Every series
    has its own colour, dash and marker, and its name at the line's end as well as in the
    legend; a series hidden at every drop is named "(hidden: *)" in the legend, where it
    has no line. ``county`` (drop_date, rate) adds the county's line."""
    fig = go.Figure()
    groups = [(None, frame)] if series is None else list(
        frame.groupby(f"{series}_label", sort=True))
    ys: list[float] = []
    for i, (name, whole) in enumerate(groups):
        style = series_style(i)
        label = escape(name) if name is not None else "Rate"
        if name is not None and pd.to_numeric(whole["rate"], errors="coerce").isna().all():
            # a group hidden at every drop draws no line: its legend entry says why
            label = f"{label} (hidden: *)"
        for j, part in enumerate(school_year_traces(whole.sort_values("drop_date"),
                                                    "drop_date")):
            y = [None if v is None or pd.isna(v) else v * 100 for v in part["rate"]]
            ys.extend(v for v in y if v is not None)
            fig.add_trace(go.Scatter(
                x=list(part["drop_date"]), y=y, mode="lines+markers", name=label,
                legendgroup=label, showlegend=j == 0,
                line={"color": style["color"], "width": 2.5, "dash": style["dash"]},
                marker={"symbol": style["symbol"], "size": 6},
                hovertext=[f"<b>{d}</b>{'<br>' + label if name is not None else ''}"
                           f"<br>Count: {c}<br>Of: {format_size(p)}<br>Rate: {r}"
                           for d, c, p, r in zip(part["drop_date"], part["count_text"],
                                                 part["denominator"], part["rate_text"],
                                                 strict=True)],
                hoverinfo="text", connectgaps=False,
            ))
    if county is not None and len(county):
        for j, part in enumerate(school_year_traces(county.sort_values("drop_date"),
                                                    "drop_date")):
            y = [None if v is None or pd.isna(v) else v * 100 for v in part["rate"]]
            ys.extend(v for v in y if v is not None)
            fig.add_trace(go.Scatter(
                x=list(part["drop_date"]), y=y, mode="lines", name="County",
                legendgroup="County", showlegend=j == 0,
                line={"color": COUNTY_REF, "width": 2, "dash": "dashdot"}, hoverinfo="skip"))
    dates = sorted(frame["drop_date"]) if len(frame) else []
    add_marks(fig, marks, dates)
    for boundary in year_boundaries(dates):
        fig.add_vline(x=pd.Timestamp(boundary).timestamp() * 1000, line_color=MUTED,
                      line_width=1, annotation_text=f"School year {boundary.year}-"
                      f"{(boundary.year + 1) % 100:02d} starts", annotation_position="top right",
                      annotation_font_size=11, annotation_font_color="#555")
    fig.update_yaxes(title="Percent", ticksuffix="%", gridcolor="#eee",
                     range=[0, fitted_top(ys, pad=0.12)])
    fig.update_xaxes(title="Drop date", gridcolor="#eee")
    fig.update_layout(showlegend=series is not None or county is not None)
    return layout(fig, title, height=440 if series else 400, subtitle=subtitle)


def year_boundaries(dates: Sequence[date]) -> list[date]:
    """The July 1 dates that fall strictly inside a run of dates."""
    if not dates:
        return []
    lo, hi = min(dates), max(dates)
    return [date(y, 7, 1) for y in range(lo.year, hi.year + 1) if lo < date(y, 7, 1) <= hi]


def weekly_year_over_year_chart(frame: pd.DataFrame, title: str,
                                marks: Sequence[tuple[date, str]] = (), *,
                                goal: tuple[float, str] | None = None,
                                projection: pd.DataFrame | None = None,
                                county: pd.DataFrame | None = None,
                                subtitle: str | None = None) -> go.Figure:
    """Weekly points of this school year and last (``views.weekly_year_over_year``).

    ``goal`` (rate, label such as "Goal 65% by Mar 2") is a labelled horizontal line;
    ``projection`` (date, rate; from ``pace.projection_line``) a dotted continuation of this
    year's line to the deadline; ``county`` (plot_date, rate) the county's line this year, for
    a district's view. This year is solid with circles, last year dashed with squares."""
    fig = go.Figure()
    years = sorted(frame["year_label"].unique(), reverse=True) if len(frame) else []
    ys: list[float] = []
    xs: list[date] = list(frame["plot_date"]) if len(frame) else []
    for i, year in enumerate(years):
        part = frame[frame["year_label"] == year].sort_values("plot_date")
        y = [None if v is None or pd.isna(v) else v * 100 for v in part["rate"]]
        ys.extend(v for v in y if v is not None)
        fig.add_trace(go.Scatter(
            x=list(part["plot_date"]), y=y, mode="lines+markers",
            name=f"{year} (this year)" if i == 0 else f"{year} (last year)",
            line={"color": OKABE_ITO[0] if i == 0 else OKABE_ITO[1],
                  "width": 3 if i == 0 else 2, "dash": "solid" if i == 0 else "dash"},
            marker={"symbol": "circle" if i == 0 else "square", "size": 6},
            hovertext=[f"<b>Drop of {d:%b %d, %Y}</b><br>Count: {c}<br>Of: {format_size(p)}"
                       f"<br>Rate: {r}"
                       for d, c, p, r in zip(part["drop_date"], part["count_text"],
                                             part["denominator"], part["rate_text"],
                                             strict=True)],
            hoverinfo="text", connectgaps=False,
        ))
    if county is not None and len(county):
        c = county.sort_values("plot_date")
        y = [None if v is None or pd.isna(v) else v * 100 for v in c["rate"]]
        ys.extend(v for v in y if v is not None)
        fig.add_trace(go.Scatter(
            x=list(c["plot_date"]), y=y, mode="lines", name="County (this year)",
            line={"color": COUNTY_REF, "width": 2, "dash": "dashdot"},
            hovertext=[f"<b>County</b>, drop of {d:%b %d, %Y}<br>Rate: {r}"
                       for d, r in zip(c["drop_date"], c["rate_text"], strict=True)],
            hoverinfo="text", connectgaps=False))
    if projection is not None and len(projection):
        p = projection.sort_values("date")
        y = [v * 100 for v in p["rate"]]
        ys.extend(y)
        xs.extend(p["date"])
        fig.add_trace(go.Scatter(
            x=list(p["date"]), y=y, mode="lines", name="Projected (dotted)",
            line={"color": OKABE_ITO[0], "width": 2.5, "dash": "dot"},
            hovertext=[f"<b>Projected for {d:%b %d}</b>: {v:.1f}%" for d, v in
                       zip(p["date"], y, strict=True)], hoverinfo="text"))
    if goal is not None:
        rate, text = goal
        ys.append(rate * 100)
        fig.add_hline(y=rate * 100, line_color=GOAL_REF, line_dash="longdash", line_width=2,
                      annotation_text=escape(text), annotation_position="bottom left",
                      annotation_font_color=GOAL_REF, annotation_font_size=12)
    if xs:
        add_marks(fig, marks, xs)
    fig.update_yaxes(title="Percent", ticksuffix="%", gridcolor="#eee",
                     range=[0, fitted_top(ys, pad=0.12)])
    fig.update_xaxes(title="Week (last year shown on this year's calendar)", gridcolor="#eee")
    return layout(fig, title, height=380, subtitle=subtitle)


def add_marks(fig: go.Figure, marks: Sequence[tuple[date, str]], xs: Sequence[date]) -> None:
    """The season's dates (deadlines) as dotted vertical lines within ``xs``' span, each
    labelled at the top; every other label a line lower, so two close dates (Oct 1 and
    Nov 30 on a phone) do not print over each other."""
    xs = list(xs)
    if not xs:
        return
    lo, hi = min(xs), max(xs)
    shown = [(d, text) for d, text in sorted(marks) if lo <= d <= hi]
    for i, (d, text) in enumerate(shown):
        fig.add_vline(x=pd.Timestamp(d).timestamp() * 1000, line_dash="dot",
                      line_color=MUTED, annotation_text=escape(text),
                      annotation_position="top left", annotation_font_size=11,
                      annotation_yshift=-16 * (i % 2),
                      annotation_bgcolor="rgba(255,255,255,0.85)")


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


def _wrap(text: str, width: int = 10) -> str:
    """A column label on short lines (``<br>``; a hyphenated word may break after its
    hyphen), so heat-map columns need no slant and stay apart on a phone."""
    words, lines, line = str(text).replace("-", "- ").split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line}{'' if line.endswith('-') else ' '}{w}".strip()
    lines.append(line)
    return "<br>".join(escape(x) for x in lines)


def heatmap(frame: pd.DataFrame, row_dim: str, col_dim: str, title: str) -> go.Figure:
    """Rates of a row dimension by a column dimension (district x group).

    Every cell reads as text: its rate, ``*`` where hidden for privacy, ``--`` where the
    group has no students (colour is never the only carrier). Column names are wrapped on
    short lines above the cells, and the top margin grows with them so they stay clear of
    the title."""
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
                tr.append("--")
                hr.append(f"{escape(r)} / {escape(c)}: no students")
                continue
            rate = rec["rate"]
            zr.append(None if rate is None or pd.isna(rate) or rec["suppressed"]
                      else rate * 100)
            tr.append(rec["rate_text"])
            hr.append(f"<b>{escape(r)}</b><br>{escape(c)}<br>Count: {rec['count_text']}<br>"
                      f"Of: {format_size(rec['denominator'])}<br>Rate: {rec['rate_text']}")
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    wrapped = [_wrap(c) for c in cols]
    lines = max((w.count("<br>") + 1 for w in wrapped), default=1)
    fig = go.Figure(go.Heatmap(
        z=z, x=wrapped, y=[escape(r) for r in rows], text=text,
        texttemplate="%{text}", hovertext=hover, hoverinfo="text", colorscale=SEQUENTIAL,
        zmin=0, zmax=100, xgap=2, ygap=2, hoverongaps=True, textfont={"size": 12},
        colorbar={"title": {"text": "Rate", "side": "top"}, "ticksuffix": "%",
                  "orientation": "h", "y": -0.02, "yanchor": "top", "len": 0.6,
                  "thickness": 12},
    ))
    fig.update_yaxes(autorange="reversed", type="category", automargin=True)
    fig.update_xaxes(type="category", side="top", tickangle=0)
    fig = layout(fig, title, height=max(340, 30 * len(rows) + 200 + 16 * lines))
    fig.update_layout(margin={"t": fig.layout.margin.t + 14 + 17 * lines, "b": 60},
                      plot_bgcolor="#f4f4f4")
    return fig


def leaderboard_chart(frame: pd.DataFrame, title: str, *, subtitle: str | None = None
                      ) -> go.Figure:
    """Race to Submit's leaderboard as bars: each row "rank. school" with its district and
    seniors on a second line, the rate and the change since last year as the bar's label, and
    last year's rate at the same week as a marker (a black diamond).

    ``frame`` columns: rank (None when hidden), school_label, district_name, denominator,
    rate, rate_text, last_rate (None where last year is unknown or hidden), change_text."""
    f = frame.iloc[::-1]
    labels = []
    for rank, school, district, seniors in zip(f["rank"], f["school_label"], f["district_name"],
                                              f["denominator"], strict=True):
        if str(school).startswith(SEPARATOR):
            labels.append(school)
            continue
        head = f"{int(rank)}. " if rank is not None and not pd.isna(rank) else ""
        labels.append(f"{head}{escape(school)}<br><span style='font-size:11px;color:#555'>"
                      f"{escape(district)} · {format_size(seniors)} seniors</span>")
    now = [None if r is None or pd.isna(r) else r * 100 for r in f["rate"]]
    last = [None if r is None or pd.isna(r) else r * 100 for r in f["last_rate"]]
    text = [t if not c else f"{t}<br><span style='font-size:11px'>{c}</span>"
            for t, c in zip(f["rate_text"], f["change_text"], strict=True)]
    # the rate and change stand in a column right of every bar and marker, so neither the
    # bar's end nor last year's diamond ever covers them
    reach = max([v for v in [*now, *last] if v is not None], default=0.0)
    column = reach * 1.04 + 1.0
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=[0 if v is None else v for v in now], y=labels, orientation="h",
        marker_color=PRIMARY, name="This year", showlegend=True,
        hovertext=[f"<b>{escape(s)}</b><br>{escape(d)}<br>Seniors: {format_size(n)}<br>"
                   f"Completed: {t}<br>Same week last year: {lt}<br>Change: {c or '--'}"
                   for s, d, n, t, lt, c in zip(f["school_label"], f["district_name"],
                                                f["denominator"], f["rate_text"],
                                                f["last_text"], f["change_text"], strict=True)],
        hoverinfo="text"))
    fig.add_trace(go.Scatter(
        x=last, y=labels, mode="markers", name="Same week last year",
        marker={"symbol": "diamond", "size": 11, "color": "#000000",
                "line": {"color": "white", "width": 1.5}},
        hovertext=[f"Same week last year: {t}" for t in f["last_text"]], hoverinfo="text"))
    fig.add_trace(go.Scatter(
        x=[column] * len(labels), y=labels, mode="text", text=text,
        textposition="middle right", showlegend=False, hoverinfo="skip",
        textfont={"color": TEXT}, cliponaxis=False))
    fig.update_xaxes(title="FAFSA/CADAA completed (% of seniors)", ticksuffix="%",
                     gridcolor="#eee", range=[0, column * 1.6])
    fig.update_yaxes(type="category", automargin=True)
    fig = layout(fig, title, height=max(300, 38 * len(f) + 150), subtitle=subtitle)
    fig.update_layout(bargap=0.35)
    return fig
