"""The data clean-up report finds each planted fault in a hand-made drop, and nothing in a
clean one."""

from __future__ import annotations

import pytest

from ccgi_dash import quality
from ccgi_dash.scope import Scope
from ccgi_dash.store import DataDir, Warehouse

from dropkit import ingest, make_drop, settings

CLOSED_SCHOOL = "19647251995851"  # Juan Rodriguez Cabrillo High: Closed in CDE's directory


def clean_drop():
    """A drop with nothing to clean: grades fit the high schools, every group reported."""
    drop = make_drop("2026-11-20", students=140)
    for row in drop.tables["students"]:
        grade = int(row["grade_level"])
        row["grade_level"] = str(grade if grade >= 9 else grade + 3)
        row["foster_youth"] = "N"
        row["el_status"] = row["el_status"] or "EO"
    return drop


def load(tmp_path, drop, **ingest_settings) -> Warehouse:
    folder = tmp_path / "drop"
    drop.write(folder)
    dd = DataDir(tmp_path / "data")
    report = ingest(dd, folder, config=settings(**ingest_settings))
    assert report.exit_code == 0, report.summary_lines()
    return Warehouse(dd)


def test_a_clean_drop_has_no_findings(tmp_path):
    wh = load(tmp_path, clean_drop())
    assert quality.cleanup_findings(wh, Scope.county()).empty


@pytest.fixture
def faulty(tmp_path):
    drop = clean_drop()
    students = drop.tables["students"]
    by_ssid = {r["ssid"]: r for r in students}
    # 1. a malformed SSID on the roster
    bad = dict(students[0], ssid="12345")
    students.append(bad)
    # 2. one SSID at two schools
    twin = dict(students[1], school_cds="19647251935758" if students[1]["school_cds"]
                != "19647251935758" else "19647251934678")
    students.append(twin)
    # 3. a grade 7 student at a high school
    students[2]["grade_level"] = "7"
    # 4. a school CDE does not know
    students[3]["school_cds"] = "19647259999999"
    students[3]["school_name"] = "Nowhere High"
    # 4b. a school CDE lists as closed
    students[4]["school_cds"] = CLOSED_SCHOOL
    students[4]["school_name"] = "Cabrillo High"
    # 5. FAFSA completed with no submitted date; 6. completed before submitted
    completed = [r for r in drop.tables["fafsa_cadaa"] if r["status"] == "Completed"]
    completed[0]["submitted_date"] = ""
    completed[1]["submitted_date"], completed[1]["completed_date"] = "2026-11-01", "2026-10-01"
    # 7. a UC application submitted with no date
    submitted = [r for r in drop.tables["uc_apply"] if r["status"] == "Submitted"]
    submitted[0]["submitted_date"] = ""
    # 8. a-g Eligible in grade 10
    tenth = next(r for r in drop.tables["ag_eligibility"]
                 if by_ssid[r["ssid"]]["grade_level"] in ("10", "11"))
    tenth["uc_status"] = "Eligible"
    # 9. a district that never reports migrant status
    for r in students:
        if r["school_cds"].startswith("1964733"):
            r["migrant"] = ""
    wh = load(tmp_path, drop, max_reject_rate=0.05)
    return wh, {"bad": bad, "twin": twin, "grade7": students[2], "nowhere": students[3],
                "completed": completed, "uc": submitted[0], "tenth": tenth}


def test_each_planted_fault_is_found(faulty):
    wh, planted = faulty
    f = quality.cleanup_findings(wh, Scope.county())

    def rows(check):
        return f[f["check"] == check]

    assert rows("ssid_malformed")["ssid"].tolist() == ["12345"]
    twin = rows("ssid_two_schools")
    assert twin["ssid"].tolist() == [planted["twin"]["ssid"]]
    assert twin["school_cds"].tolist() == [planted["twin"]["school_cds"]]
    g7 = rows("grade_outside_school")
    assert g7["ssid"].tolist() == [planted["grade7"]["ssid"]]
    assert "Grade 7" in g7["detail"].iloc[0] and g7["line"].iloc[0] > 1
    assert rows("school_not_in_directory")["school_cds"].tolist() == ["19647259999999"]
    assert rows("school_closed")["school_cds"].tolist() == [CLOSED_SCHOOL]
    assert rows("completed_without_submitted")["ssid"].tolist() == [
        planted["completed"][0]["ssid"]]
    assert rows("completed_before_submitted")["ssid"].tolist() == [
        planted["completed"][1]["ssid"]]
    assert rows("submitted_without_date")["ssid"].tolist() == [planted["uc"]["ssid"]]
    assert rows("eligible_below_grade_12")["ssid"].tolist() == [planted["tenth"]["ssid"]]
    never = rows("subgroup_never_reported")
    assert never["district_code"].tolist() == ["1964733"]
    assert "migrant" in never["detail"].iloc[0]
    assert set(f["check"]) <= set(quality.CHECKS)


def test_a_district_sees_only_its_own_findings(faulty):
    wh, _ = faulty
    f = quality.cleanup_findings(wh, Scope("district", districts=("1964733",),
                                           student_level=True))
    assert set(f["district_code"]) == {"1964733"}
    summary = quality.cleanup_summary(f)
    assert set(summary["District"]) == {"Los Angeles Unified"}


