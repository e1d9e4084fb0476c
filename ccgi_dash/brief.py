"""The one-page brief: a Letter-size, tagged (accessible) PDF of one view for a board meeting.

``brief_pdf(wh, request, settings)`` returns the PDF's bytes for the view the request's
filters name (one district, or one school, or the county), narrowed by the request's grade
and student-group filters as every page and ``export`` narrow it (the page states them under
the scope line: "Grade 12 · Foster youth"); ``brief_for_view`` adds the file
name and audit text for the Overview's "Download brief (PDF)" button, and
``python -m ccgi_dash brief`` calls ``brief_data`` and ``pdf_of``. The request carries
the scope, the as-of drop and the county's suppression threshold (no default anywhere).
Its numbers come from ``export.metric_export``, the function behind ``export``, suppressed by
``privacy.suppress_metric`` (a population that is another metric's hidden count is hidden
too), so a brief and an export of the same view show the same counts, rates and ``*``. The
scope is checked first: a district leader can brief only their own districts.

Why WeasyPrint and matplotlib: the page is laid out as HTML and CSS (a table is a table, a
heading a heading), and WeasyPrint writes it as PDF/UA-1, a *tagged* PDF with a structure
tree, the document language and title, alternative text on every figure and tables as
tables: what WCAG 2.1 AA and the ADA Title II rule ask of a PDF a public body hands out.
Reportlab's open-source edition writes untagged PDFs, and plotly's static export (kaleido)
needs a Chrome at run time; matplotlib draws SVG with nothing beyond the wheel, and
WeasyPrint keeps the SVG as vector art. WeasyPrint needs Debian's Pango libraries
(``libpango-1.0-0``, ``libpangoft2-1.0-0``), which ``run.sh`` and ``test.sh`` install.
"""

from __future__ import annotations

import base64
import functools
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pandas as pd

from ccgi_dash import metrics
from ccgi_dash.datasets import DIMENSIONS, SUBGROUP_DIMENSIONS
from ccgi_dash.export import metric_export
from ccgi_dash.goals import Goal, goal_for
from ccgi_dash.metrics import METRICS, POPULATIONS, Filters, MetricError, Request
from ccgi_dash.pace import Pace, pace, projection_line, series
from ccgi_dash.privacy import format_count, format_rate, format_size, suppress
from ccgi_dash.scope import Scope
from ccgi_dash.settings import Settings
from ccgi_dash.store import Warehouse
from ccgi_dash.students import FOLLOW_UPS, list_sizes

HEADLINE_METRICS: tuple[str, ...] = ("aid_completed", "aid_submitted", "any_app_submitted",
                                     "csu_eligible", "account_registered")
"""The brief's headline rates, in reading order; metrics with a goal are added after them."""
KEY_METRIC = "aid_completed"
"""The metric of the trend chart: FAFSA/CADAA completion, what Race to Submit ranks by."""
PARTS_ROWS = 12
"""The schools (or districts) chart lists at most this many; the dashboard has them all."""

# Okabe-Ito: colour-blind safe, one meaning each across the brief.
THIS_YEAR, LAST_YEAR, GOAL_COLOUR, PROJECTION = "#0072B2", "#8C8C8C", "#D55E00", "#0072B2"


class BriefError(ValueError):
    """A brief that cannot be made as asked (unknown district or school, no data)."""


class BriefScopeError(PermissionError):
    """The user's scope does not include the district asked for."""


# --- the grade and student-group filters --------------------------------------------------------

def narrowing_filters(grades: Sequence[int] = (),
                      groups: Sequence[tuple[str, str]] = ()) -> Filters:
    """The grade and student-group filters of ``brief --grade N --group DIMENSION=VALUE``,
    parsed by ``Filters.parse`` (what ``export --where`` uses, so both mean the same; it
    refuses a code its dimension does not have). The dimension must be a student group
    (district, school and grade have options of their own). Raises ``BriefError`` naming the
    choices."""
    for g in grades:
        if not 6 <= g <= 12:
            raise BriefError(f"a grade is 6 to 12, not {g}")
    for dim, _value in groups:
        if dim not in SUBGROUP_DIMENSIONS:
            raise BriefError(f"unknown student group {dim!r}: --group takes one of "
                             f"{', '.join(SUBGROUP_DIMENSIONS)}, like --group foster_youth=Y")
    try:
        return Filters.parse([*(("grade_level", str(g)) for g in grades), *groups])
    except MetricError as exc:
        raise BriefError(str(exc)) from exc


def filters_text(filters: Filters) -> str:
    """How the brief states its grade and student-group filters under the scope line:
    "Grade 12 · Foster youth", "Grades 11-12 · Race/ethnicity: Asian, Filipino"; "" when
    none is set. A yes/no group chosen as "Y" reads as its name alone."""
    from ccgi_dash.views import grades_text

    parts = []
    if filters.grades:
        text = grades_text(filters.grades)  # as the cards say it: "grades 9-10"
        parts.append(text[0].upper() + text[1:])
    for dim, values in filters.groups:
        d = DIMENSIONS[dim]
        if tuple(values) == ("Y",) and d.labels.get("N") == "No":
            parts.append(d.title)
        else:
            parts.append(f"{d.title}: " + ", ".join(d.label(v) for v in values))
    return " · ".join(parts)


