"""The Accounts page in AppTest on the demo warehouse: registration and recent activity side
by side, this year against last, checked against what ``python -m ccgi_dash export`` reports."""

import pytest

from ccgi_dash.datasets import DIMENSIONS
from ccgi_dash.ui.filters import KEYS

from conftest import FRESNO_UNIFIED, card, demo_app, export_rows, pct, table_with

PAGE = "app_pages/accounts.py"
METRICS = {"account_registered": "Accounts registered", "active_30d": "Active in the last 30 days"}





@pytest.mark.parametrize("persona", ["coe", f"district:{FRESNO_UNIFIED}"])
def test_renders_for_each_persona(app_env, persona):
    at = demo_app(persona, PAGE)
    assert not at.exception, at.exception
    assert [m.label for m in at.metric] == list(METRICS.values())
    for title in METRICS.values():
        weekly = table_with(at, "Drop date", title)
        assert set(weekly["School year"]) == {"2025-26", "2026-27"}
    # one chart per question: the weekly chart of each measure, no second curve of it
    assert table_with(at, "Date", "Accounts registered") is None
    assert table_with(at, "Date", "Active in the last 30 days") is None
    both = table_with(at, "Grade", "Accounts registered (rate)",
                      "Active in the last 30 days (rate)")
    assert both["Grade"].iloc[0] == "All students"


def test_filters_change_numbers_as_export_reports(app_env, demo_data):
    at = demo_app("coe", PAGE)
    before = card(at, "Accounts registered")
    at.session_state[KEYS["district"]] = [FRESNO_UNIFIED]
    at.session_state[KEYS["grade_level"]] = [12]
    at.segmented_control(key="accounts_by").set_value("School")
    at.run()
    assert not at.exception
    where = ("--where", f"district={FRESNO_UNIFIED}", "--where", "grade_level=12")
    shown = table_with(at, "School", "District", "Accounts registered (rate)").set_index("School")
    for metric, title in METRICS.items():
        total = export_rows(demo_data, "--metric", metric, *where)[0]
        assert card(at, title) == pct(total)
        assert shown.loc["All students", f"{title} (rate)"] == pct(total)
        rows = export_rows(demo_data, "--metric", metric, "--by", "school", *where)
        assert len(shown) == len(rows) + 1
        for row in rows:
            assert shown.loc[row["school_name"], f"{title} (rate)"] == pct(row)
            assert shown.loc[row["school_name"], "Students"] == f"{row['denominator']:,}"
    assert set(shown["District"].iloc[1:]) == {"Fresno Unified"}
    assert card(at, "Accounts registered") != before


def test_small_groups_show_a_star_as_the_export_suppresses(app_env, demo_data):
    at = demo_app("coe", PAGE)
    at.session_state[KEYS["foster_youth"]] = ["Y"]
    at.segmented_control(key="accounts_by").set_value("School")
    at.run()
    assert not at.exception
    shown = table_with(at, "School", "Active in the last 30 days (rate)").set_index("School")
    assert "*" in set(shown["Active in the last 30 days (rate)"])
    rows = export_rows(demo_data, "--metric", "active_30d", "--by", "school",
                       "--where", "foster_youth=Y")
    assert any(r["suppressed"] for r in rows)
    for row in rows:
        assert shown.loc[row["school_name"], "Active in the last 30 days (rate)"] == pct(row)
        # both metrics count the same students, so the same schools are hidden
        assert (shown.loc[row["school_name"], "Accounts registered (rate)"] == "*") == (
            row["suppressed"])


def test_group_breakdown_follows_the_chosen_dimension(app_env, demo_data):
    at = demo_app("coe", PAGE)
    at.segmented_control(key="accounts_by").set_value("Student group").run()
    at.selectbox(key="accounts_group").set_value("race_ethnicity").run()
    assert not at.exception
    shown = table_with(at, "Race/ethnicity", "Accounts registered (rate)").set_index(
        "Race/ethnicity")
    rows = export_rows(demo_data, "--metric", "account_registered", "--by", "race_ethnicity")
    label = DIMENSIONS["race_ethnicity"].label
    # every group of the export is on the page (and only those, after the all-students row),
    # with the export's rate: no group can be skipped without failing here
    assert list(shown.index[1:]) == [label(r["race_ethnicity"]) for r in sorted(
        rows, key=lambda r: list(DIMENSIONS["race_ethnicity"].labels).index(r["race_ethnicity"]))]
    assert {"Hispanic or Latino", "White"} <= set(shown.index)
    for row in rows:
        assert shown.loc[label(row["race_ethnicity"]), "Accounts registered (rate)"] == pct(row)
