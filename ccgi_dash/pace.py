"""Pace and projection: where a view will stand at a deadline if this year follows last year.

The method (``METHOD``), chosen because it holds up early in the year and for small changes:

    projected rate at date T = this year's rate now
                               + (last year's rate at T - last year's rate at this week)

i.e. this year keeps its lead or lag and gains, from here to T, the points last year gained
over the same weeks. Last year's dates are moved forward by one school year (July 1 to July 1),
as the "this year against last" charts do. A ratio (rate now x last year's growth factor)
was rejected: in the first weeks of a year last year's rate is near zero and the factor
explodes. The projection is clipped to 0..100%.

Last year's rate at a date is read off **last year's weekly drops** (the metric exactly as
``export --as-of`` gives it for each drop: ``export.metric_export``, suppressed by
``privacy.suppress_metric`` like every view, so a population that is another metric's hidden
count hides the projection too), interpolated linearly
between the two drops around the date; a date more than ``TOLERANCE_DAYS`` outside last year's
loaded drops has no value. When the weekly drops do not cover the weeks needed and the metric
has a date behind it (``Metric.date_column``), last year's curve is read instead from **the
dates in last year's latest drop** (students whose first qualifying date is on or before the
date, over that drop's population), used only where that drop's export row of the view is
shown. Where neither exists, or a needed point is suppressed, the
projection is None: nothing is shown rather than a guess. Each ``Projection`` carries the
sentence saying which method produced it, for display beside the figure.

Only cumulative metrics are projected (``CUMULATIVE``): counts that, once a student is in, stay
in for the school year. Statuses that come and go (active in the last 30 days, a-g eligible or
on track) have no "curve to follow" and are not projected.

Every function takes the page's ``metrics.Request`` (scope, filters, as-of drop and the
county's suppression threshold) right after the warehouse. The three calls the pages draw:

- ``pace(wh, request, metric_id, settings)``: a card's goal and pace (``Pace``);
- ``trend_projection(wh, request, metric_id, settings)``: a trend chart's dotted
  continuation and the goal's value (``TrendProjection``);
- ``projected_by(wh, request, metric_id, by, settings)``: the leaderboard's "projected at
  Mar 2" column, per district or school (``ProjectedBy``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from ccgi_dash import metrics
from ccgi_dash.export import metric_export
from ccgi_dash.goals import Goal, cal_grant_deadline, goal_for, single_district
from ccgi_dash.metrics import METRICS, MetricError, Request
from ccgi_dash.settings import Settings
from ccgi_dash.store import Warehouse

CUMULATIVE: frozenset[str] = frozenset(
    {m.id for m in METRICS.values() if m.date_column}
    | {"fafsa_submitted", "cadaa_submitted", "aid_opted_out", "aid_done_or_opted_out",
       "uc_and_csu_submitted", "favorite_college", "favorite_career", "favorite_major"})
"""Metrics whose count accumulates over a school year (a student who is in stays in)."""

TOLERANCE_DAYS = 7
"""A date within a week of last year's first or last loaded drop takes that drop's value."""

METHOD = ("this year's rate now plus the points last year gained from the same week to that "
          "date")
WEEKLY = f"Projected as {METHOD} (last year's weekly drops)."
DATES = f"Projected as {METHOD} (the dates in last year's latest drop)."
NO_DATA = "No projection: last year has no data for these weeks."
NOT_CUMULATIVE = "No projection: this measure is a status, not a count that accumulates."
PASSED = "No projection: the date has passed."
HIDDEN = "No projection: the group is too small to show (1 to 10 students)."


@dataclass(frozen=True)
class Projection:
    """Where a view will stand at ``target`` if this year follows last year's curve.

    ``rate`` is None when there is nothing to project from; ``method`` says how the figure
    was made, or why there is none."""

    metric_id: str
    drop: date | None
    target: date
    rate_now: float | None
    rate: float | None
    method: str
    last_year_now: float | None = None
    """Last year's rate at the same week (on this year's calendar)."""
    last_year_target: float | None = None
    """Last year's rate at the target date."""

    @property
    def text(self) -> str:
        return "--" if self.rate is None else f"{self.rate * 100:.1f}%"


