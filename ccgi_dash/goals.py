"""Goals: the rate a COE aims for on a metric, county-wide or for one district, by a deadline.

The goals are settings (``[goals.<metric>]`` in the data directory's ``settings.toml``, parsed
and checked by ``ccgi_dash.settings``); this module answers "which goal applies to this view,
and by which date". A deadline may be a date or a named deadline of the school year
("cal_grant"), which is resolved against the financial aid calendar of the as-of drop's school
year (``ccgi_dash.topics.aid.marks``, the one place that knows the late years), so one setting
serves every year.

Example::

    [goals.aid_completed]
    goal = "65%"              # or 0.65
    deadline = "cal_grant"    # or a date: 2027-03-02
    districts = { "1062166" = "70%" }
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ccgi_dash.metrics import METRICS, Filters
from ccgi_dash.scope import Scope
from ccgi_dash.settings import GoalSetting, Settings


@dataclass(frozen=True)
class Goal:
    """The goal in force for one metric and view, with its deadline resolved to a date."""

    metric_id: str
    rate: float
    """A share, 0 < rate <= 1."""
    deadline: date
    deadline_label: str
    """How the deadline reads: "Cal Grant deadline (Mar 2)" or "Mar 2, 2027"."""
    district: str | None = None
    """The district whose own goal this is; None for the county-wide goal."""

    @property
    def text(self) -> str:
        """ "65% by Mar 2" (whole percents print without decimals)."""
        pct = self.rate * 100
        shown = f"{pct:.0f}%" if abs(pct - round(pct)) < 1e-9 else f"{pct:.1f}%"
        return f"{shown} by {self.deadline:%b} {self.deadline.day}"

    @property
    def whose(self) -> str:
        return "district goal" if self.district else "county goal"


def cal_grant_deadline(drop: date) -> tuple[date, str]:
    """The Cal Grant deadline of the drop's school year and its label, from the financial aid
    calendar of ``topics.aid`` (imported, not copied: it knows the late-opening years)."""
    from ccgi_dash.topics.aid import marks

    for day, label in marks(drop):
        if label.startswith("Cal Grant"):
            return day, label
    raise LookupError(f"the financial aid calendar has no Cal Grant deadline for {drop}")


def deadline_date(spec: date | str, drop: date) -> tuple[date, str]:
    """A goal's deadline as a date and a label, for the school year of ``drop``."""
    if isinstance(spec, date):
        return spec, f"{spec:%b} {spec.day}, {spec.year}"
    if spec == "cal_grant":
        return cal_grant_deadline(drop)
    raise ValueError(f"unknown deadline {spec!r}")


def single_district(scope: Scope, filters: Filters = Filters()) -> str | None:
    """The one district a view shows, if it shows exactly one (a district filter, a school
    filter within one district, or a scope of one district); else None (the county goal)."""
    if len(filters.districts) == 1:
        return filters.districts[0]
    if filters.schools and len({s[:7] for s in filters.schools}) == 1:
        return filters.schools[0][:7]
    if not scope.all_districts and len(scope.districts) == 1:
        return scope.districts[0]
    return None


def goal_for(settings: Settings, metric_id: str, drop: date | None,
             district: str | None = None) -> Goal | None:
    """The goal of ``metric_id`` for a view of ``district`` (None: the county), or None.

    A district with its own goal gets it; any other view gets the county-wide goal."""
    if metric_id not in METRICS:
        raise ValueError(f"unknown metric {metric_id!r}")
    spec: GoalSetting | None = settings.goals.get(metric_id)
    if spec is None or drop is None:
        return None
    day, label = deadline_date(spec.deadline, drop)
    if district and district in spec.districts:
        return Goal(metric_id, spec.districts[district], day, label, district)
    return Goal(metric_id, spec.rate, day, label, None)


def goals_for(settings: Settings, drop: date | None,
              district: str | None = None) -> dict[str, Goal]:
    """Every metric's goal for a view of ``district`` (None: the county), by metric id."""
    out = {}
    for metric_id in settings.goals:
        goal = goal_for(settings, metric_id, drop, district)
        if goal is not None:
            out[metric_id] = goal
    return out
