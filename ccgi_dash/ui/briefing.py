"""The Overview's "Download brief (PDF)" button.

The brief of the page's view (``brief.brief_for_view``: the one district or school of the
sidebar filters, or the county, narrowed by the sidebar's grade and student-group filters
exactly as the page's numbers are: the request passed on is the page's own) is made only when
the button is clicked: Streamlit calls the
deferred function in a thread of its own, so nothing is rendered on a rerun and the function
uses only what is captured here (warehouse, request, settings, data directory), never
session state. The click writes the audit line (``brief_export``, as the CLI's ``brief``
does) while it makes the file. The scope is enforced twice: the button is offered only for a
view the scope may brief, and ``brief_data`` refuses any other district by name.
"""

from __future__ import annotations

import streamlit as st

from ccgi_dash import brief
from ccgi_dash.accounts.audit import write_audit
from ccgi_dash.store import DataDir
from ccgi_dash.ui import data
from ccgi_dash.ui.session import PageContext

LABEL = "Download brief (PDF)"
KEY = "brief-pdf"


def why_not(ctx: PageContext) -> str | None:
    """Why the view cannot be briefed (several districts or schools, a district outside the
    scope, a leader of several districts with none chosen), or None when it can."""
    try:
        district, _school = brief.view_of(ctx.scope, ctx.filters)
    except brief.BriefError as exc:
        return f"To download a brief, {exc}."
    if district is not None and not ctx.scope.allows_district(district):
        return "A brief is only of your own districts."
    if district is None and not ctx.scope.all_districts:
        return "To download a brief, choose one of your districts in the sidebar."
    return None


def brief_button(ctx: PageContext) -> None:
    """The button, with the brief of the current view made on click. No tooltip: a button
    with ``help`` is drawn as two nested buttons, which screen readers and the browser
    tests' download sweep both meet twice; a disabled button says why in a caption."""
    drop = ctx.warehouse.resolve(ctx.as_of)
    reason = why_not(ctx) if drop is not None else "No drop is loaded."
    if reason is not None or drop is None:
        st.download_button(LABEL, b"", disabled=True, key=KEY, icon=":material/picture_as_pdf:")
        st.caption(reason or "")
        return
    district, school = brief.view_of(ctx.scope, ctx.filters)
    wh, request, settings = ctx.warehouse, ctx.request, ctx.settings
    dd = DataDir(data.data_dir_for(ctx.scope))
    user, scope = ctx.scope.user or ctx.identity.name, ctx.scope

    def make() -> bytes:
        pdf, _name, what = brief.brief_for_view(wh, request, settings)
        write_audit(dd, user=user, role=scope.role, scope=scope, action="brief_export",
                    what=what, rows=1)
        return pdf

    st.download_button(LABEL, make,
                       file_name=brief.file_name(district, school, drop, ctx.filters),
                       mime="application/pdf", key=KEY, icon=":material/picture_as_pdf:",
                       on_click="ignore")
