"""What an administrator does to an account, one function per action.

Each function changes the record (under the users file's lock, atomically), ends the user's
sessions where the action requires it, clears a lock where it should, and writes the audit
line, so no caller can do half of an action. ``ccgi_dash.users_cli`` only parses arguments,
calls these and prints; any other tool (a future admin page, a provisioning script) calls
them too.

==================  ==========  ===============  =============  =======================
action              record      ends sessions    clears lock    audit action
==================  ==========  ===============  =============  =======================
create_user         new         -                -              ``users_add``
reset_password      hash        yes (+ epoch)    yes            ``users_reset_password``
disable_user        disabled    yes (+ epoch)    -              ``users_disable``
enable_user         enabled     -                -              ``users_enable``
set_role            role        -                -              ``users_set_role``
set_districts       districts   -                -              ``users_set_districts``
set_email           email       -                -              ``users_set_email``
end_user_sessions   epoch       yes (+ epoch)    -              ``users_end_sessions``
unlock_user         -           -                yes            ``users_unlock``
==================  ==========  ===============  =============  =======================

Role, district and email changes end no session: the scope is read from the users file at
every click, so they apply at the user's next one."""

from __future__ import annotations

import getpass
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ccgi_dash.accounts import lockout, sessions
from ccgi_dash.accounts.audit import write_audit
from ccgi_dash.accounts.errors import UsersError
from ccgi_dash.accounts.passwords import hash_password, password_problem
from ccgi_dash.accounts.registry import registry, registry_path
from ccgi_dash.accounts.users import (
    User,
    add_user,
    clean_districts,
    email_problem,
    name_problem,
    normalize_username,
    read_users_file,
    require_user,
    role_problem,
    update_user,
    username_problem,
    users_file_path,
)
from ccgi_dash.scope import Scope
from ccgi_dash.store import DataDir, default_data_dir


@dataclass(frozen=True)
class Outcome:
    """What an action did: the record as it now is, how many live sessions it ended, and a
    warning worth showing the operator (empty when all went as planned)."""

    user: User
    sessions_ended: int = 0
    warning: str = ""


