"""What each dashboard shows, as frames: metrics already suppressed and labelled.

Pages call these and hand the result to ``charts`` and the UI layer; nothing here imports
streamlit, so every view is testable with a plain Warehouse. Each function takes the
``Request`` (scope, filters, as-of drop, threshold) first after the warehouse, and every
metric frame is suppressed by ``privacy.suppress_metric``, so the chart, the table and the
download of a view, and every other view of the same drop, hide the same cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from ccgi_dash import metrics
from ccgi_dash.datasets import DIMENSIONS
from ccgi_dash.memo import WarehouseMemo
from ccgi_dash.metrics import Request
from ccgi_dash.privacy import (
    EMPTY_GROUP,
    SUPPRESSED,
    format_count,
    format_rate,
    format_size,
    suppress_metric,
)
from ccgi_dash.scope import Scope
from ccgi_dash.settings import Settings
from ccgi_dash.store import Warehouse


@dataclass(frozen=True)
class Options:
    """What the sidebar may offer this scope: only districts and schools it can read."""

    drops: tuple[date, ...]
    districts: tuple[tuple[str, str], ...]
    schools: tuple[tuple[str, str, str], ...]
    """(cds, school name, district code)."""

    def district_name(self, code: str) -> str:
        return dict(self.districts).get(code, code)

    def school_name(self, cds: str) -> str:
        return {s[0]: s[1] for s in self.schools}.get(cds, cds)


_OPTIONS = WarehouseMemo(capacity=256)
"""``options`` per (drop, scope): a panel naming the district of each school asks them on
every new filter, and at Los Angeles scale the query reads 680,000 rows (about 15 ms)."""


def options(wh: Warehouse, scope: Scope, as_of: date | None = None) -> Options:
    """Districts and schools of the as-of drop within the scope, with their names."""
    drop = wh.resolve(as_of)
    if drop is None or scope.sees_nothing:
        return Options(tuple(wh.drops), (), ())
    return _OPTIONS.get_or_make(wh, (drop, scope), lambda: _options(wh, scope, drop))


def _options(wh: Warehouse, scope: Scope, drop: date) -> Options:
    scope_sql, params = scope.named_sql()
    sql = (f"SELECT district_code, any_value(district_name), school_cds, any_value(school_name) "
           f"FROM {wh.table(drop, 'student_facts')} WHERE {scope_sql} "
           f"GROUP BY district_code, school_cds")
    with wh.query() as cur:
        rows = cur.execute(sql, params).fetchall()
    districts = sorted({(r[0], r[1]) for r in rows}, key=lambda x: (x[1], x[0]))
    schools = sorted({(r[2], r[3], r[0]) for r in rows}, key=lambda x: (x[1], x[0]))
    return Options(tuple(wh.drops), tuple(districts), tuple(schools))


def label(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Add a readable ``<dim>_label`` for each breakdown column: names rather than codes."""
    out = frame.copy()
    for dim in by:
        if dim == "district":
            out["district_label"] = out["district_name"]
        elif dim == "school":
            out["school_label"] = out["school_name"]
        elif dim == "grade_level":
            out["grade_level_label"] = [f"Grade {int(g)}" for g in out["grade_level"]]
        elif dim == "drop_date":
            out["drop_date_label"] = [str(x) for x in out["drop_date"]]
        elif dim == "county":
            out["county_label"] = "County"
        else:
            out[f"{dim}_label"] = [DIMENSIONS[dim].label(v) for v in out[dim]]
    return out


def suppressed(wh: Warehouse, req: Request, metric_id: str,
               by: Sequence[str] = ()) -> pd.DataFrame:
    """A metric by a breakdown, counted and suppressed (``privacy.suppress_metric``): the
    frame every view of a metric starts from. For a county comparison (``county_request``)
    the cells that would give away another district's figures are withheld too
    (``withheld_from_comparison``), so every county figure of every page obeys one rule."""
    frame = metrics.compute(wh, req.scope, metric_id, by, req.filters, req.as_of)
    out = suppress_metric(wh, req, metric_id, by, frame)
    if isinstance(req, CountyRequest) and req.own:
        withheld = withheld_from_comparison(wh, req, metric_id, by, out)
        out["county_withheld"] = withheld.to_numpy()
        if withheld.any():
            out["suppressed"] = out["suppressed"].astype(bool) | withheld
            out["population_hidden"] = out["population_hidden"].astype(bool) | withheld
            for col in ("numerator", "denominator", "rate"):
                out[col] = out[col].astype("object").where(~withheld, None)
    return out


