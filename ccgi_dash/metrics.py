"""The metric catalogue: every number the product shows, defined once.

Two halves, both here so that a definition cannot drift:

1. ``build_student_facts`` runs once per drop, at load time. It turns the ten typed tables of
   a drop into ``student_facts``: one row per roster student with a boolean per condition of
   metrics.md ("any fafsa_cadaa row submitted" ...), the first dates behind each (for
   cumulative curves), and the breakdown columns. A student counts once per metric by
   construction, however many rows the student has in a file.
2. ``METRICS`` holds everything said about each metric: its titles, the phrase and help
   text a page uses, its population (and whose count that population is), its condition
   over those columns, its topic pages, its date. ``compute`` counts them in DuckDB for any
   breakdown, filters, scope and as-of drop, with named bound parameters and identifiers
   taken from fixed mappings only.

No other module holds a copy of a metric's words: pages, topics, exports, the CLI and tests
read them here. A ``Request`` (scope, filters, as-of drop, threshold) is what pages pass down.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

import duckdb

from ccgi_dash.datasets import DIMENSIONS, NOT_REPORTED, SUBGROUP_DIMENSIONS
from ccgi_dash.memo import MISSING, WarehouseMemo
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse

if TYPE_CHECKING:
    import pandas as pd

ACTIVE_DAYS = 30
"""``active_30d``: a login 0 to 30 days before the drop date (both ends included)."""

SUBMITTED_AID = "('Submitted', 'Completed')"

_SUBGROUP_COLUMNS = "\n    ".join(
    f"coalesce(b.{DIMENSIONS[d].column}, '{NOT_REPORTED}') AS {DIMENSIONS[d].column},"
    for d in SUBGROUP_DIMENSIONS)
"""Every student-group column of ``datasets.DIMENSIONS``, empty values as "Not reported": a
new group column declared there is carried into the facts with no edit here."""

FACTS_SQL = f"""
CREATE OR REPLACE TABLE student_facts AS
WITH
aid AS (
    SELECT ssid,
        bool_or(status IN {SUBMITTED_AID}) AS aid_submitted,
        bool_or(status = 'Completed') AS aid_completed,
        bool_or(application_type = 'FAFSA' AND status IN {SUBMITTED_AID}) AS fafsa_submitted,
        bool_or(application_type = 'CADAA' AND status IN {SUBMITTED_AID}) AS cadaa_submitted,
        bool_or(status = 'Opted Out') AS any_opted_out,
        bool_or(status = 'Started') AS aid_started,
        min(coalesce(submitted_date, completed_date))
            FILTER (WHERE status IN {SUBMITTED_AID}) AS aid_submitted_date,
        min(completed_date) FILTER (WHERE status = 'Completed') AS aid_completed_date
    FROM fafsa_cadaa GROUP BY ssid
),
uc AS (
    SELECT ssid, bool_or(status = 'Submitted') AS submitted, bool_or(status = 'Started') AS started,
        min(submitted_date) FILTER (WHERE status = 'Submitted') AS submitted_date
    FROM uc_apply GROUP BY ssid
),
csu AS (
    SELECT ssid, bool_or(status = 'Submitted') AS submitted, bool_or(status = 'Started') AS started,
        min(submitted_date) FILTER (WHERE status = 'Submitted') AS submitted_date
    FROM csu_apply GROUP BY ssid
),
ccc AS (
    SELECT ssid, bool_or(status = 'Submitted') AS submitted, bool_or(status = 'Started') AS started,
        min(submitted_date) FILTER (WHERE status = 'Submitted') AS submitted_date
    FROM ccc_apply GROUP BY ssid
),
assessed AS (SELECT ssid, min(completed_date) AS first_date FROM career_assessments GROUP BY ssid),
school_names AS (
    SELECT school_cds, mode(school_name) AS school_name FROM students
    WHERE school_name IS NOT NULL GROUP BY school_cds
),
district_names AS (
    SELECT substr(school_cds, 1, 7) AS district_code, mode(district_name) AS district_name
    FROM students WHERE district_name IS NOT NULL GROUP BY 1
),
dir_school AS (SELECT cds, school, district FROM directory),
dir_district AS (
    SELECT substr(cds, 1, 7) AS district_code, any_value(district) AS district
    FROM directory GROUP BY 1
),
base AS (
    SELECT s.*, substr(s.school_cds, 1, 2) AS county_code,
        substr(s.school_cds, 1, 7) AS district_code
    FROM students s
)
SELECT
    CAST($drop_date AS DATE) AS drop_date,
    b.ssid,
    b.county_code,
    b.district_code,
    coalesce(dn.district_name, dd.district, 'District ' || b.district_code) AS district_name,
    b.school_cds,
    coalesce(sn.school_name, ds.school, 'School ' || b.school_cds) AS school_name,
    b.grade_level,
    b.school_year,
    {_SUBGROUP_COLUMNS}
    b.account_created_date,
    b.last_login_date,
    b.account_created_date IS NOT NULL AS account_registered,
    coalesce(b.last_login_date BETWEEN CAST($drop_date AS DATE) - {ACTIVE_DAYS}
             AND CAST($drop_date AS DATE), FALSE) AS active_30d,
    coalesce(aid.aid_submitted, FALSE) AS aid_submitted,
    coalesce(aid.aid_completed, FALSE) AS aid_completed,
    coalesce(aid.fafsa_submitted, FALSE) AS fafsa_submitted,
    coalesce(aid.cadaa_submitted, FALSE) AS cadaa_submitted,
    coalesce(aid.any_opted_out AND NOT aid.aid_submitted, FALSE) AS aid_opted_out,
    coalesce(aid.aid_started, FALSE) AS aid_started,
    aid.aid_submitted_date,
    aid.aid_completed_date,
    coalesce(uc.submitted, FALSE) AS uc_submitted,
    coalesce(csu.submitted, FALSE) AS csu_submitted,
    coalesce(ccc.submitted, FALSE) AS ccc_submitted,
    coalesce(uc.submitted OR csu.submitted OR ccc.submitted, FALSE) AS any_app_submitted,
    coalesce((uc.started AND NOT uc.submitted) OR (csu.started AND NOT csu.submitted)
             OR (ccc.started AND NOT ccc.submitted), FALSE) AS app_started_not_submitted,
    uc.submitted_date AS uc_submitted_date,
    csu.submitted_date AS csu_submitted_date,
    ccc.submitted_date AS ccc_submitted_date,
    least(uc.submitted_date, csu.submitted_date, ccc.submitted_date) AS any_app_submitted_date,
    ag.uc_status,
    ag.csu_status,
    coalesce(ag.uc_status = 'Eligible', FALSE) AS uc_eligible,
    coalesce(ag.csu_status = 'Eligible', FALSE) AS csu_eligible,
    coalesce(ag.uc_status IN ('Eligible', 'On Track'), FALSE) AS uc_on_track,
    coalesce(ag.csu_status IN ('Eligible', 'On Track'), FALSE) AS csu_on_track,
    b.ssid IN (SELECT ssid FROM favorite_colleges) AS favorite_college,
    b.ssid IN (SELECT ssid FROM favorite_careers) AS favorite_career,
    b.ssid IN (SELECT ssid FROM favorite_majors) AS favorite_major,
    asd.ssid IS NOT NULL AS career_assessment,
    asd.first_date AS career_assessment_date
