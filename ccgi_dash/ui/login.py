"""The sign-in form, the session cookie and the per-run session check: Streamlit's side of
``ccgi_dash.accounts``.

What the shell calls:

* :func:`check_cookie_key` at the top of every run: a message to show (and stop) when the
  cookie key is missing while users exist, short, or a published default;
* :func:`restore_session` before deciding whether someone is signed in: a browser that comes
  back with a valid session cookie is signed in again without the form;
* :func:`render_login` in the gate: the form, or the reason sign-in is unavailable;
* :func:`sync_cookie` once per run (anywhere, it renders nothing visible): writes or deletes
  the browser's cookie after a sign-in or sign-out;
* :func:`resolve_user` (via ``session.resolve``) at every run, and :func:`end_session` (via
  ``session.sign_out``).

Why our own form instead of ``streamlit_authenticator.Authenticate.login`` (0.4.2): see the
``ccgi_dash.accounts`` docstring; in short its unknown-user path answers faster, its lockout
says which accounts exist and never expires, its cookie carries only the username so logout
cannot revoke it, and it sleeps 0.7 s on every run of the gate. The cookie is written with the same
component streamlit-authenticator uses (``extra_streamlit_components``' cookie manager,
declared here without the raw-HTML CSS its wrapper injects) and read from
``st.context.cookies``, as streamlit-authenticator reads it.

The cookie is set by JavaScript, so it cannot be ``HttpOnly``; it is ``SameSite=Strict``,
``Secure`` unless the app is reached over plain ``http://``, and it is worth nothing on its
own: it names a server-side session that logout, a password reset, disabling the user, an
idle timeout or ``users end-sessions`` ends. Nothing here renders HTML.
"""

from __future__ import annotations

import functools
import os
import secrets
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from ccgi_dash.accounts import cookies, sessions, signin
from ccgi_dash.accounts.audit import write_audit
from ccgi_dash.accounts.config import AuthSettings
from ccgi_dash.accounts.errors import UsersFileError
from ccgi_dash.accounts.registry import Registry, registry
from ccgi_dash.accounts.users import User, load_users, logins_enabled
from ccgi_dash.scope import Scope
from ccgi_dash.store import DataDir, default_data_dir, demo_data_dir
from ccgi_dash.ui import filters, session

COOKIE_NAME = "ccgi_session"
DEMO_COOKIE_NAME = "ccgi_demo"
"""The demo visitor's cookie: names a demo session in the demo data directory's registry."""
DEMO_PREFIX = "demo:"
"""A demo session's record holds ``demo:<persona>`` where a user session holds a username."""
_PENDING = "_ccgi_cookie_pending"
"""A cookie write waiting for the next run: ("set", value, expires, name) or ("delete", name)."""
_REFUSED = "_ccgi_cookie_refused"
"""The cookie value this browser session already found invalid (not checked again)."""
_NOTICE = "_ccgi_login_notice"


def _secrets_key() -> str | None:
    """``st.secrets["auth"]["cookie_key"]``, or None when there is no secrets file or key."""
    try:
        section = st.secrets.get("auth")
    except FileNotFoundError:  # StreamlitSecretNotFoundError: no secrets.toml at all
        return None
    if not hasattr(section, "get"):
        return None
    value = section.get("cookie_key")
    return str(value) if value else None


def _cookie_key() -> str | None:
    return cookies.configured_cookie_key(_secrets_key())


def check_cookie_key() -> str | None:
    """Why the app must refuse to start, or None.

    A bad key (set but short or a default) always refuses; no key refuses only once a users
    file exists, so a demo-only server runs without one. Malformed lockout/session settings
    refuse too, rather than silently running with other limits."""
    problem = cookies.cookie_key_problem(_secrets_key())
    if problem:
        return problem
    try:
        AuthSettings.from_env()
    except ValueError as exc:
        return f"A sign-in setting is invalid: {exc}. See docs/security.md."
    return None


def _request_cookie() -> str | None:
    """The session cookie the browser sent when this Streamlit session started."""
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except (AttributeError, RuntimeError):
        return None
    return value if isinstance(value, str) else None


def _data_dir() -> DataDir:
    return DataDir(default_data_dir())


def _audit_user(user: User, action: str, what: str) -> None:
    """Sign-ins and sign-outs go to the audit log too (never failed attempts: what people
    type into the username box is not ours to keep)."""
    try:
        write_audit(_data_dir(), user=user.username, role=user.role,
                    scope=signin.scope_for(user), action=action, what=what, rows=0)
    except OSError as exc:
        print(f"ccgi_dash.ui.login: could not write the audit log: {exc}", file=sys.stderr)


