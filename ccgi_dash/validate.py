"""Row-level validation in DuckDB: one file in, one typed table and its rejects out.

A drop of a large county holds millions of rows, so validation is set-based SQL with one
pass over each file (:func:`load_file`):

1. one ``CREATE TABLE <dataset> AS SELECT ... FROM read_csv(...) WITH ORDINALITY`` reads
   every cell as text under column names chosen by :class:`~ccgi_dash.reader.HeaderMatch`
   (never the file's own header; malformed lines go to DuckDB's reject tables), trims it,
   applies the COE's ``value_map``, types each column (``grade_level`` INTEGER, dates DATE,
   enumerations in their canonical spelling), numbers it (``line``) and computes a fault
   code ``_f``: the first column in canonical order that is empty though required or holds a
   value of the wrong shape;
2. ``line`` comes from ORDINALITY, the row's position in the reader's output, which is the
   file's order even when DuckDB parses the file in parallel. (A table's ``rowid`` is not:
   DuckDB may store a parallel ``CREATE TABLE AS`` out of order under memory pressure.)
   Lines DuckDB could not parse shift the later numbers, which are then corrected;
3. orphans (a non-student row whose ssid is not among the drop's accepted students) are
   marked by one anti-join over all the non-student files after the read, and duplicate
   keys are found by grouping on a hash of the key (cheap); only the few rows whose hash
   repeats are compared exactly;
4. rejected rows are copied to ``rejects`` and deleted (they are few), and the two helper
   columns are dropped, which DuckDB does without rewriting the table.

Steps 1-2 are :func:`read_file` (files are independent there, so the loader reads several
at once); steps 3-4 are :func:`finish_files`, the roster first. Reading into the published
table directly, rather than into a staging table, saves a second copy of every row.

Identifiers in the SQL come only from :mod:`ccgi_dash.datasets` (through :func:`q`) or are
fixed names of this module; every value (paths, enumeration spellings, value maps, reason
texts) is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ccgi_dash.datasets import DATASETS, Column, Dataset
from ccgi_dash.reader import HeaderMatch, ends_with_newline

ORPHAN = 30000
"""Fault code of a row whose ssid is not among the drop's accepted students."""
EMPTY_ALLOWED_WHEN = ("status", "Opted Out")
"""A column marked ``allow_empty`` may be empty only when this column holds this value."""
CSV_ERRORS = "csv_errors"
CSV_SCANS = "csv_scans"
DUPS = "dups"
BAD_LINES = "bad_lines"
ORPHANS = "orphans"
_FIXED = {CSV_ERRORS, CSV_SCANS, DUPS, BAD_LINES, ORPHANS, "rejects", "load_warnings",
          "drop_meta", "district_counts", "line"}
REASONS_SHOWN = 3
"""How many example rejects a rejection message quotes per file."""
MAX_VALUE = 200
"""Longest value (or malformed line) kept in ``rejects``."""


def q(name: str) -> str:
    """Quote an identifier that must be a canonical dataset or column name or a fixed name of
    this module; anything else is a programming error, never file content."""
    known = name in DATASETS or name in _FIXED or any(
        name in d.names for d in DATASETS.values())
    if not known:
        raise ValueError(f"not a known identifier: {name!r}")
    return '"' + name + '"'


class EncodingRetry(Exception):
    """DuckDB found bytes that are not UTF-8: read the file again as Windows-1252."""


CUT_SHORT = "the file ends mid-record; the transfer was probably cut: fetch it again"


class FileCutShort(Exception):
    """A file that ends in the middle of a record (see :func:`cut_short`); ``str()`` is
    the file's name and :data:`CUT_SHORT`."""


