"""The Python half of reading a drop: names, zips, sniffing the first bytes, headers.

These are pure functions over names and bytes, so most tests need no files at all.
"""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from ccgi_dash import reader
from ccgi_dash.datasets import DATASET_NAMES, DATASETS
from tests.dropkit import make_drop

DAY = date(2026, 11, 20)


# --------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize("name,dataset", [
    ("students_20261120.csv", "students"),
    ("STUDENTS_20261120.CSV", "students"),
    ("Fafsa_Cadaa_20261120.csv", "fafsa_cadaa"),
    ("ag_eligibility_20261120.csv", "ag_eligibility"),
])
def test_names_following_the_rule_give_date_and_dataset(name, dataset):
    assert reader.classify_name(name) == (DAY, dataset, None)


def test_a_dated_name_with_an_unknown_dataset_is_a_fault_of_that_drop():
    day, dataset, fault = reader.classify_name("fafsa_status_20261120.csv")
    assert (day, dataset) == (DAY, None)
    assert "fafsa_status_20261120.csv" in fault and "mislabeled" in fault
    assert all(n in fault for n in DATASET_NAMES)


@pytest.mark.parametrize("name", ["students_20261120 (1).csv", "students-20261120.csv",
                                  "students_20261120.txt"])
def test_a_dated_name_breaking_the_rule_is_a_fault_of_that_drop(name):
    day, dataset, fault = reader.classify_name(name)
    assert day == DAY and dataset is None
    assert name in fault and "<dataset>_<YYYYMMDD>.csv" in fault


@pytest.mark.parametrize("name", ["students.csv", "students_2026-11-20.csv",
                                  "students_20261340.csv", "roster_2026.csv"])
def test_names_without_a_recognisable_date_belong_to_no_drop(name):
    assert reader.classify_name(name) == (None, None, None)


# --------------------------------------------------------------------------------------------
# Discovery


def test_a_folder_is_scanned_flat_ignoring_hidden_and_unrelated_files(tmp_path):
    make_drop(DAY).write(tmp_path)
    (tmp_path / ".students_20261120.csv").write_text("hidden")
    (tmp_path / "README.txt").write_text("notes")
    (tmp_path / "sub").mkdir()
    make_drop("2026-11-27").write(tmp_path / "sub")
    found = reader.discover([tmp_path])
    assert found.problems == []
    assert [d.day for d in found.drops] == [DAY]
    drop = found.drops[0]
    assert sorted(drop.by_dataset()) == sorted(DATASET_NAMES)
    assert drop.faults == [] and drop.missing() == []


def test_drops_come_oldest_first_and_group_by_date(tmp_path):
    make_drop("2026-11-27").write(tmp_path / "b")
    make_drop("2026-11-20").write(tmp_path / "a")
    found = reader.discover([tmp_path / "b", tmp_path / "a"])
    assert [d.day for d in found.drops] == [date(2026, 11, 20), date(2026, 11, 27)]


def test_a_csv_without_a_date_is_a_problem_naming_the_rule(tmp_path):
    (tmp_path / "students.csv").write_text("ssid\n")
    found = reader.discover([tmp_path])
    assert found.drops == []
    assert found.problems == [
        "students.csv: cannot tell which drop it belongs to; rename it <dataset>_<YYYYMMDD>.csv "
        "(for example students_20261120.csv) or ccgi_drop_<YYYYMMDD>.zip."]


def test_an_explicit_non_csv_file_is_a_problem(tmp_path):
    p = tmp_path / "notes.docx"
    p.write_bytes(b"x")
    found = reader.discover([p])
    assert "not a CSV file or a drop zip" in found.problems[0]


def test_missing_datasets_are_listed_unless_not_received(tmp_path):
    make_drop(DAY).write(tmp_path, skip=("uc_apply", "ccc_apply"))
    drop = reader.discover([tmp_path]).drops[0]
    assert drop.missing() == ["uc_apply", "ccc_apply"]
    assert drop.missing(("uc_apply", "ccc_apply")) == []


