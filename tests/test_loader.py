"""Loading drops end to end: what is published, how files are read, and the guarantees of
the storage design (one commit point, idempotent reloads, kills at any moment, readers never
blocked, rebuild from raw/).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from datetime import date

import duckdb
import pytest

from ccgi_dash import loader
from ccgi_dash.datasets import DATASET_NAMES, DATASETS
from ccgi_dash.locking import LockHeld, load_lock
from ccgi_dash.settings import Settings
from ccgi_dash.store import DROP_TABLES, DataDir, Warehouse, read_jsonl, read_manifest
from tests.dropkit import (
    ROOT,
    Drop,
    ingest,
    load,
    make_drop,
    query,
    raw_tree,
    rejects,
    settings,
    tree,
)

DAY = date(2026, 11, 20)
NEXT = date(2026, 11, 27)


def _loaded(report) -> loader.DropOutcome:
    assert report.exit_code == 0, report.summary_lines()
    assert [o.status for o in report.outcomes] == ["loaded"], report.summary_lines()
    return report.outcomes[0]


def _state(dd: DataDir) -> tuple[bytes, list, list]:
    """What readers see: the manifest bytes, the drops, and every drop's facts count."""
    manifest = dd.manifest.read_bytes() if dd.manifest.exists() else b""
    with contextlib.closing(Warehouse(dd)) as wh, wh.query() as cur:
        counts = [cur.execute(f"SELECT count(*) FROM {wh.table(d, 'student_facts')}")
                  .fetchone()[0] for d in wh.drops]
        return manifest, wh.drops, counts


# --------------------------------------------------------------------------------------------
# What a load publishes


def test_a_valid_drop_is_published_with_every_table(tmp_path):
    d = make_drop(DAY)
    o = _loaded(load(tmp_path, d)[0])
    dd = DataDir(tmp_path / "data")
    assert o.rows == {n: len(d.tables[n]) for n in DATASET_NAMES}
    assert o.rejects == 0 and o.warnings == [] and o.quarantine is None
    assert o.message.startswith("Loaded drop 2026-11-20: 70 students, 10 fafsa_cadaa")

    [entry] = read_manifest(dd).drops
    assert entry.drop_date == "2026-11-20" and entry.school_year == "2026-27"
    assert entry.district_counts == {"1964725": 47, "1964733": 23}
    assert entry.rows == o.rows and entry.rejects == 0 and entry.override == ""
    assert read_manifest(dd).county_code == "19"
    db = dd.drops / entry.file
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
        assert tables == DROP_TABLES
        for name, ds in DATASETS.items():
            cols = con.execute(f"DESCRIBE {name}").fetchall()
            assert [c[0] for c in cols] == [*ds.names, "line"]
            types = {c[0]: c[1] for c in cols}
            assert types["line"] == "INTEGER"
            for col in ds.columns:
                want = {"grade": "INTEGER", "date": "DATE"}.get(col.kind, "VARCHAR")
                assert types[col.name] == want, (name, col.name)
        assert con.execute("SELECT count(*) FROM student_facts").fetchone() == (70,)
        assert con.execute("SELECT * FROM district_counts ORDER BY 1").fetchall() == [
            ("1964725", "Long Beach Unified", 47), ("1964733", "Los Angeles Unified", 23)]
        meta = con.execute("SELECT drop_date, sha256, county_code, source_files "
                           "FROM drop_meta").fetchall()
        assert meta == [(DAY, entry.sha256, "19",
                         sorted(d.file_name(n) for n in DATASET_NAMES))]
        assert con.execute("SELECT line FROM students ORDER BY line LIMIT 3").fetchall() == [
            (2,), (3,), (4,)]
    finally:
        con.close()
    # the raw copy is byte for byte what was offered, and the attempt is logged
    assert raw_tree(dd.raw / "20261120") == tree(tmp_path / "in-20261120")
    assert sorted(p.name for p in (dd.raw / "20261120").iterdir()) == sorted(
        f"{d.file_name(n)}.gz" for n in DATASET_NAMES)  # kept compressed
    [log] = read_jsonl(dd.load_log)
    assert {k: log[k] for k in ("drop_date", "outcome", "rows", "rejects", "warnings",
                                "override")} == {
        "drop_date": "2026-11-20", "outcome": "loaded", "rows": o.rows, "rejects": 0,
        "warnings": [], "override": ""}
    assert log["seconds"] >= 0 and log["at"]


def test_the_facts_hold_one_row_per_accepted_student(tmp_path):
    d = make_drop(DAY, students=150)
    d.tables["students"][1]["grade_level"] = "3"
    report, dd = load(tmp_path, d, settings(max_reject_rate=0.05))
    _loaded(report)
    assert query(dd, "SELECT count(*), count(DISTINCT ssid) FROM {t}.student_facts") == [
        (149, 149)]


def test_datasets_not_received_may_be_missing_and_load_empty(tmp_path):
    d = make_drop(DAY)
    o = _loaded(load(tmp_path, d, settings(datasets_not_received=("favorite_majors",)),
                     skip=("favorite_majors",))[0])
    dd = DataDir(tmp_path / "data")
    assert o.rows["favorite_majors"] == 0
    assert query(dd, "SELECT count(*) FROM {t}.favorite_majors") == [(0,)]
    cols = [c[0] for c in query(dd, "DESCRIBE {t}.favorite_majors")]
    assert cols == [*DATASETS["favorite_majors"].names, "line"]


# --------------------------------------------------------------------------------------------
# Reading: encodings, line ends, quoting, dates, headers, maps


def test_a_utf8_bom_is_read(tmp_path):
    report, dd = load(tmp_path, make_drop(DAY), bom=True)
    assert _loaded(report).warnings == []
    assert query(dd, "SELECT ssid FROM {t}.students WHERE line = 2") == [("0000000001",)]