def cut_short(errors: Sequence[tuple], last_parsed: int | None, path: Path) -> bool:
    """Whether a file ends in the middle of a record, judged from DuckDB's own parse.

    Only the file's last line counts, when it is an unparseable record after every parsed
    row: it is cut when it opens a quote it never closes (an odd number of quote characters
    on that one line: DuckDB's ``UNQUOTED VALUE``), or when it has too few fields
    (``MISSING COLUMNS``) and the file has no final line end. A quote opened earlier that
    swallows several lines up to the end is a typo in the data (one malformed row, as
    before); a short last row that ends in a line end is an ordinary malformed row; a cut
    that happens to fall at a line end or between two fields of the right count cannot be
    told from a complete file."""
    if not errors:
        return False
    line, kind, _message, text = errors[-1][:4]
    if last_parsed is not None and int(line) <= last_parsed:
        return False
    text = (text or "").removesuffix("\n").removesuffix("\r")
    if kind == "UNQUOTED VALUE":
        return "\n" not in text and "\r" not in text and text.count('"') % 2 == 1
    return kind == "MISSING COLUMNS" and not ends_with_newline(path)


@dataclass
class FileResult:
    """What loading one file gave: counts, a few example reasons, warnings."""

    dataset: str
    file: str
    data_rows: int = 0
    accepted: int = 0
    rejected: int = 0
    examples: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def over_limit(self, max_rate: float) -> bool:
        return self.data_rows > 0 and self.rejected > max_rate * self.data_rows


# --------------------------------------------------------------------------------------------
# Reasons


def kind_reason(col: Column) -> str:
    """The reject reason of a value that does not fit its column."""
    if col.kind == "ssid":
        return f"{col.name} must be exactly 10 digits"
    if col.kind == "cds":
        return f"{col.name} must be exactly 14 digits (county, district, school)"
    if col.kind == "grade":
        return f"{col.name} must be a whole number from 6 to 12"
    if col.kind == "school_year":
        return f"{col.name} must look like 2026-27 (YYYY-YY, consecutive years)"
    if col.kind == "date":
        return f"{col.name} is not a date; use YYYY-MM-DD or M/D/YYYY"
    if col.kind in ("flag", "enum"):
        extra = "" if col.required else " (or empty)"
        return f"{col.name}: unknown value; expected one of {', '.join(col.values)}{extra}"
    return f"{col.name} is not valid"


def empty_reason(col: Column) -> str:
    if col.allow_empty:
        return (f"{col.name} is empty; it may be empty only when "
                f"{EMPTY_ALLOWED_WHEN[0]} is {EMPTY_ALLOWED_WHEN[1]}")
    return f"{col.name} is required but empty"


ORPHAN_REASON = "orphan: this ssid is not among the drop's accepted students"


def reason_codes(ds: Dataset) -> dict[int, tuple[str, str]]:
    """Fault code -> (column, reason). Column ``i`` (0-based) has code 2i+1 for "empty"
    and 2i+2 for "wrong value"; :data:`ORPHAN` is the orphan code."""
    out: dict[int, tuple[str, str]] = {}
    for i, col in enumerate(ds.columns):
        out[2 * i + 1] = (col.name, empty_reason(col))
        out[2 * i + 2] = (col.name, kind_reason(col))
    out[ORPHAN] = ("ssid", ORPHAN_REASON)
    return out


# --------------------------------------------------------------------------------------------
# SQL building


class _Params:
    """Collects named bound parameters while SQL text is assembled."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def add(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return "$" + name


def _trimmed(x: str) -> str:
    """A cell without surrounding spaces, NULL when nothing is left. ``trim`` copies every
    string, so it only runs on the few cells that start or end with a space; DuckDB already
    reads an empty field (quoted or not) as NULL."""
    return f"CASE WHEN prefix({x}, ' ') OR suffix({x}, ' ') THEN nullif(trim({x}), '') ELSE {x} END"


def _value_map_sql(x: str, mapping: Mapping[str, str], p: _Params) -> str:
    """``x`` with the COE's value map applied (arriving value -> canonical, any case)."""
    if not mapping:
        return x
    whens = " ".join(f"WHEN {p.add(k.strip().lower())} THEN {p.add(v)}"
                     for k, v in mapping.items())
    return f"CASE lower({x}) {whens} ELSE {x} END"