FROM base b
LEFT JOIN aid USING (ssid)
LEFT JOIN uc USING (ssid)
LEFT JOIN csu USING (ssid)
LEFT JOIN ccc USING (ssid)
LEFT JOIN ag_eligibility ag USING (ssid)
LEFT JOIN assessed asd USING (ssid)
LEFT JOIN school_names sn ON sn.school_cds = b.school_cds
LEFT JOIN district_names dn ON dn.district_code = b.district_code
LEFT JOIN dir_school ds ON ds.cds = b.school_cds
LEFT JOIN dir_district dd ON dd.district_code = b.district_code
"""


def build_student_facts(con: duckdb.DuckDBPyConnection, drop_date: date) -> None:
    """Create ``student_facts`` and ``facts_cube`` from the typed tables of one drop in
    ``con``, and record on ``student_facts`` the catalogue they were built with.

    ``con`` must hold the ten typed tables (empty ones for datasets not received) and a
    ``directory`` table (cds, school, district) for names the drop leaves out. The facts are
    not sorted (sorting cost a quarter of a load); scoped aggregates read the sorted cube.
    The record (a table comment: the catalogue version and the metrics the cube counts, see
    ``built_with``) adds no table to the drop's contract.
    """
    con.execute(FACTS_SQL, {"drop_date": drop_date})
    con.execute(_cube_sql())
    record = json.dumps({"catalogue": catalogue_version(), "metrics": list(METRICS)})
    if not all(m.isidentifier() for m in METRICS):
        raise ValueError("metric ids are identifiers")
    con.execute(f"COMMENT ON TABLE student_facts IS '{record}'")


def built_with(wh: Warehouse, drop: date) -> tuple[str | None, tuple[str, ...]]:
    """The catalogue version a loaded drop was built with and the metrics its cube counts
    ((None, ()) for a drop loaded before drops recorded it)."""
    with wh.query() as cur:
        row = cur.execute("SELECT comment FROM duckdb_tables() WHERE database_name = $db AND "
                          "table_name = 'student_facts'", {"db": wh.alias(drop)}).fetchone()
    try:
        record = json.loads(row[0]) if row and row[0] else {}
    except ValueError:
        record = {}
    return record.get("catalogue"), tuple(record.get("metrics", ()))


_SQL_WORDS = frozenset({"and", "or", "not", "true", "false", "in", "is", "null", "between",
                        "like", "case", "when", "then", "else", "end"})


def columns_of(sql: str) -> frozenset[str]:
    """The ``student_facts`` columns a catalogue expression reads.

    Catalogue expressions are fixed SQL over facts columns ("aid_completed OR aid_opted_out",
    "grade_level BETWEEN 9 AND 11"): the identifiers once string literals, numbers and SQL
    words are taken out."""
    text = re.sub(r"'[^']*'", " ", sql)
    return frozenset(w for w in re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", text)
                     if w.lower() not in _SQL_WORDS)


def catalogue_version() -> str:
    """A short hash of what the facts of a drop must answer: every metric's population,
    condition and date. Recorded in each drop (``catalogue_meta``) at load time."""
    text = "\n".join(f"{m.id}|{m.population_sql}|{m.condition}|{m.date_column}"
                     for m in METRICS.values())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class MetricError(ValueError):
    """A request the catalogue cannot answer; the message says what is allowed."""


class RebuildNeeded(MetricError):
    """Loaded data lacks what a metric needs: the drops must be rebuilt from their raw files."""

    def __init__(self, metric_id: str, drops: Sequence[date], missing: Sequence[str]) -> None:
        self.metric_id, self.drops, self.missing = metric_id, tuple(drops), tuple(missing)
        when = ", ".join(d.isoformat() for d in drops[:3]) + (" ..." if len(drops) > 3 else "")
        super().__init__(
            f"The drop(s) of {when} were loaded by an older version of this dashboard and lack "
            f"what \u201c{metric_id}\u201d needs ({', '.join(missing)}). A data manager "
            "rebuilds them from their raw files with: python -m ccgi_dash rebuild")


_COLUMNS: weakref.WeakKeyDictionary[Warehouse, dict[str, dict[str, frozenset[str]]]] = (
    weakref.WeakKeyDictionary())
_COLUMNS_LOCK = threading.Lock()


def _columns(wh: Warehouse) -> dict[str, dict[str, frozenset[str]]]:
    """Per attached drop, the columns of its ``student_facts`` and ``facts_cube``: read once
    per warehouse (a warehouse never changes; a new load opens a new one)."""
    with _COLUMNS_LOCK:
        cached = _COLUMNS.get(wh)
    if cached is not None:
        return cached
    with wh.query() as cur:
        rows = cur.execute(
            "SELECT database_name, table_name, list(column_name) FROM duckdb_columns() "
            "WHERE table_name IN ('student_facts', 'facts_cube') "
            "GROUP BY database_name, table_name").fetchall()
    out: dict[str, dict[str, frozenset[str]]] = {}
    for db, table, cols in rows:
        out.setdefault(db, {})[table] = frozenset(cols)
    with _COLUMNS_LOCK:
        _COLUMNS[wh] = out
    return out


def needed_columns(metric: Metric) -> frozenset[str]:
    """Facts columns a metric reads: its population, its condition and its date."""
    cols = columns_of(metric.population_sql) | columns_of(metric.condition)
    return cols | ({metric.date_column} if metric.date_column else set())


def outdated_drops(wh: Warehouse) -> list[date]:
    """Drops whose facts lack a column some metric of this catalogue needs (compound
    conditions such as "aid_completed OR aid_opted_out" included) or a breakdown column (a
    student-group column added since they were loaded): the warehouse must be
    rebuilt from its raw files. A metric whose columns are all there but that the drop's cube
    does not count yet is not outdated: ``compute`` counts it from the facts."""
    if wh.empty:
        return []
    needed = frozenset().union(*(needed_columns(m) for m in METRICS.values()),
                               (d.column for d in DIMENSIONS.values()))
    have = _columns(wh)
    return [d for d in wh.drops
            if not needed <= have.get(wh.alias(d), {}).get("student_facts", frozenset())]


def _check_columns(wh: Warehouse, metric: Metric, drops: Sequence[date]) -> None:
    """Raise ``RebuildNeeded`` when a drop's facts lack a column the metric reads."""
    have = _columns(wh)
    need = needed_columns(metric)
    bad = [d for d in drops
           if not need <= have.get(wh.alias(d), {}).get("student_facts", frozenset())]
    if bad:
        facts = have.get(wh.alias(bad[0]), {}).get("student_facts", frozenset())
        raise RebuildNeeded(metric.id, bad, sorted(need - facts))


