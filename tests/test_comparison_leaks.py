"""Two leaks beside issue 14: a district leader's county comparison that is another district,
and follow-up counts that are a metric's complement.

A district leader sees the county's figure beside their own (cards, the county line and bar
of charts, Equity). The county minus their own districts is the rest of the county: in a
county of two districts that is the other district, and by group it can be a handful of
students. ``views.withheld_from_comparison`` holds such a county figure back, everywhere.

A follow-up list such as "students without an account" is the population minus a metric's
count (accounts registered): where the metric's count is hidden in a view, the list's count
would give it back, so ``brief.followup_counts`` hides it there too.
"""

from __future__ import annotations

import pandas as pd

from ccgi_dash import brief, export, metrics, views
from ccgi_dash.metrics import Filters, Request
from ccgi_dash.scope import Scope
from ccgi_dash.settings import Settings
from ccgi_dash.store import Warehouse
from ccgi_dash.students import FOLLOW_UPS
from ccgi_dash.topics import equity, panels

import dropkit
from conftest import demo_app

LAKEWOOD, MILLIKAN = "19647251934678", "19647251935758"  # Long Beach Unified's two schools
CENTRAL = "19647331930387"  # Los Angeles Unified
MONROVIA = "19647901935923"  # Monrovia Unified
LONG_BEACH, LOS_ANGELES, MONROVIA_USD = "1964725", "1964733", "1964790"
WITHHELD = "not shown (it would reveal another district's figures)"
CARD_METRICS = ("account_registered", "aid_submitted", "any_app_submitted")


def leader(*districts: str, filters: Filters = Filters(), threshold: int = 11) -> Request:
    return Request(Scope("district", districts=districts, student_level=True), filters, None,
                   threshold)


def two_districts() -> dropkit.Drop:
    return dropkit.make_drop(students=280, schools=(LAKEWOOD, CENTRAL))


def three_districts() -> dropkit.Drop:
    return dropkit.make_drop(students=420, schools=(LAKEWOOD, CENTRAL, MONROVIA))


def _other(wh: Warehouse, metric_id: str, code: str) -> pd.Series:
    """The other district's own row of ``export --by district`` (what the leader may not
    see), counted independently of the county comparison."""
    rows = metrics.compute(wh, Scope.county(), metric_id, ("district",))
    return rows.set_index("district").loc[code]


def test_two_districts_the_county_comparison_is_withheld_in_every_data_function(tmp_path):
    with dropkit.loaded(tmp_path, two_districts()) as wh:
        req = leader(LONG_BEACH)
        creq = views.county_request(req)
        assert isinstance(creq, views.CountyRequest) and creq.own == (LONG_BEACH,)
        for m in CARD_METRICS:
            other = _other(wh, m, LOS_ANGELES)
            assert other["denominator"] >= 11  # big enough: hidden for being one district
            card = views.headline(wh, req, m)
            assert card.compared and card.county_withheld
            assert card.county_text == WITHHELD and card.county_rate is None
            assert panels.county_rate(wh, req, m) is None
            county = views.metric_view(wh, creq, m, ())
            assert county["county_withheld"].all() and county["suppressed"].all()
            assert county[["numerator", "denominator", "rate"]].isna().all().all()
            assert views.COUNTY_WITHHELD in county["rate_text"].iloc[0]
            trend = views.trend(wh, creq, m)
            assert trend["county_withheld"].all() and trend["rate"].isna().all()
            weekly = views.weekly_year_over_year(wh, creq, m)
            assert weekly["rate"].isna().all()
        # the comparing chart's words say why, and no county bar has a value
        compare = panels.compare(wh, req, ["account_registered", "active_30d"], "gender",
                                 "Accounts by gender")
        assert views.COUNTY_WITHHELD in (compare.note or "")
        said = "County not shown: it would reveal another district's figures."
        for panel in (panels.breakdown(wh, req, "account_registered", "gender"),
                      panels.weekly(wh, req, "account_registered"),
                      equity.group_trend(wh, req, "account_registered", "gender")):
            assert said in (panel.note or ""), panel.name
            assert panel.fig is not None
            assert all("county" not in str(t.name or "").lower() for t in panel.fig.data)


