"""Password rules, bcrypt hashing and a check that costs the same whatever it is given.

The hash format is bcrypt's ``$2b$`` at cost 12, the format streamlit-authenticator's
``Hasher`` reads and writes, so hashes move between the two."""

from __future__ import annotations

import re
import secrets
import threading

import bcrypt

from ccgi_dash.accounts.errors import UsersError

BCRYPT_ROUNDS = 12
"""bcrypt cost of new hashes. Tests lower it for speed; production never changes it."""
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 72
"""bcrypt reads at most 72 bytes (bcrypt 5 refuses longer input rather than truncating)."""
BCRYPT_RE = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
"""A bcrypt hash; group 1 is its cost factor."""


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


def dummy_hash() -> str:
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
    target = password_hash if BCRYPT_RE.match(password_hash or "") else dummy_hash()
    with _BCRYPT_SLOTS:
        try:
            ok = bcrypt.checkpw(raw[:MAX_PASSWORD_BYTES], target.encode())
        except ValueError:
            ok = False
    return ok and not too_long and target == password_hash
