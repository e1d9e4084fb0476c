"""How pages put things on screen: headers, banners, cards, chart-with-table, downloads.

Every data value goes through Streamlit elements that render text (markdown is used only
for fixed strings written here, never for data), and every download goes through
``privacy.to_csv_bytes``, formula-safe. A Table tab and its CSV hold the same cells, as
numbers (``ccgi_dash.tables``): the tab shows them as the panel wrote them (``*``, ``--``,
"12.3%") and sorts them as numbers; the CSV writes the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ccgi_dash import status, views
from ccgi_dash.datasets import DIMENSIONS, SUBGROUP_DIMENSIONS
from ccgi_dash.privacy import EMPTY_GROUP, SUPPRESSED, to_csv_bytes
from ccgi_dash.store import DataDir
from ccgi_dash.tables import for_download, styled
from ccgi_dash.ui import data
from ccgi_dash.ui.session import PageContext
from ccgi_dash.views import Headline

if TYPE_CHECKING:
    from streamlit.elements.lib.mutable_expander_container import ExpanderContainer

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def synthetic_label() -> None:
    st.info("**Synthetic data.** This demo shows made-up students in real schools; no number "
            "here describes a real student.", icon=":material/science:")


def scope_name(ctx: PageContext) -> str:
    """Whose numbers a page shows, by name: the schools or districts of the filter, else the
    districts of the user's scope ("Fresno Unified"), else "All N districts of the county"."""
    f, opts = ctx.filters, ctx.options
    if f.schools:
        return ", ".join(opts.school_name(s) for s in f.schools)
    if f.districts:
        return ", ".join(opts.district_name(d) for d in f.districts)
    if not ctx.scope.all_districts:
        names = [n for _, n in opts.districts] or [opts.district_name(d)
                                                   for d in ctx.scope.districts]
        return ", ".join(names)
    n = len(opts.districts)
    return f"All {n} districts of the county" if n > 1 else "All districts of the county"


def header(ctx: PageContext, title: str, lede: str) -> None:
    """The page title, what it answers, whose numbers these are (the districts or schools by
    name), the narrowing filters and the drop's date."""
    if ctx.synthetic:
        synthetic_label()
    st.title(title)
    st.caption(lede)
    drop = ctx.warehouse.resolve(ctx.as_of)
    parts = [scope_name(ctx)]
    narrowing = ctx.state.narrowing()
    if narrowing:
        parts.append(narrowing)
    parts.append(f"data as of the drop of {drop:%b} {drop.day}, {drop.year}" if drop
                 else "no data loaded")
    st.markdown(" · ".join(f"`{escape_md(p)}`" for p in parts))
    if ctx.state.rejected:
        st.warning("Some filters in the link were not applied because they are outside your "
                   "access or no longer exist: " + ", ".join(ctx.state.rejected))


def stale_banner(ctx: PageContext) -> None:
    """Every page warns when the newest data is older than the stale limit (8 days), and
    says so while earlier weeks are still loading (the demo's first run)."""
    if ctx.warehouse.empty:
        return
    if loading := status.backfill_text(DataDir(data.data_dir_for(ctx.scope))):
        st.info(loading, icon=":material/hourglass_top:")
    if ctx.synthetic:
        return
    fresh = status.freshness(DataDir(data.data_dir_for(ctx.scope)), ctx.settings)
    if fresh.stale:
        st.warning(f"The newest data is {fresh.age_days} days old (drop of "
                   f"{fresh.latest:%B %d, %Y}). CCGI sends a drop every week: check the data "
                   "status page or the sync schedule.", icon=":material/update:")


def escape_md(text: str) -> str:
    """Text inside an inline-code span cannot carry markup; backticks are the only escape."""
    return str(text).replace("`", "'")


def no_data(ctx: PageContext) -> bool:
    """Show the 'nothing loaded yet' state; True when the page should stop."""
    if not ctx.warehouse.empty:
        return False
    where = "the demo data directory" if ctx.synthetic else "the data directory"
    st.info(f"No data has been loaded into {where} yet. A data manager loads CCGI's weekly "
            "drops with:\n\n```\npython -m ccgi_dash ingest PATH-TO-DROPS\n```\n\n"
            "or fetches and loads them from CCGI's sFTP with `python -m ccgi_dash sync`.",
            icon=":material/inbox:")
    return True


