"""Small canonical CCGI drops for tests, and a Los Angeles-scale synthetic drop for timing.

Tests build a :class:`Drop` (rows as plain dicts of text, one list per dataset), tweak rows to
plant a fault, and write it into ``tmp_path``. Every row's line number in the written file is
its list index + 2 (the header is line 1), which is what the loader must report, so a test can
say exactly which reject it expects.

``python tests/dropkit.py bench [STUDENTS]`` writes a synthetic drop of that many students
(default 600,000) into a temporary folder with DuckDB (fast, nothing committed as data) and
times a bare ``CREATE TABLE AS SELECT * FROM read_csv(file)`` of every file against a full
validated :func:`ccgi_dash.loader.ingest` of the same drop.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import gzip
import io
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # running as a script: make the package importable
    sys.path.insert(0, str(ROOT))

from ccgi_dash import loader  # noqa: E402
from ccgi_dash.datasets import DATASET_NAMES, DATASETS  # noqa: E402
from ccgi_dash.loader import IngestReport  # noqa: E402
from ccgi_dash.settings import IngestSettings, Settings  # noqa: E402
from ccgi_dash.store import DataDir, Warehouse  # noqa: E402

# Real Los Angeles County schools (CDE directory), so names resolve like real data.
SCHOOLS: dict[str, tuple[str, str, str]] = {
    # school_cds: (school_name, district_name, district_code)
    "19647251934678": ("Lakewood High", "Long Beach Unified", "1964725"),
    "19647251935758": ("Millikan High", "Long Beach Unified", "1964725"),
    "19647331930387": ("Central High", "Los Angeles Unified", "1964733"),
    "19647901935923": ("Monrovia High", "Monrovia Unified", "1964790"),
}
DEFAULT_SCHOOLS = ("19647251934678", "19647251935758", "19647331930387")
OUT_OF_COUNTY_SCHOOL = "30664313030038"  # Cypress High, Anaheim Union High (Orange, 30)

CAMPUSES = {
    "uc_apply": ("UC Davis", "UC Irvine", "UCLA"),
    "csu_apply": ("Cal State LA", "Cal State Long Beach", "San Diego State"),
    "ccc_apply": ("Long Beach City College", "East Los Angeles College"),
}
COLLEGES = (("UCLA", "UC"), ("Cal State Long Beach", "CSU"), ("Pasadena City College", "CCC"),
            ("USC", "Private CA"), ("Arizona State", "Out of State"))
CAREERS = (("Software Developers", "15-1252.00"), ("Registered Nurses", "29-1141.00"))
MAJORS = (("Computer Science", "11.0701"), ("Nursing", "51.3801"))
ASSESSMENTS = ("Interest Profiler", "Career Cluster Survey", "Work Values Profiler")
AG = ("Eligible", "On Track", "Not On Track")


def ssid_of(i: int) -> str:
    """The 10-digit SSID of student number ``i`` (leading zeros kept, as SSIDs may have)."""
    return f"{i + 1:010d}"


@dataclass
class Drop:
    """One drop as rows of text per dataset; tweak rows, then :meth:`write` it."""

    day: date
    tables: dict[str, list[dict[str, str]]]
    headers: dict[str, list[str]] = field(default_factory=dict)
    """Per-dataset header override (e.g. renamed or reordered columns); default canonical."""

    @property
    def stamp(self) -> str:
        return f"{self.day:%Y%m%d}"

    def file_name(self, dataset: str) -> str:
        return f"{dataset}_{self.stamp}.csv"

    def header(self, dataset: str) -> list[str]:
        return self.headers.get(dataset, list(DATASETS[dataset].names))

    def csv_text(self, dataset: str, newline: str = "\n") -> str:
        """The file text of one dataset: the header, then each row's values in header order.

        A header name that is not canonical reads the value stored under the canonical name it
        stands for when the row has no key of that exact name (``_alias``)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator=newline)
        header = self.header(dataset)
        writer.writerow(header)
        for row in self.tables[dataset]:
            writer.writerow([row.get(h, row.get(_alias(h), "")) for h in header])
        return buf.getvalue()

    def write(self, folder: Path, *, encoding: str = "utf-8", bom: bool = False,
              newline: str = "\n", skip: tuple[str, ...] = ()) -> dict[str, Path]:
        """Write every dataset (except ``skip``) as ``<dataset>_<date>.csv`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        out = {}
        for name in DATASET_NAMES:
            if name in skip or name not in self.tables:
                continue
            data = self.csv_text(name, newline).encode(encoding)
            path = folder / self.file_name(name)
            path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
            out[name] = path
        return out

    def write_zip(self, folder: Path, *, prefix: str = "", skip: tuple[str, ...] = ()) -> Path:
        """Write the drop as ``ccgi_drop_<date>.zip`` with members under ``prefix``."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ccgi_drop_{self.stamp}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in DATASET_NAMES:
                if name in skip or name not in self.tables:
                    continue
                zf.writestr(prefix + self.file_name(name), self.csv_text(name))
        return path

    def copy(self, day: date | str | None = None) -> Drop:
        """A deep copy, optionally re-dated (the next week's drop with the same rows)."""
        new = copy.deepcopy(self)
        if day is not None:
            new.day = _day(day)
        return new


