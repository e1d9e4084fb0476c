"""ccgi_dash.accounts: hashing, the users file, sessions and their revocation, lockout, cookie
keys and the audit log. No Streamlit, no network; time is injected where it matters."""

from __future__ import annotations

import io
import json
import re
import secrets
import statistics
import threading
import time
from pathlib import Path

import bcrypt
import pytest

from ccgi_dash.accounts import audit as audit_module
from ccgi_dash.accounts import passwords
from ccgi_dash.accounts.audit import read_audit, write_audit
from ccgi_dash.accounts.config import FAILED_MESSAGE, SETTINGS_ENV, AuthSettings
from ccgi_dash.accounts.cookies import (
    configured_cookie_key,
    cookie_key_problem,
    make_cookie,
    read_cookie,
)
from ccgi_dash.accounts.errors import UsersError, UsersFileError
from ccgi_dash.accounts.lockout import locked_until
from ccgi_dash.accounts.passwords import hash_password, password_problem, verify_password
from ccgi_dash.accounts.registry import Registry, registry
from ccgi_dash.accounts.sessions import (
    create_session,
    end_all_sessions,
    end_session,
    live_sessions,
)
from ccgi_dash.accounts.signin import LoginResult, login, scope_for, validate_session
from ccgi_dash.accounts.users import (
    User,
    add_user,
    load_users,
    logins_enabled,
    modify_users,
    parse_users,
    update_user,
)
from ccgi_dash.scope import Scope
from ccgi_dash.store import DataDir

from conftest import GOOD_KEY, PASSWORD, sign_in_env