COUNTY_WITHHELD = "county not shown: it would reveal another district's figures"
"""What a county comparison reads where ``withheld_from_comparison`` holds it back."""


@dataclass(frozen=True)
class CountyRequest(Request):
    """The county's view of a narrower request (``county_request``), for comparison only.

    ``own`` are the districts of the user's scope (empty for a county-wide user, who may
    see every district anyway): the county minus them is the rest of the county, which
    must not come out as another district's figures."""

    own: tuple[str, ...] = ()


def county_withheld_note(frame: pd.DataFrame | None) -> str | None:
    """The sentence a chart adds when its county line or bar is withheld (any cell of the
    county's frame, ``withheld_from_comparison``), else None."""
    if frame is None or "county_withheld" not in frame or not frame["county_withheld"].any():
        return None
    return COUNTY_WITHHELD[0].upper() + COUNTY_WITHHELD[1:] + "."


def withheld_from_comparison(wh: Warehouse, creq: CountyRequest, metric_id: str,
                             by: Sequence[str], frame: pd.DataFrame) -> pd.Series:
    """THE rule of every county comparison: which cells of the county's view ``frame``
    (the county request's suppressed view of ``metric_id`` by ``by``) a user of the
    districts ``creq.own`` may not be shown.

    The county's figure minus the user's own is the rest of the county. It is shown only
    when that rest has no students in the cell's population (nothing to reveal), or covers
    at least two districts with students in it and at least ``threshold`` students: else
    the rest is one other district's count, rate and size (a county of two districts), or a
    group of 1 to threshold-1 students (county foster youth 15, own 12). Counted from the
    county's raw counts by district with the same drop, filters and breakdown. A breakdown
    of two dimensions cannot be counted by district too (three dimensions): every cell of
    it is withheld."""
    out = pd.Series(False, index=frame.index)
    if frame.empty or not creq.own:
        return out
    by = list(by)
    if len(by) > 1:
        return pd.Series(True, index=frame.index)
    raw = metrics.compute(wh, creq.scope, metric_id, ["district", *by], creq.filters,
                          creq.as_of)
    rest = raw[~raw["district"].astype(str).isin(creq.own)]
    rest = rest[rest["denominator"] > 0]
    if by:
        per = rest.groupby(by[0], sort=False).agg(districts=("district", "nunique"),
                                                 students=("denominator", "sum"))
        cells = frame[by[0]]
        districts = per["districts"].reindex(cells).fillna(0).to_numpy()
        students = per["students"].reindex(cells).fillna(0).to_numpy()
    else:
        districts = [rest["district"].nunique()] * len(frame)
        students = [int(rest["denominator"].sum())] * len(frame)
    shown = [n == 0 or (d >= 2 and n >= creq.threshold)
             for d, n in zip(districts, students, strict=True)]
    return pd.Series([not x for x in shown], index=frame.index)


def metric_view(wh: Warehouse, req: Request, metric_id: str,
                by: Sequence[str] = ()) -> pd.DataFrame:
    """A metric by a breakdown, suppressed and labelled, with display strings.

    Columns: breakdown columns and their labels, numerator, denominator (None where the
    population is a hidden count of another metric), rate (hidden when suppressed),
    suppressed, population_hidden, ``rate_text``, ``count_text`` and ``size_text``.
    """
    frame = label(suppressed(wh, req, metric_id, by), by)
    return with_texts(frame)