@dataclass(frozen=True)
class Pace:
    """A metric's goal and whether the view is on pace for it.

    ``on_pace`` is True when the projection at the goal's deadline reaches the goal, False when
    it falls short, None when there is no goal or no projection."""

    metric_id: str
    drop: date | None
    rate_now: float | None
    goal: Goal | None
    deadline: date | None
    at_deadline: Projection | None
    at_year_end: Projection | None

    @property
    def on_pace(self) -> bool | None:
        if self.goal is None or self.at_deadline is None or self.at_deadline.rate is None:
            return None
        return self.at_deadline.rate >= self.goal.rate - 1e-12

    @property
    def status(self) -> str:
        """One sentence: on pace or not, for the goal, with the projection."""
        if self.goal is None:
            return "No goal is set."
        if self.on_pace is None:
            reason = self.at_deadline.method if self.at_deadline else NO_DATA
            return f"Goal {self.goal.text}. {reason}"
        word = "On pace" if self.on_pace else "Not on pace"
        assert self.at_deadline is not None
        return (f"{word} for the goal of {self.goal.text}: projected {self.at_deadline.text} "
                f"at {self.goal.deadline:%b} {self.goal.deadline.day}.")

    @property
    def card_text(self) -> str | None:
        """A card's one line under its value: "Goal 65% by Mar 2 · projected 58.3% · not on
        pace"; without a goal, the projection at the deadline; None when there is neither."""
        proj = self.at_deadline
        shown = proj is not None and proj.rate is not None and self.deadline is not None
        when = f"{self.deadline:%b} {self.deadline.day}" if self.deadline else ""
        if self.goal is None:
            return f"Projected {proj.text} at {when}" if shown and proj else None
        parts = [f"Goal {self.goal.text}"]
        if shown and proj:
            parts.append(f"projected {proj.text}")
            parts.append("on pace" if self.on_pace else "not on pace")
        return " · ".join(parts)


def school_year_end(drop: date) -> date:
    """June 30 of the drop's school year (July 1 - June 30)."""
    return date(metrics.school_year_of(drop) + 1, 6, 30)


def _shift(d: date, drop: date) -> date:
    """``d`` moved onto the calendar of ``drop``'s school year (whole school years)."""
    y_now, y_then = metrics.school_year_of(drop), metrics.school_year_of(d)
    return d + (date(y_now, 7, 1) - date(y_then, 7, 1))


def _rate(row: pd.Series) -> float | None:
    """A rate from an export row's exact counts; None when hidden or the group is empty."""
    if bool(row["suppressed"]) or pd.isna(row["numerator"]) or int(row["denominator"]) == 0:
        return None
    return int(row["numerator"]) / int(row["denominator"])


Curve = list[tuple[date, float | None]]


def value_at(curve: Curve, t: date) -> float | None:
    """A curve's value at ``t``: linear between the points around it, the nearest point
    within ``TOLERANCE_DAYS`` outside it, None beyond (or where a needed point is hidden)."""
    if not curve:
        return None
    curve = sorted(curve)
    first, last = curve[0], curve[-1]
    if t <= first[0]:
        return first[1] if (first[0] - t).days <= TOLERANCE_DAYS else None
    if t >= last[0]:
        return last[1] if (t - last[0]).days <= TOLERANCE_DAYS else None
    for (d0, v0), (d1, v1) in itertools.pairwise(curve):
        if d0 <= t <= d1:
            if t == d0:
                return v0
            if t == d1:
                return v1
            if v0 is None or v1 is None:
                return None
            return v0 + (v1 - v0) * (t - d0).days / (d1 - d0).days
    return None


def _weekly_curves(frame: pd.DataFrame, drop: date, key: str | None
                   ) -> tuple[dict[object, float | None], dict[object, Curve]]:
    """From an export by drop date (and ``key``): each group's rate at ``drop`` and last
    year's weekly curve on this year's calendar."""
    this_year = metrics.school_year_of(drop)
    now: dict[object, float | None] = {}
    curves: dict[object, Curve] = {}
    for _, row in frame.iterrows():
        d = date.fromisoformat(str(row["drop_date"]))
        group = row[key] if key else None
        if d == drop:
            now[group] = _rate(row)
        elif metrics.school_year_of(d) == this_year - 1:
            curves.setdefault(group, []).append((_shift(d, drop), _rate(row)))
    return now, curves


