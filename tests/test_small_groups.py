"""A small group stays hidden in every view (issue 14): populations that are another metric's
count (UC-eligible seniors are the count of ``uc_eligible``) are hidden wherever that count is.

The case of the issue: a county of three districts, one of them with 7 seniors. The a-g view
hides that district's count of UC-eligible seniors (and, by complementary suppression, a
second district's); no export, no page table and no download may show those counts as the
population of "UC-eligible seniors who applied". A property test then runs the same checks
over every metric and breakdown on random small drops.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccgi_dash import export, metrics, views
from ccgi_dash.datasets import DIMENSIONS, SUBGROUP_DIMENSIONS
from ccgi_dash.metrics import Filters, Request
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse
from ccgi_dash.topics import apps, equity, panels

import dropkit
from conftest import demo_app, table_with

SMALL = "19647901935923"  # Monrovia High, Monrovia Unified: the district with 7 seniors
MID = "19647331930387"  # Central High, Los Angeles Unified
BIG = ("19647251934678", "19647251935758")  # Long Beach Unified's two schools
CHILDREN = {m.id: m.parent for m in metrics.METRICS.values() if m.parent}


def _place(drop: dropkit.Drop, ssid: str, cds: str) -> None:
    school, district, _ = dropkit.SCHOOLS[cds]
    for row in drop.tables["students"]:
        if row["ssid"] == ssid:
            row.update(school_cds=cds, school_name=school, district_name=district)


def three_districts(small: int = 7, mid: int = 60, seniors: int = 200,
                    seed: int = 0) -> dropkit.Drop:
    """A drop of three districts whose senior classes are ``small``, ``mid`` and the rest."""
    drop = dropkit.make_drop(students=7 * seniors, schools=(*BIG, MID))
    rng = random.Random(seed)
    senior_ids = [r["ssid"] for r in drop.tables["students"] if r["grade_level"] == "12"]
    rng.shuffle(senior_ids)
    for i, ssid in enumerate(senior_ids):
        _place(drop, ssid, SMALL if i < small else MID if i < small + mid else BIG[i % 2])
    return drop


def request(threshold: int = 11) -> Request:
    return Request(Scope.county(), Filters(), None, threshold)


def _partitions(frame: pd.DataFrame, by: tuple[str, ...]) -> list[pd.Index]:
    """Rows that are parts of one total another view shows (the rule of privacy.suppress)."""
    out: list[pd.Index] = []
    for i, dim in enumerate(by):
        if dim in ("drop_date", "county"):
            continue
        others = [d for j, d in enumerate(by) if j != i]
        keys = [frame[d] for d in others]
        if dim == "school":
            district = [*keys, frame["school"].str[:7]]
            out.extend(frame.groupby(district[0] if len(district) == 1 else district,
                                     sort=False).groups.values())
        out.extend(frame.groupby(keys[0] if len(keys) == 1 else keys, sort=False)
                   .groups.values() if keys else [frame.index])
    return out


def _coarser(by: tuple[str, ...], dim: str) -> tuple[tuple[str, ...], list[str]] | None:
    """The view whose cell equals a row alone in its partition along ``dim``, and the keys
    that find it: (district, g) alone among its district's groups is the district's cell; a
    school alone in its district is the district's."""
    others = [d for d in by if d != dim]
    if dim == "school":
        return ("district", *others), ["district", *others]
    if others and others != ["drop_date"]:
        return tuple(others), others
    return None


def _alone(frame: pd.DataFrame, by: tuple[str, ...]) -> pd.Series:
    """Rows alone in one of their partitions (equal to a coarser view's cell)."""
    out = pd.Series(False, index=frame.index)
    for part in _partitions(frame, by):
        if len(part) == 1:
            out.loc[part] = True
    return out


def _protected_elsewhere(wh: Warehouse, req: Request, metric_id: str, frame: pd.DataFrame,
                         by: tuple[str, ...], dim: str, row: pd.Series) -> bool:
    """Whether a hidden row that a coarser view shows (the last complement of a partition
    along another dimension) protects nothing: the total of every other partition it is
    part of is hidden in that partition's own coarser view, or the partition keeps two
    hidden rows that no view shows."""
    for other in by:
        if other in (dim, "drop_date", "county"):
            continue
        rest = [d for d in by if d != other]
        same = (frame[rest] == row[rest]).all(axis=1) if rest else pd.Series(
            True, index=frame.index)
        part = frame[same]
        hidden = part["numerator"].isna() & (part["denominator"].fillna(1) > 0)
        if hidden.sum() - 1 >= 2:
            continue
        total = export.metric_export(wh, req, metric_id, tuple(rest))
        if rest:
            total = total.set_index(rest)
            key = tuple(row[k] for k in rest) if len(rest) > 1 else row[rest[0]]
            if not pd.isna(total.loc[key, "numerator"]):
                return False
        elif not total["suppressed"].iloc[0]:
            return False
    return True