@functools.cache
def population_grades() -> dict[str, frozenset[int]]:
    """The grades each population of ``metrics.POPULATIONS`` can hold, read off its own SQL
    (the one definition) over grades 6-12 with every flag set, so a grade filter that leaves
    a measure no students is said in words rather than shown as an empty rate."""
    import duckdb

    out = {}
    with duckdb.connect() as con:
        for pid, pop in POPULATIONS.items():
            rows = con.execute(
                "SELECT grade_level FROM (SELECT g::INTEGER AS grade_level, TRUE AS uc_eligible, "
                f"TRUE AS csu_eligible FROM range(6, 13) t(g)) WHERE {pop.sql}").fetchall()
            out[pid] = frozenset(int(r[0]) for r in rows)
    return out


def population_title(metric_id: str, filters: Filters) -> str:
    """Of whom a headline rate is, under its title: the catalogue's population ("Seniors"),
    with "all students" named by their grades as the cards name them ("Students in grade
    12" under a grade filter, else "Students in grades 6-12")."""
    from ccgi_dash.views import grades_text

    m = METRICS[metric_id]
    if m.population == "all":
        return f"Students in {grades_text(filters.grades)}"
    return m.population_title


def outside_grades(metric_id: str, filters: Filters) -> str | None:
    """Why a measure cannot apply to the grade filter ("counts seniors (grade 12); the
    filter is grade 9"), or None when some filtered grade is in its population."""
    if not filters.grades:
        return None
    grades = population_grades()[METRICS[metric_id].population]
    if grades & set(filters.grades):
        return None
    held = sorted(grades)
    span = (f"grade {held[0]}" if len(held) == 1 else f"grades {held[0]}-{held[-1]}")
    chosen = ", ".join(str(g) for g in filters.grades)
    noun = METRICS[metric_id].noun
    whom = noun if "grade" in noun else f"{noun} ({span})"
    return (f"counts {whom}; the filter is grade"
            f"{'s' if len(filters.grades) > 1 else ''} {chosen}")


@dataclass(frozen=True)
class Headline:
    """One headline row: the rate now (as ``export`` gives it), last year, goal and pace."""

    metric_id: str
    title: str
    population: str
    numerator: int | None
    denominator: int | None
    """None where the population is itself another metric's hidden count (issue 14)."""
    rate: float | None
    suppressed: bool
    last_year_rate: float | None
    pace: Pace | None = None
    not_applicable: str | None = None
    """Why the grade filter leaves this measure no students ("counts seniors (grade 12); the
    filter is grade 9"), or None."""

    @property
    def rate_text(self) -> str:
        if self.not_applicable:
            return "n/a"
        return format_rate(self.rate, self.denominator, self.suppressed)

    @property
    def count_text(self) -> str:
        if self.not_applicable:
            return "n/a"
        if self.suppressed:
            return "*"
        return f"{format_count(self.numerator, False)} of {format_size(self.denominator)}"

    @property
    def last_year_text(self) -> str:
        return "--" if self.last_year_rate is None else f"{self.last_year_rate * 100:.1f}%"

    @property
    def change_text(self) -> str:
        if self.rate is None or self.last_year_rate is None or self.suppressed:
            return "--"
        pts = round((self.rate - self.last_year_rate) * 100, 1)
        return "no change" if pts == 0 else f"{pts:+.1f} pts"

    @property
    def goal(self) -> Goal | None:
        return self.pace.goal if self.pace else None


@dataclass(frozen=True)
class FollowUpCount:
    """How many students one follow-up list holds (a count only; ``*`` for 1 to 10)."""

    list_id: str
    title: str
    students: int | None
    suppressed: bool

    @property
    def text(self) -> str:
        return format_count(self.students, self.suppressed)


@dataclass(frozen=True)
class Brief:
    """Everything the page shows, as data (tests and the HTML read the same object)."""

    scope_name: str
    county_name: str
    district: str | None
    school: str | None
    filters: Filters
    drop: date
    last_year_drop: date | None
    synthetic: bool
    headlines: list[Headline]
    trend: pd.DataFrame
    """Weekly rate of the key metric: ``year`` ("this"/"last"), ``date`` (this year's
    calendar), ``rate`` (None where suppressed)."""
    projection: pd.DataFrame
    """The key metric's projection line: ``date``, ``rate``."""
    parts: pd.DataFrame
    """The key metric by school (a district brief) or district (a county brief): ``name``,
    ``seniors``, ``rate`` (None when suppressed), ``rate_text``. Empty for a school brief."""
    parts_title: str
    parts_total: int
    followups: list[FollowUpCount] = field(default_factory=list)

    @property
    def key(self) -> Headline:
        return next(h for h in self.headlines if h.metric_id == KEY_METRIC)

    @property
    def narrowing(self) -> str:
        """The grade and student-group filters as the page states them ("Grade 12 · Foster
        youth"), or "" for all the view's students."""
        return filters_text(self.filters)


