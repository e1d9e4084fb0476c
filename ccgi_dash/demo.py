"""Synthetic weekly CCGI drops for any California county: the demo data set.

Why it exists: CCGI staff show the dashboards to County Offices of Education that have not
partnered yet, and developers need realistic volumes to test against. Real student data can
serve neither, so this module invents every student while keeping what a COE recognises at a
glance: its real districts, schools and 14-digit CDS codes (from the CDE directory), the yearly
rhythm of applications and financial aid (domain.md), and gaps between districts and student
groups that are worth discussing. The files follow drop-format.md exactly, so the demo goes
through the same loader as real data and exercises it.

How it stays fast: each school year's roster and every dated event (account creation,
applications, aid, favourites, assessments, a-g updates) are drawn once, vectorised with numpy.
A weekly drop is then only the filter "enrolled on the drop date and happened on or before it"
plus a CSV write by DuckDB. The one piece of state carried from week to week is each student's
last login, because it must never move backwards.

Determinism: every random stream is derived from (seed, purpose), so the same arguments give
byte-identical files and a changed draw in one place does not reshuffle the others.

What the gaps follow: a demo that looks wrong costs a sale, so groups and schools differ about
as much as California's published figures do. The sizes below are approximations recalled
from those publications (recent years, statewide), not copies of any table; the demo's own
levels sit somewhat lower because its a-g rate is of all seniors on the roster, not of
graduates, and every district is drawn around its own rate.

- Who is enrolled (CDE enrolment by gender and race): non-binary about 0.2-0.3% of students
  (the demo draws 0.25%), race not reported (NR) about 0.5% (demo 0.6%); Hispanic or Latino
  about 56%, White 20%, Asian 10%, African American 5%, two or more races 4-5%.
- a-g completion (CDE DataQuest, College/Career, graduates meeting UC/CSU requirements, about
  52% statewide): women about 58% and men 46% (a gap of about 12 points; the demo shows about
  11); Asian about 77%, Filipino 66%, White 55%, two or more races 57%, Hispanic or Latino 45%,
  African American 40%, Pacific Islander 37%, American Indian 33%; socioeconomically
  disadvantaged about 45% against 64% for the others; English learners about 20%; students
  with disabilities about 17%; foster youth about 20%; homeless students about 30%. The demo
  keeps the order and roughly the distances of these groups (``_ACADEMIC_BY_RACE``,
  ``_ACADEMIC_BY_GENDER`` and the group terms of the academic score).
- FAFSA/CADAA completion (CSAC's Race to Submit, about 55-60% of seniors by June in a normal
  year; national FAFSA completion studies by gender): women complete about 8-10 points more
  often than men (demo: about 10); English learners, foster youth and homeless students file
  less often.
- School types (Race to Submit and DataQuest by school): continuation, alternative and
  community day schools complete FAFSA/CADAA at roughly a third to a half of the rate of
  comprehensive high schools (demo: about 25% against 62%), a-g at a fraction (demo: about 5%
  against 40%), and almost none apply to UC. The CDE directory in ``data/reference`` carries no
  school-type field, so the kind comes from the school's name (``classify_school``).
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ccgi_dash import demo_lists, reference
from ccgi_dash.datasets import (
    AG_STATUSES,
    AID_STATUSES,
    AID_TYPES,
    APP_STATUSES,
    DATASETS,
    EL_STATUSES,
    FILE_RE,
    GENDERS,
    RACES,
)
from ccgi_dash.priority import LOAD_NICE, lower_priority

if TYPE_CHECKING:
    from ccgi_dash import reader
    from ccgi_dash.loader import IngestReport, Watcher
    from ccgi_dash.settings import Settings
    from ccgi_dash.store import DataDir

DEFAULT_COUNTY = "Fresno"
"""The county the CLI builds when none is named: mid-sized, and CCGI's home region."""

EARLIEST_THROUGH = date(2025, 7, 1)
"""The demo's oldest drops belong to the school year before ``through``; 2024-25 is the first."""

MAX_SCALE = 10.0
"""Above this the files of a large county would fill a disk, and nothing is gained."""

MAX_DAYS_AHEAD = 366
"""``through`` may run ahead of today (to preview a season) by at most about a year."""

_EPOCH = date(1970, 1, 1).toordinal()
_NEVER = 10**7
"""A day number far beyond any drop: "this never happens" without a null in numpy arrays."""

_SKIP_RE = re.compile(
    r"\b(adult|pre-?schools?|kindergarten|primary|infant|children'?s center|"
    r"early (learning|education|childhood)|child development|special education|rop|rocp|"
    r"occupational|skills center|juvenile|camps?|court|hospital|elementary|k-8|tk-8|k-12)\b",
    re.IGNORECASE,
)
_CONTINUATION_RE = re.compile(r"\bcontinuation\b", re.IGNORECASE)
_JRSR_RE = re.compile(r"\b(junior[- /]senior high|jr\.?[- /]sr\.? high|7-12|6-12)\b",
                      re.IGNORECASE)
_MIDDLE_RE = re.compile(r"\b(middle|junior high|jr\.? high|intermediate)\b", re.IGNORECASE)
_MIDDLE_COLLEGE_RE = re.compile(r"\bmiddle college\b", re.IGNORECASE)
_ALT_RE = re.compile(r"\b(alternative|opportunity|community day|independent study|independent)\b",
                     re.IGNORECASE)
_SECONDARY_RE = re.compile(r"\b(high|secondary|9-12)\b", re.IGNORECASE)
_SMALL_RE = re.compile(
    r"\b(charter|academy|early college|middle college|magnet|preparatory|prep|institute)\b",
    re.IGNORECASE,
)

SCHOOL_GRADES: dict[str, tuple[int, int]] = {
    "high": (9, 12),
    "small": (9, 12),
    "alt": (9, 12),
    "jrsr": (7, 12),
    "middle": (6, 8),
}
"""Grades each kind of school carries, from its name (first and last grade)."""

_GRADE_WEIGHTS: dict[str, dict[int, float]] = {
    "high": {9: 1.05, 10: 1.02, 11: 0.98, 12: 0.95},
    "alt": {9: 0.4, 10: 0.8, 11: 1.3, 12: 1.5},
}
"""Senior classes are smaller than freshman classes; continuation schools skew old."""

_SIZE_RANGES: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    "high": ((150, 600), (400, 1400), (800, 2800)),
    "small": ((80, 300), (100, 400), (150, 600)),
    "alt": ((30, 120), (50, 180), (60, 250)),
    "jrsr": ((80, 400), (250, 900), (600, 1800)),
    "middle": ((80, 350), (250, 800), (400, 1200)),
}
"""Enrolment ranges by kind for small, mid-sized and large districts (by feeder schools), used
where the district's own feeder schools cannot size a school (high-school districts, COEs)."""

_NOT_K12_RE = re.compile(
    r"\b(adult|pre-?schools?|infant|children'?s center|early (learning|education|childhood)|"
    r"child development|special education|rop|rocp|occupational|skills center|juvenile|"
    r"camps?|court|hospital)\b",
    re.IGNORECASE,
)
_PER_FEEDER = (55, 78)
"""Students per grade that one elementary-type school sends on: sizes a district's cohort."""


def classify_school(name: str, district: str = "") -> str | None:
    """The kind of a school from its name (``high``, ``small``, ``alt``, ``jrsr``, ``middle``).

    None for schools outside grades 6-12 or too ambiguous to place (elementary, K-8, adult,
    preschool, special education, court and camp schools). The directory has no grade span, so
    the name is the only evidence; being conservative keeps a demo school from looking absurd.
    """
    if _SKIP_RE.search(name):
        return None
    if _CONTINUATION_RE.search(name):
        return "alt"
    if _JRSR_RE.search(name):
        return "jrsr"
    if _MIDDLE_RE.search(name) and not _MIDDLE_COLLEGE_RE.search(name):
        return "middle"
    if _ALT_RE.search(name):
        is_day_school = "community day" in name.lower() and not _SECONDARY_RE.search(name)
        return None if is_day_school else "alt"
    if _SECONDARY_RE.search(name):
        run_by_coe = "office of education" in district.lower()
        return "small" if _SMALL_RE.search(name) or run_by_coe else "high"
    return None


@dataclass(frozen=True)
class DemoSchool:
    """A real school of the directory that the demo gives students to."""

    cds: str
    name: str
    district: str
    kind: str
    feeders: int
    """The district's other K-12 schools (mostly elementary): the demo's proxy for its size,
    since the directory carries no enrolment."""

    @property
    def grades(self) -> range:
        first, last = SCHOOL_GRADES[self.kind]
        return range(first, last + 1)


def demo_schools(county_code: str) -> tuple[DemoSchool, ...]:
    """The active schools of a county that carry grades 6-12, sorted by CDS code."""
    active = [s for s in reference.directory()
              if s.county_code == county_code and s.status == "Active"
              and not s.is_district_office]
    kinds = {s.cds: classify_school(s.school, s.district) for s in active}
    feeders: dict[str, int] = {}
    for s in active:
        if kinds[s.cds] is None and not _NOT_K12_RE.search(s.school):
            feeders[s.district_code] = feeders.get(s.district_code, 0) + 1
    found: dict[str, DemoSchool] = {}
    for s in active:
        kind = kinds[s.cds]
        if kind and s.cds not in found and len(s.cds) == 14 and s.cds.isdigit():
            found[s.cds] = DemoSchool(s.cds, s.school, s.district, kind,
                                      feeders.get(s.district_code, 0))
    return tuple(found[c] for c in sorted(found))


def _day(d: date) -> int:
    return d.toordinal() - _EPOCH


def _date(day: int) -> date:
    return date.fromordinal(int(day) + _EPOCH)


