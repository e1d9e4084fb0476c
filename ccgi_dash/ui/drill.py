"""Drill-down: a click on a district's bar opens its schools, a click on a school opens its view.

Streamlit's chart selection events carry the click (``st.plotly_chart(..., on_select=...,
selection_mode="points")``). The click's callback runs before the next script run, which is
the one moment the sidebar's filter widgets (``ui.filters.KEYS``) may be set: it puts the
district (or the school and its district) into them, so the sidebar, every page and the URL
(``filters.sidebar`` writes the query parameters each run) follow, and a bookmark of the
drilled view works like any other. A topic page broken down "by district" switches to "by
school" on the way in and back on the way out. The way back is one click: "Back to the
county" (or "Back to <district>" from a school) clears the filter it set.

The clicked bar is named by its label; it is looked up among the districts and schools of the
user's own options (``views.options``, the scope's districts only), so a click can never name
a district outside the scope, and ``filters.current`` checks the values again on every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ccgi_dash.charts import escape
from ccgi_dash.datasets import DIMENSIONS
from ccgi_dash.metrics import Filters
from ccgi_dash.views import Options

LEVELS = ("district", "school")
_SWITCHED = "_ccgi_drill_switched"
"""Breakdown pickers switched from "District" to "School" on a drill, restored on the way
back to the county."""


def level_of(name: str) -> str | None:
    """The drill level of a chart from its panel name (``<metric>-by-district`` or
    ``-by-school``), or None for a chart that does not drill."""
    for level in LEVELS:
        if name.endswith(f"-by-{level}"):
            return level
    return None


def _label(point: Mapping[str, Any]) -> str | None:
    """The category a clicked bar stands for: the y of a horizontal bar, else its x."""
    for axis in ("y", "x"):
        value = point.get(axis)
        if isinstance(value, str):
            return value
    return None


def target(point: Mapping[str, Any], level: str, opts: Options,
           districts: tuple[str, ...] = ()) -> str | None:
    """The district code or school CDS code a clicked bar names, or None.

    ``customdata`` holding a code of the options wins; else the bar's label is matched
    against the names of the scope's districts (or of its schools, within ``districts``
    when a district is chosen; a school's label may carry its district's name in brackets).
    A label that names two schools, or nothing in the scope, gives None."""
    custom = point.get("customdata")
    codes = ({d for d, _ in opts.districts} if level == "district"
             else {s[0] for s in opts.schools})
    if isinstance(custom, (list, tuple)) and custom and str(custom[0]) in codes:
        return str(custom[0])
    if isinstance(custom, str) and custom in codes:
        return custom
    label = _label(point)
    if label is None:
        return None
    if level == "district":
        found = [d for d, n in opts.districts if label in (n, escape(n))]
    else:
        names = dict(opts.districts)
        found = [cds for cds, n, d in opts.schools if (not districts or d in districts)
                 and label in (n, escape(n), f"{n} ({names.get(d, d)})",
                               escape(f"{n} ({names.get(d, d)})"))]
    return found[0] if len(found) == 1 else None


def _options() -> Options | None:
    from ccgi_dash.ui import session

    ctx = session.context()
    return None if ctx is None else ctx.options


def _switch_breakdowns(frm: str, to: str, only: list[str] | None = None) -> list[str]:
    """Set every "Break down by" control showing ``frm`` to ``to``; return their keys."""
    frm_label, to_label = DIMENSIONS[frm].title, DIMENSIONS[to].title
    keys = only if only is not None else [k for k in list(st.session_state)
                                         if isinstance(k, str) and k.endswith("_by")]
    changed = []
    for k in keys:
        if st.session_state.get(k) == frm_label:
            st.session_state[k] = to_label
            changed.append(k)
    return changed


def drill_to(level: str, code: str, opts: Options) -> bool:
    """Put a district (and no school) or a school (and its district) into the sidebar's
    filters; only codes of the scope's options are accepted. Returns whether it did."""
    from ccgi_dash.ui.filters import KEYS

    if level == "district" and code in dict(opts.districts):
        st.session_state[KEYS["district"]] = [code]
        st.session_state[KEYS["school"]] = []
        switched = _switch_breakdowns("district", "school")
        st.session_state[_SWITCHED] = sorted({*st.session_state.get(_SWITCHED, []),
                                              *switched})
        return True
    school = next((s for s in opts.schools if s[0] == code), None)
    if level == "school" and school is not None:
        st.session_state[KEYS["district"]] = [school[2]]
        st.session_state[KEYS["school"]] = [code]
        return True
    return False