def followup_counts(wh: Warehouse, request: Request) -> list[FollowUpCount]:
    """How many students each follow-up list (``students.FOLLOW_UPS``, one definition) holds
    in the request's view, as aggregates any role may see: a list of 1 to threshold-1
    students reads ``*``. The lists are not metrics, so ``suppress_metric`` cannot judge
    them; they go through ``privacy.suppress`` with the list as the group, the rule the
    privacy module applies to ranked lists (counts of students, not rates).

    A list that is a metric's population minus its count (``FollowUp.complement_of``: no
    account = students - accounts registered) would give that count away beside the
    population, so it is hidden too wherever one of those metrics hides its count in the
    view's table (primary or complementary), read as ``view_row`` reads it: the school's row
    of the by-school view of its district, the district's row of the by-district view, or
    the county's one row."""

    def hidden_in_view(metric_id: str) -> bool:
        filters = request.filters
        at = replace(request, as_of=drop)
        if filters.schools:
            districts = tuple(sorted({s[:7] for s in filters.schools} | set(filters.districts)))
            parent = replace(at, filters=replace(filters, districts=districts, schools=()))
            by, rows = "school", set(filters.schools)
        elif filters.districts:
            parent = replace(at, filters=replace(filters, districts=()))
            by, rows = "district", set(filters.districts)
        else:
            return bool(metric_export(wh, at, metric_id, ())["suppressed"].any())
        frame = metric_export(wh, parent, metric_id, (by,))
        return bool(frame.loc[frame[by].astype(str).isin(rows), "suppressed"].any())

    drop = wh.resolve(request.as_of)
    ids = list(FOLLOW_UPS)
    scope = request.scope
    sizes = list_sizes(wh, scope, request.filters, request.as_of)
    values = [sizes[i] for i in ids]
    frame = suppress(pd.DataFrame({"list_id": ids, "students": values}), (),
                     request.threshold, count_col="students")
    if drop is not None and not scope.sees_nothing:
        hidden = {m: hidden_in_view(m)
                  for m in sorted({m for x in FOLLOW_UPS.values() for m in x.complement_of})}
        frame["suppressed"] = [bool(s) or any(hidden[m] for m in FOLLOW_UPS[i].complement_of)
                               for i, s in zip(frame["list_id"], frame["suppressed"],
                                               strict=True)]
    return [FollowUpCount(i, FOLLOW_UPS[i].title,
                          None if s else int(n), bool(s))
            for i, n, s in zip(frame["list_id"], frame["students"], frame["suppressed"],
                               strict=True)]


def view_row(wh: Warehouse, request: Request, metric_id: str,
             row_of: tuple[str, str] | None) -> pd.Series:
    """The view's export row at the request's drop:
    for a school, its row of ``export --by school --where district=D`` (the request's
    filters are that parent view's); for a district, its row of ``export --by district``;
    for the county, ``export`` with no breakdown. Taking the row from the table it belongs
    to keeps a cell that table hides (complementary suppression included) hidden in the
    brief too."""
    by = () if row_of is None else (row_of[0],)
    frame = metric_export(wh, request, metric_id, by)
    if row_of is not None:
        frame = frame[frame[row_of[0]].astype(str) == row_of[1]]
    if frame.empty:
        return pd.Series({"numerator": 0, "denominator": 0, "rate": None, "suppressed": False})
    return frame.iloc[0]


def denominator(row: pd.Series) -> int | None:
    """An export row's group size; None where it is another metric's hidden count."""
    value = row["denominator"]
    return None if value is None or pd.isna(value) else int(value)


def _rate(row: pd.Series | None) -> float | None:
    if row is None or bool(row["suppressed"]) or not denominator(row):
        return None
    return int(row["numerator"]) / int(row["denominator"])


def resolve_view(wh: Warehouse, scope: Scope, district: str | None, school: str | None,
                 drop: date) -> tuple[str, Filters]:
    """The view's name and filters, refusing a district outside the scope by name."""
    if school and not district:
        district = school[:7]
    if district is not None:
        if not (len(district) == 7 and district.isdigit()):
            raise BriefError(f"{district!r} is not a district code (7 digits, like 1062166)")
        if not scope.allows_district(district):
            mine = ", ".join(scope.districts) or "none"
            raise BriefScopeError(f"this account may brief only its own districts ({mine}), "
                                  f"not {district}")
    if school is not None:
        if not (len(school) == 14 and school.isdigit()):
            raise BriefError(f"{school!r} is not a school CDS code (14 digits)")
        if school[:7] != district:
            raise BriefError(f"school {school} is not in district {district}")
    scope_sql, params = scope.named_sql()
    facts = wh.table(drop, "student_facts")
    with wh.query() as cur:
        if school:
            row = cur.execute(f"SELECT any_value(school_name), any_value(district_name) FROM "
                              f"{facts} WHERE school_cds = $school AND {scope_sql}",
                              {**params, "school": school}).fetchone()
            if row is None or row[0] is None:
                raise BriefError(f"school {school} has no students in the drop of {drop}")
            return f"{row[0]}, {row[1]}", Filters(districts=(district,), schools=(school,))
        if district:
            row = cur.execute(f"SELECT any_value(district_name) FROM {facts} "
                              f"WHERE district_code = $district AND {scope_sql}",
                              {**params, "district": district}).fetchone()
            if row is None or row[0] is None:
                raise BriefError(f"district {district} has no students in the drop of {drop}")
            return str(row[0]), Filters(districts=(district,))
    if not scope.all_districts:
        if len(scope.districts) == 1:
            return resolve_view(wh, scope, scope.districts[0], None, drop)
        raise BriefError("choose one of your districts: --district CODE")
    return "All districts", Filters()


def _trend(wh: Warehouse, parent: Request, row_of: tuple[str, str] | None,
           drop: date) -> pd.DataFrame:
    frame = series(wh, parent, KEY_METRIC, row_of)
    year = metrics.school_year_of(drop)
    rows = []
    for _, r in frame.iterrows():
        d = date.fromisoformat(str(r["drop_date"]))
        y = metrics.school_year_of(d)
        if y not in (year, year - 1):
            continue
        shifted = d + (date(year, 7, 1) - date(y, 7, 1))
        rows.append(("this" if y == year else "last", shifted, _rate(r)))
    return pd.DataFrame(rows, columns=["year", "date", "rate"])