def _cube_counts(wh: Warehouse, metric: Metric, drops: Sequence[date]) -> bool:
    """Whether the cube of every drop read counts this metric (older drops may not)."""
    have = _columns(wh)
    return all(f"m_{metric.id}" in have.get(wh.alias(d), {}).get("facts_cube", frozenset())
               for d in drops)


CUBE_DIMENSIONS = frozenset({"county", "district", "school", "grade_level", "drop_date"})
"""Breakdowns the cube answers (with district, school and grade filters, no student-group
filter). Its grain also keeps the columns populations are defined on (grade, eligibility)."""


def _cube_sql() -> str:
    """``facts_cube``: per school, grade and a-g eligibility, the roster size and the count of
    every metric's condition. Weekly trends over many drops read a few thousand cube rows per
    drop instead of every student; each count is the metric's own condition, so the cube can
    never disagree with the facts."""
    counts = ", ".join(f"count(*) FILTER (WHERE {m.condition}) AS m_{m.id}"
                       for m in METRICS.values())
    return (f"CREATE OR REPLACE TABLE facts_cube AS SELECT drop_date, county_code, "
            f"district_code, any_value(district_name) AS district_name, school_cds, "
            f"any_value(school_name) AS school_name, grade_level, uc_eligible, csu_eligible, "
            f"count(*) AS n, {counts} FROM student_facts GROUP BY drop_date, county_code, "
            f"district_code, school_cds, grade_level, uc_eligible, csu_eligible "
            f"ORDER BY district_code, school_cds, grade_level")


@dataclass(frozen=True)
class Population:
    """Who a rate is of. ``noun`` is how a sentence names them ("seniors", "students in grades
    9-11"). ``count_of`` names the metric whose count this population is (UC-eligible seniors
    are the count of ``uc_eligible``): wherever that count is hidden, so is this population
    (``privacy.suppress_metric``)."""

    id: str
    title: str
    noun: str
    sql: str
    count_of: str | None = None


POPULATIONS: dict[str, Population] = {
    p.id: p
    for p in (
        Population("all", "All students", "students", "TRUE"),
        Population("seniors", "Seniors", "seniors", "grade_level = 12"),
        Population("grades_9_11", "Students in grades 9-11", "students in grades 9-11",
                   "grade_level BETWEEN 9 AND 11"),
        Population("uc_eligible_seniors", "UC-eligible seniors", "UC-eligible seniors",
                   "grade_level = 12 AND uc_eligible", count_of="uc_eligible"),
        Population("csu_eligible_seniors", "CSU-eligible seniors", "CSU-eligible seniors",
                   "grade_level = 12 AND csu_eligible", count_of="csu_eligible"),
    )
}


@dataclass(frozen=True)
class Metric:
    """Everything said about one metric, in one place (a row of metrics.md).

    ``title`` names it in charts, tables and pickers; ``card_title`` on a headline card four
    abreast; ``phrase`` starts the question a chart of it answers ("What share of seniors have
    submitted a FAFSA or CADAA"); ``help`` is the question a card's help and docs ask.
    ``topics`` are the pages it appears on (the first is its home); ``date_column`` the first
    date the condition became true, for cumulative curves within one drop; ``format`` how its
    value reads ("rate": a share of the population, one decimal).
    """

    id: str
    title: str
    help: str
    population: str
    condition: str
    topics: tuple[str, ...]
    date_column: str | None = None
    card_title: str = ""
    phrase: str = ""
    format: str = "rate"

    def __post_init__(self) -> None:
        if not self.card_title:
            object.__setattr__(self, "card_title", self.title)
        if not self.phrase:
            object.__setattr__(self, "phrase", self.help.rstrip("?"))

    @property
    def topic(self) -> str:
        """The metric's home page."""
        return self.topics[0]

    @property
    def question(self) -> str:
        return self.help

    @property
    def population_sql(self) -> str:
        return POPULATIONS[self.population].sql

    @property
    def population_title(self) -> str:
        return POPULATIONS[self.population].title

    @property
    def noun(self) -> str:
        return POPULATIONS[self.population].noun

    @property
    def parent(self) -> str | None:
        """The metric whose count is this metric's population, if any."""
        return POPULATIONS[self.population].count_of