def test_crlf_line_ends_are_read(tmp_path):
    d = make_drop(DAY)
    report, dd = load(tmp_path, d, newline="\r\n")
    _loaded(report)
    assert query(dd, "SELECT migrant, line FROM {t}.students ORDER BY line LIMIT 1") == [
        ("N", 2)]


def test_cp1252_is_read_with_a_warning_naming_the_file(tmp_path):
    d = make_drop(DAY)
    d.tables["students"][4]["last_name"] = "Muñoz “Jr”"
    report, dd = load(tmp_path, d, encoding="cp1252")
    o = _loaded(report)
    assert query(dd, "SELECT last_name FROM {t}.students WHERE line = 6") == [("Muñoz “Jr”",)]
    assert ("students_20261120.csv is not valid UTF-8; it was read as Windows-1252 (what Excel "
            "writes).") in o.warnings[0]
    assert query(dd, "SELECT dataset FROM {t}.load_warnings") == [("students",)]


def test_invalid_utf8_late_in_a_big_file_is_found_by_duckdb_and_transcoded(tmp_path):
    d = make_drop(DAY, students=2000)  # > 64 KB, so the sniffer does not see the end
    d.tables["students"][-1]["last_name"] = "Peña"
    folder = tmp_path / "in"
    files = d.write(folder)
    p = files["students"]
    assert p.stat().st_size > 64 * 1024
    p.write_bytes(p.read_bytes().replace("Peña".encode(), "Peña".encode("cp1252")))
    dd = DataDir(tmp_path / "data")
    o = _loaded(ingest(dd, folder))
    assert "students_20261120.csv is not valid UTF-8" in o.warnings[0]
    assert query(dd, "SELECT last_name FROM {t}.students WHERE line = 2001") == [("Peña",)]


def test_quoted_fields_keep_commas_quotes_and_newlines(tmp_path):
    d = make_drop(DAY)
    d.tables["students"][2]["last_name"] = 'O\'Neil, "Jr"'
    d.tables["students"][3]["school_name"] = "Central\nHigh"
    report, dd = load(tmp_path, d)
    _loaded(report)
    got = dict(query(dd, "SELECT ssid, coalesce(last_name, '') || '|' || school_name "
                         "FROM {t}.students"))
    assert got["0000000003"] == 'O\'Neil, "Jr"|Central High'
    assert got["0000000004"] == "Last3|Central\nHigh"
    # the documented caveat: after a line break inside quotes, ``line`` counts records
    assert query(dd, "SELECT line FROM {t}.students WHERE ssid = '0000000005'") == [(6,)]


def test_both_date_formats_are_read(tmp_path):
    d = make_drop(DAY)
    s = d.tables["students"]
    s[0].update(account_created_date="2026-09-01", last_login_date="9/1/2026")
    s[1].update(account_created_date="09/05/2026", last_login_date="12/31/2026")
    report, dd = load(tmp_path, d)
    _loaded(report)
    got = query(dd, "SELECT account_created_date, last_login_date FROM {t}.students "
                    "WHERE line IN (2, 3) ORDER BY line")
    assert got == [(date(2026, 9, 1), date(2026, 9, 1)), (date(2026, 9, 5), date(2026, 12, 31))]


def test_headers_match_in_any_case_order_and_spacing(tmp_path):
    d = make_drop(DAY)
    names = list(DATASETS["uc_apply"].names)
    d.headers["uc_apply"] = [f"  {n.upper()} " for n in reversed(names)]
    report, dd = load(tmp_path, d)
    _loaded(report)
    assert query(dd, "SELECT ssid, campus, status FROM {t}.uc_apply WHERE line = 2") == [
        (d.tables["uc_apply"][0]["ssid"], d.tables["uc_apply"][0]["campus"],
         d.tables["uc_apply"][0]["status"])]


def test_enumerations_and_flags_match_in_any_case_and_are_stored_canonically(tmp_path):
    d = make_drop(DAY)
    d.tables["students"][0].update(gender="f", race_ethnicity="hi", sed="y", el_status="rfep")
    d.tables["fafsa_cadaa"][0].update(application_type="", status="OPTED OUT")
    d.tables["uc_apply"][1]["status"] = "submitted"
    report, dd = load(tmp_path, d)
    _loaded(report)
    assert query(dd, "SELECT gender, race_ethnicity, sed, el_status FROM {t}.students "
                     "WHERE line = 2") == [("F", "HI", "Y", "RFEP")]
    assert query(dd, "SELECT status FROM {t}.fafsa_cadaa WHERE line = 2") == [("Opted Out",)]
    assert query(dd, "SELECT status FROM {t}.uc_apply WHERE line = 3") == [("Submitted",)]


def test_cells_are_trimmed_and_blank_cells_are_null(tmp_path):
    d = make_drop(DAY)
    d.tables["students"][0].update(ssid=" 0000000001 ", gender="  ", first_name=" Ana ")
    report, dd = load(tmp_path, d)
    _loaded(report)
    assert query(dd, "SELECT ssid, gender, first_name FROM {t}.students WHERE line = 2") == [
        ("0000000001", None, "Ana")]


def test_extra_columns_are_ignored_with_a_warning_naming_them(tmp_path):
    d = make_drop(DAY)
    d.headers["favorite_colleges"] = [*DATASETS["favorite_colleges"].names, "Notes", "Counselor"]
    o = _loaded(load(tmp_path, d)[0])
    assert o.warnings == ["favorite_colleges_20261120.csv: column(s) 'Notes', 'Counselor' are "
                          "not part of favorite_colleges and were ignored."]


def test_a_missing_optional_column_loads_as_empty(tmp_path):
    d = make_drop(DAY)
    d.headers["students"] = ["ssid", "school_cds", "grade_level", "school_year"]
    report, dd = load(tmp_path, d)
    _loaded(report)
    assert query(dd, "SELECT count(*), count(gender), count(school_name) "
                     "FROM {t}.students") == [(70, 0, 0)]
    # names come from the CDE directory when a drop leaves them out
    assert ("Lakewood High",) in query(dd, "SELECT DISTINCT school_name FROM {t}.student_facts")