ROOT = Path(__file__).resolve().parents[1]
PW = PASSWORD
T0 = 1_800_000_000.0


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A data directory of its own, a good cookie key, no throttle delay, fast bcrypt."""
    data = tmp_path / "data"
    users = data / "users.yaml"
    sign_in_env(monkeypatch, data, users)
    return {"data": DataDir(data), "users": users, "reg": registry(DataDir(data))}


def add(path: Path, username: str, role: str = "admin", districts: tuple[str, ...] = (),
        password: str = PW) -> User:
    return add_user(path, username, name=username.title(), role=role,
                         districts=districts, password_hash=hash_password(password))


def no_sleep(_seconds: float) -> None:
    pass


# --- hashing -------------------------------------------------------------------------------

def test_new_hashes_are_bcrypt_cost_12() -> None:
    """The cost is read out of a real hash made by ``hash_password`` (``$2b$<cost>$<salt and
    digest>``) and the hash is re-derived by the bcrypt library from its own salt, so the
    test fails if new hashes are made at any other cost, whatever the constant says."""
    h = hash_password(PW)
    empty, version, cost, salt_and_digest = h.split("$")
    assert (empty, version, len(salt_and_digest)) == ("", "2b", 53)
    assert int(cost) == 12
    assert bcrypt.hashpw(PW.encode(), h.encode()).decode() == h  # the cost that was used
    assert verify_password(PW, h)
    assert not verify_password(PW + "x", h)


def test_hashes_are_interchangeable_with_streamlit_authenticator(env: dict) -> None:
    from streamlit_authenticator.utilities.hasher import Hasher

    ours = hash_password(PW)
    assert Hasher.check_pw(PW, ours)
    assert verify_password(PW, Hasher.hash(PW))


@pytest.mark.parametrize("bad_hash", ["", "plaintext", "$2b$04$short", "$1$md5$whatever"])
def test_verify_never_raises_on_a_broken_hash(env: dict, bad_hash: str) -> None:
    assert verify_password(PW, bad_hash) is False


def test_verify_refuses_over_long_passwords_instead_of_truncating(env: dict) -> None:
    long_pw = "a" * 72
    h = bcrypt.hashpw(long_pw.encode(), bcrypt.gensalt(4)).decode()
    assert verify_password(long_pw, h)
    assert not verify_password(long_pw + "extra", h)  # bcrypt alone would say yes


@pytest.mark.parametrize(("password", "fragment"), [
    ("short", "at least 12"),
    ("é" * 40, "at most 72 bytes"),
    ("  leading spaces here", "spaces"),
    ("my-alice-password-1", "username"),
])
def test_password_rules(password: str, fragment: str) -> None:
    assert fragment in (password_problem(password, "alice") or "")


def test_hash_password_refuses_a_short_password() -> None:
    with pytest.raises(UsersError, match="at least 12"):
        hash_password("too short")


# --- users file ----------------------------------------------------------------------------

def test_users_round_trip_without_plaintext(env: dict) -> None:
    add(env["users"], "Alice", "admin")
    add(env["users"], "dana", "district", ("1062166", "1062166", "1062174"))
    text = env["users"].read_text()
    assert PW not in text
    users = load_users(env["users"])
    assert set(users) == {"alice", "dana"}  # usernames are lowercased
    assert users["dana"].districts == ("1062166", "1062174")
    assert "password_hash" not in users["dana"].public()
    assert "$2b$" not in repr(users["dana"])


@pytest.mark.parametrize(("text", "match"), [
    ("users: [1, 2", "not valid YAML"),
    ("- a list", "mapping"),
    ("version: 9\nusers: {}", "version"),
    ("users:\n  dana: {role: district, password_hash: x}", "district code"),
    ("users:\n  root: {role: admin, districts: ['1062166'], password_hash: x}", "whole county"),
    ("users:\n  eve: {role: demo, password_hash: x}", "role must be"),
    ("users:\n  eve: {role: coe, password_hash: plaintext}", "bcrypt"),
    ("users:\n  Eve: {role: coe}", "not allowed"),
])
def test_a_malformed_users_file_grants_nothing(text: str, match: str) -> None:
    with pytest.raises(UsersFileError, match=match):
        parse_users(text)


def test_the_web_side_sees_changes_to_the_file(env: dict) -> None:
    add(env["users"], "alice")
    assert load_users(env["users"])["alice"].role == "admin"
    update_user(env["users"], "alice", role="coe")
    assert load_users(env["users"])["alice"].role == "coe"


def test_a_rejected_change_leaves_the_file_as_it_was(env: dict) -> None:
    add(env["users"], "alice")
    before = env["users"].read_bytes()
    with pytest.raises(UsersError, match="already exists"):
        add(env["users"], "ALICE")
    with pytest.raises(UsersError, match="district code"):
        update_user(env["users"], "alice", role="district")
    assert env["users"].read_bytes() == before
    assert [p.name for p in env["users"].parent.iterdir() if p.name.endswith(".tmp")] == []


# --- roles and scope -----------------------------------------------------------------------

def test_scope_comes_from_the_user_record(env: dict) -> None:
    admin = add(env["users"], "alice", "admin")
    coe = add(env["users"], "carl", "coe")
    dist = add(env["users"], "dana", "district", ("1062166",))
    assert scope_for(admin) == Scope("admin", all_districts=True, student_level=True,
                                          dataset="live", user="alice")
    assert scope_for(coe) == Scope("coe", all_districts=True, student_level=False,
                                        dataset="live", user="carl")
    assert scope_for(dist) == Scope("district", districts=("1062166",),
                                         student_level=True, dataset="live", user="dana")


# --- sessions and revocation ---------------------------------------------------------------

def login_ok(env: dict, username: str = "alice", now: float = T0) -> LoginResult:
    result = login(username, PW, users_path=env["users"], reg=env["reg"], now=now,
                        sleep=no_sleep)
    assert result.ok, result
    return result


def valid(env: dict, sid: str, now: float = T0 + 1) -> User | None:
    return validate_session(sid, users_path=env["users"], reg=env["reg"], now=now)


def test_a_session_is_refused_after_logout(env: dict) -> None:
    add(env["users"], "alice")
    r = login_ok(env)
    assert valid(env, r.session_id).username == "alice"
    assert end_session(r.session_id)
    assert valid(env, r.session_id) is None
    assert not end_session(r.session_id)  # already over


def test_a_session_is_refused_after_a_password_reset(env: dict) -> None:
    add(env["users"], "alice")
    r = login_ok(env)
    update_user(env["users"], "alice", password_hash=hash_password(PW + "!"),
                     bump_epoch=True)
    assert valid(env, r.session_id) is None


def test_a_session_is_refused_after_disable_and_stays_refused_after_enable(env: dict) -> None:
    add(env["users"], "alice")
    r = login_ok(env)
    update_user(env["users"], "alice", disabled=True, bump_epoch=True)
    assert valid(env, r.session_id) is None
    update_user(env["users"], "alice", disabled=False)
    assert valid(env, r.session_id) is None  # the epoch moved on: re-enabling revives nothing


def test_a_removed_user_loses_the_session(env: dict) -> None:
    add(env["users"], "alice")
    add(env["users"], "bob")
    r = login_ok(env)
    modify_users(env["users"], lambda users: {k: v for k, v in users.items()
                                                   if k != "alice"})
    assert valid(env, r.session_id) is None


def test_end_all_sessions_ends_every_browser(env: dict) -> None:
    add(env["users"], "alice")
    a, b = login_ok(env), login_ok(env)
    assert end_all_sessions("ALICE") == 2  # the registry of $CCGI_DATA_DIR
    assert valid(env, a.session_id) is None
    assert valid(env, b.session_id) is None


def test_idle_and_absolute_limits(env: dict) -> None:
    add(env["users"], "alice")
    settings = AuthSettings()
    r = login_ok(env)
    assert valid(env, r.session_id, T0 + settings.session_idle - 5) is not None
    assert valid(env, r.session_id, 2 * settings.session_idle + T0 + 1) is None
    r2 = login_ok(env, now=T0)
    t = T0 + settings.session_idle / 2
    while t < T0 + settings.session_lifetime:  # active all week: idle never trips
        assert valid(env, r2.session_id, t) is not None
        t += settings.session_idle / 2
    assert valid(env, r2.session_id, T0 + settings.session_lifetime + 1) is None


@pytest.mark.parametrize("sid", ["", "short", "x" * 43, "../../etc/passwd", "a" * 500])
def test_unknown_session_ids_are_refused(env: dict, sid: str) -> None:
    add(env["users"], "alice")
    assert valid(env, sid) is None


def test_sessions_are_stored_by_hash_only(env: dict) -> None:
    add(env["users"], "alice")
    r = login_ok(env)
    assert r.session_id.encode() not in env["reg"].path.read_bytes()


def test_many_threads_share_the_registry(env: dict) -> None:
    add(env["users"], "alice")
    reg = env["reg"]
    ids: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(15):
                sid, _exp = create_session("alice", 0, 3600, reg=reg, now=T0)
                ids.append(sid)
                assert valid(env, sid) is not None
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 90
    assert live_sessions("alice", reg=reg, now=T0) == 90


# --- cookies -------------------------------------------------------------------------------

def test_cookie_round_trip_and_tampering(env: dict) -> None:
    sid = secrets.token_urlsafe(32)
    cookie = make_cookie(sid, T0 + 100, GOOD_KEY)
    assert read_cookie(cookie, GOOD_KEY, now=T0) == sid
    other = secrets.token_urlsafe(32)
    forged = cookie.replace(sid, other)
    assert read_cookie(forged, GOOD_KEY, now=T0) is None
    assert read_cookie(cookie, secrets.token_urlsafe(48), now=T0) is None
    later = cookie.replace(str(int(T0 + 100)), str(int(T0 + 10**6)))
    assert read_cookie(later, GOOD_KEY, now=T0) is None
    assert read_cookie(cookie, GOOD_KEY, now=T0 + 101) is None
    for junk in (None, "", "v1", "v1.a.b.c", cookie + ".x", "x" * 1000):
        assert read_cookie(junk, GOOD_KEY, now=T0) is None


def test_a_cookie_captured_before_logout_is_refused_afterwards(env: dict) -> None:
    add(env["users"], "alice")
    r = login_ok(env)
    captured = make_cookie(r.session_id, r.expires, GOOD_KEY)
    sid = read_cookie(captured, GOOD_KEY, now=T0 + 1)
    assert sid and valid(env, sid) is not None
    end_session(r.session_id, reg=env["reg"])
    sid = read_cookie(captured, GOOD_KEY, now=T0 + 2)
    assert sid is not None  # the signature still holds ...
    assert valid(env, sid, T0 + 2) is None  # ... but the session it names is over


# --- lockout and throttling ----------------------------------------------------------------

def attempt(env: dict, username: str, password: str, now: float,
            sleeps: list[float] | None = None) -> LoginResult:
    return login(username, password, users_path=env["users"], reg=env["reg"], now=now,
                      sleep=(sleeps.append if sleeps is not None else no_sleep))


def test_five_failures_lock_the_name_for_fifteen_minutes(env: dict) -> None:
    add(env["users"], "alice")
    for i in range(4):
        assert not attempt(env, "alice", "wrong password!", T0 + i).ok
    assert attempt(env, "alice", PW, T0 + 10).ok  # 4 failures: not locked; success resets
    for i in range(5):
        assert not attempt(env, "alice", "wrong password!", T0 + 20 + i).ok
    last = T0 + 24
    locked = attempt(env, "alice", PW, last + 60)
    assert not locked.ok  # the right password does not open a locked account
    assert locked.message == FAILED_MESSAGE
    assert not attempt(env, "ALICE ", PW, last + 15 * 60 - 1).ok
    assert attempt(env, "alice", PW, last + 15 * 60 + 1).ok  # the lock expires


def test_attempts_during_a_lock_do_not_extend_it(env: dict) -> None:
    add(env["users"], "alice")
    for i in range(5):
        attempt(env, "alice", "wrong password!", T0 + i)
    for i in range(50):
        attempt(env, "alice", "wrong password!", T0 + 10 + i * 10)
    assert attempt(env, "alice", PW, T0 + 4 + 15 * 60 + 1).ok


def test_failures_outside_the_window_do_not_count(env: dict) -> None:
    add(env["users"], "alice")
    for i in range(4):
        attempt(env, "alice", "wrong password!", T0 + i)
    attempt(env, "alice", "wrong password!", T0 + 16 * 60)
    assert attempt(env, "alice", PW, T0 + 16 * 60 + 1).ok


def test_an_expired_lock_gives_a_fresh_set_of_attempts(env: dict) -> None:
    add(env["users"], "alice")
    for i in range(5):
        attempt(env, "alice", "wrong password!", T0 + i)
    after = T0 + 4 + 15 * 60 + 1
    attempt(env, "alice", "wrong password!", after)  # one mistake after the lock ...
    assert attempt(env, "alice", PW, after + 1).ok  # ... does not lock again at once


def test_the_lock_survives_a_restart_and_a_config_reload(env: dict) -> None:
    add(env["users"], "alice")
    for i in range(5):
        attempt(env, "alice", "wrong password!", T0 + i)
    update_user(env["users"], "alice", name="Alice Again")  # the file changes
    fresh = Registry(env["reg"].path)  # a new process
    r = login("alice", PW, users_path=env["users"], reg=fresh, now=T0 + 60,
                   sleep=no_sleep)
    assert not r.ok


def test_unknown_names_are_locked_too_and_all_refusals_read_the_same(env: dict) -> None:
    add(env["users"], "alice")
    add(env["users"], "dis")
    update_user(env["users"], "dis", disabled=True)
    messages = {
        attempt(env, "nobody", PW, T0).message,
        attempt(env, "alice", "wrong password!", T0).message,
        attempt(env, "dis", PW, T0).message,
        attempt(env, "not a valid name!", PW, T0).message,
    }
    for i in range(5):
        attempt(env, "ghost", "x" * 12, T0 + i)
    assert locked_until("ghost", T0 + 10, reg=env["reg"]) is not None
    messages.add(attempt(env, "ghost", PW, T0 + 10).message)
    assert messages == {FAILED_MESSAGE}


def test_typed_names_are_not_stored_as_text(env: dict) -> None:
    add(env["users"], "alice")
    attempt(env, "my-secret-password-typed-here", PW, T0)
    assert b"my-secret-password" not in env["reg"].path.read_bytes()


def test_failures_are_throttled_alike_for_known_and_unknown_names(
        env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCGI_LOGIN_FAILURE_DELAY", "0.5")
    add(env["users"], "alice")
    known: list[float] = []
    unknown: list[float] = []
    for i in range(6):
        attempt(env, "alice", "wrong password!", T0 + i, known)
        attempt(env, "nobody", "wrong password!", T0 + i, unknown)
    assert known == unknown
    assert known[:4] == [0.5, 1.0, 1.5, 2.0]
    assert max(known) <= AuthSettings().max_failure_delay
    good: list[float] = []
    attempt(env, "bob", PW, T0, good)
    assert len(good) == 1  # an unknown name is a failure


def test_unknown_user_takes_about_as_long_as_a_wrong_password(
        env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both run one bcrypt check at cost 12. Interleaved, medians of 5, within 30%; a real
    leak (no bcrypt for unknown users) differs a hundredfold, so up to three rounds are
    allowed to ride out a busy machine without hiding it."""
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 12)
    add(env["users"], "alice")

    def timed(username: str, i: int) -> float:
        start = time.perf_counter()
        r = login(username, "wrong password!", users_path=env["users"], reg=env["reg"],
                       now=T0 + i * 3600, sleep=no_sleep)  # an hour apart: never locked
        assert not r.ok
        return time.perf_counter() - start

    timed("nobody", 0)  # warm up caches (users file, registry schema)
    ratios = []
    for rnd in range(3):
        wrong, unknown = [], []
        for i in range(5):
            wrong.append(timed("alice", 1 + rnd * 10 + i))
            unknown.append(timed(f"nobody{rnd}{i}", 1 + rnd * 10 + i))
        a, b = statistics.median(wrong), statistics.median(unknown)
        ratios.append(abs(a - b) / max(a, b))
        if ratios[-1] < 0.3:
            break
    assert min(ratios) < 0.3, ratios


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCGI_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("CCGI_LOGIN_LOCK_MINUTES", "30")
    s = AuthSettings.from_env()
    assert (s.max_failures, s.lock_seconds) == (3, 1800)
    assert "30 minutes" in s.failed_message
    assert AuthSettings().failed_message == FAILED_MESSAGE
    monkeypatch.setenv("CCGI_LOGIN_WINDOW_MINUTES", "soon")
    with pytest.raises(ValueError, match="CCGI_LOGIN_WINDOW_MINUTES"):
        AuthSettings.from_env()


