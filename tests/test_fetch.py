"""fetch() against a real OpenSSH server, and the sync/load locks across processes.

The server is started once per module (see tests/sshd.py); each test gets its own remote
folder and data directory, so tests do not see each other's files.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paramiko
import pytest

from ccgi_dash import fetch as fetch_mod
from ccgi_dash.datasets import FILE_RE, ZIP_RE
from ccgi_dash.fetch import (
    ENV_KEY_PASSPHRASE,
    ENV_PASSWORD,
    AuthError,
    ConnectError,
    FetchBusy,
    FetchConfigError,
    FetchError,
    FetchSecrets,
    HostKeyChanged,
    HostKeyUnknown,
    fetch,
    fetched_ledger,
    ledger_path,
    partial_dir,
)
from ccgi_dash.locking import FetchLock, FileLock, LockHeld, SyncLock, load_lock, sync_lock
from ccgi_dash.settings import SftpSettings
from ccgi_dash.store import DataDir, read_jsonl

try:  # tests/ is a plain folder today; keep working if it becomes a package.
    from tests.sshd import KEY_PASSPHRASE, SshServer, keygen, sshd_server
except ImportError:  # pragma: no cover - depends on how pytest put tests/ on sys.path
    from sshd import KEY_PASSPHRASE, SshServer, keygen, sshd_server  # type: ignore[no-redef]

NO_SECRETS = FetchSecrets()
SSHD = pytest.mark.sshd
"""Tests that need the real OpenSSH server (marker declared in pyproject.toml)."""
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with sshd_server(tmp_path_factory.mktemp("sshd")) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_mod, "BACKOFF_BASE", 0.01)


@pytest.fixture
def remote(server: SshServer, request: pytest.FixtureRequest) -> Path:
    return server.remote_dir(request.node.name.replace("[", "_").replace("]", "_"))


@pytest.fixture
def dd(tmp_path: Path) -> DataDir:
    d = DataDir(tmp_path / "data")
    d.ensure()
    return d


def _put(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _visible_drop_files(d: DataDir) -> set[str]:
    """Names in the inbox the loader would pick up."""
    return {p.name for p in d.inbox.iterdir()
            if p.is_file() and (FILE_RE.match(p.name) or ZIP_RE.match(p.name))}


# --- fetching ---------------------------------------------------------------------------------


@SSHD
def test_fetches_new_files_then_skips_them(server: SshServer, remote: Path, dd: DataDir) -> None:
    files = {
        "students_20250901.csv": b"ssid,school_cds\n1,2\n",
        "uc_apply_20250901.csv": b"ssid,campus,status\n" * 100,
        "ccgi_drop_20250908.zip": os.urandom(5000),
    }
    for name, data in files.items():
        _put(remote, name, data)
    _put(remote, "README.txt", b"not a drop")
    _put(remote, "students_2025-09-01.csv", b"wrong date format")
    _put(remote, ".students_20250915.csv.filepart", b"an upload in progress")
    (remote / "archive").mkdir()
    messages: list[str] = []

    report = fetch(dd, server.settings(remote), NO_SECRETS, progress=messages.append)

    assert report.ok, report.errors
    assert sorted(f.name for f in report.fetched) == sorted(files)
    assert {f.name: f.size for f in report.fetched} == {n: len(b) for n, b in files.items()}
    assert sorted(report.ignored) == sorted(
        ["README.txt", "students_2025-09-01.csv", ".students_20250915.csv.filepart", "archive"])
    assert report.skipped == []
    for name, data in files.items():
        assert (dd.inbox / name).read_bytes() == data
    assert _visible_drop_files(dd) == set(files)
    assert list(partial_dir(dd).iterdir()) == []
    assert len(read_jsonl(ledger_path(dd))) == 3
    assert {k[0] for k in fetched_ledger(dd)} == set(files)
    assert all((remote / n).exists() for n in files), "delete_remote is false by default"
    assert any("fetched students_20250901.csv" in m for m in messages)
    assert report.seconds > 0

    # The loader takes the files away; a second run must not bring them back.
    for name in files:
        (dd.inbox / name).unlink()
    again = fetch(dd, server.settings(remote), NO_SECRETS)
    assert again.ok and again.fetched == []
    assert sorted(again.skipped) == sorted(files)
    assert _visible_drop_files(dd) == set()
    assert len(read_jsonl(ledger_path(dd))) == 3


@SSHD
def test_a_reuploaded_file_is_fetched_again(server: SshServer, remote: Path,
                                            dd: DataDir) -> None:
    path = _put(remote, "students_20250901.csv", b"ssid\n1\n")
    assert [f.name for f in fetch(dd, server.settings(remote), NO_SECRETS).fetched] == [
        "students_20250901.csv"]
    path.write_bytes(b"ssid\n1\n2\n")  # CCGI corrects the file: new size and time
    os.utime(path, (time.time() + 120, time.time() + 120))
    report = fetch(dd, server.settings(remote), NO_SECRETS)
    assert [f.name for f in report.fetched] == ["students_20250901.csv"]
    assert (dd.inbox / "students_20250901.csv").read_bytes() == b"ssid\n1\n2\n"


@SSHD
def test_delete_remote_removes_only_after_download(server: SshServer, remote: Path,
                                                   dd: DataDir) -> None:
    _put(remote, "students_20250901.csv", b"a" * 1000)
    _put(remote, "notes.txt", b"keep me")
    report = fetch(dd, server.settings(remote, delete_remote=True), NO_SECRETS)
    assert report.ok, report.errors
    assert report.deleted == ["students_20250901.csv"]
    assert not (remote / "students_20250901.csv").exists()
    assert (remote / "notes.txt").exists(), "files that are not drops are never touched"
    assert (dd.inbox / "students_20250901.csv").read_bytes() == b"a" * 1000


@SSHD
def test_delete_remote_cleans_files_fetched_before_it_was_enabled(
        server: SshServer, remote: Path, dd: DataDir) -> None:
    _put(remote, "students_20250901.csv", b"a" * 10)
    fetch(dd, server.settings(remote), NO_SECRETS)
    assert (remote / "students_20250901.csv").exists()
    report = fetch(dd, server.settings(remote, delete_remote=True), NO_SECRETS)
    assert report.skipped == ["students_20250901.csv"]
    assert report.deleted == ["students_20250901.csv"]
    assert not (remote / "students_20250901.csv").exists()


@pytest.fixture
def drop_connection_once(server: SshServer, dd: DataDir,
                         monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Kill the server's session processes once ``after`` bytes of a file have been read.

    The kill is real (SIGKILL to the per-connection sshd, so the TCP connection dies under
    the client); the wrapper only chooses the moment. At every read it also checks that no
    drop-named file is visible in the inbox while a download is in progress.
    """
    state: dict[str, object] = {"after": 3 << 20, "read": 0, "killed": 0, "visible": set()}
    real_read = paramiko.SFTPFile.read

    def read(self: paramiko.SFTPFile, size: int | None = None) -> bytes:
        data = real_read(self, size)
        state["read"] = int(state["read"]) + len(data)  # type: ignore[call-overload]
        state["visible"] |= _visible_drop_files(dd)  # type: ignore[operator]
        if not state["killed"] and int(state["read"]) >= int(state["after"]):  # type: ignore[call-overload]
            state["killed"] = server.kill_sessions()
        return data

    monkeypatch.setattr(paramiko.SFTPFile, "read", read)
    return state