def _parts(wh: Warehouse, view: Request, district: str | None,
           school: str | None) -> tuple[pd.DataFrame, str, int]:
    cols = ["name", "seniors", "rate", "rate_text"]
    if school:
        return pd.DataFrame(columns=cols), "", 0
    by = "school" if district else "district"
    frame = metric_export(wh, view, KEY_METRIC, (by,))
    frame = frame[frame["denominator"].fillna(1) > 0]
    out = pd.DataFrame({
        "name": frame[f"{by}_name"].astype(str).to_numpy(),
        "seniors": [denominator(r) for _, r in frame.iterrows()],
        "rate": [None if s else float(n) / float(d) for n, d, s in
                 zip(frame["numerator"], frame["denominator"], frame["suppressed"],
                     strict=True)],
        "rate_text": [format_rate(r, d, s) for r, d, s in
                      zip(frame["rate"], frame["denominator"], frame["suppressed"],
                          strict=True)],
    })
    total = len(out)
    out = out.assign(_size=out["seniors"].fillna(0))
    out = out.sort_values("_size", ascending=False, kind="stable").head(PARTS_ROWS)
    out = out.drop(columns="_size").sort_values("name", kind="stable").reset_index(drop=True)
    title = ("Schools" if by == "school" else "Districts")
    return out, title, total


def brief_data(wh: Warehouse, request: Request, settings: Settings, *,
               synthetic: bool | None = None) -> Brief:
    """What the brief of the request's view shows: the one district or school its filters
    name (``view_of``), or the county when they name none and the scope is county-wide, at
    the request's drop, suppressed with the request's threshold. The request's grade and
    student-group filters narrow every number as they narrow ``export --where`` (the
    headlines, last year, the pace, the charts, the table of schools or districts and the
    follow-up counts); a measure whose population the grade filter leaves empty says so
    (``Headline.not_applicable``) rather than showing an empty rate.

    Raises ``BriefScopeError`` for a district outside the scope, ``BriefError`` for an
    unknown district or school, several of them, or when no data is loaded."""
    scope = request.scope
    drop = wh.resolve(request.as_of)
    if drop is None:
        raise BriefError("no drop is loaded" + (f" on or before {request.as_of}"
                                                 if request.as_of else ""))
    district, school = view_of(scope, request.filters)
    name, place = resolve_view(wh, scope, district, school, drop)
    narrow = Filters(grades=request.filters.grades, groups=request.filters.groups)
    filters = replace(narrow, districts=place.districts, schools=place.schools)
    district = filters.districts[0] if filters.districts else None
    school = filters.schools[0] if filters.schools else None
    row_of: tuple[str, str] | None = (("school", school) if school else
                                      ("district", district) if district else None)
    view = replace(request, filters=filters, as_of=drop)
    parent = replace(view, filters=replace(narrow, districts=(district,))
                     if school and district else narrow)
    last = metrics.same_week_last_year(wh.drops, drop)
    ids = [*HEADLINE_METRICS, *(m for m in settings.goals if m not in HEADLINE_METRICS)]
    headlines = []
    for metric_id in ids:
        row = view_row(wh, parent, metric_id, row_of)
        then = _rate(view_row(wh, parent.at(last), metric_id, row_of)) if last else None
        hidden = bool(row["suppressed"])
        p = pace(wh, parent, metric_id, settings, row_of)
        headlines.append(Headline(
            metric_id, METRICS[metric_id].title, population_title(metric_id, filters),
            None if hidden or pd.isna(row["numerator"]) else int(row["numerator"]),
            denominator(row), _rate(row), hidden, then, p,
            outside_grades(metric_id, filters)))
    parts, parts_title, parts_total = _parts(wh, view, district, school)
    key_goal = goal_for(settings, KEY_METRIC, drop, district)
    through = key_goal.deadline if key_goal else next(
        h.pace.deadline for h in headlines if h.metric_id == KEY_METRIC and h.pace)
    county = settings.county_name or county_name_of(wh, drop)
    if not filters.districts and county:
        name = f"{county} County, all districts"
    return Brief(
        scope_name=name, county_name=county,
        district=district, school=school, filters=filters, drop=drop, last_year_drop=last,
        synthetic=(scope.dataset == "demo") if synthetic is None else synthetic,
        headlines=headlines, trend=_trend(wh, parent, row_of, drop),
        projection=projection_line(wh, parent, KEY_METRIC, through or drop, row_of),
        parts=parts, parts_title=parts_title, parts_total=parts_total,
        followups=followup_counts(wh, view),
    )


def county_name_of(wh: Warehouse, drop: date) -> str:
    """The county's name from the CDE directory of the loaded drop (a code if unknown)."""
    from ccgi_dash.reference import county_name

    with wh.query() as cur:
        row = cur.execute(f"SELECT any_value(county_code) FROM "
                          f"{wh.table(drop, 'student_facts')}").fetchone()
    code = row[0] if row else None
    return county_name(code) if code else ""


# --- charts (SVG) ------------------------------------------------------------------------------

def _svg(fig: Any) -> str:
    """A matplotlib figure as an SVG data URI (vector art in the PDF; text drawn as paths so
    the chart adds no stray text to the page's reading order)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _pyplot() -> Any:
    """pyplot on the Agg backend (no display), set up once for the brief's small charts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "ccgi-brief"})
    return plt