def test_a_coordinator_filtering_one_district_still_sees_the_county(tmp_path):
    """A county-wide user may see every district: no comparison is withheld."""
    with dropkit.loaded(tmp_path, two_districts()) as wh:
        req = Request(Scope.county(), Filters(districts=(LONG_BEACH,)), None, 11)
        card = views.headline(wh, req, "aid_submitted")
        total = metrics.compute(wh, Scope.county(), "aid_submitted")
        assert card.compared and not card.county_withheld
        assert card.county_rate == float(total["rate"].iloc[0])


def test_three_districts_the_county_is_shown(tmp_path):
    with dropkit.loaded(tmp_path, three_districts()) as wh:
        req = leader(LONG_BEACH)
        for m in CARD_METRICS:
            card = views.headline(wh, req, m)
            total = metrics.compute(wh, Scope.county(), m).iloc[0]
            assert not card.county_withheld and card.county_text != WITHHELD
            assert card.county_rate == total["numerator"] / total["denominator"]
            assert panels.county_rate(wh, req, m) == card.county_rate


def test_a_rest_of_county_group_of_three_hides_that_groups_county_cell(tmp_path):
    """County foster youth 15, the leader's own 12: the rest is 3 students of two
    districts. The county's foster-youth cell is withheld; the other cells are shown."""
    drop = three_districts()
    counts = {LAKEWOOD: 12, CENTRAL: 2, MONROVIA: 1}
    for row in drop.tables["students"]:
        row["foster_youth"] = "N"
        if counts.get(row["school_cds"], 0) > 0:
            row["foster_youth"] = "Y"
            counts[row["school_cds"]] -= 1
    with dropkit.loaded(tmp_path, drop) as wh:
        req = leader(LONG_BEACH)
        creq = views.county_request(req)
        m = "account_registered"
        raw = metrics.compute(wh, Scope.county(), m, ("foster_youth",)).set_index("foster_youth")
        assert int(raw.loc["Y", "denominator"]) == 15
        by_group = views.metric_view(wh, creq, m, ("foster_youth",)).set_index("foster_youth")
        assert by_group.loc["Y", "county_withheld"] and pd.isna(by_group.loc["Y", "rate"])
        assert not by_group.loc["N", "county_withheld"]
        assert by_group.loc["N", "rate"] == raw.loc["N", "rate"]
        # the same with a foster-youth filter: the card's county figure is withheld
        foster = leader(LONG_BEACH, filters=Filters(groups=(("foster_youth", ("Y",)),)))
        card = views.headline(wh, foster, m)
        assert card.county_withheld and card.county_text == WITHHELD
        # and a rest of 11 or more in two districts is shown
        assert not views.headline(wh, leader(LONG_BEACH), m).county_withheld


def _app(tmp_path, monkeypatch, drop: dropkit.Drop, persona: str, page: str | None = None):
    with dropkit.loaded(tmp_path, drop) as wh:
        pass
    monkeypatch.setenv("CCGI_DEMO_DIR", str(wh.dd.root))
    monkeypatch.setenv("CCGI_DATA_DIR", str(tmp_path / "no-live"))
    monkeypatch.delenv("CCGI_USERS_FILE", raising=False)
    monkeypatch.delenv("CCGI_COOKIE_KEY", raising=False)
    at = demo_app(persona, page)
    assert not at.exception, at.exception
    return at


def _county_lines(at) -> list[str]:
    return [c.value for c in at.caption if "county:" in c.value]