@SSHD
def test_resumes_after_the_connection_drops_mid_file(
        server: SshServer, remote: Path, dd: DataDir,
        drop_connection_once: dict[str, object]) -> None:
    payload = os.urandom(12 << 20)
    _put(remote, "ccgi_drop_20250901.zip", payload)
    messages: list[str] = []

    report = fetch(dd, server.settings(remote), NO_SECRETS, progress=messages.append)

    assert drop_connection_once["killed"], "the test did not cut the connection"
    assert report.ok, report.errors
    [got] = report.fetched
    assert got.attempts == 2
    assert (dd.inbox / "ccgi_drop_20250901.zip").read_bytes() == payload
    assert drop_connection_once["visible"] == set(), "a partial file was visible to the loader"
    resumed = [m for m in messages if m.startswith("resuming ccgi_drop_20250901.zip at byte")]
    assert resumed, messages
    at = int(resumed[0].split("at byte ")[1].split()[0].replace(",", ""))
    assert 0 < at < len(payload), "the second attempt must continue, not start over"
    assert list(partial_dir(dd).iterdir()) == []
    rec = read_jsonl(ledger_path(dd))[0]
    assert rec["resumed_from"] == 0 and rec["attempts"] == 2


@SSHD
def test_a_failed_run_leaves_only_a_hidden_partial_and_the_next_run_resumes(
        server: SshServer, remote: Path, dd: DataDir,
        drop_connection_once: dict[str, object]) -> None:
    payload = os.urandom(8 << 20)
    _put(remote, "students_20250901.csv", payload)
    _put(remote, "uc_apply_20250901.csv", b"ssid,campus,status\n")

    first = fetch(dd, server.settings(remote, retries=0), NO_SECRETS)

    assert drop_connection_once["killed"]
    assert first.failed == ["students_20250901.csv"]
    assert "will retry on the next run" in first.errors[0]
    # Later files still arrive: one broken transfer does not end the run.
    assert [f.name for f in first.fetched] == ["uc_apply_20250901.csv"]
    assert _visible_drop_files(dd) == {"uc_apply_20250901.csv"}
    [part] = list(partial_dir(dd).iterdir())
    assert part.name.endswith(".part") and not FILE_RE.match(part.name)
    kept = part.stat().st_size
    assert 0 < kept < len(payload)
    assert fetched_ledger(dd) == {("uc_apply_20250901.csv", 19,
                                   int((remote / "uc_apply_20250901.csv").stat().st_mtime))}

    second = fetch(dd, server.settings(remote, retries=0), NO_SECRETS)
    assert second.ok, second.errors
    assert [(f.name, f.resumed_from) for f in second.fetched] == [("students_20250901.csv",
                                                                   kept)]
    assert second.skipped == ["uc_apply_20250901.csv"]
    assert (dd.inbox / "students_20250901.csv").read_bytes() == payload
    assert list(partial_dir(dd).iterdir()) == []