def outdated(ctx: PageContext) -> bool:
    """Data loaded by an older version of the product: say how to rebuild; True to stop."""
    stale = data.outdated(ctx.scope)
    if not stale:
        return False
    flag = " --data-dir data/demo" if ctx.synthetic else ""
    st.error(f"{len(stale)} loaded drop(s) were built by an older version of this dashboard "
             "and must be rebuilt from their raw files before they can be shown. A data "
             f"manager runs:\n\n```\npython -m ccgi_dash rebuild{flag}\n```",
             icon=":material/build:")
    return True


def no_students(frame: pd.DataFrame, what: str = "students") -> bool:
    """The filter-left-nothing state; True when there is nothing to draw."""
    if frame is None or frame.empty or (
            "denominator" in frame
            and int(pd.to_numeric(frame["denominator"], errors="coerce").fillna(1).sum()) == 0):
        st.info(f"No {what} match these filters. Clear a filter in the sidebar to see more.",
                icon=":material/filter_alt_off:")
        return True
    return False


def caption_text(text: str) -> str:
    """A caption is markdown: a `*` (a hidden value) must not start emphasis."""
    return str(text).replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def headline_cards(cards: Sequence[Headline], per_row: int = 4,
                   ctx: PageContext | None = None) -> None:
    """Metric cards: the rate now and of whom ("of 4,600 seniors"), the change since the last
    drop and against last year, the county's rate beside a narrower view's own, and the goal
    with whether the view is on pace when a goal is set. Changes carry a sign and words,
    never colour alone. On a narrow screen the cards sit two abreast (``theme``)."""
    from ccgi_dash.ui import session

    ctx = ctx or session.context()
    paces: dict[str, views.CardPace] = {}
    if ctx is not None and ctx.settings.goals:
        paces = data.view(views.card_paces, ctx.request, ctx.settings,
                          tuple(c.metric_id for c in cards))
    with st.container(key="ccgi_cards"):
        for start in range(0, len(cards), per_row):
            cols = st.columns(per_row)
            for col, card in zip(cols, cards[start:start + per_row], strict=False):
                with col, st.container(border=True):
                    _card(card, paces.get(card.metric_id))


def _card(card: Headline, pace: views.CardPace | None) -> None:
    flat = card.delta_previous == "no change"
    st.metric(card.title, card.text, delta=card.delta_previous,
              delta_color="off" if flat else "normal",
              delta_arrow="off" if flat else "auto",
              delta_description="since the last drop" if card.delta_previous else None,
              help=_card_help(card, pace), border=False)
    lines = [card.population_text
             + (f" · county: {card.county_text}" if card.county_text is not None else "")]
    if card.last_year_drop is None:
        lines.append("No drop from last year to compare with")
    elif card.delta_last_year is None:
        lines.append(f"Same week last year ({card.last_year_drop:%b} {card.last_year_drop.day})"
                     ": not shown")
    else:
        lines.append(f"Same week last year: {card.last_year_rate * 100:.1f}% "
                     f"(now {card.delta_last_year})")
    if pace is not None:
        lines.append(pace.text)
    st.caption("  \n".join(caption_text(line) for line in lines))


def _card_help(card: Headline, pace: views.CardPace | None = None) -> str:
    parts = [card.help]
    if card.numerator is not None and card.denominator is not None:
        parts.append(f"{card.numerator:,} of {card.denominator:,} {card.noun}.")
    elif card.suppressed:
        parts.append(f"Hidden to protect privacy: too few {card.noun} here, or hiding them "
                     "keeps another hidden number from being worked out.")
    if card.previous_drop:
        parts.append(f"Change since the drop of {card.previous_drop:%b %d, %Y}.")
    if card.county_text is not None:
        parts.append(f"County: the rate of every district in the county with the same grade "
                     f"and student-group filters ({card.county_text}).")
    if pace is not None:
        parts.append(pace.status)
    return " ".join(parts) or "No earlier drop to compare with."


