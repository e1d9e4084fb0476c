"""Financial aid: FAFSA/CADAA filing, AB 469 opt-outs, and a Race to Submit leaderboard of
schools by senior-class-size tier. The panels it shares with the other topic pages live in
``topics.panels``. Nothing here imports streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

import pandas as pd

from ccgi_dash import charts, metrics, pace, views
from ccgi_dash.metrics import Request
from ccgi_dash.privacy import EMPTY_GROUP, SUPPRESSED, format_count, format_rate
from ccgi_dash.settings import Settings
from ccgi_dash.store import Warehouse
from ccgi_dash.topics import Section, Topic
from ccgi_dash.topics.panels import Panel, district_names, parallel, top_and_bottom

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
    last_year: date | None = None
    """The drop of last year the "Last year, same week" column reads (None: none loaded)."""
    method: str = ""
    """How the projection column was computed (``pace.projected_by``), said beside it."""

    def panel(self, tier: str | None) -> Panel:
        """One tier of the board as a chart and its table (``tier_panel``)."""
        return tier_panel(self, tier)

    @property
    def caption(self) -> str:
        """What the last-year and projection columns read, said under the table."""
        ly = (f"\u201cLast year, same week\u201d is the drop of {self.last_year:%b %d, %Y}; "
              "\u201cChange (points)\u201d is this year's rate minus it."
              if self.last_year else "No drop from last year is loaded to compare with.")
        return f"{ly} {self.method}".strip()

    @property
    def tiers(self) -> list[str]:
        present = set(self.table["Tier"])
        return [label for label, _, _ in TIERS if label in present]


LEADERBOARD_COLUMNS = ("Tier", "Rank", "School", "District", "Seniors", "Submitted",
                       "Completed", "Last year, same week", "Change (points)")
"""The board's columns; the projection's column ("Projected at Mar 2", from
``pace.projected_by``) follows them, titled with the date it projects to."""


def _texts(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Rate and count text of a suppressed school frame (``*`` hidden, ``--`` empty)."""
    hidden = frame["suppressed"].to_numpy()
    return ([format_rate(r, d, h) for r, d, h in
             zip(frame["rate"], frame["denominator"], hidden, strict=True)],
            [format_count(n, h) for n, h in zip(frame["numerator"], hidden, strict=True)])


def _change(now: object, then: object) -> str:
    """The change in percentage points from last year's rate, one decimal, signed; ``*``
    when either rate is hidden (a change would let a hidden rate be worked out), ``--`` when
    either group had no students."""
    if now == SUPPRESSED or then == SUPPRESSED:
        return SUPPRESSED
    if now is None or then is None or pd.isna(now) or pd.isna(then):  # type: ignore[arg-type]
        return EMPTY_GROUP
    return f"{(float(now) - float(then)) * 100:+.1f}"  # type: ignore[arg-type]


def _with_last_year(frame: pd.DataFrame, last: pd.DataFrame | None) -> pd.DataFrame:
    """Each school's completion rate at the same week last year, from last year's suppressed
    school view ``last`` (None: no drop of last year is loaded): the one definition the
    table's columns and the chart's marker and label both read.

    ``last_rate`` is the share (None where last year hides it or the school had no seniors),
    ``last_text`` as the table writes it (``*`` hidden, ``--`` no seniors or no drop),
    ``change_cell`` the change in points (``_change``: ``*`` when either year is hidden,
    ``--`` when either is missing), ``change_text`` the chart's label ("+1.2 pts", empty
    where there is no number)."""
    out = frame.copy()
    hidden = out["suppressed"].astype(bool).to_numpy()
    if last is None:
        out["last_rate"], out["last_text"] = None, EMPTY_GROUP
    else:
        ly = last.set_index("school").reindex(out["school"])
        ly_hidden = ly["suppressed"].fillna(False).astype(bool).to_numpy()
        out["last_rate"] = [None if h or pd.isna(r) else float(r)
                            for r, h in zip(ly["rate"], ly_hidden, strict=True)]
        out["last_text"] = [format_rate(r, d, h) for r, d, h in
                            zip(ly["rate"], ly["denominator"].fillna(0), ly_hidden,
                                strict=True)]
    out["change_cell"] = [_change(SUPPRESSED if h else r,
                                  SUPPRESSED if t == SUPPRESSED else lr)
                          for r, h, t, lr in zip(out["rate"], hidden, out["last_text"],
                                                 out["last_rate"], strict=True)]
    out["change_text"] = [f"{c} pts" if c not in (SUPPRESSED, EMPTY_GROUP) else ""
                          for c in out["change_cell"]]
    return out


