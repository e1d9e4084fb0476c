"""The "marked district" data set of the leak tests.

A few weekly drops of the demo generator (the last three weeks and the drop 52 weeks before
the last) are copied, and the students of one district, the MARKED district (Clovis Unified),
get values that exist nowhere else and that no other district's user may ever see:

* the school name of one of its high schools becomes ``ZQXMARK High <img src=x onerror=...>``
  (a marker that is also an HTML injection),
* every favorited career of its students becomes ``ZQXMARK Career``,
* every UC campus its students applied to becomes ``ZQXMARK Campus``,
* the students of the marked school favorite a college named
  ``=HYPERLINK("http://evil")ZQXMARK`` (a formula injection for CSV exports).

The drops are rewritten with pandas (every value read and written as text, quoted where CSV
needs it) and loaded with the real loader. Tests get the loaded data directory from
:func:`build_marked`, built once per test process and shared by every module that asks.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from ccgi_dash import loader
from ccgi_dash.settings import Settings
from ccgi_dash.store import DataDir

MARKER = "ZQXMARK"
MARKED_DISTRICT = "1062117"
MARKED_DISTRICT_NAME = "Clovis Unified"
MARKED_SCHOOL = "10621171030196"
"""Clovis West High, one of the marked district's high schools."""
OTHER_DISTRICT = "1062166"
OTHER_DISTRICT_NAME = "Fresno Unified"
XSS = "<img src=x onerror=alert(1)>"
MARKED_SCHOOL_NAME = f"{MARKER} High {XSS}"
MARKED_CAREER = f"{MARKER} Career"
MARKED_CAMPUS = f"{MARKER} Campus"
FORMULA_COLLEGE = f'=HYPERLINK("http://evil"){MARKER}'
NEUTRALISED_COLLEGE = "'" + FORMULA_COLLEGE

CODE_RE = re.compile(rf"(?<![\d.]){MARKED_DISTRICT}(?:\d{{7}})?(?!\d)")
"""The marked district's code, or a 14-digit school CDS code of it (never a 10-digit SSID,
nor digits inside a decimal number)."""

_BUILT: dict[str, DataDir] = {}


def drop_dates(drops: Path) -> list[date]:
    return sorted({date.fromisoformat(f"{p.stem[-8:-4]}-{p.stem[-4:-2]}-{p.stem[-2:]}")
                   for p in drops.glob("students_*.csv")})


def pick_marked_drops(dates: list[date]) -> list[date]:
    """The last three weeks and the drop closest to 52 weeks before the last."""
    last = dates[-1]
    target = last - timedelta(weeks=52)
    year_before = min(dates, key=lambda d: abs((d - target).days))
    return sorted({*dates[-3:], year_before})


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)


def mark_drop(src: Path, out: Path, day: date) -> None:
    """Copy the ten files of one drop into ``out``, with the marked district's values."""
    stamp = f"{day:%Y%m%d}"
    for f in src.glob(f"*_{stamp}.csv"):
        shutil.copy2(f, out / f.name)
    students = _read(src / f"students_{stamp}.csv")
    in_district = students["school_cds"].str[:7] == MARKED_DISTRICT
    in_school = students["school_cds"] == MARKED_SCHOOL
    assert in_school.any(), f"the marked school {MARKED_SCHOOL} is not in the drop of {day}"
    students.loc[in_school, "school_name"] = MARKED_SCHOOL_NAME
    _write(students, out / f"students_{stamp}.csv")
    marked = set(students.loc[in_district, "ssid"])
    school_ssids = sorted(students.loc[in_school, "ssid"])

    careers = _read(src / f"favorite_careers_{stamp}.csv")
    careers.loc[careers["ssid"].isin(marked), "career_title"] = MARKED_CAREER
    _write(careers.drop_duplicates(["ssid", "career_title"]),
           out / f"favorite_careers_{stamp}.csv")

    uc = _read(src / f"uc_apply_{stamp}.csv")
    uc.loc[uc["ssid"].isin(marked), "campus"] = MARKED_CAMPUS
    _write(uc.drop_duplicates(["ssid", "campus"]), out / f"uc_apply_{stamp}.csv")

    colleges = _read(src / f"favorite_colleges_{stamp}.csv")
    extra = pd.DataFrame({c: [""] * len(school_ssids) for c in colleges.columns})
    extra["ssid"] = school_ssids
    extra["college_name"] = FORMULA_COLLEGE
    extra["segment"] = "Private CA"
    extra["favorited_date"] = f"{day - timedelta(days=30):%Y-%m-%d}"
    _write(pd.concat([colleges, extra], ignore_index=True),
           out / f"favorite_colleges_{stamp}.csv")


def build_marked(demo_drops: Path, where: Path) -> DataDir:
    """The marked drops written under ``where/drops`` and loaded into ``where/data``.

    Built once per test process and set of demo drops: a later call returns the data
    directory of the first (test modules may each hold a session fixture calling this)."""
    key = str(demo_drops)
    if key in _BUILT:
        return _BUILT[key]
    drops = where / "drops"
    drops.mkdir(parents=True, exist_ok=True)
    days = pick_marked_drops(drop_dates(demo_drops))
    for day in days:
        mark_drop(demo_drops, drops, day)
    dd = DataDir(where / "data")
    report = loader.ingest(dd, sorted(drops.glob("*.csv")), Settings())
    assert report.exit_code == 0, report.summary_lines()
    _BUILT[key] = dd
    return dd


def latest_students(dd: DataDir) -> pd.DataFrame:
    """The roster of the newest drop loaded into ``dd`` (every value as text), read from the
    raw copy the loader keeps (a .csv.gz: pandas decompresses it)."""
    newest = max((dd.root / "raw").glob("*/students_*.csv*"), key=lambda p: p.name)
    return _read(newest)


def roster_identifiers(dd: DataDir) -> tuple[set[str], set[tuple[str, str]]]:
    """Every SSID and every (first name, last name) pair of the rosters loaded into ``dd``
    (read from the raw copies the loader keeps)."""
    ssids: set[str] = set()
    names: set[tuple[str, str]] = set()
    files = sorted((dd.root / "raw").glob("*/students_*.csv*"))
    assert files, f"no roster under {dd.root / 'raw'}"
    for f in files:
        s = pd.read_csv(f, dtype=str, keep_default_na=False,
                        usecols=["ssid", "first_name", "last_name"])
        ssids.update(s["ssid"])
        names.update((a, b) for a, b in zip(s["first_name"], s["last_name"], strict=True)
                     if a and b)
    return ssids, names


@pytest.fixture(scope="session")
def marked_data(demo_drops, tmp_path_factory) -> DataDir:
    """The loaded marked data set (read-only for tests)."""
    return build_marked(demo_drops, tmp_path_factory.mktemp("marked"))