def _rng(seed: int, *keys: object) -> np.random.Generator:
    """One independent stream per purpose: adding a draw in one place leaves the rest alone."""
    return np.random.default_rng([seed, *(zlib.crc32(str(k).encode()) for k in keys)])


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _shift(p: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Probabilities moved by ``delta`` on the log-odds scale (0 leaves them as they are)."""
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return np.where(delta == 0, p, _expit(np.log(q / (1 - q)) + delta))


def _calibrate(lin: np.ndarray, group: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Probabilities whose mean within each group is target[group], ranked as ``lin`` ranks.

    Individual effects (SED, EL, ...) then make gaps inside a district while each district
    still lands on its own overall rate, which is what makes district views differ sensibly.
    """
    n_groups = len(target)
    counts = np.maximum(np.bincount(group, minlength=n_groups), 1)
    lo = np.full(n_groups, -15.0)
    hi = np.full(n_groups, 15.0)
    for _ in range(40):
        mid = (lo + hi) / 2
        mean = np.bincount(group, weights=_expit(lin + mid[group]), minlength=n_groups) / counts
        over = mean > target
        hi = np.where(over, mid, hi)
        lo = np.where(over, lo, mid)
    return _expit(lin + ((lo + hi) / 2)[group])


def _days(first: date, last: date) -> np.ndarray:
    """Day numbers from first to last, both included."""
    return np.arange(_day(first), _day(last) + 1, dtype=np.int64)


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days + 3) % 7  # Monday = 0; 1970-01-01 was a Thursday