def _alias(header: str) -> str:
    return header.strip().lower()


def _day(day: date | str) -> date:
    return day if isinstance(day, date) else date.fromisoformat(day)


def make_drop(day: date | str = "2026-11-20", students: int = 70,
              schools: tuple[str, ...] = DEFAULT_SCHOOLS, start: int = 0) -> Drop:
    """A valid drop: ``students`` students spread over ``schools`` round-robin.

    Student ``i`` (from ``start``) is in grade 6 + i % 7, so every seventh is a senior; seniors
    have aid and application rows, grades 9-12 an a-g row, and some students favorites and
    assessments. Values vary over every enumeration and both date formats."""
    d = _day(day)
    iso = (d - timedelta(days=30)).isoformat()
    us = f"{(d - timedelta(days=20)):%-m/%-d/%Y}"
    tables: dict[str, list[dict[str, str]]] = {name: [] for name in DATASET_NAMES}
    aid_status = ("Started", "Submitted", "Completed", "Opted Out")
    for i in range(start, start + students):
        cds = schools[i % len(schools)]
        school, district, _ = SCHOOLS.get(cds, ("", "", cds[:7]))
        grade = 6 + i % 7
        ssid = ssid_of(i)
        tables["students"].append({
            "ssid": ssid, "school_cds": cds, "grade_level": str(grade),
            "school_year": "2026-27",
            "account_created_date": iso if i % 3 else "",
            "last_login_date": us if i % 2 else "",
            "local_student_id": f"L{i:05d}", "first_name": f"First{i}", "last_name": f"Last{i}",
            "school_name": school, "district_name": district,
            "gender": "MFX"[i % 3], "race_ethnicity": "HI" if i % 4 else "WH",
            "el_status": ("EO", "EL", "RFEP", "")[i % 4],
            "sed": "Y" if i % 2 else "N", "swd": "N", "foster_youth": "",
            "homeless": "N", "migrant": "N",
        })
        if grade == 12:
            status = aid_status[(i // 7) % 4]
            tables["fafsa_cadaa"].append({
                "ssid": ssid, "application_type": "" if status == "Opted Out" else "FAFSA",
                "status": status,
                "submitted_date": iso if status in ("Submitted", "Completed") else "",
                "completed_date": us if status == "Completed" else "",
            })
            for ds, campuses in CAMPUSES.items():
                tables[ds].append({"ssid": ssid, "campus": campuses[i % len(campuses)],
                                   "status": "Submitted" if i % 2 else "Started",
                                   "submitted_date": iso if i % 2 else ""})
        if grade >= 9:
            tables["ag_eligibility"].append({
                "ssid": ssid, "uc_status": AG[1 + i % 2] if grade < 12 else AG[i % 3],
                "csu_status": AG[1 + i % 2] if grade < 12 else AG[i % 3], "as_of_date": iso})
        if i % 2 == 0:
            college, segment = COLLEGES[i % len(COLLEGES)]
            tables["favorite_colleges"].append({"ssid": ssid, "college_name": college,
                                                "segment": segment, "favorited_date": iso})
            career, onet = CAREERS[i % len(CAREERS)]
            tables["favorite_careers"].append({"ssid": ssid, "career_title": career,
                                               "onet_code": onet, "favorited_date": us})
            major, cip = MAJORS[i % len(MAJORS)]
            tables["favorite_majors"].append({"ssid": ssid, "major_name": major,
                                              "cip_code": cip, "favorited_date": ""})
        if i % 3 == 0:
            tables["career_assessments"].append({
                "ssid": ssid, "assessment_name": ASSESSMENTS[i % 3], "completed_date": iso})
    return Drop(d, tables)


def settings(county_code: str = "", **ingest: object) -> Settings:
    """Settings with some ``[ingest]`` values changed (the rest default)."""
    return Settings(county_code=county_code, ingest=IngestSettings(**ingest))  # type: ignore[arg-type]


def ingest(dd: DataDir, *paths: Path, config: Settings | None = None,
           override: str | None = None) -> IngestReport:
    """Run the real loader on ``paths``."""
    return loader.ingest(dd, list(paths), config or Settings(), override_reason=override)


def load(tmp_path: Path, drop: Drop, config: Settings | None = None,
         **write: object) -> tuple[IngestReport, DataDir]:
    """Write ``drop`` into ``tmp_path/in-<date>`` and ingest it into ``tmp_path/data``."""
    folder = tmp_path / f"in-{drop.stamp}"
    drop.write(folder, **write)  # type: ignore[arg-type]
    dd = DataDir(tmp_path / "data")
    return ingest(dd, folder, config=config), dd


@contextlib.contextmanager
def loaded(tmp_path: Path, *drops: Drop) -> Iterator[Warehouse]:
    """Load ``drops`` in order (each must load) and yield the warehouse, closed after."""
    dd = DataDir(tmp_path / "data")
    for drop in drops:
        report, dd = load(tmp_path, drop)
        assert report.exit_code == 0, report.summary_lines()
    wh = Warehouse(dd)
    try:
        yield wh
    finally:
        wh.close()


def query(dd: DataDir, sql: str, params: list | None = None, day: date | None = None) -> list:
    """Run ``sql`` against one loaded drop's file (``{t}`` stands for the schema), read-only."""
    with contextlib.closing(Warehouse(dd)) as wh:
        alias = wh.alias(day or wh.latest)
        with wh.query() as cur:
            return cur.execute(sql.replace("{t}", alias), params or []).fetchall()


def rejects(dd: DataDir, day: date | None = None) -> list[dict]:
    """The ``rejects`` rows of a loaded drop, as dicts, in file and line order."""
    cols = ("dataset", "file", "line", "column_name", "value", "reason", "ssid", "school_cds")
    rows = query(dd, f"SELECT {', '.join(cols)} FROM {{t}}.rejects ORDER BY file, line", [], day)
    return [dict(zip(cols, r, strict=True)) for r in rows]


def tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (relative name -> bytes), to prove nothing changed."""
    if not path.exists():
        return {}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


def flip_member_byte(zpath: Path, member: str) -> None:
    """Damage one member of a zip the way a bad transfer does: flip a byte in the middle of
    its compressed data (the central directory stays readable, so the zip opens and lists
    its members; reading that member fails with a CRC or zlib error)."""
    with zipfile.ZipFile(zpath) as zf:
        info = zf.getinfo(member)
    data = bytearray(zpath.read_bytes())
    name_len, extra_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28],
                                         "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    at = start + info.compress_size // 2
    data[at] ^= 0xFF
    zpath.write_bytes(bytes(data))


def cut(path: Path, keep: float = 0.5) -> None:
    """Cut a file to ``keep`` of its bytes, as an interrupted transfer leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def raw_tree(path: Path) -> dict[str, bytes]:
    """:func:`tree` of a ``raw/<date>`` folder as the files were received: a ``.csv.gz``
    kept there is shown decompressed under its CSV name."""
    out = {}
    for name, data in tree(path).items():
        if name.endswith(".csv.gz"):
            out[name[:-3]] = gzip.decompress(data)
        else:
            out[name] = data
    return out


# ---------------------------------------------------------------------------------------------
# A Los Angeles-scale drop, written by DuckDB for speed (used by the benchmark, not by tests).

_SYNTH = {
    "students": """
        SELECT lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS ssid, s.cds AS school_cds,
            CAST(6 + i % 7 AS VARCHAR) AS grade_level, '2026-27' AS school_year,
            CASE WHEN i % 3 > 0 THEN CAST(DATE '2025-09-01' + CAST(i % 400 AS INTEGER)
                                          AS VARCHAR) END AS account_created_date,
            CASE WHEN i % 2 = 1 THEN strftime(DATE '2026-10-01' + CAST(i % 50 AS INTEGER),
                                              '%-m/%-d/%Y') END AS last_login_date,
            'L' || CAST(i AS VARCHAR) AS local_student_id, 'First' || CAST(i % 997 AS VARCHAR)
                AS first_name, 'Last, ' || CAST(i % 991 AS VARCHAR) AS last_name,
            s.school AS school_name, s.district AS district_name,
            ['M', 'F', 'X'][1 + i % 3] AS gender,
            ['AA','AI','AS','FI','HI','PI','WH','MR','NR'][1 + i % 9] AS race_ethnicity,
            ['EO','IFEP','EL','RFEP','TBD'][1 + i % 5] AS el_status,
            CASE WHEN i % 2 = 0 THEN 'Y' ELSE 'N' END AS sed, 'N' AS swd, NULL AS foster_youth,
            'N' AS homeless, CASE WHEN i % 50 = 0 THEN 'Y' ELSE 'N' END AS migrant
        FROM range(?) t(i) JOIN sch s ON s.k = i % (SELECT count(*) FROM sch)""",
    "fafsa_cadaa": """
        SELECT lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS ssid, t.typ AS application_type,
            ['Started','Submitted','Completed','Opted Out'][1 + i % 4] AS status,
            CASE WHEN i % 4 IN (1, 2) THEN '2026-10-15' END AS submitted_date,
            CASE WHEN i % 4 = 2 THEN '11/2/2026' END AS completed_date
        FROM range(?) r(i), (VALUES ('FAFSA'), ('CADAA')) t(typ)
        WHERE i % 7 = 6 AND (t.typ = 'FAFSA' OR i % 5 = 0)""",
    "favorite_colleges": """
        SELECT lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS ssid,
            'College ' || CAST((i * 7 + j * 13) % 50 AS VARCHAR) AS college_name,
            ['UC','CSU','CCC','Private CA','Out of State'][1 + (i + j) % 5] AS segment,
            '2026-03-04' AS favorited_date
        FROM range(?) r(i), range(3) s(j) WHERE i % 5 < 3""",
    "favorite_careers": """
        SELECT lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS ssid,
            'Career ' || CAST((i * 7 + j * 13) % 60 AS VARCHAR) AS career_title,
            '15-1252.00' AS onet_code, '4/5/2026' AS favorited_date
        FROM range(?) r(i), range(3) s(j) WHERE i % 2 = 0""",
    "favorite_majors": """
        SELECT lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS ssid,
            'Major ' || CAST((i * 7 + j * 13) % 40 AS VARCHAR) AS major_name,
            '26.0101' AS cip_code, NULL AS favorited_date
        FROM range(?) r(i), range(2) s(j) WHERE i % 5 < 2""",
    "career_assessments": """
        SELECT lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS ssid,
            ['Interest Profiler','Career Cluster Survey','Work Values Profiler'][1 + j]
                AS assessment_name, '2026-02-0' || CAST(1 + j AS VARCHAR) AS completed_date
        FROM range(?) r(i), range(2) s(j) WHERE i % 2 = 1""",
    "ag_eligibility": """
        SELECT lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS ssid,
            ['Eligible','On Track','Not On Track'][1 + i % 3] AS uc_status,
            ['Eligible','On Track','Not On Track'][1 + (i + 1) % 3] AS csu_status,
            '2026-11-01' AS as_of_date
        FROM range(?) r(i) WHERE i % 7 >= 3""",
}
_SYNTH_APPLY = """
    SELECT lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS ssid,
        'Campus ' || CAST((i + j * 3) % 23 AS VARCHAR) AS campus,
        CASE WHEN (i + j) % 3 = 0 THEN 'Started' ELSE 'Submitted' END AS status,
        CASE WHEN (i + j) % 3 > 0 THEN '2026-11-0' || CAST(1 + j AS VARCHAR) END
            AS submitted_date
    FROM range(?) r(i), range(?) s(j) WHERE i % 7 = 6 AND i % ? = 0"""


def write_synthetic_drop(folder: Path, day: date | str = "2026-11-20",
                         students: int = 600_000) -> dict[str, Path]:
    """Write a big valid drop of ``students`` students in Los Angeles County schools."""
    import duckdb

    from ccgi_dash.reference import DIRECTORY_CSV

    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"{_day(day):%Y%m%d}"
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE sch AS SELECT CAST(row_number() OVER (ORDER BY CDSCode) - 1 AS BIGINT) AS k,"
        " CDSCode AS cds, School AS school, District AS district "
        "FROM read_csv(?, all_varchar = true) "
        "WHERE CDSCode LIKE '19%' AND StatusType = 'Active' AND School IS NOT NULL",
        [str(DIRECTORY_CSV)])
    out = {}
    for name in DATASET_NAMES:
        path = folder / f"{name}_{stamp}.csv"
        if name in CAMPUSES:
            per, every = {"uc_apply": (3, 2), "csu_apply": (3, 1), "ccc_apply": (2, 3)}[name]
            sql, params = _SYNTH_APPLY, [students, per, every]
        else:
            sql, params = _SYNTH[name], [students]
        con.execute(f"COPY ({sql}) TO '{path}' (HEADER, DELIMITER ',')", params)
        out[name] = path
    con.close()
    return out


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _bare(files: dict[str, Path], db: str) -> None:
    """``CREATE TABLE AS SELECT * FROM read_csv(file)`` of every file into ``db``."""
    import duckdb

    con = duckdb.connect(db)
    for name, path in files.items():
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv(?)", [str(path)])
    con.close()


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``fn()``."""
    wall, cpu = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - wall, _cpu() - cpu


def bench(students: int = 600_000, rounds: int = 3) -> None:
    """Time a bare read of every file against a validated ingest of the same drop.

    Rounds alternate the two so that a busy machine slows both alike; the best of each is
    reported, with CPU time (less sensitive than wall time to other work on the machine)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "drop"
        t = time.perf_counter()
        files = write_synthetic_drop(folder, students=students)
        size = sum(p.stat().st_size for p in files.values()) / 1e6
        print(f"wrote {students:,} students, {size:,.0f} MB in {time.perf_counter() - t:.1f}s")
        bare: list[tuple[float, float]] = []
        loads: list[tuple[float, float]] = []
        for r in range(rounds):
            db = Path(tmp) / f"bare{r}.duckdb"
            bare.append(_timed(lambda db=db: _bare(files, str(db))))
            db.unlink()
            dd = DataDir(Path(tmp) / f"data{r}")
            reports = []
            loads.append(_timed(lambda dd=dd: reports.append(
                loader.ingest(dd, [folder], Settings()))))
            assert reports[0].exit_code == 0, reports[0].summary_lines()
            shutil.rmtree(dd.root)
            print(f"round {r + 1}: bare read {bare[-1][0]:.2f}s (CPU {bare[-1][1]:.2f}s), "
                  f"validated ingest {loads[-1][0]:.2f}s (CPU {loads[-1][1]:.2f}s)")
        bw, bc = min(b[0] for b in bare), min(b[1] for b in bare)
        lw, lc = min(x[0] for x in loads), min(x[1] for x in loads)
        print(f"best: bare {bw:.2f}s, ingest {lw:.2f}s = {lw / bw:.2f}x wall; "
              f"CPU {bc:.2f}s vs {lc:.2f}s = {lc / bc:.2f}x")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "bench":
        bench(int(sys.argv[2]) if len(sys.argv) > 2 else 600_000)
    else:
        print(__doc__)
