"""The data clean-up report: what is wrong in the districts' own student information systems.

Seed 002's "Data Clean Up" use case: point each district at records to correct at the source.
Everything here reads one drop (its typed tables, its rejects and the CDE directory) within
the caller's scope, and returns one row per finding, with the district, the school, the
student's SSID where there is one, the file and line, and what to fix. Findings that are
student-level (an SSID) are only for roles entitled to student rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from ccgi_dash.datasets import NOT_REPORTED, SUBGROUP_DIMENSIONS
from ccgi_dash.reference import directory
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    advice: str


CHECKS: dict[str, Check] = {
    c.id: c
    for c in (
        Check("ssid_malformed", "SSID is malformed",
              "An SSID is exactly 10 digits. Correct it in the student information system "
              "(SIS) from CALPADS."),
        Check("ssid_two_schools", "SSID appears at two schools",
              "One student is enrolled at two schools in the roster. Exit the student from "
              "the school they left, or fix a mistyped SSID."),
        Check("grade_outside_school", "Grade does not fit the school",
              "The grade level is outside the grades this school serves. Check the student's "
              "grade or school of enrollment."),
        Check("school_not_in_directory", "School code not in the CDE directory",
              "The 14-digit CDS code is not in CDE's school directory. Check the school code "
              "sent with the roster."),
        Check("school_closed", "School is closed in the CDE directory",
              "Students are enrolled at a school CDE lists as closed or merged. Update the "
              "school of enrollment."),
        Check("completed_without_submitted", "Completed with no submitted date",
              "A completed FAFSA/CADAA must have been submitted; the submitted date is "
              "missing."),
        Check("completed_before_submitted", "Completed before it was submitted",
              "The completed date is earlier than the submitted date."),
        Check("submitted_without_date", "Submitted with no submitted date",
              "A submitted application carries no submitted date."),
        Check("eligible_below_grade_12", "a-g Eligible before grade 12",
              "Students in grades 9-11 are at best On Track; Eligible is for seniors who have "
              "met the requirements. Check the grade level or the a-g status."),
        Check("subgroup_never_reported", "Student-group field never reported",
              "The district sends no value for this student-group field for any student. "
              "Include it in the roster sent to CCGI so equity views can count its students."),
    )
}

_HIGH = re.compile(r"\b(high|continuation|senior)\b", re.IGNORECASE)
_MIDDLE = re.compile(r"\b(middle|junior high|intermediate)\b", re.IGNORECASE)
_MIDDLE_COLLEGE = re.compile(r"\bmiddle college\b", re.IGNORECASE)


def school_grades(name: str) -> tuple[int, int] | None:
    """Grades a school serves, read from its name the way CDE names schools; None when the
    name does not say (K-8s, academies, charters). A "Middle College High" is a high school
    on a college campus, not a middle school."""
    if _MIDDLE.search(name or "") and not _MIDDLE_COLLEGE.search(name or ""):
        return (6, 8)
    if _HIGH.search(name or ""):
        return (9, 12)
    return None


COLUMNS = ["check", "title", "district_code", "district_name", "school_cds", "school_name",
           "ssid", "file", "line", "detail", "advice"]


def _findings(rows: pd.DataFrame, check: str) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    out = rows.copy()
    out["check"] = check
    out["title"] = CHECKS[check].title
    out["advice"] = CHECKS[check].advice
    for c in COLUMNS:
        if c not in out:
            out[c] = None
    return out[COLUMNS]


def cleanup_findings(wh: Warehouse, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Every finding of the clean-up report for the as-of drop, within the scope."""
    drop = wh.resolve(as_of)
    if drop is None or scope.sees_nothing:
        return pd.DataFrame(columns=COLUMNS)
    t = {n: wh.table(drop, n) for n in ("student_facts", "students", "fafsa_cadaa", "uc_apply",
                                       "csu_apply", "ccc_apply", "ag_eligibility", "rejects")}
    scope_sql, sp = scope.sql("f.district_code")
    facts = f"(SELECT * FROM {t['student_facts']} f WHERE {scope_sql})"
    stamp = f"{drop:%Y%m%d}"
    parts: list[pd.DataFrame] = []
    with wh.query() as cur:
        def q(sql: str, params: list[object]) -> pd.DataFrame:
            return cur.execute(sql, params).df()

        rej_scope, rp = scope.sql("substr(r.school_cds, 1, 7)")
        # Rejected roster rows: malformed SSIDs, and the same SSID at a second school.
        parts.append(_findings(q(f"""
            SELECT substr(r.school_cds, 1, 7) AS district_code, r.school_cds, r.value AS ssid,
                r.file, r.line, r.reason AS detail
            FROM {t['rejects']} r
            WHERE r.dataset = 'students' AND r.column_name = 'ssid'
              AND NOT regexp_full_match(coalesce(r.value, ''), '[0-9]{{10}}')
              AND regexp_full_match(coalesce(r.school_cds, ''), '[0-9]{{14}}') AND {rej_scope}
        """, rp), "ssid_malformed"))
        parts.append(_findings(q(f"""
            SELECT f.district_code, f.district_name, r.school_cds, f.school_name, r.ssid,
                r.file, r.line,
                'Also on the roster of ' || f.school_name || ' (' || f.school_cds || ')'
                    AS detail
            FROM {t['rejects']} r JOIN {facts} f ON f.ssid = r.ssid
            WHERE r.dataset = 'students' AND r.school_cds IS DISTINCT FROM f.school_cds
              AND r.reason ILIKE '%duplicate%'
        """, sp), "ssid_two_schools"))
        # Grades outside the school's grades.
        grades = q(f"""
            SELECT f.district_code, f.district_name, f.school_cds, f.school_name, f.ssid,
                'students_{stamp}.csv' AS file, s.line, f.grade_level
            FROM {facts} f JOIN {t['students']} s USING (ssid)
        """, sp)
        if not grades.empty:
            spans = {n: school_grades(n) for n in grades["school_name"].unique()}
            bad = [sp_ is not None and not sp_[0] <= g <= sp_[1]
                   for sp_, g in zip(grades["school_name"].map(spans), grades["grade_level"],
                                     strict=True)]
            g = grades[bad].copy()
            g["detail"] = [f"Grade {int(x)} at a school serving grades "
                           f"{spans[n][0]}-{spans[n][1]}"
                           for x, n in zip(g["grade_level"], g["school_name"], strict=True)]
            parts.append(_findings(g.drop(columns=["grade_level"]), "grade_outside_school"))
        # Schools missing from, or closed in, CDE's directory.
        schools = q(f"""
            SELECT district_code, any_value(district_name) AS district_name, school_cds,
                any_value(school_name) AS school_name, count(*) AS n
            FROM {facts} f GROUP BY district_code, school_cds
        """, sp)
        status = {s.cds: s.status for s in directory()}
        missing = schools[[c not in status for c in schools["school_cds"]]].copy()
        missing["detail"] = [f"{int(n):,} students enrolled" for n in missing["n"]]
        missing["file"] = f"students_{stamp}.csv"
        parts.append(_findings(missing.drop(columns=["n"]), "school_not_in_directory"))
        closed = schools[[status.get(c) in ("Closed", "Merged") for c in schools["school_cds"]]]
        closed = closed.copy()
        closed["detail"] = [f"{int(n):,} students enrolled; CDE status {status[c]}"
                            for n, c in zip(closed["n"], closed["school_cds"], strict=True)]
        closed["file"] = f"students_{stamp}.csv"
        parts.append(_findings(closed.drop(columns=["n"]), "school_closed"))
        # Statuses that contradict each other.
        person = ("f.district_code, f.district_name, f.school_cds, f.school_name, f.ssid, "
                  "x.line")
        parts.append(_findings(q(f"""
            SELECT {person}, 'fafsa_cadaa_{stamp}.csv' AS file,
                coalesce(x.application_type, 'Application') || ' Completed on '
                    || coalesce(CAST(x.completed_date AS VARCHAR), '(no date)')
                    || ' with no submitted date' AS detail
            FROM {t['fafsa_cadaa']} x JOIN {facts} f USING (ssid)
            WHERE x.status = 'Completed' AND x.submitted_date IS NULL
        """, sp), "completed_without_submitted"))
        parts.append(_findings(q(f"""
            SELECT {person}, 'fafsa_cadaa_{stamp}.csv' AS file,
                coalesce(x.application_type, 'Application') || ' completed '
                    || CAST(x.completed_date AS VARCHAR) || ', submitted '
                    || CAST(x.submitted_date AS VARCHAR) AS detail
            FROM {t['fafsa_cadaa']} x JOIN {facts} f USING (ssid)
            WHERE x.completed_date < x.submitted_date
        """, sp), "completed_before_submitted"))
        for ds in ("fafsa_cadaa", "uc_apply", "csu_apply", "ccc_apply"):
            what = "x.application_type" if ds == "fafsa_cadaa" else "x.campus"
            parts.append(_findings(q(f"""
                SELECT {person}, '{ds}_{stamp}.csv' AS file,
                    coalesce({what}, 'Application') || ' is ' || x.status
                        || ' with no submitted date' AS detail
                FROM {t[ds]} x JOIN {facts} f USING (ssid)
                WHERE x.status = 'Submitted' AND x.submitted_date IS NULL
            """, sp), "submitted_without_date"))
        parts.append(_findings(q(f"""
            SELECT {person}, 'ag_eligibility_{stamp}.csv' AS file,
                'Grade ' || f.grade_level || ': UC ' || x.uc_status || ', CSU ' || x.csu_status
                    AS detail
            FROM {t['ag_eligibility']} x JOIN {facts} f USING (ssid)
            WHERE f.grade_level < 12 AND (x.uc_status = 'Eligible' OR x.csu_status = 'Eligible')
        """, sp), "eligible_below_grade_12"))
        parts.append(_findings(never_reported(wh, scope, drop), "subgroup_never_reported"))
    found = [p for p in parts if not p.empty]
    if not found:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(found, ignore_index=True)
    names = dict(zip(schools["district_code"], schools["district_name"], strict=False))
    out["district_name"] = [n if isinstance(n, str) else names.get(c, c)
                            for n, c in zip(out["district_name"], out["district_code"],
                                            strict=True)]
    return out.sort_values(["district_name", "check", "school_name", "line"],
                           na_position="last").reset_index(drop=True)


