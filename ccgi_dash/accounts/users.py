"""The users file: account records, their validation, and locked atomic writes.

YAML at ``CCGI_USERS_FILE`` or ``<data dir>/users.yaml``, written only by the ``users``
command (through :mod:`ccgi_dash.accounts.actions`), under the exclusive lock of
:class:`ccgi_dash.locking.UsersLock` and atomically, so concurrent commands cannot lose or
corrupt an entry; the web process only reads it (cached by stat)."""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ccgi_dash.accounts.config import ENV_USERS_FILE
from ccgi_dash.accounts.errors import UsersBusy, UsersError, UsersFileError
from ccgi_dash.accounts.passwords import BCRYPT_RE
from ccgi_dash.locking import LockHeld, UsersLock
from ccgi_dash.store import atomic_write_text, default_data_dir, now_iso

ADMIN_ROLES = ("admin", "coe", "district")
"""Roles a user record may hold; ``demo`` is the passwordless persona door, never a user."""
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
DISTRICT_RE = re.compile(r"^\d{7}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_CHARS = 254
FILE_VERSION = 1
LOCK_TIMEOUT_SECONDS = 30.0
"""How long a ``users`` command waits for another one to finish writing the file."""
_HEADER = ("# CCGI dashboard users. Managed by `python -m ccgi_dash users ...`: do not edit by\n"
           "# hand. Passwords are bcrypt hashes; the web app only reads this file.\n")


@dataclass(frozen=True)
class User:
    """One account, as stored (the hash included: never print or log a User as a whole).

    ``email`` is where the Friday digest is sent; empty means the user gets none."""

    username: str
    name: str
    role: str
    password_hash: str = field(repr=False)
    districts: tuple[str, ...] = ()
    email: str = ""
    disabled: bool = False
    session_epoch: int = 0
    created: str = ""
    updated: str = ""

    def to_yaml(self) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, "role": self.role,
                "districts": list(self.districts), "disabled": self.disabled,
                "session_epoch": self.session_epoch, "password_hash": self.password_hash,
                "created": self.created, "updated": self.updated}

    def public(self) -> dict[str, Any]:
        """What ``users list`` shows: everything but the hash."""
        return {"username": self.username, "name": self.name, "email": self.email,
                "role": self.role, "districts": list(self.districts),
                "disabled": self.disabled, "session_epoch": self.session_epoch,
                "created": self.created, "updated": self.updated}


# --- validation ----------------------------------------------------------------------------

def normalize_username(text: str) -> str:
    """Usernames are compared lowercased and stripped, at sign-in and in the CLI alike."""
    return str(text).strip().lower()


def username_problem(username: str) -> str | None:
    if not USERNAME_RE.match(username):
        return (f"username {username!r} is not allowed: use 2-64 characters a-z, 0-9, '.', "
                "'_' or '-', starting with a letter or digit")
    return None


def name_problem(name: str) -> str | None:
    if not name.strip() or len(name) > 100:
        return "the display name must be 1-100 characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or "<" in name or ">" in name:
        return "the display name must not contain control characters or '<' '>'"
    return None


def email_problem(email: str) -> str | None:
    """Why an email address is refused, or None. The empty string is allowed: no address."""
    if email and (len(email) > MAX_EMAIL_CHARS or not EMAIL_RE.match(email)):
        return f"{email!r} does not look like an email address"
    return None