def test_two_districts_the_leader_sees_no_county_figure_in_the_app(tmp_path, monkeypatch):
    for page in (None, "app_pages/financial_aid.py"):
        at = _app(tmp_path / (page or "overview").replace("/", "-"), monkeypatch,
                  two_districts(), f"district:{LONG_BEACH}", page)
        lines = _county_lines(at)
        assert lines, page
        for line in lines:
            assert f"county: {WITHHELD}" in line, (page, line)
            assert "%" not in line.split("county:")[1], (page, line)


def test_three_districts_the_leader_sees_the_county_in_the_app(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch, three_districts(), f"district:{LONG_BEACH}")
    lines = _county_lines(at)
    assert lines and all(WITHHELD not in line and "%" in line.split("county:")[1]
                         for line in lines), lines


# --- follow-up counts that are a metric's complement ---------------------------------------

def small_school() -> dropkit.Drop:
    """Long Beach's Lakewood High has 5 students, Millikan High the rest of the district:
    by school, Lakewood's count of accounts is hidden (5 students) and Millikan's by
    complementary suppression."""
    drop = dropkit.make_drop(students=200, schools=(LAKEWOOD, MILLIKAN, CENTRAL, MONROVIA))
    kept = 0
    for row in drop.tables["students"]:
        if row["school_cds"] == LAKEWOOD:
            kept += 1
            if kept > 5:
                row.update(school_cds=MILLIKAN, school_name="Millikan High")
    return drop


def test_every_followup_declares_what_it_is_the_complement_of():
    assert FOLLOW_UPS["no_account"].complement_of == ("account_registered",)
    assert set(FOLLOW_UPS["no_aid"].complement_of) == {"aid_submitted", "aid_opted_out"}
    assert FOLLOW_UPS["started_not_submitted"].complement_of == ()
    for x in FOLLOW_UPS.values():
        assert all(m in metrics.METRICS for m in x.complement_of), x.id


def test_followup_count_hidden_where_its_metric_is_hidden_by_complementary_suppression(
        tmp_path):
    with dropkit.loaded(tmp_path, small_school()) as wh:
        by_school = export.metric_export(wh, Request(Scope.county(), Filters(
            districts=(LONG_BEACH,)), None, 11), "account_registered", ("school",))
        rows = by_school.set_index("school")
        assert rows.loc[LAKEWOOD, "denominator"] == 5 and rows.loc[LAKEWOOD, "suppressed"]
        assert rows.loc[MILLIKAN, "denominator"] >= 11 and rows.loc[MILLIKAN, "suppressed"]
        school = Request(Scope.county(), Filters(districts=(LONG_BEACH,), schools=(MILLIKAN,)),
                         None, 11)
        counts = {c.list_id: c for c in brief.followup_counts(wh, school)}
        # without the rule it would read population - no account = the hidden count
        raw = metrics.compute(wh, Scope.county(), "account_registered", ("school",))
        millikan = raw.set_index("school").loc[MILLIKAN]
        assert millikan["denominator"] - millikan["numerator"] >= 11
        assert counts["no_account"].suppressed and counts["no_account"].text == "*"
        # the school's brief shows the same
        data = brief.brief_data(wh, school, Settings())
        shown = {c.list_id: c.text for c in data.followups}
        assert shown["no_account"] == "*"
        # a school whose account count is shown keeps its list count
        central = Request(Scope.county(), Filters(districts=(LOS_ANGELES,),
                                                  schools=(CENTRAL,)), None, 11)
        c = {x.list_id: x for x in brief.followup_counts(wh, central)}["no_account"]
        own = raw.set_index("school").loc[CENTRAL]
        assert not c.suppressed and c.students == own["denominator"] - own["numerator"]
        # the district's row of the by-district view is shown: so is its list count
        district = Request(Scope.county(), Filters(districts=(LONG_BEACH,)), None, 11)
        d = {x.list_id: x for x in brief.followup_counts(wh, district)}["no_account"]
        assert not d.suppressed