@SSHD
def test_a_server_that_stops_answering_times_out_and_is_resumed(
        server: SshServer, remote: Path, dd: DataDir, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection stays up but nothing arrives: timeout_seconds must end the wait."""
    payload = os.urandom(12 << 20)
    _put(remote, "students_20250901.csv", payload)
    real_read = paramiko.SFTPFile.read
    state = {"read": 0, "stalled": 0}

    def read(self: paramiko.SFTPFile, size: int | None = None) -> bytes:
        data = real_read(self, size)
        state["read"] += len(data)
        if not state["stalled"] and state["read"] >= 2 << 20:
            state["stalled"] = server.stall_sessions()
        return data

    monkeypatch.setattr(paramiko.SFTPFile, "read", read)
    messages: list[str] = []
    begun = time.monotonic()
    try:
        report = fetch(dd, server.settings(remote, timeout_seconds=1), NO_SECRETS,
                       progress=messages.append)
    finally:
        server.kill_sessions()
    assert state["stalled"]
    assert report.ok, report.errors
    assert report.fetched[0].attempts == 2
    assert any(m.startswith("resuming students_20250901.csv") for m in messages), messages
    assert (dd.inbox / "students_20250901.csv").read_bytes() == payload
    assert time.monotonic() - begun < 8, "a stalled server must cost about one timeout"


@SSHD
def test_a_partial_of_an_older_version_is_not_resumed(server: SshServer, remote: Path,
                                                      dd: DataDir) -> None:
    partial_dir(dd).mkdir(parents=True, exist_ok=True)
    stale = partial_dir(dd) / "students_20250901.csv.999-12345.part"
    stale.write_bytes(b"bytes of a file CCGI has since replaced")
    _put(remote, "students_20250901.csv", b"ssid\n1\n")
    report = fetch(dd, server.settings(remote), NO_SECRETS)
    assert report.ok and report.fetched[0].resumed_from == 0
    assert (dd.inbox / "students_20250901.csv").read_bytes() == b"ssid\n1\n"
    assert not stale.exists()


@SSHD
def test_a_file_growing_during_download_is_not_published(
        server: SshServer, remote: Path, dd: DataDir, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _put(remote, "students_20250901.csv", b"x" * (2 << 20))
    real_read = paramiko.SFTPFile.read
    appended = []

    def read(self: paramiko.SFTPFile, size: int | None = None) -> bytes:
        if not appended:  # CCGI's upload is still writing to the file
            with open(path, "ab") as fh:
                fh.write(b"y" * 1000)
            appended.append(True)
        return real_read(self, size)

    monkeypatch.setattr(paramiko.SFTPFile, "read", read)
    report = fetch(dd, server.settings(remote), NO_SECRETS)
    assert report.failed == ["students_20250901.csv"]
    assert "while downloading" in report.errors[0]
    assert _visible_drop_files(dd) == set()
    assert list(partial_dir(dd).iterdir()) == []
    assert fetched_ledger(dd) == set()
    monkeypatch.undo()
    monkeypatch.setattr(fetch_mod, "BACKOFF_BASE", 0.01)
    again = fetch(dd, server.settings(remote), NO_SECRETS)
    assert again.ok and (dd.inbox / path.name).read_bytes() == path.read_bytes()


# --- host keys ----------------------------------------------------------------------------------


@SSHD
def test_an_unknown_server_is_refused_with_how_to_trust_it(
        server: SshServer, remote: Path, dd: DataDir, tmp_path: Path) -> None:
    _put(remote, "students_20250901.csv", b"x")
    empty = tmp_path / "known_hosts_empty"
    empty.write_text("")
    with pytest.raises(HostKeyUnknown) as exc:
        fetch(dd, server.settings(remote, known_hosts=str(empty)), NO_SECRETS)
    msg = str(exc.value)
    assert f"ssh-keyscan -p {server.port} 127.0.0.1 >> {empty}" in msg
    assert "fingerprint" in msg and "CCGI" in msg and "SHA256:" in msg
    assert empty.read_text() == "", "nothing may be trusted automatically"
    assert _visible_drop_files(dd) == set()


@SSHD
def test_a_changed_host_key_is_refused_loudly(server: SshServer, remote: Path, dd: DataDir,
                                              tmp_path: Path) -> None:
    _put(remote, "students_20250901.csv", b"x")
    impostor = keygen(tmp_path / "other_host_key")
    wrong = tmp_path / "known_hosts_wrong"
    wrong.write_text(server.known_hosts_line(impostor))
    with pytest.raises(HostKeyChanged) as exc:
        fetch(dd, server.settings(remote, known_hosts=str(wrong)), NO_SECRETS)
    msg = str(exc.value)
    assert "IDENTITY" in msg and "HAS CHANGED" in msg
    assert "man-in-the-middle" in msg
    assert f"ssh-keygen -R '[127.0.0.1]:{server.port}' -f {wrong}" in msg
    assert isinstance(exc.value, FetchError)
    assert _visible_drop_files(dd) == set()


@SSHD
def test_a_hashed_known_hosts_entry_is_accepted(server: SshServer, remote: Path, dd: DataDir,
                                                tmp_path: Path) -> None:
    hashed = tmp_path / "known_hosts_hashed"
    hashed.write_text(server.known_hosts_line())
    subprocess.run(["ssh-keygen", "-H", "-f", str(hashed)], check=True, capture_output=True)
    assert "127.0.0.1" not in hashed.read_text()
    _put(remote, "students_20250901.csv", b"x")
    assert fetch(dd, server.settings(remote, known_hosts=str(hashed)), NO_SECRETS).ok


# --- settings and credentials ---------------------------------------------------------------------


def _offline_settings(tmp_path: Path, **overrides: object) -> SftpSettings:
    """Settings for tests that fail before (or at) connecting: no server needed."""
    known_hosts = tmp_path / "known_hosts"
    known_hosts.touch()
    base = SftpSettings(host="127.0.0.1", port=22, username="coe", remote_dir="/drops",
                        known_hosts=str(known_hosts), timeout_seconds=2, retries=0)
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("override", "secrets", "expected"),
    [
        ({"host": ""}, NO_SECRETS, "set host in settings.toml [sftp]"),
        ({"username": ""}, NO_SECRETS, "set username in settings.toml [sftp]"),
        ({"known_hosts": ""}, NO_SECRETS, "set known_hosts in settings.toml [sftp]"),
        ({"known_hosts": "/nonexistent/known_hosts"}, NO_SECRETS, "does not exist; create it"),
        ({"key_file": "/nonexistent/id_ed25519"}, NO_SECRETS, "[sftp] key_file"),
        ({}, NO_SECRETS, ENV_PASSWORD),
        ({"port": 0}, FetchSecrets(password="x"), "port in settings.toml [sftp]"),
    ],
)
def test_missing_settings_are_named(tmp_path: Path, dd: DataDir, override: dict[str, object],
                                    secrets: FetchSecrets, expected: str) -> None:
    with pytest.raises(FetchConfigError) as exc:
        fetch(dd, _offline_settings(tmp_path, **override), secrets)
    assert expected in str(exc.value)
    assert not isinstance(exc.value.__cause__, Exception), "callers need no traceback"


def test_an_unreadable_key_file_is_named(tmp_path: Path, dd: DataDir) -> None:
    not_a_key = tmp_path / "id_ed25519"
    not_a_key.write_text("ssh-ed25519 AAAA... this is the .pub half\n")
    with pytest.raises(FetchConfigError) as exc:
        fetch(dd, _offline_settings(tmp_path, key_file=str(not_a_key)), NO_SECRETS)
    assert "not a private key" in str(exc.value)


def test_an_unreachable_server_is_retried_then_reported(tmp_path: Path, dd: DataDir) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    messages: list[str] = []
    with pytest.raises(ConnectError) as exc:
        fetch(dd, _offline_settings(tmp_path, port=port, retries=2),
              FetchSecrets(password="x"), progress=messages.append)
    assert "after 3 attempt(s)" in str(exc.value)
    assert f"127.0.0.1:{port}" in str(exc.value)
    assert sum("retrying" in m for m in messages) == 2
    assert _visible_drop_files(dd) == set()


@SSHD
def test_an_encrypted_key_needs_its_passphrase(server: SshServer, remote: Path,
                                               dd: DataDir) -> None:
    _put(remote, "students_20250901.csv", b"x")
    settings = server.settings(remote, key_file=str(server.encrypted_key))
    with pytest.raises(FetchConfigError) as exc:
        fetch(dd, settings, NO_SECRETS)
    assert ENV_KEY_PASSPHRASE in str(exc.value)
    with pytest.raises(FetchConfigError) as exc:
        fetch(dd, settings, FetchSecrets(key_passphrase="not it"))
    assert "passphrase" in str(exc.value) and "not it" not in str(exc.value)
    report = fetch(dd, settings, FetchSecrets(key_passphrase=KEY_PASSPHRASE))
    assert [f.name for f in report.fetched] == ["students_20250901.csv"]


@SSHD
def test_a_refused_password_is_reported_without_the_password(
        server: SshServer, remote: Path, dd: DataDir) -> None:
    secret = "hunter2-very-secret"
    messages: list[str] = []
    with pytest.raises(AuthError) as exc:
        fetch(dd, server.settings(remote, key_file=""), FetchSecrets(password=secret),
              progress=messages.append)
    assert server.user in str(exc.value) and ENV_PASSWORD in str(exc.value)
    assert secret not in str(exc.value) + "".join(messages)


@SSHD
def test_a_key_the_server_does_not_know_is_refused(server: SshServer, remote: Path,
                                                   dd: DataDir, tmp_path: Path) -> None:
    stranger = keygen(tmp_path / "stranger")
    with pytest.raises(AuthError):
        fetch(dd, server.settings(remote, key_file=str(stranger)), NO_SECRETS)


@SSHD
def test_a_missing_remote_folder_is_named(server: SshServer, dd: DataDir) -> None:
    with pytest.raises(FetchConfigError) as exc:
        fetch(dd, server.settings(server.root / "no-such-folder"), NO_SECRETS)
    assert "remote_dir" in str(exc.value) and "does not exist" in str(exc.value)


def test_two_fetches_of_one_data_directory_never_overlap(tmp_path: Path, dd: DataDir) -> None:
    with FetchLock(dd), pytest.raises(FetchBusy) as exc:
        fetch(dd, _offline_settings(tmp_path), FetchSecrets(password="x"))
    assert f"pid {os.getpid()}" in str(exc.value)
    assert "another fetch is already running" in str(exc.value)


def test_secrets_come_from_the_environment_and_stay_out_of_repr() -> None:
    env = {ENV_PASSWORD: "pw-123", ENV_KEY_PASSPHRASE: "phrase-456"}
    s = FetchSecrets.from_env(env)
    assert (s.password, s.key_passphrase) == ("pw-123", "phrase-456")
    assert "pw-123" not in repr(s) and "phrase-456" not in repr(s)
    assert FetchSecrets.from_env({ENV_PASSWORD: ""}) == FetchSecrets()
    assert ENV_PASSWORD in (fetch_mod.__doc__ or "")
    assert ENV_KEY_PASSPHRASE in (fetch_mod.__doc__ or "")


@SSHD
def test_relative_paths_are_taken_from_the_data_directory(
        server: SshServer, remote: Path, dd: DataDir) -> None:
    (dd.root / "known_hosts").write_text(server.known_hosts.read_text())
    (dd.root / "id").write_bytes(server.client_key.read_bytes())
    _put(remote, "students_20250901.csv", b"x")
    report = fetch(dd, server.settings(remote, known_hosts="known_hosts", key_file="id"),
                   NO_SECRETS)
    assert report.ok and len(report.fetched) == 1


# --- locks ----------------------------------------------------------------------------------------

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ccgi_dash.locking import SyncLock, load_lock
    from ccgi_dash.store import DataDir
    kind, root = sys.argv[1], Path(sys.argv[2])
    lock = SyncLock(DataDir(root)) if kind == "sync" else load_lock(DataDir(root))
    with lock:
        print("held", flush=True)
        sys.stdin.readline()   # hold until the test says so (or dies)
    print("released", flush=True)
    """
)