def with_texts(frame: pd.DataFrame) -> pd.DataFrame:
    """Display strings of a suppressed frame: ``*`` where hidden, ``--`` for no students,
    and for a withheld county comparison the reason in words (``COUNTY_WITHHELD``)."""
    frame["rate_text"] = [format_rate(r, d, s) for r, d, s in
                          zip(frame["rate"], frame["denominator"], frame["suppressed"],
                              strict=True)]
    if "county_withheld" in frame:
        frame["rate_text"] = frame["rate_text"].where(~frame["county_withheld"].astype(bool),
                                                      f"({COUNTY_WITHHELD})")
    frame["count_text"] = [format_count(n, s) for n, s in
                           zip(frame["numerator"], frame["suppressed"], strict=True)]
    frame["size_text"] = [format_size(d) for d in frame["denominator"]]
    return frame


def population_size(frame: pd.DataFrame) -> int:
    """Students in the population of a view (hidden sizes count: only "is anyone here?")."""
    if frame is None or frame.empty or "denominator" not in frame:
        return 0
    sizes = pd.to_numeric(frame["denominator"], errors="coerce")
    return int(sizes.fillna(1).sum())


def table_for(frame: pd.DataFrame, by: Sequence[str], metric_id: str,
              size_title: str | None = None) -> pd.DataFrame:
    """The table a person reads (and downloads) beside a chart: names, count, group, rate."""
    m = metrics.metric(metric_id)
    cols = {f"{d}_label": DIMENSIONS[d].title for d in by}
    out = frame[list(cols)].rename(columns=cols)
    out[m.title] = frame["count_text"].to_numpy()
    out[size_title or m.population_title] = [format_size(d) for d in frame["denominator"]]
    out["Rate"] = frame["rate_text"].to_numpy()
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class Headline:
    """One headline card: the rate now, and its change since the last drop and last year."""

    metric_id: str
    title: str
    drop: date | None
    rate: float | None
    numerator: int | None
    denominator: int | None
    """None when the population is itself a hidden count (``privacy.suppress_metric``)."""
    suppressed: bool
    previous_drop: date | None
    previous_rate: float | None
    last_year_drop: date | None
    last_year_rate: float | None
    grades: tuple[int, ...] = ()
    """The grade filter of the view, to name an "all students" population ("grades 6-12")."""
    county_rate: float | None = None
    county_suppressed: bool = False
    compared: bool = False
    """True when the view is narrower than the county (a district leader, a district or
    school filter): the card then shows the county's rate beside the view's own."""
    county_withheld: bool = False
    """True when the county's rate would give away another district's figures
    (``withheld_from_comparison``): the card says so instead of a number."""

    @property
    def text(self) -> str:
        return format_rate(self.rate, self.denominator, self.suppressed)

    @property
    def population_text(self) -> str:
        """Of whom the rate is: "of 4,600 seniors", "of 28,000 students in grades 6-12"; a
        population that is itself a hidden count reads ``*`` (``privacy.format_size``)."""
        noun = self.noun
        if metrics.metric(self.metric_id).population == "all":
            noun = f"students in {grades_text(self.grades)}"
        return f"of {format_size(self.denominator)} {noun}"

    @property
    def county_text(self) -> str | None:
        """The county's rate for the same measure and filters, or None when not compared."""
        if not self.compared:
            return None
        if self.county_withheld:
            return "not shown (it would reveal another district's figures)"
        if self.county_suppressed:
            return SUPPRESSED
        return EMPTY_GROUP if self.county_rate is None else f"{self.county_rate * 100:.1f}%"

    @property
    def noun(self) -> str:
        return metrics.metric(self.metric_id).noun

    @property
    def help(self) -> str:
        return metrics.metric(self.metric_id).help

    @staticmethod
    def _delta(now: float | None, then: float | None) -> str | None:
        if now is None or then is None:
            return None
        points = round((now - then) * 100, 1)
        return "no change" if points == 0 else f"{points:+.1f} pts"

    @property
    def delta_previous(self) -> str | None:
        return self._delta(self.rate, self.previous_rate)

    @property
    def delta_last_year(self) -> str | None:
        return self._delta(self.rate, self.last_year_rate)