def _combine(metric_id: str, drop: date, target: date, now: float | None,
             ly_now: float | None, ly_target: float | None, method: str) -> Projection:
    if now is None:
        return Projection(metric_id, drop, target, None, None, HIDDEN)
    if ly_now is None or ly_target is None:
        return Projection(metric_id, drop, target, now, None, NO_DATA, ly_now, ly_target)
    rate = min(1.0, max(0.0, now + (ly_target - ly_now)))
    return Projection(metric_id, drop, target, now, rate, method, ly_now, ly_target)


def _date_curve(wh: Warehouse, request: Request, metric_id: str, drop: date
                ) -> tuple[Curve, date] | None:
    """Last year's curve from the dates in last year's latest drop (metrics with a date), on
    this year's calendar, and that drop's date; None when there is no such drop or the
    view's export row of that drop is hidden (``export.metric_export`` decides, not here)."""
    if METRICS[metric_id].date_column is None:
        return None
    year = metrics.school_year_of(drop)
    last_year = [d for d in wh.drops if metrics.school_year_of(d) == year - 1]
    if not last_year:
        return None
    source = max(last_year)
    row = metric_export(wh, request.at(source), metric_id)
    if row.empty or bool(row["suppressed"].iloc[0]) or pd.isna(row["denominator"].iloc[0]):
        return None
    cum = metrics.cumulative(wh, request.scope, metric_id, request.filters, source)
    if cum.empty:
        return [(_shift(date(metrics.school_year_of(source), 7, 1), drop), 0.0),
                (_shift(source, drop), 0.0)], _shift(source, drop)
    den = int(cum["denominator"].iloc[0])
    start = _shift(date(metrics.school_year_of(source), 7, 1), drop)
    points: Curve = [(start, 0.0)]
    points += [(_shift(d, drop), int(n) / den) for d, n in zip(cum["date"], cum["numerator"],
                                                              strict=True)
               if _shift(d, drop) > start]
    end = _shift(source, drop)
    points.append((end, points[-1][1]))
    # a step curve: the count on a day holds until the next event day
    steps: Curve = []
    for (d0, v0), (d1, _v1) in itertools.pairwise(points):
        steps.append((d0, v0))
        if (d1 - d0).days > 1:
            steps.append((d1 - timedelta(days=1), v0))
    steps.append(points[-1])
    return steps, end


def series(wh: Warehouse, request: Request, metric_id: str,
           row_of: tuple[str, str] | None = None) -> pd.DataFrame:
    """The metric by drop date, up to the request's drop, exactly as ``export`` gives it
    (``export.metric_export``: suppressed by ``privacy.suppress_metric``, so a rate over
    another metric's hidden count is hidden too). With ``row_of`` = (dimension, value), the
    rows of that one group of the breakdown by that dimension, so a cell is hidden exactly
    where the breakdown's table hides it (complementary suppression included)."""
    by = ("drop_date",) if row_of is None else ("drop_date", row_of[0])
    frame = metric_export(wh, request, metric_id, by)
    if row_of is not None:
        frame = frame[frame[row_of[0]].astype(str) == str(row_of[1])]
    return frame


def _check(metric_id: str) -> None:
    if metric_id not in METRICS:
        raise MetricError(f"unknown metric {metric_id!r}; choose from {', '.join(METRICS)}")


def project(wh: Warehouse, request: Request, metric_id: str, target: date,
            row_of: tuple[str, str] | None = None) -> Projection:
    """Where the view will stand at ``target`` if this year follows last year's curve from
    the request's drop (see the module's docstring for the method). Rates come from
    ``export.metric_export``, suppressed: a hidden point gives no projection.

    ``row_of`` = (dimension, value) projects one row of a breakdown (a school of the
    district's table) from that table's cells, weekly drops only."""
    _check(metric_id)
    drop = wh.resolve(request.as_of)
    if drop is None:
        return Projection(metric_id, None, target, None, None, NO_DATA)
    request = request.at(drop)
    frame = series(wh, request, metric_id, row_of)
    now_by, curves = _weekly_curves(frame, drop, None)
    now = now_by.get(None)
    if metric_id not in CUMULATIVE:
        return Projection(metric_id, drop, target, now, None, NOT_CUMULATIVE)
    if target < drop:
        return Projection(metric_id, drop, target, now, None, PASSED)
    curve = curves.get(None, [])
    ly_now, ly_target = value_at(curve, drop), value_at(curve, target)
    if now is not None and row_of is None and (ly_now is None or ly_target is None):
        dated = _date_curve(wh, request, metric_id, drop)
        if dated is not None:
            points, end = dated
            if target <= end + timedelta(days=TOLERANCE_DAYS):
                return _combine(metric_id, drop, target, now, value_at(points, drop),
                                value_at(points, min(target, end)), DATES)
    return _combine(metric_id, drop, target, now, ly_now, ly_target, WEEKLY)