def _holder(kind: str, dd: DataDir) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, kind, str(dd.root)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.parametrize(("kind", "make"), [("sync", sync_lock), ("load", load_lock)])
def test_a_lock_held_by_another_process_is_refused_then_free_after_release(
        dd: DataDir, kind: str, make: Callable[[DataDir], FileLock]) -> None:
    with _holder(kind, dd) as proc:
        with pytest.raises(LockHeld) as exc, make(dd):
            pytest.fail("acquired a lock another process holds")
        assert f"pid {proc.pid}" in str(exc.value)
        assert f"another {kind} is already running" in str(exc.value)
        assert exc.value.pid == proc.pid
        assert exc.value.path == dd.logs / f"{kind}.lock"
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "released"
        proc.wait(timeout=10)
    with make(dd) as lock:
        assert lock.held and lock.holder() == os.getpid()
    assert not lock.held


def test_the_lock_is_released_when_its_holder_is_killed(dd: DataDir) -> None:
    with _holder("sync", dd) as proc:
        with pytest.raises(LockHeld):
            SyncLock(dd).acquire()
        proc.kill()
        proc.wait(timeout=10)
    with SyncLock(dd):
        pass


def test_sync_and_load_locks_are_independent(dd: DataDir) -> None:
    with SyncLock(dd), load_lock(dd):
        with pytest.raises(LockHeld):
            SyncLock(dd).acquire()  # a second handle in the same process is refused too
        with pytest.raises(LockHeld):
            load_lock(dd).acquire()


