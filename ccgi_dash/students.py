"""Follow-up lists: the students a counselor acts on this week.

These are the only functions that return names and SSIDs. Each refuses a scope that is not
entitled to student rows (a ``coe`` coordinator sees aggregates only) and applies the scope's
districts in SQL, like every other data function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import pyarrow as pa

from ccgi_dash.metrics import METRICS, Filters
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse


class NotEntitled(PermissionError):
    """The scope may not read student-level rows."""


@dataclass(frozen=True)
class FollowUp:
    id: str
    title: str
    why: str
    condition: str
    """SQL over student_facts (alias f): who is on the list."""
    columns: tuple[tuple[str, str], ...]
    """(SQL expression, column title) shown after the common identity columns."""
    complement_of: tuple[str, ...] = ()
    """Metrics whose count this list's count gives away: the list is (or is drawn from)
    their population minus the students they count, so population minus list = their
    count. Wherever one of them hides its count in a view (primary or complementary), the
    list's count is hidden in that view too (``brief.followup_counts``). Empty: the list is
    no metric's complement."""


_AID_STATUS = ("CASE WHEN f.aid_started THEN 'Started, not submitted' "
               "ELSE 'No FAFSA/CADAA on file' END")
_APPS_STARTED = """(
    SELECT string_agg(seg || ': ' || campus, '; ' ORDER BY seg, campus) FROM (
        SELECT 'UC' AS seg, campus, ssid, status FROM {uc}
        UNION ALL SELECT 'CSU', campus, ssid, status FROM {csu}
        UNION ALL SELECT 'CCC', campus, ssid, status FROM {ccc}
        UNION ALL SELECT 'Aid', coalesce(application_type, 'FAFSA/CADAA'), ssid, status
            FROM {aid}
    ) a WHERE a.ssid = f.ssid AND a.status = 'Started'
      AND NOT (a.seg = 'Aid' AND f.aid_submitted)
)"""

FOLLOW_UPS: dict[str, FollowUp] = {
    x.id: x
    for x in (
        FollowUp(
            "no_aid", "Seniors with no FAFSA/CADAA and no opt-out",
            "AB 469: every senior completes a FAFSA or CADAA, or opts out. These seniors have "
            "done neither yet.",
            "f.grade_level = 12 AND NOT f.aid_submitted AND NOT f.aid_opted_out",
            ((_AID_STATUS, "FAFSA/CADAA status"),
             ("f.account_created_date", "Account created"),
             ("f.last_login_date", "Last login")),
            # seniors - submitted - opted out (who rarely also submit): those two counts
            complement_of=("aid_submitted", "aid_opted_out"),
        ),
        FollowUp(
            "eligible_not_applied", "a-g eligible seniors who have not applied to a UC or CSU",
            "These seniors meet the a-g requirements but have no submitted UC or Cal State "
            "application.",
            "f.grade_level = 12 AND (f.uc_eligible OR f.csu_eligible) "
            "AND NOT f.uc_submitted AND NOT f.csu_submitted",
            (("f.uc_status", "UC a-g"), ("f.csu_status", "CSU a-g"),
             ("CASE WHEN f.ccc_submitted THEN 'Yes' ELSE 'No' END",
              METRICS["ccc_submitted"].card_title),
             ("f.last_login_date", "Last login")),
            # a-g eligible seniors minus those who applied: the applied-of-eligible counts
            # (and, with them, their populations, the eligible counts)
            complement_of=("uc_eligible_applied", "csu_eligible_applied"),
        ),
        FollowUp(
            "no_account", "Students without a CaliforniaColleges.edu account",
            "These students are on the roster but have not registered an account.",
            "NOT f.account_registered",
            (),
            complement_of=("account_registered",),
        ),
        FollowUp(
            "started_not_submitted", "Seniors who started an application but did not submit",
            "A UC, CSU, CCC or FAFSA/CADAA application is started but not submitted.",
            "f.grade_level = 12 AND (f.app_started_not_submitted "
            "OR (f.aid_started AND NOT f.aid_submitted))",
            (("__STARTED__", "Started, not submitted"), ("f.last_login_date", "Last login")),
        ),
    )
}

IDENTITY_COLUMNS = ("Last name", "First name", "SSID", "School", "District", "Grade")