def _rate_at(wh: Warehouse, req: Request, metric_id: str,
             drop: date | None) -> tuple[float | None, int | None, int | None, bool]:
    if drop is None:
        return None, None, 0, False
    return _rate_of(suppressed(wh, req.at(drop), metric_id).iloc[0])


def _rate_of(row: pd.Series) -> tuple[float | None, int | None, int | None, bool]:
    """Rate, count, population and whether hidden, of a total's suppressed row."""
    rate = None if row["suppressed"] or row["rate"] is None else float(row["rate"])
    num = None if row["suppressed"] else int(row["numerator"])
    den = None if row["denominator"] is None or pd.isna(row["denominator"]) else int(
        row["denominator"])
    return rate, num, den, bool(row["suppressed"])


def grades_text(grades: Sequence[int]) -> str:
    """"grades 6-12" for the whole roster, else the grades of the filter ("grade 9",
    "grades 9, 10")."""
    if not grades or tuple(sorted(grades)) == tuple(range(6, 13)):
        return "grades 6-12"
    gs = sorted(grades)
    if len(gs) == 1:
        return f"grade {gs[0]}"
    if gs == list(range(gs[0], gs[-1] + 1)):
        return f"grades {gs[0]}-{gs[-1]}"
    return "grades " + ", ".join(str(g) for g in gs)


def narrower_than_county(req: Request) -> bool:
    """Whether a view shows less than the whole county (a district leader's scope, or a
    district or school filter): such a view is shown beside the county's figure."""
    return (not req.scope.all_districts) or bool(req.filters.districts or req.filters.schools)


def county_request(req: Request) -> Request | None:
    """The county's view of the same drop, grades and student groups, for a view narrower
    than the county (a district leader's scope, or a district or school filter); None when the
    view is the county already, or sees nothing.

    The scope is widened to every district for aggregates only (no student rows), and every
    number drawn from it is counted and suppressed exactly as any aggregate is, so a district
    leader sees the county's rate (or ``*``) and nothing more: no student rows, no other
    district's figures. Cards, breakdowns, trends and Equity all take the county from here,
    as a ``CountyRequest`` naming the user's own districts, so that ``suppressed`` withholds
    any county cell that would reveal another district (``withheld_from_comparison``)."""
    if not narrower_than_county(req) or req.scope.sees_nothing:
        return None
    scope = Scope(req.scope.role, all_districts=True, student_level=False,
                  dataset=req.scope.dataset, user=req.scope.user)
    filters = metrics.Filters((), (), req.filters.grades, req.filters.groups)
    own = () if req.scope.all_districts else tuple(req.scope.districts)
    return CountyRequest(scope, filters, req.as_of, req.threshold, own)


def headline(wh: Warehouse, req: Request, metric_id: str) -> Headline:
    """A metric at the as-of drop, the previous drop, the same week last year, and (for a
    view narrower than the county) the county's rate at the same drop."""
    drop = wh.resolve(req.as_of)
    prev = metrics.previous_drop(wh.drops, drop) if drop else None
    last = metrics.same_week_last_year(wh.drops, drop) if drop else None
    rate, num, den, sup = _rate_at(wh, req, metric_id, drop)
    prev_rate = _rate_at(wh, req, metric_id, prev)[0]
    last_rate = _rate_at(wh, req, metric_id, last)[0]
    county = county_request(req)
    compared = county is not None
    county_rate, county_sup, withheld = None, False, False
    if county is not None and drop is not None:
        row = suppressed(wh, county.at(drop), metric_id).iloc[0]
        county_rate, _, _, county_sup = _rate_of(row)
        withheld = bool(row.get("county_withheld", False))
    return Headline(metric_id, metrics.metric(metric_id).card_title, drop, rate, num, den, sup,
                    prev, prev_rate, last, last_rate, req.filters.grades, county_rate,
                    county_sup, compared, withheld)


@dataclass(frozen=True)
class CardPace:
    """A card's goal and pace (``pace.Pace``): its card line ("Goal 65% by Mar 2 · projected
    58.3% · not on pace"), the one-sentence status with the method, and ``on_pace`` (None
    when unknown)."""

    metric_id: str
    text: str
    status: str
    on_pace: bool | None