def chart_and_table(fig: go.Figure | None, table: pd.DataFrame, name: str, *,
                    note: str | None = None, narrow: pd.DataFrame | None = None) -> None:
    """A chart with the table behind it one click away, and a CSV of exactly that table.

    ``narrow``: a grid the Chart tab shows instead of the figure on a narrow screen (below
    640 px, ``theme``), where the figure's cells could not be read; it scrolls inside
    itself, never the page."""
    from ccgi_dash.ui import drill

    key = slug(name)
    if fig is not None and drill.level_of(name):
        drill.way_back(f"chart-{key}")
    # the Table tab is drawn only while open (it reruns the page when chosen): a styled
    # table costs more to send than its chart, and most readers never open it
    chart_tab, table_tab = st.tabs(["Chart", "Table"], key=f"tabs-{key}", on_change="rerun")
    with chart_tab:
        if fig is None:
            st.caption(note or "Nothing to chart for this selection; the table lists it.")
        elif drill.level_of(name):  # "by district"/"by school": a click drills down
            drill.plot(fig, name, f"chart-{key}", PLOTLY_CONFIG)
        elif narrow is not None:
            with st.container(key=f"ccgi_wide_only-{key}"):
                st.plotly_chart(fig, config=PLOTLY_CONFIG, key=f"chart-{key}")
            with st.container(key=f"ccgi_narrow_only-{key}"):
                st.caption("On a screen this narrow, the chart's cells as a grid (swipe the "
                           "grid sideways for more groups):")
                st.dataframe(narrow, hide_index=True, key=f"narrow-{key}",
                             height=list_height(len(narrow)))
        else:
            st.plotly_chart(fig, config=PLOTLY_CONFIG, key=f"chart-{key}")
    with table_tab:
        if table_tab.open:
            numbers_table(table, key=f"table-{key}")
    if note and fig is not None:
        st.caption(note)
    download(table, name)


def folded(label: str, name: str) -> ExpanderContainer:
    """An expander whose contents the page draws only while it is open (``.open``; opening
    or closing it reruns the page): a closed detail costs neither its queries nor its
    drawing. ``name`` makes its key, unique on the page."""
    return st.expander(label, key=f"fold-{slug(name)}", on_change="rerun")


def halves() -> list:
    """Two columns of the page's width for two charts of its main story side by side (so
    the story fits in about two screens at 1440x900); on a narrow screen they stack."""
    return st.columns(2, gap="medium")


def numbers_table(table: pd.DataFrame, key: str, *, tall: bool = False) -> None:
    """A table whose numeric columns sort as numbers and read as the panel wrote them
    (``tables.styled``: ``*`` and ``--`` kept, numbers right-aligned). ``tall``: as tall as
    a record list (``LIST_HEIGHT``), for a table read whole, such as one row per district."""
    height = list_height(len(table)) if tall else "auto"
    st.dataframe(styled(table), hide_index=True, key=key, placeholder="", height=height)


LIST_HEIGHT = 640
"""Pixels a long record list takes: about 17 rows at once, most of a 900 px screen below the
list picker, scrolled inside the table (the grid draws only the rows in view, so 4,000 rows
scroll as smoothly as 40)."""


def record_list(rows: pd.DataFrame, key: str) -> None:
    """A list a counselor works through (students, clean-up records): as tall as the page
    allows, sortable by any column (dates as dates, grades as numbers), empty cells blank."""
    st.dataframe(rows, hide_index=True, key=key, height=list_height(len(rows)),
                 placeholder="")


def list_height(rows: int) -> int:
    """Pixels for ``rows`` rows and the header, at most ``LIST_HEIGHT``."""
    return min(LIST_HEIGHT, 38 + 35 * max(rows, 1))


