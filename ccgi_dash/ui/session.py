"""Who is using this browser session, and what they may read.

The session holds only an *identity* (a demo persona, or a signed-in username with its
server-side session id). Everything that grants access, the role, the districts and the data
directory, is derived from it on the server at every run: for a user from the credentials
file, for a demo persona from the demo data. So editing a URL, a widget or a cookie can never
widen a scope.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Literal

import streamlit as st

from ccgi_dash import views
from ccgi_dash.metrics import Filters, Request
from ccgi_dash.scope import Scope
from ccgi_dash.settings import Settings
from ccgi_dash.store import Warehouse
from ccgi_dash.ui import data, filters

IDENTITY_KEY = "_ccgi_identity"


@dataclass(frozen=True)
class Identity:
    kind: Literal["demo", "user"]
    name: str
    """Demo: ``coe`` or ``district:<code>``. User: the username."""
    session_id: str = ""


@dataclass(frozen=True)
class PageContext:
    """Everything a page needs, derived on the server for this run."""

    identity: Identity
    display_name: str
    scope: Scope
    warehouse: Warehouse
    settings: Settings
    options: views.Options
    state: filters.FilterState

    @property
    def filters(self) -> Filters:
        return self.state.filters

    @property
    def as_of(self) -> date | None:
        return self.state.as_of

    @property
    def threshold(self) -> int:
        return self.settings.privacy.suppression_threshold

    @property
    def request(self) -> Request:
        """What every data call of the page asks: scope, filters, drop, and the county's
        suppression threshold from the settings."""
        return Request(self.scope, self.filters, self.as_of, self.threshold)

    @property
    def synthetic(self) -> bool:
        return self.scope.dataset == "demo"

    @property
    def role_label(self) -> str:
        if self.scope.role == "demo":
            return "Demo: district leader" if self.scope.student_level else "Demo: COE coordinator"
        return {"admin": "Administrator", "coe": "COE coordinator",
                "district": "District leader"}[self.scope.role]


def identity() -> Identity | None:
    ident = st.session_state.get(IDENTITY_KEY)
    return ident if isinstance(ident, Identity) else None


def enter_demo(persona: str) -> None:
    """Start a demo session as a persona; no password, synthetic data only. The session is
    kept on the server (``login.start_demo_session``) and named by a signed cookie, so a
    reload keeps the visitor in, on the same page and filters (the URL holds both)."""
    from ccgi_dash.ui import login

    filters.reset()
    sid = login.start_demo_session(persona)
    st.session_state[IDENTITY_KEY] = Identity("demo", persona, sid)


def sign_out() -> None:
    from ccgi_dash.ui import login

    ident = identity()
    if ident is not None and ident.kind == "user":
        login.end_session(ident)
    elif ident is not None and ident.kind == "demo":
        login.end_demo(ident)
    st.session_state.pop(IDENTITY_KEY, None)
    filters.reset()


def demo_scope(persona: str) -> tuple[str, Scope] | None:
    """The scope of a demo persona: the coordinator sees the county's aggregates, a district
    leader one district with its (synthetic) student lists."""
    if persona == "coe":
        return "COE coordinator (demo)", Scope("demo", all_districts=True, student_level=False,
                                               dataset="demo", user="demo:coe")
    if persona.startswith("district:"):
        code = persona.split(":", 1)[1]
        if len(code) == 7 and code.isdigit():
            return "District leader (demo)", Scope("demo", districts=(code,), student_level=True,
                                                   dataset="demo", user=f"demo:{code}")
    return None


def resolve(ident: Identity) -> tuple[str, Scope] | None:
    """Display name and scope for an identity, or None when it no longer grants anything
    (an unknown persona, a disabled user, a session ended elsewhere)."""
    if ident.kind == "demo":
        from ccgi_dash.ui import login

        if ident.session_id:
            try:
                live = login.demo_persona(ident.session_id)
            except (OSError, sqlite3.Error):
                live = ident.name  # the registry is unreadable: the visitor stays for now
            if live != ident.name:
                return None
        return demo_scope(ident.name)
    from ccgi_dash.ui import login

    return login.resolve_user(ident)


_RUN_CONTEXT = "_ccgi_run_context"


def new_run() -> None:
    """Forget the run's context: the shell calls this first in every run, so the identity,
    scope and filters are derived again from the session's identity each run (a user
    disabled or signed out elsewhere loses access at the next run), and again when the page
    is done, so an idle session keeps no warehouse alive after a newer load."""
    st.session_state.pop(_RUN_CONTEXT, None)


def context(render_sidebar: bool = False) -> PageContext | None:
    """The page context for this run, or None when nobody is signed in.

    The shell derives it once per run, when it draws the sidebar (``render_sidebar``); the
    page, its panels and its downloads then ask for it again several times in the same run
    and are given that one (each derivation reads the users file or the demo registry, the
    manifest and the settings: about 2 ms, seven times a run)."""
    if not render_sidebar:
        held = st.session_state.get(_RUN_CONTEXT)
        if held is not None:
            return held
    ident = identity()
    if ident is None:
        return None
    resolved = resolve(ident)
    if resolved is None:
        st.session_state.pop(IDENTITY_KEY, None)
        return None
    name, scope = resolved
    wh = data.warehouse(scope)
    opts = data.view(views.options, scope, None)
    state = filters.sidebar(opts) if render_sidebar else filters.current(opts)
    ctx = PageContext(ident, name, scope, wh, data.settings(scope), opts, state)
    if render_sidebar:
        st.session_state[_RUN_CONTEXT] = ctx
    return ctx