def project_by(wh: Warehouse, request: Request, metric_id: str, by: str,
               target: date) -> pd.DataFrame:
    """``project`` for every group of one breakdown (``district``, ``school``, a student
    group), from last year's weekly drops, in one export.

    Columns: the export's breakdown columns (``district``/``district_name``, ``school``/
    ``school_name``, or the group), ``rate_now``, ``projected`` (None where there is nothing
    to project from or a needed cell is suppressed, complementary suppression included) and
    ``method``."""
    _check(metric_id)
    drop = wh.resolve(request.as_of)
    names = {"district": ["district", "district_name"], "school": ["school", "school_name"]}
    cols = [*names.get(by, [by]), "rate_now", "projected", "method"]
    if drop is None:
        return pd.DataFrame(columns=cols)
    frame = metric_export(wh, request.at(drop), metric_id, ("drop_date", by))
    now_by, curves = _weekly_curves(frame, drop, by)
    current = frame[frame["drop_date"] == drop.isoformat()]
    rows = []
    for _, row in current.iterrows():
        group = row[by]
        now = now_by.get(group)
        if metric_id not in CUMULATIVE:
            p = Projection(metric_id, drop, target, now, None, NOT_CUMULATIVE)
        elif target < drop:
            p = Projection(metric_id, drop, target, now, None, PASSED)
        else:
            curve = curves.get(group, [])
            p = _combine(metric_id, drop, target, now, value_at(curve, drop),
                         value_at(curve, target), WEEKLY)
        rows.append([*(row[c] for c in cols[:-3]), p.rate_now, p.rate, p.method])
    return pd.DataFrame(rows, columns=cols)


def projection_line(wh: Warehouse, request: Request, metric_id: str, through: date,
                    row_of: tuple[str, str] | None = None) -> pd.DataFrame:
    """The dotted continuation of a weekly trend chart: from the request's drop to
    ``through``, one point per week of last year's weekly drops (on this year's calendar),
    each the projection at that date. Columns ``date``, ``rate``; empty where there is no
    projection."""
    drop = wh.resolve(request.as_of)
    if drop is None or metric_id not in CUMULATIVE:
        return pd.DataFrame(columns=["date", "rate"])
    frame = series(wh, request.at(drop), metric_id, row_of)
    now_by, curves = _weekly_curves(frame, drop, None)
    now, curve = now_by.get(None), curves.get(None, [])
    ly_now = value_at(curve, drop)
    if now is None or ly_now is None:
        return pd.DataFrame(columns=["date", "rate"])
    points = [(drop, now)]
    end = value_at(curve, through) if through > drop else None
    for d, v in sorted(curve):
        if drop < d < through:
            if v is None:
                end = None
                break
            points.append((d, min(1.0, max(0.0, now + v - ly_now))))
    if end is not None:
        points.append((through, min(1.0, max(0.0, now + end - ly_now))))
    if len(points) == 1:
        return pd.DataFrame(columns=["date", "rate"])
    return pd.DataFrame(points, columns=["date", "rate"])


def pace(wh: Warehouse, request: Request, metric_id: str, settings: Settings,
         row_of: tuple[str, str] | None = None) -> Pace:
    """A card's goal and pace: the metric's goal for this view (a district's own goal when
    the view is one district), and the projections at the goal's deadline (the Cal Grant
    deadline when no goal is set) and at the end of the school year. ``row_of`` as in
    ``project``. ``Pace.card_text`` is the card's one line; ``Pace.status`` its sentence."""
    drop = wh.resolve(request.as_of)
    if drop is None:
        return Pace(metric_id, None, None, None, None, None, None)
    request = request.at(drop)
    district = single_district(request.scope, request.filters)
    if row_of is not None and row_of[0] in ("district", "school"):
        district = str(row_of[1])[:7]
    goal = goal_for(settings, metric_id, drop, district)
    deadline = goal.deadline if goal else cal_grant_deadline(drop)[0]
    at_deadline = project(wh, request, metric_id, deadline, row_of)
    at_end = project(wh, request, metric_id, school_year_end(drop), row_of)
    return Pace(metric_id, drop, at_deadline.rate_now, goal, deadline, at_deadline, at_end)