METRICS: dict[str, Metric] = {
    m.id: m
    for m in (
        Metric("account_registered", "Accounts registered",
               "Do students have a CaliforniaColleges.edu account?", "all",
               "account_registered", ("accounts",), "account_created_date",
               phrase="What share of students have an account"),
        Metric("active_30d", "Active in the last 30 days", "Have they used it lately?", "all",
               "active_30d", ("accounts",),
               phrase="What share of students logged in within 30 days"),
        Metric("aid_submitted", "FAFSA/CADAA submitted",
               "Have seniors submitted a FAFSA or CADAA?", "seniors", "aid_submitted",
               ("aid",), "aid_submitted_date",
               phrase="What share of seniors have submitted a FAFSA or CADAA"),
        Metric("aid_completed", "FAFSA/CADAA completed", "... and had it completed?", "seniors",
               "aid_completed", ("aid",), "aid_completed_date",
               phrase="What share of seniors have a completed FAFSA or CADAA"),
        Metric("fafsa_submitted", "FAFSA submitted", "Have seniors submitted a FAFSA?",
               "seniors", "fafsa_submitted", ("aid",),
               phrase="What share of seniors have submitted a FAFSA"),
        Metric("cadaa_submitted", "CADAA submitted", "Have seniors submitted a CADAA?",
               "seniors", "cadaa_submitted", ("aid",),
               phrase="What share of seniors have submitted a CADAA"),
        Metric("aid_opted_out", "Opted out (AB 469)",
               "Have seniors opted out of filing (AB 469)?", "seniors", "aid_opted_out",
               ("aid",), phrase="What share of seniors have opted out of filing (AB 469)"),
        Metric("aid_done_or_opted_out", "AB 469 compliance",
               "Have seniors completed a FAFSA/CADAA or opted out?", "seniors",
               "aid_completed OR aid_opted_out", ("aid",),
               phrase="What share of seniors have completed a FAFSA/CADAA or opted out"),
        Metric("any_app_submitted", "Applied anywhere", "Have seniors applied anywhere?",
               "seniors", "any_app_submitted", ("apps",), "any_app_submitted_date",
               phrase="What share of seniors have applied to a UC, CSU or community college"),
        Metric("uc_submitted", "Applied to a UC", "Have seniors applied to a UC campus?",
               "seniors", "uc_submitted", ("apps",), "uc_submitted_date",
               phrase="What share of seniors have applied to a UC campus"),
        Metric("csu_submitted", "Applied to a CSU",
               "Have seniors applied through Cal State Apply?", "seniors", "csu_submitted",
               ("apps",), "csu_submitted_date",
               phrase="What share of seniors have applied to a CSU campus"),
        Metric("ccc_submitted", "Applied to a community college",
               "Have seniors applied through CCCApply?", "seniors", "ccc_submitted", ("apps",),
               "ccc_submitted_date", card_title="Applied to a CCC",
               phrase="What share of seniors have applied to a community college"),
        Metric("uc_and_csu_submitted", "Applied to both UC and CSU",
               "Have seniors applied to both a UC and a CSU?", "seniors",
               "uc_submitted AND csu_submitted", ("apps",), card_title="Applied to UC and CSU",
               phrase="What share of seniors have applied to both a UC and a CSU"),
        Metric("uc_eligible", "UC a-g eligible", "Have seniors completed a-g for UC?",
               "seniors", "uc_eligible", ("ag",),
               phrase="What share of seniors have completed a-g for UC"),
        Metric("csu_eligible", "CSU a-g eligible", "Have seniors completed a-g for CSU?",
               "seniors", "csu_eligible", ("ag",),
               phrase="What share of seniors have completed a-g for CSU"),
        Metric("uc_on_track", "On track for UC a-g",
               "Are students in grades 9-11 on track for UC a-g?", "grades_9_11",
               "uc_on_track", ("ag",),
               phrase="What share of students in grades 9-11 are on track for UC a-g"),
        Metric("csu_on_track", "On track for CSU a-g",
               "Are students in grades 9-11 on track for CSU a-g?", "grades_9_11",
               "csu_on_track", ("ag",),
               phrase="What share of students in grades 9-11 are on track for CSU a-g"),
        Metric("uc_eligible_applied", "UC-eligible seniors who applied to UC",
               "Of UC-eligible seniors, how many applied to UC?", "uc_eligible_seniors",
               "uc_submitted", ("apps",), "uc_submitted_date",
               card_title="UC-eligible who applied",
               phrase="What share of UC-eligible seniors have applied to a UC"),
        Metric("csu_eligible_applied", "CSU-eligible seniors who applied to a CSU",
               "Of CSU-eligible seniors, how many applied to a CSU?", "csu_eligible_seniors",
               "csu_submitted", ("apps",), "csu_submitted_date",
               card_title="CSU-eligible who applied",
               phrase="What share of CSU-eligible seniors have applied to a CSU"),
        Metric("favorite_college", "Favorited a college", "Have students favorited a college?",
               "all", "favorite_college", ("favorites",),
               phrase="What share of students have favorited a college"),
        Metric("favorite_career", "Favorited a career", "Have students favorited a career?",
               "all", "favorite_career", ("favorites",),
               phrase="What share of students have favorited a career"),
        Metric("favorite_major", "Favorited a major", "Have students favorited a major?",
               "all", "favorite_major", ("favorites",),
               phrase="What share of students have favorited a major"),
        Metric("career_assessment", "Completed a career assessment",
               "Have students completed a career assessment?", "all", "career_assessment",
               ("assessments",), "career_assessment_date",
               phrase="What share of students have taken a career assessment"),
    )
}


def metric(metric_id: str) -> Metric:
    """The catalogue entry of ``metric_id``, or a ``MetricError`` naming the ids there are."""
    m = METRICS.get(metric_id)
    if m is None:
        raise MetricError(f"unknown metric {metric_id!r}; choose from {', '.join(METRICS)}")
    return m