def restore_session() -> bool:
    """Sign this browser session in from its cookie, if the cookie names a live session.
    True when it did (the caller should ``st.rerun()`` or go on as signed in)."""
    if session.identity() is not None or check_cookie_key() or not logins_enabled():
        return False
    key, value = _cookie_key(), _request_cookie()
    if not key or not value or st.session_state.get(_REFUSED) == value:
        return False
    sid = cookies.read_cookie(value, key)
    user = signin.validate_session(sid) if sid else None
    if user is None:
        st.session_state[_REFUSED] = value
        st.session_state[_PENDING] = ("delete", COOKIE_NAME)
        return False
    filters.reset()
    st.session_state[session.IDENTITY_KEY] = session.Identity("user", user.username, sid)
    return True


def sign_in(username: str, password: str) -> bool:
    """Check the credentials (``signin.login``) and, if they hold, sign this browser session in
    under a new server-side session, and queue the cookie that names it."""
    result = signin.login(username, password)
    if not result.ok:
        return False
    key = _cookie_key()
    if key:
        st.session_state[_PENDING] = ("set", cookies.make_cookie(result.session_id,
                                                                 result.expires, key),
                                      result.expires, COOKIE_NAME)
    filters.reset()
    st.session_state.pop(_NOTICE, None)
    st.session_state[session.IDENTITY_KEY] = session.Identity("user", result.username,
                                                              result.session_id)
    user = load_users().get(result.username)
    if user is not None:
        _audit_user(user, "sign_in", "password")
    return True


