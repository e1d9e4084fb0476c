"""The Favorites page in AppTest on the demo warehouse: cards, the share with a favorite by
grade, school or group, the segments and ranked lists, checked against the export and against
``metrics.ranking`` and an independent pandas count of distinct students."""

import pytest

from ccgi_dash import metrics
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse
from ccgi_dash.ui.filters import KEYS

from conftest import FRESNO_UNIFIED, card, demo_app, export_rows, pct, table_values, table_with

PAGE = "app_pages/favorites.py"
CARDS = ["Favorited a college", "Favorited a career", "Favorited a major"]





@pytest.mark.parametrize("persona", ["coe", f"district:{FRESNO_UNIFIED}"])
def test_renders_for_each_persona(app_env, demo_data, persona):
    at = demo_app(persona, PAGE)
    assert not at.exception, at.exception
    assert [m.label for m in at.metric] == CARDS
    share = table_with(at, "Grade", "Favorited a major (rate)")
    assert share["Grade"].iloc[0] == "All students"
    assert list(share["Grade"].iloc[1:]) == [f"Grade {g}" for g in range(6, 13)]
    where = () if persona == "coe" else ("--where", f"district={FRESNO_UNIFIED}")
    total = export_rows(demo_data, "--metric", "favorite_college", *where)[0]
    assert share["Students"].iloc[0] == f"{total['denominator']:,}"
    assert card(at, "Favorited a college") == pct(total)
    segments = table_with(at, "Segment", "Students who favorited one")
    assert list(segments["Segment"][:5]) == [
        "University of California (UC)", "California State University (CSU)",
        "California Community Colleges (CCC)", "Private colleges in California", "Out of state"]
    assert not table_with(at, "Rank", "College", "Segment").empty
    weekly = table_with(at, "Drop date", "Favorited a college")
    assert set(weekly["School year"]) == {"2025-26", "2026-27"}
    # one district: a district breakdown would be a single bar, so it is not offered
    offered = at.segmented_control(key="favorites_by").options
    assert ("District" in offered) == (persona == "coe")


def test_filters_change_numbers_as_export_reports(app_env, demo_data):
    at = demo_app("coe", PAGE)
    before = [card(at, c) for c in CARDS]
    at.session_state[KEYS["district"]] = [FRESNO_UNIFIED]
    at.session_state[KEYS["grade_level"]] = [9, 10]
    at.run()
    assert not at.exception
    where = ("--where", f"district={FRESNO_UNIFIED}", "--where", "grade_level=9",
             "--where", "grade_level=10")
    after = []
    for label, metric in zip(CARDS, ("favorite_college", "favorite_career", "favorite_major"),
                             strict=True):
        row = export_rows(demo_data, "--metric", metric, *where)[0]
        after.append(card(at, label))
        assert after[-1] == pct(row)
        shown = table_with(at, "Grade", f"{label} (rate)").set_index("Grade")
        by_grade = export_rows(demo_data, "--metric", metric, "--by", "grade_level", *where)
        assert len(shown) == len(by_grade) + 1
        for r in by_grade:
            assert shown.loc[f"Grade {r['grade_level']}", f"{label} (rate)"] == pct(r)
    assert after != before


def test_small_groups_show_a_star_as_the_export_suppresses(app_env, demo_data):
    at = demo_app("coe", PAGE)
    at.session_state[KEYS["foster_youth"]] = ["Y"]
    at.segmented_control(key="favorites_by").set_value("School")
    at.run()
    assert not at.exception
    shown = table_with(at, "School", "District", "Favorited a college (rate)").set_index("School")
    rows = export_rows(demo_data, "--metric", "favorite_college", "--by", "school",
                       "--where", "foster_youth=Y")
    assert any(r["suppressed"] for r in rows)
    assert "*" in set(shown["Favorited a college (rate)"])
    for row in rows:
        assert shown.loc[row["school_name"], "Favorited a college (rate)"] == pct(row)
        assert shown.loc[row["school_name"], "Favorited a college"] == (
            "*" if row["suppressed"] else f"{row['numerator']:,}")
    # the ranked list hides every college favorited by 1 to 10 of these students, unranked
    ranked = table_with(at, "Rank", "College")
    hidden = ranked[ranked["Students"] == "*"]
    ranks = table_values(at, "Rank", "College")["Rank"]
    assert len(hidden) and (hidden["Rank"] == "").all() and ranks[hidden.index].isna().all()
    assert (hidden["Share of students"] == "*").all()


def test_ranked_lists_count_distinct_students(app_env, demo_data):
    at = demo_app("coe", PAGE)
    at.segmented_control(key="favorites_kind").set_value("Careers").run()
    assert not at.exception
    assert table_with(at, "Segment", "Students who favorited one") is None
    careers = table_with(at, "Rank", "Career", "O*NET-SOC code")
    wh = Warehouse(demo_data)
    try:
        expected = metrics.ranking(wh, Scope.county("demo"), "favorite_careers", limit=None)
        drop = wh.latest
        with wh.query() as cur:
            favs = cur.execute(f"SELECT ssid, segment FROM {wh.table(drop, 'favorite_colleges')}"
                               ).df()
            roster = cur.execute(f"SELECT ssid FROM {wh.table(drop, 'student_facts')}").df()
    finally:
        wh.close()
    assert len(careers) == len(expected)
    # whose shares these are: every roster student of the county, counted here
    captions = [c.value for c in at.caption]
    assert any(f"Shares are of the {len(roster):,} students in this selection" in c
               for c in captions), captions
    by_item = expected.set_index("item")["students"]
    for item, students in zip(careers["Career"], careers["Students"], strict=True):
        n = int(by_item[item])
        assert students == ("*" if n < 11 else f"{n:,}")
    # segments: distinct students per segment, counted here with pandas
    at.segmented_control(key="favorites_kind").set_value("Colleges").run()
    segments = table_with(at, "Segment", "Students who favorited one").set_index("Segment")
    favs = favs[favs["ssid"].isin(roster["ssid"])]
    distinct = favs.groupby("segment")["ssid"].nunique()
    assert distinct["UC"] < len(favs[favs["segment"] == "UC"])  # students favorite several
    shown = segments.loc["University of California (UC)", "Students who favorited one"]
    assert shown == f"{distinct['UC']:,}"
    assert segments.loc["California Community Colleges (CCC)",
                        "Students who favorited one"] == f"{distinct['CCC']:,}"


def test_a_filter_that_leaves_no_students_says_so(app_env, demo_data):
    with_grade_6 = {r["school"] for r in export_rows(
        demo_data, "--metric", "favorite_college", "--by", "school", "--where", "grade_level=6")}
    high = next(r["school"] for r in export_rows(demo_data, "--metric", "favorite_college",
                                                  "--by", "school")
                if r["school"] not in with_grade_6)
    at = demo_app("coe", PAGE)
    at.session_state[KEYS["school"]] = [high]
    at.session_state[KEYS["grade_level"]] = [6]
    at.run()
    assert not at.exception
    assert not at.metric and not at.dataframe
    assert any("No students match these filters" in i.value for i in at.info)
