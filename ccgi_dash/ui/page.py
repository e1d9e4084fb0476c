"""The first line of every page: refuse without a signed-in user, then set the page up.

``app_pages/*.py`` call ``begin`` with their page id; a page run any other way than through
the app's gate (a direct ``streamlit run app_pages/x.py``, a stale link) finds no identity and
shows nothing but a sign-in notice.
"""

from __future__ import annotations

import streamlit as st

from ccgi_dash.ui import render, session
from ccgi_dash.ui.session import PageContext


def begin(page_id: str) -> PageContext:
    """Return the page context, or stop the script with a notice.

    The page's declaration (``shell.PAGES``) gives its title, question and who may open it:
    ``student_level`` pages need a scope entitled to student rows, ``admin`` pages the admin
    role. Both are checked here as well as in the navigation, so a page reached around the
    menu still refuses.
    """
    from ccgi_dash.ui import shell

    spec = shell.spec(page_id)
    ctx = session.context()
    if ctx is None:
        st.warning("Please sign in to see this page.", icon=":material/lock:")
        st.stop()
    if spec.needs == "admin" and ctx.scope.role != "admin":
        st.error("This page is for the COE's data administrators.", icon=":material/lock:")
        st.stop()
    if spec.needs == "student_level" and not ctx.scope.student_level:
        st.error("This page lists individual students; your role sees aggregates only.",
                 icon=":material/lock:")
        st.stop()
    render.header(ctx, spec.title, spec.lede)
    render.stale_banner(ctx)
    if render.no_data(ctx) or render.outdated(ctx):
        st.stop()
    return ctx
