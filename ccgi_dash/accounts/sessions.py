"""Server-side sessions: created at sign-in, checked at every click, ended by sign-out or
an account action.

A session is a random 256-bit id, stored only as a hash in the registry
(:mod:`ccgi_dash.accounts.registry`). Whether it still grants access (not ended, not idle
or too old, its user enabled and at the same ``session_epoch``) is decided by
:func:`ccgi_dash.accounts.signin.validate_session`; this module keeps the records."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from typing import Any

from ccgi_dash.accounts.registry import Registry, registry
from ccgi_dash.accounts.users import normalize_username

SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
LAST_SEEN_EVERY = 60.0
"""Write ``last_seen`` at most once a minute per session: a rerun is not worth a write."""


def _id_hash(session_id: str) -> str:
    """Sessions are stored by hash, so a copy of the database hands out no live session."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def create_session(username: str, epoch: int, lifetime: float, *, reg: Registry | None = None,
                   now: float | None = None) -> tuple[str, float]:
    """A new random session id (256 bits) and its absolute expiry."""
    reg = reg or registry()
    now = time.time() if now is None else now
    sid = secrets.token_urlsafe(32)
    expires = now + lifetime
    with reg.transaction() as con:
        con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, NULL)",
                    (_id_hash(sid), username, epoch, now, now, expires))
        # Housekeeping: forget sessions that ended or expired more than a day ago.
        con.execute("DELETE FROM sessions WHERE coalesce(ended, expires) < ?", (now - 86400,))
    return sid, expires


def session_record(session_id: str, *, reg: Registry | None = None) -> dict[str, Any] | None:
    """The stored session (username, epoch, created, last_seen, expires, ended), or None
    for an unknown or malformed id."""
    if not SESSION_ID_RE.match(session_id or ""):
        return None
    reg = reg or registry()
    with reg.transaction() as con:
        row = con.execute("SELECT username, epoch, created, last_seen, expires, ended "
                          "FROM sessions WHERE id_hash = ?", (_id_hash(session_id),)).fetchone()
    if row is None:
        return None
    keys = ("username", "epoch", "created", "last_seen", "expires", "ended")
    return dict(zip(keys, row, strict=True))


def touch_session(session_id: str, now: float, *, reg: Registry | None = None) -> None:
    """Record activity (for the idle limit)."""
    reg = reg or registry()
    with reg.transaction() as con:
        con.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ? AND ended IS NULL",
                    (now, _id_hash(session_id)))


def end_session(session_id: str, *, reg: Registry | None = None,
                now: float | None = None) -> bool:
    """End one session (sign-out): any copy of its cookie is refused from now on. True if it
    was live."""
    if not SESSION_ID_RE.match(session_id or ""):
        return False
    reg = reg or registry()
    now = time.time() if now is None else now
    with reg.transaction() as con:
        cur = con.execute("UPDATE sessions SET ended = ? WHERE id_hash = ? AND ended IS NULL",
                          (now, _id_hash(session_id)))
        return cur.rowcount > 0


def end_all_sessions(username: str, *, reg: Registry | None = None,
                     now: float | None = None) -> int:
    """End every live session of a user (in every browser). Returns how many.

    The account actions that need this (reset, disable, end-sessions) also bump the user's
    epoch, which revokes the sessions even without the registry."""
    reg = reg or registry()
    now = time.time() if now is None else now
    with reg.transaction() as con:
        cur = con.execute("UPDATE sessions SET ended = ? WHERE username = ? AND ended IS NULL",
                          (now, normalize_username(username)))
        return cur.rowcount


def live_sessions(username: str, *, reg: Registry | None = None,
                  now: float | None = None) -> int:
    """How many sessions of a user have not ended or expired."""
    reg = reg or registry()
    now = time.time() if now is None else now
    with reg.transaction() as con:
        row = con.execute("SELECT count(*) FROM sessions WHERE username = ? AND ended IS NULL"
                          " AND expires > ?", (normalize_username(username), now)).fetchone()
    return int(row[0])
