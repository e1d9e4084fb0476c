"""What the loader refuses, and what it says: file-level faults reject a whole drop,
row-level faults go to the ``rejects`` table with file, line and column.

Every case plants one fault in an otherwise valid small drop written by ``dropkit`` and
checks the exact words a data manager would read.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ccgi_dash import loader
from ccgi_dash.datasets import DATASET_NAMES
from ccgi_dash.settings import Settings
from ccgi_dash.store import DataDir, read_jsonl, read_manifest
from tests.dropkit import (
    OUT_OF_COUNTY_SCHOOL,
    ROOT,
    Drop,
    cut,
    flip_member_byte,
    ingest,
    load,
    make_drop,
    query,
    rejects,
    settings,
    tree,
)

LENIENT = settings(max_reject_rate=0.5)
"""Row-level tests plant one bad row in a small file: keep the drop under the threshold."""


def _rejected(report) -> str:
    assert report.exit_code == 1
    [o] = report.outcomes
    assert o.status == "rejected", o.message
    return o.message


# --------------------------------------------------------------------------------------------
# File-level faults: the whole drop is refused, nothing changes, the files are quarantined


def _semicolons(files: dict[str, Path]) -> None:
    p = files["fafsa_cadaa"]
    p.write_text(p.read_text().replace(",", ";"))


def _tabs(files: dict[str, Path]) -> None:
    p = files["uc_apply"]
    p.write_text(p.read_text().replace(",", "\t"))


def _binary(files: dict[str, Path]) -> None:
    files["students"].write_bytes(bytes(range(256)) * 4)


def _xlsx(files: dict[str, Path]) -> None:
    files["students"].write_bytes(b"PK\x03\x04" + b"\x00" * 100)


def _empty(files: dict[str, Path]) -> None:
    files["favorite_majors"].write_bytes(b"")


def _header_only(files: dict[str, Path]) -> None:
    p = files["ccc_apply"]
    p.write_text(p.read_text().splitlines()[0] + "\n")


def _no_campus(files: dict[str, Path]) -> None:
    p = files["uc_apply"]
    lines = [",".join(c for i, c in enumerate(line.split(",")) if i != 1)
             for line in p.read_text().splitlines()]
    p.write_text("\n".join(lines) + "\n")


def _swapped(files: dict[str, Path]) -> None:
    files["students"].write_bytes(files["ag_eligibility"].read_bytes())


def _unknown_dataset(files: dict[str, Path]) -> None:
    p = files["fafsa_cadaa"]
    p.rename(p.with_name("fafsa_status_20261120.csv"))


def _missing_dataset(files: dict[str, Path]) -> None:
    files["csu_apply"].unlink()


FILE_FAULTS = {
    "semicolons": (_semicolons, [
        "fafsa_cadaa_20261120.csv has semicolons (;) between its columns, not commas. CCGI "
        "files are comma-separated"]),
    "tabs": (_tabs, ["uc_apply_20261120.csv has tabs between its columns, not commas"]),
    "binary": (_binary, ["students_20261120.csv contains binary data (NUL bytes), so it is "
                         "not CSV text"]),
    "xlsx": (_xlsx, ["students_20261120.csv is a zip archive or an Excel workbook (.xlsx), "
                     "not CSV text", "Save As > CSV UTF-8"]),
    "empty": (_empty, ["favorite_majors_20261120.csv has no data in it (the file is empty, "
                       "0 bytes)"]),
    "header only": (_header_only, ["ccc_apply_20261120.csv has a header line but no data "
                                   "rows"]),
    "missing column": (_no_campus, [
        "uc_apply_20261120.csv lacks required column(s) campus of uc_apply; its header has: "
        "ssid, status, submitted_date.", "[column_map.uc_apply]"]),
    "mislabeled content": (_swapped, [
        "students_20261120.csv lacks required column(s) school_cds, grade_level, school_year "
        "of students", "This looks like the ag_eligibility file: mislabeled?"]),
    "unknown dataset": (_unknown_dataset, [
        'fafsa_status_20261120.csv: "fafsa_status" is not one of the ten CCGI datasets '
        "(a mislabeled file?)", ", ".join(DATASET_NAMES),
        "has no file for fafsa_cadaa"]),
    "missing dataset": (_missing_dataset, [
        "drop 2026-11-20 has no file for csu_apply (expected csu_apply_20261120.csv)",
        "datasets_not_received"]),
}


@pytest.mark.parametrize("fault", list(FILE_FAULTS))
def test_file_level_faults_reject_the_drop_and_quarantine_it(tmp_path, fault):
    plant, expected = FILE_FAULTS[fault]
    d = make_drop("2026-11-20")
    folder = tmp_path / "in"
    plant(d.write(folder))
    before = tree(folder)
    dd = DataDir(tmp_path / "data")
    message = _rejected(ingest(dd, folder))
    for text in expected:
        assert text in message
    assert message.startswith("Drop 2026-11-20 rejected: ")
    assert "Nothing from this drop was loaded; the data already served is unchanged." in message
    # the user's files are untouched, and an exact copy waits in quarantine with the reason
    assert tree(folder) == before
    [q] = list(dd.quarantine.iterdir())
    assert q.name.startswith("20261120-")
    kept = tree(q)
    reason = kept.pop("REASON.txt").decode()
    assert kept == before
    assert expected[0] in reason
    # nothing was published, and the attempt is in the load log
    assert read_manifest(dd).drops == []
    assert tree(dd.drops) == {} and tree(dd.raw) == {}
    [log] = read_jsonl(dd.load_log)
    assert log["outcome"] == "rejected" and log["drop_date"] == "2026-11-20"
    assert expected[0] in log["message"]


def test_an_oversized_file_says_its_size_the_limit_and_the_setting(tmp_path):
    d = make_drop("2026-11-20")
    report, _ = load(tmp_path, d, settings(max_file_mb=0.005))
    message = _rejected(report)
    assert "students_20261120.csv is 8.5 KB, more than the limit of 0.005 MB; if the file is " \
           "genuine, raise max_file_mb under [ingest] in settings.toml." in message
    assert "fafsa_cadaa" not in message  # small files pass


def test_a_file_duckdb_cannot_parse_rejects_the_drop_with_duckdbs_reason(tmp_path):
    d = make_drop("2026-11-20")
    folder = tmp_path / "in"
    files = d.write(folder)
    p = files["favorite_careers"]
    p.write_bytes(p.read_bytes().replace(b"\n", b"\r", 3))  # old-Mac line ends: one huge line
    message = _rejected(ingest(DataDir(tmp_path / "data"), folder))
    assert "favorite_careers_20261120.csv" in message


def test_a_name_without_a_date_is_a_problem_and_fails_the_run(tmp_path):
    d = make_drop("2026-11-20")
    folder = tmp_path / "in"
    d.write(folder)
    (folder / "students (copy).csv").write_text("ssid\n")
    report = ingest(DataDir(tmp_path / "data"), folder)
    assert [o.status for o in report.outcomes] == ["loaded"]
    assert report.problems == [
        "students (copy).csv: cannot tell which drop it belongs to; rename it "
        "<dataset>_<YYYYMMDD>.csv (for example students_20261120.csv) or "
        "ccgi_drop_<YYYYMMDD>.zip."]
    assert report.exit_code == 1
    assert any(line.startswith("problem: students (copy).csv") for line in
               report.summary_lines())


def test_a_bad_zip_rejects_its_drop(tmp_path):
    z = tmp_path / "ccgi_drop_20261120.zip"
    z.write_bytes(b"not a zip at all")
    dd = DataDir(tmp_path / "data")
    message = _rejected(ingest(dd, z))
    assert "ccgi_drop_20261120.zip: not a readable zip file" in message
    [q] = list(dd.quarantine.iterdir())
    assert (q / "ccgi_drop_20261120.zip").read_bytes() == b"not a zip at all"


def test_a_value_map_to_an_unknown_value_is_refused_by_name(tmp_path):
    config = Settings(value_map={"fafsa_cadaa": {"status": {"Complete": "Finished"}}})
    report, _ = load(tmp_path, make_drop("2026-11-20"), config)
    assert "settings.toml [value_map.fafsa_cadaa.status] maps 'Complete' to 'Finished', " \
           "which is not one of Started, Submitted, Completed, Opted Out" in _rejected(report)


# --------------------------------------------------------------------------------------------
# Row-level faults: the row goes to rejects with file, line, column, value and reason


ROW_FAULTS = [
    # dataset, row, column, bad value, reason
    ("students", 3, "ssid", "12345", "ssid must be exactly 10 digits"),
    ("students", 3, "ssid", "12345678901", "ssid must be exactly 10 digits"),
    ("students", 3, "ssid", "+123456789", "ssid must be exactly 10 digits"),
    ("students", 3, "ssid", "12345678.0", "ssid must be exactly 10 digits"),
    ("students", 4, "school_cds", "1964725193467", "school_cds must be exactly 14 digits"),
    ("students", 4, "school_cds", "19-6472-5193467", "school_cds must be exactly 14 digits"),
    ("students", 5, "grade_level", "5", "grade_level must be a whole number from 6 to 12"),
    ("students", 5, "grade_level", "13", "grade_level must be a whole number from 6 to 12"),
    ("students", 5, "grade_level", "K", "grade_level must be a whole number from 6 to 12"),
    ("students", 5, "grade_level", "7.0", "grade_level must be a whole number from 6 to 12"),
    ("students", 6, "school_year", "2026-28", "school_year must look like 2026-27"),
    ("students", 6, "school_year", "2026/27", "school_year must look like 2026-27"),
    ("students", 6, "school_year", "26-27", "school_year must look like 2026-27"),
    ("students", 7, "account_created_date", "2026-13-01", "is not a date; use YYYY-MM-DD or "
                                                          "M/D/YYYY"),
    ("students", 7, "account_created_date", "11/31/2026", "is not a date"),
    ("students", 7, "account_created_date", "20261105", "is not a date"),
    ("students", 7, "account_created_date", "1/5/26", "is not a date"),
    ("students", 7, "account_created_date", "2026-1-5", "is not a date"),
    ("students", 7, "account_created_date", "2026-11-05 08:00", "is not a date"),
    ("students", 8, "gender", "Male", "gender: unknown value; expected one of M, F, X "
                                      "(or empty)"),
    ("students", 8, "sed", "Yes", "sed: unknown value; expected one of Y, N (or empty)"),
    ("students", 8, "race_ethnicity", "XX", "race_ethnicity: unknown value"),
    ("fafsa_cadaa", 2, "status", "Done", "status: unknown value; expected one of Started, "
                                         "Submitted, Completed, Opted Out"),
    ("fafsa_cadaa", 2, "application_type", "Pell", "application_type: unknown value"),
    ("uc_apply", 1, "campus", "", "campus is required but empty"),
    ("uc_apply", 1, "status", "", "status is required but empty"),
    ("students", 9, "school_year", "", "school_year is required but empty"),
    ("career_assessments", 0, "completed_date", "", "completed_date is required but empty"),
    ("ag_eligibility", 3, "uc_status", "Maybe", "uc_status: unknown value"),
    ("favorite_colleges", 2, "segment", "Community", "segment: unknown value"),
]


@pytest.mark.parametrize("dataset,row,column,value,reason", ROW_FAULTS)
def test_a_bad_value_is_rejected_with_its_line_column_and_reason(tmp_path, dataset, row, column,
                                                                 value, reason):
    d = make_drop("2026-11-20")
    target = d.tables[dataset][row]
    ssid = target["ssid"]
    target[column] = value
    report, dd = load(tmp_path, d, LENIENT)
    assert report.exit_code == 0, report.summary_lines()
    got = rejects(dd)
    mine = [r for r in got if r["dataset"] == dataset]
    assert mine[0] == {
        "dataset": dataset, "file": f"{dataset}_20261120.csv", "line": row + 2,
        "column_name": column, "value": value or None, "reason": mine[0]["reason"],
        "ssid": value if column == "ssid" else ssid,
        "school_cds": (value if column == "school_cds" else target["school_cds"])
        if dataset == "students" else None,
    }
    assert reason in mine[0]["reason"]
    # the row is not in the published table
    n = query(dd, f"SELECT count(*) FROM {{t}}.{dataset} WHERE line = ?", [row + 2])[0][0]
    assert n == 0
    assert report.outcomes[0].rows[dataset] == len(d.tables[dataset]) - 1


def test_application_type_may_be_empty_only_for_opted_out(tmp_path):
    d = make_drop("2026-11-20")
    aid = d.tables["fafsa_cadaa"]
    aid[0].update(application_type="", status="opted out")   # allowed, any case
    aid[1].update(application_type="", status="Started")     # not allowed
    _, dd = load(tmp_path, d, LENIENT)
    [r] = rejects(dd)
    assert (r["line"], r["column_name"]) == (3, "application_type")
    assert r["reason"] == ("application_type is empty; it may be empty only when status is "
                           "Opted Out")
    assert query(dd, "SELECT application_type, status FROM {t}.fafsa_cadaa WHERE line = 2") == [
        (None, "Opted Out")]


@pytest.mark.parametrize("dataset,first,later,key", [
    ("students", 3, 10, "(ssid)"),
    ("uc_apply", 0, 4, "(ssid, campus)"),
    ("career_assessments", 1, 5, "(ssid, assessment_name, completed_date)"),
])
def test_a_duplicate_key_keeps_the_first_and_rejects_the_later(tmp_path, dataset, first, later,
                                                               key):
    d = make_drop("2026-11-20")
    rows = d.tables[dataset]
    rows[later] = dict(rows[first])
    _, dd = load(tmp_path, d, LENIENT)
    got = [r for r in rejects(dd) if r["dataset"] == dataset]
    assert [(r["line"], r["reason"]) for r in got] == [
        (later + 2, f"duplicate key {key}: the first is at line {first + 2}")]
    kept = query(dd, f"SELECT line FROM {{t}}.{dataset} WHERE ssid = ?", [rows[first]["ssid"]])
    assert (first + 2,) in kept and (later + 2,) not in kept


def test_orphans_are_rows_whose_student_is_not_accepted(tmp_path):
    d = make_drop("2026-11-20")
    d.tables["favorite_majors"][2]["ssid"] = "9999999999"      # not on the roster at all
    senior = d.tables["fafsa_cadaa"][0]["ssid"]
    student = next(s for s in d.tables["students"] if s["ssid"] == senior)
    student["grade_level"] = "14"                              # the student is rejected ...
    _, dd = load(tmp_path, d, LENIENT)
    got = {(r["dataset"], r["line"]): r for r in rejects(dd)}
    assert got[("favorite_majors", 4)]["reason"] == (
        "orphan: this ssid is not among the drop's accepted students")
    assert got[("favorite_majors", 4)]["column_name"] == "ssid"
    assert got[("favorite_majors", 4)]["value"] == "9999999999"
    orphans = [r for r in got.values() if r["ssid"] == senior and r["dataset"] != "students"]
    # ... so each of the senior's other rows is an orphan
    assert {r["dataset"] for r in orphans} >= {"fafsa_cadaa", "uc_apply", "csu_apply",
                                               "ccc_apply"}
    facts = query(dd, "SELECT count(*) FROM {t}.student_facts WHERE ssid = ?", [senior])
    assert facts == [(0,)]


def test_an_orphan_rejects_its_own_line_only_not_the_same_line_of_other_files(tmp_path):
    """Orphans of all files are found together; each is marked in its own file only."""
    d = make_drop("2026-11-20")
    d.tables["favorite_majors"][2]["ssid"] = "9999999998"      # line 4 of favorite_majors
    d.tables["career_assessments"][5]["ssid"] = "9999999997"   # line 7 of career_assessments
    _, dd = load(tmp_path, d, LENIENT)
    assert sorted((r["dataset"], r["line"]) for r in rejects(dd)) == [
        ("career_assessments", 7), ("favorite_majors", 4)]
    for dataset in DATASET_NAMES:
        if dataset == "students":
            continue
        lines = {ln for (ln,) in query(dd, f"SELECT line FROM {{t}}.{dataset}")}
        expected = set(range(2, len(d.tables[dataset]) + 2))
        expected -= {"favorite_majors": {4}, "career_assessments": {7}}.get(dataset, set())
        assert lines == expected, dataset


def test_a_malformed_line_is_rejected_and_later_lines_keep_their_numbers(tmp_path):
    d = make_drop("2026-11-20")
    folder = tmp_path / "in"
    files = d.write(folder)
    p = files["favorite_colleges"]
    lines = p.read_text().splitlines()
    lines.insert(4, "0000000099,Too,Many,Fields,Here")      # becomes line 5
    lines.insert(7, "0000000101")                           # becomes line 8
    p.write_text("\n".join(lines) + "\n")
    dd = DataDir(tmp_path / "data")
    report = ingest(dd, folder, config=LENIENT)
    assert report.exit_code == 0, report.summary_lines()
    got = [(r["line"], r["column_name"], r["reason"][:20], r["value"]) for r in rejects(dd)]
    assert got == [(5, None, "malformed CSV line: ", "0000000099,Too,Many,Fields,Here"),
                   (8, None, "malformed CSV line: ", "0000000101")]
    # every published row's line is its physical line in the file
    for ssid, line in query(dd, "SELECT ssid, line FROM {t}.favorite_colleges"):
        assert lines[line - 1].startswith(ssid)


def test_an_unterminated_quote_rejects_the_rest_of_the_file(tmp_path):
    d = make_drop("2026-11-20")
    d.tables["favorite_careers"][30]["career_title"] = 'Nurse "RN'
    folder = tmp_path / "in"
    files = d.write(folder)
    p = files["favorite_careers"]
    p.write_text(p.read_text().replace('"Nurse ""RN"', '"Nurse RN'))
    message = _rejected(ingest(DataDir(tmp_path / "data"), folder))
    assert "favorite_careers_20261120.csv has 1 rejected row(s) of 31" in message
    assert "malformed CSV line: Value with unterminated quote found." in message


# --------------------------------------------------------------------------------------------
# The reject-rate threshold


@pytest.mark.parametrize("rate,bad,status", [
    (0.01, 1, "rejected"),   # 1 of 70 = 1.4% > 1%
    (0.02, 1, "loaded"),     # 1.4% <= 2%
    (0.02, 2, "rejected"),   # 2.9% > 2%
])
def test_too_many_rejected_rows_in_one_file_reject_the_drop(tmp_path, rate, bad, status):
    d = make_drop("2026-11-20")
    for i in (1, 7)[:bad]:  # students with no rows elsewhere (which would become orphans)
        d.tables["students"][i]["ssid"] = "123"
    report, _ = load(tmp_path, d, settings(max_reject_rate=rate))
    [o] = report.outcomes
    assert o.status == status
    if status == "rejected":
        pct = f"{bad / 70:.1%}"
        assert (f"students_20261120.csv has {bad} rejected row(s) of 70 ({pct}), more than the "
                f"{rate:.1%} allowed (first: line 3, column ssid: ssid must be exactly 10 "
                "digits (value '123')") in o.message
        assert "raise max_reject_rate under [ingest]" in o.message
        reason = (o.quarantine / "REASON.txt").read_text()
        assert "students_20261120.csv\t3\tssid\t123\tssid must be exactly 10 digits" in reason
    else:
        assert o.rejects == bad


def test_the_threshold_counts_rows_per_file_not_per_drop(tmp_path):
    d = make_drop("2026-11-20")
    d.tables["fafsa_cadaa"][0]["status"] = "??"  # 1 of 10 rows: 10% of that file
    report, _ = load(tmp_path, d, settings(max_reject_rate=0.05))
    assert "fafsa_cadaa_20261120.csv has 1 rejected row(s) of 10 (10.0%)" in _rejected(report)


# --------------------------------------------------------------------------------------------
# What is NOT rejected: the data clean-up report flags these later


def _completed_without_submitted(d: Drop) -> None:
    d.tables["fafsa_cadaa"][2].update(status="Completed", submitted_date="")


def _completed_before_submitted(d: Drop) -> None:
    d.tables["fafsa_cadaa"][2].update(status="Completed", submitted_date="2026-11-01",
                                      completed_date="2026-10-01")


def _eligible_in_grade_10(d: Drop) -> None:
    sophomore = next(s["ssid"] for s in d.tables["students"] if s["grade_level"] == "10")
    row = next(r for r in d.tables["ag_eligibility"] if r["ssid"] == sophomore)
    row["uc_status"] = "Eligible"


def _grade_6_at_a_high_school(d: Drop) -> None:
    d.tables["students"][0].update(grade_level="6", school_cds="19647251934678")


def _school_not_in_directory(d: Drop) -> None:
    d.tables["students"][0]["school_cds"] = "19647259999999"


@pytest.mark.parametrize("plant", [_completed_without_submitted, _completed_before_submitted,
                                   _eligible_in_grade_10, _grade_6_at_a_high_school,
                                   _school_not_in_directory])
def test_doubtful_but_well_formed_rows_are_loaded(tmp_path, plant):
    d = make_drop("2026-11-20")
    plant(d)
    report, dd = load(tmp_path, d)
    assert report.exit_code == 0 and report.outcomes[0].rejects == 0
    assert rejects(dd) == []


def test_students_outside_the_county_are_a_warning_not_a_rejection(tmp_path):
    d = make_drop("2026-11-20")
    d.tables["students"][0]["school_cds"] = OUT_OF_COUNTY_SCHOOL
    d.tables["students"][1]["school_cds"] = OUT_OF_COUNTY_SCHOOL
    report, dd = load(tmp_path, d)
    [o] = report.outcomes
    assert o.status == "loaded" and o.rejects == 0
    warning = ("2 student(s) are at schools outside county 19 (school_cds county codes 30: 2); "
               "they were loaded. Check these school codes with the districts.")
    assert o.warnings == [warning]
    assert query(dd, "SELECT dataset, message FROM {t}.load_warnings") == [(None, warning)]
    assert read_manifest(dd).drops[0].warnings == [warning]
    assert json.loads(dd.load_log.read_text().splitlines()[-1])["warnings"] == [warning]


# --------------------------------------------------------------------------------------------
# Damaged drops (issue 9): a fault inside one drop rejects that drop, never the run


OLD, NEW = "2026-11-13", "2026-11-20"


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccgi_dash", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def _flipped_zip(folder: Path) -> Path:
    z = make_drop(OLD).write_zip(folder)
    flip_member_byte(z, "students_20261113.csv")
    return z


def _truncated_zip(folder: Path) -> Path:
    z = make_drop(OLD).write_zip(folder)
    cut(z, 0.6)
    return z


def _truncated_gzip(folder: Path) -> Path:
    files = make_drop(OLD).write(folder)
    p = files["students"]
    gz = p.with_name(p.name + ".gz")
    gz.write_bytes(gzip.compress(p.read_bytes()))
    p.unlink()
    cut(gz, 0.5)
    return gz


@pytest.mark.parametrize(("damage", "said"), [
    (_flipped_zip, "a zip or compressed file of this drop is damaged ("),
    (_truncated_zip, "ccgi_drop_20261113.zip: not a readable zip file"),
    (_truncated_gzip, "a zip or compressed file of this drop is damaged (EOFError"),
], ids=["byte-flipped", "truncated-zip", "truncated-gzip"])
def test_a_damaged_drop_beside_a_good_newer_one(tmp_path, damage, said):
    """The damaged drop is refused with its reason and quarantined, the good newer drop still
    loads, the run exits 1, and nothing prints a traceback."""
    folder = tmp_path / "inbox"
    bad = damage(folder)
    make_drop(NEW).write(folder)
    dd = DataDir(tmp_path / "data")

    run = _cli("ingest", "--data-dir", str(dd.root), str(folder))

    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Traceback" not in out
    assert f"2026-11-13: rejected. Drop 2026-11-13 rejected: {said}" in out
    assert "Fetch it again, or ask CCGI to send it again." in out or "Download it again" in out
    assert "2026-11-20: loaded in" in out
    assert [d.drop_date for d in read_manifest(dd).drops] == [NEW]
    [q] = list(dd.quarantine.iterdir())
    assert q.name.startswith("20261113-")
    assert (q / bad.name).read_bytes() == bad.read_bytes()  # kept as received
    assert said in (q / "REASON.txt").read_text()
    log = read_jsonl(dd.load_log)
    assert [(r["drop_date"], r["outcome"]) for r in log] == [(OLD, "rejected"),
                                                              (NEW, "loaded")]
    assert str(q) == log[0]["quarantine"]


@pytest.mark.parametrize("cut_how", ["short last row", "unclosed quote"])
def test_a_csv_cut_mid_record_is_refused_as_a_cut_transfer(tmp_path, cut_how):
    d = make_drop(NEW)
    folder = tmp_path / "in"
    p = d.write(folder)["students"]
    text = p.read_text()
    if cut_how == "short last row":
        last = text.rstrip("\n").rsplit("\n", 1)[1]
        cut_text = text.rstrip("\n")[: -len(last) + last.index(",", last.index(",") + 1)]
    else:
        cut_text = text.rstrip("\n") + '\n0000000999,"Cut Sch'
    p.write_text(cut_text)
    message = _rejected(ingest(DataDir(tmp_path / "data"), folder))
    assert ("students_20261120.csv: the file ends mid-record; the transfer was probably cut: "
            "fetch it again.") in message
    assert not read_manifest(DataDir(tmp_path / "data")).drops


def test_a_short_last_row_that_ends_its_line_is_an_ordinary_bad_row(tmp_path):
    d = make_drop(NEW)
    folder = tmp_path / "in"
    p = d.write(folder)["favorite_majors"]
    p.write_text(p.read_text() + "0000000001,Nursing\n")  # one field short, line end kept
    report = ingest(DataDir(tmp_path / "data"), folder, config=LENIENT)
    assert report.exit_code == 0, report.summary_lines()
    [r] = rejects(DataDir(tmp_path / "data"))
    assert r["reason"].startswith("malformed CSV line")


def test_an_unexpected_error_in_one_drop_rejects_it_and_names_the_log(tmp_path, monkeypatch):
    """A bug met while building one drop (here: a build step that raises) is that drop's
    rejection, with the traceback in logs/errors.log; the next drop still loads."""
    real = loader.build_student_facts

    def broken(con, day):
        if str(day) == OLD:
            raise KeyError("planted bug")
        return real(con, day)

    monkeypatch.setattr(loader, "build_student_facts", broken)
    folder = tmp_path / "in"
    make_drop(OLD).write(folder)
    make_drop(NEW).write(folder)
    dd = DataDir(tmp_path / "data")
    report = ingest(dd, folder)
    assert report.exit_code == 1
    old, new = report.outcomes
    assert (old.status, new.status) == ("rejected", "loaded")
    log = dd.logs / "errors.log"
    assert f"an unexpected error stopped this drop (KeyError: 'planted bug'); the details are " \
           f"in {log}." in old.message
    assert old.quarantine is not None and (old.quarantine / "REASON.txt").exists()
    text = log.read_text()
    assert "Traceback" in text and "planted bug" in text and "loading drop 2026-11-13" in text


def test_a_full_disk_rejects_the_drop_with_what_to_do(tmp_path, monkeypatch):
    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(loader.reader, "hash_and_keep", full)
    report, dd = load(tmp_path, make_drop(NEW))
    message = _rejected(report)
    assert "the disk is full (OSError: [Errno 28] No space left on device). Free space " \
           f"where {dd.root} lives, then load the drop again." in message
    assert not read_manifest(dd).drops and tree(dd.raw) == {}


def test_a_bug_outside_a_drop_prints_one_line_naming_the_log(tmp_path, monkeypatch, capsys):
    from ccgi_dash import cli, status

    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(status, "status_lines", broken)
    code = cli.main(["status", "--data-dir", str(tmp_path / "data")])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    log = tmp_path / "data" / "logs" / "errors.log"
    assert err.splitlines() == [
        f"error: status failed unexpectedly (ZeroDivisionError: planted); the traceback is "
        f"in {log}. Data already loaded is unchanged."]
    assert "Traceback" in log.read_text() and "ZeroDivisionError: planted" in log.read_text()


def test_an_orphan_changes_no_metric(tmp_path):
    """Issue 10: orphan rows (a student not on the roster) in every file that can hold one
    are rejected and counted nowhere: every metric, county-wide and by district, is the same
    with and without them."""
    from ccgi_dash import metrics
    from ccgi_dash.scope import Scope
    from ccgi_dash.store import Warehouse

    clean = make_drop(NEW)
    dirty = clean.copy()
    orphan = "9999999990"
    dirty.tables["fafsa_cadaa"].append({"ssid": orphan, "application_type": "FAFSA",
                                        "status": "Completed", "submitted_date": "2026-10-02",
                                        "completed_date": "2026-10-09"})
    for name in ("uc_apply", "csu_apply", "ccc_apply"):
        row = dict(dirty.tables[name][0], ssid=orphan)
        dirty.tables[name].append(row)
    for name in ("favorite_colleges", "favorite_careers", "favorite_majors",
                 "career_assessments", "ag_eligibility"):
        dirty.tables[name].append(dict(dirty.tables[name][0], ssid=orphan))
    a, dd_clean = load(tmp_path / "clean", clean)
    b, dd_dirty = load(tmp_path / "dirty", dirty, LENIENT)
    assert a.exit_code == 0 and b.exit_code == 0, b.summary_lines()
    orphans = [r for r in rejects(dd_dirty) if r["ssid"] == orphan]
    assert {r["dataset"] for r in orphans} == set(DATASET_NAMES) - {"students"}
    assert all(r["reason"].startswith("orphan:") for r in orphans)
    with contextlib.closing(Warehouse(dd_clean)) as w1, \
            contextlib.closing(Warehouse(dd_dirty)) as w2:
        for metric in metrics.METRICS:
            for by in ((), ("district",)):
                want = metrics.compute(w1, Scope.county(), metric, by)
                got = metrics.compute(w2, Scope.county(), metric, by)
                assert got.equals(want), (metric, by)
