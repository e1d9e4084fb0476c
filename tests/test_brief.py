"""The one-page brief: read back from the PDF, checked against ``export`` and the scope."""

from __future__ import annotations

import contextlib
import io
import re
from datetime import date

import pypdf
import pytest

from ccgi_dash import brief
from ccgi_dash.accounts import audit as account_audit
from ccgi_dash.accounts import passwords, users
from ccgi_dash.cli import main
from ccgi_dash.metrics import Filters, Request
from ccgi_dash.scope import Scope
from ccgi_dash.settings import parse_settings
from ccgi_dash.store import Warehouse
from tests.conftest import FRESNO_UNIFIED, PASSWORD, export_rows

SETTINGS = parse_settings({"goals": {"aid_completed": {"goal": "65%"}}})


def req(scope: Scope, district: str | None = None, school: str | None = None) -> Request:
    """The request of a view of one district (or school), latest drop, threshold 11."""
    return Request(scope, Filters(districts=(district,) if district else (),
                                  schools=(school,) if school else ()), None, 11)


def pdf_text(data: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


def figures(node: object, out: list) -> list:
    """Every /Figure structure element of a tagged PDF, with its /Alt text."""
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, pypdf.generic.ArrayObject):
        for kid in node:
            figures(kid, out)
    elif isinstance(node, pypdf.generic.DictionaryObject):
        if node.get("/S") == "/Figure":
            out.append(str(node.get("/Alt", "")))
        if "/K" in node:
            figures(node["/K"], out)
    return out


def pct(row: dict) -> str:
    return f"{row['numerator'] / row['denominator'] * 100:.1f}%"


@pytest.fixture(scope="module")
def district_pdf(demo_data) -> bytes:
    with contextlib.closing(Warehouse(demo_data)) as wh:
        return brief.brief_pdf(wh, req(Scope.county("demo"), FRESNO_UNIFIED), SETTINGS)


def test_one_tagged_letter_page_with_title_language_and_alt_text(district_pdf):
    reader, text = pdf_text(district_pdf)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # Letter
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert str(root["/Lang"]).startswith("en")
    assert "Fresno Unified" in reader.metadata.title
    alts = figures(root["/StructTreeRoot"], [])
    assert len(alts) == 2 and all(len(a) > 40 for a in alts)
    assert "Synthetic data" in text  # a demo brief says so


def test_headline_numbers_equal_export(demo_data, district_pdf):
    _, text = pdf_text(district_pdf)
    assert "Fresno Unified" in text
    for metric in brief.HEADLINE_METRICS:
        rows = export_rows(demo_data, "--metric", metric, "--by", "district")
        row = next(r for r in rows if r["district"] == FRESNO_UNIFIED)
        assert not row["suppressed"]
        expected = f"{pct(row)} {row['numerator']:,} of {row['denominator']:,}"
        assert expected in text, (metric, expected)
    assert "65% by Mar 2" in text  # the goal


def test_follow_up_counts_are_counts_from_the_same_drop(demo_data, district_pdf):
    _, text = pdf_text(district_pdf)
    where = ["--where", f"district={FRESNO_UNIFIED}"]
    sub = export_rows(demo_data, "--metric", "aid_submitted", *where)[0]
    opted = export_rows(demo_data, "--metric", "aid_opted_out", *where)[0]
    # seniors with neither a submitted FAFSA/CADAA nor an opt-out, worked out from export
    no_aid = sub["denominator"] - sub["numerator"] - opted["numerator"]
    assert f"Seniors with no FAFSA/CADAA and no opt-out {no_aid:,}" in text
    accounts = export_rows(demo_data, "--metric", "account_registered", *where)[0]
    no_account = accounts["denominator"] - accounts["numerator"]
    assert re.search(rf"Students without a CaliforniaColleges.edu\s+account\s+{no_account:,}",
                     text)


