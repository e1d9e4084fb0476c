"""The Career assessments page in AppTest on the demo warehouse: completion by grade, school
and group, which assessments, this year against last, checked against the export and against
``metrics.ranking``."""

import pytest

from ccgi_dash import metrics
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse
from ccgi_dash.ui.filters import KEYS

from conftest import FRESNO_UNIFIED, card, demo_app, export_rows, pct, table_with

PAGE = "app_pages/assessments.py"
TITLE = "Completed a career assessment"





@pytest.mark.parametrize("persona", ["coe", f"district:{FRESNO_UNIFIED}"])
def test_renders_for_each_persona(app_env, demo_data, persona):
    at = demo_app(persona, PAGE)
    assert not at.exception, at.exception
    assert [m.label for m in at.metric] == [TITLE]
    where = () if persona == "coe" else ("--where", f"district={FRESNO_UNIFIED}")
    by_grade = table_with(at, "Grade", TITLE).set_index("Grade")
    for row in export_rows(demo_data, "--metric", "career_assessment", "--by", "grade_level",
                           *where):
        assert by_grade.loc[f"Grade {row['grade_level']}", "Rate"] == pct(row)
    assert set(table_with(at, "Drop date", TITLE)["School year"]) == {"2025-26", "2026-27"}
    assert table_with(at, "Date", TITLE) is None  # one trend chart of the measure, not two


def test_filters_change_numbers_as_export_reports(app_env, demo_data):
    at = demo_app("coe", PAGE)
    before = card(at, TITLE)
    at.session_state[KEYS["district"]] = [FRESNO_UNIFIED]
    at.session_state[KEYS["sed"]] = ["Y"]
    at.run()
    assert not at.exception
    where = ("--where", f"district={FRESNO_UNIFIED}", "--where", "sed=Y")
    row = export_rows(demo_data, "--metric", "career_assessment", *where)[0]
    assert card(at, TITLE) == pct(row) != before
    weekly = table_with(at, "Drop date", TITLE)
    assert weekly["Rate"].iloc[-1] == pct(row)


def test_small_groups_show_a_star_as_the_export_suppresses(app_env, demo_data):
    at = demo_app("coe", PAGE)
    at.session_state[KEYS["foster_youth"]] = ["Y"]
    at.segmented_control(key="assessments_by").set_value("School")
    at.run()
    assert not at.exception
    shown = table_with(at, "School", TITLE).set_index("School")
    rows = export_rows(demo_data, "--metric", "career_assessment", "--by", "school",
                       "--where", "foster_youth=Y")
    assert any(r["suppressed"] for r in rows) and "*" in set(shown["Rate"])
    for row in rows:
        assert shown.loc[row["school_name"], "Rate"] == pct(row)
        assert shown.loc[row["school_name"], TITLE] == (
            "*" if row["suppressed"] else f"{row['numerator']:,}")


def test_which_assessments_counts_distinct_students(app_env, demo_data):
    at = demo_app("coe", PAGE)
    at.session_state[KEYS["grade_level"]] = [11]
    at.run()
    assert not at.exception
    shown = table_with(at, "Rank", "Assessment")
    wh = Warehouse(demo_data)
    try:
        expected = metrics.ranking(wh, Scope.county("demo"), "assessments",
                                   metrics.Filters(grades=(11,)), limit=None)
    finally:
        wh.close()
    assert list(shown["Assessment"]) == list(expected["item"])
    assert list(shown["Students"]) == [f"{int(n):,}" for n in expected["students"]]
    assert list(shown["Share of students"]) == [
        f"{n / p * 100:.1f}%" for n, p in zip(expected["students"], expected["population"],
                                               strict=True)]