def trend_chart(b: Brief) -> tuple[str, str]:
    """The key metric's weekly curve this year and last, the goal and the dotted projection.
    Returns (SVG data URI, alternative text)."""
    plt = _pyplot()
    from matplotlib.ticker import PercentFormatter

    fig, ax = plt.subplots(figsize=(3.7, 1.9))
    key = b.key
    alt = ["Line chart of the share of seniors with a completed FAFSA or CADAA, by week, "
           "this school year and last."]
    for which, colour, label in (("last", LAST_YEAR, "Last year"),
                                 ("this", THIS_YEAR, "This year")):
        part = b.trend[(b.trend["year"] == which) & b.trend["rate"].notna()]
        if part.empty:
            continue
        ax.plot(list(part["date"]), [r * 100 for r in part["rate"]], color=colour,
                linewidth=2 if which == "this" else 1.5, solid_capstyle="round")
        ax.annotate(label, (part["date"].iloc[-1], part["rate"].iloc[-1] * 100),
                    xytext=(3, 0) if which == "last" else (-6, 10),
                    textcoords="offset points", color=colour, fontsize=7, va="center",
                    ha="left" if which == "last" else "right")
    if not b.projection.empty:
        ax.plot(list(b.projection["date"]), [r * 100 for r in b.projection["rate"]],
                color=PROJECTION, linestyle=(0, (1, 1.5)), linewidth=1.8)
        end = b.projection.iloc[-1]
        ax.plot([end["date"]], [end["rate"] * 100], marker="o", markersize=3, color=PROJECTION)
        ax.annotate(f"Projected {end['rate'] * 100:.1f}%\nat {end['date']:%b} {end['date'].day}",
                    (end["date"], end["rate"] * 100), xytext=(4, -14),
                    textcoords="offset points", color=PROJECTION, fontsize=6.5)
    if key.goal is not None:
        ax.axhline(key.goal.rate * 100, color=GOAL_COLOUR, linewidth=1, linestyle="--")
        ax.annotate(f"Goal {key.goal.text}", (0.01, key.goal.rate * 100), xycoords=(
            "axes fraction", "data"), xytext=(0, 3), textcoords="offset points",
            color=GOAL_COLOUR, fontsize=7)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter())
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(7, 9, 11, 1, 3, 5)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
    ax.grid(axis="y", color="#E5E5E5", linewidth=0.6)
    ax.tick_params(length=0)
    alt.append(f"Now ({b.drop:%b} {b.drop.day}): {key.rate_text}; same week last year: "
               f"{key.last_year_text}.")
    if key.pace and key.pace.at_deadline and key.pace.at_deadline.rate is not None:
        alt.append(f"Projected at {key.pace.deadline:%b} {key.pace.deadline.day}: "
                   f"{key.pace.at_deadline.text}.")
    if key.goal:
        alt.append(f"Goal: {key.goal.text}.")
    alt.append("The table below the chart gives these numbers.")
    return _svg(fig), " ".join(alt)


def compare_chart(b: Brief) -> tuple[str, str]:
    """Each headline rate now against the same week last year, as paired bars."""
    plt = _pyplot()
    rows = [h for h in b.headlines if h.metric_id in HEADLINE_METRICS]
    fig, ax = plt.subplots(figsize=(3.7, 1.75))
    y = list(range(len(rows)))[::-1]
    now = [(h.rate or 0) * 100 for h in rows]
    then = [(h.last_year_rate or 0) * 100 for h in rows]
    ax.barh([v + 0.2 for v in y], now, height=0.38, color=THIS_YEAR)
    ax.barh([v - 0.2 for v in y], then, height=0.38, color=LAST_YEAR)
    for v, h, n, t in zip(y, rows, now, then, strict=True):
        ax.annotate(h.rate_text, (n, v + 0.2), xytext=(2, 0), textcoords="offset points",
                    va="center", fontsize=6.5, color=THIS_YEAR)
        ax.annotate(h.last_year_text, (t, v - 0.2), xytext=(2, 0), textcoords="offset points",
                    va="center", fontsize=6.5, color="#595959")
    ax.set_yticks(y, [_short(h.title) for h in rows])
    top = max([*now, *then, 1])
    ax.set_xlim(0, min(100, top * 1.25 + 5))
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(length=0)
    ax.legend(["This year", "Same week last year"], loc="lower center", ncol=2,
              bbox_to_anchor=(0.45, 1.0), fontsize=6.5, frameon=False)
    parts = [f"{h.title}: {h.rate_text} now, {h.last_year_text} last year" for h in rows]
    alt = ("Bar chart comparing each headline rate now with the same week last year. "
           + "; ".join(parts) + ".")
    return _svg(fig), alt


def _short(title: str) -> str:
    return {"FAFSA/CADAA completed": "Aid completed", "FAFSA/CADAA submitted": "Aid submitted",
            "Applied anywhere": "Applied anywhere", "CSU a-g eligible": "CSU a-g eligible",
            "Accounts registered": "Accounts"}.get(title, title)


# --- the page ----------------------------------------------------------------------------------