def test_a_district_brief_shows_nothing_of_another_district(demo_data):
    scope = Scope("district", districts=(FRESNO_UNIFIED,), student_level=True,
                  dataset="demo", user="dora")
    with contextlib.closing(Warehouse(demo_data)) as wh:
        _, text = pdf_text(brief.brief_pdf(wh, req(scope), SETTINGS))
    assert "Fresno Unified" in text
    districts = export_rows(demo_data, "--metric", "aid_completed", "--by", "district")
    others = {r["district_name"] for r in districts if r["district"] != FRESNO_UNIFIED}
    schools = export_rows(demo_data, "--metric", "aid_completed", "--by", "school")
    mine = {r["school_name"] for r in schools if r["school"].startswith(FRESNO_UNIFIED)}
    other_schools = {r["school_name"] for r in schools
                     if not r["school"].startswith(FRESNO_UNIFIED)} - mine
    flat = re.sub(r"\s+", " ", text)
    leaked = sorted(n for n in others | other_schools if n in flat)
    assert leaked == []


def test_a_district_leader_cannot_brief_another_district(demo_data):
    scope = Scope("district", districts=(FRESNO_UNIFIED,), student_level=True,
                  dataset="demo", user="dora")
    other = next(r["district"] for r in export_rows(demo_data, "--metric", "aid_completed",
                                                      "--by", "district")
                 if r["district"] != FRESNO_UNIFIED)
    with contextlib.closing(Warehouse(demo_data)) as wh:
        with pytest.raises(brief.BriefScopeError, match=f"only its own districts.*not {other}"):
            brief.brief_data(wh, req(scope, other), SETTINGS)
        with pytest.raises(brief.BriefError, match="not in district"):
            brief.brief_data(wh, req(Scope.county(), FRESNO_UNIFIED, "19647251934678"),
                             SETTINGS)


def test_a_school_brief_takes_its_row_of_the_districts_school_table(demo_data):
    rows = export_rows(demo_data, "--metric", "aid_completed", "--by", "school",
                       "--where", f"district={FRESNO_UNIFIED}")
    row = max((r for r in rows if not r["suppressed"]), key=lambda r: r["denominator"])
    with contextlib.closing(Warehouse(demo_data)) as wh:
        reader, text = pdf_text(brief.brief_pdf(
            wh, req(Scope.county("demo"), FRESNO_UNIFIED, row["school"]), SETTINGS))
    assert len(reader.pages) == 1
    assert f"{row['school_name']}, Fresno Unified" in re.sub(r"\s+", " ", text)
    assert f"{pct(row)} {row['numerator']:,} of {row['denominator']:,}" in text


def test_cli_brief_writes_the_pdf_audits_and_refuses_another_district(live_env, tmp_path,
                                                                       capsys):
    out = tmp_path / "brief.pdf"
    assert main(["brief", "--data-dir", str(live_env.root), "--district", FRESNO_UNIFIED,
                 "--out", str(out)]) == 0
    reader, text = pdf_text(out.read_bytes())
    assert len(reader.pages) == 1 and "Fresno Unified" in text
    assert "Synthetic" not in text  # the live data directory is not marked as a demo
    record = account_audit.read_audit(live_env, 5)[0]
    assert record["action"] == "brief_export"
    assert f"district={FRESNO_UNIFIED}" in record["what"]
    # as a district leader of another district: refused by name, exit 1, nothing written
    users.add_user(users.users_file_path(), "lena", name="Lena", role="district",
                  password_hash=passwords.hash_password(PASSWORD), districts=("1062117",))
    denied = tmp_path / "denied.pdf"
    assert main(["brief", "--data-dir", str(live_env.root), "--district", FRESNO_UNIFIED,
                 "--user", "lena", "--out", str(denied)]) == 1
    assert "may brief only its own districts (1062117)" in capsys.readouterr().err
    assert not denied.exists()