_DIGIT = "[0-9]"


def _typed_sql(col: Column, v: str, p: _Params) -> str:
    """The typed value of a column from its trimmed text ``v``; NULL when it does not fit."""
    # GLOB with one [0-9] per digit is a fraction of the cost of a regular expression.
    if col.kind == "ssid":
        return f"CASE WHEN {v} GLOB '{_DIGIT * 10}' THEN {v} END"
    if col.kind == "cds":
        return f"CASE WHEN {v} GLOB '{_DIGIT * 14}' THEN {v} END"
    if col.kind == "grade":
        return (f"CASE WHEN {v} GLOB '{_DIGIT}' OR {v} GLOB '{_DIGIT * 2}' THEN CASE WHEN "
                f"TRY_CAST({v} AS INTEGER) BETWEEN 6 AND 12 THEN TRY_CAST({v} AS INTEGER) END END")
    if col.kind == "school_year":
        return (f"CASE WHEN {v} GLOB '{_DIGIT * 4}-{_DIGIT * 2}' AND "
                f"(TRY_CAST(left({v}, 4) AS INTEGER) + 1) % 100 = "
                f"TRY_CAST(right({v}, 2) AS INTEGER) THEN {v} END")
    if col.kind == "date":
        # LIKE is much cheaper than a regular expression; TRY_CAST then insists on digits.
        return (f"CASE WHEN {v} LIKE '____-__-__' THEN TRY_CAST({v} AS DATE) "
                f"WHEN regexp_full_match({v}, '[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}') "
                f"THEN CAST(try_strptime({v}, '%m/%d/%Y') AS DATE) END")
    if col.kind in ("flag", "enum"):
        # Most values arrive in canonical spelling: test those first, lower-case the rest.
        canonical = ", ".join(p.add(val) for val in col.values)
        whens = " ".join(f"WHEN {p.add(val.lower())} THEN {p.add(val)}" for val in col.values)
        return (f"CAST(CASE WHEN {v} IN ({canonical}) THEN {v} "
                f"ELSE CASE lower({v}) {whens} END END AS VARCHAR)")
    return v


def _stored_sql(col: Column, v: str, t: str) -> str:
    """What the published column holds: text kinds keep the (trimmed) text as given, so a
    rejected row still shows its ssid and school_cds; typed kinds hold the typed value."""
    if col.kind in ("ssid", "cds", "text", "school_year"):
        return f"CAST({v} AS VARCHAR)"
    if col.kind == "grade":
        return f"CAST({t} AS INTEGER)"
    if col.kind == "date":
        return f"CAST({t} AS DATE)"
    return f"CAST({t} AS VARCHAR)"


