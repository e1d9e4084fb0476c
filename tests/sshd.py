"""A real, throw-away OpenSSH server for the fetch tests.

Why a real ``sshd`` and not a mock: the parts of fetching that go wrong in production are the
ones a mock would have to imitate — host-key checks, authentication, an sFTP subsystem that
drops the connection halfway through a file. Debian's ``openssh-server`` gives us the same
server software CCGI-like hosts run, on a free loopback port, with its own host key and an
``authorized_keys`` holding a freshly generated test key. Nothing of the machine's own SSH
setup (``/etc/ssh``, ``~/.ssh``) is read or changed; the only system-wide trace is the
privilege-separation directory ``/run/sshd`` that sshd insists on, which is created if missing.

CI needs: ``apt-get install -y openssh-server openssh-client`` (sshd, ssh-keygen). Without
``/usr/sbin/sshd`` the tests that need it are skipped with a message saying so.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from ccgi_dash.settings import SftpSettings

SSHD = Path("/usr/sbin/sshd")
PRIVSEP_DIR = Path("/run/sshd")
START_TIMEOUT = 10.0
"""Seconds to wait for sshd to accept connections before the fixture gives up."""
KEY_PASSPHRASE = "correct horse battery"
"""Passphrase of the fixture's second (encrypted) client key."""


def _require_openssh() -> str:
    """Skip (not fail) where OpenSSH is not installed, saying what CI installs."""
    if not SSHD.exists():
        pytest.skip(f"{SSHD} not found: install openssh-server (.ci/run installs "
                    "openssh-server and openssh-client) to run the sFTP fetch tests")
    keygen = shutil.which("ssh-keygen")
    if not keygen:
        pytest.skip("ssh-keygen not found: install openssh-client (.ci/run installs it)")
    return keygen


def keygen(path: Path, passphrase: str = "", comment: str = "ccgi-test") -> Path:
    """Generate an ed25519 key pair with ssh-keygen; returns the private key's path."""
    exe = _require_openssh()
    for p in (path, path.with_name(path.name + ".pub")):
        p.unlink(missing_ok=True)
    subprocess.run([exe, "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", str(path)],
                   check=True, capture_output=True, timeout=30)
    return path


def public_key(private: Path) -> str:
    """``type base64`` of a key pair's public half, without the comment."""
    kind, blob = private.with_name(private.name + ".pub").read_text().split()[:2]
    return f"{kind} {blob}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Direct children of a process, from /proc (no psutil dependency)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class SshServer:
    """One running sshd, with everything a test needs to connect to it."""

    host: str
    port: int
    user: str
    root: Path
    """A temporary directory holding config, keys and logs (and room for remote folders)."""
    known_hosts: Path
    """``[127.0.0.1]:PORT ssh-ed25519 ...`` built from the server's host key."""
    client_key: Path
    """An unencrypted ed25519 key in authorized_keys."""
    encrypted_key: Path
    """An ed25519 key protected by :data:`KEY_PASSPHRASE`, also in authorized_keys."""
    host_key: Path
    log: Path
    proc: subprocess.Popen[bytes]

    def settings(self, remote_dir: Path | str, **overrides: object) -> SftpSettings:
        """SftpSettings pointing at this server with the unencrypted client key."""
        base = SftpSettings(host=self.host, port=self.port, username=self.user,
                            remote_dir=str(remote_dir), known_hosts=str(self.known_hosts),
                            key_file=str(self.client_key), timeout_seconds=10.0, retries=3)
        return replace(base, **overrides)  # type: ignore[arg-type]

    def settings_toml(self, remote_dir: Path | str, **overrides: object) -> str:
        """A settings.toml ``[sftp]`` section for :meth:`settings` (for the command line)."""
        sftp = self.settings(remote_dir, **overrides)
        lines = ["[sftp]"]
        for key in ("host", "port", "username", "remote_dir", "known_hosts", "key_file",
                    "delete_remote", "timeout_seconds", "retries"):
            value = getattr(sftp, key)
            if isinstance(value, bool):
                lines.append(f"{key} = {str(value).lower()}")
            elif isinstance(value, int | float):
                lines.append(f"{key} = {value}")
            else:
                lines.append(f"{key} = {str(value)!r}".replace("'", '"'))
        return "\n".join(lines) + "\n"

    def remote_dir(self, name: str) -> Path:
        """A fresh folder the server will serve (the test user sees the real file system)."""
        path = self.root / "remote" / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def session_pids(self) -> list[int]:
        """Processes sshd forked for open connections (not the listener itself)."""
        return _descendants(self.proc.pid)

    def kill_sessions(self) -> int:
        """Cut every open connection the way a crash or network drop would: SIGKILL the
        per-connection sshd processes, so the client sees the TCP connection die mid-stream.
        Returns how many processes were killed."""
        pids = self.session_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)

    def stall_sessions(self) -> int:
        """Freeze the open connections (SIGSTOP): the server neither answers nor hangs up,
        like a link that silently stopped carrying packets. :meth:`kill_sessions` ends them."""
        pids = self.session_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        return len(pids)

    @contextlib.contextmanager
    def dropping_connections(self) -> Iterator[list[int]]:
        """While the block runs, the server accepts every connection and then drops it:
        each per-connection sshd is SIGKILLed as soon as it appears (a crashing or
        overloaded server, a firewall cutting sessions). Yields the pids killed so far."""
        killed: list[int] = []
        stop = threading.Event()

        def cut() -> None:
            while not stop.is_set():
                for pid in self.session_pids():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                time.sleep(0.002)

        thread = threading.Thread(target=cut, name="sshd-cutter", daemon=True)
        thread.start()
        try:
            yield killed
        finally:
            stop.set()
            thread.join()

    def known_hosts_line(self, key_file: Path | None = None) -> str:
        """A known_hosts line for this server with the given (default: the real) host key."""
        return f"[{self.host}]:{self.port} {public_key(key_file or self.host_key)}\n"

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