CSS = """
@page { size: Letter; margin: 0.45in 0.5in 0.45in 0.5in;
        @bottom-left { font-size: 6.5pt; color: #595959; } }
html { font-family: "DejaVu Sans", sans-serif; font-size: 8.4pt; color: #1F2933; }
body { margin: 0; }
header { border-bottom: 2px solid #0072B2; padding-bottom: 4pt; margin-bottom: 6pt; }
.kicker { font-size: 7.5pt; color: #0072B2; letter-spacing: 0.04em; text-transform: uppercase;
          margin: 0; }
h1 { font-size: 17pt; margin: 1pt 0 1pt 0; }
.meta { margin: 0; color: #3E4C59; }
.filters { margin: 1pt 0 2pt 0; font-size: 10pt; color: #102A43; }
.synthetic { border: 1.5pt solid #D55E00; color: #8A3B00; padding: 3pt 6pt; margin: 4pt 0 0 0;
             font-weight: bold; }
h2 { font-size: 10.5pt; margin: 7pt 0 3pt 0; color: #102A43; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 1.6pt 4pt; text-align: left; border-bottom: 0.5pt solid #D9E2EC;
         vertical-align: top; }
th { font-weight: bold; background: #F3F6F9; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
.onpace { color: #0B6E4F; font-weight: bold; }
.behind { color: #A33A00; font-weight: bold; }
.row { display: flex; gap: 14pt; }
.left { width: 52%; }
.right { width: 48%; }
figure { margin: 0; }
figure img { width: 100%; }
figcaption { font-size: 7.5pt; color: #3E4C59; margin: 1pt 0 2pt 0; }
.small th, .small td { font-size: 7.4pt; padding: 1pt 3pt; }
.bar { background: #0072B2; height: 6pt; display: inline-block; }
.note { font-size: 7pt; color: #52606D; margin: 3pt 0 0 0; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _css_string(text: str) -> str:
    """Text safe inside a CSS double-quoted string."""
    return "".join(ch if ch.isalnum() or ch in " .,:;-*()/'" else f"\\{ord(ch):x} "
                   for ch in text)


def _pace_cell(h: Headline) -> str:
    p = h.pace
    if p is None or p.at_deadline is None or p.at_deadline.rate is None:
        return "--"
    when = f"{p.deadline:%b} {p.deadline.day}" if p.deadline else ""
    text = f"{p.at_deadline.text} at {when}"
    if p.on_pace is True:
        return f'{_e(text)} <span class="onpace">on pace</span>'
    if p.on_pace is False:
        return f'{_e(text)} <span class="behind">not on pace</span>'
    return _e(text)


@dataclass(frozen=True)
class Density:
    """How tightly the page is set: ``pdf_of`` takes the first that fits one Letter page."""

    css: str
    parts_rows: int
    compare_chart: bool = True


DENSITIES: tuple[Density, ...] = (
    Density("", PARTS_ROWS),
    # many goals (a headline row each) or a long filter line: smaller type and charts
    Density("html { font-size: 7.6pt; } h1 { font-size: 15pt; } "
            "h2 { font-size: 9.5pt; margin: 5pt 0 2pt 0; } th, td { padding: 1.2pt 3pt; } "
            "figure img { width: auto; max-width: 100%; max-height: 1.6in; }", 10),
    Density("@page { margin: 0.35in 0.45in; } html { font-size: 7pt; } "
            "h1 { font-size: 14pt; } h2 { font-size: 9pt; margin: 4pt 0 2pt 0; } "
            "th, td { padding: 1pt 3pt; } .small th, .small td { font-size: 6.8pt; } "
            "figure img { width: auto; max-width: 100%; max-height: 1.35in; }", 8),
    # last: the chart of this year against last goes (the headline table has its numbers)
    Density("@page { margin: 0.35in 0.45in; } html { font-size: 7pt; } "
            "h1 { font-size: 14pt; } h2 { font-size: 9pt; margin: 4pt 0 2pt 0; } "
            "th, td { padding: 1pt 3pt; } .small th, .small td { font-size: 6.8pt; } "
            "figure img { width: auto; max-width: 100%; max-height: 1.35in; }", 8,
            compare_chart=False),
)
"""The layouts ``pdf_of`` tries in turn, the brief's usual one first."""