def clean_districts(codes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validate and deduplicate district codes (7 digits: county + district)."""
    out = sorted({str(c).strip() for c in codes if str(c).strip()})
    bad = [c for c in out if not DISTRICT_RE.match(c)]
    if bad:
        raise UsersError(f"district codes are 7 digits (county + district), not "
                         f"{', '.join(repr(b) for b in bad)}")
    return tuple(out)


def role_problem(role: str, districts: tuple[str, ...]) -> str | None:
    """The role/district rule: a district user names districts, admin and coe name none
    (they see the whole county), so a scope is never ambiguous."""
    if role not in ADMIN_ROLES:
        return f"role must be one of {', '.join(ADMIN_ROLES)}, not {role!r}"
    if role == "district" and not districts:
        return "a district user needs at least one district code (--districts 1062166,...)"
    if role != "district" and districts:
        return f"the {role} role sees the whole county: give no district codes"
    return None


# --- reading -------------------------------------------------------------------------------

def users_file_path() -> Path:
    """``CCGI_USERS_FILE``, else ``users.yaml`` in the real data directory."""
    env = os.environ.get(ENV_USERS_FILE, "").strip()
    return Path(env) if env else default_data_dir() / "users.yaml"


def _parse_user(username: str, raw: Any, where: str) -> User:
    if not isinstance(raw, dict):
        raise UsersFileError(f"{where}: user {username!r} is not a mapping")
    problem = username_problem(username) if isinstance(username, str) else "not a string"
    if problem:
        raise UsersFileError(f"{where}: {problem}")
    try:
        districts = clean_districts(tuple(raw.get("districts") or ()))
    except UsersError as exc:
        raise UsersFileError(f"{where}: user {username!r}: {exc}") from None
    role = str(raw.get("role", ""))
    problem = role_problem(role, districts)
    if problem:
        raise UsersFileError(f"{where}: user {username!r}: {problem}")
    pw_hash = str(raw.get("password_hash", ""))
    if not BCRYPT_RE.match(pw_hash):
        raise UsersFileError(f"{where}: user {username!r} has no valid bcrypt password_hash")
    epoch = raw.get("session_epoch", 0)
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise UsersFileError(f"{where}: user {username!r}: session_epoch must be an integer")
    disabled = raw.get("disabled", False)
    if not isinstance(disabled, bool):
        raise UsersFileError(f"{where}: user {username!r}: disabled must be true or false")
    return User(username=username, name=str(raw.get("name") or username), role=role,
                password_hash=pw_hash, districts=districts, email=str(raw.get("email") or ""),
                disabled=disabled, session_epoch=epoch, created=str(raw.get("created") or ""),
                updated=str(raw.get("updated") or ""))


def parse_users(text: str, where: str = "users file") -> dict[str, User]:
    """Users from the file's text; raises UsersFileError on anything unexpected, because a
    half-understood credentials file must not grant anything."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsersFileError(f"{where} is not valid YAML: {exc}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not isinstance(raw.get("users", {}) or {}, dict):
        raise UsersFileError(f"{where} must be a mapping with a 'users' mapping")
    if raw.get("version", FILE_VERSION) != FILE_VERSION:
        raise UsersFileError(f"{where} has version {raw.get('version')!r}; this app reads "
                             f"version {FILE_VERSION}")
    return {name: _parse_user(name, rec, where) for name, rec in (raw.get("users") or {}).items()}


def dump_users(users: Mapping[str, User]) -> str:
    body = {"version": FILE_VERSION,
            "users": {u.username: u.to_yaml() for u in sorted(users.values(),
                                                               key=lambda u: u.username)}}
    return _HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def read_users_file(path: Path) -> dict[str, User]:
    """Read and validate the file (no cache); a missing file has no users."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsersFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_users(text, str(path))


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int, int], dict[str, User]]] = {}


def load_users(path: Path | None = None) -> dict[str, User]:
    """The users, re-read whenever the file changes (the CLI replaces it, so the inode, size
    or mtime always change). This is how a reset or disable reaches every app process."""
    path = path or users_file_path()
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsersFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    key = (st.st_ino, st.st_size, st.st_mtime_ns)
    with _cache_lock:
        hit = _cache.get(path)
        if hit and hit[0] == key:
            return hit[1]
    users = read_users_file(path)
    with _cache_lock:
        _cache[path] = (key, users)
    return users


def logins_enabled(path: Path | None = None) -> bool:
    """Real sign-ins are possible once a users file exists. Until then the app is a demo
    and needs no cookie key."""
    return (path or users_file_path()).exists()


def require_user(users: Mapping[str, User], username: str) -> User:
    """The record of ``username`` (already normalized), or the error every action gives."""
    user = users.get(username)
    if user is None:
        raise UsersError(f"no user {username!r} (see `python -m ccgi_dash users list`)")
    return user


# --- writing -------------------------------------------------------------------------------

@contextlib.contextmanager
def users_write_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold :class:`ccgi_dash.locking.UsersLock` of ``path``, waiting up to ``timeout``
    seconds (default :data:`LOCK_TIMEOUT_SECONDS`) for another command to finish.

    The kernel drops the lock if the holder dies, so it never goes stale."""
    timeout = LOCK_TIMEOUT_SECONDS if timeout is None else timeout
    lock = UsersLock(path)
    try:
        lock.acquire(wait=timeout)
    except LockHeld:
        raise UsersBusy(f"another `users` command has held {lock.path} for {timeout:g} s; "
                        "try again when it has finished") from None
    try:
        yield
    finally:
        lock.release()


def modify_users(path: Path, change: Callable[[dict[str, User]], dict[str, User]]) -> None:
    """Read, change and atomically replace the users file under its lock.

    The read happens inside the lock, so two commands never both start from the same old
    file and lose each other's change. Written with umask 027: the hashes are not for other
    accounts on the machine to read (the file is 0640)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with users_write_lock(path):
        users = read_users_file(path)
        new = change(dict(users))
        text = dump_users(new)
        parse_users(text, str(path))  # never write what we could not read back
        old_mask = os.umask(0o027)
        try:
            atomic_write_text(path, text)
        finally:
            os.umask(old_mask)


def add_user(path: Path, username: str, *, name: str, role: str, password_hash: str,
             districts: tuple[str, ...] = (), email: str = "") -> User:
    """Add an account record; refuses a taken username rather than silently replacing it.

    Only the record: :func:`ccgi_dash.accounts.actions.create_user` is the action (it also
    checks the password and writes the audit line)."""
    username = normalize_username(username)
    for problem in (username_problem(username), name_problem(name or username),
                    role_problem(role, districts), email_problem(email)):
        if problem:
            raise UsersError(problem)
    if not BCRYPT_RE.match(password_hash):
        raise UsersError("internal: not a bcrypt hash")
    stamp = now_iso()
    user = User(username=username, name=(name or username).strip(), role=role,
                password_hash=password_hash, districts=districts, email=email,
                created=stamp, updated=stamp)

    def change(users: dict[str, User]) -> dict[str, User]:
        if username in users:
            raise UsersError(f"user {username!r} already exists; use set-role, set-districts "
                             "or reset-password to change it")
        users[username] = user
        return users

    modify_users(path, change)
    return user


def update_user(path: Path, username: str, **changes: Any) -> User:
    """Change fields of one account record (validated as a whole); ``bump_epoch=True`` also
    invalidates every session the user holds.

    Only the record: the functions of :mod:`ccgi_dash.accounts.actions` are the actions (they
    also end sessions in the registry and write the audit line)."""
    username = normalize_username(username)
    bump = bool(changes.pop("bump_epoch", False))
    result: list[User] = []

    def change(users: dict[str, User]) -> dict[str, User]:
        user = require_user(users, username)
        new = replace(user, **changes, updated=now_iso())
        if bump:
            new = replace(new, session_epoch=user.session_epoch + 1)
        problem = role_problem(new.role, new.districts)
        if "email" in changes:  # an old record's address never blocks, say, a disable
            problem = problem or email_problem(new.email)
        if problem:
            raise UsersError(problem)
        users[username] = new
        result.append(new)
        return users

    modify_users(path, change)
    return result[0]