def metrics_of(topic: str) -> tuple[str, ...]:
    """The metrics a topic page shows, in catalogue order: those that name the topic."""
    return tuple(m.id for m in METRICS.values() if topic in m.topics)


@dataclass(frozen=True)
class Ranking:
    """A ranked list of metrics.md: items counted in distinct students."""

    id: str
    title: str
    table: str
    item: str
    where: str = "TRUE"
    population: str = "all"
    extra: str | None = None
    """A descriptive column shown beside the item (a college's segment)."""


RANKINGS: dict[str, Ranking] = {
    r.id: r
    for r in (
        Ranking("favorite_colleges", "Most favorited colleges", "favorite_colleges",
                "college_name", extra="segment"),
        Ranking("favorite_careers", "Most favorited careers", "favorite_careers",
                "career_title", extra="onet_code"),
        Ranking("favorite_majors", "Most favorited majors", "favorite_majors", "major_name",
                extra="cip_code"),
        Ranking("uc_campuses", "UC campuses applied to", "uc_apply", "campus",
                "t.status = 'Submitted'", "seniors"),
        Ranking("csu_campuses", "CSU campuses applied to", "csu_apply", "campus",
                "t.status = 'Submitted'", "seniors"),
        Ranking("ccc_colleges", "Community colleges applied to", "ccc_apply", "campus",
                "t.status = 'Submitted'", "seniors"),
        Ranking("assessments", "Career assessments completed", "career_assessments",
                "assessment_name"),
    )
}

BREAKDOWNS: tuple[str, ...] = tuple(DIMENSIONS)
FILTER_DIMENSIONS: tuple[str, ...] = ("district", "school", "grade_level", *SUBGROUP_DIMENSIONS)


@dataclass(frozen=True)
class Filters:
    """What narrows the roster before counting. Hashable, so it can key a cache.

    ``groups`` holds (dimension id, allowed values) pairs for subgroup dimensions, with
    ``NOT_REPORTED`` standing for empty values.
    """

    districts: tuple[str, ...] = ()
    schools: tuple[str, ...] = ()
    grades: tuple[int, ...] = ()
    groups: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, pairs: Sequence[tuple[str, str]]) -> Filters:
        """Build filters from ``DIM=VALUE`` pairs (the CLI and URL form); values of the same
        dimension are alternatives."""
        by: dict[str, list[str]] = {}
        for dim, value in pairs:
            if dim not in FILTER_DIMENSIONS:
                raise MetricError(f"cannot filter on {dim!r}; choose from "
                                  f"{', '.join(FILTER_DIMENSIONS)}")
            if dim in SUBGROUP_DIMENSIONS and value not in DIMENSIONS[dim].labels:
                # a student group's codes are a fixed list: an unknown one would silently
                # select nobody, which reads as "0 students"
                codes = DIMENSIONS[dim].labels
                choices = ", ".join(f"{c} ({label})" if c != label else c
                                    for c, label in codes.items())
                raise MetricError(f"unknown value {value!r} for {dim}: choose from {choices}")
            if dim in ("district", "school") and not (
                    value.isdigit() and len(value) == (7 if dim == "district" else 14)):
                raise MetricError(f"a {dim} is named by its {7 if dim == 'district' else 14}-"
                                  f"digit CDS code, not {value!r}")
            by.setdefault(dim, []).append(value)
        grades = []
        for g in by.pop("grade_level", []):
            if not g.isdigit() or not 6 <= int(g) <= 12:
                raise MetricError(f"grade_level must be 6..12, not {g!r}")
            grades.append(int(g))
        groups = tuple(sorted((d, tuple(sorted(set(v)))) for d, v in by.items()
                              if d not in ("district", "school")))
        return cls(tuple(sorted(set(by.get("district", [])))),
                   tuple(sorted(set(by.get("school", [])))), tuple(sorted(set(grades))), groups)

    def is_empty(self) -> bool:
        return not (self.districts or self.schools or self.grades or self.groups)

    def sql(self) -> tuple[str, dict[str, object]]:
        """A WHERE fragment with named parameters (``$f_<name>``), so it combines with the
        scope's and a query's own parameters in any order."""
        clauses: list[str] = []
        params: dict[str, object] = {}
        if self.districts:
            clauses.append("district_code IN (SELECT unnest($f_districts::VARCHAR[]))")
            params["f_districts"] = list(self.districts)
        if self.schools:
            clauses.append("school_cds IN (SELECT unnest($f_schools::VARCHAR[]))")
            params["f_schools"] = list(self.schools)
        if self.grades:
            clauses.append("grade_level IN (SELECT unnest($f_grades::INTEGER[]))")
            params["f_grades"] = list(self.grades)
        for dim, values in self.groups:
            column = DIMENSIONS[dim].column
            clauses.append(f"{column} IN (SELECT unnest($f_{dim}::VARCHAR[]))")
            params[f"f_{dim}"] = list(values)
        return (" AND ".join(clauses) or "TRUE"), params


@dataclass(frozen=True)
class Request:
    """What a page (or the CLI) asks for: who asks, what narrows the roster, which drop, and
    the county's suppression threshold (from the settings; nothing has a default for it).

    Hashable: ``ui.data.view`` keys its cache on it, so a result is only served to the same
    scope, filters, drop and threshold.
    """

    scope: Scope
    filters: Filters
    as_of: date | None
    threshold: int

    def __post_init__(self) -> None:
        if not isinstance(self.threshold, int) or self.threshold < 1:
            raise ValueError("the suppression threshold is a positive whole number")

    def at(self, as_of: date | None) -> Request:
        """The same request at another drop (the previous week, same week last year)."""
        return replace(self, as_of=as_of)


def _check_by(by: Sequence[str]) -> tuple[str, ...]:
    by = tuple(by)
    if len(by) > 2:
        raise MetricError("a breakdown has at most two dimensions")
    for d in by:
        if d not in DIMENSIONS:
            raise MetricError(f"unknown breakdown {d!r}; choose from {', '.join(BREAKDOWNS)}")
    if len(set(by)) != len(by):
        raise MetricError("a breakdown cannot repeat a dimension")
    return by


