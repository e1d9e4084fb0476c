"""The College applications page in AppTest on the demo warehouse: cards, breakdowns, the
campuses applied to and the follow-up of a-g eligible seniors who have not applied."""

import pytest

from ccgi_dash import metrics
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse
from ccgi_dash.ui.filters import KEYS

from conftest import FRESNO_UNIFIED, card, demo_app, export_rows, pct, reveal, table_with

PAGE = "app_pages/applications.py"
FOLLOW_UP = ("UC-eligible seniors", "Not yet applied to UC")





@pytest.mark.parametrize("persona", ["coe", f"district:{FRESNO_UNIFIED}"])
def test_renders_for_each_persona(app_env, persona):
    at = demo_app(persona, PAGE)
    assert not at.exception, at.exception
    assert [m.label for m in at.metric] == [
        "Applied anywhere", "Applied to a UC", "Applied to a CSU", "Applied to a CCC",
        "Applied to UC and CSU", "UC-eligible who applied", "CSU-eligible who applied"]
    assert table_with(at, "Drop date", "Applied anywhere") is not None
    assert table_with(at, "Date", "Applied anywhere") is None  # one trend chart, not two
    assert len(table_with(at, "Campus", "Seniors who applied")) == 9  # the nine UC campuses
    assert table_with(at, *FOLLOW_UP) is not None
    links = list(at.main.get("page_link"))
    # the named list is one click away only for the roles entitled to it
    assert bool(links) == (persona != "coe")


def test_district_filter_changes_numbers_as_export_reports(app_env, demo_data):
    at = demo_app("coe", PAGE)
    before = set(table_with(at, *FOLLOW_UP)["School"])
    at.session_state[KEYS["district"]] = [FRESNO_UNIFIED]
    at.run()
    assert not at.exception
    where = ("--where", f"district={FRESNO_UNIFIED}")
    for label, metric in (("Applied to a UC", "uc_submitted"),
                          ("Applied to UC and CSU", "uc_and_csu_submitted"),
                          ("UC-eligible who applied", "uc_eligible_applied")):
        assert card(at, label) == pct(export_rows(demo_data, "--metric", metric, *where)[0])
    # the rates of the county and of Fresno Unified may round alike (9.5% in the demo): the
    # counts behind the card differ, and the schools listed are Fresno Unified's alone
    county = export_rows(demo_data, "--metric", "uc_submitted")[0]
    district = export_rows(demo_data, "--metric", "uc_submitted", *where)[0]
    assert (county["numerator"], county["denominator"]) != (district["numerator"],
                                                            district["denominator"])
    shown = table_with(at, *FOLLOW_UP).set_index("School")
    rows = export_rows(demo_data, "--metric", "uc_eligible_applied", "--by", "school", *where)
    assert rows and set(shown.index) >= {r["school_name"] for r in rows}
    assert set(shown.index) < before
    for row in rows:
        line = shown.loc[row["school_name"]]
        assert line["Applied to UC"] == pct(row)
        # a school whose count of UC-eligible seniors is hidden in the a-g view shows * here
        size = row["denominator"]
        assert line["UC-eligible seniors"] == ("*" if size is None else f"{size:,}")
        missing = "*" if row["suppressed"] else f"{row['denominator'] - row['numerator']:,}"
        assert line["Not yet applied to UC"] == missing


def test_small_groups_show_a_star_as_the_export_suppresses(app_env, demo_data):
    at = demo_app("coe", PAGE)
    at.session_state[KEYS["foster_youth"]] = ["Y"]
    at.run()
    assert not at.exception
    shown = table_with(at, "District", "Rate").set_index("District")
    rows = export_rows(demo_data, "--metric", "any_app_submitted", "--by", "district",
                       "--where", "foster_youth=Y")
    assert any(r["suppressed"] for r in rows) and "*" in set(shown["Rate"])
    for row in rows:
        assert shown.loc[row["district_name"], "Rate"] == pct(row)
    campuses = table_with(at, "Campus", "Seniors who applied")
    assert set(campuses["Seniors who applied"]) <= {"*"}  # fewer than 11 applicants each
    assert "*" in set(table_with(at, *FOLLOW_UP)["Applied to UC"])


def test_ranked_lists_and_breakdowns_switch(app_env, demo_data):
    at = reveal(demo_app("coe", PAGE))  # the ranked lists are a folded detail
    at.segmented_control(key="apps_ranked").set_value("Community colleges").run()
    assert not at.exception
    shown = table_with(at, "College", "Seniors who applied")
    top = metrics.ranking(Warehouse(demo_data), Scope.county("demo"), "ccc_colleges",
                          limit=None).iloc[0]
    assert shown.iloc[0]["College"] == top["item"]
    assert shown.iloc[0]["Seniors who applied"] == f"{int(top['students']):,}"
    at.selectbox(key="apps_measure").set_value("uc_and_csu_submitted")
    at.segmented_control(key="apps_by").set_value("Student group").run()
    at.selectbox(key="apps_group").set_value("sed").run()
    assert not at.exception
    groups = table_with(at, "Socioeconomically disadvantaged", "Applied to both UC and CSU")
    assert list(groups["Socioeconomically disadvantaged"]) == ["Yes", "No", "Not reported"][
        :len(groups)]
    # no submission date for "both": weekly chart only
    assert table_with(at, "Date", "Applied to both UC and CSU") is None
    assert table_with(at, "Drop date", "Applied to both UC and CSU") is not None


def test_no_seniors_is_said_in_words(app_env):
    at = demo_app(f"district:{FRESNO_UNIFIED}", PAGE)
    at.session_state[KEYS["grade_level"]] = [10]
    at.run()
    assert not at.exception and not at.metric
    assert any("No seniors match these filters" in i.value for i in at.info)