def test_column_map_and_value_map_apply_before_validation(tmp_path):
    d = make_drop(DAY)
    names = list(DATASETS["students"].names)
    renamed = {"ssid": "SSID", "school_cds": "CDSCode", "grade_level": "Grade"}
    d.headers["students"] = [renamed.get(n, n) for n in names]
    for row in d.tables["students"]:
        for canon, header in renamed.items():
            row[header.lower()] = row[canon]
    completed = [r for r in d.tables["fafsa_cadaa"] if r["status"] == "Completed"]
    for r in completed:
        r["status"] = "Complete"
    d.tables["uc_apply"][0]["campus"] = "ucd"
    config = Settings(
        column_map={"students": {"ssid": "SSID", "school_cds": "CDSCode",
                                 "grade_level": "Grade"}},
        value_map={"fafsa_cadaa": {"status": {"complete": "Completed"}},
                   "uc_apply": {"campus": {"UCD": "UC Davis"}}})
    report, dd = load(tmp_path, d, config)
    _loaded(report)
    assert query(dd, "SELECT count(*) FROM {t}.students") == [(70,)]
    assert query(dd, "SELECT count(*) FROM {t}.fafsa_cadaa WHERE status = 'Completed'") == [
        (len(completed),)]
    assert query(dd, "SELECT campus FROM {t}.uc_apply WHERE line = 2") == [("UC Davis",)]


# --------------------------------------------------------------------------------------------
# Reloads, order, and the roster check


def test_loading_the_same_drop_again_changes_nothing(tmp_path):
    d = make_drop(DAY)
    report, dd = load(tmp_path, d)
    _loaded(report)
    before = {"drops": tree(dd.drops), "raw": tree(dd.raw), "manifest": read_manifest(dd)}
    again = ingest(dd, tmp_path / "in-20261120")
    [o] = again.outcomes
    assert again.exit_code == 0 and o.status == "already_loaded"
    assert o.message.startswith("Drop 2026-11-20 is already loaded with the same content "
                                "(sha256 ")
    assert o.message.endswith("nothing was changed.")
    assert {"drops": tree(dd.drops), "raw": tree(dd.raw), "manifest": read_manifest(dd)} == \
        before
    assert [r["outcome"] for r in read_jsonl(dd.load_log)] == ["loaded", "already_loaded"]


def test_the_same_date_with_different_content_is_refused(tmp_path):
    report, dd = load(tmp_path, make_drop(DAY))
    _loaded(report)
    changed = make_drop(DAY)
    changed.tables["students"][0]["first_name"] = "Changed"
    changed.write(tmp_path / "changed")
    message = ingest(dd, tmp_path / "changed").outcomes[0].message
    assert "a drop for 2026-11-20 is already loaded with different content" in message
    assert len(read_manifest(dd).drops) == 1


def test_a_drop_older_than_the_latest_loaded_is_refused(tmp_path):
    report, dd = load(tmp_path, make_drop(NEXT))
    _loaded(report)
    make_drop(DAY).write(tmp_path / "old")
    [o] = ingest(dd, tmp_path / "old").outcomes
    assert o.status == "rejected"
    assert "refused: a newer drop (2026-11-27) is already loaded" in o.message
    assert [e.drop_date for e in read_manifest(dd).drops] == ["2026-11-27"]


def test_drops_offered_together_load_oldest_first(tmp_path):
    make_drop(NEXT).write(tmp_path / "b")
    make_drop(DAY).write(tmp_path / "a")
    dd = DataDir(tmp_path / "data")
    report = ingest(dd, tmp_path / "b", tmp_path / "a")
    assert [(o.drop_date, o.status) for o in report.outcomes] == [(DAY, "loaded"),
                                                                  (NEXT, "loaded")]
    assert read_manifest(dd).version == 2
    assert [e.drop_date for e in read_manifest(dd).drops] == ["2026-11-20", "2026-11-27"]


ROSTER = settings(roster_check_min_students=20)
LONG_BEACH = ("19647251934678", "19647251935758")
LOS_ANGELES = ("19647331930387",)


@pytest.mark.parametrize("second,expected", [
    # the first drop has Long Beach 47 and Los Angeles 23 students; limits 0.5x and 2x
    (make_drop(NEXT, students=40, schools=LOS_ANGELES),
     "1964725 Long Beach Unified 47 -> 0 students (missing from this drop)"),
    (make_drop(NEXT, students=40, schools=(LONG_BEACH[0], *LOS_ANGELES)),
     "1964725 Long Beach Unified 47 -> 20 students"),
    (make_drop(NEXT, students=150, schools=(LONG_BEACH[0], *LOS_ANGELES, *LOS_ANGELES)),
     "1964733 Los Angeles Unified 23 -> 100 students"),
])
def test_a_roster_swing_is_refused_naming_districts_and_counts(tmp_path, second, expected):
    report, dd = load(tmp_path, make_drop(DAY), ROSTER)
    _loaded(report)
    second.write(tmp_path / "next")
    [o] = ingest(dd, tmp_path / "next", config=ROSTER).outcomes
    assert o.status == "rejected"
    assert "refused: the roster of 1 district(s) changed beyond the limits since the drop of " \
           "2026-11-20: " + expected in o.message
    assert "--override" in o.message and "roster_shrink_limit" in o.message
    assert len(read_manifest(dd).drops) == 1


def test_an_override_loads_a_roster_swing_and_logs_the_reason(tmp_path):
    report, dd = load(tmp_path, make_drop(DAY), ROSTER)
    _loaded(report)
    make_drop(NEXT, students=40, schools=LOS_ANGELES).write(tmp_path / "next")
    o = _loaded(ingest(dd, tmp_path / "next", config=ROSTER,
                       override="Long Beach left the consortium"))
    assert o.override == "Long Beach left the consortium"
    assert "roster check overridden: Long Beach left the consortium" in o.message
    assert read_manifest(dd).latest().override == "Long Beach left the consortium"
    log = read_jsonl(dd.load_log)[-1]
    assert log["override"] == "Long Beach left the consortium" and log["outcome"] == "loaded"