def test_a_rate_over_a_hidden_count_is_hidden_in_the_brief(tmp_path):
    """Issue 14's case: Monrovia has 7 seniors, so `export --by district` hides its count of
    UC-eligible seniors and, as the complement, Los Angeles Unified's. The brief of Los
    Angeles Unified must not show that count as the population of "UC-eligible seniors who
    applied to UC", nor the rate over it."""
    from tests.dropkit import load, make_drop

    drop = make_drop("2026-11-20", students=560,
                     schools=("19647251934678", "19647251935758", "19647331930387",
                              "19647901935923"))
    monrovia = [s for s in drop.tables["students"]
                if s["school_cds"] == "19647901935923" and s["grade_level"] == "12"]
    for s in monrovia[7:]:  # 20 seniors -> 7
        s["grade_level"] = "11"
    la = {s["ssid"] for s in drop.tables["students"]
          if s["school_cds"] == "19647331930387" and s["grade_level"] == "12"}
    for r in drop.tables["ag_eligibility"]:  # all 20 LA seniors UC-eligible: a group of 20
        if r["ssid"] in la:
            r["uc_status"] = "Eligible"
    report, dd = load(tmp_path, drop)
    assert report.exit_code == 0, report.summary_lines()
    rows = {r["district"]: r for r in export_rows(dd, "--metric", "uc_eligible", "--by",
                                                  "district")}
    assert rows["1964790"]["suppressed"] and rows["1964733"]["suppressed"]
    hidden_count = next(r for r in export_rows(dd, "--metric", "uc_eligible", "--by",
                                               "district", "--raw")
                        if r["district"] == "1964733")["numerator"]
    applied = {r["district"]: r for r in export_rows(dd, "--metric", "uc_eligible_applied",
                                                     "--by", "district")}
    assert hidden_count == 20
    # suppress_metric hides the population where the parent count is hidden: export too
    assert applied["1964733"]["denominator"] is None and applied["1964733"]["suppressed"]
    settings = parse_settings({"goals": {"uc_eligible_applied": {"goal": "50%"}}})
    with contextlib.closing(Warehouse(dd)) as wh:
        data = brief.brief_data(wh, req(Scope.county(), "1964733"), settings)
        _, text = pdf_text(brief.brief_pdf(wh, req(Scope.county(), "1964733"), settings))
    line = next(h for h in data.headlines if h.metric_id == "uc_eligible_applied")
    assert line.suppressed and line.rate_text == "*" and line.count_text == "*"
    assert line.pace is not None and line.pace.at_deadline is not None
    assert line.pace.at_deadline.rate is None
    assert f"of {hidden_count}" not in text


def test_brief_for_a_page_view_picks_the_district_or_school_of_its_filters(demo_data):
    scope = Scope("district", districts=(FRESNO_UNIFIED,), student_level=True,
                  dataset="demo", user="dora")
    assert brief.view_of(scope, Filters()) == (FRESNO_UNIFIED, None)
    assert brief.view_of(Scope.county(), Filters()) == (None, None)
    assert brief.view_of(Scope.county(), Filters(schools=("10621661031897",))) == (
        FRESNO_UNIFIED, "10621661031897")
    with contextlib.closing(Warehouse(demo_data)) as wh:
        pdf, name, what = brief.brief_for_view(wh, req(scope), SETTINGS)
        with pytest.raises(brief.BriefError, match="one district"):
            brief.brief_for_view(wh, Request(Scope.county("demo"), Filters(
                districts=(FRESNO_UNIFIED, "1062117")), None, 11), SETTINGS)
    assert pdf.startswith(b"%PDF") and name == f"brief-{FRESNO_UNIFIED}-2026-11-20.pdf"
    assert what == f"brief as_of=2026-11-20 district={FRESNO_UNIFIED}"


# --- the page's grade and student-group filters ----------------------------------------------

NARROW = ["--where", "grade_level=12", "--where", "sed=Y"]
"""Grade 12, socioeconomically disadvantaged: a group large enough in Fresno Unified for its
rates to be shown (the issue's example, grade 12 foster youth, is hidden there: checked below)."""


