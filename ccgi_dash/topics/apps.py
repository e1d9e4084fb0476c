"""College applications: UC, CSU and CCC submissions, where seniors apply, and the follow-up
of a-g eligible seniors who have not applied.

The follow-up is what a counselor acts on. Aggregate roles see it as counts and rates by
school (``uc_eligible_applied`` / ``csu_eligible_applied`` and their complement, suppressed
like every other school breakdown); the named list lives on the Students page, for the roles
entitled to it. Shared panels (cards, breakdowns, trends) come from ``topics.panels``.
"""

from __future__ import annotations

from datetime import date
from functools import partial

import pandas as pd
import plotly.graph_objects as go

from ccgi_dash import charts, metrics, views
from ccgi_dash.metrics import Request
from ccgi_dash.privacy import format_count
from ccgi_dash.store import Warehouse
from ccgi_dash.topics import Section, Topic
from ccgi_dash.topics.panels import Panel, district_names, parallel, ranked

CAMPUSES: dict[str, str] = {"UC campuses": "uc_campuses", "CSU campuses": "csu_campuses",
                            "Community colleges": "ccc_colleges"}
"""The "Campuses" choice -> ranked list of metrics.RANKINGS."""

RANKED_CHART_ROWS = 15
FOLLOW_UP_ROWS = 15
"""The follow-up chart shows the schools with the most eligible seniors still to apply (where
a counselor's hour counts most); the table lists every school."""


def marks(drop: date | None) -> list[tuple[date, str]]:
    """The application calendar of the drop's school year (domain.md)."""
    if drop is None:
        return []
    y = metrics.school_year_of(drop)
    return [(date(y, 10, 1), "UC and CSU open (Oct 1)"),
            (date(y, 11, 30), "UC deadline (Nov 30)")]


def campuses(wh: Warehouse, req: Request, choice: str) -> Panel:
    """The campuses or colleges seniors applied to, in distinct seniors, largest first."""
    if choice not in CAMPUSES:
        raise metrics.MetricError(f"unknown list {choice!r}; choose from {', '.join(CAMPUSES)}")
    return ranked(wh, req, CAMPUSES[choice], top=RANKED_CHART_ROWS)


FOLLOW_UP_METRICS = {"uc": "uc_eligible_applied", "csu": "csu_eligible_applied"}
"""The two sides of the follow-up table: the metric over each kind of eligible seniors."""


def _population(side: str) -> str:
    """The column of a side's eligible seniors: its metric's population, from the catalogue."""
    return metrics.metric(FOLLOW_UP_METRICS[side]).population_title