def _select_dims(by: Sequence[str]) -> tuple[list[str], list[str]]:
    """SELECT expressions and output column names for a breakdown (fixed identifiers)."""
    exprs, names = [], []
    for d in by:
        col = DIMENSIONS[d].column
        exprs.append(f"{col} AS {d}")
        names.append(d)
        if d == "district":
            exprs.append("any_value(district_name) AS district_name")
            names.append("district_name")
        elif d == "school":
            exprs.append("any_value(school_name) AS school_name")
            exprs.append("any_value(district_code) AS school_district")
            names.extend(["school_name", "school_district"])
    return exprs, names


def compute(wh: Warehouse, scope: Scope, metric_id: str, by: Sequence[str] = (),
            filters: Filters = Filters(), as_of: date | None = None) -> pd.DataFrame:
    """Numerator, denominator and rate of a metric for each group of a breakdown.

    Columns: the breakdown columns (plus ``district_name`` / ``school_name`` for those
    dimensions), then ``numerator``, ``denominator``, ``rate`` (0..1, None for an empty
    group). Groups are those present in the population; rates are not suppressed here
    (see ``privacy.suppress_metric``). An unknown drop or an empty scope gives an empty frame.

    The cube answers when every drop read counts the metric; a metric added to the catalogue
    after a drop was loaded is counted from that drop's ``student_facts``, and
    ``RebuildNeeded`` says so plainly when the facts lack a column it reads.

    Metrics of one population are counted together (``_batch``): one query groups the
    population's students once and counts each metric's condition beside the others, and
    the result is remembered per warehouse. A page, its suppression (which counts finer
    views of every metric it shows) and its neighbours ask the same breakdown of several
    metrics of one population; grouping the students is most of a query's cost, an extra
    condition little. Each metric's frame is what its own query would return: same rows
    (the population's groups), same order, same types.
    """
    import pandas as pd  # here, not at the top: loading a drop never needs pandas

    m = metric(metric_id)
    by = _check_by(by)
    names = _select_dims(by)[1]
    cols = [*names, "numerator", "denominator", "rate"]
    drop = wh.resolve(as_of)
    if drop is None or scope.sees_nothing:
        empty = {c: [0] if c in ("numerator", "denominator") else [None] for c in cols}
        return pd.DataFrame(empty if not by else {c: [] for c in cols})
    key, cube, batch = _plan(wh, scope, m, by, filters, drop)
    frames = _COUNTS.get_or_make(
        wh, key, lambda: _count(wh, scope, batch, by, filters, drop, cube))
    return frames[m.id].copy()


def _plan(wh: Warehouse, scope: Scope, m: Metric, by: tuple[str, ...], filters: Filters,
          drop: date) -> tuple[tuple, bool, tuple[str, ...]]:
    """How ``compute`` counts ``m`` by ``by``: its memo key, whether the cube answers, and
    the metrics counted beside it (``_batch``). Raises ``RebuildNeeded`` as ``compute``."""
    drops = tuple(d for d in wh.drops if d <= drop) if "drop_date" in by else (drop,)
    _check_columns(wh, m, drops)
    cube = bool(wh.has_cubes and set(by) <= CUBE_DIMENSIONS and not filters.groups
                and _cube_counts(wh, m, drops))
    batch = _batch(wh, m, drops, cube)
    return (id(METRICS), scope, filters, drop, by, cube, batch), cube, batch


def group_sizes(wh: Warehouse, scope: Scope, population: str,
                bys: Sequence[Sequence[str]], filters: Filters = Filters(),
                as_of: date | None = None) -> list[pd.DataFrame]:
    """The groups of a population and their sizes, by each breakdown of ``bys``: the
    ``denominator`` column of ``compute`` for any metric of that population, with the
    breakdown's columns (and ``school_district`` for a breakdown by school) and no names.

    This is all suppression reads, and it reads many views (a view by school reads the
    school by each student group): the views not counted yet are counted with one
    ``GROUPING SETS`` query per source (a drop's cube or facts, or every drop's for
    trends), which groups the population's rows once, and remembered per warehouse. A
    frame is shared between callers: read it, never change it."""
    import pandas as pd

    pop = POPULATIONS[population]
    wanted = [_check_by(b) for b in bys]
    drop = wh.resolve(as_of)
    if drop is None or scope.sees_nothing:
        return [pd.DataFrame({c: [] for c in (*_size_columns(by), "denominator")})
                for by in wanted]
    found: dict[tuple[str, ...], pd.DataFrame] = {}
    keys = {}
    groups: dict[tuple[bool, bool], list[tuple[str, ...]]] = {}
    for by in dict.fromkeys(wanted):
        cube = bool(wh.has_cubes and set(by) <= CUBE_DIMENSIONS and not filters.groups)
        keys[by] = ("sizes", scope, filters, drop, by, pop.sql, cube)
        held = _COUNTS.get(wh, keys[by])
        if held is MISSING:
            groups.setdefault((cube, "drop_date" in by), []).append(by)
        else:
            found[by] = held
    for (cube, over_time), views in groups.items():
        counted = _count_sizes(wh, scope, pop, views, filters, drop, cube, over_time)
        found.update(zip(views, counted, strict=True))
        for by, frame in zip(views, counted, strict=True):
            _COUNTS.put(wh, keys[by], frame)
    # from what this call found or counted, never read back from the memo: other views
    # counted meanwhile (here or in another thread) may have pushed an old one out
    return [found[by] for by in wanted]


def _size_columns(by: Sequence[str]) -> list[str]:
    return [*by, *(["school_district"] if "school" in by else [])]