def _config(root: Path, port: int, user: str) -> Path:
    cfg = root / "sshd_config"
    cfg.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {root / 'ssh_host_ed25519_key'}",
                f"PidFile {root / 'sshd.pid'}",
                f"AuthorizedKeysFile {root / 'authorized_keys'}",
                f"AllowUsers {user}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                # Tests run as root in CI; key-only root login is what that needs.
                "PermitRootLogin prohibit-password",
                "StrictModes no",
                "UsePAM no",
                "Subsystem sftp internal-sftp",
                "MaxStartups 100",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    return cfg


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Block until sshd answers with its SSH banner, or fail with its log."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not accept connections within {START_TIMEOUT}s:\n"
                       f"{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the listener and every session it forked (sessions outlive a SIGTERM'd listener)."""
    # Sessions first, while the listener is alive to reap them (no zombies left for init).
    for pid in _descendants(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def sshd_server(root: Path) -> Iterator[SshServer]:
    """Run ``sshd -D -e`` on a free 127.0.0.1 port until the block exits."""
    _require_openssh()
    root.mkdir(parents=True, exist_ok=True)
    if not PRIVSEP_DIR.exists():
        try:
            PRIVSEP_DIR.mkdir(mode=0o755, parents=True)
        except OSError as exc:
            pytest.skip(f"sshd needs {PRIVSEP_DIR} and it cannot be created ({exc}); "
                        f"run `mkdir -p {PRIVSEP_DIR}` as root")
    # The real account of this uid (getpass.getuser() trusts $USER, which CI may not set
    # truthfully); as root, PermitRootLogin prohibit-password allows exactly key logins.
    user = pwd.getpwuid(os.getuid()).pw_name
    host_key = keygen(root / "ssh_host_ed25519_key", comment="ccgi-test-host")
    client_key = keygen(root / "client_key")
    encrypted_key = keygen(root / "client_key_encrypted", passphrase=KEY_PASSPHRASE)
    (root / "authorized_keys").write_text(
        f"{public_key(client_key)} client\n{public_key(encrypted_key)} encrypted\n"
    )
    log = root / "sshd.log"
    last_error: Exception | None = None
    # A free port can be taken between probing and binding; try a few before giving up.
    for _ in range(3):
        port = _free_port()
        cfg = _config(root, port, user)
        with open(log, "wb") as log_fh:
            proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(cfg)],
                                    stdin=subprocess.DEVNULL, stdout=log_fh,
                                    stderr=subprocess.STDOUT)
        try:
            _wait_ready(proc, port, log)
        except RuntimeError as exc:
            _stop(proc)
            last_error = exc
            continue
        known_hosts = root / "known_hosts"
        server = SshServer(host="127.0.0.1", port=port, user=user, root=root,
                           known_hosts=known_hosts, client_key=client_key,
                           encrypted_key=encrypted_key, host_key=host_key, log=log, proc=proc)
        known_hosts.write_text(server.known_hosts_line())
        try:
            yield server
        finally:
            _stop(proc)
        return
    raise RuntimeError(f"could not start sshd: {last_error}")