def paces(wh: Warehouse, request: Request, metric_ids: Sequence[str],
          settings: Settings) -> dict[str, Pace]:
    """``pace`` for several metrics (the cards of a page), by metric id."""
    return {m: pace(wh, request, m, settings) for m in metric_ids}


@dataclass(frozen=True)
class TrendProjection:
    """What a weekly trend chart adds after its last point: the dotted continuation
    (``line``: ``date``, ``rate`` on this year's calendar, from the as-of drop to the end of
    the school year; empty where nothing can be projected), the goal (a horizontal line at
    ``goal.rate``, None when no goal is set), the deadline the pace is judged at, the
    projections at that deadline and at the year's end, and the method sentence to show
    beside the chart."""

    metric_id: str
    line: pd.DataFrame
    goal: Goal | None
    deadline: date | None
    at_deadline: Projection | None
    at_year_end: Projection | None
    method: str

    @property
    def goal_rate(self) -> float | None:
        return self.goal.rate if self.goal else None


def trend_projection(wh: Warehouse, request: Request, metric_id: str,
                     settings: Settings) -> TrendProjection:
    """The dotted continuation of a trend chart and the goal's value, for the view of
    ``request`` (one call for the chart)."""
    p = pace(wh, request, metric_id, settings)
    if p.drop is None:
        return TrendProjection(metric_id, pd.DataFrame(columns=["date", "rate"]), None, None,
                               None, None, NO_DATA)
    line = projection_line(wh, request.at(p.drop), metric_id, school_year_end(p.drop))
    method = (p.at_deadline.method if p.at_deadline else NO_DATA)
    return TrendProjection(metric_id, line, p.goal, p.deadline, p.at_deadline, p.at_year_end,
                           method)


@dataclass(frozen=True)
class ProjectedBy:
    """The leaderboard's projection column: ``frame`` has the breakdown columns
    (``district``/``district_name`` or ``school``/``school_name``), ``rate_now``,
    ``projected`` (None where nothing can be projected or a cell is hidden), ``goal`` (the
    goal in force for the row: a district's own goal, else the county's; None without one),
    ``on_pace`` (True/False, None without a goal or a projection) and ``method``.
    ``column`` is the column's title ("Projected at Mar 2")."""

    metric_id: str
    by: str
    target: date | None
    column: str
    method: str
    frame: pd.DataFrame


def projected_by(wh: Warehouse, request: Request, metric_id: str, by: str,
                 settings: Settings) -> ProjectedBy:
    """The projection of every district or school (``by``) of the request's view at the
    county goal's deadline (the Cal Grant deadline without a goal), for the leaderboard."""
    drop = wh.resolve(request.as_of)
    if drop is None:
        empty = project_by(wh, request, metric_id, by, date.today())
        return ProjectedBy(metric_id, by, None, "Projected", NO_DATA,
                           empty.assign(goal=None, on_pace=None))
    county_goal = goal_for(settings, metric_id, drop, None)
    target = county_goal.deadline if county_goal else cal_grant_deadline(drop)[0]
    frame = project_by(wh, request.at(drop), metric_id, by, target)
    goals, on_pace = [], []
    for _, row in frame.iterrows():
        district = (str(row["district"]) if by == "district" else
                    str(row["school"])[:7] if by == "school" else
                    single_district(request.scope, request.filters))
        g = goal_for(settings, metric_id, drop, district)
        goals.append(g.rate if g else None)
        proj = row["projected"]
        on_pace.append(None if g is None or proj is None or pd.isna(proj)
                       else bool(float(proj) >= g.rate - 1e-12))
    frame = frame.assign(goal=pd.Series(goals, index=frame.index, dtype="object"),
                         on_pace=pd.Series(on_pace, index=frame.index, dtype="object"))
    methods = [m for m in frame["method"] if m in (WEEKLY,)]
    method = methods[0] if methods else (frame["method"].iloc[0] if len(frame) else NO_DATA)
    return ProjectedBy(metric_id, by, target, f"Projected at {target:%b} {target.day}",
                       method, frame)
