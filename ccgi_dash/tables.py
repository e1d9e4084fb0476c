"""Tables that hold numbers: what the Table tabs show and what their downloads write.

The panels build each table as the reader reads it: counts with thousands separators
("1,234"), rates as percent with one decimal ("12.3%"), signed changes ("+1.2"), ``*`` for a
cell hidden to protect privacy and ``--`` for a group with no students
(``privacy.format_*``). Text sorts as text, so "11.4%" came before "7.3%". This module turns
such a table into numbers once, for both of its uses:

- ``styled``: a pandas ``Styler`` over the numbers whose display text is exactly the text the
  panel wrote (``*`` and ``--`` included). ``st.dataframe`` shows the text, right-aligns the
  numeric columns and sorts them by the numbers underneath. The grid draws a missing number
  as its placeholder whatever the Styler says, so a ``*`` or ``--`` cell holds ``-inf``
  there: it shows its mark, and sorts below every number (first when ascending, last when
  descending). Only the screen sees that value; ``typed`` and the downloads hold nothing
  there.
- ``for_download``: the same table with numbers as numbers, as the export contract has it:
  a hidden or empty cell is empty, and a ``suppressed`` column says which rows had a hidden
  cell. Rates stay in percent (12.3 means 12.3%) with the decimals the table shows, and
  their column is titled "... (%)" so a spreadsheet reader cannot take them for 0..1.

A column is numeric only when every cell is one of those formats (or ``*``, ``--``, blank)
and at least one is a number, and formatting the parsed number gives back exactly the text
the panel wrote: a code column ("10621660000000", "11.0701") never matches, and nothing a
reader sees changes. Nothing here imports streamlit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd
from pandas.io.formats.style import Styler

from ccgi_dash.privacy import EMPTY_GROUP, SUPPRESSED

COUNT = re.compile(r"^-?\d{1,3}(,\d{3})*$")
PERCENT = re.compile(r"^-?\d+(\.(\d+))?%$")
SIGNED = re.compile(r"^[+-]\d+(\.(\d+))?$")
NO_NUMBER = float("-inf")
"""What a ``*`` or ``--`` cell holds under its mark on screen (see ``styled``)."""
MARKERS = (SUPPRESSED, EMPTY_GROUP, "")
"""Text a numeric column may hold besides numbers: hidden, empty group, nothing."""


@dataclass(frozen=True)
class Column:
    """How one numeric column reads: its kind and the decimals it was written with."""

    kind: str
    """``count`` ("1,234"), ``percent`` ("12.3%"), ``signed`` ("+1.2") or ``number``
    (a column that already held numbers, such as a rank or a year: shown without
    separators, as before)."""
    decimals: int = 0

    def text(self, value: object) -> str:
        """The number as the panel wrote it; blank for a missing number."""
        if value is None or pd.isna(value):
            return ""
        v = float(value)  # type: ignore[arg-type]
        if self.kind == "percent":
            return f"{v:.{self.decimals}f}%"
        if self.kind == "signed":
            return f"{v:+.{self.decimals}f}"
        if self.kind == "count":
            return f"{v:,.0f}"
        return f"{v:.{self.decimals}f}" if self.decimals else str(int(v))


@dataclass(frozen=True)
class Typed:
    """A display table split into its numbers and the marks on the cells without one."""

    values: pd.DataFrame
    """The table with numeric columns as floats (missing where ``*``, ``--`` or blank) and
    every other column as it was; a fresh 0..n-1 index."""
    columns: dict[str, Column] = field(default_factory=dict)
    """The numeric columns, by name, in table order."""
    marks: dict[str, pd.Series] = field(default_factory=dict)
    """Per numeric column, the text of each cell without a number (``*``, ``--``, "")."""

    @property
    def suppressed(self) -> pd.Series:
        """Rows with at least one hidden (``*``) cell."""
        out = pd.Series(False, index=self.values.index)
        for marks in self.marks.values():
            out |= marks == SUPPRESSED
        return out


def _parse(cells: pd.Series) -> tuple[Column, pd.Series, pd.Series] | None:
    """A column of display text as numbers, or None when it is not a numeric column."""
    text = cells.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                     else str(v))
    numbers = text[~text.isin(MARKERS)]
    if numbers.empty:
        return None
    for kind, pattern in (("count", COUNT), ("percent", PERCENT), ("signed", SIGNED)):
        found = numbers.str.match(pattern)
        if not found.all():
            continue
        decimals = 0
        if kind != "count":
            decimals = max(len(m.group(2) or "") for m in numbers.map(pattern.match))
        column = Column(kind, decimals)
        raw = numbers.str.replace(",", "", regex=False).str.rstrip("%")
        values = pd.Series(float("nan"), index=cells.index, dtype="float64")
        values[numbers.index] = raw.astype("float64")
        if any(column.text(v) != t for v, t in zip(values[numbers.index], numbers,
                                                    strict=True)):
            return None  # the numbers would not read back as written: keep it as text
        marks = text.where(text.isin(MARKERS), "")
        return column, values, marks
    return None


def typed(table: pd.DataFrame) -> Typed:
    """The numbers behind a display table (see the module docstring)."""
    values = table.reset_index(drop=True).copy()
    columns: dict[str, Column] = {}
    marks: dict[str, pd.Series] = {}
    for name in values.columns:
        col = values[name]
        if pd.api.types.is_bool_dtype(col):
            continue
        if pd.api.types.is_numeric_dtype(col):
            floats = pd.to_numeric(col, errors="coerce")
            whole = floats.dropna()
            columns[name] = Column("number", 0 if (whole == whole.round()).all() else 2)
            marks[name] = pd.Series("", index=values.index)
            continue
        if not (col.dtype == object or pd.api.types.is_string_dtype(col)):
            continue
        parsed = _parse(col)
        if parsed is None:
            continue
        columns[name], values[name], marks[name] = parsed
    return Typed(values, columns, marks)


def styled(table: pd.DataFrame) -> Styler | pd.DataFrame:
    """What a Table tab hands to ``st.dataframe``: the numbers, shown as the panel wrote
    them. A table without a numeric column is returned as it is."""
    t = typed(table)
    if not t.columns:
        return table
    values = t.values.copy()
    for name, marks in t.marks.items():
        # st.dataframe draws a missing number as its placeholder, whatever the Styler says;
        # a cell with a mark holds -inf instead, so the grid shows the mark and a sort puts
        # the hidden and empty groups below every number
        marked = marks.isin((SUPPRESSED, EMPTY_GROUP))
        if marked.any():
            values[name] = values[name].astype("float64").mask(marked, NO_NUMBER)
    styler = values.style
    for name, column in t.columns.items():
        styler = styler.format(column.text, subset=[name])
        marks = t.marks[name]
        for mark in (SUPPRESSED, EMPTY_GROUP):
            rows = marks.index[marks == mark]
            if len(rows):
                styler = styler.format(lambda _v, m=mark: m, subset=(rows, [name]))
    return styler


def for_download(table: pd.DataFrame) -> pd.DataFrame:
    """The CSV frame of a table: numbers as numbers, rates in percent under "... (%)",
    hidden and empty cells empty, and ``suppressed`` (true where a row had a ``*`` cell)
    when the table has numbers. A table without numbers is returned as it is."""
    t = typed(table)
    if not any(c.kind != "number" for c in t.columns.values()):
        return table
    out = t.values.copy()
    for name, column in t.columns.items():
        if column.kind in ("count", "number") and column.decimals == 0:
            out[name] = pd.array([None if pd.isna(v) else round(v) for v in out[name]],
                                 dtype="Int64")
    out = out.rename(columns={name: f"{name} (%)" for name, c in t.columns.items()
                              if c.kind == "percent" and "%" not in str(name)})
    out["suppressed"] = t.suppressed.to_numpy()
    return out