def test_small_districts_are_not_checked_and_new_districts_are_reported(tmp_path):
    report, dd = load(tmp_path, make_drop(DAY), settings(roster_check_min_students=100))
    _loaded(report)
    nxt = make_drop(NEXT, schools=(*LOS_ANGELES, "19647901935923"))
    nxt.write(tmp_path / "next")
    o = _loaded(ingest(dd, tmp_path / "next"))
    assert o.warnings == ["new district 1964790 (Monrovia Unified): 35 students, not in the "
                          "previous drop (2026-11-20)."]


def test_the_roster_check_reads_only_the_manifest(tmp_path):
    report, dd = load(tmp_path, make_drop(DAY), ROSTER)
    _loaded(report)
    entry = read_manifest(dd).drops[0]
    (dd.drops / entry.file).unlink()  # older drop files are never opened by a load
    make_drop(NEXT).write(tmp_path / "next")
    _loaded(ingest(dd, tmp_path / "next", config=ROSTER))


def test_settings_county_code_wins_over_the_drops_own(tmp_path):
    report, dd = load(tmp_path, make_drop(DAY), settings(county_code="30"))
    o = _loaded(report)
    assert "70 student(s) are at schools outside county 30" in o.warnings[0]
    assert read_manifest(dd).county_code == "30"


# --------------------------------------------------------------------------------------------
# Zips


def test_a_zip_drop_loads_and_is_kept_as_a_zip(tmp_path):
    d = make_drop(DAY)
    z = d.write_zip(tmp_path / "in", prefix="ccgi/")
    with zipfile.ZipFile(z, "a") as zf:
        zf.writestr("__MACOSX/ccgi/._students_20261120.csv", "junk")
    dd = DataDir(tmp_path / "data")
    o = _loaded(ingest(dd, z))
    assert o.rows["students"] == 70
    assert tree(dd.raw / "20261120") == {"ccgi_drop_20261120.zip": z.read_bytes()}
    # the same files offered loose are the same drop
    d.write(tmp_path / "loose")
    assert ingest(dd, tmp_path / "loose").outcomes[0].status == "already_loaded"


def test_an_oversized_zip_member_is_refused_before_extraction(tmp_path):
    z = make_drop(DAY).write_zip(tmp_path)
    report = ingest(DataDir(tmp_path / "data"), z, config=settings(max_file_mb=0.005))
    assert "ccgi_drop_20261120.zip:students_20261120.csv is 8.5 KB, more than the limit" in \
        report.outcomes[0].message


# --------------------------------------------------------------------------------------------
# Readers, locks, kills, rebuild


def test_a_warehouse_open_during_a_load_keeps_working(tmp_path):
    report, dd = load(tmp_path, make_drop(DAY))
    _loaded(report)
    wh = Warehouse(dd)
    try:
        make_drop(NEXT).write(tmp_path / "next")
        _loaded(ingest(dd, tmp_path / "next"))
        with wh.query() as cur:  # the open reader still answers, from what it had
            assert cur.execute(f"SELECT count(*) FROM {wh.table(DAY, 'student_facts')}")\
                .fetchone() == (70,)
        assert wh.drops == [DAY]
        with contextlib.closing(Warehouse(dd)) as fresh:
            assert fresh.drops == [DAY, NEXT]
    finally:
        wh.close()


def test_a_second_load_while_one_runs_is_refused_naming_the_holder(tmp_path):
    dd = DataDir(tmp_path / "data")
    make_drop(DAY).write(tmp_path / "in")
    with load_lock(dd), pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
        loader.ingest(dd, [tmp_path / "in"], Settings())


_KILLED_LOAD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from ccgi_dash import loader
    from ccgi_dash.settings import Settings
    from ccgi_dash.store import DataDir
    loader.ingest(DataDir(Path(sys.argv[1])), [Path(sys.argv[2])], Settings())