def test_the_lock_file_is_kept_and_holds_no_stale_pid(dd: DataDir) -> None:
    lock = SyncLock(dd)
    with lock:
        assert lock.path.read_text().split("\n")[0] == str(os.getpid())
    assert lock.path.exists() and lock.holder() is None
    lock.release()  # idempotent



def _cli_fetch(dd: DataDir) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ccgi_dash", "fetch", "--data-dir",
                           str(dd.root)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)


@SSHD
def test_a_server_that_drops_every_connection_gives_one_summary_and_no_traceback(
        server: SshServer, remote: Path, dd: DataDir) -> None:
    """Issue 9: the server accepts the connection and drops it, on every retry. paramiko's
    tracebacks go to logs/fetch.log; the console gets one message, no traceback."""
    _put(remote, "students_20250901.csv", b"ssid\n")
    (dd.root / "settings.toml").write_text(server.settings_toml(remote, retries=2,
                                                                timeout_seconds=5))
    with server.dropping_connections() as killed:
        run = _cli_fetch(dd)
    out = run.stdout + run.stderr
    assert killed, "the server did not drop any connection"
    assert run.returncode == 1, out
    assert "Traceback" not in out and "paramiko" not in out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot reach the sFTP server" in errors[0]
    assert "after 3 attempt(s)" in errors[0]
    log = (dd.logs / fetch_mod.LOG_NAME).read_text()
    # paramiko's records go to the log, never to the console. Whether paramiko also logs a
    # traceback depends on when the cutter's SIGKILL lands: during the handshake its
    # transport thread logs one (then it is here, not on the console, as asserted above);
    # on a loaded machine the kill can come after authentication, where it logs none (seen
    # once in a full run), so the traceback itself is not required.
    assert "paramiko.transport" in log


@SSHD
def test_fetch_prints_its_summary_once(server: SshServer, remote: Path, dd: DataDir) -> None:
    _put(remote, "students_20250901.csv", b"ssid\n")
    (dd.root / "settings.toml").write_text(server.settings_toml(remote))
    run = _cli_fetch(dd)
    assert run.returncode == 0, run.stdout + run.stderr
    summaries = [line for line in run.stdout.splitlines() if " already fetched, " in line]
    assert len(summaries) == 1 and summaries[0].startswith("fetched 1 file(s)"), run.stdout
    assert "Traceback" not in run.stdout + run.stderr
