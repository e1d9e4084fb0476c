"""The Streamlit side of signing in (``ccgi_dash.ui.login``), run headlessly with AppTest.

The tiny app below does what the shell does: refuse to start on a bad cookie key, restore a
session from the cookie, resolve the identity at every run, show the form otherwise, and
sync the cookie. The browser's cookie jar is simulated by patching ``login._request_cookie``
(what the browser sent) and ``login._cookie_component`` (what the app asked it to store)."""

from __future__ import annotations

import io
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ccgi_dash import users_cli
from ccgi_dash.accounts.config import FAILED_MESSAGE, AuthSettings
from ccgi_dash.accounts.cookies import read_cookie
from ccgi_dash.accounts.lockout import record_failure
from ccgi_dash.accounts.passwords import hash_password
from ccgi_dash.accounts.signin import validate_session
from ccgi_dash.accounts.users import add_user, update_user
from ccgi_dash.ui import login

from conftest import GOOD_KEY, PASSWORD, sign_in_env

ROOT = Path(__file__).resolve().parents[1]
PW = PASSWORD


def gate_app() -> None:
    import streamlit as st

    from ccgi_dash.ui import login, session

    problem = login.check_cookie_key()
    if problem:
        st.error(problem)
        st.stop()
    login.restore_session()
    ident = session.identity()
    resolved = session.resolve(ident) if ident else None
    if ident is not None and resolved is None:
        st.session_state.pop(session.IDENTITY_KEY, None)
    if resolved is None:
        login.render_login()
    else:
        name, scope = resolved
        st.text(f"signed in: {name} / {scope.role} / {','.join(scope.districts) or 'all'}")
        if st.button("Sign out", key="sign_out"):
            session.sign_out()
            st.rerun()
    login.sync_cookie()