def render_login() -> None:
    """The sign-in box of the gate: a form with a username, a password and a button, no
    hints, no "forgot" links (accounts are managed by the COE's administrator). After a
    successful sign-in it sets the identity and reruns."""
    sync_cookie()
    st.subheader("Sign in")
    problem = check_cookie_key()
    if problem:
        st.error(problem)
        return
    try:
        enabled = logins_enabled()
        load_users()
    except UsersFileError:
        st.error("Sign-in is unavailable: the server's users file could not be read. "
                 "An administrator can see why with `python -m ccgi_dash users list`.")
        return
    if not enabled:
        st.caption("No accounts are set up on this server yet. An administrator creates the "
                   "first one with `python -m ccgi_dash users add USERNAME --role admin` "
                   "(see docs/security.md).")
        return
    if restore_session():
        st.rerun()
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.info(notice)
    with st.form("ccgi_login", clear_on_submit=True, border=False):
        username = st.text_input("Username", key="login_username", max_chars=64,
                                 autocomplete="username")
        password = st.text_input("Password", type="password", key="login_password",
                                 max_chars=200, autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", key="login_submit")
    if not submitted:
        return
    if not username.strip() or not password:
        st.warning("Enter your username and password.")
        return
    if sign_in(username, password):
        st.rerun()
    st.error(AuthSettings.from_env().failed_message)


def resolve_user(ident: session.Identity) -> tuple[str, Scope] | None:
    """Display name and scope of a signed-in identity, decided now from the server-side
    session and the users file; None once the session no longer grants anything (ended,
    expired, idle, password reset, user disabled or removed, or a bad cookie key)."""
    if ident.kind != "user" or not ident.session_id or check_cookie_key():
        return None
    user = signin.validate_session(ident.session_id)
    if user is None or user.username != ident.name:
        st.session_state[_NOTICE] = "Your session has ended. Please sign in again."
        return None
    return user.name, signin.scope_for(user)


def end_session(ident: session.Identity) -> None:
    """Sign out: end this server-side session (so any copy of its cookie is refused from
    now on) and queue the deletion of the browser's cookie."""
    if ident.kind != "user" or not ident.session_id:
        return
    user = signin.validate_session(ident.session_id)
    sessions.end_session(ident.session_id)
    st.session_state[_PENDING] = ("delete", COOKIE_NAME)
    st.session_state.pop(_NOTICE, None)
    if user is not None:
        _audit_user(user, "sign_out", "button")


@functools.cache
def _cookie_component() -> Callable[..., Any] | None:
    """extra_streamlit_components' cookie manager frontend (a dependency of
    streamlit-authenticator), declared directly: its Python wrapper injects CSS as raw HTML
    and reads every cookie on construction, neither of which we want."""
    try:
        import extra_streamlit_components as stx
    except ImportError:
        return None
    build = Path(stx.__file__).parent / "CookieManager" / "frontend" / "build"
    if not (build / "index.html").exists():
        return None
    return components.declare_component("ccgi_cookie", path=str(build))


def _secure() -> bool:
    """``Secure`` unless the browser reached us over plain http (local trials); behind the
    HTTPS reverse proxy the browser's URL is https."""
    try:
        url = st.context.url
        proto = st.context.headers.get("X-Forwarded-Proto")
    except (AttributeError, RuntimeError):
        return True
    if isinstance(proto, str) and proto.lower() == "https":
        return True
    return not (isinstance(url, str) and url.startswith("http://"))


def sync_cookie() -> None:
    """Write or delete the session cookie queued by a sign-in or sign-out. Call once per run,
    after the identity is settled; it renders a zero-height component only when needed.

    The write stays queued, and the component drawn on every run, until the component
    reports it done (it returns True once the browser has run it): a component drawn in one
    run only was lost when the visitor moved on before the browser had loaded it (the next
    run no longer drew it), and the demo visitor's cookie was never written, so a reload
    showed the welcome page (seen in a loop of the browser's reload test)."""
    pending = st.session_state.get(_PENDING)
    if not pending:
        return
    component = _cookie_component()
    if component is None:
        st.session_state.pop(_PENDING, None)
        return
    if pending[0] == "set":
        name = pending[3] if len(pending) > 3 else COOKIE_NAME
        expires = datetime.fromtimestamp(pending[2], UTC).isoformat()
        done = component(method="set", cookie=name, value=pending[1], key=f"{name}_set",
                         default=False, options={"path": "/", "expires": expires,
                                                 "sameSite": "strict", "secure": _secure()})
    else:
        name = pending[1] if len(pending) > 1 else COOKIE_NAME
        done = component(method="delete", cookie=name, key=f"{name}_delete", default=False)
    if done and st.session_state.get(_PENDING) == pending:
        st.session_state.pop(_PENDING, None)


# --------------------------------------------------------------------------- the demo visitor

def _demo_registry() -> Registry:
    """Demo sessions live in the demo data directory's own registry, never beside real
    users' sessions."""
    return registry(DataDir(demo_data_dir()))


def _demo_key() -> str:
    """The key that signs demo cookies: the configured cookie key, or (on a demo-only server,
    which may run without one) a random key kept in the demo data directory's logs, made on
    first use and readable by the app's user only."""
    key = _cookie_key()
    if key and not cookies.cookie_key_problem(_secrets_key()):
        return key
    path = DataDir(demo_data_dir()).logs / "demo_cookie_key"
    try:
        text = path.read_text(encoding="utf-8").strip()
        if len(text) >= 32:
            return text
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return text


def start_demo_session(persona: str) -> str:
    """A server-side demo session for ``persona`` (``coe`` or ``district:<code>``), and the
    cookie that names it queued for the browser, so a reload (F5) keeps the visitor in. The
    persona is stored on the server; the cookie only carries the session's random id."""
    settings = AuthSettings.from_env()
    try:
        sid, expires = sessions.create_session(DEMO_PREFIX + persona, 0,
                                               settings.session_lifetime, reg=_demo_registry())
        value = cookies.make_cookie(sid, expires, _demo_key())
    except (OSError, sqlite3.Error) as exc:
        # The demo still opens; only a reload will show the welcome page again.
        print(f"ccgi_dash.ui.login: the demo session could not be kept ({exc}); a reload "
              "will show the welcome page", file=sys.stderr)
        return ""
    st.session_state[_PENDING] = ("set", value, expires, DEMO_COOKIE_NAME)
    return sid


def demo_persona(session_id: str, now: float | None = None) -> str | None:
    """The persona of a live demo session, read from the server-side record; None once it
    has ended (left, expired or idle) or for an unknown id."""
    if not session_id:
        return None
    reg = _demo_registry()
    now = time.time() if now is None else now
    row = sessions.session_record(session_id, reg=reg)
    if row is None or row["ended"] is not None or not str(row["username"]).startswith(
            DEMO_PREFIX):
        return None
    if now >= row["expires"] or now - row["last_seen"] > AuthSettings.from_env().session_idle:
        sessions.end_session(session_id, reg=reg, now=now)
        return None
    if now - row["last_seen"] >= sessions.LAST_SEEN_EVERY:
        sessions.touch_session(session_id, now, reg=reg)
    return str(row["username"])[len(DEMO_PREFIX):]


def restore_demo() -> bool:
    """Let a demo visitor back in after a reload: the demo cookie names a live demo session,
    whose persona (kept on the server) gives the scope. True when it did."""
    if session.identity() is not None:
        return False
    try:
        value = st.context.cookies.get(DEMO_COOKIE_NAME)
    except (AttributeError, RuntimeError):
        return False
    if not isinstance(value, str) or st.session_state.get(_REFUSED) == value:
        return False
    try:
        sid = cookies.read_cookie(value, _demo_key())
        persona = demo_persona(sid) if sid else None
    except (OSError, sqlite3.Error) as exc:
        print(f"ccgi_dash.ui.login: demo sessions unavailable ({exc})", file=sys.stderr)
        return False
    if persona is None or session.demo_scope(persona) is None:
        st.session_state[_REFUSED] = value
        st.session_state[_PENDING] = ("delete", DEMO_COOKIE_NAME)
        return False
    filters.reset()
    st.session_state[session.IDENTITY_KEY] = session.Identity("demo", persona, sid)
    return True


def end_demo(ident: session.Identity) -> None:
    """Leave the demo: end its server-side session and delete the browser's demo cookie."""
    if ident.kind != "demo":
        return
    if ident.session_id:
        try:
            sessions.end_session(ident.session_id, reg=_demo_registry())
        except (OSError, sqlite3.Error) as exc:
            print(f"ccgi_dash.ui.login: the demo session could not be ended ({exc})",
                  file=sys.stderr)
    st.session_state[_PENDING] = ("delete", DEMO_COOKIE_NAME)
