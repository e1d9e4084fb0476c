"""``python -m ccgi_dash users ...``: every action, its validation (exit 2 with a clear
message), atomic and locked writes, and concurrent commands that must not corrupt the file.

Most tests call ``users_cli.main`` in-process; the concurrency test runs real processes."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ccgi_dash import users_cli
from ccgi_dash.accounts import actions, passwords
from ccgi_dash.accounts import users as users_module
from ccgi_dash.accounts.passwords import verify_password
from ccgi_dash.accounts.registry import registry
from ccgi_dash.accounts.sessions import live_sessions
from ccgi_dash.accounts.signin import LoginResult, validate_session
from ccgi_dash.accounts.signin import login as sign_in
from ccgi_dash.accounts.users import read_users_file
from ccgi_dash.locking import UsersLock
from ccgi_dash.store import DataDir, read_jsonl

ROOT = Path(__file__).resolve().parents[1]
PW = "correct horse battery staple"
T0 = 1_800_000_000.0


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    data = tmp_path / "data"
    monkeypatch.setenv("CCGI_DATA_DIR", str(data))
    monkeypatch.delenv("CCGI_USERS_FILE", raising=False)
    monkeypatch.setenv("CCGI_LOGIN_FAILURE_DELAY", "0")
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)
    return {"data": DataDir(data), "users": data / "users.yaml"}


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *argv: str,
        stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = users_cli.main(["users", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    def call(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        return run(monkeypatch, capsys, *argv, stdin=stdin)
    return call


def add(cli, username: str, *extra: str, password: str = PW) -> None:
    code, _out, err = cli("add", username, *extra, "--password-stdin", stdin=password + "\n")
    assert code == 0, err


def test_add_and_list(env: dict, cli) -> None:
    add(cli, "Alice", "--role", "admin", "--name", "Alice Admin", "--email", "a@coe.org")
    add(cli, "dana", "--role", "district", "--districts", "1062166,1062174",
        "--districts", "1062166")
    code, out, _ = cli("list")
    assert code == 0
    assert "alice" in out and "Alice Admin" in out and "all" in out
    assert "1062166,1062174" in out
    assert "$2b$" not in out
    code, out, _ = cli("list", "--json")
    rows = {r["username"]: r for r in json.loads(out)}
    assert rows["dana"]["districts"] == ["1062166", "1062174"]
    assert all("password_hash" not in r for r in rows.values())
    users = read_users_file(env["users"])
    assert verify_password(PW, users["alice"].password_hash)
    assert PW not in env["users"].read_text()


def test_list_with_no_users_says_how_to_start(env: dict, cli) -> None:
    code, out, _ = cli("list")
    assert code == 0 and "users add USERNAME --role admin" in out


@pytest.mark.parametrize(("argv", "stdin", "message"), [
    (["add", "alice", "--role", "admin", "--password-stdin"], "short\n", "at least 12"),
    (["add", "alice", "--role", "admin", "--password-stdin"], "", "standard input is empty"),
    (["add", "al ice", "--role", "admin", "--password-stdin"], PW + "\n", "not allowed"),
    (["add", "x", "--role", "admin", "--password-stdin"], PW + "\n", "not allowed"),
    (["add", "dana", "--role", "district", "--password-stdin"], PW + "\n", "district code"),
    (["add", "dana", "--role", "district", "--districts", "106216", "--password-stdin"],
     PW + "\n", "7 digits"),
    (["add", "root", "--role", "admin", "--districts", "1062166", "--password-stdin"],
     PW + "\n", "whole county"),
    (["add", "eve", "--role", "demo", "--password-stdin"], PW + "\n", "role must be one of"),
    (["add", "eve", "--role", "coe", "--email", "not-an-email", "--password-stdin"],
     PW + "\n", "email"),
    (["add", "eve", "--role", "coe", "--name", "<script>", "--password-stdin"], PW + "\n",
     "display name"),
    (["reset-password", "ghost", "--password-stdin"], PW + "\n", "no user 'ghost'"),
    (["disable", "ghost"], "", "no user 'ghost'"),
    (["set-districts", "ghost", "1062166"], "", "no user 'ghost'"),
    (["end-sessions"], "", "--all"),
    (["frobnicate"], "", "invalid choice"),
])
def test_validation_errors_exit_2_with_a_clear_message(env: dict, cli, argv: list[str],
                                                       stdin: str, message: str) -> None:
    code, _out, err = cli(*argv, stdin=stdin)
    assert code == 2
    assert message in err
    assert not env["users"].exists() or "ghost" not in env["users"].read_text()


def test_a_taken_username_is_refused(env: dict, cli) -> None:
    add(cli, "alice", "--role", "admin")
    before = env["users"].read_bytes()
    code, _out, err = cli("add", "ALICE", "--role", "coe", "--password-stdin", stdin=PW + "\n")
    assert code == 2 and "already exists" in err
    assert env["users"].read_bytes() == before


def test_add_asks_twice_on_a_terminal(env: dict, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PW, PW + "typo"])
    monkeypatch.setattr(users_cli.getpass, "getpass", lambda prompt="": next(answers))
    code, _out, err = cli("add", "alice", "--role", "admin")
    assert code == 2 and "differ" in err and not env["users"].exists()
    answers = iter([PW, PW])
    code, _out, _err = cli("add", "alice", "--role", "admin")
    assert code == 0 and "alice" in read_users_file(env["users"])


def test_set_role_and_districts(env: dict, cli) -> None:
    add(cli, "dana", "--role", "district", "--districts", "1062166")
    code, out, _ = cli("set-districts", "dana", "1062174,1062182")
    assert code == 0 and "1062174, 1062182" in out
    assert read_users_file(env["users"])["dana"].districts == ("1062174", "1062182")
    code, _out, _ = cli("set-role", "dana", "coe")  # districts are dropped: coe sees all
    user = read_users_file(env["users"])["dana"]
    assert code == 0 and (user.role, user.districts) == ("coe", ())
    code, _out, err = cli("set-role", "dana", "district")
    assert code == 2 and "district code" in err
    code, _out, _ = cli("set-role", "dana", "district", "--districts", "1062166")
    assert code == 0 and read_users_file(env["users"])["dana"].districts == ("1062166",)
    code, _out, err = cli("set-districts", "dana", "12")
    assert code == 2 and "7 digits" in err


def login(env: dict, username: str = "alice", password: str = PW) -> LoginResult:
    return sign_in(username, password, users_path=env["users"],
                   reg=registry(env["data"]), sleep=lambda s: None)


def still_valid(env: dict, sid: str) -> bool:
    return validate_session(sid, users_path=env["users"],
                            reg=registry(env["data"])) is not None


def test_reset_password_ends_sessions_and_sets_the_new_password(env: dict, cli) -> None:
    add(cli, "alice", "--role", "admin")
    r = login(env)
    assert r.ok and still_valid(env, r.session_id)
    new = PW + " again"
    code, out, _ = cli("reset-password", "alice", "--password-stdin", stdin=new + "\n")
    assert code == 0 and "1 session(s) ended" in out
    assert not still_valid(env, r.session_id)
    assert not login(env).ok
    assert login(env, password=new).ok


def test_reset_password_clears_a_lock(env: dict, cli) -> None:
    add(cli, "alice", "--role", "admin")
    for _ in range(5):
        login(env, password="wrong password!")
    assert not login(env).ok
    cli("reset-password", "alice", "--password-stdin", stdin=PW + "\n")
    assert login(env).ok


def test_disable_and_enable(env: dict, cli) -> None:
    add(cli, "alice", "--role", "admin")
    r = login(env)
    code, out, _ = cli("disable", "alice")
    assert code == 0 and "1 session(s) ended" in out
    assert not still_valid(env, r.session_id)
    assert not login(env).ok
    code, _out, _ = cli("enable", "alice")
    assert code == 0 and login(env).ok
    assert not still_valid(env, r.session_id)  # the old session stays dead


def test_end_sessions(env: dict, cli) -> None:
    add(cli, "alice", "--role", "admin")
    add(cli, "bob", "--role", "coe")
    a, b = login(env), login(env, "bob")
    code, out, _ = cli("end-sessions", "alice")
    assert code == 0 and "alice: 1 session(s) ended" in out
    assert not still_valid(env, a.session_id) and still_valid(env, b.session_id)
    code, _out, _ = cli("end-sessions", "--all")
    assert code == 0 and not still_valid(env, b.session_id)


def test_epoch_alone_revokes_when_the_registry_is_elsewhere(env: dict, cli,
                                                            tmp_path: Path) -> None:
    """An operator who points --data-dir at another folder still ends the sessions: the
    users file's epoch changes, and every session checks it."""
    add(cli, "alice", "--role", "admin")
    r = login(env)
    code, _out, _ = cli("end-sessions", "alice", "--data-dir", str(tmp_path / "other"),
                        "--users-file", str(env["users"]))
    assert code == 0 and not still_valid(env, r.session_id)