def _small_cell_worked_out(wh: Warehouse, req: Request, metric_id: str, frame: pd.DataFrame,
                           by: tuple[str, ...]) -> bool:
    """The exact check behind ``_protected_elsewhere``: whether the count of a row hidden
    for its size follows, by any linear combination, from what this view and every coarser
    view of the same metric show (``determined``). ``_protected_elsewhere`` is a local rule
    that can flag a complement shown elsewhere in a partition where nothing small needs it
    (every hidden row there readable, none small); this says whether anything leaks."""
    fine = frame.reset_index(drop=True)
    if "school" in by:
        fine = fine.assign(district=fine["school"].str[:7])
    fine = fine.assign(k=1)
    dims = [d for d in by if d != "school"] + (["school", "district"] if "school" in by else [])
    views: list[tuple[pd.DataFrame, list[str]]] = []
    for n in range(len(dims)):
        for cols in itertools.combinations(dims, n):
            if "school" in cols and "district" in cols:
                continue  # a school names its district: the school's own view
            view_by = tuple(d for d in dict.fromkeys((*by, "district")) if d in cols)
            if "school" in view_by and "district" in view_by:
                continue
            view = export.metric_export(wh, req, metric_id, view_by)
            views.append((view.assign(k=1), list(view_by) or ["k"]))
    sizes = pd.to_numeric(fine["denominator"], errors="coerce")
    small = fine.index[fine["numerator"].isna() & (sizes >= 1) & (sizes < req.threshold)]
    return any(determined(fine, views, int(i)) for i in small)


def determined(fine: pd.DataFrame, views: list[tuple[pd.DataFrame, list[str]]],
               cell: int) -> bool:
    """Whether the count of ``fine``'s row ``cell`` follows from what the exports show, by
    any linear combination (any number of tables, totals minus parts included).

    ``fine`` is the finest export (its rows are the unknowns); each of ``views`` is a
    coarser export, with the columns naming its rows, whose row is the sum of the fine rows
    with the same values there. A row is known where its count is shown. The count is
    determined exactly when its unit vector lies in the row space of the known equations."""
    n = len(fine)
    rows: list[np.ndarray] = [np.eye(n)[i] for i in range(n)
                              if not pd.isna(fine["numerator"].iloc[i])]
    for view, cols in views:
        for _, r in view.iterrows():
            if pd.isna(r["numerator"]):
                continue
            mask = np.ones(n, dtype=bool)
            for c in cols:
                mask &= (fine[c] == r[c]).to_numpy()
            rows.append(mask.astype(float))
    if not rows:
        return False
    known = np.array(rows)
    return (np.linalg.matrix_rank(np.vstack([known, np.eye(n)[cell]]))
            == np.linalg.matrix_rank(known))


def not_reported_corner() -> dropkit.Drop:
    """The corner of complementary suppression, by district x gender: Monrovia Unified's
    students are all of gender "Not reported" (Monrovia is alone in its district's
    partition: its one cell is the district's total); Los Angeles Unified has 4 "Not
    reported" students; Long Beach has none. The only complement for Los Angeles' hidden 4
    is Monrovia's cell, which the district view shows."""
    drop = dropkit.make_drop(students=160, schools=(*BIG, MID, SMALL))
    la = 0
    for row in drop.tables["students"]:
        if row["school_cds"] == SMALL:
            row["gender"] = ""
        elif row["school_cds"] == MID:
            row["gender"] = "" if la < 4 else "MF"[la % 2]
            la += 1
        else:
            row["gender"] = "MF"[int(row["ssid"]) % 2]
    return drop


