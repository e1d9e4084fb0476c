"""The first line of every page: refuse without a signed-in user, then set the page up.

``pages/*.py`` call ``begin``; a page run any other way than through the app's gate (a
direct ``streamlit run pages/x.py``, a stale link) finds no identity and shows nothing but a
sign-in notice.
"""

from __future__ import annotations

import streamlit as st

from ccgi_dash.ui import render, session
from ccgi_dash.ui.session import PageContext


def _through_the_shell() -> None:
    """Run the app's shell first when Streamlit ran this page file on its own.

    A fresh server treats the ``pages/`` folder as a legacy multipage app until the shell's
    ``st.navigation`` has run once, so a shared link opened as its first request would reach
    the page file directly: no gate, and a menu of every file. Leaving that mode and rerunning
    sends the same URL (page and filters) through the shell and its gate. Only a visitor not
    yet signed in can arrive so (the shell has run for anyone who has passed the gate).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager, "uses_pages_directory", False) and session.identity() is None:
        PagesManager.uses_pages_directory = False
        st.rerun()


def begin(title: str, lede: str, *, student_level: bool = False,
          admin_only: bool = False) -> PageContext:
    """Return the page context, or stop the script with a notice.

    ``student_level`` pages need a scope entitled to student rows; ``admin_only`` pages need
    the admin role. Both are checked here as well as in the navigation, so a page reached
    around the menu still refuses.
    """
    _through_the_shell()
    ctx = session.context()
    if ctx is None:
        st.warning("Please sign in to see this page.", icon=":material/lock:")
        st.stop()
    if admin_only and ctx.scope.role != "admin":
        st.error("This page is for the COE's data administrators.", icon=":material/lock:")
        st.stop()
    if student_level and not ctx.scope.student_level:
        st.error("This page lists individual students; your role sees aggregates only.",
                 icon=":material/lock:")
        st.stop()
    render.header(ctx, title, lede)
    render.stale_banner(ctx)
    if render.no_data(ctx) or render.outdated(ctx):
        st.stop()
    return ctx