def _side(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """One metric's school view as follow-up columns: eligible, applied, not yet applied."""
    hidden = frame["suppressed"].astype(bool)
    num = pd.to_numeric(frame["numerator"], errors="coerce")
    den = pd.to_numeric(frame["denominator"], errors="coerce")
    missing = (den - num).where(~hidden)
    return pd.DataFrame({
        "school": frame["school"].to_numpy(),
        f"{prefix}_den": den.to_numpy(),
        f"{prefix}_size_text": frame["size_text"].to_numpy(),
        f"{prefix}_rate_text": frame["rate_text"].to_numpy(),
        f"{prefix}_missing": missing.to_numpy(),
        f"{prefix}_missing_text": [format_count(n, h) for n, h in
                                   zip(missing, hidden, strict=True)],
        f"{prefix}_name": frame["school_label"].to_numpy(),
        f"{prefix}_district": frame["school_district"].to_numpy(),
    })


def follow_up(wh: Warehouse, req: Request) -> Panel:
    """a-g eligible seniors who have not applied, by school: for UC and for CSU, the eligible
    seniors, the share who applied, and how many have not (yet).

    Each side is the school view of ``uc_eligible_applied`` / ``csu_eligible_applied``,
    suppressed by ``privacy.suppress_metric``: a school whose count of eligible seniors is
    hidden in the a-g view shows ``*`` here too.
    """
    name = "eligible-seniors-not-applied-by-school"
    uc, csu = parallel([partial(views.metric_view, wh, req, m, ("school",))
                        for m in FOLLOW_UP_METRICS.values()])
    if uc.empty and csu.empty:
        return Panel(name, pd.DataFrame(), None,
                     "No a-g eligible seniors match these filters.")
    both = _side(uc, "uc").merge(_side(csu, "csu"), on="school", how="outer")
    both["school_name"] = both["uc_name"].fillna(both["csu_name"])
    both["district"] = both["uc_district"].fillna(both["csu_district"])
    for p in ("uc", "csu"):
        both[f"{p}_size_text"] = both[f"{p}_size_text"].fillna("0")
        both[f"{p}_rate_text"] = both[f"{p}_rate_text"].fillna("--")
        both[f"{p}_missing_text"] = both[f"{p}_missing_text"].fillna("--")
        both[f"{p}_missing"] = pd.to_numeric(both[f"{p}_missing"], errors="coerce")
    both["_total"] = both["uc_missing"].fillna(0) + both["csu_missing"].fillna(0)
    both = both.sort_values(["_total", "school_name"], ascending=[False, True]).reset_index(
        drop=True)
    names = district_names(wh, req)
    table = pd.DataFrame({
        "School": both["school_name"].to_numpy(),
        "District": [names.get(c, c) for c in both["district"]],
        _population("uc"): both["uc_size_text"].to_numpy(),
        "Applied to UC": both["uc_rate_text"].to_numpy(),
        "Not yet applied to UC": both["uc_missing_text"].to_numpy(),
        _population("csu"): both["csu_size_text"].to_numpy(),
        "Applied to a CSU": both["csu_rate_text"].to_numpy(),
        "Not yet applied to a CSU": both["csu_missing_text"].to_numpy(),
    })
    shown = both[both["_total"] > 0]
    chart = shown.head(FOLLOW_UP_ROWS)
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
        pop = _population(p)
        fig.add_trace(go.Bar(
            name=f"Not yet applied to {what}", orientation="h", y=labels,
            x=[0 if pd.isna(v) else int(v) for v in f[f"{p}_missing"]],
            text=list(f[f"{p}_missing_text"]), textposition="outside", cliponaxis=False,
            marker_color=charts.OKABE_ITO[i], marker_pattern_shape="/" if i else "",
            hovertext=[f"<b>{lab}</b><br>{pop}: {d}<br>Applied to {what}: {r}"
                       f"<br>Not yet applied: {m}"
                       for lab, d, r, m in zip(labels, f[f"{p}_size_text"], f[f"{p}_rate_text"],
                                               f[f"{p}_missing_text"], strict=True)],
            hoverinfo="text",
        ))
    fig.update_layout(barmode="group", legend_traceorder="reversed")
    fig.update_yaxes(type="category", automargin=True)
    fig.update_xaxes(title="Eligible seniors who have not applied", gridcolor="#eee",
                     separatethousands=True)
    return charts.layout(fig, "Where are the a-g eligible seniors who have not applied yet?",
                          height=max(300, 40 * len(f) + 120))


TOPIC = Topic(
    id="apps", page="applications", title="College applications",
    question="Which seniors have applied to a UC, a CSU or a community college, where, and "
             "which a-g eligible seniors have not applied.",
    noun="seniors", key="any_app_submitted",
    breakdowns=("district", "school", "group"), default_breakdown=None,
    sections=(
        Section("trends", "This year against last year", half=True),
        Section("breakdown", "Where seniors stand", half=True),
        Section("view", "Where seniors apply: campuses and colleges", view=campuses,
                choices=tuple(CAMPUSES), choice_label="Campuses", key="ranked", detail=True),
        Section("view", "a-g eligible seniors who have not applied, by school",
                view=follow_up, detail=True),
        Section("students_link", text="Open the named list of these seniors (Students page)"),
    ),
    marks=marks,
)