def never_reported(wh: Warehouse, scope: Scope, drop: date) -> pd.DataFrame:
    """District x student-group fields with no value for any student of the district."""
    scope_sql, params = scope.sql()
    sums = ", ".join(f"count(*) FILTER (WHERE {d} <> ?) AS {d}" for d in SUBGROUP_DIMENSIONS)
    sql = (f"SELECT district_code, any_value(district_name) AS district_name, count(*) AS n, "
           f"{sums} FROM {wh.table(drop, 'student_facts')} WHERE {scope_sql} "
           f"GROUP BY district_code")
    with wh.query() as cur:
        frame = cur.execute(sql, [NOT_REPORTED] * len(SUBGROUP_DIMENSIONS) + params).df()
    rows = []
    for rec in frame.to_dict("records"):
        for d in SUBGROUP_DIMENSIONS:
            if rec[d] == 0:
                rows.append({"district_code": rec["district_code"],
                             "district_name": rec["district_name"],
                             "file": f"students_{drop:%Y%m%d}.csv",
                             "detail": f"{d}: empty for all {int(rec['n']):,} students"})
    return pd.DataFrame(rows)


def findings_for(findings: pd.DataFrame, check: str) -> pd.DataFrame:
    """The findings of one check, with the columns a data manager reads."""
    rows = findings[findings["check"] == check]
    return rows[["district_name", "school_name", "ssid", "file", "line", "detail"]].rename(
        columns={"district_name": "District", "school_name": "School", "ssid": "SSID",
                 "file": "File", "line": "Line", "detail": "What"}).reset_index(drop=True)