def test_the_corner_a_lone_complement_hides_the_total_it_protects(tmp_path):
    with dropkit.loaded(tmp_path, not_reported_corner()) as wh:
        req = request()
        metric = "account_registered"
        raw = metrics.compute(wh, Scope.county(), metric, ("district", "gender"))
        fine = export.metric_export(wh, req, metric, ("district", "gender"))
        by_district = export.metric_export(wh, req, metric, ("district",))
        by_gender = export.metric_export(wh, req, metric, ("gender",))
        county = export.metric_export(wh, req, metric, ())
        small, mid = SMALL[:7], MID[:7]
        la = raw[(raw["district"] == mid) & (raw["gender"] == "Not reported")]
        assert int(la["denominator"].iloc[0]) == 4
        cell = int(fine.index[(fine["district"] == mid) & (fine["gender"] == "Not reported")][0])
        mon = fine[fine["district"] == small]
        assert list(mon["gender"]) == ["Not reported"] and mon["suppressed"].all()
        # the district view shows Monrovia (the complement): then the "Not reported" total
        # is hidden in the by-gender view, whose complementary suppression hides another
        assert not by_district.set_index("district").loc[small, "suppressed"]
        g = by_gender.set_index("gender")["suppressed"]
        assert g["Not reported"] and g.sum() >= 2
        # the Los Angeles 4 follows from no pair or triple of the exports
        views = [(by_district, ["district"]), (by_gender, ["gender"]),
                 (county.assign(k=1), ["k"])]
        for n in range(1, len(views) + 1):
            for chosen in itertools.combinations(views, n):
                assert not determined(fine.assign(k=1), list(chosen), cell), chosen


def check_views(wh: Warehouse, req: Request, by: tuple[str, ...]) -> int:
    """Every metric by ``by``: no hidden number can be read directly or worked out as a total
    minus the visible parts, in its own view or in a view whose population is its count.
    Returns how many parent-hidden populations were checked (so a test can say it saw some)."""
    seen = 0
    frames = {m: export.metric_export(wh, req, m, by) for m in metrics.METRICS}
    for metric_id, frame in frames.items():
        for part in _partitions(frame, by):
            if len(part) < 2:
                continue  # equal to a cell of a coarser view: checked below
            hidden = frame.loc[part, "numerator"].isna() & (frame.loc[part, "denominator"]
                                                            .fillna(1) > 0)
            assert hidden.sum() != 1, (metric_id, by, "one hidden count among visible parts")
            sizes = frame.loc[part, "denominator"]
            assert sizes.isna().sum() != 1, (metric_id, by, "one hidden population")
        for dim in by:
            coarse = _coarser(by, dim)
            if coarse is None or frame.empty:
                continue
            view, keys = coarse
            fine = frame.assign(district=frame["school"].str[:7]) if dim == "school" else frame
            group = [d for d in by if d != dim] + (["district"] if dim == "school" else [])
            counts = fine.groupby(group, sort=False)[dim].transform("size")
            lone = fine[(counts == 1) & fine["numerator"].isna()]
            if lone.empty:
                continue
            other = export.metric_export(wh, req, metric_id, view).set_index(keys)
            for _, row in lone.iterrows():
                key = tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]
                if pd.isna(other.loc[key, "numerator"]):
                    continue
                # shown there: then it was hidden here only as the last complement of a
                # partition, and that partition's total is hidden in its coarser view
                if not pd.isna(row["denominator"]):
                    assert not 0 < row["denominator"] < req.threshold, (metric_id, by, key)
                # (a population hidden as the parent's count: the parent's own row, checked
                # in the parent's turn, is the one judged by its size)
                assert (_protected_elsewhere(wh, req, metric_id, frame, by, dim, row)
                        or not _small_cell_worked_out(wh, req, metric_id, frame, by)), (
                    metric_id, by, view, key)
        parent_id = CHILDREN.get(metric_id)
        if parent_id is None or frame.empty:
            assert frame["denominator"].notna().all() if len(frame) else True
            continue
        parent = frames[parent_id]
        keys = list(by)
        both = (frame.merge(parent, on=keys, suffixes=("", "_p")) if keys else
                frame.merge(parent, how="cross", suffixes=("", "_p")))
        assert len(both) == len(frame), "every child group is a parent group"
        for _, row in both.iterrows():
            if pd.isna(row["numerator_p"]) and row["denominator_p"]:
                # the parent's count is hidden: the child's population, count and rate too
                assert pd.isna(row["denominator"]), (metric_id, by, dict(row))
                assert pd.isna(row["numerator"]) and pd.isna(row["rate"])
                assert row["suppressed"]
                seen += 1
            else:
                assert row["denominator"] == row["numerator_p"], (metric_id, by, dict(row))
    return seen


BREAKDOWNS = [("district",), ("school",), ("grade_level",), ("drop_date",),
              *((g,) for g in SUBGROUP_DIMENSIONS),
              *(("district", g) for g in SUBGROUP_DIMENSIONS), ("school", "race_ethnicity")]
"""Every breakdown a page or ``export`` offers for one drop, every district x group heat map,
and a school x group table."""