def card_paces(wh: Warehouse, req: Request, settings: Settings,
               metric_ids: Sequence[str]) -> dict[str, CardPace]:
    """The goal and pace of each card whose metric has a goal (``goals.goal_for`` first, so
    cards without a goal cost no projection; then ACTUI's ``pace.pace`` on the request)."""
    from ccgi_dash import goals, pace

    drop = wh.resolve(req.as_of)
    district = goals.single_district(req.scope, req.filters)
    out: dict[str, CardPace] = {}
    for m in metric_ids:
        if goals.goal_for(settings, m, drop, district) is None:
            continue
        p = pace.pace(wh, req, m, settings)
        if p.goal is None:
            continue
        out[m] = CardPace(m, p.card_text or f"Goal {p.goal.text}", p.status, p.on_pace)
    return out


FUNNEL_STAGES: tuple[tuple[str, str | None, str], ...] = (
    ("Students on the roster (grades 6-12)", None, "all"),
    ("Students with an account", "account_registered", "all"),
    ("Seniors", None, "seniors"),
    ("Seniors a-g eligible for CSU", "csu_eligible", "seniors"),
    ("Seniors who applied (UC, CSU or CCC)", "any_app_submitted", "seniors"),
    ("Seniors with FAFSA/CADAA submitted", "aid_submitted", "seniors"),
    ("Seniors with FAFSA/CADAA completed", "aid_completed", "seniors"),
)


def funnel(wh: Warehouse, req: Request) -> pd.DataFrame:
    """The county funnel: each stage's students and its share of the stage's population.

    Columns: stage, students (None when suppressed), population, rate, suppressed, and the
    display strings. Stages with no metric are the populations themselves.
    """
    rows = []
    for stage, metric_id, population in FUNNEL_STAGES:
        probe = metric_id or ("account_registered" if population == "all" else "aid_submitted")
        r = suppressed(wh, req, probe).iloc[0]
        den = int(r["denominator"])
        if metric_id is None:
            sup = bool(0 < den < req.threshold)
            rows.append((stage, None if sup else den, den, None if sup else (1.0 if den else None),
                         sup))
        else:
            rows.append((stage, r["numerator"], den, r["rate"], bool(r["suppressed"])))
    out = pd.DataFrame(rows, columns=["stage", "students", "population", "rate", "suppressed"])
    out["students_text"] = [format_count(n, s) for n, s in
                            zip(out["students"], out["suppressed"], strict=True)]
    out["rate_text"] = [format_rate(r, d, s) for r, d, s in
                        zip(out["rate"], out["population"], out["suppressed"], strict=True)]
    return out


def trend(wh: Warehouse, req: Request, metric_id: str, by: str | None = None) -> pd.DataFrame:
    """The weekly trend of a metric (one point per loaded drop up to as-of), optionally by a
    second dimension."""
    dims = ("drop_date",) if by is None else ("drop_date", by)
    return metric_view(wh, req, metric_id, dims)


def weekly_year_over_year(wh: Warehouse, req: Request, metric_id: str) -> pd.DataFrame:
    """The weekly trend of this school year and last, on this year's calendar.

    One point per loaded drop of the two school years up to the as-of drop; last year's
    drops are moved forward by whole school years so the weeks line up. Adds ``year_label``
    (e.g. "2025-26") and ``plot_date`` to ``metric_view``'s columns.
    """
    drop = wh.resolve(req.as_of)
    frame = trend(wh, req, metric_id)
    if drop is None or frame.empty:
        return frame.assign(year_label=[], plot_date=[])
    this = metrics.school_year_of(drop)
    years = [metrics.school_year_of(d) for d in frame["drop_date"]]
    keep = [y in (this, this - 1) for y in years]
    frame = frame[keep].copy()
    frame["year_label"] = [metrics.school_year_label(d) for d in frame["drop_date"]]
    frame["plot_date"] = [d + (school_year_start(drop) - school_year_start(d))
                          for d in frame["drop_date"]]
    return frame.reset_index(drop=True)


def school_year_start(d: date) -> date:
    return date(metrics.school_year_of(d), 7, 1)