def read_sql(ds: Dataset, match: HeaderMatch,
             value_map: Mapping[str, Mapping[str, str]]) -> tuple[str, dict[str, object]]:
    """The statement that reads one file into ``main.<dataset>`` (see the module docstring).

    Parameters ``path`` and ``columns`` are added by the caller's values dict.
    """
    p = _Params()
    cols = ds.columns
    level1 = []
    for i, col in enumerate(cols):
        if col.name in match.positions:
            x = _trimmed(f"src.{q(col.name)}")
            level1.append(f"{_value_map_sql(x, value_map.get(col.name, {}), p)} AS v{i}")
        else:
            level1.append(f"CAST(NULL AS VARCHAR) AS v{i}")
    level1.append("ordinality AS _ord")
    level2 = ["_ord", *(f"v{i}" for i in range(len(cols)))]
    level2 += [f"{_typed_sql(col, f'v{i}', p)} AS t{i}" for i, col in enumerate(cols)]
    # The fault code: the first failing column in canonical order (orphans come later).
    whens = []
    names = ds.names
    for i, col in enumerate(cols):
        if col.required:
            cond = f"v{i} IS NULL"
            if col.allow_empty:
                other = names.index(EMPTY_ALLOWED_WHEN[0])
                cond += f" AND coalesce(t{other}, '') <> {p.add(EMPTY_ALLOWED_WHEN[1])}"
            whens.append(f"WHEN {cond} THEN {2 * i + 1}")
        if col.kind != "text":
            whens.append(f"WHEN v{i} IS NOT NULL AND t{i} IS NULL THEN {2 * i + 2}")
    fault = f"CAST(CASE {' '.join(whens)} ELSE 0 END AS SMALLINT)"
    value_whens = " ".join(f"WHEN {2 * i + 1} THEN v{i} WHEN {2 * i + 2} THEN v{i}"
                           for i in range(len(cols)))
    level3 = [f"{_stored_sql(col, f'v{i}', f't{i}')} AS {q(col.name)}"
              for i, col in enumerate(cols)]
    level3.append("CAST(_ord + 1 AS INTEGER) AS line")
    level3.append("_f")
    level3.append(f"CASE _f {value_whens} END AS _value")
    sql = (
        f"CREATE TABLE main.{q(ds.name)} AS "
        f"SELECT {', '.join(level3)} FROM ("
        f"SELECT *, {fault} AS _f FROM ("
        f"SELECT {', '.join(level2)} FROM ("
        f"SELECT {', '.join(level1)} FROM read_csv($path, header = true, auto_detect = false,"
        f" delim = ',', quote = '\"', escape = '\"', columns = $columns, store_rejects = true,"
        f" rejects_table = '{CSV_ERRORS}', rejects_scan = '{CSV_SCANS}') WITH ORDINALITY AS src)))"
    )
    return sql, p.values


def _typed_columns(ds: Dataset) -> str:
    """Column definitions of a published table: canonical columns in order, then line."""
    defs = []
    for col in ds.columns:
        typ = {"grade": "INTEGER", "date": "DATE"}.get(col.kind, "VARCHAR")
        defs.append(f"{q(col.name)} {typ}")
    defs.append("line INTEGER")
    return ", ".join(defs)


