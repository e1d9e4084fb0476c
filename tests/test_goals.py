"""Goals in settings.toml: parsed, checked with clear errors, resolved per view and year."""

from __future__ import annotations

from datetime import date

import pytest

from ccgi_dash.goals import cal_grant_deadline, goal_for, goals_for, single_district
from ccgi_dash.metrics import Filters
from ccgi_dash.scope import Scope
from ccgi_dash.settings import SettingsError, load_settings, parse_settings


def test_goals_read_from_the_settings_file(tmp_path):
    (tmp_path / "settings.toml").write_text(
        'county_code = "10"\n'
        "[goals.aid_completed]\n"
        'goal = "65%"\n'
        'deadline = "cal_grant"\n'
        'districts = { "1062166" = 0.7 }\n'
        "[goals.uc_submitted]\n"
        "goal = 0.4\n"
        "deadline = 2027-01-15\n", encoding="utf-8")
    s = load_settings(tmp_path)
    aid = s.goals["aid_completed"]
    assert aid.rate == pytest.approx(0.65)
    assert aid.deadline == "cal_grant"
    assert aid.districts == {"1062166": pytest.approx(0.7)}
    assert s.goals["uc_submitted"].deadline == date(2027, 1, 15)


def test_no_goals_is_valid():
    assert parse_settings({}).goals == {}


@pytest.mark.parametrize(("goals", "words"), [
    ({"no_such_metric": {"goal": 0.5}}, "unknown metric 'no_such_metric'"),
    ({"aid_completed": {"goal": 65}}, "out of range"),
    ({"aid_completed": {"goal": 0}}, "out of range"),
    ({"aid_completed": {"goal": 1.2}}, "out of range"),
    ({"aid_completed": {"goal": "120%"}}, "out of range"),
    ({"aid_completed": {"goal": "lots"}}, "must be a share like 0.65"),
    ({"aid_completed": {"goal": True}}, "must be a share like 0.65"),
    ({"aid_completed": {}}, "goal is missing"),
    ({"aid_completed": {"goal": 0.6, "deadline": "soon"}}, "deadline must be a date"),
    ({"aid_completed": {"goal": 0.6, "target": 1}}, "unknown setting(s) target"),
    ({"aid_completed": {"goal": 0.6, "districts": {"106216": 0.7}}},
     "'106216' is not a district code"),
    ({"aid_completed": {"goal": 0.6, "districts": {"1062166": 70}}}, "out of range"),
    ({"aid_completed": {"goal": 0.6, "districts": {"1964733": 0.7}}}, "not in county 10"),
    ({"aid_completed": 0.65}, "must be a table"),
])
def test_bad_goals_are_refused_by_name(goals, words):
    with pytest.raises(SettingsError) as err:
        parse_settings({"county_code": "10", "goals": goals}, "x/settings.toml")
    assert words in str(err.value)
    assert "x/settings.toml" in str(err.value)
    assert "[goals." in str(err.value) or "[goals]" in str(err.value)


def test_cal_grant_deadline_follows_the_school_year():
    assert cal_grant_deadline(date(2026, 11, 20))[0] == date(2027, 3, 2)
    # 2024-25 opened late: the extended deadline of topics.aid's calendar
    assert cal_grant_deadline(date(2024, 12, 6))[0] == date(2025, 4, 2)
    assert "Cal Grant" in cal_grant_deadline(date(2026, 11, 20))[1]


def test_goal_for_a_district_uses_its_own_goal_else_the_county_goal():
    s = parse_settings({"goals": {"aid_completed": {"goal": "65%",
                                                    "districts": {"1062166": "70%"}}}})
    drop = date(2026, 11, 20)
    own = goal_for(s, "aid_completed", drop, "1062166")
    assert own is not None and own.rate == pytest.approx(0.70) and own.district == "1062166"
    other = goal_for(s, "aid_completed", drop, "1062117")
    assert other is not None and other.rate == pytest.approx(0.65) and other.district is None
    county = goal_for(s, "aid_completed", drop)
    assert county is not None and county.deadline == date(2027, 3, 2)
    assert county.text == "65% by Mar 2"
    assert goal_for(s, "uc_submitted", drop) is None
    assert set(goals_for(s, drop)) == {"aid_completed"}


def test_a_date_deadline_is_kept_as_given():
    s = parse_settings({"goals": {"uc_submitted": {"goal": 0.4,
                                                   "deadline": date(2026, 11, 30)}}})
    g = goal_for(s, "uc_submitted", date(2026, 11, 20))
    assert g is not None and g.deadline == date(2026, 11, 30)
    assert g.text == "40% by Nov 30"


def test_single_district_of_a_view():
    county = Scope.county()
    assert single_district(county) is None
    assert single_district(county, Filters(districts=("1062166",))) == "1062166"
    assert single_district(county, Filters(schools=("10621661031897",))) == "1062166"
    assert single_district(Scope("district", districts=("1062166",))) == "1062166"
    assert single_district(Scope("district", districts=("1062166", "1062117"))) is None