# --- Findings per district as counts, for the coordinator (issue 11, item 11) ---------------

LONG_BEACH, LOS_ANGELES = "1964725", "1964733"
COORDINATOR = Scope("coe", all_districts=True, student_level=False)


def _hand_counts(drop) -> dict[str, dict[str, int]]:
    """The counts computed from the drop's rows in plain Python, check by check."""
    students = drop.tables["students"]
    district_of = {r["ssid"]: r["school_cds"][:7] for r in students}
    out: dict[str, dict[str, int]] = {d: dict.fromkeys(quality.CHECKS, 0)
                                      for d in set(district_of.values())}
    columns = ("gender", "race_ethnicity", "el_status", "sed", "swd", "foster_youth",
               "homeless", "migrant")
    for d, counts in out.items():
        rows = [r for r in students if r["school_cds"][:7] == d]
        counts["subgroup_never_reported"] = sum(all(r[c] == "" for r in rows) for c in columns)
        # Every school of the drop is a high school (grades 9-12).
        counts["grade_outside_school"] = sum(int(r["grade_level"]) < 9 for r in rows)
    for ds in ("fafsa_cadaa", "uc_apply", "csu_apply", "ccc_apply"):
        for r in drop.tables[ds]:
            if r["status"] == "Submitted" and r["submitted_date"] == "":
                out[district_of[r["ssid"]]]["submitted_without_date"] += 1
    return out


@pytest.fixture
def no_gender(tmp_path):
    """A clean drop, except that Los Angeles Unified sends no gender for anyone and two of
    Long Beach's UC applications say Submitted without a date."""
    drop = clean_drop()
    for r in drop.tables["students"]:
        if r["school_cds"][:7] == LOS_ANGELES:
            r["gender"] = ""
    lb = {r["ssid"] for r in drop.tables["students"] if r["school_cds"][:7] == LONG_BEACH}
    submitted = [r for r in drop.tables["uc_apply"]
                 if r["status"] == "Submitted" and r["ssid"] in lb]
    for r in submitted[:2]:
        r["submitted_date"] = ""
    return load(tmp_path, drop), drop


def test_counts_per_district_match_a_hand_count(no_gender):
    wh, drop = no_gender
    counts = quality.cleanup_counts(wh, COORDINATOR)
    assert list(counts.columns) == quality.COUNT_COLUMNS
    assert "ssid" not in counts.columns
    assert counts["district_code"].tolist() == [LONG_BEACH, LOS_ANGELES]  # sorted by name
    assert counts["district_name"].tolist() == ["Long Beach Unified", "Los Angeles Unified"]
    expected = _hand_counts(drop)
    for row in counts.to_dict("records"):
        want = expected[row["district_code"]]
        assert {c: row[c] for c in quality.CHECKS} == want, row["district_code"]
        assert row["total"] == sum(want.values())
    la = counts.set_index("district_code").loc[LOS_ANGELES]
    assert la["subgroup_never_reported"] == 1  # gender, and nothing else
    lb = counts.set_index("district_code").loc[LONG_BEACH]
    assert lb["submitted_without_date"] == 2 and lb["subgroup_never_reported"] == 0


def test_counts_agree_with_the_findings_report(no_gender):
    wh, _ = no_gender
    counts = quality.cleanup_counts(wh, COORDINATOR).set_index("district_code")
    findings = quality.cleanup_findings(wh, Scope.county())
    per = findings.groupby(["district_code", "check"]).size()
    for (district, check), n in per.items():
        assert counts.at[district, check] == n
    assert counts["total"].sum() == len(findings)


def test_a_clean_drop_counts_zero_for_every_district(tmp_path):
    wh = load(tmp_path, clean_drop())
    counts = quality.cleanup_counts(wh, COORDINATOR)
    assert counts["district_code"].tolist() == [LONG_BEACH, LOS_ANGELES]
    assert (counts[[*quality.CHECKS, "total"]] == 0).all().all()
    assert list(quality.counts_table(counts).columns) == ["District", "Total"]


def test_counts_keep_to_the_scope(no_gender):
    wh, _ = no_gender
    mine = quality.cleanup_counts(wh, Scope("district", districts=(LOS_ANGELES,)))
    assert mine["district_code"].tolist() == [LOS_ANGELES]
    assert mine["subgroup_never_reported"].tolist() == [1]
    assert quality.cleanup_counts(wh, Scope("district")).empty
    table = quality.counts_table(mine)
    assert list(table.columns) == ["District", "Student-group field never reported", "Total"]
    assert table.iloc[0].tolist() == ["Los Angeles Unified", 1, 1]


@pytest.mark.parametrize(("name", "grades"), [
    ("Reedley Middle College High", (9, 12)),
    ("Baird Middle", (6, 8)),
    ("Rafer Johnson Junior High", (6, 8)),
    ("Dewolf Continuation High", (9, 12)),
    ("Carver Academy", None),
])
def test_school_grades_from_the_name(name, grades):
    assert quality.school_grades(name) == grades