def create_support_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The tables every drop file holds besides the ten datasets and the facts."""
    con.execute("CREATE TABLE rejects (dataset VARCHAR, file VARCHAR, line INTEGER, "
                "column_name VARCHAR, value VARCHAR, reason VARCHAR, ssid VARCHAR, "
                "school_cds VARCHAR)")
    con.execute("CREATE TABLE load_warnings (dataset VARCHAR, message VARCHAR)")


def create_empty(con: duckdb.DuckDBPyConnection, dataset: str) -> None:
    """An empty table of the right shape for a dataset this COE does not receive."""
    con.execute(f"CREATE TABLE main.{q(dataset)} ({_typed_columns(DATASETS[dataset])})")


# --------------------------------------------------------------------------------------------
# Loading one file


def _clip(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "..."


def _drop_temp(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    con.execute("; ".join(f"DROP TABLE IF EXISTS temp.{q(name)}" for name in names))


@dataclass(frozen=True)
class Staged:
    """A file read into its table (with fault codes and lines), not yet checked against the
    rest of the drop."""

    dataset: str
    file: str
    errors: tuple[tuple, ...]
    """Lines DuckDB could not parse: (line, error type, message, the line's text)."""


def load_file(con: duckdb.DuckDBPyConnection, dataset: str, path: Path, shown: str,
              match: HeaderMatch, value_map: Mapping[str, Mapping[str, str]],
              first_ssid: str | None = None) -> FileResult:
    """:func:`read_file` then :func:`finish_file`: one file, start to end."""
    return finish_file(con, read_file(con, dataset, path, shown, match, value_map, first_ssid))


def read_file(con: duckdb.DuckDBPyConnection, dataset: str, path: Path, shown: str,
              match: HeaderMatch, value_map: Mapping[str, Mapping[str, str]],
              first_ssid: str | None = None) -> Staged:
    """Read and type one file into ``main.<dataset>`` with its fault codes and lines.

    Files are independent here, so several can be read at once (on separate cursors).
    ``path`` must be UTF-8 (with or without BOM); when DuckDB finds bytes that are not, this
    raises :class:`EncodingRetry` and leaves nothing behind, so the caller can transcode.
    ``first_ssid``, the ssid of the file's first record as Python read it, guards the line
    numbers: the row numbered 2 must carry it.
    """
    ds = DATASETS[dataset]
    table = f"main.{q(dataset)}"
    sql, params = read_sql(ds, match, value_map)
    params.update(path=str(path), columns=match.read_columns())
    con.execute(sql, params)
    errors = con.execute(
        f"SELECT line, min(error_type), min(error_message), min(csv_line) "
        f"FROM temp.{q(CSV_ERRORS)} GROUP BY line ORDER BY line").fetchall()
    if any(e[1] == "INVALID ENCODING" for e in errors):
        discard_file(con, dataset, shown)
        raise EncodingRetry(shown)
    if errors:
        # Before the correction below, the last parsed row's line in the file is its number
        # plus the unparseable lines before it: all but one when the last error follows it.
        last = con.execute(f"SELECT max(line) FROM {table}").fetchone()[0]
        last = None if last is None else int(last) + len(errors) - 1
        if cut_short(errors, last, path):
            discard_file(con, dataset, shown)
            raise FileCutShort(f"{shown}: {CUT_SHORT}")

    # ``line`` is the row's position among the parsed rows (ORDINALITY numbers a table
    # function's rows in the file's order, also when DuckDB reads the file in parallel) plus
    # one for the header, plus one for each unparseable line before it (rare).
    if errors:
        bad = [int(e[0]) for e in errors]
        con.execute(f"CREATE TEMP TABLE {q(BAD_LINES)} AS SELECT unnest($b) AS before, "
                    "unnest($n) AS n", {"b": [r - i - 2 for i, r in enumerate(bad)],
                                        "n": list(range(1, len(bad) + 1))})
        con.execute(
            f"UPDATE {table} SET line = CAST(x.line + x.n AS INTEGER) FROM ("
            f"SELECT s.line, b.n FROM {table} s ASOF JOIN temp.{q(BAD_LINES)} b "
            f"ON s.line - 2 >= b.before) x WHERE {table}.line = x.line")
    _drop_temp(con, CSV_ERRORS, CSV_SCANS, BAD_LINES)
    if first_ssid is not None:
        got = con.execute(f"SELECT ssid FROM {table} WHERE line = 2").fetchone()
        if got is not None and (got[0] or "") != first_ssid:
            raise RuntimeError(
                f"{shown}: line numbers could not be established (the row numbered 2 is not "
                "the file's first record); DuckDB did not keep the file's order. This is a "
                "bug to report; nothing was published.")
    return Staged(dataset, shown, tuple(tuple(e) for e in errors))


def finish_files(con: duckdb.DuckDBPyConnection, staged: Sequence[Staged]) -> list[FileResult]:
    """:func:`finish_file` for every file of a drop, the roster first (every other file is
    checked against its accepted students), with the orphans of all the other files found
    in one anti-join: one per file would build the roster's hash table nine times, which
    was most of the time spent here."""
    by_name = {s.dataset: s for s in staged}
    results = []
    if "students" in by_name:
        results.append(finish_file(con, by_name["students"]))
    others = [s for s in staged if s.dataset != "students"]
    if others:
        mark_orphans(con, [s.dataset for s in others])
    results += [_finish(con, s) for s in others]
    return results


def mark_orphans(con: duckdb.DuckDBPyConnection, datasets: Sequence[str]) -> None:
    """Mark as orphans (fault :data:`ORPHAN`) the otherwise valid rows of ``datasets``
    whose ssid is not an accepted student's; ``main.students`` must be finished. Orphans are
    few, so only the tables that have any are updated."""
    p = _Params()
    union = " UNION ALL ".join(
        f"SELECT {p.add(name)} AS ds, line, ssid FROM main.{q(name)} WHERE _f = 0"
        for name in datasets)
    con.execute(
        f"CREATE TEMP TABLE {q(ORPHANS)} AS SELECT ds, line FROM ({union}) x WHERE NOT EXISTS "
        f"(SELECT 1 FROM main.{q('students')} st WHERE st.ssid = x.ssid)", p.values)
    found = con.execute(f"SELECT DISTINCT ds FROM temp.{q(ORPHANS)}").fetchall()
    for (name,) in found:
        table = f"main.{q(name)}"
        con.execute(f"UPDATE {table} SET _f = {ORPHAN}, _value = ssid FROM temp.{q(ORPHANS)} o "
                    f"WHERE o.ds = $ds AND o.line = {table}.line", {"ds": name})
    _drop_temp(con, ORPHANS)


def finish_file(con: duckdb.DuckDBPyConnection, staged: Staged) -> FileResult:
    """Check a read file against the drop and publish it: orphans, duplicate keys, the
    ``rejects`` rows, and the table reduced to its accepted rows and canonical columns.

    Non-student files need ``main.students`` finished first (its accepted students)."""
    if staged.dataset != "students":
        mark_orphans(con, [staged.dataset])
    return _finish(con, staged)


def _finish(con: duckdb.DuckDBPyConnection, staged: Staged) -> FileResult:
    """:func:`finish_file` once orphans are marked."""
    dataset, shown, errors = staged.dataset, staged.file, staged.errors
    ds = DATASETS[dataset]
    table = f"main.{q(dataset)}"
    result = FileResult(dataset, shown)

    # Duplicate keys among otherwise valid rows: the first occurrence stays. Grouping on a
    # hash of the key is cheap; only rows whose hash repeats (usually none) are compared.
    key = ", ".join(f"s.{q(k)}" for k in ds.key)
    repeated = con.execute(
        f"SELECT list(h) FROM (SELECT hash({key}) AS h FROM {table} s WHERE _f = 0 "
        f"GROUP BY 1 HAVING count(*) > 1)").fetchone()[0] or []
    con.execute(
        f"CREATE TEMP TABLE {q(DUPS)} AS WITH firsts AS (SELECT s.line, min(s.line) OVER "
        f"(PARTITION BY {key}) AS first_line, concat_ws(' | ', {key}) AS value, s.ssid "
        f"FROM {table} s WHERE s._f = 0 AND hash({key}) IN (SELECT unnest($h))) "
        f"SELECT * FROM firsts WHERE line > first_line", {"h": repeated})
    parsed, faulty, n_dups = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _f <> 0), "
        f"(SELECT count(*) FROM temp.{q(DUPS)}) FROM {table}").fetchone()

    # Rejected rows: value faults and orphans, duplicates, then unparseable lines.
    codes = reason_codes(ds)
    p = _Params()
    col_case = " ".join(f"WHEN {c} THEN {p.add(n)}" for c, (n, _) in codes.items())
    why_case = " ".join(f"WHEN {c} THEN {p.add(r)}" for c, (_, r) in codes.items())
    cds = "school_cds" if "school_cds" in ds.names else "CAST(NULL AS VARCHAR)"
    ds_p, file_p = p.add(dataset), p.add(shown)
    if faulty:
        con.execute(
            f"INSERT INTO main.rejects SELECT {ds_p}, {file_p}, line, CASE _f {col_case} END, "
            f"left(_value, {MAX_VALUE}), CASE _f {why_case} END, ssid, {cds} "
            f"FROM {table} WHERE _f <> 0", p.values)
    if n_dups:
        con.execute(
            f"INSERT INTO main.rejects SELECT $ds, $file, d.line, $col, d.value, "
            f"$why || CAST(d.first_line AS VARCHAR), d.ssid, "
            f"{'s.school_cds' if 'school_cds' in ds.names else 'NULL'} "
            f"FROM temp.{q(DUPS)} d JOIN {table} s ON s.line = d.line",
            {"ds": dataset, "file": shown, "col": ", ".join(ds.key),
             "why": f"duplicate key ({', '.join(ds.key)}): the first is at line "})
    for e in errors:
        con.execute("INSERT INTO main.rejects VALUES (?, ?, ?, NULL, ?, ?, NULL, NULL)",
                    [dataset, shown, int(e[0]), _clip((e[3] or "").strip("\r\n")),
                     f"malformed CSV line: {e[2]}"])

    # What is published: the accepted rows, canonical columns, then line.
    if faulty or n_dups:
        con.execute(f"DELETE FROM {table} WHERE _f <> 0 OR line IN "
                    f"(SELECT line FROM temp.{q(DUPS)})")
    con.execute(f"ALTER TABLE {table} DROP COLUMN _f")
    con.execute(f"ALTER TABLE {table} DROP COLUMN _value")

    result.data_rows = parsed + len(errors)
    result.rejected = faulty + n_dups + len(errors)
    result.accepted = parsed - faulty - n_dups
    if result.rejected:
        result.examples = [
            f"line {ln}" + (f", column {c}" if c else "") + f": {r}"
            + (f" (value {_clip(v)!r})" if v is not None and not r.startswith("malformed") else "")
            for ln, c, v, r in con.execute(
                "SELECT line, column_name, value, reason FROM main.rejects WHERE file = ? "
                "ORDER BY line LIMIT ?", [shown, REASONS_SHOWN]).fetchall()
        ]
    _drop_temp(con, DUPS)
    return result


