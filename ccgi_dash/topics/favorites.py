"""Favorites: which colleges, careers and majors students save on CaliforniaColleges.edu.

Two kinds of number: the share of students with any favorite (the metrics
``favorite_college`` / ``favorite_career`` / ``favorite_major``), and ranked lists of the
favorites themselves (``metrics.RANKINGS``), counted in distinct students. Ranked lists are
suppressed entry by entry (an entry favorited by 1 to 10 students is ``*``) and as a whole
when the students behind the list are 1 to 10. ``ranked`` serves the Career assessments page
too.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from ccgi_dash import charts, metrics
from ccgi_dash.datasets import SEGMENTS
from ccgi_dash.metrics import POPULATIONS, RANKINGS, Request
from ccgi_dash.store import Warehouse
from ccgi_dash.topics import Section, Topic
from ccgi_dash.topics.panels import (
    ALL_HIDDEN,
    SEGMENT_NAMES,
    Panel,
    parallel,
    ranked,
    ranked_view,
    trend_calls,
)

KINDS: dict[str, tuple[str, str]] = {
    "Colleges": ("favorite_college", "favorite_colleges"),
    "Careers": ("favorite_career", "favorite_careers"),
    "Majors": ("favorite_major", "favorite_majors"),
}
"""The page's "Colleges | Careers | Majors" choice: its metric and its ranked list."""

_SEGMENT_NOT_REPORTED = "Segment not reported"

SEGMENT_SQL = """
WITH f AS (
    SELECT ssid FROM {facts}
    WHERE ({population}) AND ({scope}) AND ({filters})
)
SELECT coalesce(t.segment, $not_reported) AS segment, count(DISTINCT t.ssid) AS students,
    (SELECT count(*) FROM f) AS population
FROM {colleges} t JOIN f USING (ssid)
GROUP BY 1
"""
"""Distinct students per segment: a student with two UC favorites counts once for UC, so
this cannot be summed from the college ranking. Identifiers come from ``Warehouse.table``,
the population catalogue and ``Scope``/``Filters``; values are bound."""


def segments(wh: Warehouse, req: Request) -> Panel:
    """The share of students who favorited at least one college of each segment."""
    drop = wh.resolve(req.as_of)
    cols = ["segment", "students", "population"]
    raw = pd.DataFrame(columns=cols)
    if drop is not None and not req.scope.sees_nothing:
        scope_sql, scope_params = req.scope.named_sql()
        filt_sql, filt_params = req.filters.sql()
        sql = SEGMENT_SQL.format(
            facts=wh.table(drop, "student_facts"), colleges=wh.table(drop, "favorite_colleges"),
            population=POPULATIONS[RANKINGS["favorite_colleges"].population].sql,
            scope=scope_sql, filters=filt_sql)
        with wh.query() as cur:
            raw = cur.execute(sql, {**scope_params, **filt_params,
                                    "not_reported": _SEGMENT_NOT_REPORTED}).df()
    if len(raw):
        raw = _all_segments(raw)
    frame = ranked_view(raw, req.threshold).rename(columns={"students_text": "count_text",
                                                        "share_text": "rate_text"})
    frame = frame.assign(segment_label=[SEGMENT_NAMES.get(x, x) for x in frame["segment"]],
                         numerator=frame["students"],
                         denominator=frame["population"], rate=frame["share"])
    name = "favorite-colleges-by-segment"
    if frame.empty:
        return Panel(name, pd.DataFrame(), None, "No student in this selection has favorited "
                     "a college yet.")
    table = pd.DataFrame({"Segment": frame["segment_label"].to_numpy(),
                          "Students who favorited one": frame["count_text"].to_numpy(),
                          "Students": [f"{int(p):,}" for p in frame["population"]],
                          "Share of students": frame["rate_text"].to_numpy()})
    if frame["suppressed"].all():
        return Panel(name, table, None, ALL_HIDDEN.format(n=req.threshold))
    fig = charts.rate_bars(frame, "segment", "Which kinds of college do students favorite? "
                           "Share of students with a favorite in each segment",
                           "Favorited one", "Students", sort=True, max_rows=None)
    return Panel(name, table, fig)


def _all_segments(raw: pd.DataFrame) -> pd.DataFrame:
    """Every segment of the drop contract, with 0 where nobody favorited one."""
    population = int(raw["population"].iloc[0])
    known = dict(zip(raw["segment"], raw["students"], strict=True))
    names = [*SEGMENTS, *[s for s in known if s not in SEGMENTS]]
    return pd.DataFrame({"segment": names,
                         "students": [int(known.get(s, 0)) for s in names],
                         "population": population})


def _kind(kind: str) -> tuple[str, str]:
    if kind not in KINDS:
        raise metrics.MetricError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    return KINDS[kind]


def kind_ranked(wh: Warehouse, req: Request, kind: str) -> Panel:
    """The page's answer for one kind of favorite: its ranked list."""
    return ranked(wh, req, _kind(kind)[1])


def kind_more(wh: Warehouse, req: Request, kind: str) -> list[Panel]:
    """What is folded below the ranked list, queried side by side and only when unfolded:
    the segments (colleges only) and the weekly share this year against last."""
    metric_id, _ = _kind(kind)
    calls = trend_calls(wh, req, (metric_id,))
    if kind == "Colleges":
        calls.insert(0, partial(segments, wh, req))
    return parallel(calls)


TOPIC = Topic(
    id="favorites", page="favorites", title="Favorites",
    question="Which colleges, careers and majors students favorite on CaliforniaColleges.edu, "
             "and how many have favorited one.",
    noun="students", key=None,
    breakdowns=("grade_level", "school", "district", "group"), default_breakdown="grade_level",
    sections=(
        Section("compare", "Who has favorites",
                text="Have students favorited a college, a career, a major?", half=True),
        Section("view", "What students favorite", view=kind_ranked, choices=tuple(KINDS),
                choice_label="Most favorited", key="kind", half=True,
                more="Kinds of college and the weekly trend", more_view=kind_more),
    ),
    cards_per_row=3,
)