def download(table: pd.DataFrame, name: str, label: str = "Download CSV", *,
             numbers: bool = True) -> None:
    """A CSV of ``table`` (formula-safe), made only when clicked (a long student list
    costs nothing until then). The click writes the audit line while it makes the file and
    does not rerun the page, so the deferred file is never dropped by a rerun.

    ``numbers``: write the table's numbers as numbers (``tables.for_download``: rates in
    percent under "... (%)", hidden cells empty with ``suppressed`` true); False writes the
    cells as they are (student lists and other record lists, which hold no aggregates)."""
    from ccgi_dash.ui import audit

    record = audit.deferred("download", slug(name), len(table))

    def make() -> bytes:
        record()
        return to_csv_bytes(for_download(table) if numbers else table)

    st.download_button(label, make, file_name=f"{slug(name)}.csv", mime="text/csv",
                       key=f"dl-{slug(name)}", icon=":material/download:", on_click="ignore")


def suppression_note(threshold: int, *, hidden: bool = True, empty: bool = True) -> str:
    """What ``*`` and ``--`` mean, for the marks a page shows (``hidden``: a ``*``,
    ``empty``: a ``--``); empty when it shows neither. The asterisk is escaped: a caption is
    markdown, and a bare or code-span ``*`` reads as a dot in the caption's small type."""
    parts = []
    if hidden:
        parts.append(f"\u201c\\*\u201d: hidden to protect privacy, the group has 1 to "
                     f"{threshold - 1} students, or hiding it keeps another hidden number "
                     "from being worked out by subtraction.")
    if empty:
        parts.append("\u201c\\-\\-\u201d: no students in the group.")
    return " ".join(parts)


def note_for(threshold: int, shown: Sequence[object], cards: Sequence[Headline] = ()) -> None:
    """The suppression note under a page that is not a declared topic (the Overview), for
    the marks its cards and panels (anything with ``table`` and ``fig``) show."""
    marks: set[str] = {SUPPRESSED for c in cards if c.suppressed or c.county_suppressed}
    for p in shown:
        marks |= marks_in(getattr(p, "table", None), getattr(p, "fig", None))
    note = suppression_note(threshold, hidden=SUPPRESSED in marks, empty=EMPTY_GROUP in marks)
    if note:
        st.caption(note)


def marks_in(table: pd.DataFrame | None, fig: go.Figure | None = None) -> set[str]:
    """Which of the marks ``*`` (hidden) and ``--`` (no students) a table's cells or a
    figure's value labels hold: the suppression note explains only what is on screen."""
    marks = {SUPPRESSED, EMPTY_GROUP}
    found: set[str] = set()
    if table is not None and len(table):
        for col in table.columns:
            values = table[col]
            if not pd.api.types.is_numeric_dtype(values):  # text: object or string dtype
                found |= marks & set(values.dropna().map(str).unique())
    if fig is not None:
        for trace in fig.data:
            text = getattr(trace, "text", None)
            if text is None or isinstance(text, str):
                continue
            for item in text:
                cells = item if isinstance(item, list | tuple) else [item]
                found |= marks & {str(c) for c in cells}
    return found


BY_GROUP = "group"
"""The breakdown choice that asks which student-group dimension to break down by."""


def breakdown_label(dim: str) -> str:
    """The label of a breakdown choice: the dimension's title, or "Student group"."""
    return "Student group" if dim == BY_GROUP else DIMENSIONS[dim].title


def breakdown_picker(choices: Sequence[str], default: str, key: str,
                     group_width: int | str = "stretch") -> str:
    """The "Break down by" control every topic page has, and for "Student group" the group
    to break down by; returns the dimension id. ``choices`` are dimension ids (or
    ``BY_GROUP``). Widget keys are ``<key>_by`` and ``<key>_group``, so a page's choice
    survives its reruns."""
    labels = {breakdown_label(d): d for d in choices}
    by = st.segmented_control("Break down by", list(labels), key=f"{key}_by", required=True,
                              default=breakdown_label(default))
    dim = labels.get(by or breakdown_label(default), default)
    if dim != BY_GROUP:
        return dim
    return st.selectbox("Student group", SUBGROUP_DIMENSIONS, key=f"{key}_group",
                        format_func=lambda d: DIMENSIONS[d].title, width=group_width)