""")


@pytest.mark.parametrize("stage", loader.FAULT_STAGES)
def test_a_load_killed_at_any_stage_changes_nothing_served(tmp_path, stage):
    report, dd = load(tmp_path, make_drop(DAY))
    _loaded(report)
    before = _state(dd)
    nxt = make_drop(NEXT)
    nxt.write(tmp_path / "next")
    run = subprocess.run([sys.executable, "-c", _KILLED_LOAD, str(dd.root),
                          str(tmp_path / "next")], cwd=ROOT, capture_output=True,
                         env={**os.environ, loader.FAULT_ENV: stage}, timeout=120)
    assert run.returncode == -9, run.stderr.decode()
    if stage == "committed":  # past the commit point: the drop is loaded, only the log is lost
        assert _state(dd)[1] == [DAY, NEXT]
        assert ingest(dd, tmp_path / "next").outcomes[0].status == "already_loaded"
        return
    assert _state(dd) == before
    o = _loaded(ingest(dd, tmp_path / "next"))
    assert o.drop_date == NEXT
    assert _state(dd)[1] == [DAY, NEXT]
    leftovers = [p.name for p in (*dd.drops.iterdir(), *dd.raw.iterdir())
                 if p.name.startswith(".")]
    assert leftovers == []
    assert raw_tree(dd.raw / "20261127") == tree(tmp_path / "next")


def test_rebuild_replaces_every_drop_file_in_one_commit(tmp_path):
    report, dd = load(tmp_path, make_drop(DAY))
    _loaded(report)
    make_drop(NEXT).write(tmp_path / "next")
    _loaded(ingest(dd, tmp_path / "next"))
    old = read_manifest(dd)
    rebuilt = loader.rebuild(dd, Settings())
    assert rebuilt.exit_code == 0, rebuilt.summary_lines()
    assert [(o.drop_date, o.status) for o in rebuilt.outcomes] == [(DAY, "loaded"),
                                                                   (NEXT, "loaded")]
    new = read_manifest(dd)
    assert new.version == old.version + 1
    assert [e.drop_date for e in new.drops] == ["2026-11-20", "2026-11-27"]
    assert {e.file for e in new.drops}.isdisjoint({e.file for e in old.drops})
    assert [(e.sha256, e.rows, e.district_counts) for e in new.drops] == \
        [(e.sha256, e.rows, e.district_counts) for e in old.drops]
    assert _state(dd)[2] == [70, 70]


def test_a_failed_rebuild_leaves_the_old_manifest_in_force(tmp_path):
    report, dd = load(tmp_path, make_drop(DAY))
    _loaded(report)
    make_drop(NEXT).write(tmp_path / "next")
    _loaded(ingest(dd, tmp_path / "next"))
    before = _state(dd)
    (dd.raw / "20261127" / "students_20261127.csv.gz").write_bytes(gzip.compress(b""))
    rebuilt = loader.rebuild(dd, Settings())
    assert rebuilt.exit_code == 1
    assert [o.status for o in rebuilt.outcomes] == ["rejected", "rejected"]
    assert "students_20261127.csv has no data in it" in rebuilt.outcomes[1].message
    assert _state(dd) == before
    assert not [p for p in dd.drops.iterdir() if p.name.startswith(".")]


def test_rebuild_from_raw_alone_after_the_warehouse_is_lost(tmp_path):
    report, dd = load(tmp_path, make_drop(DAY))
    _loaded(report)
    dd.manifest.unlink()
    rebuilt = loader.rebuild(dd, Settings())
    assert [o.status for o in rebuilt.outcomes] == ["loaded"]
    assert read_manifest(dd).county_code == "19"
    assert _state(dd)[1:] == ([DAY], [70])


# --------------------------------------------------------------------------------------------
# The report


def test_the_summary_lists_drops_rows_rejects_warnings_and_problems(tmp_path):
    d = make_drop(DAY)
    d.tables["students"][1]["gender"] = "?"
    d.headers["ag_eligibility"] = [*DATASETS["ag_eligibility"].names, "extra"]
    folder = tmp_path / "in"
    d.write(folder)
    (folder / "roster.csv").write_text("x\n")
    dd = DataDir(tmp_path / "data")
    report = ingest(dd, folder, config=settings(max_reject_rate=0.05))
    lines = report.summary_lines()
    assert lines[0].startswith("2026-11-20: loaded in ")
    assert "1 row(s) rejected (see the rejects table)" in lines[0]
    assert lines[1] == ("  warning: ag_eligibility_20261120.csv: column(s) 'extra' are not "
                        "part of ag_eligibility and were ignored.")
    assert lines[2].startswith("problem: roster.csv: cannot tell which drop")
    assert lines[3] == "Drops: 1 loaded, 0 already loaded, 0 rejected; 1 file problem(s)."
    assert lines[4].startswith("Rows loaded: students 69, fafsa_cadaa 10,")
    assert lines[5] == "Rejected rows: 1; warnings: 1."
    assert report.exit_code == 1
    assert rejects(dd)[0]["reason"].startswith("gender: unknown value")
    assert json.loads(dd.load_log.read_text())["rejects"] == 1


def test_dropkit_drops_are_valid_and_deterministic():
    a, b = make_drop(DAY), make_drop(DAY)
    assert isinstance(a, Drop) and a.tables == b.tables


def test_line_numbers_hold_in_a_big_file_read_in_parallel(tmp_path):
    """DuckDB reads a big file in parallel; ``line`` must still be each row's own line.

    The file is large enough for several row groups and parallel CSV scanning, and the build
    connection gets little memory (a parallel CREATE TABLE AS may then store rows out of
    order, which is why ``line`` cannot come from ``rowid``). Every row carries its physical
    line number in ``career_title``; a malformed line and an orphan sit in the middle."""
    from ccgi_dash import reader, validate

    n = 400_000
    students = tmp_path / "students_20261120.csv"
    favorites = tmp_path / "favorite_careers_20261120.csv"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS ssid, "
                f"'19647251934678' AS school_cds, '9' AS grade_level, '2026-27' AS school_year "
                f"FROM range({n // 4}) t(i)) TO '{students}' (HEADER)")
    con.execute(f"COPY (SELECT lpad(CAST(i % {n // 4} + 1 AS VARCHAR), 10, '0') AS ssid, "
                f"'line ' || CAST(i + 2 AS VARCHAR) AS career_title FROM range({n}) t(i)) "
                f"TO '{favorites}' (HEADER)")
    con.close()
    lines = favorites.read_text().splitlines()
    lines[250_000 - 1] = "0000000001,too,many,fields"          # line 250,000: malformed
    lines[300_000 - 1] = "9999999999,line 300000"              # line 300,000: an orphan
    favorites.write_text("\n".join(lines) + "\n")
    con = loader.connect_build(tmp_path / "drop.duckdb", "100MB")
    validate.create_support_tables(con)
    for path, name in ((students, "students"), (favorites, "favorite_careers")):
        head, complete = reader.read_head(reader.DropFile(path.name, name, path))
        sniffed = reader.sniff(head, complete)
        match = reader.match_header(name, sniffed.header)
        validate.load_file(con, name, path, path.name, match, {}, sniffed.first_row[0])
    wrong = con.execute("SELECT count(*) FROM favorite_careers "
                        "WHERE career_title <> 'line ' || CAST(line AS VARCHAR)").fetchone()
    assert wrong == (0,)
    assert con.execute("SELECT count(*) FROM favorite_careers").fetchone() == (n - 2,)
    got = con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall()
    assert [line for line, _ in got] == [250_000, 300_000]
    assert got[0][1].startswith("malformed CSV line: Expected Number of Columns: 2")
    assert got[1][1] == "orphan: this ssid is not among the drop's accepted students"


def test_line_numbers_are_checked_against_the_first_record(tmp_path):
    """If DuckDB ever stopped keeping a file's order, the load fails loudly instead of
    publishing wrong line numbers."""
    from ccgi_dash import reader, validate

    path = make_drop(DAY).write(tmp_path)["students"]
    con = duckdb.connect()
    validate.create_support_tables(con)
    head, complete = reader.read_head(reader.DropFile(path.name, "students", path))
    match = reader.match_header("students", reader.sniff(head, complete).header)
    with pytest.raises(RuntimeError, match="line numbers could not be established"):
        validate.load_file(con, "students", path, path.name, match, {}, "0000000002")


def _all_metrics(dd: DataDir) -> dict[tuple, list]:
    """Every metric of the catalogue, county-wide and by district, for every loaded drop."""
    from ccgi_dash import metrics
    from ccgi_dash.scope import Scope

    out = {}
    with contextlib.closing(Warehouse(dd)) as wh:
        for day in wh.drops:
            for metric in metrics.METRICS:
                for by in ((), ("district",), ("grade_level",)):
                    frame = metrics.compute(wh, Scope.county(), metric, by, as_of=day)
                    out[(day, metric, by)] = frame.to_dict("records")
    return out


@pytest.mark.parametrize("raw_form", ["compressed", "older uncompressed"])
def test_rebuild_from_the_raw_files_gives_the_same_numbers(tmp_path, raw_form):
    """Issue 9: raw copies are kept as .csv.gz; a rebuild from them (or from the plain .csv
    folders older versions kept) publishes the same numbers as the original loads."""
    first = make_drop(DAY)
    first.tables["students"][3]["gender"] = "?"  # a rejected row, kept rejected
    second = make_drop(NEXT, students=90)
    cfg = settings(max_reject_rate=0.05)
    _loaded(load(tmp_path, first, cfg)[0])
    second.write(tmp_path / "next")
    dd = DataDir(tmp_path / "data")
    _loaded(ingest(dd, tmp_path / "next", config=cfg))
    raw = sorted(p for p in dd.raw.rglob("*") if p.is_file())
    assert raw and all(p.name.endswith(".csv.gz") for p in raw)
    assert sum(p.stat().st_size for p in raw) < 0.5 * sum(
        len(first.csv_text(n)) + len(second.csv_text(n)) for n in DATASET_NAMES)
    if raw_form == "older uncompressed":
        for p in raw:
            p.with_name(p.name[:-3]).write_bytes(gzip.decompress(p.read_bytes()))
            p.unlink()
    before = _all_metrics(dd)
    old = read_manifest(dd)
    old_rejects = rejects(dd, DAY)
    assert any(r["dataset"] == "students" and r["line"] == 5 for r in old_rejects)

    rebuilt = loader.rebuild(dd, cfg)

    assert rebuilt.exit_code == 0, rebuilt.summary_lines()
    new = read_manifest(dd)
    assert [(e.sha256, e.rows, e.rejects, e.district_counts) for e in new.drops] == \
        [(e.sha256, e.rows, e.rejects, e.district_counts) for e in old.drops]
    assert _all_metrics(dd) == before
    assert rejects(dd, DAY) == old_rejects


# --------------------------------------------------------------------------------------------
# Progress and the demo handed to the loader


def _run_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccgi_dash", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def test_ingest_prints_a_line_per_drop_off_a_terminal_and_only_the_summary_when_quiet(
        tmp_path):
    for d in (make_drop(DAY), make_drop(NEXT)):
        d.write(tmp_path / "in")
    loud = _run_cli("ingest", "--data-dir", str(tmp_path / "a"), str(tmp_path / "in"))
    assert loud.returncode == 0, loud.stderr
    lines = loud.stdout.splitlines()
    assert lines[0].startswith("2026-11-20: loaded in ") and lines[0].endswith("(1/2)")
    assert lines[1].startswith("2026-11-27: loaded in ") and lines[1].endswith("(2/2)")
    assert "\r" not in loud.stdout  # no redrawn bar in a log

    quiet = _run_cli("ingest", "--quiet", "--data-dir", str(tmp_path / "b"),
                     str(tmp_path / "in"))
    assert quiet.returncode == 0, quiet.stderr
    def untimed(lines: list[str]) -> list[str]:
        return [re.sub(r"in \d+\.\ds", "in ?s", line) for line in lines]

    # the summary only (the same as after the progress lines, but for the timings)
    assert untimed(quiet.stdout.splitlines()) == untimed(loud.stdout.splitlines()[2:])
    assert quiet.stdout.splitlines()[0].startswith("2026-11-20: loaded in")


_PRIORITIES_DURING = """
import json, os, sys, threading, time
from ccgi_dash import cli
last, done = {}, threading.Event()
def watch():  # the priority each thread of the process had when last seen
    while not done.is_set():
        for tid in os.listdir("/proc/self/task"):
            try:
                last[int(tid)] = os.getpriority(os.PRIO_PROCESS, int(tid))
            except OSError:
                pass
        time.sleep(0.002)