def operator() -> str:
    """Who ran a ``users`` command, for the audit log: ``cli:<system account>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _where(users_path: Path | None, data_dir: DataDir | None) -> tuple[Path, DataDir]:
    dd = data_dir or DataDir(default_data_dir())
    return (users_path or users_file_path()), dd


def _audit(dd: DataDir, by: str | None, action: str, what: str) -> None:
    """Account actions are recorded in the audit log too: who changed which account."""
    who = by or operator()
    write_audit(dd, user=who, role="admin", scope=Scope.county(user=who), action=action,
                what=what, rows=0)


def _end_sessions(dd: DataDir, username: str) -> tuple[int, str]:
    """End a user's sessions in the registry; (how many, warning). The epoch bump already
    made them invalid, so a registry that cannot be reached loses only bookkeeping, not
    security: that is a warning, not a failure."""
    try:
        return sessions.end_all_sessions(username, reg=registry(dd)), ""
    except sqlite3.Error as exc:
        return 0, (f"could not update {registry_path(dd)} ({exc}); the sessions are refused "
                   "anyway because the user's session epoch changed")


def _scope_text(user: User) -> str:
    return f" ({', '.join(user.districts)})" if user.districts else ""


def check_new_user(username: str, *, role: str, districts: tuple[str, ...] = (),
                   name: str = "", email: str = "", users_path: Path | None = None) -> str:
    """The normalized username if an account could be created as asked; raises UsersError
    otherwise. Lets the CLI refuse before it asks for a password nobody would use."""
    username = normalize_username(username)
    for problem in (username_problem(username), role_problem(role, districts),
                    name_problem(name or username), email_problem(email)):
        if problem:
            raise UsersError(problem)
    if username in read_users_file(users_path or users_file_path()):
        raise UsersError(f"user {username!r} already exists")
    return username


def existing_user(username: str, users_path: Path | None = None) -> User:
    """The record of an account, or UsersError naming the unknown user."""
    return require_user(read_users_file(users_path or users_file_path()),
                        normalize_username(username))


def create_user(username: str, password: str, *, role: str, districts: tuple[str, ...] = (),
                name: str = "", email: str = "", users_path: Path | None = None,
                data_dir: DataDir | None = None, by: str | None = None) -> Outcome:
    """Add an account with this password (checked against the password rules)."""
    path, dd = _where(users_path, data_dir)
    username = normalize_username(username)
    problem = password_problem(password, username)
    if problem:
        raise UsersError(problem)
    user = add_user(path, username, name=name or username, role=role,
                    password_hash=hash_password(password), districts=districts, email=email)
    _audit(dd, by, "users_add", f"user:{user.username} role:{user.role}{_scope_text(user)}")
    return Outcome(user)


def reset_password(username: str, password: str, *, users_path: Path | None = None,
                   data_dir: DataDir | None = None, by: str | None = None) -> Outcome:
    """Set a new password, end every session of the user and clear a lock."""
    path, dd = _where(users_path, data_dir)
    username = normalize_username(username)
    problem = password_problem(password, username)
    if problem:
        raise UsersError(problem)
    user = update_user(path, username, password_hash=hash_password(password), bump_epoch=True)
    ended, warning = _end_sessions(dd, user.username)
    lockout.clear_failures(user.username, reg=registry(dd))
    _audit(dd, by, "users_reset_password", f"user:{user.username}")
    return Outcome(user, ended, warning)


def disable_user(username: str, *, users_path: Path | None = None,
                 data_dir: DataDir | None = None, by: str | None = None) -> Outcome:
    """Stop an account from signing in and end every session it holds."""
    path, dd = _where(users_path, data_dir)
    user = update_user(path, username, disabled=True, bump_epoch=True)
    ended, warning = _end_sessions(dd, user.username)
    _audit(dd, by, "users_disable", f"user:{user.username}")
    return Outcome(user, ended, warning)


def enable_user(username: str, *, users_path: Path | None = None,
                data_dir: DataDir | None = None, by: str | None = None) -> Outcome:
    """Let a disabled account sign in again (its old sessions stay ended: the epoch moved)."""
    path, dd = _where(users_path, data_dir)
    user = update_user(path, username, disabled=False)
    _audit(dd, by, "users_enable", f"user:{user.username}")
    return Outcome(user)


def set_role(username: str, role: str, districts: tuple[str, ...] | None = None, *,
             users_path: Path | None = None, data_dir: DataDir | None = None,
             by: str | None = None) -> Outcome:
    """Change the role. ``districts`` None keeps a district user's districts, and drops them
    for admin and coe (who see the whole county)."""
    path, dd = _where(users_path, data_dir)
    changes: dict[str, object] = {"role": role}
    if districts is not None:
        changes["districts"] = clean_districts(districts)
    elif role != "district":
        changes["districts"] = ()  # the record's own districts are kept for a district user
    user = update_user(path, username, **changes)
    _audit(dd, by, "users_set_role", f"user:{user.username} role:{user.role}{_scope_text(user)}")
    return Outcome(user)


def set_districts(username: str, districts: tuple[str, ...], *, users_path: Path | None = None,
                  data_dir: DataDir | None = None, by: str | None = None) -> Outcome:
    """Change a district user's districts (7-digit codes)."""
    path, dd = _where(users_path, data_dir)
    user = update_user(path, username, districts=clean_districts(districts))
    _audit(dd, by, "users_set_districts",
           f"user:{user.username} districts:{','.join(user.districts)}")
    return Outcome(user)


def set_email(username: str, email: str, *, users_path: Path | None = None,
              data_dir: DataDir | None = None, by: str | None = None) -> Outcome:
    """Set the address the Friday digest is sent to; an empty string clears it. The audit
    line says that it changed, not the address."""
    path, dd = _where(users_path, data_dir)
    email = email.strip()
    problem = email_problem(email)
    if problem:
        raise UsersError(problem)
    user = update_user(path, username, email=email)
    _audit(dd, by, "users_set_email", f"user:{user.username} email:{'set' if email else 'cleared'}")
    return Outcome(user)


def end_user_sessions(username: str, *, users_path: Path | None = None,
                      data_dir: DataDir | None = None, by: str | None = None) -> Outcome:
    """Sign an account out in every browser: bump its epoch (copied cookies die even if the
    registry is elsewhere) and end its sessions in the registry."""
    path, dd = _where(users_path, data_dir)
    user = update_user(path, username, bump_epoch=True)
    ended, warning = _end_sessions(dd, user.username)
    _audit(dd, by, "users_end_sessions", f"user:{user.username}")
    return Outcome(user, ended, warning)


def unlock_user(username: str, *, data_dir: DataDir | None = None,
                by: str | None = None) -> str:
    """Clear a name's failed sign-ins and lock. Works for any name, known or not (unknown
    names are counted too); returns the normalized name."""
    dd = data_dir or DataDir(default_data_dir())
    username = normalize_username(username)
    lockout.clear_failures(username, reg=registry(dd))
    _audit(dd, by, "users_unlock", f"user:{username}")
    return username