def test_two_files_for_one_dataset_reject_the_drop(tmp_path):
    make_drop(DAY).write(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Students_20261120.csv").write_text("x")
    drop = reader.discover([tmp_path / "a", tmp_path / "b"]).drops[0]
    assert any(f.startswith("two files for students") for f in drop.faults)


def test_zip_members_at_any_depth_join_the_zips_drop(tmp_path):
    z = make_drop(DAY).write_zip(tmp_path, prefix="export/2026/")
    with zipfile.ZipFile(z, "a") as zf:
        zf.writestr("__MACOSX/export/._students_20261120.csv", "junk")
        zf.writestr("export/.DS_Store", "junk")
    found = reader.discover([z])
    drop = found.drops[0]
    assert drop.faults == [] and drop.sources == [z]
    assert drop.by_dataset()["students"].member == "export/2026/students_20261120.csv"


@pytest.mark.parametrize("member,expected", [
    ("students_20261127.csv", "is not the zip's date 20261120"),
    ("readme.txt", "may only hold files named"),
    ("fafsa_status_20261120.csv", "is not one of the ten CCGI datasets"),
])
def test_zip_members_must_follow_the_rule_and_carry_the_zips_date(tmp_path, member, expected):
    z = make_drop(DAY).write_zip(tmp_path)
    with zipfile.ZipFile(z, "a") as zf:
        zf.writestr(member, "ssid\n")
    drop = reader.discover([z]).drops[0]
    assert len(drop.faults) == 1 and expected in drop.faults[0]
    assert member in drop.faults[0]


def test_a_bad_zip_is_a_fault_of_its_drop(tmp_path):
    z = tmp_path / "ccgi_drop_20261120.zip"
    z.write_bytes(b"this is not a zip")
    drop = reader.discover([z]).drops[0]
    assert drop.day == DAY
    assert drop.faults[0].startswith("ccgi_drop_20261120.zip: not a readable zip file")


def test_a_drop_offered_as_zip_and_loose_files_is_refused(tmp_path):
    d = make_drop(DAY)
    d.write_zip(tmp_path)
    d.write(tmp_path, skip=tuple(n for n in DATASET_NAMES if n != "students"))
    drop = reader.discover([tmp_path]).drops[0]
    assert any("both as a zip" in f for f in drop.faults)


# --------------------------------------------------------------------------------------------
# Sniffing


@pytest.mark.parametrize("head,fault", [
    (b"", "has no data in it (the file is empty, 0 bytes)"),
    (b"\n\n  \n", "has no data in it (only blank lines)"),
    (b"ssid,school_cds\x00\x01\x02", "contains binary data (NUL bytes)"),
    (b"PK\x03\x04\x14\x00rest", "Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1", "old Excel workbook (.xls)"),
    (b"\xff\xfes\x00s\x00", "UTF-16 text"),
    (b"ssid;school_cds;grade_level\n1;2;3\n", "has semicolons (;) between its columns"),
    (b"ssid\tschool_cds\tgrade_level\n1\t2\t3\n", "has tabs between its columns"),
    (b"ssid|school_cds\n1|2\n", "has vertical bars (|) between its columns"),
    (b"ssid,school_cds\n", "has a header line but no data rows"),
    (b"ssid,school_cds\r\n\r\n\r\n", "has a header line but no data rows"),
])
def test_sniff_recognises_what_is_not_a_loadable_csv(head, fault):
    got = reader.sniff(head, complete=True)
    assert got.fault is not None and fault in got.fault


def test_wrong_delimiter_message_says_ccgi_files_are_comma_separated():
    got = reader.sniff(b"ssid;school_cds\n1;2\n", complete=True)
    assert "CCGI files are comma-separated" in got.fault


def test_sniff_reads_the_header_after_a_bom():
    got = reader.sniff(b"\xef\xbb\xbfSSID , School_CDS\r\n1,2\r\n", complete=True)
    assert got.fault is None and got.bom and got.encoding == "utf-8"
    assert got.header == ("SSID", "School_CDS")


def test_sniff_falls_back_to_cp1252_for_bytes_that_are_not_utf8():
    got = reader.sniff("ssid,last_name\n1,Muñoz\n".encode("cp1252"), complete=True)
    assert got.fault is None and got.encoding == "cp1252"


def test_a_utf8_character_cut_at_the_end_of_the_head_is_not_an_encoding_error():
    head = b"ssid,last_name\n1,Mu" + "ñ".encode()[:1]
    assert reader.sniff(head, complete=False).encoding == "utf-8"


def test_a_quoted_header_is_parsed_as_csv():
    got = reader.sniff(b'"ssid","campus, name"\n1,2\n', complete=True)
    assert got.header == ("ssid", "campus, name")


# --------------------------------------------------------------------------------------------
# Headers


def test_headers_match_case_insensitively_in_any_order_with_extras():
    m = reader.match_header("uc_apply", ["  Status", "CAMPUS", "Notes", "ssid"])
    assert m.positions == {"status": 0, "campus": 1, "ssid": 3}
    assert m.extras == ("Notes",) and m.missing == ()
    assert m.read_columns() == {"status": "VARCHAR", "campus": "VARCHAR",
                                "_extra2": "VARCHAR", "ssid": "VARCHAR"}


def test_missing_required_columns_are_listed():
    m = reader.match_header("students", ["ssid", "grade_level"])
    assert m.missing == ("school_cds", "school_year")


def test_column_map_names_the_header_a_coe_uses():
    cmap = {"ssid": "SSID", "school_cds": "CDSCode", "grade_level": "Grade"}
    m = reader.match_header("students", ["CDSCode", "grade", "ssid", "school_year"], cmap)
    assert m.positions == {"ssid": 2, "school_cds": 0, "grade_level": 1, "school_year": 3}
    assert m.missing == ()


def test_a_repeated_header_keeps_the_first_and_ignores_the_rest():
    m = reader.match_header("favorite_majors", ["ssid", "major_name", "SSID"])
    assert m.positions["ssid"] == 0 and m.extras == ("SSID",)


def test_looks_like_names_the_dataset_a_header_belongs_to():
    header = DATASETS["ag_eligibility"].names
    assert reader.looks_like(header, {}, "students") == ["ag_eligibility"]
    apply = DATASETS["uc_apply"].names
    assert reader.looks_like(apply, {}, "students") == ["uc_apply", "csu_apply", "ccc_apply"]


# --------------------------------------------------------------------------------------------
# Bytes


def test_rewrite_transcodes_cp1252_and_fixes_mixed_line_ends(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(b"a,b\r\n1,Mu\xf1oz \x93q\x94\n2,x\r\n")
    dst = tmp_path / "out.csv"
    reader.rewrite(src, dst, encoding="cp1252", newlines=True)
    assert dst.read_text(encoding="utf-8") == "a,b\n1,Muñoz “q”\n2,x\n"


def test_rewrite_keeps_a_crlf_split_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "CHUNK", 4)
    src = tmp_path / "in.csv"
    src.write_bytes(b"abc\r\ndef\r\n")
    dst = tmp_path / "out.csv"
    reader.rewrite(src, dst, newlines=True)
    assert dst.read_bytes() == b"abc\ndef\n"


def test_zip_members_hash_like_the_same_files_loose(tmp_path):
    d = make_drop(DAY)
    files = d.write(tmp_path / "loose")
    z = d.write_zip(tmp_path / "zipped")
    drop = reader.discover([z]).drops[0]
    extracted, sha = reader.extract_members(list(drop.by_dataset().values()), tmp_path / "x")
    assert sha == reader.hash_files(sorted(files.values(), key=lambda p: p.name))
    assert extracted["students"].read_bytes() == files["students"].read_bytes()


def test_files_keep_their_line_numbers_in_dropkit(tmp_path: Path):
    """The helper's promise every line-number assertion relies on: row i is on line i + 2."""
    d = make_drop(DAY)
    lines = d.write(tmp_path)["students"].read_text().splitlines()
    assert lines[5 - 1].startswith(d.tables["students"][3]["ssid"])


def test_sniff_keeps_the_first_record_only_when_the_head_holds_all_of_it():
    assert reader.sniff(b"ssid,x\n\n 0000000001 ,a\n2,b\n", complete=True).first_row == (
        " 0000000001 ", "a")
    assert reader.sniff(b"ssid,x\n0000000001,a", complete=False).first_row is None
    assert reader.sniff(b"ssid,x\n0000000001,a\n2,", complete=False).first_row == (
        "0000000001", "a")