def test_unlock(env: dict, cli) -> None:
    add(cli, "alice", "--role", "admin")
    for _ in range(5):
        login(env, password="wrong password!")
    code, out, _ = cli("list")
    assert "locked" in out
    code, _out, _ = cli("unlock", "alice")
    assert code == 0 and login(env).ok


def test_user_management_is_audited_without_secrets(env: dict, cli) -> None:
    add(cli, "alice", "--role", "admin")
    cli("reset-password", "alice", "--password-stdin", stdin=PW + "!\n")
    cli("disable", "alice")
    lines = read_jsonl(env["data"].audit_log)
    assert [ln["action"] for ln in lines] == ["users_add", "users_reset_password",
                                              "users_disable"]
    assert all(ln["what"].startswith("user:alice") for ln in lines)
    text = env["data"].audit_log.read_text()
    assert PW not in text and "$2b$" not in text


def test_writes_are_atomic_and_private(env: dict, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = users_module.atomic_write_text

    def spy(path: Path, text: str) -> None:
        calls.append(path)
        real(path, text)

    monkeypatch.setattr(users_module, "atomic_write_text", spy)
    add(cli, "alice", "--role", "admin")
    cli("set-role", "alice", "coe")
    assert calls == [env["users"], env["users"]]
    assert env["users"].stat().st_mode & 0o077 in (0, 0o040)  # 0640 at most
    leftovers = [p.name for p in env["users"].parent.iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


def test_a_failed_write_leaves_the_old_file_and_exits_1(env: dict, cli,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    add(cli, "alice", "--role", "admin")
    before = env["users"].read_bytes()

    def boom(path: Path, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(users_module, "atomic_write_text", boom)
    code, _out, err = cli("set-role", "alice", "coe")
    assert code == 1 and "No space left" in err and "nothing was changed" in err
    assert env["users"].read_bytes() == before


def test_a_busy_lock_exits_1(env: dict, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    add(cli, "alice", "--role", "admin")
    monkeypatch.setattr(users_module, "LOCK_TIMEOUT_SECONDS", 0.2)
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from ccgi_dash.locking import UsersLock\n"
         "with UsersLock(Path(sys.argv[1])):\n"
         "    print('held', flush=True); time.sleep(30)", str(env["users"])],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout.readline().strip() == "held"
        code, _out, err = cli("set-role", "alice", "coe")
        assert code == 1 and "try again" in err
    finally:
        child.kill()
        child.wait()
    assert read_users_file(env["users"])["alice"].role == "admin"


WORKER = """
import io, sys, time
from pathlib import Path
from ccgi_dash import users_cli
from ccgi_dash.accounts import actions, passwords
from ccgi_dash.accounts import users as users_module
from ccgi_dash.accounts.passwords import verify_password
from ccgi_dash.accounts.registry import registry
from ccgi_dash.accounts.sessions import live_sessions
from ccgi_dash.accounts.signin import LoginResult, validate_session
from ccgi_dash.accounts.signin import login as sign_in
from ccgi_dash.accounts.users import read_users_file
from ccgi_dash.locking import UsersLock
BCRYPT_ROUNDS = 4  # fast hashing: the writes of all workers overlap
go, me, data, pw = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
while not go.exists():
    time.sleep(0.002)
for j in range(5):
    sys.stdin = io.StringIO(pw + "\\n")
    code = users_cli.main(["users", "add", f"{me}-{j}", "--role", "coe", "--password-stdin",
                           "--data-dir", data])
    if code:
        sys.exit(code)
"""


def test_concurrent_commands_do_not_corrupt_the_file(env: dict, tmp_path: Path) -> None:
    """Six processes add five users each, all released at the same moment. Without the
    lock, read-modify-write cycles overlap and users are lost; with it, all 30 are there
    and the file is valid YAML. One more process uses the real ``-m`` entry point."""
    go = tmp_path / "go"
    workers = [f"w{i}" for i in range(6)]
    penv = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(go), w, str(env["data"].root),
                               PW], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=penv) for w in workers]
    pw_file = tmp_path / "pw"
    pw_file.write_text(PW + "\n")
    with open(pw_file) as stdin:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "ccgi_dash.users_cli", "users", "add", "main-entry",
             "--role", "admin", "--password-stdin", "--data-dir", str(env["data"].root)],
            cwd=ROOT, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=penv))
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 7, results
    raw = yaml.safe_load(env["users"].read_text())
    expected = sorted([f"{w}-{j}" for w in workers for j in range(5)] + ["main-entry"])
    assert sorted(raw["users"]) == expected
    users = read_users_file(env["users"])
    assert verify_password(PW, users["main-entry"].password_hash)
    assert len(read_jsonl(env["data"].audit_log)) == 31


