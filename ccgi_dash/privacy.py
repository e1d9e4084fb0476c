"""Small-cell suppression and safe output, as access-and-privacy.md says.

One function decides which cells of a metric view are hidden (``suppress_metric``), and every
view (card, chart, tooltip, table, CSV download, CLI export, equity tables, follow-up table)
calls it, so two views of one drop cannot disagree. Suppression hides a count and its rate
when the group has 1 to threshold-1 students, then hides more parts wherever a hidden part
could be recovered by subtracting the shown parts from a total (complementary suppression).

A population can itself be another metric's count (UC-eligible seniors are the count of
``uc_eligible``). Such a population is a number the parent view may hide, so
``suppress_metric`` computes the parent's suppression for the same scope, filters, drop and
breakdown and hides the child's population, count and rate wherever the parent's count is
hidden, primary and complementary alike. ``suppress`` is the cell rule underneath, also used
for ranked lists (counts of items, not metrics).
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ccgi_dash.memo import WarehouseMemo

if TYPE_CHECKING:
    from ccgi_dash.metrics import Request
    from ccgi_dash.store import Warehouse

SUPPRESSED = "*"
EMPTY_GROUP = "--"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_NO_COMPLEMENT = {"drop_date", "county"}
"""Dimensions whose values are not parts of a shown total (trend points, the one county)."""


def _kinds(frame: pd.DataFrame, by: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The kinds of partition of a view: (the dimension the parts run along, the columns
    held fixed). For each breakdown dimension, the parts along it (all other dimensions held
    fixed) add up to a total shown elsewhere; schools are also parts of their district's."""
    out: list[tuple[str, list[str]]] = []
    by = list(by)
    for i, dim in enumerate(by):
        if dim in _NO_COMPLEMENT:
            continue
        others = [d for j, d in enumerate(by) if j != i]
        if dim == "school" and "school_district" in frame:
            out.append((dim, [*others, "school_district"]))
        out.append((dim, others))
    return out