def brief_html(b: Brief, density: int = 0) -> str:
    """The brief as one HTML document (what WeasyPrint lays out as the PDF), set at
    ``DENSITIES[density]``."""
    key = b.key
    dense = DENSITIES[density]
    when = f"{b.drop:%B} {b.drop.day}, {b.drop.year}"
    then = (f"compared with the same week last year ({b.last_year_drop:%b} "
            f"{b.last_year_drop.day}, {b.last_year_drop.year})" if b.last_year_drop
            else "no drop of last year is loaded to compare with")
    rows = []
    for h in b.headlines:
        goal = (f"{_e(h.goal.text)}<br><span class=\"note\">{_e(h.goal.whose)}</span>"
                if h.goal else "--")
        rows.append(
            f"<tr><th scope=\"row\">{_e(h.title)}<br><span class=\"note\">{_e(h.population)}"
            f"</span></th><td class=\"num\">{_e(h.rate_text)}</td>"
            f"<td class=\"num\">{_e(h.count_text)}</td>"
            f"<td class=\"num\">{_e(h.last_year_text)}</td>"
            f"<td class=\"num\">{_e(h.change_text)}</td><td class=\"nowrap\">{goal}</td>"
            f"<td>{_pace_cell(h)}</td></tr>")
    p = key.pace
    trend_rows = [("Now", f"{b.drop:%b} {b.drop.day}", key.rate_text),
                  ("Same week last year", f"{b.last_year_drop:%b} {b.last_year_drop.day}"
                   if b.last_year_drop else "--", key.last_year_text)]
    # a projection that cannot be made is left out (the note under the headlines says why)
    if p and p.at_deadline and p.at_deadline.rate is not None:
        trend_rows.append(("Projected, deadline", f"{p.deadline:%b} {p.deadline.day}"
                           if p.deadline else "--", p.at_deadline.text))
    if p and p.at_year_end and p.at_year_end.rate is not None:
        trend_rows.append(("Projected, end of year",
                           f"{p.at_year_end.target:%b} {p.at_year_end.target.day}",
                           p.at_year_end.text))
    if key.goal:
        trend_rows.append(("Goal", f"{key.goal.deadline:%b} {key.goal.deadline.day}",
                           key.goal.text.split(" by ")[0]))
    trend_table = "".join(f"<tr><th scope=\"row\">{_e(a)}</th><td>{_e(d)}</td>"
                          f"<td class=\"num\">{_e(v)}</td></tr>" for a, d, v in trend_rows)
    # the method of the projections shown; without any, why the key measure has none
    made = [h.pace.at_deadline.method for h in b.headlines
            if h.pace and h.pace.at_deadline and h.pace.at_deadline.rate is not None]
    method = (made[0] if made else "" if key.not_applicable else
              p.at_deadline.method if p and p.at_deadline else "")
    if key.not_applicable:
        trend_html = (f"<p>Not shown for this view: FAFSA/CADAA completion "
                      f"{_e(key.not_applicable)}.</p>")
    elif not b.trend["rate"].notna().any() and b.projection.empty:
        trend_html = ("<p>No chart: no week's completion rate of this view can be shown "
                      "(a group of 1 to 10 students is shown as *).</p>"
                      f"<table class=\"small\"><thead><tr><th scope=\"col\">Point</th>"
                      f"<th scope=\"col\">Date</th><th scope=\"col\" class=\"num\">"
                      f"Completed</th></tr></thead><tbody>{trend_table}</tbody></table>")
    else:
        trend_uri, trend_alt = trend_chart(b)
        trend_html = (
            f"<figure><img src=\"{trend_uri}\" alt=\"{_e(trend_alt)}\"><figcaption>Share "
            f"of {_e(key.population.lower())} with a completed FAFSA or CADAA, week by week: "
            f"this year, last year, the projection (dotted) and the goal (dashed).</figcaption>"
            f"</figure><table class=\"small\"><thead><tr><th scope=\"col\">Point</th>"
            f"<th scope=\"col\">Date</th><th scope=\"col\" class=\"num\">Completed</th>"
            f"</tr></thead><tbody>{trend_table}</tbody></table>")
    na = [f"{h.title} {h.not_applicable}" for h in b.headlines if h.not_applicable]
    na_note = ("<p class=\"note\">n/a: " + _e("; ".join(na)) + ".</p>") if na else ""
    parts_html = ""
    if not b.parts.empty and not key.not_applicable:
        parts = b.parts
        if len(parts) > dense.parts_rows:  # the largest by seniors, in name order
            parts = (parts.assign(_size=parts["seniors"].fillna(0))
                     .sort_values("_size", ascending=False, kind="stable")
                     .head(dense.parts_rows).drop(columns="_size")
                     .sort_values("name", kind="stable"))
        rates = [None if pd.isna(r) else float(r) for r in parts["rate"]]
        top = max([r for r in rates if r is not None] or [1.0])
        body = []
        for rate, (_, r) in zip(rates, parts.iterrows(), strict=True):
            bar = ("" if not rate else '<span class="bar" style="width:'
                   f'{max(1.0, 70 * rate / max(top, 0.01)):.0f}pt"></span>')
            body.append(f"<tr><th scope=\"row\">{_e(r['name'])}</th>"
                        f"<td class=\"num\">{format_size(r['seniors'])}</td>"
                        f"<td class=\"num\">{_e(r['rate_text'])}</td><td aria-hidden=\"true\">"
                        f"{bar}</td></tr>")
        more = (f"<p class=\"note\">The {len(parts)} largest of {b.parts_total} "
                f"{b.parts_title.lower()} by seniors; the dashboard lists every one.</p>"
                if b.parts_total > len(parts) else "")
        parts_html = (
            f"<section class=\"col right\"><h2>FAFSA/CADAA completed by "
            f"{b.parts_title[:-1].lower()}</h2>"
            f"<table class=\"small\"><caption class=\"note\" style=\"caption-side:bottom\">"
            f"Share of seniors with a completed FAFSA or CADAA. * = a group of 1 to 10 "
            f"students, or one hidden so that such a group cannot be worked out.</caption>"
            f"<thead><tr><th scope=\"col\">{_e(b.parts_title[:-1])}</th>"
            f"<th scope=\"col\" class=\"num\">Seniors</th>"
            f"<th scope=\"col\" class=\"num\">Completed</th><th scope=\"col\">"
            f"<span style=\"display:none\">Bar</span></th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{more}</section>")
    follow = "".join(f"<tr><th scope=\"row\">{_e(f.title)}</th><td class=\"num\">{_e(f.text)}"
                     f"</td></tr>" for f in b.followups)
    if not dense.compare_chart:
        compare_fig = ""
    elif any(h.rate is not None or h.last_year_rate is not None for h in b.headlines
             if h.metric_id in HEADLINE_METRICS):
        compare_uri, compare_alt = compare_chart(b)
        compare_fig = (
            f"<figure><img src=\"{compare_uri}\" alt=\"{_e(compare_alt)}\">"
            f"<figcaption>Each headline rate now (blue) and at the same week last year "
            f"(grey); the numbers are in the headline table above.</figcaption></figure>")
    else:
        compare_fig = ("<p>No chart: none of the headline rates of this view can be shown, "
                       "this year or last (see the table above).</p>")
    compare_html = (f"<section class=\"col left\"><h2>This year against last</h2>"
                    f"{compare_fig}</section>" if dense.compare_chart else "")
    synthetic = ("<p class=\"synthetic\">Synthetic data: made-up students in real schools. "
                 "These numbers describe no real student.</p>" if b.synthetic else "")
    county = (b.county_name if b.county_name.endswith("County") else
              f"{b.county_name} County" if b.county_name else "County")
    narrowing = (f"<p class=\"filters\">Students: <strong>{_e(b.narrowing)}</strong></p>"
                 if b.narrowing else "")
    scope = f"{b.scope_name} ({b.narrowing})" if b.narrowing else b.scope_name
    title = f"College and career brief: {scope}, data as of {when}"
    footer = (f"CCGI college and career dashboard · {scope} · data of {when} · groups "
              f"of 1 to 10 students are shown as *" + (" · synthetic data" if b.synthetic
                                                       else ""))
    footer_css = "@page { @bottom-left { content: \"" + _css_string(footer) + "\" } }"
    return f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="utf-8"><title>{_e(title)}</title>
