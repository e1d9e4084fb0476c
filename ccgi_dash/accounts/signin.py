"""Signing in: check a password, open a session, decide at every click whether it still
grants access, and the scope a user record grants.

This is where the other modules meet: the users file (who exists, enabled, which epoch),
passwords (one bcrypt check on every path), lockout (count, lock, throttle) and sessions
(the server-side record the cookie names)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ccgi_dash.accounts import lockout, sessions
from ccgi_dash.accounts.config import AuthSettings
from ccgi_dash.accounts.errors import UsersFileError
from ccgi_dash.accounts.passwords import dummy_hash, verify_password
from ccgi_dash.accounts.registry import Registry, registry
from ccgi_dash.accounts.users import USERNAME_RE, User, load_users, normalize_username
from ccgi_dash.scope import Scope


@dataclass(frozen=True)
class LoginResult:
    """What a sign-in attempt gave. ``message`` is the same text for every refusal."""

    ok: bool
    username: str = ""
    session_id: str = ""
    expires: float = 0.0
    message: str = ""


def login(username: str, password: str, *, users_path: Path | None = None,
          reg: Registry | None = None, settings: AuthSettings | None = None,
          now: float | None = None, sleep: Callable[[float], None] = time.sleep) -> LoginResult:
    """Check a sign-in and open a server-side session.

    Every path does the same work: look up the lock, run one bcrypt check (against the
    user's hash, or a dummy hash of the same cost for an unknown name), and on failure record
    it and wait the throttle delay. So an attacker learns nothing from the message or the
    time, not even whether the account exists or is locked. A locked name is refused even
    with the right password, and attempts while locked are not counted, so the lock ends on
    time."""
    settings = settings or AuthSettings.from_env()
    reg = reg or registry()
    now = time.time() if now is None else now
    name = normalize_username(username)[:64]
    try:
        users = load_users(users_path)
    except UsersFileError as exc:
        print(f"ccgi_dash.accounts: sign-in refused, users file unreadable: {exc}",
              file=sys.stderr)
        users = {}
    user = users.get(name) if USERNAME_RE.match(name) else None
    locked = lockout.locked_until(name, now, reg=reg) is not None
    matched = verify_password(password, user.password_hash if user else dummy_hash())
    if matched and user is not None and not user.disabled and not locked:
        lockout.clear_failures(name, reg=reg)
        sid, expires = sessions.create_session(user.username, user.session_epoch,
                                               settings.session_lifetime, reg=reg, now=now)
        return LoginResult(True, user.username, sid, expires)
    if not locked:
        count, _ = lockout.record_failure(name, now, settings, reg=reg)
        sleep(min(settings.failure_delay * count, settings.max_failure_delay))
    else:
        sleep(min(settings.failure_delay * settings.max_failures, settings.max_failure_delay))
    return LoginResult(False, message=settings.failed_message)


def validate_session(session_id: str, *, users_path: Path | None = None,
                     reg: Registry | None = None, settings: AuthSettings | None = None,
                     now: float | None = None) -> User | None:
    """The user a session belongs to, if it still grants access; None otherwise.

    Checked at every run of the app, so a logout elsewhere, a reset, a disable, a role change
    or an idle timeout takes effect at the user's next click."""
    settings = settings or AuthSettings.from_env()
    reg = reg or registry()
    now = time.time() if now is None else now
    row = sessions.session_record(session_id, reg=reg)
    if row is None or row["ended"] is not None:
        return None
    if now >= row["expires"] or now - row["last_seen"] > settings.session_idle:
        sessions.end_session(session_id, reg=reg, now=now)
        return None
    try:
        user = load_users(users_path).get(row["username"])
    except UsersFileError as exc:
        print(f"ccgi_dash.accounts: session refused, users file unreadable: {exc}",
              file=sys.stderr)
        return None
    if user is None or user.disabled or user.session_epoch != row["epoch"]:
        return None
    if now - row["last_seen"] >= sessions.LAST_SEEN_EVERY:
        sessions.touch_session(session_id, now, reg=reg)
    return user


def scope_for(user: User) -> Scope:
    """The scope a user record grants, decided here on the server and nowhere else."""
    if user.role == "admin":
        return Scope("admin", all_districts=True, student_level=True, dataset="live",
                     user=user.username)
    if user.role == "coe":
        return Scope("coe", all_districts=True, student_level=False, dataset="live",
                     user=user.username)
    if user.role == "district" and user.districts:
        return Scope("district", districts=tuple(user.districts), student_level=True,
                     dataset="live", user=user.username)
    # Unreachable for a validated record; an empty scope reads no rows.
    return Scope("district", districts=(), student_level=False, user=user.username)
