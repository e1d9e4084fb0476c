"""Financial aid: FAFSA/CADAA filing, AB 469 opt-outs, and a Race to Submit leaderboard of
schools by senior-class-size tier. The panels it shares with the other topic pages live in
``topics.common``. Nothing here imports streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

import pandas as pd

from ccgi_dash import charts, metrics, views
from ccgi_dash.metrics import Filters
from ccgi_dash.privacy import format_count, format_rate, suppress
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse
from ccgi_dash.topics.common import (
    SCHOOL_CHART_ROWS,
    Panel,
    district_names,
    parallel,
    trends,
)

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
