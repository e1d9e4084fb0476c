"""Audit records from the app: every download and every student-level view.

The record names who (from the server-side scope), the scope, what (page, list or metric and
the filters as codes) and how many rows, never a name or an SSID (``write_audit`` scrubs
anything that looks like one). Demo activity is logged in the demo's own data directory.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ccgi_dash.accounts.audit import write_audit
from ccgi_dash.store import DataDir
from ccgi_dash.ui import data, session

_SEEN = "_ccgi_audited_views"


def _what(ctx: session.PageContext, what: str) -> str:
    f = ctx.filters
    parts = [what, f"as_of={ctx.as_of}"]
    parts += [f"district={d}" for d in f.districts]
    parts += [f"school={s}" for s in f.schools]
    parts += [f"grade={g}" for g in f.grades]
    parts += [f"{dim}={v}" for dim, values in f.groups for v in values]
    return " ".join(parts)


def deferred(action: str, what: str, rows: int) -> Callable[[], None]:
    """An audit write prepared now (who, scope, filters) and done later, off the script
    thread: a download's file is made on click in a thread without session state."""
    ctx = session.context()
    if ctx is None:
        return lambda: None
    dd = DataDir(data.data_dir_for(ctx.scope))
    user = ctx.scope.user or ctx.identity.name
    scope, text = ctx.scope, _what(ctx, what)

    def write() -> None:
        write_audit(dd, user=user, role=scope.role, scope=scope, action=action, what=text,
                    rows=int(rows))

    return write


def record_view_once(ctx: session.PageContext, what: str, rows: int) -> None:
    """Log a student-level view once per session and selection (not on every rerun)."""
    key = _what(ctx, what)
    seen = st.session_state.setdefault(_SEEN, set())
    if key in seen:
        return
    seen.add(key)
    write_audit(DataDir(data.data_dir_for(ctx.scope)), user=ctx.scope.user or ctx.identity.name,
                role=ctx.scope.role, scope=ctx.scope, action="student_list_view", what=key,
                rows=int(rows))