def discard_file(con: duckdb.DuckDBPyConnection, dataset: str, shown: str) -> None:
    """Undo a failed :func:`read_file`, so the file can be read again another way."""
    _drop_temp(con, CSV_ERRORS, CSV_SCANS, DUPS, BAD_LINES, ORPHANS)
    con.execute(f"DROP TABLE IF EXISTS main.{q(dataset)}")
    con.execute("DELETE FROM main.rejects WHERE file = ?", [shown])


# --------------------------------------------------------------------------------------------
# Checks across the drop


def district_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Accepted students per district (the first 7 digits of school_cds)."""
    rows = con.execute("SELECT substr(school_cds, 1, 7), count(*) FROM main.students "
                       "GROUP BY 1 ORDER BY 1").fetchall()
    return {code: int(n) for code, n in rows}


@dataclass(frozen=True)
class RosterCheck:
    """Districts whose roster swung beyond the limits, and districts new in this drop."""

    swings: list[tuple[str, int, int]]
    """(district, students before, students now) for refused swings."""
    new: list[tuple[str, int]]


def roster_check(previous: Mapping[str, int], current: Mapping[str, int],
                 min_students: int, shrink: float, growth: float) -> RosterCheck:
    """Compare per-district counts with the previous drop's (from the manifest).

    Only districts of at least ``min_students`` before are checked; one missing now counts
    as 0. A district not in ``previous`` is new (reported, never refused). With no previous
    drop nothing is checked and nothing is new."""
    swings = []
    for code, before in sorted(previous.items()):
        if before < min_students:
            continue
        now = current.get(code, 0)
        if now < shrink * before or now > growth * before:
            swings.append((code, before, now))
    new = [(c, n) for c, n in sorted(current.items()) if previous and c not in previous]
    return RosterCheck(swings, new)


def value_map_problems(value_map: Mapping[str, Mapping[str, Mapping[str, str]]]) -> list[str]:
    """Value-map entries whose target is not a value of its enumeration: a settings error
    that would otherwise reject every mapped row."""
    out = []
    for dataset, cols in value_map.items():
        ds = DATASETS[dataset]
        for name, mapping in cols.items():
            col = ds.column(name)
            if col.kind not in ("flag", "enum"):
                continue
            allowed = {v.lower() for v in col.values}
            for src, dst in mapping.items():
                if dst.strip().lower() not in allowed:
                    out.append(f"settings.toml [value_map.{dataset}.{name}] maps {src!r} to "
                               f"{dst!r}, which is not one of {', '.join(col.values)}; "
                               "fix the map.")
    return out
