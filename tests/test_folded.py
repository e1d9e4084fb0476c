"""Closed Table tabs and folded details cost nothing until a reader opens them (README, "Details
cost nothing until opened"): the page draws neither the table behind a chart's closed Table
tab nor a closed expander's panels, and opening either (the rerun a click starts) draws it."""

from __future__ import annotations

import pytest

from ccgi_dash.topics import equity, favorites

from conftest import demo_app, reveal

FOLLOW_UP = ("UC-eligible seniors", "Not yet applied to UC")


def _tables(at) -> list[set[str]]:
    return [set(d.value.columns) for d in at.dataframe]


def _expander(at, label: str):
    return next(e for e in at.expander if e.label == label)


def test_a_closed_table_tab_draws_no_table_until_opened(app_env):
    at = demo_app("coe", "app_pages/financial_aid.py")
    assert not at.exception
    charts = len(at.get("plotly_chart"))
    assert charts >= 2
    assert not any("Rate" in cols for cols in _tables(at)), _tables(at)
    reveal(at)
    assert not at.exception
    assert sum("Rate" in cols for cols in _tables(at)) >= 2
    assert len(at.get("plotly_chart")) >= charts  # the charts stay drawn beside the tables


def test_a_folded_detail_is_drawn_only_when_opened(app_env):
    at = demo_app("coe", "app_pages/applications.py")
    assert not at.exception
    detail = _expander(at, "a-g eligible seniors who have not applied, by school")
    assert not detail.get("plotly_chart") and not any(
        set(FOLLOW_UP) <= cols for cols in _tables(at))
    reveal(at)
    detail = _expander(at, "a-g eligible seniors who have not applied, by school")
    assert detail.get("plotly_chart")
    assert any(set(FOLLOW_UP) <= cols for cols in _tables(at))


@pytest.mark.parametrize(("page", "label"), [
    ("favorites", "Kinds of college and the weekly trend"),
    ("equity", "Where do groups lag, district by district? (heat map)"),
])
def test_a_folded_views_panels_are_drawn_only_when_opened(app_env, page, label):
    """The panels of ``Section.more_view`` (asked only while its expander is open)."""
    at = demo_app("coe", f"app_pages/{page}.py")
    assert not at.exception
    assert not _expander(at, label).get("plotly_chart")
    reveal(at)
    assert not at.exception
    assert _expander(at, label).get("plotly_chart")


def test_the_folded_views_are_declared_apart():
    """Favorites' segments and trend and Equity's heat map are ``more_view``s, not part of
    the section's own view, so a closed expander asks no query for them."""
    fav = next(s for s in favorites.TOPIC.sections if s.more)
    eq = next(s for s in equity.TOPIC.sections if s.more)
    assert fav.more_view is favorites.kind_more and fav.view is favorites.kind_ranked
    assert eq.more_view is equity.folded_panels and eq.view is equity.panels