def _group_ids(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Each row's group number when rows are grouped by ``cols`` (all one group for none)."""
    if not cols:
        return np.zeros(len(frame), dtype=np.int64)
    # pd.factorize per column, codes combined: what groupby(sort=False, dropna=False).ngroup()
    # gives (groups numbered in order of first appearance, a missing value a group of its
    # own) at a tenth of its cost; a page's suppression calls this dozens of times.
    ids: np.ndarray | None = None
    for col in cols:
        codes, uniques = pd.factorize(frame[col], use_na_sentinel=False)
        codes = codes.astype(np.int64)
        ids = codes if ids is None else ids * (len(uniques) + 1) + codes
    assert ids is not None
    return ids if len(cols) == 1 else pd.factorize(ids)[0].astype(np.int64)


def _positions(ids: np.ndarray) -> list[np.ndarray]:
    """Row positions of each group, groups in order of first appearance, rows in order."""
    if not len(ids):
        return []
    order = np.argsort(ids, kind="stable")
    bounds = [0, *(np.flatnonzero(np.diff(ids[order])) + 1).tolist(), len(order)]
    groups = [order[a:b] for a, b in itertools.pairwise(bounds)]
    return sorted(groups, key=lambda g: int(g[0]))


def _partitions(frame: pd.DataFrame, by: Sequence[str]) -> list[np.ndarray]:
    """Row positions of the groups of rows that are parts of one total somewhere in the
    product (``_kinds``)."""
    out: list[np.ndarray] = []
    for _, cols in _kinds(frame, by):
        out.extend(_positions(_group_ids(frame, cols)))
    return out


def suppress(frame: pd.DataFrame, by: Sequence[str], threshold: int,
             count_col: str = "denominator", force: pd.Series | None = None) -> pd.DataFrame:
    """Return a copy with a ``suppressed`` column and hidden values set to missing.

    ``count_col`` is the group size a row is judged by (the denominator of a rate, the
    students of a ranked entry). Suppressed rows get ``numerator`` and ``rate`` (and, for
    ranked lists, ``students`` and ``share``) emptied; the group size stays, as the export
    contract keeps ``denominator``. ``force`` marks rows hidden whatever their size (a
    parent's hidden count); complementary suppression then starts from them too.
    """
    out = frame.copy()
    if out.empty:
        out["suppressed"] = pd.Series(dtype=bool)
        return out
    hidden = _hide(out, by, threshold, count_col, force)
    out["suppressed"] = hidden
    blank = ("students", "share") if count_col == "students" else ("numerator", "rate", "share")
    for col in blank:
        if col in out:
            out[col] = out[col].astype("object").where(~hidden, None)
    return out


def _hide(frame: pd.DataFrame, by: Sequence[str], threshold: int,
          count_col: str = "denominator", force: pd.Series | None = None) -> np.ndarray:
    """The rows ``suppress`` hides, by position: the small ones, the forced ones, then
    complements until no partition has exactly one hidden row or hidden rows of fewer than
    ``threshold`` students together (while any other row with students is left)."""
    sizes = pd.to_numeric(frame[count_col], errors="coerce").fillna(0).astype(
        "int64").to_numpy()
    hidden = (sizes >= 1) & (sizes < threshold)
    if force is not None:
        hidden |= force.reindex(frame.index, fill_value=False).to_numpy(dtype=bool)
    every = _partitions(frame, by)
    parts = [p for p in every if len(p) >= 2]
    # A row alone in one of its partitions equals a total another view shows (a district's
    # only school is the district): hiding it as a complement would hide nothing, so such
    # rows are picked only when no other candidate is left (and then the coarser view hides
    # the total they were to protect: ``_unprotected``).
    alone = _alone(sizes, every)
    changed = True
    while changed:
        changed = False
        for idx in parts:
            h = hidden[idx]
            n = int(h.sum())
            if not n:
                continue
            if n == 1 or int(sizes[idx][h].sum()) < threshold:
                cand = idx[~h & (sizes[idx] > 0)]
                if not len(cand):
                    continue
                pick = cand[np.lexsort((sizes[cand], alone[cand]))[0]]
                hidden[pick] = True
                changed = True
    return hidden


def _alone_in(sizes: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``_alone`` for one grouping of the rows (``_group_ids``), counted with ``bincount``."""
    rows = np.bincount(ids)
    with_students = np.bincount(ids, weights=sizes > 0)
    return (rows[ids] == 1) | ((sizes > 0) & (with_students[ids] == 1))


def _alone(sizes: np.ndarray, parts: list[np.ndarray]) -> np.ndarray:
    """Rows (by position) that are the only one with students in one of their partitions:
    such a row equals that partition's total, a cell another (coarser) view shows."""
    alone = np.zeros(len(sizes), dtype=bool)
    for idx in parts:
        if len(idx) == 1:
            alone[idx] = True
            continue
        with_students = idx[sizes[idx] > 0]
        if len(with_students) == 1:
            alone[with_students] = True
    return alone


def _canonical(by: Sequence[str]) -> list[str]:
    """A breakdown's dimensions in the catalogue's order: ``district x gender`` and
    ``gender x district`` are one table, so they are suppressed as one (same partitions in
    the same order, rows in the same order, hence the same complements)."""
    from ccgi_dash.datasets import DIMENSIONS

    order = {d: i for i, d in enumerate(DIMENSIONS)}
    return sorted(by, key=lambda d: order.get(d, len(order)))


def _suppress_canonical(frame: pd.DataFrame, by: Sequence[str], threshold: int,
                        force: pd.Series | None = None) -> pd.DataFrame:
    """``suppress`` on the rows sorted by the canonical breakdown, returned in the frame's
    own order: the result does not depend on how a caller ordered the dimensions."""
    dims = _canonical(by)
    if frame.empty or not dims:
        return suppress(frame, dims, threshold, force=force)
    order = frame.index[_canonical_order(frame, dims)]
    out = suppress(frame.loc[order], dims, threshold,
                   force=None if force is None else force.loc[order])
    return out.loc[frame.index]


def _canonical_order(frame: pd.DataFrame, dims: list[str]) -> np.ndarray:
    """Row positions sorted by the breakdown's values (as text), stable."""
    if not dims:
        return np.arange(len(frame))
    keys = [frame[d].astype(str).to_numpy() for d in reversed(dims)]
    return np.lexsort(keys)


def _complementable() -> tuple[str, ...]:
    from ccgi_dash.datasets import DIMENSIONS

    return tuple(d for d in DIMENSIONS if d not in _NO_COMPLEMENT)


def _finer(by: Sequence[str]) -> list[tuple[list[str], list[str]]]:
    """The finer views whose partitions add up to a cell of ``by``: (the finer breakdown,
    the finer columns that name the cell of ``by``, in ``by``'s order, ``school_district``
    standing for ``district``).

    Only finer views with two kinds of partition are listed: a row can be alone (equal to
    another view's cell) only in a view whose rows are parts of two totals, and only there
    can a partition be left with complements that another view shows (``_unprotected``).
    The district x school relation counts as a second kind (schools add up to districts).
    """
    by = list(by)
    comp = [d for d in by if d not in _NO_COMPLEMENT]
    out: list[tuple[list[str], list[str]]] = []
    if "district" in by and "school" not in by:
        fine = ["school" if d == "district" else d for d in by]
        out.append((fine, ["school_district" if d == "district" else d for d in by]))
    if len(by) == 1 and comp:
        pair = {"district": "school", "school": "district"}.get(by[0])
        for x in _complementable():
            if x not in (by[0], pair):
                out.append(([by[0], x], [by[0]]))
    elif len(by) == 1 or not by:
        out.append(([*by, "school"], list(by)))
    return out


def _finer_views(by: Sequence[str]) -> list[list[str]]:
    """The finer views ``_from_finer`` counts for ``by`` (canonical order, as ``_plain`` asks
    them), so that one query counts them all (``metrics.group_sizes``). The views of their
    partitions' totals are asked only where a lone row needs them, so they are left out:
    counting them all in advance costs more than the few asked."""
    return [_canonical(fine_by) for fine_by, _ in _finer(by)]


def _unprotected(frame: pd.DataFrame, hidden: np.ndarray, keys: list[str], threshold: int,
                 plain_hidden: Callable[[list[str]], set[tuple]],
                 by: Sequence[str]) -> set[tuple]:
    """Cells of the coarser view whose finer partition (rows of ``frame`` sharing
    ``keys``) the plain cell rule cannot protect with complements no other view
    shows: those cells must be hidden in the coarser view too.

    ``frame`` holds the raw counts of the finer view (by ``by``), ``hidden`` the rows the
    plain rule hides in it (``_plain``). A hidden row
    that is not small itself (hidden only as a complement) and is the only row with students
    in some partition equals that partition's total, a cell of another view (a district
    whose only student group is g is the district's total); where that view shows the cell
    (``plain_hidden``: the cells the plain rule hides in the view of the given columns), the
    row can be read there. Counting such rows as shown, what is left hidden in the partition
    must be none, or two or more rows of at least ``threshold`` students together; otherwise
    the partition's total, shown beside the visible parts, gives the hidden part away.
    Decided from raw counts with the plain rule, so the coarser view never asks a finer
    view's suppressed result (no circle)."""
    if frame.empty:
        return set()
    sizes = frame["denominator"].fillna(0).astype("int64").to_numpy()
    small = (sizes >= 1) & (sizes < threshold)
    if not small.any():
        return set()  # the plain rule hides nothing here
    readable = np.zeros(len(frame), dtype=bool)
    for _, cols in _kinds(frame, by):
        alone = _alone_in(sizes, _group_ids(frame, cols)) & hidden & ~small
        if not alone.any():
            continue
        there = plain_hidden(cols)
        for i in np.flatnonzero(alone):
            cell = tuple(frame[c].iat[i] for c in cols)
            readable[i] |= cell not in there
    strong = hidden & ~readable
    if not strong.any():
        return set()
    # per partition (rows sharing ``keys``): how many rows are strongly hidden and how many
    # students they hold together; each flagged partition is named by its first row
    ids = _group_ids(frame, keys)
    n = np.bincount(ids, weights=strong)
    students = np.bincount(ids, weights=np.where(strong, sizes, 0))
    flagged = (n >= 1) & ((n == 1) | (students < threshold))
    first = np.unique(ids, return_index=True)[1]
    rows = frame[keys].iloc[first[flagged]] if keys else frame.iloc[first[flagged], :0]
    return set(rows.itertuples(index=False, name=None))


KEY_COLUMNS = ("county", "district", "school", "grade_level", "drop_date")
"""Breakdown columns that identify a row (with any subgroup dimension)."""


_DECIDED = WarehouseMemo(capacity=4096)
"""Decisions (``suppress_metric``) and the plain rule's results on finer views (``_plain``,
``_from_finer``): small frames and sets, and many of them (every pair of dimensions of every
population a page asks)."""


def _suppressed_view(wh: Warehouse, request: Request, metric_id: str,
                     by: Sequence[str]) -> pd.DataFrame:
    """A parent's or a coarser view's suppressed frame, as ``suppress_metric`` needs it.

    The counts and the decision are remembered per warehouse (``metrics.compute``,
    ``suppress_metric``), so the cards, charts and tables of one page, which share parents
    and coarser views, do not count or decide them again."""
    from ccgi_dash import metrics

    return suppress_metric(wh, request, metric_id, by, metrics.compute(
        wh, request.scope, metric_id, by, request.filters, request.as_of))


def suppress_metric(wh: Warehouse, request: Request, metric_id: str, by: Sequence[str],
                    frame: pd.DataFrame) -> pd.DataFrame:
    """THE suppression of a metric view: every card, chart, table, download and export of a
    metric goes through here, so the same cells are hidden in every view of one drop.

    ``frame`` is ``metrics.compute(wh, request.scope, metric_id, by, request.filters,
    request.as_of)``. Returns it with ``suppressed`` and ``population_hidden`` columns;
    hidden rows have no ``numerator`` and ``rate``, and rows whose population is a hidden
    count of the parent metric have no ``denominator`` either.

    Which cells are hidden depends on the groups' sizes alone, never on a numerator: the
    cell rule, complements, the parent's hidden count, coarser and finer views all read
    denominators, and every metric of one population has the same denominators (and the
    same parent). So the decision is made once per population, request and breakdown
    (``_decide``), remembered, and applied to each metric's own counts: a page that shows
    five measures of seniors by school decides once, and the five cannot disagree.
    """
    from ccgi_dash import metrics

    by = list(by)
    population = metrics.metric(metric_id).population
    decided: pd.DataFrame = _memo(  # type: ignore[assignment]
        wh, ("decided", request, population, tuple(by)),
        lambda: _decide(wh, request, metric_id, by, frame))
    out = _apply(decided, frame, by)
    return out if out is not None else _decide(wh, request, metric_id, by, frame)


def _apply(decided: pd.DataFrame, frame: pd.DataFrame, by: list[str]) -> pd.DataFrame | None:
    """``decided`` (another metric of the same population, suppressed) with ``frame``'s
    numerators and rates where they are shown; None if the two frames' groups differ (they
    never should: then the caller decides for this metric itself)."""
    if len(frame) > len(decided):
        return None
    hidden = decided["suppressed"].to_numpy(dtype=bool)
    if not by:
        if len(frame) != len(decided):
            return None
        num = frame["numerator"].to_numpy(dtype=object)
        rate = frame["rate"].to_numpy(dtype=object)
    elif len(frame) == len(decided) and all(_same(frame[d], decided[d]) for d in by):
        # the same groups in the same order (no group added for a hidden parent): the
        # usual case, matched by position (numpy, not pandas: a page applies a hundred)
        num = frame["numerator"].to_numpy(dtype=object)
        rate = frame["rate"].to_numpy(dtype=object)
    else:
        keyed = frame.set_index(by)
        index = decided.set_index(by).index
        if not keyed.index.isin(index).all():
            return None
        num = keyed["numerator"].astype("object").reindex(index).to_numpy()
        rate = keyed["rate"].astype("object").reindex(index).to_numpy()
    out = decided.copy()
    out["numerator"] = np.where(hidden, None, num)
    out["rate"] = np.where(hidden, None, rate)
    return out


def _same(a: pd.Series, b: pd.Series) -> bool:
    """Whether two columns hold the same values in the same order (missing equal to
    missing): by numpy first (a page asks a hundred times), by pandas where numpy says no
    or cannot tell (a missing value, NaN or ``pd.NA``, is not equal to itself there)."""
    try:
        if np.array_equal(a.to_numpy(dtype=object), b.to_numpy(dtype=object)):
            return True
    except TypeError:  # pd.NA has no truth value
        pass
    return a.reset_index(drop=True).equals(b.reset_index(drop=True))


def _decide(wh: Warehouse, request: Request, metric_id: str, by: list[str],
            frame: pd.DataFrame) -> pd.DataFrame:
    """``suppress_metric`` of one metric: the parent's hidden count, the lone rows of coarser
    views and the finer views' unprotected totals forced hidden, then the cell rule and
    complements (``suppress``)."""
    from ccgi_dash import metrics

    parent_id = metrics.metric(metric_id).parent
    force = None
    if parent_id is not None and not frame.empty:
        parent = _suppressed_view(wh, request, parent_id, by)
        if by:
            # a group the parent hides but the child lacks (no one in the population) would
            # read as "0" by its absence: it is listed, hidden, like the others
            have = set(frame.set_index(by).index)
            absent = pd.Series([k not in have for k in parent.set_index(by).index],
                               index=parent.index, dtype=bool)
            extra = parent[parent["suppressed"].astype(bool) & absent]
            if len(extra):
                add = extra[[c for c in frame.columns if c in extra.columns]].assign(
                    numerator=0, denominator=0, rate=None)
                frame = pd.concat([frame, add[frame.columns]], ignore_index=True)
                frame = frame.sort_values(by, kind="stable").reset_index(drop=True)
            keys = parent.set_index(by)["suppressed"]
            index = frame.set_index(by).index
            force = pd.Series(keys.reindex(index, fill_value=False).to_numpy(dtype=bool),
                              index=frame.index)
        else:
            force = pd.Series([bool(parent["suppressed"].iloc[0])] * len(frame),
                              index=frame.index)
    lone = _lone_hidden(wh, request, metric_id, by, frame) | _from_finer(
        wh, request, metric_id, by, frame)
    out = _suppress_canonical(frame, by, request.threshold,
                              force=lone if force is None else (force | lone))
    hide_pop = force if force is not None else pd.Series(False, index=out.index)
    out["population_hidden"] = hide_pop.reindex(out.index, fill_value=False).astype(bool)
    if out["population_hidden"].any():
        out["denominator"] = out["denominator"].astype("object").where(
            ~out["population_hidden"], None)
    return out


def _memo(wh: Warehouse, key: tuple, make: Callable[[], object]) -> object:
    """``make()`` remembered per warehouse and catalogue under ``key`` (``_DECIDED``): the
    views of one page share most of their finer and coarser views, and its parallel panels
    ask the same decisions at once. A decision waits only on coarser views, parents and
    finer counts, never on itself."""
    from ccgi_dash import metrics

    return _DECIDED.get_or_make(wh, (id(metrics.METRICS), *key), make)


def _plain(wh: Warehouse, request: Request, metric_id: str,
           by: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """A view's group sizes (``metrics.group_sizes``) and the rows the plain cell rule hides in
    it (no parent, no coarser or finer view): what ``_from_finer`` reasons with."""
    from ccgi_dash import metrics

    dims = _canonical(by)
    population = metrics.metric(metric_id).population

    def make() -> tuple[pd.DataFrame, np.ndarray]:
        raw = metrics.group_sizes(wh, request.scope, population, [dims], request.filters,
                                  request.as_of)[0]
        sizes = raw["denominator"].to_numpy() if len(raw) else np.zeros(0)
        if not ((sizes >= 1) & (sizes < request.threshold)).any():
            return raw, np.zeros(len(raw), dtype=bool)  # nothing small: nothing hidden
        order = _canonical_order(raw, dims)
        hidden = np.zeros(len(raw), dtype=bool)
        hidden[order] = _hide(raw.iloc[order], dims, request.threshold)
        return raw, hidden

    # Keyed by population, not metric: only the group sizes are read (``suppress_metric``),
    # and by the canonical breakdown: gender x school and school x gender are one view.
    key = ("plain", request, population, tuple(dims))
    return _memo(wh, key, make)  # type: ignore[return-value]


def _from_finer(wh: Warehouse, request: Request, metric_id: str, by: list[str],
                frame: pd.DataFrame) -> pd.Series:
    """Rows of a view to hide because they are the total of a finer view's partition that
    the finer view cannot protect (``_unprotected``): a district x gender view whose only
    possible complement for a hidden "Not reported" cell is a district made of "Not
    reported" students alone (that district's total, shown in the district view) makes the
    by-gender view hide the "Not reported" total; that view's own complementary suppression
    then runs as usual. Decided from the finer view's raw counts: never from its
    suppressed result, which asks this view (``_lone_hidden``)."""
    from ccgi_dash import metrics

    out = pd.Series(False, index=frame.index)
    if frame.empty:
        return out
    population = metrics.metric(metric_id).population
    metrics.group_sizes(wh, request.scope, population, _finer_views(by), request.filters,
                        request.as_of)  # counted together now, read one by one below

    def plain_hidden(cols: list[str]) -> set[tuple]:
        """Cells the plain rule hides in the view of ``cols`` (``school_district`` read as
        ``district``), keyed in ``cols``' order."""
        view = ["district" if c == "school_district" else c for c in cols]
        raw, hidden = _plain(wh, request, metric_id, view)
        if raw.empty or not hidden.any():
            return set()
        if not view:
            return {()}
        rows = raw[hidden]
        return set(zip(*(rows[c] for c in view), strict=True))

    for fine_by, keys in _finer(by):
        def unprotected(fine_by: list[str] = fine_by, keys: list[str] = keys) -> set[tuple]:
            fine, hidden = _plain(wh, request, metric_id, fine_by)
            return _unprotected(fine, hidden, keys, request.threshold, plain_hidden, fine_by)

        flagged: set[tuple] = _memo(wh, ("unprotected", request, population, tuple(fine_by),
                                         tuple(keys)), unprotected)  # type: ignore[assignment]
        if not flagged:
            continue
        if not by:
            out[:] = () in flagged
            continue
        cells = list(zip(*(frame[d] for d in by), strict=True))
        out |= pd.Series([c in flagged for c in cells], index=frame.index)
    return out


def _lone_hidden(wh: Warehouse, request: Request, metric_id: str, by: list[str],
                 frame: pd.DataFrame) -> pd.Series:
    """Rows that equal a hidden cell of a coarser view: a district's only school where the
    district view hides the district, a district's only student group where the district's
    total is hidden. The coarser view is suppressed first (it never depends on a finer one),
    so the two views hide the same number."""

    out = pd.Series(False, index=frame.index)
    if frame.empty:
        return out
    for dim in by:
        if dim in _NO_COMPLEMENT:
            continue
        others = [d for d in by if d != dim]
        if dim == "school":
            coarse, group = ["district", *others], [*others, "school_district"]
        elif others:
            coarse, group = others, others
        else:
            continue
        if len(set(coarse)) != len(coarse):
            continue  # school x district: a school's district is the row's own district
        sizes = frame["denominator"].fillna(0).astype("int64").to_numpy()
        lone = _alone_in(sizes, _group_ids(frame, group))
        if not lone.any():
            continue
        view = _suppressed_view(wh, request, metric_id, coarse)
        hidden = view.set_index(coarse)["suppressed"]
        cols = [frame["school_district"] if (d == "district" and dim == "school") else frame[d]
                for d in coarse]
        index = (pd.MultiIndex.from_arrays(cols, names=coarse) if len(cols) > 1
                 else pd.Index(cols[0], name=coarse[0]))
        found = hidden.reindex(index, fill_value=False).to_numpy(dtype=bool)
        out |= pd.Series(lone & found, index=frame.index)
    return out


def format_rate(rate: object, denominator: object, suppressed: bool, digits: int = 1) -> str:
    """How a rate reads in a table: ``*`` when suppressed, ``--`` for an empty group."""
    if suppressed:
        return SUPPRESSED
    if denominator in (0, None) or rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return EMPTY_GROUP
    return f"{float(rate) * 100:.{digits}f}%"


def format_size(value: object) -> str:
    """How a group's size reads: ``*`` when it is itself a hidden count, else the number."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return SUPPRESSED
    return f"{int(value):,}"


def format_count(value: object, suppressed: bool) -> str:
    if suppressed:
        return SUPPRESSED
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return EMPTY_GROUP
    return f"{int(value):,}"


def neutralise(value: object) -> object:
    """Defuse a text cell a spreadsheet would run as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names cannot start a spreadsheet formula."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [str(neutralise(str(c))) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The CSV every download and export writes: UTF-8 with BOM (Excel), formula-safe."""
    buf = io.StringIO()
    safe_frame(frame).to_csv(buf, index=False, lineterminator="\r\n")
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