def test_the_issue_case_every_export_hides_the_same_counts(tmp_path):
    with dropkit.loaded(tmp_path, three_districts()) as wh:
        req = request()
        parent = export.metric_export(wh, req, "uc_eligible", ("district",)).set_index(
            "district")
        small, mid = SMALL[:7], MID[:7]
        assert parent.loc[small, "denominator"] == 7 and parent.loc[small, "suppressed"]
        assert parent.loc[mid, "suppressed"]  # complementary: the next smallest district
        for child in CHILDREN:
            rows = export.metric_export(wh, req, child, ("district",)).set_index("district")
            assert rows.loc[[small, mid], "denominator"].isna().all(), child
            assert rows.loc[[small, mid], "rate"].isna().all(), child
            assert not rows.drop(index=[small, mid])["denominator"].isna().any(), child
        assert sum(check_views(wh, req, by) for by in BREAKDOWNS) > 0


def _size_column(table: pd.DataFrame, metric_id: str) -> str:
    return next(c for c in table.columns
                if c == metrics.metric(metric_id).population_title)


def test_the_issue_case_every_page_table_hides_the_same_counts(tmp_path):
    """The tables the pages show (and download, byte for byte) as the topics build them."""
    with dropkit.loaded(tmp_path, three_districts()) as wh:
        req = request()
        uc = views.metric_view(wh, req, "uc_eligible", ("school",)).set_index("school_label")
        table = apps.follow_up(wh, req).table.set_index("School")
        hidden_schools = set(uc.index[uc["suppressed"]])
        assert hidden_schools, "the small school's UC-eligible count is hidden by school"
        for school in uc.index:
            expected = "*" if school in hidden_schools else f"{int(uc.loc[school, 'numerator']):,}"
            assert table.loc[school, "UC-eligible seniors"] == expected, school
        for child in CHILDREN:
            parent = views.metric_view(wh, req, CHILDREN[child], ("district",))
            hidden = set(parent.loc[parent["suppressed"], "district_label"])
            assert hidden
            for dim in ("district", "school"):
                p = panels.breakdown(wh, req, child, dim)
                col = _size_column(p.table, child)
                if dim == "district":
                    shown = p.table.set_index("District")[col]
                    assert all(shown[d] == "*" for d in hidden), (child, shown)
            heat = equity.district_heatmap(wh, req, child, "gender").table
            col = _size_column(heat, child)
            for d in hidden:
                assert set(heat.loc[heat["District"] == d, col]) == {"*"}, (child, d)
            gap = equity.gap(wh, req, child, "gender").table
            weekly = equity.group_trend(wh, req, child, "gender").table
            for t, dims in ((gap, ("gender",)), (weekly, ("drop_date", "gender"))):
                expected = views.metric_view(wh, req, child, dims)
                assert sorted(t[_size_column(t, child)].iloc[-len(expected):]) == sorted(
                    expected["size_text"]), child
            card = views.headline(wh, req, child)
            total = views.metric_view(wh, req, CHILDREN[child], ())
            assert (card.denominator is None) == bool(total["suppressed"].iloc[0])


def test_the_issue_case_in_the_app(tmp_path, monkeypatch):
    """The College applications page of a demo visitor on the three districts: the follow-up
    table (what its download writes) hides the small district's school."""
    with dropkit.loaded(tmp_path, three_districts()) as wh:
        pass
    monkeypatch.setenv("CCGI_DEMO_DIR", str(wh.dd.root))
    monkeypatch.setenv("CCGI_DATA_DIR", str(tmp_path / "no-live"))
    monkeypatch.delenv("CCGI_USERS_FILE", raising=False)
    monkeypatch.delenv("CCGI_COOKIE_KEY", raising=False)
    at = demo_app("coe", "app_pages/applications.py")
    assert not at.exception, at.exception
    table = table_with(at, "School", "UC-eligible seniors").set_index("School")
    assert table.loc["Monrovia High", "UC-eligible seniors"] == "*"
    assert table.loc["Central High", "UC-eligible seniors"] == "*"
    assert table.loc["Lakewood High", "UC-eligible seniors"] != "*"
    at.session_state["apps_measure"] = "uc_eligible_applied"
    at.session_state["apps_by"] = "District"
    at.run()
    shown = table_with(at, "District", "UC-eligible seniors").set_index("District")
    assert shown.loc["Monrovia Unified", "UC-eligible seniors"] == "*"
    assert shown.loc["Los Angeles Unified", "UC-eligible seniors"] == "*"
    assert shown.loc["Monrovia Unified", "Rate"] == "*"