def _on_select(key: str, level: str) -> None:
    """The chart's selection callback: drill into the clicked bar."""
    from ccgi_dash.ui.filters import KEYS

    event = st.session_state.get(key)
    selection = getattr(event, "selection", None) or (
        event.get("selection") if isinstance(event, Mapping) else None) or {}
    points = (selection.get("points") if isinstance(selection, Mapping)
              else getattr(selection, "points", None)) or []
    opts = _options()
    if not points or opts is None:
        return
    districts = tuple(st.session_state.get(KEYS["district"]) or ())
    code = target(points[0], level, opts, districts)
    if code is not None:
        drill_to(level, code, opts)


def back(to: str) -> None:
    """Clear what a drill set: ``to`` = "district" drops the school, "county" both (and
    turns the breakdowns switched to "School" back to "District")."""
    from ccgi_dash.ui.filters import KEYS

    st.session_state[KEYS["school"]] = []
    if to == "county":
        st.session_state[KEYS["district"]] = []
        _switch_breakdowns("school", "district", st.session_state.pop(_SWITCHED, []))


def back_button(opts: Options, districts: tuple[str, ...], schools: tuple[str, ...],
                all_districts: bool, key: str) -> None:
    """One click back up: from a school to its district, from a district to the county (or,
    for a leader of several districts, to all of theirs). Nothing at the top."""
    if len(schools) == 1:
        district = next((s[2] for s in opts.schools if s[0] == schools[0]), None)
        name = opts.district_name(district) if district else "the district"
        st.button(f"Back to {name}", key=f"back-{key}", icon=":material/arrow_back:",
                  on_click=back, args=("district",))
    elif len(districts) == 1 and len(opts.districts) > 1:
        label = "Back to the county" if all_districts else "Back to all your districts"
        st.button(label, key=f"back-{key}", icon=":material/arrow_back:", on_click=back,
                  args=("county",))


def way_back(key: str) -> None:
    """The back button above a drillable chart, for the current filters of the scope."""
    from ccgi_dash.ui import session

    ctx = session.context()
    if ctx is not None:
        back_button(ctx.options, ctx.filters.districts, ctx.filters.schools,
                    ctx.scope.all_districts, key)


def plot(fig: go.Figure, name: str, key: str, config: Mapping[str, Any]) -> None:
    """A "by district" or "by school" chart whose bars drill down when clicked
    (``ui.render.chart_and_table`` calls this for drillable panels, after ``way_back``)."""
    level = level_of(name)
    if level is None:
        st.plotly_chart(fig, config=dict(config), key=key)
        return
    fig.update_layout(clickmode="event+select", dragmode=False)
    st.plotly_chart(fig, config=dict(config), key=key, on_select=partial(_on_select, key, level),
                    selection_mode="points")
    st.caption(f"Click a {DIMENSIONS[level].title.lower()}'s bar to open "
               + ("its schools." if level == "district" else "its view."))


def overview_level(opts: Options, filters: Filters) -> str | None:
    """What the Overview's drill chart breaks down by: districts at the top (when the scope
    has several), a district's schools once one district is chosen, nothing for one school
    (its view is the page itself) or several chosen districts' schools."""
    if filters.schools:
        return None
    if not filters.districts:
        return "district" if len(opts.districts) > 1 else "school"
    return "school"
