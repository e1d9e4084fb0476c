"""Accounts, passwords, sessions, lockout and the audit log: the server side of signing in.

No Streamlit here: the command line that manages users and the web app share this module, and
everything security-relevant can be tested without a browser. ``ccgi_dash.ui.login`` is the
thin Streamlit side.

Why not streamlit-authenticator's ``Authenticate`` (0.4.2, read from its source):

* ``check_credentials`` returns at once for an unknown username but runs bcrypt for a known
  one, so response time tells an attacker which accounts exist; ``max_login_attempts`` raises
  a different message, only for existing accounts, and keeps its counter in the credentials
  dict (lost when the config is reloaded, never reset with time otherwise);
* its cookie is a JWT of ``{username, exp_date}`` signed with a key that defaults to
  ``some_key``; re-authentication trusts any such cookie, so a copied cookie keeps working
  after logout, and a password reset cannot revoke it;
* given a path it rewrites the YAML file on every login, failure and logout;
* ``roles`` are only copied into ``st.session_state``; password hints are shown.

Making it safe would mean replacing its ``login``, its cookie model and its failure counter,
i.e. everything it does, so the sign-in form is our own (``ui/login.py``) and this module does
the rest. What we keep from it: the bcrypt hash format (``$2b$``, cost 12) its ``Hasher``
reads and writes, so hashes move both ways, and the cookie component it sets cookies with
(``extra_streamlit_components``' cookie manager, used by ``ui/login.py``).

The pieces:

* **Users file** (YAML, ``CCGI_USERS_FILE`` or ``<data dir>/users.yaml``): written only by the
  ``users`` command, under an exclusive ``flock`` and atomically, so concurrent commands
  cannot lose or corrupt an entry; the web process only reads it (cached by stat).
* **Session registry** (SQLite in WAL mode, ``<data dir>/logs/sessions.sqlite``): shared by
  every app process and thread. A session is valid only while it exists, is not ended, is
  not idle too long or too old, and its user exists, is enabled and still has the
  ``session_epoch`` the session was created under. Logout ends the session; a password reset,
  disabling a user and ``users end-sessions`` bump the epoch *and* end every session, so a
  copied cookie stops working even if the registry were lost.
* **Lockout**: failed sign-ins are recorded per username (hashed, so text typed into the
  username box, sometimes a password, is never stored) in the same database, so they survive
  restarts and config reloads; enough failures in a window lock the name for a fixed time
  that then expires. An unknown user, a wrong password, a disabled user and a locked name
  get the same message after the same bcrypt work.
* **Cookie**: ``v1.<session id>.<expiry>.<HMAC-SHA256>`` signed with the cookie key from
  secrets. It names a server-side session, so it is worth nothing once that session ends.
* **Audit log**: one JSON line per export or student-level view in ``logs/audit.jsonl``,
  scrubbed of anything that looks like student PII.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bcrypt
import yaml

from ccgi_dash.scope import Scope
from ccgi_dash.store import DataDir, append_jsonl, atomic_write_text, default_data_dir, now_iso

if TYPE_CHECKING:  # pandas is imported where a frame is built: every CLI command imports
    import pandas as pd  # this module, and pandas would add a fifth of a second to each.

# --- settings ------------------------------------------------------------------------------

ENV_USERS_FILE = "CCGI_USERS_FILE"
ENV_COOKIE_KEY = "CCGI_COOKIE_KEY"
ENV_MAX_FAILURES = "CCGI_LOGIN_MAX_FAILURES"
ENV_FAILURE_WINDOW = "CCGI_LOGIN_WINDOW_MINUTES"
ENV_LOCK_MINUTES = "CCGI_LOGIN_LOCK_MINUTES"
ENV_FAILURE_DELAY = "CCGI_LOGIN_FAILURE_DELAY"
ENV_SESSION_IDLE = "CCGI_SESSION_IDLE_HOURS"
ENV_SESSION_DAYS = "CCGI_SESSION_DAYS"
SETTINGS_ENV = (ENV_USERS_FILE, ENV_COOKIE_KEY, ENV_MAX_FAILURES, ENV_FAILURE_WINDOW,
                ENV_LOCK_MINUTES, ENV_FAILURE_DELAY, ENV_SESSION_IDLE, ENV_SESSION_DAYS)
"""Every environment variable this module reads (docs/security.md documents each)."""

BCRYPT_ROUNDS = 12
"""bcrypt cost of new hashes. Tests lower it for speed; production never changes it."""
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 72
"""bcrypt reads at most 72 bytes (bcrypt 5 refuses longer input rather than truncating)."""
MIN_COOKIE_KEY_BYTES = 32
LOCK_TIMEOUT_SECONDS = 30.0
"""How long a ``users`` command waits for another one to finish writing the file."""

FAILED_MESSAGE = ("Sign-in failed. Check your username and password; after repeated failures "
                  "an account is locked for 15 minutes.")
"""The one message for every refusal: unknown user, wrong password, disabled, locked (with
the default lock time; see :attr:`AuthSettings.failed_message`)."""

KEY_HOWTO = (
    'Generate a key with:\n\n    python -c "import secrets; print(secrets.token_urlsafe(48))"\n\n'
    "and put it in .streamlit/secrets.toml:\n\n    [auth]\n    cookie_key = \"<the key>\"\n\n"
    f"or in the environment variable {ENV_COOKIE_KEY} (which wins). Restart the app "
    "afterwards. See docs/security.md."
)

KNOWN_DEFAULT_KEYS = frozenset({
    "some_key", "some_signature_key", "random_signature_key", "random_key", "abcdef",
    "changeme", "change_me", "change-me", "secret", "secret_key", "cookie_key", "key",
    "password", "your_key", "your-secret-key", "streamlit", "test", "default",
})
"""Keys published in documentation and examples (streamlit-authenticator's included)."""


@dataclass(frozen=True)
class AuthSettings:
    """Lockout and session limits. Defaults follow the spec; each has an env override so an
    operator can tune them without a code change (see docs/security.md)."""

    max_failures: int = 5
    failure_window: float = 15 * 60.0
    lock_seconds: float = 15 * 60.0
    failure_delay: float = 0.5
    """Seconds added to a failed attempt's answer per recent failure of that name."""
    max_failure_delay: float = 3.0
    session_idle: float = 12 * 3600.0
    session_lifetime: float = 7 * 86400.0

    @property
    def failed_message(self) -> str:
        """:data:`FAILED_MESSAGE`, naming the lock time actually configured."""
        minutes = round(self.lock_seconds / 60)
        return FAILED_MESSAGE.replace("15 minutes", f"{minutes} minute{'s' * (minutes != 1)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthSettings:
        """Read the overrides; a malformed one raises ValueError naming the variable, because
        a lockout silently falling back to another value is worse than refusing to start."""
        env = os.environ if environ is None else environ

        def number(name: str, default: float, scale: float, minimum: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw) * scale
            except ValueError:
                raise ValueError(f"{name} must be a number, not {raw!r}") from None
            if not value >= minimum:
                raise ValueError(f"{name} must be at least {minimum / scale:g}")
            return value

        d = cls()
        return cls(
            max_failures=int(number(ENV_MAX_FAILURES, d.max_failures, 1, 1)),
            failure_window=number(ENV_FAILURE_WINDOW, d.failure_window, 60, 60),
            lock_seconds=number(ENV_LOCK_MINUTES, d.lock_seconds, 60, 60),
            failure_delay=number(ENV_FAILURE_DELAY, d.failure_delay, 1, 0),
            max_failure_delay=d.max_failure_delay,
            session_idle=number(ENV_SESSION_IDLE, d.session_idle, 3600, 60),
            session_lifetime=number(ENV_SESSION_DAYS, d.session_lifetime, 86400, 3600),
        )


class UsersError(ValueError):
    """A ``users`` command that cannot be done as asked (reported with exit code 2).

    A ValueError so that ``ccgi_dash.cli.main`` reports it as a usage error as well."""


class UsersFileError(UsersError):
    """The users file exists but cannot be read or does not validate."""


class UsersBusy(RuntimeError):
    """Another ``users`` command held the file's lock for longer than we wait."""


# --- users file ----------------------------------------------------------------------------

ADMIN_ROLES = ("admin", "coe", "district")
"""Roles a user record may hold; ``demo`` is the passwordless persona door, never a user."""
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
DISTRICT_RE = re.compile(r"^\d{7}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BCRYPT_RE = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
FILE_VERSION = 1
_HEADER = ("# CCGI dashboard users. Managed by `python -m ccgi_dash users ...`: do not edit by\n"
           "# hand. Passwords are bcrypt hashes; the web app only reads this file.\n")


@dataclass(frozen=True)
class User:
    """One account, as stored (the hash included: never print or log a User as a whole)."""

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


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"the password must be at least {MIN_PASSWORD_CHARS} characters"
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return f"the password must be at most {MAX_PASSWORD_BYTES} bytes (a bcrypt limit)"
    if password.strip() != password or not password.strip():
        return "the password must not begin or end with spaces"
    if username and username.lower() in password.lower():
        return "the password must not contain the username"
    return None


def hash_password(password: str) -> str:
    """A bcrypt hash (cost ``BCRYPT_ROUNDS``), the format streamlit-authenticator uses too."""
    problem = password_problem(password)
    if problem:
        raise UsersError(problem)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


_DUMMY_HASH_12 = "$2b$12$El8JDeQ0wwydBJmNpPLjKeP5OjqIwwK8sYKflgpBFq6GDO9wyF5K6"
_dummy_hashes: dict[int, str] = {12: _DUMMY_HASH_12}
_BCRYPT_SLOTS = threading.BoundedSemaphore(4)
"""At most four bcrypt checks at once per process: a flood of sign-ins slows itself, not the
whole server."""


def _dummy_hash() -> str:
    """A hash of a random, forgotten password at the cost real hashes have, checked against
    for unknown users so they take as long as a wrong password."""
    rounds = BCRYPT_ROUNDS
    if rounds not in _dummy_hashes:
        _dummy_hashes[rounds] = bcrypt.hashpw(secrets.token_bytes(16).hex().encode(),
                                              bcrypt.gensalt(rounds)).decode()
    return _dummy_hashes[rounds]


def verify_password(password: str, password_hash: str) -> bool:
    """bcrypt check that never raises: an over-long password or a broken hash is a mismatch,
    after the same work as any other check (the input is cut to 72 bytes for the timing)."""
    raw = password.encode("utf-8")
    too_long = len(raw) > MAX_PASSWORD_BYTES
    target = password_hash if BCRYPT_RE.match(password_hash or "") else _dummy_hash()
    with _BCRYPT_SLOTS:
        try:
            ok = bcrypt.checkpw(raw[:MAX_PASSWORD_BYTES], target.encode())
        except ValueError:
            ok = False
    return ok and not too_long and target == password_hash


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


@contextlib.contextmanager
def users_write_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Exclusive ``flock`` on ``<users file>.lock``, waiting up to ``timeout`` seconds.

    Unlike the sync lock, a second ``users`` command should wait its turn (it is quick), not
    fail. The kernel drops the lock if the holder dies, so it never goes stale."""
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    timeout = LOCK_TIMEOUT_SECONDS if timeout is None else timeout
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise UsersBusy(f"another `users` command has held {lock_path} for "
                                    f"{timeout:g} s; try again when it has finished") from None
                time.sleep(0.01)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


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


def _require(users: Mapping[str, User], username: str) -> User:
    user = users.get(username)
    if user is None:
        raise UsersError(f"no user {username!r} (see `python -m ccgi_dash users list`)")
    return user


def add_user(path: Path, username: str, *, name: str, role: str, password_hash: str,
             districts: tuple[str, ...] = (), email: str = "") -> User:
    """Add an account; refuses a taken username rather than silently replacing it."""
    username = normalize_username(username)
    for problem in (username_problem(username), name_problem(name or username),
                    role_problem(role, districts)):
        if problem:
            raise UsersError(problem)
    if email and not EMAIL_RE.match(email):
        raise UsersError(f"{email!r} does not look like an email address")
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
    """Change fields of one account (validated as a whole); ``bump_epoch=True`` also
    invalidates every session the user holds."""
    username = normalize_username(username)
    bump = bool(changes.pop("bump_epoch", False))
    result: list[User] = []

    def change(users: dict[str, User]) -> dict[str, User]:
        user = _require(users, username)
        new = replace(user, **changes, updated=now_iso())
        if bump:
            new = replace(new, session_epoch=user.session_epoch + 1)
        problem = role_problem(new.role, new.districts)
        if problem:
            raise UsersError(problem)
        users[username] = new
        result.append(new)
        return users

    modify_users(path, change)
    return result[0]


# --- cookie key ----------------------------------------------------------------------------

def configured_cookie_key(secrets_key: str | None = None) -> str | None:
    """The cookie key: ``CCGI_COOKIE_KEY`` wins (operators set it per deployment), else the
    value from ``st.secrets["auth"]["cookie_key"]`` that the Streamlit side passes in."""
    env = os.environ.get(ENV_COOKIE_KEY)
    if env is not None and env.strip():
        return env.strip()
    if secrets_key is not None and str(secrets_key).strip():
        return str(secrets_key).strip()
    return None


def cookie_key_problem(secrets_key: str | None = None, users_path: Path | None = None
                       ) -> str | None:
    """Why the app must not start, or None.

    The rule: a key that is set must be good (at least 32 bytes, not a published default,
    not one character repeated); no key at all is fine only while no users file exists, i.e.
    the app serves the demo and nobody can sign in."""
    key = configured_cookie_key(secrets_key)
    if key is None:
        if logins_enabled(users_path):
            return ("Sign-in is set up (a users file exists) but no cookie signing key is "
                    f"configured. {KEY_HOWTO}")
        return None
    if key.lower() in KNOWN_DEFAULT_KEYS:
        return f"The cookie signing key is a published default value. {KEY_HOWTO}"
    if len(key.encode("utf-8")) < MIN_COOKIE_KEY_BYTES:
        return (f"The cookie signing key is shorter than {MIN_COOKIE_KEY_BYTES} bytes. "
                f"{KEY_HOWTO}")
    if len(set(key)) < 8:
        return f"The cookie signing key is not random (too few distinct characters). {KEY_HOWTO}"
    return None


def _key_bytes(key: str) -> bytes:
    return hashlib.sha256(b"ccgi-cookie-v1:" + key.encode("utf-8")).digest()


def make_cookie(session_id: str, expires: float, key: str) -> str:
    """``v1.<session id>.<expiry>.<hmac>``: the cookie names the server-side session, so
    ending that session makes the cookie worthless, however many copies exist."""
    exp = int(expires)
    mac = hmac.new(_key_bytes(key), f"v1|{session_id}|{exp}".encode(), hashlib.sha256)
    return f"v1.{session_id}.{exp}.{mac.hexdigest()}"


def read_cookie(value: str | None, key: str, now: float | None = None) -> str | None:
    """The session id a cookie carries if its signature and expiry hold, else None. The
    session must still be checked (:func:`validate_session`)."""
    if not value or len(value) > 200:
        return None
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != "v1" or not parts[2].isdigit():
        return None
    _, sid, exp, _mac = parts
    expected = make_cookie(sid, int(exp), key)
    if not hmac.compare_digest(expected.encode(), value.encode()):
        return None
    if int(exp) <= (time.time() if now is None else now):
        return None
    return sid


# --- session registry and lockout ----------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_hash   TEXT PRIMARY KEY,
    username  TEXT NOT NULL,
    epoch     INTEGER NOT NULL,
    created   REAL NOT NULL,
    last_seen REAL NOT NULL,
    expires   REAL NOT NULL,
    ended     REAL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (username);
CREATE TABLE IF NOT EXISTS login_failures (
    name_hash TEXT NOT NULL,
    at        REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_by_name ON login_failures (name_hash, at);
CREATE TABLE IF NOT EXISTS login_locks (
    name_hash    TEXT PRIMARY KEY,
    locked_at    REAL NOT NULL,
    locked_until REAL NOT NULL
);
"""
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
LAST_SEEN_EVERY = 60.0
"""Write ``last_seen`` at most once a minute per session: a rerun is not worth a write."""


def _id_hash(session_id: str) -> str:
    """Sessions are stored by hash, so a copy of the database hands out no live session."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def name_hash(username: str) -> str:
    """Failures are keyed by a hash of the normalized name: unknown names are counted too,
    and whatever was typed (sometimes a password) is not stored as text."""
    return hashlib.sha256(b"ccgi-login:" + normalize_username(username).encode()).hexdigest()


def registry_path(data_dir: DataDir | None = None) -> Path:
    return (data_dir or DataDir(default_data_dir())).logs / "sessions.sqlite"


class Registry:
    """The session and failed-login store, one SQLite file shared by every process.

    A connection per operation (cheap for SQLite) keeps it safe from any thread; WAL lets
    readers and a writer work at once, and ``BEGIN IMMEDIATE`` makes each read-then-write
    step atomic across processes. It must live on a local disk (WAL needs shared memory)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        try:
            if not self._ready:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
                self._ready = True
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    # sessions

    def create_session(self, username: str, epoch: int, lifetime: float,
                       now: float | None = None) -> tuple[str, float]:
        """A new random session id (256 bits) and its absolute expiry."""
        now = time.time() if now is None else now
        sid = secrets.token_urlsafe(32)
        expires = now + lifetime
        with self._tx() as con:
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, NULL)",
                        (_id_hash(sid), username, epoch, now, now, expires))
            # Housekeeping: forget sessions that ended or expired more than a day ago.
            con.execute("DELETE FROM sessions WHERE coalesce(ended, expires) < ?",
                        (now - 86400,))
        return sid, expires

    def session(self, session_id: str) -> dict[str, Any] | None:
        if not SESSION_ID_RE.match(session_id or ""):
            return None
        with self._tx() as con:
            row = con.execute("SELECT username, epoch, created, last_seen, expires, ended "
                              "FROM sessions WHERE id_hash = ?",
                              (_id_hash(session_id),)).fetchone()
        if row is None:
            return None
        keys = ("username", "epoch", "created", "last_seen", "expires", "ended")
        return dict(zip(keys, row, strict=True))

    def touch(self, session_id: str, now: float) -> None:
        with self._tx() as con:
            con.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ? AND ended IS NULL",
                        (now, _id_hash(session_id)))

    def end_session(self, session_id: str, now: float | None = None) -> bool:
        """End one session (logout). True if it was live."""
        if not SESSION_ID_RE.match(session_id or ""):
            return False
        now = time.time() if now is None else now
        with self._tx() as con:
            cur = con.execute("UPDATE sessions SET ended = ? WHERE id_hash = ? AND ended IS NULL",
                              (now, _id_hash(session_id)))
            return cur.rowcount > 0

    def end_all_sessions(self, username: str, now: float | None = None) -> int:
        """End every live session of a user (reset, disable, end-sessions). Returns how many."""
        now = time.time() if now is None else now
        with self._tx() as con:
            cur = con.execute("UPDATE sessions SET ended = ? WHERE username = ? AND ended IS NULL",
                              (now, normalize_username(username)))
            return cur.rowcount

    def live_sessions(self, username: str, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self._tx() as con:
            row = con.execute("SELECT count(*) FROM sessions WHERE username = ? AND ended IS NULL"
                              " AND expires > ?", (normalize_username(username), now)).fetchone()
        return int(row[0])

    # failed sign-ins

    def locked_until(self, key: str, now: float) -> float | None:
        with self._tx() as con:
            row = con.execute("SELECT locked_until FROM login_locks WHERE name_hash = ?",
                              (key,)).fetchone()
        return row[0] if row and row[0] > now else None

    def record_failure(self, key: str, now: float, settings: AuthSettings) -> tuple[int, bool]:
        """Count a failure; lock the name when the window holds ``max_failures`` of them.

        Failures before the end of a previous lock do not count again, so an expired lock
        gives a fresh set of attempts instead of re-locking on the first mistake. Returns
        (recent failures, locked now)."""
        with self._tx() as con:
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

    def clear_failures(self, key: str) -> None:
        """After a successful sign-in, or ``users unlock``/``reset-password``."""
        with self._tx() as con:
            con.execute("DELETE FROM login_failures WHERE name_hash = ?", (key,))
            con.execute("DELETE FROM login_locks WHERE name_hash = ?", (key,))


_registries: dict[Path, Registry] = {}


def registry(data_dir: DataDir | None = None) -> Registry:
    """The registry of a data directory (one object per path, so its schema is set up once
    per process)."""
    path = registry_path(data_dir)
    with _cache_lock:
        return _registries.setdefault(path, Registry(path))


def end_session(session_id: str, data_dir: DataDir | None = None) -> bool:
    """Sign one session out (logout): any copy of its cookie is refused from now on."""
    return registry(data_dir).end_session(session_id)


def end_all_sessions(username: str, data_dir: DataDir | None = None) -> int:
    """Sign a user out of every browser. ``users reset-password``/``disable``/``end-sessions``
    also bump the user's epoch, which revokes the sessions even without the registry."""
    return registry(data_dir).end_all_sessions(username)


# --- signing in ----------------------------------------------------------------------------

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
    key = name_hash(name)
    try:
        users = load_users(users_path)
    except UsersFileError as exc:
        print(f"ccgi_dash.auth: sign-in refused, users file unreadable: {exc}", file=sys.stderr)
        users = {}
    user = users.get(name) if USERNAME_RE.match(name) else None
    locked = reg.locked_until(key, now) is not None
    matched = verify_password(password, user.password_hash if user else _dummy_hash())
    if matched and user is not None and not user.disabled and not locked:
        reg.clear_failures(key)
        sid, expires = reg.create_session(user.username, user.session_epoch,
                                          settings.session_lifetime, now)
        return LoginResult(True, user.username, sid, expires)
    if not locked:
        count, _ = reg.record_failure(key, now, settings)
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
    row = reg.session(session_id)
    if row is None or row["ended"] is not None:
        return None
    if now >= row["expires"] or now - row["last_seen"] > settings.session_idle:
        reg.end_session(session_id, now)
        return None
    try:
        user = load_users(users_path).get(row["username"])
    except UsersFileError as exc:
        print(f"ccgi_dash.auth: session refused, users file unreadable: {exc}", file=sys.stderr)
        return None
    if user is None or user.disabled or user.session_epoch != row["epoch"]:
        return None
    if now - row["last_seen"] >= LAST_SEEN_EVERY:
        reg.touch(session_id, now)
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


# --- audit log -----------------------------------------------------------------------------

_LONG_NUMBER = re.compile(r"\d{10,}")
"""SSIDs are 10 digits; no code this app logs (7-digit district, 14-digit CDS is not logged
as a value: use district or school codes) is that long, so any such run is treated as PII."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PII_KEY = re.compile(r"ssid|name|email|birth|dob|address|phone|cadaa|student_id|local_id",
                      re.IGNORECASE)
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
REDACTED = "[redacted]"


def _scrub_text(text: str) -> tuple[str, int]:
    out, n1 = _LONG_NUMBER.subn(REDACTED, text[:300])
    out, n2 = _EMAIL.subn(REDACTED, out)
    return out, n1 + n2


def _scrub(value: Any, key: str = "") -> tuple[Any, int]:
    """A copy of ``value`` with PII-like content replaced, and how many were replaced.

    Deliberately blunt: the audit log should say what was looked at (page, metric, filter
    codes), never which student, and an over-redacted line is harmless."""
    if key and _PII_KEY.search(key):
        return REDACTED, 1
    if isinstance(value, bool) or value is None:
        return value, 0
    if isinstance(value, int | float):
        return (REDACTED, 1) if _LONG_NUMBER.search(str(value)) else (value, 0)
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        total = 0
        for k, v in list(value.items())[:50]:
            clean_key, nk = _scrub_text(str(k))
            out[clean_key], nv = _scrub(v, str(k))
            total += nk + nv
        return out, total
    if isinstance(value, list | tuple | set | frozenset):
        items = [_scrub(v, key) for v in list(value)[:100]]
        return [v for v, _ in items], sum(n for _, n in items)
    return _scrub_text(str(value))


def audit(data_dir: DataDir, *, user: str, role: str, scope: Scope, action: str, what: str,
          rows: int, detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Record an export, a download or a student-level view: who, when, which scope, what
    and how many rows. Returns the record as written.

    Anything in ``what`` or ``detail`` that looks like student PII (a 10+ digit number such
    as an SSID, an email address, a key naming a name/birthdate/SSID field) is replaced by
    ``[redacted]`` and counted in ``redacted`` rather than refused: losing the audit line of
    an export would be worse than losing a detail. Callers should pass codes only."""
    if not ACTION_RE.match(action):
        raise ValueError(f"audit action must be a short identifier, not {action!r}")
    clean_what, n_what = _scrub_text(str(what))
    clean_detail, n_detail = _scrub(dict(detail or {}))
    record: dict[str, Any] = {
        "ts": now_iso(),
        "user": _scrub_text(str(user))[0][:80],
        "role": str(role),
        "dataset": scope.dataset,
        "districts": "all" if scope.all_districts else list(scope.districts),
        "student_level": scope.student_level,
        "action": action,
        "what": clean_what,
        "rows": int(rows),
    }
    if clean_detail:
        record["detail"] = clean_detail
    if n_what + n_detail:
        record["redacted"] = n_what + n_detail
        print(f"ccgi_dash.auth: audit({action}) dropped {n_what + n_detail} PII-like value(s); "
              "pass codes only", file=sys.stderr)
    append_jsonl(data_dir.audit_log, record)
    return record


def read_audit(data_dir: DataDir, limit: int = 500) -> list[dict[str, Any]]:
    """The newest ``limit`` audit records, newest first. Reads the file from its end, so a
    years-long log costs no more than its tail."""
    lines: list[bytes] = []
    try:
        with open(data_dir.audit_log, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            pos = fh.tell()
            buf = b""
            while pos > 0 and len(lines) <= limit:
                step = min(65536, pos)
                pos -= step
                fh.seek(pos)
                buf = fh.read(step) + buf
                parts = buf.split(b"\n")
                buf = parts[0]
                lines = parts[1:] + lines
            if pos == 0 and buf:
                lines = [buf, *lines]
    except FileNotFoundError:
        return []
    out: list[dict[str, Any]] = []
    for raw in reversed(lines):
        if len(out) >= limit:
            break
        if raw.strip():
            with contextlib.suppress(ValueError):
                out.append(json.loads(raw))
    return out


def operator() -> str:
    """Who ran a ``users`` command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def audit_frame(data_dir: DataDir, limit: int = 2000) -> pd.DataFrame:
    """The newest audit records as a table for the admins' audit page, newest first."""
    cols = ["ts", "user", "role", "dataset", "districts", "action", "what", "rows"]
    import pandas as pd

    records = read_audit(data_dir, limit)
    frame = pd.DataFrame(records)
    for c in cols:
        if c not in frame:
            frame[c] = None
    frame["districts"] = [", ".join(d) if isinstance(d, list) else d for d in frame["districts"]]
    return frame[cols].rename(columns={"ts": "When", "user": "User", "role": "Role",
                                       "dataset": "Data", "districts": "Districts",
                                       "action": "Action", "what": "What", "rows": "Rows"})