def _count_sizes(wh: Warehouse, scope: Scope, pop: Population, views: list[tuple[str, ...]],
                 filters: Filters, drop: date, cube: bool, over_time: bool,
                 ) -> list[pd.DataFrame]:
    """One query counting ``pop``'s groups by each of ``views`` (``group_sizes``)."""
    import pandas as pd
    import pyarrow as pa

    union = [d for d in DIMENSIONS if any(d in by for by in views)]
    exprs = [f"{DIMENSIONS[d].column} AS {d}" for d in union]
    if "school" in union:
        exprs.append("any_value(district_code) AS school_district")
    cols = [DIMENSIONS[d].column for d in union]
    grouping = f"GROUPING({', '.join(cols)})" if cols else "0"
    # one grouping set per set of dimensions (gender x school is school x gender)
    sets = ", ".join(dict.fromkeys(
        "(" + ", ".join(DIMENSIONS[d].column for d in union if d in by) + ")" for by in views))
    source, where, params = _source(wh, scope, filters, drop, cube, over_time)
    size = "coalesce(sum(n), 0)" if cube else "count(*)"
    sql = (f"SELECT {', '.join([*exprs, f'{grouping} AS grouping_id', f'{size} AS denominator'])}"
           f" FROM {source} WHERE ({pop.sql}) AND {where} GROUP BY GROUPING SETS ({sets})")
    with wh.query() as cur:
        table = cur.sql(sql, params=params).to_arrow_table()
    ids = table.column("grouping_id").to_numpy()
    out = []
    for by in views:
        gid = sum(1 << (len(union) - 1 - i) for i, d in enumerate(union) if d not in by)
        rows = table.filter(pa.array(ids == gid)).select([*_size_columns(by), "denominator"])
        frame = rows.to_pandas()
        if not by and frame.empty:
            frame = pd.DataFrame({"denominator": [0]})
        frame["denominator"] = frame["denominator"].fillna(0).astype("int64")
        if "drop_date" in frame:
            frame["drop_date"] = pd.to_datetime(frame["drop_date"]).dt.date
        out.append(frame)
    return out


def _counts_sql(batch: tuple[str, ...], cube: bool) -> list[str]:
    """The counting columns of a batch: the population's size, then each metric's count
    (named by its position in the batch: ids are catalogue keys, positions never clash)."""
    ms = [METRICS[i] for i in batch]
    if cube:
        return ["coalesce(sum(n), 0) AS denominator",
                *(f"coalesce(sum(m_{x.id}), 0) AS n{i}" for i, x in enumerate(ms))]
    return ["count(*) AS denominator",
            *(f"count(*) FILTER (WHERE {x.condition}) AS n{i}" for i, x in enumerate(ms))]


def _batch(wh: Warehouse, m: Metric, drops: Sequence[date], cube: bool) -> tuple[str, ...]:
    """The metrics counted in one query with ``m``: those of its population that the same
    source counts for every drop read (the cube's column, or the facts' columns)."""
    out = []
    for other in METRICS.values():
        if other.population != m.population:
            continue
        if other.id != m.id:
            if cube and not _cube_counts(wh, other, drops):
                continue
            if not cube:
                try:
                    _check_columns(wh, other, drops)
                except RebuildNeeded:
                    continue
        out.append(other.id)
    return tuple(out)


_COUNTS = WarehouseMemo(capacity=1024)
"""Counts (a batch's, ``_Counted``, and a population's group sizes, ``group_sizes``) are
remembered per warehouse (which never changes: a new load opens a new one), least recently
used first out; a page's frames are small, the trend by school the largest
(a few MB at Los Angeles scale)."""


def forget_counts(wh: Warehouse) -> None:
    """Drop every count remembered for ``wh`` (``compute``, ``group_sizes``): what a
    benchmark does to time real queries, not the memory."""
    _COUNTS.forget(wh)


def _source(wh: Warehouse, scope: Scope, filters: Filters, drop: date, cube: bool,
            over_time: bool) -> tuple[str, str, dict[str, object]]:
    """Where a count reads and what narrows it: the table (a drop's cube or facts, or every
    drop's up to ``drop`` for a trend), the scope, filter and time condition, and its named
    parameters."""
    params: dict[str, object] = {}
    if over_time:
        source, time_sql = ("all_cubes" if cube else "all_facts"), "drop_date <= $drop"
        params["drop"] = drop
    else:
        source, time_sql = wh.table(drop, "facts_cube" if cube else "student_facts"), "TRUE"
    scope_sql, scope_params = scope.named_sql()
    filt_sql, filt_params = filters.sql()
    return (source, f"({scope_sql}) AND ({filt_sql}) AND ({time_sql})",
            params | scope_params | filt_params)


def _count(wh: Warehouse, scope: Scope, batch: tuple[str, ...], by: tuple[str, ...],
           filters: Filters, drop: date, cube: bool) -> _Counted:
    """One query counting every metric of ``batch`` (one population) by ``by``: a frame per
    metric, as ``compute`` returns it."""
    import pandas as pd

    ms = [METRICS[i] for i in batch]
    exprs, names = _select_dims(by)
    source, where, params = _source(wh, scope, filters, drop, cube, "drop_date" in by)
    select = ", ".join([*exprs, *_counts_sql(batch, cube)])
    group = f"GROUP BY {', '.join(DIMENSIONS[d].column for d in by)}" if by else ""
    order = f"ORDER BY {', '.join(by)}" if by else ""
    sql = (f"SELECT {select} FROM {source} WHERE ({ms[0].population_sql}) AND {where} "
           f"{group} {order}")
    with wh.query() as cur:
        frame = cur.execute(sql, params).df()
    if not by and frame.empty:
        frame = pd.DataFrame({"denominator": [0], **{f"n{i}": [0] for i in range(len(ms))}})
    if "drop_date" in frame:
        frame["drop_date"] = pd.to_datetime(frame["drop_date"]).dt.date
    return _Counted(frame, names, batch)