def _month(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def _sample(rng: np.random.Generator, n: int, days: np.ndarray, weights: np.ndarray,
            ) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    return days[rng.choice(len(days), size=n, p=weights / weights.sum())]


def _uniform_days(rng: np.random.Generator, n: int, first: date, last: date) -> np.ndarray:
    return rng.integers(_day(first), _day(last) + 1, size=n).astype(np.int64)


def _weekend_damped(days: np.ndarray, weights: np.ndarray, factor: float) -> np.ndarray:
    """Students do most of this at school, so Saturdays and Sundays see less of it."""
    return np.where(_weekday(days) >= 5, weights * factor, weights)


def _exp_days(rng: np.random.Generator, mean: float, n: int) -> np.ndarray:
    return np.floor(rng.exponential(mean, size=n)).astype(np.int64)


def _top_k(rng: np.random.Generator, k: np.ndarray, weights: np.ndarray,
           ) -> tuple[np.ndarray, np.ndarray]:
    """Draw k[i] distinct items for each row i, weighted (Gumbel top-k); returns (row, item)."""
    rows: list[np.ndarray] = []
    items: list[np.ndarray] = []
    if len(k) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    kmax = int(k.max())
    logw = np.log(weights)
    chunk = max(1, 2_000_000 // len(weights))
    for first in range(0, len(k), chunk):
        kk = k[first:first + chunk]
        keys = logw[None, :] - np.log(-np.log(rng.random((len(kk), len(weights)))))
        order = np.argsort(-keys, axis=1, kind="stable")[:, :kmax]
        take = np.arange(kmax)[None, :] < kk[:, None]
        rows.append(np.broadcast_to(np.arange(len(kk))[:, None], take.shape)[take] + first)
        items.append(order[take])
    return np.concatenate(rows), np.concatenate(items)


def _dates(days: np.ndarray, show: np.ndarray) -> pa.Array:
    """An Arrow date column: the day where ``show``, else null (an empty CSV cell)."""
    return pa.array(days.astype(np.int32), mask=~show).cast(pa.date32())


def _labels(labels: Sequence[str], codes: np.ndarray) -> pa.Array:
    """Arrow strings from small-integer codes; a negative code is null (an empty CSV cell)."""
    return pc.take(pa.array(list(labels), pa.string()),
                   pa.array(codes.astype(np.int32), mask=codes < 0))


_AID_LATE_OPENINGS = {
    2023: (date(2023, 12, 31), date(2024, 4, 2)),
    2024: (date(2024, 11, 21), date(2025, 4, 2)),
}
"""FAFSA cycles that opened late, with the Cal Grant deadline extended (domain.md)."""


@dataclass(frozen=True)
class _Calendar:
    """The dates of one school year that shape the curves (domain.md)."""

    start_year: int

    @property
    def start(self) -> date:
        return date(self.start_year, 7, 1)

    @property
    def end(self) -> date:
        """First day of the next school year (exclusive end)."""
        return date(self.start_year + 1, 7, 1)

    @property
    def label(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    @property
    def aid_open(self) -> date:
        late = _AID_LATE_OPENINGS.get(self.start_year)
        return late[0] if late else date(self.start_year, 10, 1)

    @property
    def cal_grant_deadline(self) -> date:
        late = _AID_LATE_OPENINGS.get(self.start_year)
        return late[1] if late else date(self.start_year + 1, 3, 2)

    @property
    def apply_open(self) -> date:
        """UC and Cal State Apply take submissions from October 1."""
        return date(self.start_year, 10, 1)

    @property
    def apply_deadline(self) -> date:
        return date(self.start_year, 12, 1)

    def d(self, month: int, day: int) -> date:
        """A date of this school year: July-December in the first year, January-June after."""
        return date(self.start_year + (month < 7), month, day)


def _registration_weights(cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Accounts are created mostly in class, August to November."""
    days = _days(cal.start, cal.end - timedelta(days=1))
    per_month = {7: 2, 8: 14, 9: 22, 10: 22, 11: 15, 12: 5, 1: 6, 2: 5, 3: 4, 4: 3, 5: 1.5, 6: 0.5}
    w = np.array([per_month[m] for m in range(1, 13)], dtype=float)[_month(days) - 1]
    return days, _weekend_damped(days, w, 0.15)


def _aid_weights(cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """FAFSA/CADAA: launch-week bump, holiday lull, rush before the Cal Grant deadline, tail."""
    days = _days(cal.aid_open, cal.d(6, 30))
    deadline = _day(cal.cal_grant_deadline)
    opened = _day(cal.aid_open)
    w = np.ones(len(days))
    w[days < opened + 14] = 1.8
    holidays = (days >= _day(cal.d(12, 18))) & (days <= _day(cal.d(1, 4)))
    w[holidays] = 0.4
    ramp_start = max(opened + 14, deadline - 40)
    ramp = (days >= ramp_start) & (days <= deadline)
    w[ramp] = 1.5 + 4.0 * (days[ramp] - ramp_start) / max(1, deadline - ramp_start)
    w[(days > deadline - 7) & (days <= deadline)] = 7.0
    after = days > deadline
    w[after] = 0.5 * np.exp(-(days[after] - deadline) / 60.0) + 0.1
    return days, _weekend_damped(days, w, 0.6)


def _apply_weights(cal: _Calendar, late_share: float) -> tuple[np.ndarray, np.ndarray]:
    """UC and CSU: a trickle from October 1, then most of it in the last two weeks."""
    days = _days(cal.apply_open, cal.apply_deadline)
    deadline = _day(cal.apply_deadline)
    w = 1.0 + 25.0 * np.exp(-(deadline - days) / 5.0)
    if late_share > 0:  # campuses that extend their deadline take applications into winter
        tail = _days(cal.apply_deadline + timedelta(days=1), cal.d(2, 28))
        tw = np.exp(-(tail - deadline) / 30.0)
        tw = tw / tw.sum() * w.sum() * late_share / (1 - late_share)
        days = np.concatenate([days, tail])
        w = np.concatenate([w, tw])
    return days, _weekend_damped(days, w, 0.8)


def _ccc_weights(cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """CCCApply: year-round, but seniors mostly apply in spring."""
    days = _days(cal.d(9, 1), cal.d(6, 15))
    per_month = {9: 0.5, 10: 0.9, 11: 1.0, 12: 0.5, 1: 1.0, 2: 1.6, 3: 2.2, 4: 2.3, 5: 2.0,
                 6: 0.8}
    w = np.array([per_month.get(m, 0.0) for m in range(1, 13)])[_month(days) - 1]
    return days, _weekend_damped(days, w, 0.5)


def _opt_out_weights(cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """AB 469 opt-out forms: a few at fall registration, most as LEAs confirm in spring."""
    days = _days(cal.d(8, 10), cal.d(6, 10))
    spring = _day(cal.d(1, 15))
    w = np.where(days < spring, 0.3, 1.0 + 2.0 * (days - spring) / max(1, days[-1] - spring))
    return days, _weekend_damped(days, w, 0.1)


def _season(day: int) -> float:
    """How much students log in during the week before a drop (summer and holidays are quiet)."""
    d = _date(day)
    if (d.month == 12 and d.day >= 20) or (d.month == 1 and d.day <= 5):
        return 0.25
    return {7: 0.15, 8: 0.55, 9: 1.0, 10: 1.1, 11: 1.1, 12: 0.6, 1: 0.85, 2: 0.95, 3: 0.95,
            4: 0.9, 5: 0.7, 6: 0.3}[d.month]


def _fridays(first: date, last: date) -> list[date]:
    d = first + timedelta(days=(4 - first.weekday()) % 7)
    out = []
    while d <= last:
        out.append(d)
        d += timedelta(days=7)
    return out


_RACE_BASE = np.array([0.05, 0.005, 0.10, 0.025, 0.56, 0.005, 0.20, 0.045, 0.006])
"""California-like shares in RACES order (AA AI AS FI HI PI WH MR NR); CDE enrolment counts
about 0.5% of students as race not reported (NR)."""
_EL_BY_RACE = np.array([0.2, 0.3, 1.3, 0.5, 1.6, 1.0, 0.2, 0.3, 0.6])
_SED_BY_RACE = np.array([1.15, 1.1, 0.75, 0.75, 1.2, 1.1, 0.6, 0.8, 0.9])
_ACADEMIC_BY_RACE = np.array([-0.6, -0.75, 1.2, 0.7, -0.05, -0.6, 0.0, 0.3, 0.0])
"""Shifts of the academic score by race, sized so a-g eligibility by race spreads about as
far as CDE's DataQuest rates do (see the module docstring); SED and EL add to them."""
_GENDER_P = np.array([0.503, 0.4945, 0.0025])
"""M, F, X: CDE enrolment counts about 0.2-0.3% of students as non-binary."""
_ACADEMIC_BY_GENDER = np.array([-0.22, 0.22, 0.0])
"""Young women complete a-g about 10-12 points more often than young men (DataQuest)."""
_AID_BY_GENDER = np.array([-0.14, 0.14, 0.0])
"""Women file FAFSA/CADAA more often, beyond what grades explain (about 8-10 points)."""
_APPLY_BY_GENDER = np.array([-0.03, 0.03, 0.0])
"""Women are the larger share of UC and CSU applicants (about 55-57%)."""
_ALT_STUDENT = {"academic": -1.0, "engagement": -0.7, "sed": 1.25, "homeless": 2.5,
                "foster": 3.0}
"""Who attends continuation, alternative and community day schools: students behind on
credits, more of them poor, homeless or in foster care."""
_SCHOOL_SHIFT: dict[str, dict[str, float]] = {
    "aid": {"alt": -1.3, "small": 0.15},
    "uc": {"alt": -2.8, "small": 0.3},
    "csu": {"alt": -2.0, "small": 0.2},
    "ccc": {"alt": -0.1},
    "ag": {"alt": -1.8, "small": 0.3},
}
"""Log-odds shifts by school kind, applied after each district is calibrated to its own rate:
a continuation school then sits well below the comprehensive high schools of any district
(even a district whose only secondary school is one), while the district rates stay close
to their targets because such schools hold few seniors."""
_ACCOUNT_BY_GRADE = np.array([0, 0, 0, 0, 0, 0, -0.12, -0.07, -0.03, 0.0, 0.03, 0.05, 0.07,
                              0.07])
"""Spring account coverage relative to the district's, by grade: seniors have used it most."""

_HI, _AS, _FI, _AA, _MR = (RACES.index(c) for c in ("HI", "AS", "FI", "AA", "MR"))
_EL = EL_STATUSES.index("EL")

_FIRST_NAMES = demo_lists.FIRST_NAMES_F + demo_lists.FIRST_NAMES_M
_LAST_GROUPS = ("hispanic", "asian", "filipino", "black", "general")
_LAST_NAMES = tuple(n for g in _LAST_GROUPS for n in demo_lists.LAST_NAMES[g])
_LAST_OFFSET = np.cumsum([0] + [len(demo_lists.LAST_NAMES[g]) for g in _LAST_GROUPS])


@dataclass
class _Districts:
    code: list[str]
    name: list[str]
    z: np.ndarray
    """College-going culture: the one number that puts a district ahead or behind."""
    sed: np.ndarray
    el: np.ndarray
    race_p: np.ndarray
    homeless: np.ndarray
    migrant: np.ndarray
    account: np.ndarray
    prior: np.ndarray
    """Share of the spring coverage reached before the first demo year (earlier partners)."""
    aid: np.ndarray
    uc: np.ndarray
    csu: np.ndarray
    ccc: np.ndarray
    uc_elig: np.ndarray
    csu_gap: np.ndarray
    engagement: np.ndarray
    reported: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


@dataclass
class _Year:
    """One school year's enrolment rows (one per student) and their a-g inputs."""

    cal: _Calendar
    person: np.ndarray
    school: np.ndarray
    grade: np.ndarray
    enter: np.ndarray
    exit: np.ndarray
    ag_v1: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ag_v2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ag_uc: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ag_csu: np.ndarray = field(default_factory=lambda: np.zeros(0))
    static: pa.Table | None = None


@dataclass
class _Events:
    """Rows of one event file across both years: who, what (static Arrow columns), when."""

    person: np.ndarray
    start: np.ndarray
    """The day the row first appears."""
    columns: dict[str, pa.Array]
    submit: np.ndarray | None = None
    complete: np.ndarray | None = None
    opted_out: np.ndarray | None = None


class DemoWorld:
    """Everything drawn once: schools, districts, students, their events; then drop by drop.

    ``generate`` writes its drops to files; tests and tools may also call :meth:`drop` for
    tables in memory, in date order (last logins only move forward).
    """

    @classmethod
    def create(cls, county: str, *, seed: int = 7, scale: float = 1.0,
               through: date | None = None) -> DemoWorld:
        """Validate the arguments as ``generate`` does and draw the world; ``dates`` are the
        Fridays it covers."""
        code, through = _validate(county, None, seed, scale, through)
        dates = drop_dates(through)
        world = cls(code, seed, float(scale), dates[0].year)
        world.dates = dates
        return world

    def __init__(self, county_code: str, seed: int, scale: float, first_year: int) -> None:
        self.code = county_code
        self.seed = seed
        self.scale = scale
        self.cals = (_Calendar(first_year), _Calendar(first_year + 1))
        self.schools = demo_schools(county_code)
        if not any(12 in s.grades for s in self.schools):
            raise ValueError(f"county {reference.county_name(county_code)!r} has no active "
                             "high school in the directory, so it has no seniors to show")
        self._people: dict[str, list[np.ndarray]] = {}
        self.n_people = 0
        self._ag_dates: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._build_schools()
        self._build_districts()
        y1 = self._first_year()
        y2 = self._next_year(y1)
        self.years = (y1, y2)
        self._finish_people()
        self._accounts()
        self._anchor()
        for yi in range(2):
            self._ag_inputs(yi)
        self.aid, self.uc, self.csu, self.ccc = self._senior_events()
        self.favorites = self._favorites()
        self.assessments = self._assessments()
        for yi in range(2):
            self._student_static(yi)
        self._login = np.full(self.n_people, -1, dtype=np.int64)
        self._login_started = False
        self._last_drop = -1
        self.dates: list[date] = []

    def _build_schools(self) -> None:
        rng = _rng(self.seed, "schools", self.code)
        codes = sorted({s.cds[:7] for s in self.schools})
        index = {c: i for i, c in enumerate(codes)}
        self.s_cds = [s.cds for s in self.schools]
        self.s_district = np.array([index[s.cds[:7]] for s in self.schools], dtype=np.int64)
        self.s_first = np.array([s.grades.start for s in self.schools], dtype=np.int64)
        self.s_last = np.array([s.grades.stop - 1 for s in self.schools], dtype=np.int64)
        self.s_alt = np.array([s.kind == "alt" for s in self.schools], dtype=bool)
        self.district_codes = codes
        self.district_names = [next(s.district for s in self.schools if s.cds[:7] == c)
                               for c in codes]
        sizes = self._school_sizes(rng)
        cells_school, cells_grade, cells_n = [], [], []
        for i, s in enumerate(self.schools):
            weights = _GRADE_WEIGHTS.get(s.kind, {})
            w = np.array([weights.get(g, 1.0) for g in s.grades])
            for g, share in zip(s.grades, w / w.sum(), strict=True):
                cells_school.append(i)
                cells_grade.append(g)
                cells_n.append(max(1, round(sizes[i] * self.scale * share)))
        self.cell_school = np.array(cells_school, dtype=np.int64)
        self.cell_grade = np.array(cells_grade, dtype=np.int64)
        self.cell_n = np.array(cells_n, dtype=np.int64)

    def _school_sizes(self, rng: np.random.Generator) -> np.ndarray:
        """Enrolment of each school at scale 1.

        A district's cohort per grade follows from its feeder schools, and its comprehensive
        high schools and middle schools split that cohort, so big unified districts get big
        high schools and a rural district's only high school stays small. Where a district has
        no feeders (high-school districts, county offices) the kind's usual range is used.
        """
        sizes = np.zeros(len(self.schools))
        for dist in range(len(self.district_codes)):
            members = np.flatnonzero(self.s_district == dist)
            feeders = self.schools[members[0]].feeders
            cohort = feeders * rng.uniform(*_PER_FEEDER)
            tier = 0 if feeders <= 3 else 1 if feeders <= 10 else 2
            for kinds, lo, hi in ((("high", "jrsr"), 150, 3200), (("middle",), 80, 1500)):
                group = [i for i in members if self.schools[i].kind in kinds]
                if cohort and group:
                    grades = np.array([len(self.schools[i].grades) for i in group])
                    w = rng.uniform(0.7, 1.3, size=len(group))
                    share = cohort * 0.92 * w / w.sum()
                    sizes[group] = np.clip(share * grades, lo, hi)
            for i in members:
                s = self.schools[i]
                if sizes[i] == 0:
                    lo_hi = _SIZE_RANGES[s.kind][2 if feeders == 0 and s.kind == "high" else tier]
                    sizes[i] = rng.uniform(*lo_hi)
        return sizes

    def _build_districts(self) -> None:
        rng = _rng(self.seed, "districts", self.code)
        n = len(self.district_codes)

        def noise() -> np.ndarray:
            return rng.normal(size=n)

        z = noise()
        sed = np.clip(0.6 + 0.15 * noise() - 0.06 * z, 0.12, 0.95)
        self.d = _Districts(
            code=self.district_codes,
            name=self.district_names,
            z=z,
            sed=sed,
            el=np.clip(0.13 + 0.05 * noise() + 0.12 * (sed - 0.6), 0.02, 0.4),
            race_p=rng.dirichlet(_RACE_BASE / _RACE_BASE.sum() * 25, size=n),
            homeless=np.clip(0.03 * np.exp(0.5 * noise()), 0.005, 0.12),
            migrant=np.clip(0.005 * np.exp(noise()), 0.0, 0.1),
            account=np.clip(0.76 + 0.06 * z + 0.04 * noise(), 0.6, 0.9),
            prior=rng.uniform(0.4, 0.75, size=n),
            aid=np.clip(0.65 + 0.05 * z + 0.03 * noise(), 0.5, 0.8),
            uc=np.clip(0.27 + 0.05 * z - 0.12 * (sed - 0.6) + 0.03 * noise(), 0.12, 0.45),
            csu=np.clip(0.42 + 0.04 * z + 0.03 * noise(), 0.3, 0.55),
            ccc=np.clip(0.38 - 0.02 * z + 0.03 * noise(), 0.25, 0.5),
            uc_elig=np.clip(0.45 + 0.07 * z - 0.12 * (sed - 0.6) + 0.03 * noise(), 0.2, 0.72),
            csu_gap=rng.uniform(0.04, 0.12, size=n),
            engagement=0.35 * z + 0.2 * noise(),
        )
        # About one district in eight sends no subgroup data: never the largest, never all.
        size = np.bincount(self.s_district[self.cell_school], weights=self.cell_n, minlength=n)
        reported = np.ones(n, dtype=bool)
        if n >= 2:
            k = max(1, round(n / 8))
            candidates = np.delete(np.arange(n), int(np.argmax(size)))
            w = 1 / np.sqrt(size[candidates])
            reported[rng.choice(candidates, size=min(k, len(candidates)), replace=False,
                                p=w / w.sum())] = False
        self.d.reported = reported

    def _add_people(self, rng: np.random.Generator, school: np.ndarray, g0: np.ndarray,
                    ) -> np.ndarray:
        """New students of the given schools; ``g0`` is the grade they are (or would be) in
        during the first demo year, which fixes their grade in every other year. Students who
        start at an alternative school are drawn as such schools' students are (``_ALT_STUDENT``).
        """
        district = self.s_district[school]
        alt = self.s_alt[school]
        n = len(district)
        d = self.d
        cum = np.cumsum(d.race_p, axis=1)[district]
        race = (rng.random(n)[:, None] > cum[:, :-1]).sum(axis=1)
        gender = rng.choice(3, size=n, p=_GENDER_P)
        grade_now = np.clip(g0, 6, 12)
        mult = _EL_BY_RACE[race] / 1.1
        p_el = np.clip(d.el[district] * mult * (1.2 - 0.06 * (grade_now - 6)), 0, 0.7)
        p_rfep = np.clip(0.28 * mult * (0.7 + 0.08 * (grade_now - 6)), 0, 0.6)
        p_ifep = np.clip(0.05 * mult, 0, 0.2)
        r = rng.random(n)
        el = np.select(
            [r < p_el, r < p_el + p_rfep, r < p_el + p_rfep + p_ifep,
             r < p_el + p_rfep + p_ifep + 0.005],
            [_EL, EL_STATUSES.index("RFEP"), EL_STATUSES.index("IFEP"),
             EL_STATUSES.index("TBD")],
            EL_STATUSES.index("EO"),
        )
        a = _ALT_STUDENT
        sed = rng.random(n) < np.clip(d.sed[district] * _SED_BY_RACE[race]
                                      * np.where(el == _EL, 1.15, 1.0)
                                      * np.where(alt, a["sed"], 1.0), 0.02, 0.98)
        swd = rng.random(n) < np.where(gender == 0, 0.17, np.where(gender == 1, 0.09, 0.13))
        foster = rng.random(n) < np.where(sed, 0.0075, 0.002) * np.where(alt, a["foster"], 1.0)
        homeless = rng.random(n) < (d.homeless[district] * np.where(sed, 1.5, 0.3)
                                    * np.where(alt, a["homeless"], 1.0))
        migrant = rng.random(n) < d.migrant[district] * np.where(race == _HI, 2.2, 0.2)
        academic = (rng.normal(size=n) + 0.25 * d.z[district] - 0.55 * sed
                    - 1.3 * (el == _EL) - 1.2 * swd - 1.0 * foster - 0.6 * homeless
                    - 0.3 * migrant + _ACADEMIC_BY_RACE[race] + _ACADEMIC_BY_GENDER[gender]
                    + a["academic"] * alt)
        engagement = (rng.normal(size=n) + d.engagement[district] + 0.1 * academic
                      + a["engagement"] * alt)
        n_f, n_m = len(demo_lists.FIRST_NAMES_F), len(demo_lists.FIRST_NAMES_M)
        as_female = np.where(gender == 2, rng.random(n) < 0.5, gender == 1)
        first = np.where(as_female, rng.integers(0, n_f, n), n_f + rng.integers(0, n_m, n))
        group = np.full(n, _LAST_GROUPS.index("general"))
        group[race == _HI] = _LAST_GROUPS.index("hispanic")
        group[race == _AS] = _LAST_GROUPS.index("asian")
        group[race == _FI] = _LAST_GROUPS.index("filipino")
        group[race == _AA] = _LAST_GROUPS.index("black")
        group[(race == _MR) & (rng.random(n) < 0.5)] = _LAST_GROUPS.index("hispanic")
        group[rng.random(n) < 0.08] = _LAST_GROUPS.index("general")  # families mix
        sizes = np.diff(_LAST_OFFSET)
        last = _LAST_OFFSET[group] + np.floor(rng.random(n) * sizes[group]).astype(np.int64)
        new = {
            "district": district, "g0": g0, "race": race, "gender": gender, "el": el,
            "sed": sed, "swd": swd, "foster": foster, "homeless": homeless, "migrant": migrant,
            "academic": academic, "engagement": engagement, "u": rng.random(n),
            "first": first, "last": last, "local_id": rng.integers(100_000, 10_000_000, n),
        }
        for key, values in new.items():
            self._people.setdefault(key, []).append(np.asarray(values))
        ids = np.arange(self.n_people, self.n_people + n)
        self.n_people += n
        return ids

    def _churn(self, rng: np.random.Generator, cal: _Calendar, person: np.ndarray,
               school: np.ndarray, grade: np.ndarray) -> _Year:
        """A few students leave and a few arrive every week during the school year."""
        n = len(person)
        enter = np.full(n, _day(cal.start), dtype=np.int64)
        exit_ = np.full(n, _day(cal.end), dtype=np.int64)
        leaves = rng.random(n) < 0.05
        exit_[leaves] = _uniform_days(rng, int(leaves.sum()), cal.d(8, 20), cal.d(6, 5))
        cell = school * 13 + grade
        cells, counts = np.unique(cell, return_counts=True)
        arrivals = rng.binomial(counts, 0.05)
        new_cell = np.repeat(cells, arrivals)
        new_school, new_grade = new_cell // 13, new_cell % 13
        new_person = self._add_people(rng, new_school,
                                      new_grade - (cal.start_year - self.cals[0].start_year))
        return _Year(
            cal=cal,
            person=np.concatenate([person, new_person]),
            school=np.concatenate([school, new_school]),
            grade=np.concatenate([grade, new_grade]),
            enter=np.concatenate([enter, _uniform_days(rng, len(new_person), cal.d(8, 20),
                                                       cal.d(5, 20))]),
            exit=np.concatenate([exit_, np.full(len(new_person), _day(cal.end))]),
        )

    def _first_year(self) -> _Year:
        cal = self.cals[0]
        rng = _rng(self.seed, "year", cal.start_year, self.code)
        school = np.repeat(self.cell_school, self.cell_n)
        grade = np.repeat(self.cell_grade, self.cell_n)
        person = self._add_people(rng, school, grade)
        return self._churn(rng, cal, person, school, grade)

    def _next_year(self, prev: _Year) -> _Year:
        """Everyone moves up a grade; seniors leave; 8th graders go on to a district high
        school; new 6th and 9th graders (and a few newcomers) refill each grade."""
        cal = self.cals[1]
        rng = _rng(self.seed, "year", cal.start_year, self.code)
        stays = ((prev.exit == _day(prev.cal.end)) & (prev.grade < 12)
                 & (rng.random(len(prev.person)) > 0.03))
        person, school, grade = prev.person[stays], prev.school[stays], prev.grade[stays] + 1
        moving = grade > self.s_last[school]
        keep = ~moving
        size_9 = np.bincount(self.cell_school[self.cell_grade == 9],
                             weights=self.cell_n[self.cell_grade == 9],
                             minlength=len(self.schools))
        regular = np.array([s.kind != "alt" for s in self.schools])
        for dist in np.unique(self.s_district[school[moving]]):
            rows = np.flatnonzero(moving & (self.s_district[school] == dist))
            targets = np.flatnonzero((self.s_district == dist) & (size_9 > 0) & regular
                                     & (self.s_first <= 9) & (self.s_last >= 9))
            if len(targets) == 0:
                continue  # an elementary district: its 8th graders leave for another district
            w = size_9[targets]
            school[rows] = rng.choice(targets, size=len(rows), p=w / w.sum())
            keep[rows] = True
        person, school, grade = person[keep], school[keep], grade[keep]
        drift = 1 + 0.03 * rng.normal(size=len(self.schools))
        target = np.maximum(1, np.round(self.cell_n * drift[self.cell_school])).astype(np.int64)
        have = np.bincount(school * 13 + grade, minlength=len(self.schools) * 13)
        missing = np.maximum(0, target - have[self.cell_school * 13 + self.cell_grade])
        new_school = np.repeat(self.cell_school, missing)
        new_grade = np.repeat(self.cell_grade, missing)
        new_person = self._add_people(rng, new_school, new_grade - 1)
        return self._churn(rng, cal, np.concatenate([person, new_person]),
                           np.concatenate([school, new_school]),
                           np.concatenate([grade, new_grade]))

    def _finish_people(self) -> None:
        """Concatenate people, give them unique SSIDs, sort each year's rows for tidy files."""
        self.p = {k: np.concatenate(v) for k, v in self._people.items()}
        rng = _rng(self.seed, "ssid", self.code)
        ssid = np.zeros(0, dtype=np.int64)
        while len(ssid) < self.n_people:
            draw = np.concatenate([ssid, rng.integers(0, 10**10, size=self.n_people + 64)])
            _, first = np.unique(draw, return_index=True)
            ssid = draw[np.sort(first)][: self.n_people]
        self.ssid_num = ssid
        self.ssid = pc.utf8_lpad(pa.array(ssid).cast(pa.string()), 10, "0")
        for y in (self.years[0], self.years[1]):
            order = np.lexsort((ssid[y.person], y.grade, y.school))
            for name in ("person", "school", "grade", "enter", "exit"):
                setattr(y, name, getattr(y, name)[order])
        self.grade_in = [self.p["g0"] + i for i in range(2)]

    def _accounts(self) -> None:
        """When each student registered, if ever: the first school year in which a persistent
        draw falls under the district's coverage for that grade and year.

        Coverage grows with grade and year and was lower before the first demo year (many
        LEAs partnered only for EC 60900.5), so accounts accumulate through the first year's
        fall and the second year starts ahead of the first, as a COE would expect.
        """
        rng = _rng(self.seed, "accounts", self.code)
        d = self.p["district"]
        g0 = self.p["g0"]
        u = self.p["u"]
        year_of = np.full(self.n_people, 99)
        for k in range(-6, 2):
            grade = g0 + k
            p = (self.d.account[d] + _ACCOUNT_BY_GRADE[np.clip(grade, 0, 13)]
                 - 0.03 * (1 - k))
            p = np.where(grade < 6, 0.0, np.clip(p, 0.0, 0.97))
            if k < 0:
                p = p * self.d.prior[d]
            year_of[(u < p) & (year_of == 99)] = k
        created = np.full(self.n_people, _NEVER, dtype=np.int64)
        for k in range(-6, 2):
            rows = np.flatnonzero(year_of == k)
            days, w = _registration_weights(_Calendar(self.cals[0].start_year + k))
            created[rows] = _sample(rng, len(rows), days, w)
        self.created = created
        self.login_rate = _expit(-2.1 + 0.8 * self.p["engagement"])

    def _anchor(self) -> None:
        """Pick, per year, full-year seniors whose records exist from the first day.

        The contract rejects a header-only file, yet in July nobody has applied or filed yet.
        An early opt-out and an early starter per year keep every file non-empty all year,
        the way a few early birds always exist, without bending anyone else's dates.
        """
        rng = _rng(self.seed, "anchor", self.code)
        self.anchors: list[tuple[int, int]] = []
        for y in self.years:
            seniors = np.flatnonzero((y.grade == 12) & (y.enter == _day(y.cal.start)))
            picks = rng.choice(seniors, size=min(2, len(seniors)), replace=False)
            y.exit[picks] = _day(y.cal.end)
            early_apply, early_opt = int(y.person[picks[0]]), int(y.person[picks[-1]])
            self.anchors.append((early_apply, early_opt))
            for p in {early_apply, early_opt}:
                self.created[p] = min(self.created[p], _day(y.cal.start) - 60)

    def _ag_inputs(self, yi: int) -> None:
        """Per-row thresholds of a-g status; statuses are read off them at each drop."""
        y = self.years[yi]
        rng = _rng(self.seed, "ag", y.cal.start_year, self.code)
        n = len(y.person)
        academic = self.p["academic"][y.person]
        dist = self.p["district"][y.person]
        y.ag_v1 = rng.random(n)
        y.ag_v2 = np.where(rng.random(n) < 0.12, rng.random(n), y.ag_v1)
        uc = np.zeros(n)
        csu = np.zeros(n)
        under = (y.grade >= 9) & (y.grade <= 11)
        shift = self._school_shift(y.school, "ag")
        if under.any():
            targets = np.array([0.75, 0.68, 0.62])
            uc[under] = _shift(_calibrate(1.3 * academic[under], y.grade[under] - 9, targets),
                               shift[under])
            csu[under] = np.minimum(1, uc[under] + 0.06)
        seniors = y.grade == 12
        if seniors.any():
            lift = 0.02 if yi == 1 else -0.01
            uc[seniors] = _shift(_calibrate(1.5 * academic[seniors], dist[seniors],
                                            np.clip(self.d.uc_elig + lift, 0.05, 0.95)),
                                 shift[seniors])
            csu[seniors] = np.maximum(uc[seniors], _shift(_calibrate(
                1.5 * academic[seniors], dist[seniors],
                np.clip(self.d.uc_elig + self.d.csu_gap + lift, 0.05, 0.97)), shift[seniors]))
        y.ag_uc, y.ag_csu = uc, csu
        school_rng = _rng(self.seed, "ag-dates", y.cal.start_year, self.code)
        n_s = len(self.schools)
        self._ag_dates[yi] = (
            _day(y.cal.d(8, 15)) + school_rng.integers(0, 26, n_s),   # fall update
            _day(y.cal.d(1, 20)) + school_rng.integers(0, 27, n_s),   # semester grades
            _day(y.cal.d(3, 1)) + school_rng.integers(0, 111, n_s),   # seniors settle
        )

    def _senior_events(self) -> tuple[_Events, _Events, _Events, _Events]:
        aid, uc, csu, ccc = [], [], [], []
        for yi, y in enumerate(self.years):
            seniors = np.flatnonzero(y.grade == 12)
            rng = _rng(self.seed, "seniors", y.cal.start_year, self.code)
            persons = y.person[seniors]
            school = y.school[seniors]
            uc_elig = y.ag_v1[seniors] < y.ag_uc[seniors]
            csu_elig = y.ag_v1[seniors] < y.ag_csu[seniors]
            lift = 0.02 if yi == 1 else -0.01
            aid.append(self._aid(rng, y.cal, persons, school, lift, self.anchors[yi][1]))
            uc.append(self._applications(
                rng, y.cal, persons, school, "uc", uc_elig, lift, self.anchors[yi][0]))
            csu.append(self._applications(
                rng, y.cal, persons, school, "csu", csu_elig, lift, self.anchors[yi][0]))
            ccc.append(self._applications(
                rng, y.cal, persons, school, "ccc", csu_elig, lift, self.anchors[yi][0]))
        return (self._events_aid(aid), self._events_apply(uc, demo_lists.UC_CAMPUSES),
                self._events_apply(csu, demo_lists.CSU_CAMPUSES),
                self._events_apply(ccc, demo_lists.CCC_COLLEGES))

    def _school_shift(self, school: np.ndarray, outcome: str) -> np.ndarray:
        """The log-odds shift of ``outcome`` for rows at these schools (``_SCHOOL_SHIFT``)."""
        by_kind = _SCHOOL_SHIFT[outcome]
        return np.array([by_kind.get(s.kind, 0.0) for s in self.schools])[school]

    def _covariates(self, persons: np.ndarray) -> dict[str, np.ndarray]:
        p = self.p
        return {k: p[k][persons].astype(float) for k in
                ("academic", "engagement", "sed", "swd", "foster", "homeless", "migrant")} | {
            "el": (p["el"][persons] == _EL).astype(float),
            "hispanic": (p["race"][persons] == _HI).astype(float),
        }

    def _aid(self, rng: np.random.Generator, cal: _Calendar, persons: np.ndarray,
             school: np.ndarray, lift: float, anchor: int) -> dict[str, np.ndarray]:
        """FAFSA/CADAA: who files, when, which form, and who opts out (AB 469)."""
        x = self._covariates(persons)
        n = len(persons)
        lin = (0.35 * x["academic"] + 0.25 * x["engagement"] - 0.25 * x["sed"] - 0.35 * x["el"]
               - 0.9 * x["foster"] - 0.5 * x["homeless"] - 0.35 * x["swd"]
               + _AID_BY_GENDER[self.p["gender"][persons]])
        dist = self.p["district"][persons]
        by_deadline = _shift(_calibrate(lin, dist, np.clip(self.d.aid + lift, 0.05, 0.95)),
                             self._school_shift(school, "aid"))
        days, w = _aid_weights(cal)
        share_by_deadline = w[days <= _day(cal.cal_grant_deadline)].sum() / w.sum()
        files = rng.random(n) < np.clip(by_deadline / share_by_deadline, 0, 0.97)
        cadaa = rng.random(n) < np.clip(0.015 + 0.25 * x["el"] + 0.04 * x["hispanic"], 0, 0.6)
        submit = np.where(files, _sample(rng, n, days, w), _NEVER)
        start = np.maximum(_day(cal.aid_open), submit - _exp_days(rng, 6, n))
        completes = files & (rng.random(n) < np.where(cadaa, 0.82, 0.9))
        complete = np.where(completes,
                            submit + 1 + _exp_days(rng, 1.0, n)
                            + np.where(cadaa, _exp_days(rng, 10, n), _exp_days(rng, 4, n)),
                            _NEVER)
        opts = ~files & (rng.random(n) < 0.28)
        od, ow = _opt_out_weights(cal)
        start = np.where(opts, _sample(rng, n, od, ow), start)
        only_started = ~files & ~opts & (rng.random(n) < 0.35)
        start = np.where(only_started,
                         _uniform_days(rng, n, cal.aid_open, max(cal.aid_open, cal.d(5, 31))),
                         start)
        a = persons == anchor
        opts |= a
        start[a], submit[a], complete[a] = _day(cal.start), _NEVER, _NEVER
        keep = files | opts | only_started
        return {"person": persons[keep], "start": start[keep], "submit": submit[keep],
                "complete": complete[keep], "opted_out": opts[keep],
                "type": np.where(opts, -1, cadaa.astype(np.int64))[keep]}

    def _applications(self, rng: np.random.Generator, cal: _Calendar, persons: np.ndarray,
                      school: np.ndarray, system: str, eligible: np.ndarray, lift: float,
                      anchor: int) -> dict[str, np.ndarray]:
        """UC, Cal State Apply or CCCApply rows for one year's seniors (one row per campus)."""
        x = self._covariates(persons)
        n = len(persons)
        dist = self.p["district"][persons]
        barriers = (0.8 * x["foster"] + 0.4 * x["homeless"] + 0.3 * x["swd"]
                    - _APPLY_BY_GENDER[self.p["gender"][persons]])
        if system == "uc":
            lin = (2.2 * eligible + 0.8 * x["academic"] + 0.3 * x["engagement"]
                   - 0.2 * x["sed"] - 0.35 * x["el"] - barriers)
            target, colleges = self.d.uc, demo_lists.UC_CAMPUSES
            k_choices, k_p = np.arange(1, 7), [0.17, 0.2, 0.21, 0.18, 0.14, 0.10]
            days, w = _apply_weights(cal, 0.0)
        elif system == "csu":
            lin = (1.6 * eligible + 0.6 * x["academic"] + 0.3 * x["engagement"]
                   - 0.15 * x["sed"] - 0.3 * x["el"] - barriers)
            target, colleges = self.d.csu, demo_lists.CSU_CAMPUSES
            k_choices, k_p = np.arange(1, 7), [0.3, 0.25, 0.2, 0.12, 0.08, 0.05]
            days, w = _apply_weights(cal, 0.1)
        else:
            lin = -0.35 * x["academic"] + 0.2 * x["engagement"] + 0.15 * x["sed"]
            target, colleges = self.d.ccc, demo_lists.CCC_COLLEGES
            k_choices, k_p = np.arange(1, 4), [0.78, 0.18, 0.04]
            days, w = _ccc_weights(cal)
        p_apply = _calibrate(lin, dist, np.clip(target + lift, 0.02, 0.95))
        applies = rng.random(n) < _shift(p_apply, self._school_shift(school, system))
        started = ~applies & (rng.random(n) < (0.05 if system == "ccc" else 0.07))
        submit = np.where(applies, _sample(rng, n, days, w), _NEVER)
        earliest = cal.d(7, 1) if system == "ccc" else cal.d(8, 1)
        start = np.where(applies, np.maximum(_day(earliest),
                                             submit - 1 - _exp_days(rng, 18, n)),
                         _uniform_days(rng, n, earliest, max(earliest, cal.d(11, 25))))
        a = persons == anchor
        start[a] = _day(cal.start)
        keep = applies | started | a
        k = rng.choice(k_choices, size=n, p=k_p)
        k = np.where(applies, k, np.minimum(k, 2))[keep]
        rows, items = _top_k(rng, k, self._college_weights(colleges, local=system == "ccc"))
        idx = np.flatnonzero(keep)[rows]
        return {"person": persons[idx], "start": start[idx], "submit": submit[idx],
                "item": items}

    def _college_weights(self, colleges: Sequence[demo_lists.College], local: bool,
                         ) -> np.ndarray:
        """Popularity, boosted for the county's own campuses and then its region's."""
        region = demo_lists.REGION_OF.get(self.code)
        same_county = np.array([c.county == self.code for c in colleges])
        same_region = np.array([bool(c.county) and demo_lists.REGION_OF.get(c.county) == region
                                for c in colleges])
        base = np.array([c.weight for c in colleges])
        if local:
            return base * (0.01 + 8.0 * same_county + 1.5 * same_region)
        return base * (1.0 + 5.0 * same_county + 1.5 * same_region)

    def _events_aid(self, parts: list[dict[str, np.ndarray]]) -> _Events:
        cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        return _Events(
            person=cat["person"], start=cat["start"], submit=cat["submit"],
            complete=cat["complete"], opted_out=cat["opted_out"],
            columns={"ssid": self.ssid.take(pa.array(cat["person"])),
                     "application_type": _labels(AID_TYPES, cat["type"])},
        )

    def _events_apply(self, parts: list[dict[str, np.ndarray]],
                      colleges: Sequence[demo_lists.College]) -> _Events:
        cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = np.lexsort((cat["item"], self.ssid_num[cat["person"]]))
        cat = {k: v[order] for k, v in cat.items()}
        return _Events(
            person=cat["person"], start=cat["start"], submit=cat["submit"],
            columns={"ssid": self.ssid.take(pa.array(cat["person"])),
                     "campus": _labels([c.name for c in colleges], cat["item"])},
        )

    def _favorite_rows(self, rng: np.random.Generator, holders: np.ndarray, p_any: np.ndarray,
                       extra_mean: np.ndarray, weights: np.ndarray,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(person, item, day) rows, one per distinct favourite, dated after the account."""
        n = len(holders)
        count = np.where(rng.random(n) < p_any, 1 + rng.poisson(extra_mean), 0)
        person = np.repeat(holders, count)
        item = rng.choice(len(weights), size=len(person), p=weights / weights.sum())
        delay = np.where(rng.random(len(person)) < 0.45, rng.integers(0, 15, len(person)),
                         _exp_days(rng, 150, len(person)))
        day = self.created[person] + delay
        return self._first_per_key(person, item, day)

    def _first_per_key(self, person: np.ndarray, item: np.ndarray, day: np.ndarray,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.lexsort((day, item, self.ssid_num[person]))
        person, item, day = person[order], item[order], day[order]
        first = np.ones(len(person), dtype=bool)
        first[1:] = (person[1:] != person[:-1]) | (item[1:] != item[:-1])
        return person[first], item[first], day[first]

    def _with_anchors(self, person: np.ndarray, item: np.ndarray, day: np.ndarray,
                      weights: np.ndarray, rng: np.random.Generator,
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Give each year's anchor one row dated before the year, so no file is ever empty."""
        extra_p = np.array([a for pair in self.anchors for a in pair[:1]])
        extra_item = rng.choice(len(weights), size=len(extra_p), p=weights / weights.sum())
        extra_day = np.array([_day(y.cal.start) - 30 for y in self.years])
        return self._first_per_key(np.concatenate([person, extra_p]),
                                   np.concatenate([item, extra_item]),
                                   np.concatenate([day, extra_day]))

    def _favorites(self) -> dict[str, _Events]:
        rng = _rng(self.seed, "favorites", self.code)
        holders = np.flatnonzero(self.created < _NEVER)
        e = self.p["engagement"][holders]
        g = np.clip(self.p["g0"][holders] + 1, 6, 12) - 6
        colleges = demo_lists.ALL_COLLEGES
        specs = {
            "favorite_colleges": (np.clip(0.3 + 0.06 * g + 0.08 * e, 0.05, 0.9), 0.8 + 0.2 * g,
                                  self._college_weights(colleges, local=False)),
            "favorite_careers": (np.clip(0.45 + 0.08 * e, 0.05, 0.9), np.full(len(g), 1.0),
                                 np.array([c.weight for c in demo_lists.CAREERS])),
            "favorite_majors": (np.clip(0.15 + 0.06 * g + 0.08 * e, 0.05, 0.9),
                                np.full(len(g), 0.7),
                                np.array([m.weight for m in demo_lists.MAJORS])),
        }
        out = {}
        for name, (p_any, extra, weights) in specs.items():
            person, item, day = self._favorite_rows(rng, holders, p_any, extra, weights)
            person, item, day = self._with_anchors(person, item, day, weights, rng)
            ssid = self.ssid.take(pa.array(person))
            if name == "favorite_colleges":
                columns = {"ssid": ssid,
                           "college_name": _labels([c.name for c in colleges], item),
                           "segment": _labels([c.segment for c in colleges], item)}
            elif name == "favorite_careers":
                columns = {"ssid": ssid,
                           "career_title": _labels([c.title for c in demo_lists.CAREERS], item),
                           "onet_code": _labels([c.code for c in demo_lists.CAREERS], item)}
            else:
                columns = {"ssid": ssid,
                           "major_name": _labels([m.title for m in demo_lists.MAJORS], item),
                           "cip_code": _labels([m.code for m in demo_lists.MAJORS], item)}
            out[name] = _Events(person=person, start=day, columns=columns)
        return out

    def _assessments(self) -> _Events:
        rng = _rng(self.seed, "assessments", self.code)
        holders = np.flatnonzero(self.created < _NEVER)
        boost = np.clip(1 + 0.25 * self.p["engagement"][holders], 0.3, 2.0)
        persons, items, days = [], [], []
        for i, (_, share) in enumerate(demo_lists.ASSESSMENTS):
            takes = holders[rng.random(len(holders)) < share * boost]
            delay = np.where(rng.random(len(takes)) < 0.4, rng.integers(0, 15, len(takes)),
                             _exp_days(rng, 180, len(takes)))
            day = self.created[takes] + delay
            again = rng.random(len(takes)) < 0.07  # some retake it later: a second row
            persons += [takes, takes[again]]
            items += [np.full(len(takes), i), np.full(int(again.sum()), i)]
            days += [day, day[again] + 60 + rng.integers(0, 300, int(again.sum()))]
        person, item, day = (np.concatenate(persons), np.concatenate(items),
                             np.concatenate(days))
        anchors = np.array([pair[0] for pair in self.anchors])
        person = np.concatenate([person, anchors])
        item = np.concatenate([item, np.zeros(len(anchors), dtype=np.int64)])
        day = np.concatenate([day, [_day(y.cal.start) - 20 for y in self.years]])
        key = (self.ssid_num[person] * 8 + item) * 100_000 + (day - day.min())
        _, first = np.unique(key, return_index=True)  # sorted by ssid, item, day; no dupes
        person, item, day = person[first], item[first], day[first]
        return _Events(person=person, start=day, columns={
            "ssid": self.ssid.take(pa.array(person)),
            "assessment_name": _labels([a for a, _ in demo_lists.ASSESSMENTS], item)})

    def _student_static(self, yi: int) -> None:
        """The columns of the students file that do not change during a year."""
        y = self.years[yi]
        p = self.p
        person = y.person
        reported = self.d.reported[p["district"][person]]

        def code(values: np.ndarray) -> np.ndarray:
            return np.where(reported, values, -1)

        def flag(values: np.ndarray) -> pa.Array:
            return _labels(("N", "Y"), code(values.astype(np.int64)))

        school_names = pa.array([s.name for s in self.schools], pa.string())
        district_names = pa.array([s.district for s in self.schools], pa.string())
        school = pa.array(y.school)
        y.static = pa.table({
            "ssid": self.ssid.take(pa.array(person)),
            "school_cds": pc.take(pa.array(self.s_cds, pa.string()), school),
            "grade_level": pa.array(y.grade.astype(np.int8)),
            "school_year": pa.array(np.full(len(person), y.cal.label)),
            "local_student_id": pa.array(p["local_id"][person]).cast(pa.string()),
            "first_name": _labels(_FIRST_NAMES, p["first"][person]),
            "last_name": _labels(_LAST_NAMES, p["last"][person]),
            "school_name": pc.take(school_names, school),
            "district_name": pc.take(district_names, school),
            "gender": _labels(GENDERS, code(p["gender"][person])),
            "race_ethnicity": _labels(RACES, code(p["race"][person])),
            "el_status": _labels(EL_STATUSES, code(p["el"][person])),
            "sed": flag(p["sed"][person]),
            "swd": flag(p["swd"][person]),
            "foster_youth": flag(p["foster"][person]),
            "homeless": flag(p["homeless"][person]),
            "migrant": flag(p["migrant"][person]),
        })

    def _update_logins(self, day: int, yi: int) -> None:
        """Move last logins forward to the drop date; never backwards, never before the account.

        A draw per week (keyed by the drop date) decides who logged in since the last drop:
        more often in the fall for seniors, rarely in summer and over the holidays.
        """
        created = self.created
        if not self._login_started:
            rng = _rng(self.seed, "login-start", day, self.code)
            before = created <= day - 7
            gap = _exp_days(rng, 120, self.n_people)
            self._login = np.where(before, np.maximum(created, day - 7 - gap), -1)
            self._login_started = True
        rng = _rng(self.seed, "login", day, self.code)
        has = created <= day
        fresh = has & (created > day - 7)
        self._login = np.where(fresh, np.maximum(self._login, created), self._login)
        grade = self.grade_in[yi]
        month = _date(day).month
        factor = np.where(grade >= 12, 1.6 if month in (9, 10, 11, 12) else 1.2,
                          np.where(grade <= 8, 0.6, 1.0))
        logs_in = has & (rng.random(self.n_people) < self.login_rate * factor * _season(day))
        when = np.maximum(day - rng.integers(0, 7, self.n_people), created)
        self._login = np.where(logs_in, np.maximum(self._login, when), self._login)

    def drop(self, when: date) -> dict[str, pa.Table]:
        """The ten tables of the drop dated ``when``: a full snapshot as of that day."""
        self.drop_check(when)
        self._update_logins(_day(when), self._year_index(when))
        return self._tables(when)

    def _year_index(self, when: date) -> int:
        return 0 if when < self.cals[1].start else 1

    def drops_newest_first(self, dates: Sequence[date],
                           ) -> Iterator[tuple[date, dict[str, pa.Table]]]:
        """The drops of ``dates`` (in date order), newest first, each byte for byte the table
        :meth:`drop` gives in date order.

        Only the last logins carry from one week to the next; they are cheap to step
        through, so they are stepped forward once and kept per week (one integer per
        person and week), and each drop is then drawn up from its week's logins. The demo
        loads the current week first this way (see :func:`generate_and_load`)."""
        if list(dates) != sorted(set(dates)):
            raise ValueError("dates must be in date order, each once")
        logins = []
        for when in dates:
            self.drop_check(when)
            self._update_logins(_day(when), self._year_index(when))
            logins.append(self._login.copy())
        self._last_drop = _day(dates[-1]) if dates else self._last_drop
        for when, login in zip(reversed(dates), reversed(logins), strict=True):
            self._login = login
            yield when, self._tables(when)

    def drop_check(self, when: date) -> None:
        """Raise ValueError when ``when`` is before a drop already built or outside the
        demo's two school years."""
        day = _day(when)
        if day < self._last_drop:
            raise ValueError(f"drops must be built in date order: {when} comes after "
                             f"{_date(self._last_drop)}")
        if not self.cals[0].start <= when < self.cals[1].end:
            raise ValueError(f"{when} is outside the school years {self.cals[0].label} and "
                             f"{self.cals[1].label} of this demo")
        self._last_drop = day

    def _tables(self, when: date) -> dict[str, pa.Table]:
        """The ten tables as of ``when`` from the last logins as they stand."""
        day = _day(when)
        yi = self._year_index(when)
        y = self.years[yi]
        on_roster = (y.enter <= day) & (day < y.exit)
        rows = np.flatnonzero(on_roster)
        person = y.person[rows]
        active = np.zeros(self.n_people, dtype=bool)
        active[person] = True
        assert y.static is not None
        static = y.static.filter(pa.array(on_roster))
        created = self.created[person]
        has_account = created <= day
        login = self._login[person]
        columns = {name: static.column(name) for name in static.column_names}
        columns["account_created_date"] = _dates(created, has_account)
        columns["last_login_date"] = _dates(login, has_account & (login >= 0))
        tables = {"students": columns}

        aid = self.aid
        assert aid.submit is not None and aid.complete is not None and aid.opted_out is not None
        show = active[aid.person] & (aid.start <= day)
        status = np.select([aid.opted_out, aid.complete <= day, aid.submit <= day], [3, 2, 1], 0)
        tables["fafsa_cadaa"] = _shown(aid, show, {
            "status": _labels(AID_STATUSES, status),
            "submitted_date": _dates(aid.submit, (aid.submit <= day) & ~aid.opted_out),
            "completed_date": _dates(aid.complete, (aid.complete <= day) & ~aid.opted_out),
        })
        for name, ev in (("uc_apply", self.uc), ("csu_apply", self.csu),
                         ("ccc_apply", self.ccc)):
            assert ev.submit is not None
            show = active[ev.person] & (ev.start <= day)
            tables[name] = _shown(ev, show, {
                "status": _labels(APP_STATUSES, (ev.submit <= day).astype(np.int64)),
                "submitted_date": _dates(ev.submit, ev.submit <= day),
            })
        for name, ev in self.favorites.items():
            dated = "favorited_date"
            tables[name] = _shown(ev, active[ev.person] & (ev.start <= day),
                                  {dated: _dates(ev.start, ev.start <= day)})
        ev = self.assessments
        tables["career_assessments"] = _shown(ev, active[ev.person] & (ev.start <= day),
                                              {"completed_date": _dates(ev.start,
                                                                        ev.start <= day)})
        tables["ag_eligibility"] = self._ag(yi, day, on_roster)
        return {name: pa.table({c: cols[c] for c in DATASETS[name].names})
                for name, cols in tables.items()}

    def _ag(self, yi: int, day: int, on_roster: np.ndarray) -> dict[str, pa.Array]:
        """a-g statuses on ``day``: 9-11 on or off track (never Eligible); seniors settle in
        spring, and before that more of them show On Track than will end Eligible."""
        y = self.years[yi]
        rows = np.flatnonzero(on_roster & (y.grade >= 9))
        fall, mid, settle = (d[y.school[rows]] for d in self._ag_dates[yi])
        senior = y.grade[rows] == 12
        v = np.where(day >= mid, y.ag_v2[rows], y.ag_v1[rows])
        v_senior = y.ag_v1[rows]
        statuses = []
        for p in (y.ag_uc[rows], y.ag_csu[rows]):
            pre = np.minimum(0.98, p + 0.15)
            under = np.where(v < p, 1, 2)
            senior_status = np.select(
                [day >= settle, day >= fall],
                [np.where(v_senior < p, 0, 2),
                 np.where(v_senior < 0.5 * p, 0, np.where(v_senior < pre, 1, 2))],
                np.where(v_senior < pre, 1, 2),
            )
            statuses.append(np.where(senior, senior_status, under))
        base = _day(date(y.cal.start_year, 6, 20))  # last spring's transcript
        as_of = np.maximum.reduce([
            np.full(len(rows), base), np.where(fall <= day, fall, base),
            np.where(mid <= day, mid, base), np.where(senior & (settle <= day), settle, base)])
        return {"ssid": self.ssid.take(pa.array(y.person[rows])),
                "uc_status": _labels(AG_STATUSES, statuses[0]),
                "csu_status": _labels(AG_STATUSES, statuses[1]),
                "as_of_date": _dates(as_of, np.ones(len(rows), dtype=bool))}


def _shown(ev: _Events, show: np.ndarray, dynamic: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """The rows of an event file visible on a drop date: static and dated columns together."""
    mask = pa.array(show)
    return {name: col.filter(mask) for name, col in (ev.columns | dynamic).items()}


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate`` wrote, for the CLI to print and tests to check."""

    county: str
    county_code: str
    districts: int
    schools: int
    students: int
    """Students on the roster of the last drop (the current school year)."""
    drop_dates: tuple[date, ...]
    files: int
    seconds: float
    out: Path
    rows: dict[str, int] = field(default_factory=dict)
    """Rows per dataset in the last drop."""

    def lines(self, loaded: bool = False) -> list[str]:
        """What a person reads at the end of ``python -m ccgi_dash demo`` (``loaded``: the
        drops were handed to the loader and their CSV files removed)."""
        first, last = self.drop_dates[0], self.drop_dates[-1]
        where = ("written, loaded and removed from " if loaded else "in ") + str(self.out)
        return [
            f"Synthetic demo for {self.county} County ({self.county_code}): "
            f"{self.districts} districts, {self.schools} schools, "
            f"{self.students:,} students in the latest drop.",
            f"{len(self.drop_dates)} weekly drops ({first} to {last}), {self.files} files "
            f"{where} ({self.seconds:.1f} s).",
            "Every student in these files is invented; only the districts, schools and "
            "CDS codes are real.",
        ]


def drop_dates(through: date) -> list[date]:
    """Every Friday from the start of the previous school year up to ``through``."""
    first_year = (through.year if through.month >= 7 else through.year - 1) - 1
    return _fridays(date(first_year, 7, 1), through)


def _validate(county: str, out: Path | None, seed: int, scale: float, through: date | None,
              ) -> tuple[str, date]:
    code = reference.county_code(county)  # ValueError naming the choices
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number 0 or more, got {seed!r}")
    if (isinstance(scale, bool) or not isinstance(scale, int | float)
            or not math.isfinite(scale) or scale <= 0):
        raise ValueError(f"scale must be a number greater than 0, got {scale!r}")
    if scale > MAX_SCALE:
        raise ValueError(f"scale must be at most {MAX_SCALE:g}, got {scale!r}")
    today = date.today()
    through = today if through is None else date(through.year, through.month, through.day)
    if through < EARLIEST_THROUGH:
        raise ValueError(f"through must be on or after {EARLIEST_THROUGH.isoformat()} "
                         f"(the demo starts with the 2024-25 school year), got {through}")
    if through > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValueError(f"through {through} is too far in the future: at most "
                         f"{MAX_DAYS_AHEAD} days after today ({today})")
    if out is not None and out.exists() and not out.is_dir():
        raise ValueError(f"out {str(out)!r} exists and is not a directory")
    return code, through


def _write(con: duckdb.DuckDBPyConnection, table: pa.Table, path: Path) -> None:
    """One CSV as the contract wants: header, commas, quotes only where needed, UTF-8, LF,
    ISO dates, empty cells for nulls. Written under a hidden name, then renamed, so a
    watcher never sees half a file. Safe to call from several threads at once."""
    tmp = path.with_name(f".{path.name}.tmp")
    cursor = con.cursor()
    try:
        cursor.register("demo_table", table)
        cursor.execute("COPY demo_table TO ? (FORMAT csv, HEADER, DELIMITER ',')", [str(tmp)])
    finally:
        cursor.close()
    os.replace(tmp, path)


def _wait(futures: list[Future[None]]) -> None:
    for f in futures:
        f.result()


def generate(county: str, out: Path, *, seed: int = 7, scale: float = 1.0,
             through: date | None = None,
             progress: Callable[[str], None] | None = None,
             on_drop: Callable[[date, list[Path]], None] | None = None,
             newest_first: bool = False) -> DemoSummary:
    """Write synthetic weekly drops for ``county`` into ``out`` and say what was written.

    One drop per Friday, from the first Friday of the previous school year to ``through``
    (default today), each a full snapshot in the ten files of drop-format.md. The same
    arguments always produce byte-identical files. Files of other drops already in ``out``
    are left alone. ``on_drop(date, files)`` is called as soon as each drop's files are
    all written (in date order, or newest first with ``newest_first``: the same files), so
    a caller can load it while the next is drawn up.
    """
    began = time.perf_counter()
    out = Path(out)
    code, through = _validate(county, out, seed, scale, through)
    say = progress or (lambda _message: None)
    dates = drop_dates(through)
    first_year = dates[0].year
    name = reference.county_name(code)
    world = DemoWorld(code, seed, float(scale), first_year)
    say(f"{name} County ({code}): {len(world.district_codes)} districts, "
        f"{len(world.schools)} schools with grades 6-12; {len(dates)} weekly drops to write")
    out.mkdir(parents=True, exist_ok=True)
    ours = {f"{d}_{when:%Y%m%d}.csv" for when in dates for d in DATASETS}
    others = [p.name for p in out.iterdir() if FILE_RE.match(p.name) and p.name not in ours]
    if others:
        say(f"note: {len(others)} other drop files already in {out} were left as they are")
    files = 0
    rows: dict[str, int] = {}
    students = 0
    newest: dict[str, int] = {}
    con = duckdb.connect()
    # DuckDB writes one drop's files on two threads while numpy draws up the next drop.
    pending: list[Future[None]] = []
    written: tuple[date, list[Path], int] | None = None

    def finished() -> None:
        _wait(pending)
        if written is not None:
            say(f"drop {written[0].isoformat()} written ({written[2]:,} students)")
            if on_drop is not None:
                on_drop(written[0], written[1])

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            drops = (world.drops_newest_first(dates) if newest_first
                     else ((when, world.drop(when)) for when in dates))
            for when, tables in drops:
                finished()
                paths = [out / f"{name}_{when:%Y%m%d}.csv" for name in tables]
                pending = [pool.submit(_write, con, table, path)
                           for table, path in zip(tables.values(), paths, strict=True)]
                files += len(pending)
                rows = {k: t.num_rows for k, t in tables.items()}
                newest = newest or (rows if newest_first else {})
                written = (when, paths, rows["students"])
            finished()
            rows = newest or rows
            students = rows.get("students", 0)
    finally:
        con.close()
    return DemoSummary(
        county=name, county_code=code, districts=len(world.district_codes),
        schools=len(world.schools), students=students, drop_dates=tuple(dates), files=files,
        seconds=round(time.perf_counter() - began, 2), out=out, rows=rows,
    )


BACKFILL_NICE = LOAD_NICE
"""The nice value of the demo's load once the current week is in: the earlier weeks load
on the cores the app leaves idle, so the app starts and answers first."""


class _Stopped(Exception):
    """The loader stopped taking drops (it failed); the demo stops writing them."""


def generate_and_load(county: str, data_dir: DataDir, settings: Settings, out: Path, *,
                      seed: int = 7, scale: float = 1.0, through: date | None = None,
                      watcher: Watcher | None = None,
                      newest_first: bool = False, backfill_nice: int | None = None,
                      ) -> tuple[DemoSummary, IngestReport]:
    """Write the demo's weekly drops into ``out`` and load each into ``data_dir`` through
    the real loader (every check, one database file per drop) as soon as it is written,
    while the next is drawn up; each drop's CSV files are removed once it is settled (the
    loader keeps them compressed in ``raw/``, or in ``quarantine/`` if refused), so the
    demo never holds more than a few weeks of CSV text on disk.

    ``newest_first`` (what ``run.sh`` uses): the current week is written and loaded first,
    so the app can open on it at once, then the earlier weeks, newest to oldest, as a
    backfill: each is placed by date and checked against the drops on either side of it
    (see :func:`ccgi_dash.loader.ingest_stream`), and ``<data dir>/backfill.json`` says how
    far it got (the app shows it, see :func:`ccgi_dash.status.backfill_text`). Once the
    current week is in, ``backfill_nice`` (the command line passes :data:`BACKFILL_NICE`)
    lowers the whole process's priority so the app gets the cores first."""
    from ccgi_dash import loader

    _, last = _validate(county, Path(out), seed, scale, through)  # before anything is made
    handed: queue.Queue[list[Path] | None] = queue.Queue(maxsize=2)
    outcome: dict[str, object] = {}
    stop = threading.Event()

    def hand_over(_when: date, paths: list[Path]) -> None:
        while not stop.is_set():
            try:
                handed.put(paths, timeout=0.5)
                return
            except queue.Full:
                continue
        raise _Stopped  # the load ended early: write no more drops

    def produce() -> None:
        try:
            outcome["summary"] = generate(county, out, seed=seed, scale=scale,
                                          through=through, on_drop=hand_over,
                                          newest_first=newest_first)
        except BaseException as exc:  # re-raised in the caller's thread below
            outcome["error"] = exc
        finally:
            while True:
                try:
                    handed.put(None, timeout=0.5)
                    break
                except queue.Full:
                    if stop.is_set():
                        break

    def batches() -> Iterator[list[Path]]:
        while (paths := handed.get()) is not None:
            yield paths

    def remove(o: loader.DropOutcome, drop: reader.DropSource) -> None:
        if newest_first and backfill_nice is not None and not outcome.get("first"):
            outcome["first"] = o  # the current week is settled: the rest is a backfill
            lower_priority(backfill_nice)
        if o.status != "rejected" or o.quarantine is not None:
            for p in drop.sources:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()

    producer = threading.Thread(target=produce, name="ccgi-demo-writer", daemon=True)
    producer.start()
    try:
        report = loader.ingest_stream(
            data_dir, batches(), settings, watcher=watcher, on_drop=remove,
            backfill=len(drop_dates(last)) if newest_first else None)
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                handed.get_nowait()
        producer.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    with contextlib.suppress(OSError):
        out.rmdir()  # only when empty: other files someone put there stay
    return outcome["summary"], report  # type: ignore[return-value]
