"""The session cookie and its signing key.

The cookie is ``v1.<session id>.<expiry>.<HMAC-SHA256>`` signed with the cookie key from
secrets. It names a server-side session (:mod:`ccgi_dash.accounts.sessions`), so it is worth
nothing once that session ends. The key must be long, random and not a published default;
without one the app may only serve the demo."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from pathlib import Path

from ccgi_dash.accounts.config import ENV_COOKIE_KEY
from ccgi_dash.accounts.users import logins_enabled

MIN_COOKIE_KEY_BYTES = 32

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
    session must still be checked (:func:`ccgi_dash.accounts.signin.validate_session`)."""
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
