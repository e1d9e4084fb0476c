"""Failed sign-ins and the lock they set.

Failures are recorded per username (hashed, so text typed into the username box, sometimes a
password, is never stored) in the session registry file, so they survive restarts and
config reloads; enough failures in a window lock the name for a fixed time that then
expires. Unknown names are counted too, so a lock says nothing about whether an account
exists."""

from __future__ import annotations

import hashlib

from ccgi_dash.accounts.config import AuthSettings
from ccgi_dash.accounts.registry import Registry, registry
from ccgi_dash.accounts.users import normalize_username


def name_hash(username: str) -> str:
    """Failures are keyed by a hash of the normalized name: unknown names are counted too,
    and whatever was typed (sometimes a password) is not stored as text."""
    return hashlib.sha256(b"ccgi-login:" + normalize_username(username).encode()).hexdigest()


def locked_until(username: str, now: float, *, reg: Registry | None = None) -> float | None:
    """When the lock of ``username`` ends, or None if it is not locked at ``now``."""
    reg = reg or registry()
    with reg.transaction() as con:
        row = con.execute("SELECT locked_until FROM login_locks WHERE name_hash = ?",
                          (name_hash(username),)).fetchone()
    return row[0] if row and row[0] > now else None


def record_failure(username: str, now: float, settings: AuthSettings, *,
                   reg: Registry | None = None) -> tuple[int, bool]:
    """Count a failure; lock the name when the window holds ``max_failures`` of them.

    Failures before the end of a previous lock do not count again, so an expired lock gives
    a fresh set of attempts instead of re-locking on the first mistake. Returns (recent
    failures, locked now)."""
    reg = reg or registry()
    key = name_hash(username)
    with reg.transaction() as con:
        con.execute("INSERT INTO login_failures VALUES (?, ?)", (key, now))
        row = con.execute("SELECT locked_until FROM login_locks WHERE name_hash = ?",
                          (key,)).fetchone()
        since = max(now - settings.failure_window, row[0] if row else float("-inf"))
        count = con.execute("SELECT count(*) FROM login_failures WHERE name_hash = ? "
                            "AND at > ?", (key, since)).fetchone()[0]
        locked = count >= settings.max_failures
        if locked:
            con.execute("INSERT OR REPLACE INTO login_locks VALUES (?, ?, ?)",
                        (key, now, now + settings.lock_seconds))
        horizon = now - 2 * max(settings.failure_window, settings.lock_seconds)
        con.execute("DELETE FROM login_failures WHERE at < ?", (horizon,))
        con.execute("DELETE FROM login_locks WHERE locked_until < ?", (horizon,))
    return int(count), locked


def clear_failures(username: str, *, reg: Registry | None = None) -> None:
    """Forget the failures and lock of a name: after a successful sign-in, ``users unlock``
    or ``users reset-password``."""
    reg = reg or registry()
    key = name_hash(username)
    with reg.transaction() as con:
        con.execute("DELETE FROM login_failures WHERE name_hash = ?", (key,))
        con.execute("DELETE FROM login_locks WHERE name_hash = ?", (key,))