watcher = threading.Thread(target=watch)
watcher.start()
code = cli.main(sys.argv[1:])
done.set()
watcher.join()
print(json.dumps([code, len(last), sorted(set(last.values()))]))
"""


def test_ingest_gives_way_to_the_app_at_nice_10_unless_told_otherwise(tmp_path):
    """A load shares the server with the app: every thread it ran on (DuckDB's workers
    included) is at nice 10 by default, and at the caller's own priority with --nice 0."""
    make_drop(DAY).write(tmp_path / "in")
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    seen = {}
    for nice in ("default", "0"):
        argv = ["ingest", "--quiet", "--data-dir", str(tmp_path / f"data-{nice}"),
                str(tmp_path / "in")] + ([] if nice == "default" else ["--nice", nice])
        out = subprocess.run([sys.executable, "-c", _PRIORITIES_DURING, *argv], cwd=ROOT,
                             capture_output=True, text=True, timeout=300, check=True)
        code, threads, priorities = json.loads(out.stdout.splitlines()[-1])
        assert code == 0, out.stdout + out.stderr
        assert threads > 2, out.stdout  # DuckDB's workers too, not only main and watcher
        seen[nice] = priorities
    assert seen == {"default": [max(10, mine)], "0": [mine]}


def test_every_command_that_loads_gives_way_and_no_other_does():
    from ccgi_dash.cli import build_parser

    parser = build_parser()
    for argv in (["ingest", "x"], ["rebuild"], ["sync"]):
        assert parser.parse_args(argv).nice == 10, argv
        assert parser.parse_args([*argv, "--nice", "0"]).nice == 0, argv
    for argv in (["status"], ["fetch"], ["export", "--metric", "aid_submitted"]):
        assert not hasattr(parser.parse_args(argv), "nice"), argv


