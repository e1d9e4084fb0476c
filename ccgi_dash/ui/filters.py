"""The sidebar filters: as-of drop, district, school, grade and student groups.

The widgets live in the app's shell (``app.py`` runs them before any page), so their values
persist across pages. Each run writes them to ``st.query_params``, so the URL always holds the
view and can be bookmarked or sent; a session that opens with parameters in its URL starts
from them. Values are checked against the options of the user's scope: a district the user
may not read is dropped from the filter (and the data functions enforce the scope in SQL
anyway).

Every filter widget is declared with ``persist_state="session"`` (see :data:`PERSIST`): the
URL's values are put into the widgets' session state before their first draw, and Streamlit
hands such a value to the browser once, with that run's widget. A rerun that starts before
the browser has drawn the sidebar (the demo cookie's component asks for one as soon as it has
written the cookie, about a second after the demo door) replaced that widget with one that
did not carry the value: the browser showed the widget empty while the server kept the URL's
district, and the next change of any filter sent the empty value back. With
``persist_state`` set, Streamlit sends the server's value again on every run in which the
browser did not report the widget, until it has drawn it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import streamlit as st

from ccgi_dash.datasets import DIMENSIONS, NOT_REPORTED, SUBGROUP_DIMENSIONS
from ccgi_dash.metrics import Filters
from ccgi_dash.views import Options

GRADES = tuple(range(6, 13))
_INIT = "_ccgi_filters_from_url"
_REFUSED = "_ccgi_filters_refused"
"""URL values this user may not use, kept for the session so every page can name them."""
KEYS = {"as_of": "f_as_of", "district": "f_district", "school": "f_school",
        "grade_level": "f_grade", **{d: f"f_{d}" for d in SUBGROUP_DIMENSIONS}}
"""URL parameter -> widget key. The URL uses the dimension ids of metrics.md."""
PERSIST = "session"
"""``persist_state`` of every filter widget. The filters are the session's, on every page;
and a keyed widget that persists its state gets its value re-sent by Streamlit whenever the
browser does not report holding it (a widget drawn late or redrawn), so the sidebar always
shows the filters the pages compute with (see the module's docstring)."""


@dataclass(frozen=True)
class FilterState:
    as_of: date | None
    filters: Filters
    rejected: tuple[str, ...] = ()
    """Values from the URL that this user may not use (named in a notice)."""

    def describe(self, opts: Options) -> str:
        parts = []
        if self.filters.districts:
            parts.append(", ".join(opts.district_name(d) for d in self.filters.districts))
        if self.filters.schools:
            parts.append(", ".join(opts.school_name(s) for s in self.filters.schools))
        if self.filters.grades:
            parts.append("grade " + ", ".join(str(g) for g in self.filters.grades))
        for dim, values in self.filters.groups:
            labels = DIMENSIONS[dim].labels
            parts.append(f"{DIMENSIONS[dim].title}: "
                         + ", ".join(labels.get(v, v) for v in values))
        return "; ".join(parts) if parts else "All students in scope"

    def narrowing(self) -> str:
        """The filters other than district and school (which the page header names as whose
        numbers these are): grades and student groups, or '' when none is set."""
        parts = []
        if self.filters.grades:
            parts.append("grade " + ", ".join(str(g) for g in self.filters.grades))
        for dim, values in self.filters.groups:
            labels = DIMENSIONS[dim].labels
            parts.append(f"{DIMENSIONS[dim].title}: "
                         + ", ".join(labels.get(v, v) for v in values))
        return "; ".join(parts)


def _group_values(dim: str) -> list[str]:
    return [*[k for k in DIMENSIONS[dim].labels if k != NOT_REPORTED], NOT_REPORTED]


def _from_url(opts: Options) -> list[str]:
    """Seed the widgets from the URL once per session; return values that were refused."""
    qp = st.query_params
    refused: list[str] = []
    drops = {d.isoformat(): d for d in opts.drops}
    if "as_of" in qp:
        v = qp.get("as_of")
        if v in drops:
            st.session_state[KEYS["as_of"]] = drops[v]
        else:
            refused.append(f"as_of={v}")
    districts = dict(opts.districts)
    wanted = qp.get_all("district")
    st.session_state[KEYS["district"]] = [d for d in wanted if d in districts]
    refused += [f"district={d}" for d in wanted if d not in districts]
    schools = {s[0] for s in opts.schools}
    wanted = qp.get_all("school")
    st.session_state[KEYS["school"]] = [s for s in wanted if s in schools]
    refused += [f"school={s}" for s in wanted if s not in schools]
    grades = [g for g in qp.get_all("grade_level") if g.isdigit() and int(g) in GRADES]
    st.session_state[KEYS["grade_level"]] = [int(g) for g in grades]
    for dim in SUBGROUP_DIMENSIONS:
        allowed = _group_values(dim)
        st.session_state[KEYS[dim]] = [v for v in qp.get_all(dim) if v in allowed]
    return refused


def _to_url(state: FilterState, latest: date | None) -> None:
    params: dict[str, str | list[str]] = {}
    if state.as_of and state.as_of != latest:
        params["as_of"] = state.as_of.isoformat()
    if state.filters.districts:
        params["district"] = list(state.filters.districts)
    if state.filters.schools:
        params["school"] = list(state.filters.schools)
    if state.filters.grades:
        params["grade_level"] = [str(g) for g in state.filters.grades]
    for dim, values in state.filters.groups:
        params[dim] = list(values)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    wanted = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    if current != wanted:
        st.query_params.from_dict(params)


def sidebar(opts: Options) -> FilterState:
    """Render the filter widgets in the sidebar and return the state they describe."""
    if not st.session_state.get(_INIT):
        st.session_state[_REFUSED] = _from_url(opts)
        st.session_state[_INIT] = True
    refused = st.session_state.get(_REFUSED, [])
    drops = list(reversed(opts.drops))
    latest = drops[0] if drops else None
    with st.sidebar:
        st.markdown("### Filters")
        if st.session_state.get(KEYS["as_of"]) not in drops:
            st.session_state[KEYS["as_of"]] = latest
        st.selectbox("Data as of (weekly drop)", drops, key=KEYS["as_of"],
                             format_func=lambda d: f"{d:%b %d, %Y}" + (" (latest)"
                                                                      if d == latest else ""),
                             disabled=not drops, persist_state=PERSIST)
        districts = dict(opts.districts)
        _keep_valid(KEYS["district"], districts)
        only = len(districts) == 1
        chosen_d = st.multiselect("District", list(districts), key=KEYS["district"],
                                  format_func=lambda c: districts.get(c, c),
                                  placeholder=(next(iter(districts.values())) if only
                                               else "All districts"),
                                  persist_state=PERSIST)
        schools = {s[0]: s for s in opts.schools if not chosen_d or s[2] in chosen_d}
        _keep_valid(KEYS["school"], schools)
        st.multiselect("School", list(schools), key=KEYS["school"],
                                  format_func=lambda c: schools[c][1] if c in schools else c,
                                  placeholder="All schools", persist_state=PERSIST)
        st.multiselect("Grade", list(GRADES), key=KEYS["grade_level"], placeholder="Grades 6-12",
                       persist_state=PERSIST)
        active = sum(bool(st.session_state.get(KEYS[d])) for d in SUBGROUP_DIMENSIONS)
        with st.expander("Student groups" + (f" ({active} set)" if active else ""),
                         expanded=bool(active)):
            for dim in SUBGROUP_DIMENSIONS:
                labels = DIMENSIONS[dim].labels
                st.multiselect(DIMENSIONS[dim].title, _group_values(dim), key=KEYS[dim],
                               format_func=lambda v, lab=labels: lab.get(v, v),
                               placeholder="All", persist_state=PERSIST)
        if any(st.session_state.get(k) for k in KEYS.values() if k != KEYS["as_of"]):
            st.button("Clear filters", on_click=_clear, width="stretch")
    state = current(opts, refused)
    _to_url(state, latest)
    return state


def current(opts: Options, refused: Sequence[str] | None = None) -> FilterState:
    """The filter state held by the sidebar widgets, checked against the scope's options.

    Pages call this (the shell renders the widgets before the page runs); a value outside the
    options never reaches a query.
    """
    drops = set(opts.drops)
    as_of = st.session_state.get(KEYS["as_of"])
    if as_of not in drops:
        as_of = max(drops) if drops else None
    districts = {d for d, _ in opts.districts}
    chosen_d = [d for d in st.session_state.get(KEYS["district"]) or [] if d in districts]
    schools = {s[0] for s in opts.schools if not chosen_d or s[2] in chosen_d}
    chosen_s = [s for s in st.session_state.get(KEYS["school"]) or [] if s in schools]
    grades = [int(g) for g in st.session_state.get(KEYS["grade_level"]) or [] if g in GRADES]
    groups = []
    for dim in SUBGROUP_DIMENSIONS:
        allowed = _group_values(dim)
        values = [v for v in st.session_state.get(KEYS[dim]) or [] if v in allowed]
        if values:
            groups.append((dim, tuple(sorted(values))))
    return FilterState(
        as_of=as_of,
        filters=Filters(tuple(sorted(chosen_d)), tuple(sorted(chosen_s)), tuple(sorted(grades)),
                        tuple(sorted(groups))),
        rejected=tuple(st.session_state.get(_REFUSED, []) if refused is None else refused),
    )


def _keep_valid(key: str, allowed: dict) -> None:
    current = st.session_state.get(key) or []
    kept = [v for v in current if v in allowed]
    if kept != current:
        st.session_state[key] = kept


def _clear() -> None:
    for k in KEYS.values():
        if k != KEYS["as_of"]:
            st.session_state[k] = []


def reset() -> None:
    """Forget filters (on sign-out or when the persona changes)."""
    for k in [*KEYS.values(), _INIT, _REFUSED]:
        st.session_state.pop(k, None)