@st.composite
def small_drops(draw) -> tuple[dropkit.Drop, int]:
    """A drop of 3 to 4 districts' schools with random senior classes, a-g statuses, genders
    and foster youth, and a threshold from 5 to 15. Each aims at the corner of complementary
    suppression too: a one-school district whose students are all of gender "Not reported",
    and 1 to 6 "Not reported" students elsewhere."""
    seniors = draw(st.integers(20, 90))
    schools = (*BIG, MID, SMALL)[:draw(st.integers(3, 4))]
    drop = dropkit.make_drop(students=7 * seniors, schools=schools)
    rng = random.Random(draw(st.integers(0, 2**16)))
    cds = list({r["school_cds"] for r in drop.tables["students"]})
    weights = [draw(st.integers(1, 12)) for _ in cds]
    lone = draw(st.sampled_from([s for s in schools if s in (MID, SMALL)]))
    few = draw(st.integers(1, 6))
    for row in drop.tables["students"]:
        if row["grade_level"] == "12":
            _place(drop, row["ssid"], rng.choices(cds, weights)[0])
        row["gender"] = rng.choice("MFFFX")
        row["foster_youth"] = rng.choice(["Y", "N", "N", "N", ""])
    others = [r for r in drop.tables["students"] if r["school_cds"] != lone]
    for row in drop.tables["students"]:
        if row["school_cds"] == lone:
            row["gender"] = ""
    for row in rng.sample(others, few):
        row["gender"] = ""
    for row in drop.tables["ag_eligibility"]:
        row["uc_status"] = rng.choice(dropkit.AG)
        row["csu_status"] = rng.choice(dropkit.AG[:1] * 2 + dropkit.AG[1:])
    return drop, draw(st.integers(5, 15))


@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=small_drops())
def test_no_view_reveals_a_cell_another_hides(tmp_path_factory, case):
    drop, threshold = case
    with dropkit.loaded(tmp_path_factory.mktemp("prop"), drop) as wh:
        req = request(threshold)
        for by in [*BREAKDOWNS, ()]:
            check_views(wh, req, by)
        for child, parent in CHILDREN.items():
            hidden = views.metric_view(wh, req, parent, ("district",))
            table = panels.breakdown(wh, req, child, "district").table
            if table.empty:
                continue
            shown = table.set_index("District")[metrics.metric(child).population_title]
            for _, row in hidden[hidden["suppressed"]].iterrows():
                assert shown[row["district_label"]] == "*"
        # the follow-up table (and its download) by school, against the a-g view by school
        uc = views.metric_view(wh, req, "uc_eligible", ("school",)).set_index("school_label")
        follow = apps.follow_up(wh, req).table
        if not follow.empty:
            follow = follow.set_index("School")
            for school, row in uc.iterrows():
                if school in follow.index:
                    want = "*" if row["suppressed"] else f"{int(row['numerator']):,}"
                    assert follow.loc[school, "UC-eligible seniors"] == want, school


@pytest.mark.parametrize("by", [("district",), ("gender",)])
def test_a_population_that_is_no_count_is_never_hidden(tmp_path, by):
    """Seniors and all students are no metric's count: their sizes always show (showing a
    group's size beside a * is fine)."""
    with dropkit.loaded(tmp_path, three_districts()) as wh:
        for m in metrics.METRICS.values():
            if m.parent is None:
                frame = export.metric_export(wh, request(), m.id, by)
                assert frame["denominator"].notna().all(), m.id


def test_every_counted_population_is_its_parent_count(tmp_path):
    """The catalogue's ``count_of`` is true to the data: the child's population equals the
    parent's count in every group."""
    with dropkit.loaded(tmp_path, three_districts()) as wh:
        for child, parent in CHILDREN.items():
            for by in (("district",), ("school", "gender")):
                c = metrics.compute(wh, Scope.county(), child, by)
                p = metrics.compute(wh, Scope.county(), parent, by).set_index(list(by))
                got = c.set_index(list(by))["denominator"]
                assert (p["numerator"].reindex(got.index) == got).all(), (child, by)
                assert int(p["numerator"].sum()) == int(got.sum())
    assert set(CHILDREN) == {"uc_eligible_applied", "csu_eligible_applied"}
    assert all(DIMENSIONS for _ in CHILDREN)


def test_the_order_of_a_breakdowns_dimensions_does_not_change_what_is_hidden(tmp_path):
    """``district x gender`` and ``gender x district`` are one table: the same cells are
    hidden in both (complements included)."""
    with dropkit.loaded(tmp_path, three_districts()) as wh:
        req = request()
        for m in ("uc_eligible", "account_registered", "uc_eligible_applied"):
            a = export.metric_export(wh, req, m, ("district", "gender"))
            b = export.metric_export(wh, req, m, ("gender", "district"))
            key = ["district", "gender"]
            a = a.set_index(key)["suppressed"].sort_index()
            b = b.set_index(key)["suppressed"].sort_index()
            assert a.any() and a.equals(b), m