def follow_up(wh: Warehouse, scope: Scope, list_id: str, filters: Filters = Filters(),
              as_of: date | None = None, search: str = "") -> pd.DataFrame:
    """One follow-up list for the as-of drop: names, SSID, school, grade, and its statuses.

    Unsuppressed: admins and district leaders are entitled to their own students' rows.
    ``search`` keeps students whose name or SSID contains it. Raises NotEntitled for a
    scope without student-level access.
    """
    if not scope.student_level:
        raise NotEntitled("this role sees aggregates only, never student rows")
    spec = FOLLOW_UPS[list_id]
    cols = [*IDENTITY_COLUMNS, *(title for _, title in spec.columns)]
    drop = wh.resolve(as_of)
    if drop is None or scope.sees_nothing:
        return pd.DataFrame(columns=cols)
    tables = {k: wh.table(drop, v) for k, v in (("uc", "uc_apply"), ("csu", "csu_apply"),
                                                  ("ccc", "ccc_apply"), ("aid", "fafsa_cadaa"))}
    extra = []
    for expr, title in spec.columns:
        sql = _APPS_STARTED.format(**tables) if expr == "__STARTED__" else expr
        extra.append(f'{sql} AS "{title}"')
    scope_sql, sp = scope.named_sql("f.district_code")
    filt_sql, fp = filters.sql()
    select = ", ".join([
        's.last_name AS "Last name"', 's.first_name AS "First name"', 'f.ssid AS "SSID"',
        'f.school_name AS "School"', 'f.district_name AS "District"',
        'f.grade_level AS "Grade"', *extra,
    ])
    sql = f"""
        SELECT {select}
        FROM (SELECT * FROM {wh.table(drop, 'student_facts')} WHERE {filt_sql}) f
        JOIN {wh.table(drop, 'students')} s USING (ssid)
        WHERE ({spec.condition}) AND ({scope_sql})
          AND ($term = '' OR f.ssid LIKE '%' || $term || '%'
               OR (coalesce(s.first_name, '') || ' ' || coalesce(s.last_name, '')) ILIKE
                  '%' || $term || '%'
               OR (coalesce(s.last_name, '') || ', ' || coalesce(s.first_name, '')) ILIKE
                  '%' || $term || '%')
        ORDER BY "District", "School", "Grade", "Last name", "First name", "SSID"
    """
    with wh.query() as cur:
        term = search.strip()
        frame = cur.execute(sql, {**fp, **sp, "term": term}).df()
    return as_dates(frame)


DATE = pd.ArrowDtype(pa.date32())
"""Dates as dates: they sort as dates in a table, a missing one is empty (never "None" or
"NaT") on screen and in a CSV, and a CSV writes them as YYYY-MM-DD."""


def as_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """DuckDB DATEs arrive as timestamps: make each such column a column of dates."""
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].astype(DATE)
    return frame


def follow_up_counts(wh: Warehouse, scope: Scope, filters: Filters = Filters(),
                     as_of: date | None = None) -> dict[str, int]:
    """How many students each list holds (for the list picker)."""
    if not scope.student_level:
        raise NotEntitled("this role sees aggregates only, never student rows")
    return list_sizes(wh, scope, filters, as_of)


def list_sizes(wh: Warehouse, scope: Scope, filters: Filters,
               as_of: date | None) -> dict[str, int]:
    """How many students each list holds, in one query: counts only, which any role may
    read once suppressed (the brief and the digest suppress them; the list picker is
    offered to student-level scopes only, through :func:`follow_up_counts`)."""
    drop = wh.resolve(as_of)
    if drop is None or scope.sees_nothing:
        return dict.fromkeys(FOLLOW_UPS, 0)
    scope_sql, sp = scope.named_sql("f.district_code")
    filt_sql, fp = filters.sql()
    counts = ", ".join(f"count(*) FILTER (WHERE {x.condition}) AS {x.id}"
                       for x in FOLLOW_UPS.values())
    sql = (f"SELECT {counts} FROM (SELECT * FROM {wh.table(drop, 'student_facts')} "
           f"WHERE {filt_sql}) f WHERE {scope_sql}")
    with wh.query() as cur:
        row = cur.execute(sql, {**fp, **sp}).fetchone()
    return dict(zip(FOLLOW_UPS, (int(v) for v in row), strict=True))