def test_register_fits_the_main_cli_parser(env: dict) -> None:
    """The lead wires ``register`` into ``ccgi_dash.cli``: it must accept that CLI's common
    parent (``--data-dir``, ``--config``, ``-q``) and set ``func``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir")
    common.add_argument("--config")
    common.add_argument("-q", "--quiet", action="store_true")
    parser = argparse.ArgumentParser(prog="python -m ccgi_dash")
    sub = parser.add_subparsers(dest="command", required=True)
    users_cli.register(sub, common)
    args = parser.parse_args(["users", "list", "--data-dir", "/x", "-q"])
    assert args.func is users_cli.cmd_users_list and args.data_dir == "/x"


# --- set-email -----------------------------------------------------------------------------

def test_set_email_sets_validates_and_clears(env: dict, cli) -> None:
    add(cli, "dana", "--role", "district", "--districts", "1062166")
    code, out, _ = cli("set-email", "dana", " dana@fresno-coe.org ")
    assert code == 0 and "dana@fresno-coe.org" in out
    assert read_users_file(env["users"])["dana"].email == "dana@fresno-coe.org"
    code, out, _ = cli("list")
    assert "dana@fresno-coe.org" in out
    before = env["users"].read_bytes()
    for bad in ("not-an-email", "a b@c.org", "dana@nowhere", "x@y." + "z" * 260):
        code, _out, err = cli("set-email", "dana", bad)
        assert code == 2 and "does not look like an email address" in err, bad
    assert env["users"].read_bytes() == before  # a refused address changes nothing
    code, _out, err = cli("set-email", "ghost", "g@coe.org")
    assert code == 2 and "no user 'ghost'" in err
    code, out, _ = cli("set-email", "dana", "")
    assert code == 0 and "no email address" in out
    assert read_users_file(env["users"])["dana"].email == ""
    lines = [ln for ln in read_jsonl(env["data"].audit_log)
             if ln["action"] == "users_set_email"]
    assert [ln["what"] for ln in lines] == ["user:dana email:set", "user:dana email:cleared"]
    assert "fresno-coe.org" not in env["data"].audit_log.read_text()
    assert all("redacted" not in ln for ln in lines)


def test_set_email_keeps_sessions_and_the_rest_of_the_record(env: dict, cli) -> None:
    add(cli, "alice", "--role", "admin", "--name", "Alice Admin")
    r = login(env)
    before = read_users_file(env["users"])["alice"]
    assert cli("set-email", "alice", "alice@coe.org")[0] == 0
    after = read_users_file(env["users"])["alice"]
    assert after.email == "alice@coe.org"
    assert (after.name, after.role, after.session_epoch, after.password_hash) == (
        before.name, before.role, before.session_epoch, before.password_hash)
    assert still_valid(env, r.session_id)


# --- the actions as library functions ------------------------------------------------------

def test_each_action_is_one_library_call(env: dict) -> None:
    """Without the CLI: the record changes, sessions end where the action says so, the lock
    is cleared by reset and unlock, and every action writes its audit line under ``by``."""
    where = {"users_path": env["users"], "data_dir": env["data"], "by": "admin-page:ada"}
    reg = registry(env["data"])
    user = actions.create_user("Dana", PW, role="district", districts=("1062166",),
                               name="Dana D", **where).user
    assert user.username == "dana" and verify_password(PW, user.password_hash)
    first, second = login(env, "dana"), login(env, "dana")

    assert actions.set_role("dana", "district", **where).user.districts == ("1062166",)
    assert actions.set_districts("dana", ("1062174",), **where).user.districts == ("1062174",)
    assert actions.set_email("dana", "d@coe.org", **where).user.email == "d@coe.org"
    assert live_sessions("dana", reg=reg) == 2  # none of these end a session

    out = actions.disable_user("dana", **where)
    assert out.user.disabled and out.sessions_ended == 2 and out.warning == ""
    assert not still_valid(env, first.session_id) and not still_valid(env, second.session_id)
    assert not actions.enable_user("dana", **where).user.disabled

    for _ in range(5):
        login(env, "dana", "wrong password!")
    assert not login(env, "dana").ok  # locked
    assert actions.unlock_user("dana", data_dir=env["data"], by="admin-page:ada") == "dana"
    third = login(env, "dana")
    assert third.ok
    assert actions.end_user_sessions("dana", **where).sessions_ended == 1
    assert not still_valid(env, third.session_id)

    new = PW + " 2"
    for _ in range(5):
        login(env, "dana", "wrong password!")
    out = actions.reset_password("dana", new, **where)
    assert out.sessions_ended == 0 and login(env, "dana", new).ok  # new password, lock gone

    log = read_jsonl(env["data"].audit_log)
    assert [ln["action"] for ln in log] == [
        "users_add", "users_set_role", "users_set_districts", "users_set_email",
        "users_disable", "users_enable", "users_unlock", "users_end_sessions",
        "users_reset_password"]
    assert {ln["user"] for ln in log} == {"admin-page:ada"}
    assert all(ln["what"].startswith("user:dana") for ln in log)


def test_an_action_refused_by_validation_changes_nothing(env: dict) -> None:
    where = {"users_path": env["users"], "data_dir": env["data"]}
    actions.create_user("alice", PW, role="admin", **where)
    before = env["users"].read_bytes()
    audit_before = env["data"].audit_log.read_bytes()
    for call in (lambda: actions.reset_password("alice", "short", **where),
                 lambda: actions.set_email("alice", "nope", **where),
                 lambda: actions.set_role("alice", "district", **where),
                 lambda: actions.disable_user("ghost", **where)):
        with pytest.raises(users_module.UsersError):
            call()
    assert env["users"].read_bytes() == before
    assert env["data"].audit_log.read_bytes() == audit_before


def test_a_second_command_waits_for_the_lock_instead_of_failing(env: dict, cli) -> None:
    """The users lock is ``ccgi_dash.locking``'s FileLock with a wait: a command that finds
    the file locked for less than LOCK_TIMEOUT_SECONDS goes ahead once it is free."""
    add(cli, "alice", "--role", "admin")
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from ccgi_dash.locking import UsersLock\n"
         "with UsersLock(Path(sys.argv[1])):\n"
         "    print('held', flush=True); time.sleep(1.0)", str(env["users"])],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout.readline().strip() == "held"
        lock = UsersLock(env["users"])
        with pytest.raises(users_module.LockHeld, match="`users` command"):
            lock.acquire()  # no wait: refused while the child holds it
        code, _out, err = cli("set-role", "alice", "coe")  # waits up to 30 s
        assert code == 0, err
    finally:
        child.kill()
        child.wait()
    assert read_users_file(env["users"])["alice"].role == "coe"
    assert (env["users"].parent / "users.yaml.lock").stat().st_mode & 0o077 == 0