# --- cookie key ----------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["some_key", "SOME_KEY", "random_signature_key", "changeme",
                                 "short-but-random-Zx81", "a" * 64, "ab" * 20])
def test_weak_cookie_keys_are_refused(env: dict, monkeypatch: pytest.MonkeyPatch,
                                      key: str) -> None:
    monkeypatch.setenv("CCGI_COOKIE_KEY", key)
    problem = cookie_key_problem()
    assert problem is not None
    assert 'python -c "import secrets; print(secrets.token_urlsafe(48))"' in problem
    assert "[auth]" in problem and "cookie_key" in problem
    assert key not in problem.replace("cookie_key", "")  # the key itself is never echoed


def test_a_random_48_byte_key_is_accepted(env: dict) -> None:
    assert cookie_key_problem() is None


def test_demo_only_needs_no_key(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCGI_COOKIE_KEY")
    assert not logins_enabled()
    assert cookie_key_problem() is None
    add(env["users"], "alice")  # now real sign-ins are possible: a key is required
    assert logins_enabled()
    assert "no cookie signing key" in (cookie_key_problem() or "")
    assert cookie_key_problem(GOOD_KEY) is None  # from st.secrets


def test_the_environment_wins_over_secrets(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    assert configured_cookie_key("from-secrets") == GOOD_KEY
    monkeypatch.setenv("CCGI_COOKIE_KEY", "some_key")
    assert cookie_key_problem(GOOD_KEY) is not None
    monkeypatch.delenv("CCGI_COOKIE_KEY")
    assert configured_cookie_key(GOOD_KEY) == GOOD_KEY


# --- audit log -----------------------------------------------------------------------------

SSID = "1234567890"


def test_audit_records_who_when_scope_what_and_rows(env: dict) -> None:
    scope = Scope("district", districts=("1062166",), student_level=True, user="dana")
    rec = write_audit(env["data"], user="dana", role="district", scope=scope,
                     action="student_list_view", what="list:fafsa_not_started grade=12",
                     rows=37, detail={"district": "1062166", "grade": 12})
    line = json.loads(env["data"].audit_log.read_text().splitlines()[-1])
    assert line == rec
    assert line["user"] == "dana" and line["role"] == "district"
    assert line["districts"] == ["1062166"] and line["rows"] == 37
    assert re.match(r"\d{4}-\d\d-\d\dT", line["ts"])
    admin = Scope.county(user="alice")
    assert write_audit(env["data"], user="alice", role="admin", scope=admin, action="export",
                      what="metric:aid_submitted", rows=5)["districts"] == "all"


def test_audit_never_writes_an_ssid_or_other_pii(env: dict,
                                                 capsys: pytest.CaptureFixture) -> None:
    scope = Scope.county(user="alice")
    rec = write_audit(env["data"], user="alice", role="admin", scope=scope, action="export",
                     what=f"students ssid={SSID}", rows=1,
                     detail={"ssid": SSID, "filter": f"x{SSID}y", "n": int(SSID),
                             "student_name": "Maria", "contact": "kid@example.org",
                             "nested": {"ids": [SSID, "1062166"]}, "district": "1062166"})
    text = env["data"].audit_log.read_text()
    assert SSID not in text
    assert "Maria" not in text and "kid@example.org" not in text
    assert rec["detail"]["district"] == "1062166"
    assert rec["detail"]["nested"]["ids"] == ["[redacted]", "1062166"]
    assert rec["redacted"] == 7
    assert "PII-like" in capsys.readouterr().err


def test_audit_refuses_a_free_text_action(env: dict) -> None:
    with pytest.raises(ValueError, match="action"):
        write_audit(env["data"], user="a", role="admin", scope=Scope.county(),
                   action="Export of everything!", what="x", rows=0)


class _CountingFile(io.FileIO):
    """A raw file that counts the bytes read through it, however they are asked for."""

    read_bytes = 0

    def readinto(self, buffer) -> int | None:
        n = super().readinto(buffer)
        type(self).read_bytes += n or 0
        return n

    def read(self, size: int = -1) -> bytes | None:
        data = super().read(size)
        type(self).read_bytes += len(data or b"")
        return data

    def readall(self) -> bytes:
        data = super().readall()
        type(self).read_bytes += len(data)
        return data


def test_read_audit_is_newest_first_and_reads_only_the_tail(
        env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """A log of 4 MB whose first 3 MB are garbage (no line breaks, not JSON): the newest
    records come back in order, and the bytes read, counted under the audit module's
    ``open``, stay within a few tail steps. Reading the whole file fails the count."""
    scope = Scope.county(user="alice")
    assert read_audit(env["data"]) == []
    log = env["data"].audit_log
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"\xff{not json" * (3 * 2**20 // 10 + 1))
    with open(log, "ab") as fh:
        fh.write(b"\n")
    for i in range(1200):
        write_audit(env["data"], user="alice", role="admin", scope=scope, action="export",
                    what=f"metric:m{i}", rows=i)
    with open(log, "a") as fh:
        fh.write("not json\n")
    size = log.stat().st_size
    assert size > 3 * 2**20

    real_open = open

    def counting_open(path, mode="r", *args, **kwargs):
        if Path(path) != log:
            return real_open(path, mode, *args, **kwargs)
        raw = _CountingFile(path, "r")
        buffered = io.BufferedReader(raw)
        return buffered if "b" in mode else io.TextIOWrapper(buffered, encoding="utf-8")

    monkeypatch.setattr(audit_module, "open", counting_open, raising=False)
    _CountingFile.read_bytes = 0
    recent = read_audit(env["data"], limit=10)
    assert [r["rows"] for r in recent] == list(range(1199, 1189, -1))
    assert 0 < _CountingFile.read_bytes <= 2 * audit_module.TAIL_STEP + 8192, size
    _CountingFile.read_bytes = 0
    everything = read_audit(env["data"], limit=5000)
    assert [r["rows"] for r in everything] == list(range(1199, -1, -1))  # garbage skipped
    assert _CountingFile.read_bytes >= size  # asked for more than there is: all was read


# --- the audit scrubber: school and district codes are not SSIDs ----------------------------

SCHOOL = "10621661030659"  # a 14-digit CDS school code
DISTRICT = "1062166"


def test_a_school_filter_is_logged_as_is_without_a_warning(
        env: dict, capsys: pytest.CaptureFixture) -> None:
    """What ``ui/audit`` writes for a filtered download: the school code stays, nothing is
    counted as redacted and no warning is printed."""
    scope = Scope("district", districts=(DISTRICT,), student_level=True, user="dana")
    what = f"download:aid-by-school as_of=2026-11-20 district={DISTRICT} school={SCHOOL} grade=12"
    rec = write_audit(env["data"], user="dana", role="district", scope=scope,
                      action="download", what=what, rows=3,
                      detail={"school": SCHOOL, "schools": [SCHOOL, "10621661234567"],
                              "filters": {"school_code": SCHOOL, "district": DISTRICT},
                              "cds": int("1" + SCHOOL[1:]), "query": f"grade=12 school={SCHOOL}"})
    assert rec["what"] == what
    assert rec["detail"]["school"] == SCHOOL
    assert rec["detail"]["schools"] == [SCHOOL, "10621661234567"]
    assert rec["detail"]["filters"] == {"school_code": SCHOOL, "district": DISTRICT}
    assert rec["detail"]["query"] == f"grade=12 school={SCHOOL}"
    assert "redacted" not in rec
    assert "PII-like" not in capsys.readouterr().err
    line = json.loads(env["data"].audit_log.read_text().splitlines()[-1])
    assert line["what"] == what


@pytest.mark.parametrize(("what", "detail"), [
    (f"school={SSID}", {}),  # an SSID where a school code belongs: 10 digits, not 14
    (f"students ssid={SSID} school={SCHOOL}", {}),
    (f"list=x {SSID} school={SCHOOL}", {}),  # a bare number, not a field's value
    (f"school={SCHOOL}", {"school": SSID}),
    (f"school={SCHOOL}", {"schools": [SCHOOL, SSID]}),
    (f"school={SCHOOL}", {"district": SCHOOL}),  # district codes are 7 digits
    (f"school={SCHOOL}", {"local": SCHOOL}),  # 14 digits under any other field
    (f"school={SCHOOL}", {"query": f"student={SCHOOL}"}),
    (f"school={SCHOOL}", {"school": "kid@example.org"}),
    (f"school={SCHOOL}", {"school": int(SSID)}),
    (f"school={SCHOOL}9", {}),  # 15 digits
])
def test_ssids_and_other_pii_are_still_redacted_next_to_school_codes(
        env: dict, capsys: pytest.CaptureFixture, what: str, detail: dict) -> None:
    rec = write_audit(env["data"], user="alice", role="admin", scope=Scope.county(),
                      action="download", what=what, rows=1, detail=detail)
    text = env["data"].audit_log.read_text()
    assert SSID not in text and "kid@example.org" not in text
    assert rec["redacted"] == 1
    assert "PII-like" in capsys.readouterr().err
    if what.endswith(f"school={SCHOOL}"):
        assert rec["what"].endswith(f"school={SCHOOL}")  # the code next to it survives
    if detail.get("district") == SCHOOL or detail.get("local") == SCHOOL or "query" in detail:
        assert SCHOOL not in json.dumps(rec["detail"])


# --- documentation -------------------------------------------------------------------------

def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "security.md").read_text()
    missing = [name for name in SETTINGS_ENV if name not in doc]
    assert missing == []