class Browser:
    """The cookie jar of one browser: what the app stored, sent back on the next visit."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.jar: dict[str, str] = {}
        self.calls: list[dict[str, Any]] = []
        monkeypatch.setattr(login, "_cookie_component", lambda: self.component)
        monkeypatch.setattr(login, "_request_cookie",
                            lambda: self.jar.get(login.COOKIE_NAME))

    def component(self, **kwargs: Any) -> bool:
        self.calls.append(kwargs)
        if kwargs["method"] == "set":
            self.jar[kwargs["cookie"]] = kwargs["value"]
        elif kwargs["method"] == "delete":
            self.jar.pop(kwargs["cookie"], None)
        return True


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    data = tmp_path / "data"
    users = data / "users.yaml"
    sign_in_env(monkeypatch, data, users)
    add_user(users, "alice", name="Alice Admin", role="admin",
                  password_hash=hash_password(PW))
    add_user(users, "dana", name="Dana District", role="district",
                  districts=("1062166",), password_hash=hash_password(PW))
    return {"data": data, "users": users, "browser": Browser(monkeypatch)}


def app() -> AppTest:
    at = AppTest.from_function(gate_app, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def submit(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button(key="login_submit").click().run()
    assert not at.exception, at.exception
    return at


def signed_in(at: AppTest) -> str | None:
    texts = [t.value for t in at.text if t.value.startswith("signed in: ")]
    return texts[0].removeprefix("signed in: ") if texts else None


def has_form(at: AppTest) -> bool:
    return any(t.key == "login_password" for t in at.text_input)


@pytest.mark.parametrize(("username", "password"), [
    ("alice", "wrong password!"), ("nobody", PW), ("ALICE", "wrong password!"),
])
def test_a_failed_sign_in_shows_the_generic_message(env: dict, username: str,
                                                    password: str) -> None:
    at = submit(app(), username, password)
    assert [e.value for e in at.error] == [FAILED_MESSAGE]
    assert signed_in(at) is None and has_form(at)
    assert "_ccgi_identity" not in at.session_state


def test_the_right_password_signs_in_with_a_server_side_session(env: dict) -> None:
    before = (env["users"].read_bytes(), env["users"].stat().st_mtime_ns)
    at = submit(app(), "wrong-first", "wrong password!")
    at = submit(at, " Dana ", PW)
    assert signed_in(at) == "Dana District / district / 1062166"
    ident = at.session_state["_ccgi_identity"]
    assert (ident.kind, ident.name) == ("user", "dana")
    assert validate_session(ident.session_id).username == "dana"
    assert not at.error
    # The web side never writes the credentials file, on failure or success.
    assert (env["users"].read_bytes(), env["users"].stat().st_mtime_ns) == before
    cookie = env["browser"].jar[login.COOKIE_NAME]
    assert read_cookie(cookie, GOOD_KEY) == ident.session_id
    options = env["browser"].calls[0]["options"]
    assert options["sameSite"] == "strict" and options["path"] == "/"


def test_a_cookie_restores_the_session_until_sign_out_then_is_refused(env: dict) -> None:
    first = submit(app(), "alice", PW)
    assert signed_in(first) == "Alice Admin / admin / all"
    captured = env["browser"].jar[login.COOKIE_NAME]

    second = app()  # a new tab (or a thief with a copy of the cookie)
    assert signed_in(second) == "Alice Admin / admin / all"
    assert second.session_state["_ccgi_identity"].session_id == \
        first.session_state["_ccgi_identity"].session_id

    first.button(key="sign_out").click().run()
    assert signed_in(first) is None and has_form(first)
    assert login.COOKIE_NAME not in env["browser"].jar  # deleted from this browser ...

    env["browser"].jar[login.COOKIE_NAME] = captured  # ... but the copy is replayed
    third = app()
    assert signed_in(third) is None and has_form(third)
    second.run()  # the tab that was open is signed out at its next click
    assert signed_in(second) is None and has_form(second)
    assert "session has ended" in " ".join(i.value for i in second.info)


@pytest.mark.parametrize("argv", [
    ["reset-password", "alice", "--password-stdin"],
    ["disable", "alice"],
    ["end-sessions", "alice"],
])
def test_cli_actions_sign_the_user_out_everywhere(env: dict, monkeypatch: pytest.MonkeyPatch,
                                                  argv: list[str]) -> None:
    at = submit(app(), "alice", PW)
    captured = env["browser"].jar[login.COOKIE_NAME]
    assert signed_in(at)
    monkeypatch.setattr(sys, "stdin", io.StringIO(PW + " new\n"))
    assert users_cli.main(["users", *argv]) == 0
    at.run()
    assert signed_in(at) is None and has_form(at)
    env["browser"].jar[login.COOKIE_NAME] = captured
    assert signed_in(app()) is None


def test_a_role_change_applies_at_the_next_run(env: dict) -> None:
    at = submit(app(), "dana", PW)
    assert signed_in(at) == "Dana District / district / 1062166"
    update_user(env["users"], "dana", role="coe", districts=())
    at.run()
    assert signed_in(at) == "Dana District / coe / all"


def test_a_locked_account_reads_like_any_failure(env: dict) -> None:
    at = app()
    for _ in range(5):
        submit(at, "alice", "wrong password!")
    at = submit(at, "alice", PW)
    assert [e.value for e in at.error] == [FAILED_MESSAGE]
    assert signed_in(at) is None


def test_an_empty_form_is_not_a_failure(env: dict) -> None:
    at = submit(app(), "alice", "")
    assert at.warning and not at.error
    assert record_failure("alice", time.time(), AuthSettings())[0] == 1


def test_no_password_hints(env: dict) -> None:
    at = submit(app(), "alice", "wrong password!")
    for box in at.text_input:
        assert not box.help and not box.placeholder
    words = " ".join(str(getattr(e, "value", "")) for e in
                     [*at.markdown, *at.caption, *at.text, *at.error, *at.info]).lower()
    assert "forgot" not in words and "hint" not in words
    source = (ROOT / "ccgi_dash" / "ui" / "login.py").read_text()
    assert "unsafe_allow_html=True" not in source and "password_hint" not in source


@pytest.mark.parametrize("key", ["some_key", "too-short-key-123"])
def test_the_app_refuses_to_start_with_a_bad_key(env: dict, monkeypatch: pytest.MonkeyPatch,
                                                 key: str) -> None:
    monkeypatch.setenv("CCGI_COOKIE_KEY", key)
    at = app()
    assert len(at.error) == 1
    assert "secrets.token_urlsafe(48)" in at.error[0].value
    assert not has_form(at)
    assert login.check_cookie_key() is not None


def test_the_key_can_come_from_st_secrets(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCGI_COOKIE_KEY")
    at = AppTest.from_function(gate_app, default_timeout=30)
    at.secrets["auth"] = {"cookie_key": "some_key"}
    at.run()
    assert at.error and "published default" in at.error[0].value
    at = AppTest.from_function(gate_app, default_timeout=30)
    other = secrets.token_urlsafe(48)
    at.secrets["auth"] = {"cookie_key": other}
    at.run()
    at = submit(at, "alice", PW)
    assert signed_in(at)
    assert read_cookie(env["browser"].jar[login.COOKIE_NAME], other)


def test_users_but_no_key_refuses(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCGI_COOKIE_KEY")
    at = app()
    assert at.error and "no cookie signing key" in at.error[0].value


def test_a_demo_only_server_needs_no_key(env: dict, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.delenv("CCGI_COOKIE_KEY")
    monkeypatch.setenv("CCGI_USERS_FILE", str(tmp_path / "none" / "users.yaml"))
    assert login.check_cookie_key() is None
    at = app()
    assert not at.error and not has_form(at)
    assert "No accounts are set up" in at.caption[0].value


def test_a_broken_users_file_disables_sign_in_without_details(env: dict) -> None:
    env["users"].write_text("users: [broken")
    at = app()
    assert at.error and "could not be read" in at.error[0].value
    assert not has_form(at)


BROWSER_APP = '''
import streamlit as st
from ccgi_dash.ui import login, session

problem = login.check_cookie_key()
if problem:
    st.error(problem)
    st.stop()
login.restore_session()
ident = session.identity()
resolved = session.resolve(ident) if ident else None
if ident is not None and resolved is None:
    st.session_state.pop(session.IDENTITY_KEY, None)
if resolved is None:
    login.render_login()
else:
    st.text(f"signed in: {resolved[0]}")
    if st.button("Sign out", key="sign_out"):
        session.sign_out()
        st.rerun()
login.sync_cookie()
'''


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
def test_in_a_real_browser_a_copied_cookie_dies_with_sign_out(env: dict,
                                                             tmp_path: Path) -> None:
    """What AppTest cannot show: the browser really stores the cookie (SameSite=Strict), a
    reload and a second browser holding a copy are signed in by it, and after sign-out the
    cookie is deleted here and the copy is refused there."""
    import shutil
    import subprocess

    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed")
    script = tmp_path / "app.py"
    script.write_text(BROWSER_APP)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}/"
    try:
        with playwright.sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium,
                args=["--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking"])
            ctx = browser.new_context()
            page = ctx.new_page()
            deadline = time.monotonic() + 60
            while True:
                try:
                    page.goto(url)
                    break
                except playwright.Error:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            page.get_by_label("Username").fill("alice")
            page.get_by_role("textbox", name="Password").fill(PW)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("signed in: Alice Admin").wait_for(timeout=45000)
            for _ in range(50):
                cookies = [c for c in ctx.cookies() if c["name"] == login.COOKIE_NAME]
                if cookies:
                    break
                page.wait_for_timeout(100)
            assert cookies and cookies[0]["sameSite"] == "Strict"
            page.reload()
            page.get_by_text("signed in: Alice Admin").wait_for(timeout=45000)

            thief = browser.new_context()
            thief.add_cookies(cookies)
            stolen = thief.new_page()
            stolen.goto(url)
            stolen.get_by_text("signed in: Alice Admin").wait_for(timeout=45000)

            page.get_by_role("button", name="Sign out").click()
            page.get_by_label("Username").wait_for(timeout=45000)
            for _ in range(50):
                if not [c for c in ctx.cookies() if c["name"] == login.COOKIE_NAME]:
                    break
                page.wait_for_timeout(100)
            assert not [c for c in ctx.cookies() if c["name"] == login.COOKIE_NAME]

            stolen.reload()
            stolen.get_by_label("Username").wait_for(timeout=45000)
            assert stolen.get_by_text("signed in:").count() == 0
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


# --------------------------------------------------------------------------- demo sessions

def test_demo_session_keeps_its_persona_on_the_server(tmp_path, monkeypatch):
    """A demo session's persona is read from the server's record (the cookie only names the
    session); leaving ends it; a user's session id is never taken for a demo one; a demo
    cookie is signed (a forged or altered one names nothing)."""
    from ccgi_dash.accounts import cookies, sessions

    monkeypatch.setenv("CCGI_DEMO_DIR", str(tmp_path / "demo"))
    monkeypatch.setenv("CCGI_DATA_DIR", str(tmp_path / "live"))
    monkeypatch.delenv("CCGI_COOKIE_KEY", raising=False)
    reg = login._demo_registry()
    sid, expires = sessions.create_session("demo:district:1062166", 0, 3600.0, reg=reg)
    assert login.demo_persona(sid) == "district:1062166"
    # a demo-only server signs with a key of its own, kept private in the demo's logs
    key = login._demo_key()
    assert len(key) >= 32 and key == login._demo_key()
    path = tmp_path / "demo" / "logs" / "demo_cookie_key"
    assert path.stat().st_mode & 0o077 == 0
    value = cookies.make_cookie(sid, expires, key)
    assert cookies.read_cookie(value, key) == sid
    assert cookies.read_cookie(value[:-1] + ("0" if value[-1] != "0" else "1"), key) is None
    # a session that is not a demo one, or unknown, gives no persona
    user_sid, _ = sessions.create_session("ada", 0, 3600.0, reg=reg)
    assert login.demo_persona(user_sid) is None
    assert login.demo_persona("x" * 43) is None
    # idle too long, or left: the cookie no longer lets anyone in
    later = time.time() + AuthSettings.from_env().session_idle + 1
    assert login.demo_persona(sid, now=later) is None
    sid2, _ = sessions.create_session("demo:coe", 0, 3600.0, reg=reg)
    assert login.demo_persona(sid2) == "coe"
    sessions.end_session(sid2, reg=reg)
    assert login.demo_persona(sid2) is None