def test_a_nice_value_outside_0_to_19_is_refused_before_anything_loads(tmp_path):
    make_drop(DAY).write(tmp_path / "in")
    out = _run_cli("ingest", "--nice", "-5", "--data-dir", str(tmp_path / "data"),
                   str(tmp_path / "in"))
    assert out.returncode == 2
    assert "a nice value is a whole number from 0 to 19, got '-5'" in out.stderr
    assert not (tmp_path / "data").exists()


def test_a_terminal_gets_a_progress_bar(tmp_path):
    from ccgi_dash.progress import DropProgress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for d in (make_drop(DAY), make_drop(NEXT)):
        d.write(tmp_path / "in")
    screen = Terminal()
    with DropProgress("Loading", stream=screen) as bar:
        report = loader.ingest(DataDir(tmp_path / "data"), [tmp_path / "in"], Settings(),
                               watcher=bar)
    assert report.exit_code == 0
    text = screen.getvalue()
    assert "Loading" in text and "2/2" in text and "\r" in text  # drawn by tqdm
    assert "2026-11-27 loaded" in text


def test_the_demo_hands_each_drop_to_the_loader_and_removes_its_csvs(tmp_path):
    from ccgi_dash import demo

    out = tmp_path / "drops"
    dd = DataDir(tmp_path / "demo")
    summary, report = demo.generate_and_load("Alpine", dd, Settings(), out, scale=0.3,
                                             through=date(2025, 7, 20))
    assert report.exit_code == 0, report.summary_lines()
    assert [o.status for o in report.outcomes] == ["loaded"] * len(summary.drop_dates)
    assert [d.date for d in read_manifest(dd).drops] == list(summary.drop_dates)
    assert not out.exists()  # every CSV removed once loaded
    for day in summary.drop_dates:
        kept = sorted(p.name for p in (dd.raw / f"{day:%Y%m%d}").iterdir())
        assert kept == sorted(f"{n}_{day:%Y%m%d}.csv.gz" for n in DATASET_NAMES)
    # the same drops written as files and loaded with ingest give the same numbers
    demo.generate("Alpine", tmp_path / "files", scale=0.3, through=date(2025, 7, 20))
    other = DataDir(tmp_path / "other")
    assert ingest(other, tmp_path / "files").exit_code == 0
    assert _all_metrics(other) == _all_metrics(dd)


def test_run_sh_and_the_first_run_benchmark_build_the_demo_the_same_way(tmp_path):
    """The benchmark times what run.sh does: the same demo command, loading as it writes."""
    from benchmarks.bench_first_run import demo_commands

    script = (ROOT / "run.sh").read_text()
    [cmd] = demo_commands(tmp_path).values()
    flags = [a for a in cmd if a.startswith("--")]
    demo_line = script[script.index("-m ccgi_dash demo"):].split("\n\n")[0]
    assert all(flag in demo_line for flag in flags), (flags, demo_line)
    assert "ingest" not in demo_line  # the demo hands its drops to the loader itself


# --------------------------------------------------------------------------------------------
# Newest first (the demo's first run): the current week, then a backfill of earlier weeks

THIRD = date(2026, 12, 4)


def _stream(dd: DataDir, tmp_path, drops: list[Drop], config: Settings | None = None,
            total: int | None = None) -> loader.IngestReport:
    """Offer ``drops`` one batch each, in the order given, as the demo's backfill does."""
    batches = []
    for d in drops:
        d.write(tmp_path / f"b-{d.stamp}")
        batches.append([tmp_path / f"b-{d.stamp}"])
    return loader.ingest_stream(dd, batches, config or Settings(),
                                backfill=len(drops) if total is None else total)


def test_a_backfill_places_older_drops_by_date_and_gives_the_same_data(tmp_path):
    drops = [make_drop(DAY), make_drop(NEXT, start=3), make_drop(THIRD, start=5)]
    dd = DataDir(tmp_path / "data")
    report = _stream(dd, tmp_path, drops[::-1])
    assert report.exit_code == 0, report.summary_lines()
    assert [o.drop_date for o in report.outcomes] == [THIRD, NEXT, DAY]
    manifest = read_manifest(dd)
    assert [e.drop_date for e in manifest.drops] == ["2026-11-20", "2026-11-27", "2026-12-04"]
    assert manifest.version == 3
    # the same drops loaded in date order give the same entries and the same facts
    for d in drops:
        d.write(tmp_path / "in-order" / d.stamp)
    other = DataDir(tmp_path / "other")
    assert ingest(other, *(tmp_path / "in-order" / d.stamp for d in drops)).exit_code == 0
    keep = ("drop_date", "sha256", "rows", "rejects", "warnings", "district_counts")
    assert [{k: getattr(e, k) for k in keep} for e in read_manifest(other).drops] == \
        [{k: getattr(e, k) for k in keep} for e in manifest.drops]
    assert _state(other)[1:] == _state(dd)[1:]
    with contextlib.closing(Warehouse(dd)) as wh:
        assert wh.latest == THIRD  # the app's default as-of drop: the newest
    # summed up over the dates, not in the order they came
    assert report.summary_lines(each_up_to=2)[0].startswith("2026-11-20 to 2026-12-04: 3 loaded")