def leaderboard(wh: Warehouse, req: Request, settings: Settings) -> Leaderboard:
    """Race to Submit's leaderboard for the schools in scope and filters, with what R2S
    shows and more: each school's rate at the same week last year
    (``metrics.same_week_last_year``), the change in points, and where it will stand at the
    deadline (``pace.projected_by``: the county goal's deadline, the Cal Grant deadline
    without a goal; ``settings`` holds the goals).

    Schools are suppressed exactly as in the school breakdown (``privacy.suppress_metric``
    by school, with complementary suppression), this year and last year each in its own
    drop: a hidden school shows ``*``, gets no rank and goes to the bottom of its tier.
    Submitted and completed share their population (the school's seniors), so one
    suppression decides both columns. Ranks are competition ranks (ties share a rank) on the
    exact completion rate, highest first.
    """
    drop = wh.resolve(req.as_of)
    before = metrics.same_week_last_year(wh.drops, drop) if drop else None
    calls = [partial(views.suppressed, wh, req, "aid_completed", ("school",)),
             partial(metrics.compute, wh, req.scope, "aid_submitted", ("school",), req.filters,
                     req.as_of),
             partial(pace.projected_by, wh, req, "aid_completed", "school", settings)]
    if before is not None:
        calls.append(partial(views.suppressed, wh, req.at(before), "aid_completed",
                             ("school",)))
    done, sub, projected, *last = parallel(calls)
    columns = [*LEADERBOARD_COLUMNS, projected.column]
    if views.population_size(done) == 0:
        return Leaderboard(pd.DataFrame(columns=columns), pd.DataFrame())
    frame = views.label(done, ("school",))
    sub = sub.set_index("school").reindex(frame["school"])
    hidden = frame["suppressed"].to_numpy()
    # same seniors by construction; were they ever not, hide the submitted cell, never show it
    sub_hidden = hidden | (sub["denominator"].to_numpy() != frame["denominator"].to_numpy())
    frame["rate_text"], frame["count_text"] = _texts(frame)
    frame["sub_text"] = [format_rate(r, d, h) for r, d, h in
                         zip(sub["rate"], frame["denominator"], sub_hidden, strict=True)]
    frame = _with_last_year(frame, last[0] if last else None)
    proj = projected.frame.set_index("school")["projected"].reindex(frame["school"])
    frame["projected_text"] = [
        SUPPRESSED if h else "" if p is None or pd.isna(p) else f"{float(p) * 100:.1f}%"
        for p, h in zip(proj, hidden, strict=True)]
    frame["tier"] = [tier_of(int(n)) for n in frame["denominator"]]
    order = {label: i for i, (label, _, _) in enumerate(TIERS)}
    rate = pd.to_numeric(frame["rate"], errors="coerce").where(~frame["suppressed"])
    frame["rank"] = rate.groupby(frame["tier"]).rank(method="min", ascending=False)
    frame = frame.assign(_o=frame["tier"].map(order), _r=rate).sort_values(
        ["_o", "_r", "school_label"], ascending=[True, False, True],
        na_position="last").drop(columns=["_o", "_r"]).reset_index(drop=True)
    names = district_names(wh, req)
    frame["district_name"] = [names.get(c, c) for c in frame["school_district"]]
    table = pd.DataFrame({
        "Tier": frame["tier"].to_numpy(),
        "Rank": pd.array([None if pd.isna(r) else int(r) for r in frame["rank"]],
                         dtype="Int64"),
        "School": frame["school_label"].to_numpy(),
        "District": [names.get(c, c) for c in frame["school_district"]],
        "Seniors": [f"{int(d):,}" for d in frame["denominator"]],
        "Submitted": frame["sub_text"].to_numpy(),
        "Completed": frame["rate_text"].to_numpy(),
        "Last year, same week": frame["last_text"].to_numpy(),
        "Change (points)": frame["change_cell"].to_numpy(),
        projected.column: frame["projected_text"].to_numpy(),
    })
    return Leaderboard(table, frame, before, projected.method)


def tier_panel(board: Leaderboard, tier: str | None) -> Panel:
    """One tier of the leaderboard as Race to Submit shows it: rank, school, district and
    seniors on each row, the rate with its change since last year, last year's rate at the
    same week as a marker; a long tier as its top and bottom ``TOP_BOTTOM`` (the table lists
    all).

    Built from the cached leaderboard on each run rather than cached itself: drawing the one
    tier on screen costs about what unpickling a cached figure would.
    """
    name = f"fafsa-cadaa-leaderboard-{tier or 'none'}"
    if board.frame.empty or tier not in board.tiers:
        return Panel(name, pd.DataFrame(columns=list(LEADERBOARD_COLUMNS[1:])), None,
                     "No schools with seniors match these filters.")
    mask = (board.frame["tier"] == tier).to_numpy()
    part = board.frame[mask]
    table = board.table[mask].drop(columns="Tier").reset_index(drop=True)
    ranked_part = part[part["rank"].notna().to_numpy()]
    if ranked_part.empty:
        return Panel(name, table, None, "Every school in this tier is hidden for privacy; "
                     "the table lists them.")
    chart, note = top_and_bottom(ranked_part, "school_label", what="schools")
    chart = chart.assign(
        last_text=chart["last_text"].fillna(""), change_text=chart["change_text"].fillna(""),
        district_name=chart["district_name"].fillna(""))
    what = f"{tier[0].lower()}{tier[1:]}"
    fig = charts.leaderboard_chart(
        chart, f"Which schools with {what} lead on FAFSA/CADAA completion?",
        subtitle="Bar: this year, with the change since the same week last year. "
                 "Diamond: last year at the same week.")
    hidden = len(part) - len(ranked_part)
    if hidden:
        note = " ".join(x for x in (note, f"{hidden} school(s) hidden for privacy are not "
                                          "ranked; the table lists them.") if x)
    return Panel(name, table, fig, note)


TOPIC = Topic(
    id="aid", page="financial_aid", title="Financial aid",
    question="Which seniors have filed a FAFSA or CADAA, had it completed, or opted out "
             "(AB 469), and how this year compares with last.",
    noun="seniors", key="aid_completed",
    breakdowns=("district", "school", "group"), default_breakdown=None,
    sections=(
        Section("trends", "This year against last year", half=True),
        Section("breakdown", "Where seniors stand", half=True),
        Section("students_link", text="Open the named list of seniors with no FAFSA/CADAA and "
                                      "no opt-out (Students page)"),
        Section("leaderboard", "Race to Submit leaderboard",
                caption="Schools ranked by FAFSA/CADAA completion within tiers of "
                        "senior-class size, as CSAC's Race to Submit does. Schools hidden for "
                        "privacy (*) are not ranked.",
                view=leaderboard, choice_label="Senior class size", key="tier", detail=True),
    ),
    cards_per_row=3, marks=marks,
)
"""The key metric is completion: what Race to Submit ranks schools by."""