COUNT_COLUMNS = ["district_code", "district_name", *CHECKS, "total"]


def cleanup_counts(wh: Warehouse, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """How many findings of each check every district in the scope has: counts, no students.

    For the county coordinator, whose role sees no student rows and so not the report itself:
    which districts to call about their data, and about what. One row per district in the
    scope that is on the drop's roster or has a finding (districts with nothing to fix show
    zeros, so a clean district is visibly clean), sorted by name; one integer column per check
    id of ``CHECKS`` (a "Student-group field never reported" count is a number of fields, a
    school check's a number of schools, the others a number of records), then ``total``.

    The counts are not small-cell suppressed: a count of faulty records tells how well a
    district's student information system is kept, not how many students of a group there
    are or what any of them did, and nothing in it can be subtracted from a published group
    rate. The SSIDs behind the counts never leave this function.
    """
    drop = wh.resolve(as_of)
    if drop is None or scope.sees_nothing:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in CHECKS or c == "total"
                                          else "object") for c in COUNT_COLUMNS})
    findings = cleanup_findings(wh, scope, drop)
    scope_sql, params = scope.sql()
    with wh.query() as cur:
        roster = cur.execute(
            f"SELECT district_code, any_value(district_name) AS district_name "
            f"FROM {wh.table(drop, 'student_facts')} WHERE {scope_sql} GROUP BY district_code",
            params).df()
    names = dict(zip(roster["district_code"], roster["district_name"], strict=True))
    for code, name in zip(findings["district_code"], findings["district_name"], strict=True):
        if isinstance(code, str) and scope.allows_district(code):
            names.setdefault(code, name if isinstance(name, str) else code)
    counts = (findings.groupby(["district_code", "check"]).size()
              .unstack(fill_value=0) if not findings.empty else pd.DataFrame())
    rows = []
    for code, name in names.items():
        n = [int(counts.at[code, c]) if c in counts.columns and code in counts.index else 0
             for c in CHECKS]
        rows.append([code, name, *n, sum(n)])
    out = pd.DataFrame(rows, columns=COUNT_COLUMNS)
    return out.sort_values(["district_name", "district_code"]).reset_index(drop=True)


def counts_table(counts: pd.DataFrame) -> pd.DataFrame:
    """``cleanup_counts`` with the headers a coordinator reads: District, each check's title
    (only checks some district has a finding of), Total."""
    shown = [c for c in CHECKS if c in counts and counts[c].sum() > 0]
    out = counts[["district_name", *shown, "total"]].rename(
        columns={"district_name": "District", "total": "Total",
                 **{c: CHECKS[c].title for c in shown}})
    return out.reset_index(drop=True)


def cleanup_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings counted per district and check: the report's first table."""
    if findings.empty:
        return pd.DataFrame(columns=["District", "Check", "Findings"])
    out = (findings.groupby(["district_name", "title"], dropna=False).size()
           .reset_index(name="Findings")
           .rename(columns={"district_name": "District", "title": "Check"}))
    return out.sort_values(["District", "Findings"], ascending=[True, False]).reset_index(
        drop=True)