def test_a_plain_ingest_still_refuses_an_older_drop_after_a_backfill(tmp_path):
    dd = DataDir(tmp_path / "data")
    assert _stream(dd, tmp_path, [make_drop(NEXT)]).exit_code == 0
    make_drop(DAY).write(tmp_path / "old")
    [o] = ingest(dd, tmp_path / "old").outcomes
    assert o.status == "rejected" and "a newer drop (2026-11-27) is already loaded" in o.message


def test_a_backfilled_drop_is_roster_checked_against_the_newer_drop_after_it(tmp_path):
    # the newer drop has only Los Angeles; the older one also has Long Beach's 47 students
    dd = DataDir(tmp_path / "data")
    newer = make_drop(NEXT, students=40, schools=LOS_ANGELES)
    older = make_drop(DAY)
    report = _stream(dd, tmp_path, [newer, older], ROSTER)
    first, second = report.outcomes
    assert first.status == "loaded"
    assert second.status == "rejected"
    assert ("refused: the roster of 1 district(s) changed beyond the limits between this "
            "drop and the next one loaded, of 2026-11-27: 1964725 Long Beach Unified 47 -> 0 "
            "students (missing from the drop of 2026-11-27)") in second.message
    assert [e.drop_date for e in read_manifest(dd).drops] == ["2026-11-27"]
    assert second.quarantine is not None and second.quarantine.exists()


def test_a_backfilled_drop_is_checked_against_both_neighbours(tmp_path):
    # 20th and 4th Dec loaded; the 27th Nov, inserted between, swings against the 20th
    dd = DataDir(tmp_path / "data")
    report = _stream(dd, tmp_path, [make_drop(THIRD), make_drop(DAY),
                                    make_drop(NEXT, students=40, schools=LOS_ANGELES)],
                     ROSTER)
    assert [o.status for o in report.outcomes] == ["loaded", "loaded", "rejected"]
    assert "since the drop of 2026-11-20: 1964725 Long Beach Unified 47 -> 0 students " \
           "(missing from this drop)" in report.outcomes[2].message
    assert [e.drop_date for e in read_manifest(dd).drops] == ["2026-11-20", "2026-12-04"]


def test_a_backfilled_drop_without_a_district_of_the_next_says_so(tmp_path):
    dd = DataDir(tmp_path / "data")
    newer = make_drop(NEXT, schools=(*LOS_ANGELES, "19647901935923"))
    report = _stream(dd, tmp_path, [newer, make_drop(DAY, schools=LOS_ANGELES)],
                     settings(roster_check_min_students=100))
    assert report.exit_code == 0, report.summary_lines()
    assert report.outcomes[1].warnings == [
        "district 1964790 (Monrovia Unified) is not in this drop but has 35 students in the "
        "next one loaded (2026-11-27)."]


def test_the_backfill_status_counts_settled_drops_and_the_banner_reads_it(tmp_path):
    from ccgi_dash import status
    from ccgi_dash.store import read_backfill, write_backfill

    dd = DataDir(tmp_path / "data")
    seen = []
    drops = [make_drop(NEXT), make_drop(DAY)]
    for d in drops:
        d.write(tmp_path / f"b-{d.stamp}")

    def batches():
        for d in drops:
            yield [tmp_path / f"b-{d.stamp}"]
            seen.append((read_backfill(dd).settled, status.backfill_text(dd)))

    report = loader.ingest_stream(dd, batches(), Settings(), backfill=5, workers=1)
    assert report.exit_code == 0
    # read while the load runs (this process holds it; the next batch is asked for once the
    # one before is settled): settled so far, of the 5 expected
    assert seen == [(1, "Loading earlier weeks: 1 of 5; trends fill in as they arrive."),
                    (2, "Loading earlier weeks: 2 of 5; trends fill in as they arrive.")]
    b = read_backfill(dd)
    assert (b.settled, b.total, b.done) == (2, 5, True)
    assert status.backfill_text(dd) is None  # finished: nothing to say
    # a backfill whose process died says it stopped, and how to finish
    write_backfill(dd, 40, 75)
    dead = json.loads(dd.backfill.read_text())
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead["pid"] = int(proc.stdout)
    dd.backfill.write_text(json.dumps(dead))
    assert status.backfill_text(dd) == (
        "Loading earlier weeks stopped at 40 of 75 (the load was interrupted); trends show "
        "only the weeks loaded. Run ./run.sh again to finish.")
    assert "stopped at 40 of 75" in "\n".join(status.status_lines(dd, Settings()))


def test_the_demo_newest_first_loads_the_current_week_first_and_the_same_data(tmp_path):
    from ccgi_dash import demo

    dd = DataDir(tmp_path / "demo")
    through = date(2025, 7, 20)
    summary, report = demo.generate_and_load("Alpine", dd, Settings(), tmp_path / "drops",
                                             scale=0.3, through=through, newest_first=True)
    assert report.exit_code == 0, report.summary_lines()
    assert [o.drop_date for o in report.outcomes] == list(summary.drop_dates[::-1])
    assert [d.date for d in read_manifest(dd).drops] == list(summary.drop_dates)
    assert not (tmp_path / "drops").exists()
    b = json.loads(dd.backfill.read_text())
    assert (b["settled"], b["total"], b["done"]) == (len(summary.drop_dates),) * 2 + (True,)
    other = DataDir(tmp_path / "in-order")
    in_order, _ = demo.generate_and_load("Alpine", other, Settings(), tmp_path / "drops2",
                                         scale=0.3, through=through)
    assert summary.students == in_order.students and summary.rows == in_order.rows
    assert _all_metrics(other) == _all_metrics(dd)
