"""The Equity page in AppTest on the demo warehouse: any metric across any student group, the
gap to all students, the district x group heat map, checked against the export."""

import pytest

from ccgi_dash.ui.filters import KEYS

from conftest import FRESNO_UNIFIED, card, demo_app, export_rows, pct, table_with

PAGE = "app_pages/equity.py"
RACES = {"AA": "African American", "AI": "American Indian or Alaska Native", "AS": "Asian",
         "FI": "Filipino", "HI": "Hispanic or Latino", "PI": "Pacific Islander", "WH": "White",
         "MR": "Two or More Races", "NR": "Declined to state (NR)",
         "Not reported": "Not reported"}





def _choose(at, metric: str, group: str):
    at.selectbox(key="equity_metric").set_value(metric)
    at.selectbox(key="equity_group").set_value(group)
    return at.run()


@pytest.mark.parametrize("persona", ["coe", f"district:{FRESNO_UNIFIED}"])
def test_renders_for_each_persona(app_env, demo_data, persona):
    at = demo_app(persona, PAGE)
    assert not at.exception, at.exception
    assert at.selectbox(key="equity_metric").value == "aid_submitted"
    assert [m.label for m in at.metric] == ["FAFSA/CADAA submitted"]
    gap = table_with(at, "Gender", "Gap to all students")
    assert gap["Gender"].iloc[0] == "All students"
    heat = table_with(at, "District", "Gender")
    assert (persona == "coe") == (heat["District"].nunique() > 1)
    assert not table_with(at, "Drop date", "Gender").empty


def test_gap_is_group_rate_minus_all_students_rate(app_env, demo_data):
    at = _choose(demo_app("coe", PAGE), "career_assessment", "race_ethnicity")
    assert not at.exception
    gap = table_with(at, "Race/ethnicity", "Gap to all students").set_index("Race/ethnicity")
    total = export_rows(demo_data, "--metric", "career_assessment")[0]
    everyone = total["numerator"] / total["denominator"]
    assert gap.loc["All students", "Rate"] == pct(total)
    rows = export_rows(demo_data, "--metric", "career_assessment", "--by", "race_ethnicity")
    assert len(gap) == len(rows) + 1
    for row in rows:
        shown = gap.loc[RACES[row["race_ethnicity"]]]
        assert shown["Rate"] == pct(row)
        if row["suppressed"]:
            assert shown["Gap to all students"] == "*"
        else:
            expected = (row["numerator"] / row["denominator"] - everyone) * 100
            assert shown["Gap to all students"] == f"{expected:+.1f} pts"


def test_small_groups_show_a_star_as_the_export_suppresses(app_env, demo_data):
    at = _choose(demo_app("coe", PAGE), "aid_submitted", "race_ethnicity")
    assert not at.exception
    heat = table_with(at, "District", "Race/ethnicity")
    rows = export_rows(demo_data, "--metric", "aid_submitted", "--by",
                       "district,race_ethnicity")
    assert len(heat) == len(rows)
    shown = {(d, g): r for d, g, r in zip(heat["District"], heat["Race/ethnicity"], heat["Rate"],
                                          strict=True)}
    assert "*" in shown.values() and any(r["suppressed"] for r in rows)
    for row in rows:
        assert shown[(row["district_name"], RACES[row["race_ethnicity"]])] == pct(row)
    # the gap of a group hidden by the export is hidden too; the others are still shown
    at.selectbox(key="equity_metric").set_value("career_assessment")
    at.session_state[KEYS["foster_youth"]] = ["Y"]
    at.run()
    gap = table_with(at, "Race/ethnicity", "Gap to all students").set_index("Race/ethnicity")
    rows = export_rows(demo_data, "--metric", "career_assessment", "--by", "race_ethnicity",
                       "--where", "foster_youth=Y")
    assert {r["suppressed"] for r in rows} == {True, False}
    for row in rows:
        cell = gap.loc[RACES[row["race_ethnicity"]], "Gap to all students"]
        assert (cell == "*") == row["suppressed"]
    # seniors in foster care are too few for any group: every gap hidden, no chart (the
    # sidebar is not in AppTest's tree after switch_page, so its state is set again)
    at.selectbox(key="equity_metric").set_value("aid_submitted")
    at.session_state[KEYS["foster_youth"]] = ["Y"]
    at.run()
    assert not at.exception
    gap = table_with(at, "Race/ethnicity", "Gap to all students")
    assert (gap["Gap to all students"] == "*").all()
    assert any("every group here is hidden" in c.value for c in at.caption)


def test_filters_change_numbers_and_empty_state(app_env, demo_data):
    at = demo_app("coe", PAGE)
    before = card(at, "FAFSA/CADAA submitted")
    at.session_state[KEYS["district"]] = [FRESNO_UNIFIED]
    at.run()
    row = export_rows(demo_data, "--metric", "aid_submitted", "--where",
                      f"district={FRESNO_UNIFIED}")[0]
    assert card(at, "FAFSA/CADAA submitted") == pct(row) != before
    # a metric of seniors, filtered to grade 9: nobody to count, said in words
    at.session_state[KEYS["district"]] = [FRESNO_UNIFIED]
    at.session_state[KEYS["grade_level"]] = [9]
    at.run()
    assert not at.exception
    assert not at.metric
    assert any("No seniors match these filters" in i.value for i in at.info)
