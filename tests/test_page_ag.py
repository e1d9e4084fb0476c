"""The a-g eligibility page in AppTest on the demo warehouse."""

import pytest

from ccgi_dash.ui.filters import KEYS

from conftest import FRESNO_UNIFIED, card, demo_app, export_rows, pct, table_with

PAGE = "app_pages/ag_eligibility.py"





@pytest.mark.parametrize("persona", ["coe", f"district:{FRESNO_UNIFIED}"])
def test_renders_for_each_persona(app_env, persona):
    at = demo_app(persona, PAGE)
    assert not at.exception, at.exception
    assert [m.label for m in at.metric] == ["UC a-g eligible", "CSU a-g eligible",
                                           "On track for UC a-g", "On track for CSU a-g"]
    weekly = table_with(at, "Drop date", "CSU a-g eligible")
    assert set(weekly["School year"]) == {"2025-26", "2026-27"}
    assert table_with(at, "Date") is None  # a-g status has no date: no cumulative curve


def test_filter_changes_numbers_as_export_reports(app_env, demo_data):
    at = demo_app("coe", PAGE)
    before = card(at, "On track for UC a-g")
    at.session_state[KEYS["district"]] = [FRESNO_UNIFIED]
    at.run()
    where = ("--where", f"district={FRESNO_UNIFIED}")
    for label, metric in (("UC a-g eligible", "uc_eligible"),
                          ("On track for UC a-g", "uc_on_track")):
        assert card(at, label) == pct(export_rows(demo_data, "--metric", metric, *where)[0])
    assert card(at, "On track for UC a-g") != before
    # the shell's sidebar is not drawn under AppTest's switch_page: set the filter each run
    at.session_state[KEYS["district"]] = [FRESNO_UNIFIED]
    at.selectbox(key="ag_measure").set_value("uc_on_track")
    at.segmented_control(key="ag_by").set_value("Grade").run()
    assert not at.exception
    shown = table_with(at, "Grade", "On track for UC a-g").set_index("Grade")
    rows = export_rows(demo_data, "--metric", "uc_on_track", "--by", "grade_level", *where)
    assert list(shown.index) == [f"Grade {r['grade_level']}" for r in rows] == [
        "Grade 9", "Grade 10", "Grade 11"]
    for row in rows:
        assert shown.loc[f"Grade {row['grade_level']}", "Rate"] == pct(row)
        assert shown.loc[f"Grade {row['grade_level']}", "On track for UC a-g"] == \
            f"{row['numerator']:,}"


def test_small_groups_show_a_star_as_the_export_suppresses(app_env, demo_data):
    at = demo_app(f"district:{FRESNO_UNIFIED}", PAGE)
    at.session_state[KEYS["foster_youth"]] = ["Y"]
    at.run()
    assert not at.exception
    shown = table_with(at, "School", "Rate").set_index("School")
    rows = export_rows(demo_data, "--metric", "csu_eligible", "--by", "school", "--where",
                       f"district={FRESNO_UNIFIED}", "--where", "foster_youth=Y")
    assert any(r["suppressed"] for r in rows) and "*" in set(shown["Rate"])
    for row in rows:
        assert shown.loc[row["school_name"], "Rate"] == pct(row)


def test_student_group_breakdown_matches_export(app_env, demo_data):
    at = demo_app("coe", PAGE)
    at.segmented_control(key="ag_by").set_value("Student group").run()
    at.selectbox(key="ag_group").set_value("el_status").run()
    assert not at.exception
    shown = table_with(at, "English learner status", "Rate")
    rows = export_rows(demo_data, "--metric", "csu_eligible", "--by", "el_status")
    assert len(shown) == len(rows)
    assert shown.iloc[0]["English learner status"] == "English only"  # CDE's order
    rates = dict(zip(shown["English learner status"], shown["Rate"], strict=True))
    labels = {"EO": "English only", "IFEP": "Initially fluent (IFEP)", "EL": "English learner",
              "RFEP": "Reclassified fluent (RFEP)", "TBD": "To be determined",
              "Not reported": "Not reported"}
    for row in rows:
        assert rates[labels[row["el_status"]]] == pct(row)