<meta name="description" content="{_e(title)}">
<meta name="author" content="CCGI college and career dashboard">
<style>{CSS}{footer_css}{dense.css}</style></head>
<body>
<header>
<p class="kicker">College and career brief · {_e(county)}</p>
<h1>{_e(b.scope_name)}</h1>
{narrowing}
<p class="meta">CaliforniaColleges.edu data as of <strong>{_e(when)}</strong>, {_e(then)}.</p>
{synthetic}
</header>
<main>
<section>
<h2>Headline rates</h2>
<table>
<thead><tr><th scope="col">Measure</th><th scope="col" class="num">Rate now</th>
<th scope="col" class="num">Students</th><th scope="col" class="num">Last year</th>
<th scope="col" class="num">Change</th><th scope="col">Goal</th>
<th scope="col">Projection and pace</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
{na_note}
<p class="note">{_e(method)} "Last year" is the same week of last school year. Projections
are shown only where last year has data for the weeks ahead.</p>
</section>
<div class="row">
<section class="col left">
<h2>Is FAFSA/CADAA completion on pace?</h2>
{trend_html}
</section>
{parts_html or compare_html}
</div>
<div class="row">
{compare_html if parts_html else ""}
<section class="col right">
<h2>Students to follow up</h2>
<table class="small"><thead><tr><th scope="col">List</th>
<th scope="col" class="num">Students</th></tr></thead><tbody>{follow}</tbody></table>
<p class="note">Counts only: the lists with names are in the dashboard's Students page, for
staff entitled to them. * = 1 to 10 students.</p>
</section>
</div>
</main>
</body></html>"""


def _layout(document: str) -> Any:
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint.HTML(string=document).render(pdf_variant="pdf/ua-1")


def render_pdf(document: str) -> bytes:
    """Lay out the HTML as a tagged PDF/UA-1 document (structure tree, language, title)."""
    return _layout(document).write_pdf(pdf_variant="pdf/ua-1")


def pdf_of(b: Brief) -> bytes:
    """The brief as a one-page tagged PDF: laid out at each of ``DENSITIES`` in turn until
    it fits one Letter page (a county with many goals, or a long line of filters, takes a
    tighter setting; the last drops the chart of this year against last, whose numbers the
    headline table holds). A brief that overflows even that (a dozen goals) keeps every
    number and runs onto a second page rather than leave one out."""
    laid = None
    for density in range(len(DENSITIES)):
        laid = _layout(brief_html(b, density))
        if len(laid.pages) == 1:
            break
    assert laid is not None
    return laid.write_pdf(pdf_variant="pdf/ua-1")


def view_of(scope: Scope, filters: Filters) -> tuple[str | None, str | None]:
    """The (district, school) a page's filters show, for the brief of that view: one school,
    or one district, else the county (or the user's one district). The grade and
    student-group filters do not change which view this is; ``brief_data`` narrows the
    view's students by them. Several districts or schools are refused by name (a brief is of
    one of them, or the county)."""
    from ccgi_dash.goals import single_district

    if len(filters.schools) > 1:
        raise BriefError("a brief is of one school: choose one school (or none)")
    if len(filters.districts) > 1:
        raise BriefError("a brief is of one district or the county: choose one district "
                         "(or none)")
    school = filters.schools[0] if filters.schools else None
    if filters.districts:
        return filters.districts[0], school
    district = school[:7] if school else single_district(scope, filters)
    return district, school


def brief_for_view(wh: Warehouse, request: Request,
                   settings: Settings) -> tuple[bytes, str, str]:
    """The Overview's "Download brief (PDF)": the brief of the page's view (the request's
    scope, filters and drop), its file name and the audit text (codes only). One call for
    the UI; it raises ``BriefScopeError`` / ``BriefError`` as ``brief_data`` does."""
    data = brief_data(wh, request, settings)
    return (pdf_of(data),
            file_name(data.district, data.school, data.drop, data.filters),
            audit_text(data))


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "-" for ch in text).strip("-")


def file_name(district: str | None, school: str | None, drop: date,
              filters: Filters = Filters()) -> str:
    """The brief's file name: ``brief-<district>[-<school>][-grade12][-foster_youth-Y]-<drop
    date>.pdf``, so two briefs of one view under other filters do not overwrite each other."""
    codes = [c for c in (district, school) if c]
    if filters.grades:
        codes.append("grade" + "-".join(str(g) for g in filters.grades))
    codes += [_slug(f"{dim}-{'-'.join(values)}") for dim, values in filters.groups]
    return "-".join(["brief", *codes, drop.isoformat()]) + ".pdf"


def audit_text(data: Brief) -> str:
    """What the audit log records of a brief: its drop and codes (a school's CDS split at
    the district, since the log redacts any 10-digit run as a possible SSID)."""
    return " ".join(["brief", f"as_of={data.drop}",
                     *(f"district={d}" for d in data.filters.districts),
                     *(f"school={s[:7]}-{s[7:]}" for s in data.filters.schools),
                     *(f"grade_level={g}" for g in data.filters.grades),
                     *(f"{dim}={'|'.join(values)}" for dim, values in data.filters.groups)])


def brief_pdf(wh: Warehouse, request: Request, settings: Settings, *,
              synthetic: bool | None = None) -> bytes:
    """The one-page brief of the request's view as PDF bytes (see ``brief_data``)."""
    return pdf_of(brief_data(wh, request, settings, synthetic=synthetic))
