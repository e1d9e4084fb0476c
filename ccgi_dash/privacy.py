"""Small-cell suppression and safe output, as access-and-privacy.md says.

One function decides which cells are hidden (``suppress``), and every view (chart, table,
CSV download, CLI export) calls it on the same frame, so the same cells are hidden
everywhere. Suppression hides a count and its rate when the group has 1 to threshold-1
students, then hides more parts wherever a hidden part could be recovered by subtracting the
shown parts from a total (complementary suppression).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import pandas as pd

SUPPRESSED = "*"
EMPTY_GROUP = "--"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_NO_COMPLEMENT = {"drop_date", "county"}
"""Dimensions whose values are not parts of a shown total (trend points, the one county)."""


def _partitions(frame: pd.DataFrame, by: Sequence[str]) -> list[pd.Index]:
    """Groups of rows that are parts of one total somewhere in the product.

    For each breakdown dimension, the parts along it (all other dimensions held fixed) add up
    to a total shown elsewhere; schools are also parts of their district's total.
    """
    out: list[pd.Index] = []
    by = list(by)
    for i, dim in enumerate(by):
        if dim in _NO_COMPLEMENT:
            continue
        others = [d for j, d in enumerate(by) if j != i]
        keys = list(others)
        if dim == "school" and "school_district" in frame:
            out.extend(_grouped(frame, [*keys, "school_district"]))
        out.extend(_grouped(frame, keys))
    return out


def _grouped(frame: pd.DataFrame, keys: list[str]) -> list[pd.Index]:
    if not keys:
        return [frame.index]
    grouper = keys[0] if len(keys) == 1 else keys
    return list(frame.groupby(grouper, dropna=False, sort=False).groups.values())


def suppress(frame: pd.DataFrame, by: Sequence[str], threshold: int = 11,
             count_col: str = "denominator") -> pd.DataFrame:
    """Return a copy with a ``suppressed`` column and hidden values set to missing.

    ``count_col`` is the group size a row is judged by (the denominator of a rate, the
    students of a ranked entry). Suppressed rows get ``numerator`` and ``rate`` (and, for
    ranked lists, ``students`` and ``share``) emptied; the group size stays, as the export
    contract keeps ``denominator``.
    """
    out = frame.copy()
    if out.empty:
        out["suppressed"] = pd.Series(dtype=bool)
        return out
    sizes = out[count_col].astype("int64")
    hidden = (sizes >= 1) & (sizes < threshold)
    parts = _partitions(out, by)
    changed = True
    while changed:
        changed = False
        for idx in parts:
            if len(idx) < 2:
                continue
            h = hidden.loc[idx]
            if not h.any():
                continue
            hidden_size = int(sizes.loc[idx][h].sum())
            if h.sum() == 1 or hidden_size < threshold:
                candidates = sizes.loc[idx][~h & (sizes.loc[idx] > 0)]
                if candidates.empty:
                    continue
                pick = candidates.sort_values(kind="stable").index[0]
                hidden.loc[pick] = True
                changed = True
    out["suppressed"] = hidden.astype(bool)
    blank = ("students", "share") if count_col == "students" else ("numerator", "rate", "share")
    for col in blank:
        if col in out:
            out[col] = out[col].astype("object").where(~hidden, None)
    return out


def format_rate(rate: object, denominator: object, suppressed: bool, digits: int = 1) -> str:
    """How a rate reads in a table: ``*`` when suppressed, ``--`` for an empty group."""
    if suppressed:
        return SUPPRESSED
    if denominator in (0, None) or rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return EMPTY_GROUP
    return f"{float(rate) * 100:.{digits}f}%"


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
