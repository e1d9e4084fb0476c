"""Favorites: which colleges, careers and majors students save on CaliforniaColleges.edu.

Two kinds of number: the share of students with any favorite (the metrics
``favorite_college`` / ``favorite_career`` / ``favorite_major``), and ranked lists of the
favorites themselves (``metrics.RANKINGS``), counted in distinct students. Ranked lists are
suppressed entry by entry (an entry favorited by 1 to 10 students is ``*``) and as a whole
when the students behind the list are 1 to 10. ``ranked`` serves the Career assessments page
too.
"""

from __future__ import annotations

from datetime import date
from functools import partial

import pandas as pd

from ccgi_dash import charts, metrics
from ccgi_dash.datasets import SEGMENTS
from ccgi_dash.metrics import POPULATIONS, RANKINGS, Filters
from ccgi_dash.privacy import format_count, format_rate, suppress
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse
from ccgi_dash.topics.common import (
    Panel,
    parallel,
)
from ccgi_dash.topics.equity import ALL_HIDDEN, trend_calls

HEADLINES = ("favorite_college", "favorite_career", "favorite_major")

KINDS: dict[str, tuple[str, str]] = {
    "Colleges": ("favorite_college", "favorite_colleges"),
    "Careers": ("favorite_career", "favorite_careers"),
    "Majors": ("favorite_major", "favorite_majors"),
}
"""The page's "Colleges | Careers | Majors" choice: its metric and its ranked list."""

SHARE_TITLE = "Have students favorited a college, a career, a major?"

TOP = 15
"""Entries a ranked chart shows; the table holds the whole list."""

ITEM_TITLES = {"favorite_colleges": "College", "favorite_careers": "Career",
               "favorite_majors": "Major", "assessments": "Assessment"}
EXTRA_TITLES = {"onet_code": "O*NET-SOC code", "cip_code": "CIP code"}
QUESTIONS = {
    "favorite_colleges": "Which colleges do students favorite most?",
    "favorite_careers": "Which careers do students favorite most?",
    "favorite_majors": "Which majors do students favorite most?",
    "assessments": "Which career assessments do students complete?",
}

_SEGMENT_NOT_REPORTED = "Segment not reported"
SEGMENT_NAMES = {"UC": "University of California (UC)",
                 "CSU": "California State University (CSU)",
                 "CCC": "California Community Colleges (CCC)",
                 "Private CA": "Private colleges in California", "Out of State": "Out of state"}
"""The drop contract's segment codes, as a reader names them."""

SEGMENT_SQL = """
WITH f AS (
    SELECT ssid FROM {facts}
    WHERE ({population}) AND ({scope}) AND ({filters})
)
SELECT coalesce(t.segment, ?) AS segment, count(DISTINCT t.ssid) AS students,
    (SELECT count(*) FROM f) AS population
FROM {colleges} t JOIN f USING (ssid)
GROUP BY 1
"""
"""Distinct students per segment: a student with two UC favorites counts once for UC, so
this cannot be summed from the college ranking. Identifiers come from ``Warehouse.table``,
the population catalogue and ``Scope``/``Filters``; values are bound."""


def _ranked_view(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Add share, suppression and display strings to ``item``/``students``/``population``."""
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


def ranked(wh: Warehouse, scope: Scope, ranking_id: str, filters: Filters = Filters(),
           as_of: date | None = None, threshold: int = 11, top: int = TOP) -> Panel:
    """A ranked list: the chart shows the ``top`` entries, the table every one.

    Entries hidden by suppression follow the shown ones in alphabetical order, without a
    rank: their order by count would tell more about them than ``*`` does.
    """
    r = RANKINGS[ranking_id]
    name = f"{ranking_id}-ranked"
    frame = _ranked_view(metrics.ranking(wh, scope, ranking_id, filters, as_of, limit=None),
                         threshold)
    if frame.empty:
        return Panel(name, pd.DataFrame(), None,
                     "No student in this selection has one yet.")
    frame = pd.concat([frame[~frame["suppressed"]],
                       frame[frame["suppressed"]].sort_values("item", kind="stable")],
                      ignore_index=True)
    shown = int((~frame["suppressed"]).sum())
    item = ITEM_TITLES.get(ranking_id, "Item")
    table = pd.DataFrame({"Rank": pd.array([*range(1, shown + 1), *[None] * (len(frame) - shown)],
                                           dtype="Int64"),
                          item: frame["item"].astype(str).to_numpy()})
    if r.extra == "segment":
        table["Segment"] = [SEGMENT_NAMES.get(x, x) for x in frame["extra"]]
    elif r.extra:
        table[EXTRA_TITLES.get(r.extra, r.extra)] = frame["extra"].to_numpy()
    table["Students"] = frame["students_text"].to_numpy()
    table["Share of students"] = frame["share_text"].to_numpy()
    if shown == 0:
        return Panel(name, table, None, ALL_HIDDEN.format(n=threshold))
    note = None
    if len(frame) > top:
        note = f"The chart shows the top {top} of {len(frame):,}; the table lists all."
    fig = charts.ranked_bars(frame.head(top), QUESTIONS.get(ranking_id, r.title),
                             item_label="item")
    return Panel(name, table, fig, note)


def segments(wh: Warehouse, scope: Scope, filters: Filters = Filters(),
             as_of: date | None = None, threshold: int = 11) -> Panel:
    """The share of students who favorited at least one college of each segment."""
    drop = wh.resolve(as_of)
    cols = ["segment", "students", "population"]
    raw = pd.DataFrame(columns=cols)
    if drop is not None and not scope.sees_nothing:
        scope_sql, scope_params = scope.sql()
        filt_sql, filt_params = filters.sql()
        sql = SEGMENT_SQL.format(
            facts=wh.table(drop, "student_facts"), colleges=wh.table(drop, "favorite_colleges"),
            population=POPULATIONS[RANKINGS["favorite_colleges"].population].sql,
            scope=scope_sql, filters=filt_sql)
        with wh.query() as cur:
            raw = cur.execute(sql, [*scope_params, *filt_params, _SEGMENT_NOT_REPORTED]).df()
    if len(raw):
        raw = _all_segments(raw)
    frame = _ranked_view(raw, threshold).rename(columns={"students_text": "count_text",
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
        return Panel(name, table, None, ALL_HIDDEN.format(n=threshold))
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


def kind_panels(wh: Warehouse, scope: Scope, kind: str, filters: Filters = Filters(),
                as_of: date | None = None, threshold: int = 11) -> list[Panel]:
    """What the page shows for one kind of favorite, queried side by side: the segments
    (colleges only), the ranked list, and the weekly share this year against last."""
    metric_id, ranking_id = KINDS[kind]
    calls = [partial(ranked, wh, scope, ranking_id, filters, as_of, threshold),
             *trend_calls(wh, scope, (metric_id,), filters, as_of, threshold)]
    if kind == "Colleges":
        calls.insert(0, partial(segments, wh, scope, filters, as_of, threshold))
    return parallel(calls)