def test_a_filtered_brief_equals_export_with_the_same_filters(live_env, tmp_path):
    out = tmp_path / "narrow.pdf"
    assert main(["brief", "--data-dir", str(live_env.root), "--district", FRESNO_UNIFIED,
                 "--grade", "12", "--group", "sed=Y", "--out", str(out)]) == 0
    reader, text = pdf_text(out.read_bytes())
    assert len(reader.pages) == 1
    # the filters are stated under the scope line, and in the title and the footer
    assert "Fresno Unified Students: Grade 12 · Socioeconomically disadvantaged" in text
    assert "(Grade 12 · Socioeconomically disadvantaged)" in reader.metadata.title
    for metric in brief.HEADLINE_METRICS:
        rows = export_rows(live_env, "--metric", metric, "--by", "district", *NARROW)
        row = next(r for r in rows if r["district"] == FRESNO_UNIFIED)
        assert not row["suppressed"]
        expected = f"{pct(row)} {row['numerator']:,} of {row['denominator']:,}"
        assert expected in text, (metric, expected)
    unfiltered = export_rows(live_env, "--metric", "aid_completed", "--by", "district")
    whole = next(r for r in unfiltered if r["district"] == FRESNO_UNIFIED)
    assert f"of {whole['denominator']:,}" not in text  # not the whole district's seniors
    # the schools' table: each school's row of the same filtered export
    schools = export_rows(live_env, "--metric", "aid_completed", "--by", "school",
                          "--where", f"district={FRESNO_UNIFIED}", *NARROW)
    big = max((r for r in schools if not r["suppressed"]), key=lambda r: r["denominator"])
    assert f"{big['school_name']} {big['denominator']} {pct(big)}" in text
    # the follow-up counts of the same students
    where = ["--where", f"district={FRESNO_UNIFIED}", *NARROW]
    sub = export_rows(live_env, "--metric", "aid_submitted", *where)[0]
    opted = export_rows(live_env, "--metric", "aid_opted_out", *where)[0]
    no_aid = sub["denominator"] - sub["numerator"] - opted["numerator"]
    assert f"Seniors with no FAFSA/CADAA and no opt-out {no_aid:,}" in text
    # the audit line records the filters
    record = account_audit.read_audit(live_env, 5)[0]
    assert record["action"] == "brief_export"
    assert "grade_level=12" in record["what"] and "sed=Y" in record["what"]


def test_a_small_filtered_group_reads_star_as_export_hides_it(demo_data):
    rows = export_rows(demo_data, "--metric", "aid_completed", "--by", "district",
                       "--where", "grade_level=12", "--where", "foster_youth=Y")
    row = next(r for r in rows if r["district"] == FRESNO_UNIFIED)
    assert row["suppressed"]
    view = Request(Scope.county("demo"), Filters(districts=(FRESNO_UNIFIED,), grades=(12,),
                                                 groups=(("foster_youth", ("Y",)),)), None, 11)
    with contextlib.closing(Warehouse(demo_data)) as wh:
        data = brief.brief_data(wh, view, SETTINGS)
        _, text = pdf_text(brief.pdf_of(data))
    assert data.key.rate_text == "*" and data.key.count_text == "*"
    assert "Students: Grade 12 · Foster youth" in text
    # no chart of nothing: the page says why instead
    assert "No chart: no week's completion rate of this view can be shown" in text


def test_a_grade_filter_outside_a_measures_population_says_so(demo_data):
    view = Request(Scope.county("demo"), Filters(districts=(FRESNO_UNIFIED,), grades=(9,)),
                   None, 11)
    with contextlib.closing(Warehouse(demo_data)) as wh:
        data = brief.brief_data(wh, view, SETTINGS)
        _, text = pdf_text(brief.pdf_of(data))
    by_id = {h.metric_id: h for h in data.headlines}
    assert by_id["aid_completed"].rate_text == "n/a"
    assert by_id["aid_completed"].not_applicable == ("counts seniors (grade 12); the filter "
                                                     "is grade 9")
    # accounts are of every grade: grade 9's own numbers, as export gives them
    rows = export_rows(demo_data, "--metric", "account_registered", "--by", "district",
                       "--where", "grade_level=9")
    row = next(r for r in rows if r["district"] == FRESNO_UNIFIED)
    assert f"{pct(row)} {row['numerator']:,} of {row['denominator']:,}" in text
    assert ("n/a: FAFSA/CADAA completed counts seniors (grade 12); the filter is grade 9"
            in text)
    assert ("Not shown for this view: FAFSA/CADAA completion counts seniors (grade 12); the "
            "filter is grade 9." in text)