class _Counted:
    """The counts of one batch (``_count``); each metric's frame is built when first asked
    (a page asks a few of the batch's metrics) and kept."""

    def __init__(self, frame: pd.DataFrame, names: list[str], batch: tuple[str, ...]) -> None:
        self._frame, self._names, self._batch = frame, names, batch
        self._built: dict[str, pd.DataFrame] = {}
        self._lock = threading.Lock()

    def __getitem__(self, metric_id: str) -> pd.DataFrame:
        with self._lock:
            built = self._built.get(metric_id)
            if built is None:
                built = self._build(self._batch.index(metric_id))
                self._built[metric_id] = built
            return built

    def _build(self, i: int) -> pd.DataFrame:
        import pandas as pd

        frame = self._frame
        num = frame[f"n{i}"].astype("int64").reset_index(drop=True)
        den = frame["denominator"].astype("int64").reset_index(drop=True)
        return pd.DataFrame({
            **{n: frame[n].reset_index(drop=True) for n in self._names},
            "numerator": num, "denominator": den,
            "rate": [n / d if d else None for n, d in zip(num.tolist(), den.tolist(),
                                                          strict=True)]})


def ranking(wh: Warehouse, scope: Scope, ranking_id: str, filters: Filters = Filters(),
            as_of: date | None = None, limit: int | None = 25) -> pd.DataFrame:
    """The most common items of a ranked list, counted in distinct students.

    Columns: ``item``, ``extra`` (segment or code, may be empty), ``students`` (distinct
    students with the item), ``population`` (students in scope and filters who could have
    it). Ordered by students, then item.
    """
    import pandas as pd  # here, not at the top: loading a drop never needs pandas

    r = RANKINGS.get(ranking_id)
    if r is None:
        raise MetricError(f"unknown ranked list {ranking_id!r}; choose from {', '.join(RANKINGS)}")
    cols = ["item", "extra", "students", "population"]
    drop = wh.resolve(as_of)
    if drop is None or scope.sees_nothing:
        return pd.DataFrame(columns=cols)
    facts = wh.table(drop, "student_facts")
    table = wh.table(drop, r.table)
    scope_sql, scope_params = scope.named_sql("f.district_code")
    filt_sql, filt_params = filters.sql()
    pop = POPULATIONS[r.population].sql
    extra = f"mode(t.{r.extra})" if r.extra else "NULL"
    params: dict[str, object] = {"limit": int(limit)} if limit else {}
    if scope.all_districts and filters.is_empty() and r.population == "all":
        # Every loaded row belongs to a roster student (orphans are rejected at load), so
        # the county-wide list needs no join with the roster.
        sql = f"""
            SELECT t.{r.item} AS item, {extra} AS extra, count(DISTINCT t.ssid) AS students,
                (SELECT count(*) FROM {facts}) AS population
            FROM {table} t WHERE {r.where} GROUP BY t.{r.item}
            ORDER BY students DESC, item {"LIMIT $limit" if limit else ""}
        """
        with wh.query() as cur:
            frame = cur.execute(sql, params).df()
        return frame[cols] if not frame.empty else pd.DataFrame(columns=cols)
    sql = f"""
        WITH f AS (
            SELECT ssid, district_code FROM {facts} f
            WHERE ({pop}) AND ({scope_sql}) AND ({filt_sql})
        )
        SELECT t.{r.item} AS item, {extra} AS extra, count(DISTINCT t.ssid) AS students,
            (SELECT count(*) FROM f) AS population
        FROM {table} t JOIN f USING (ssid)
        WHERE {r.where}
        GROUP BY t.{r.item}
        ORDER BY students DESC, item
        {"LIMIT $limit" if limit else ""}
    """
    with wh.query() as cur:
        frame = cur.execute(sql, params | scope_params | filt_params).df()
    return frame[cols] if not frame.empty else pd.DataFrame(columns=cols)


def cumulative(wh: Warehouse, scope: Scope, metric_id: str, filters: Filters = Filters(),
               as_of: date | None = None) -> pd.DataFrame:
    """The cumulative count of a metric by the date it became true, within one drop.

    Columns: ``date``, ``numerator`` (students whose first qualifying date is on or before
    it), ``denominator`` (the population), ``rate``. One row per date with an event.
    """
    import pandas as pd  # here, not at the top: loading a drop never needs pandas

    m = METRICS.get(metric_id)
    if m is None or m.date_column is None:
        raise MetricError(f"{metric_id!r} has no date to accumulate; choose from "
                          f"{', '.join(x.id for x in METRICS.values() if x.date_column)}")
    cols = ["date", "numerator", "denominator", "rate"]
    drop = wh.resolve(as_of)
    if drop is None or scope.sees_nothing:
        return pd.DataFrame(columns=cols)
    _check_columns(wh, m, [drop])
    facts = wh.table(drop, "student_facts")
    scope_sql, scope_params = scope.named_sql()
    filt_sql, filt_params = filters.sql()
    sql = f"""
        WITH pop AS (
            SELECT {m.date_column} AS d, ({m.condition}) AS hit FROM {facts}
            WHERE ({m.population_sql}) AND ({scope_sql}) AND ({filt_sql})
        ),
        days AS (SELECT d, count(*) AS n FROM pop WHERE hit AND d IS NOT NULL GROUP BY d)
        SELECT d AS date, CAST(sum(n) OVER (ORDER BY d) AS BIGINT) AS numerator,
            (SELECT count(*) FROM pop) AS denominator
        FROM days ORDER BY d
    """
    with wh.query() as cur:
        frame = cur.execute(sql, scope_params | filt_params).df()
    if frame.empty:
        return pd.DataFrame(columns=cols)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    frame["rate"] = frame["numerator"] / frame["denominator"]
    return frame[cols]


def school_year_of(d: date) -> int:
    """The starting calendar year of the school year (July 1 - June 30) holding ``d``."""
    return d.year if d.month >= 7 else d.year - 1


def school_year_label(d: date) -> str:
    y = school_year_of(d)
    return f"{y}-{(y + 1) % 100:02d}"


def same_week_last_year(drops: Sequence[date], drop: date) -> date | None:
    """The loaded drop of the previous school year closest to 52 weeks before ``drop``."""
    target = drop - timedelta(weeks=52)
    last_year = [d for d in drops if school_year_of(d) == school_year_of(drop) - 1]
    if not last_year:
        return None
    return min(last_year, key=lambda d: (abs((d - target).days), d))


def previous_drop(drops: Sequence[date], drop: date) -> date | None:
    earlier = [d for d in drops if d < drop]
    return earlier[-1] if earlier else None