def test_grade_and_group_options_are_checked_and_stated():
    f = brief.narrowing_filters([12], [("foster_youth", "Y")])
    assert f == Filters(grades=(12,), groups=(("foster_youth", ("Y",)),))
    assert brief.filters_text(f) == "Grade 12 · Foster youth"
    assert brief.filters_text(brief.narrowing_filters(
        [11, 12], [("race_ethnicity", "AS"), ("race_ethnicity", "FI"), ("sed", "N")])) == (
        "Grades 11-12 · Race/ethnicity: Asian, Filipino · Socioeconomically disadvantaged: No")
    assert brief.filters_text(Filters()) == ""
    # the grades of each population, read off its SQL in the catalogue
    assert brief.population_grades()["seniors"] == {12}
    assert brief.population_grades()["grades_9_11"] == {9, 10, 11}
    assert brief.population_grades()["all"] == set(range(6, 13))
    assert brief.outside_grades("uc_on_track", Filters(grades=(12,))) == (
        "counts students in grades 9-11; the filter is grade 12")
    assert brief.outside_grades("uc_on_track", Filters(grades=(11, 12))) is None
    with pytest.raises(brief.BriefError, match=r"unknown value 'Q' for foster_youth: choose "
                                               r"from Y \(Yes\), N \(No\), Not reported"):
        brief.narrowing_filters([], [("foster_youth", "Q")])
    with pytest.raises(brief.BriefError, match="unknown student group 'district'"):
        brief.narrowing_filters([], [("district", FRESNO_UNIFIED)])
    with pytest.raises(brief.BriefError, match="a grade is 6 to 12, not 13"):
        brief.narrowing_filters([13], [])
    assert brief.file_name(FRESNO_UNIFIED, None, date(2026, 11, 20), f) == (
        f"brief-{FRESNO_UNIFIED}-grade12-foster_youth-Y-2026-11-20.pdf")


def test_cli_refuses_an_unknown_group_with_exit_2_and_writes_nothing(live_env, tmp_path,
                                                                     capsys):
    out = tmp_path / "never.pdf"
    base = ["brief", "--data-dir", str(live_env.root), "--district", FRESNO_UNIFIED,
            "--out", str(out)]
    assert main([*base, "--group", "fosters=Y"]) == 2
    err = capsys.readouterr().err
    assert "unknown student group 'fosters'" in err and "foster_youth" in err
    assert main([*base, "--group", "foster_youth=maybe"]) == 2
    assert "unknown value 'maybe' for foster_youth" in capsys.readouterr().err
    assert main([*base, "--grade", "5"]) == 2
    assert "a grade is 6 to 12, not 5" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # argparse: no "=" at all
        main([*base, "--group", "foster_youth"])
    assert exc.value.code == 2
    assert "--group takes DIMENSION=VALUE" in capsys.readouterr().err
    assert not out.exists()


def test_many_goals_and_a_long_filter_line_still_fit_one_tagged_page(demo_data):
    """Each goal adds a headline row and a long filter line wraps: the page is set tighter
    (``brief.DENSITIES``) until it fits, keeping every headline."""
    settings = parse_settings({"goals": {m: {"goal": "40%"} for m in (
        "aid_completed", "uc_submitted", "csu_submitted", "ccc_submitted")}})
    narrow = brief.narrowing_filters([11, 12], [
        ("race_ethnicity", "HI"), ("race_ethnicity", "AI"), ("el_status", "EL"),
        ("el_status", "RFEP"), ("sed", "Y")])
    view = Request(Scope.county("demo"), Filters(districts=(FRESNO_UNIFIED,),
                                                 grades=narrow.grades, groups=narrow.groups),
                   None, 11)
    with contextlib.closing(Warehouse(demo_data)) as wh:
        data = brief.brief_data(wh, view, settings)
    assert len(pdf_text(brief.render_pdf(brief.brief_html(data)))[0].pages) > 1, (
        "the usual layout overflows: the case this test is about")
    reader, text = pdf_text(brief.pdf_of(data))
    assert len(reader.pages) == 1
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    for h in data.headlines:
        assert f"{h.title} {h.population}" in text or h.title in text, h.title
        assert f"{h.rate_text} {h.count_text}" in text, h.metric_id
    assert text.count("40% by Mar 2") == 4
