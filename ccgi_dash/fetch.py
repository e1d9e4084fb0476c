"""Pull new drop files from the COE's CCGI sFTP folder into ``<data dir>/inbox``.

CCGI delivers each weekly drop as files in an sFTP folder: ``<dataset>_<YYYYMMDD>.csv``
(:data:`~ccgi_dash.datasets.FILE_RE`) or one ``ccgi_drop_<YYYYMMDD>.zip``
(:data:`~ccgi_dash.datasets.ZIP_RE`). :func:`fetch` copies the ones not fetched before into the
inbox, where the loader picks them up. It is built to run unattended from cron or a systemd
timer, so every failure either heals itself on the next run or stops with a message a person
can act on:

* **The server's identity is checked, never assumed.** Its host key must already be in the
  ``known_hosts`` file named in ``settings.toml`` ``[sftp]``; an unknown key is refused (with
  the command to trust it deliberately) and a *changed* key is refused loudly, because that is
  what a man-in-the-middle looks like. Nothing is ever added to known_hosts automatically.
* **Only new files are downloaded.** ``logs/fetched.jsonl`` records each fetched file's remote
  name, size and modification time; a file seen before with the same three is skipped, and a
  file CCGI re-uploads (new size or time) is fetched again.
* **The loader never sees half a file.** A download goes to ``inbox/.partial/<name>.<size>-
  <mtime>.part`` (a hidden folder and a name no drop pattern matches), is checked against the
  remote size, fsynced, and only then renamed to ``inbox/<name>`` in one atomic step.
* **A dropped connection costs little.** The transfer is retried ``retries`` times with a short
  backoff, reconnecting each time and resuming from the partial file's size; a run that still
  fails leaves the partial file hidden, and the next run resumes it. The size and time are in
  the partial's name so a partial of a file CCGI has since replaced is never resumed into a
  mix of two files.
* **Remote files are left alone** unless ``delete_remote = true``, and then removed only after
  a verified download.
* **The console stays readable.** paramiko logs a full traceback each time a connection
  breaks; those lines go to ``logs/fetch.log`` (see :func:`paramiko_log`), never to the
  console, and a run ends with one summary (printed by the caller, not here).

Secrets never come from settings.toml (it may be shown or committed). They are read from the
environment, see :meth:`FetchSecrets.from_env`:

``CCGI_SFTP_PASSWORD``
    The sFTP password, if CCGI gave you a password login (also used for keyboard-interactive).
``CCGI_SFTP_KEY_PASSPHRASE``
    The passphrase of ``[sftp] key_file``, if that private key is encrypted.

Neither is ever written to a log, a report, an exception message or a ``repr``.

Relative ``known_hosts`` and ``key_file`` paths are taken relative to the data directory, so a
cron job does not depend on the directory it happens to start in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

from ccgi_dash.datasets import FILE_RE, ZIP_RE
from ccgi_dash.locking import FetchLock, LockHeld
from ccgi_dash.reader import hash_files
from ccgi_dash.settings import SftpSettings
from ccgi_dash.store import DataDir, append_jsonl, fsync_dir, now_iso, read_jsonl

ENV_PASSWORD = "CCGI_SFTP_PASSWORD"  # noqa: S105 - the variable's name, not a password
ENV_KEY_PASSPHRASE = "CCGI_SFTP_KEY_PASSPHRASE"  # noqa: S105 - likewise

PARTIAL_DIR = ".partial"
"""Sub-folder of the inbox holding downloads in progress; the loader never looks inside."""
LEDGER_NAME = "fetched.jsonl"
"""File in ``logs/`` recording every verified download."""
LOG_NAME = "fetch.log"
"""File in ``logs/`` receiving paramiko's own log lines (its tracebacks included)."""
BACKOFF_BASE = 1.0
"""Seconds before the first retry; doubled for each further one (tests shorten it)."""
BACKOFF_MAX = 30.0
CHUNK = 1 << 20
"""Bytes read per call; paramiko pipelines the 32 KiB sFTP requests underneath."""


class FetchError(Exception):
    """Fetching cannot proceed; the message says why and what to do. Callers print it."""


class FetchConfigError(FetchError):
    """A missing or unusable setting or secret (names the setting or variable)."""


class HostKeyUnknown(FetchError):
    """The server's key is not in known_hosts; the message says how to trust it."""


class HostKeyChanged(FetchError):
    """The server's key differs from the one in known_hosts: possibly an attack."""


class AuthError(FetchError):
    """The server refused our credentials."""


class ConnectError(FetchError):
    """The server could not be reached (after the configured retries)."""


class FetchBusy(FetchError):
    """Another fetch of the same data directory is running (names its pid)."""


@dataclass(frozen=True)
class FetchSecrets:
    """Credentials that never live in settings.toml (``repr`` hides them)."""

    password: str | None = field(default=None, repr=False)
    key_passphrase: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FetchSecrets:
        """Read ``CCGI_SFTP_PASSWORD`` and ``CCGI_SFTP_KEY_PASSPHRASE``; empty means unset."""
        env = os.environ if environ is None else environ
        return cls(password=env.get(ENV_PASSWORD) or None,
                   key_passphrase=env.get(ENV_KEY_PASSPHRASE) or None)


@dataclass(frozen=True)
class FetchedFile:
    """One file moved into the inbox by this run."""

    name: str
    size: int
    sha256: str
    resumed_from: int = 0
    """Bytes already on disk from an earlier, interrupted attempt (0: downloaded whole)."""
    attempts: int = 1


@dataclass
class FetchReport:
    """What one :func:`fetch` run did; ``errors`` empty means everything new arrived."""

    fetched: list[FetchedFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Drop files already fetched earlier (same name, size and modification time)."""
    ignored: list[str] = field(default_factory=list)
    """Remote entries that are not drop files (other names, folders); never downloaded."""
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Names of drop files that could not be fetched this run (details in ``errors``)."""
    deleted: list[str] = field(default_factory=list)
    """Remote files removed because ``delete_remote`` is true."""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        size = sum(f.size for f in self.fetched)
        text = (f"fetched {len(self.fetched)} file(s) ({size:,} bytes), skipped "
                f"{len(self.skipped)} already fetched, ignored {len(self.ignored)} other "
                f"name(s)")
        if self.deleted:
            text += f", deleted {len(self.deleted)} remote file(s)"
        if self.errors:
            text += f", {len(self.errors)} error(s)"
        return text + f" in {self.seconds:.1f}s"


def ledger_path(data_dir: DataDir) -> Path:
    return data_dir.logs / LEDGER_NAME


def partial_dir(data_dir: DataDir) -> Path:
    return data_dir.inbox / PARTIAL_DIR


# --- configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    username: str
    remote_dir: str
    known_hosts: Path
    key: paramiko.PKey | None = field(repr=False)
    password: str | None = field(repr=False)
    timeout: float
    attempts: int
    delete_remote: bool

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def known_hosts_name(self) -> str:
        """How OpenSSH (and paramiko) name this server in known_hosts."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"


def _local_path(data_dir: DataDir, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else data_dir.root / path


def _load_key(path: Path, passphrase: str | None) -> paramiko.PKey:
    """Load a private key, turning paramiko/cryptography's varied errors into advice."""
    setting = f"[sftp] key_file = {str(path)!r} in settings.toml"
    if not path.is_file():
        raise FetchConfigError(f"the private key file does not exist ({setting})")
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        return paramiko.PKey.from_path(path, password=secret)
    except TypeError:
        if secret is None:
            raise FetchConfigError(f"the private key {path} is protected by a passphrase: set "
                                   f"the environment variable {ENV_KEY_PASSPHRASE}") from None
    except paramiko.UnknownKeyType:
        raise FetchConfigError(f"the private key {path} is of a type paramiko cannot use; "
                               "use an Ed25519, ECDSA or RSA key") from None
    except PermissionError:
        raise FetchConfigError(f"the private key {path} cannot be read by this user") from None
    except (ValueError, paramiko.SSHException):
        if secret is not None:
            raise FetchConfigError(f"cannot decrypt the private key {path}: is "
                                   f"{ENV_KEY_PASSPHRASE} the right passphrase?") from None
        raise FetchConfigError(f"{path} is not a private key in OpenSSH or PEM format "
                               f"({setting})") from None
    # A passphrase was given for an unencrypted key: harmless, load it without.
    try:
        return paramiko.PKey.from_path(path)
    except (TypeError, ValueError, paramiko.SSHException) as exc:
        raise FetchConfigError(f"cannot load the private key {path}: {exc}") from None


def _target(data_dir: DataDir, sftp: SftpSettings, secrets: FetchSecrets) -> _Target:
    """Check settings and secrets before touching the network, naming what to fix."""
    where = "in settings.toml [sftp]"
    if not sftp.host.strip():
        raise FetchConfigError(f"no sFTP server configured: set host {where} (the address "
                               "CCGI gave you)")
    if not sftp.username.strip():
        raise FetchConfigError(f"no sFTP user configured: set username {where}")
    if not sftp.known_hosts.strip():
        raise FetchConfigError(
            f"no known_hosts file configured: set known_hosts {where} to a file holding the "
            f"server's host key, e.g. created with `ssh-keyscan -p {sftp.port} {sftp.host} > "
            f"known_hosts` and checked against the fingerprint CCGI gave you")
    known_hosts = _local_path(data_dir, sftp.known_hosts)
    if not known_hosts.is_file():
        raise FetchConfigError(
            f"the known_hosts file {known_hosts} (known_hosts {where}) does not exist; create "
            f"it with `ssh-keyscan -p {sftp.port} {sftp.host} > {known_hosts}`, then compare "
            f"the fingerprint (`ssh-keygen -lf {known_hosts}`) with the one CCGI gave you")
    if not 1 <= sftp.port <= 65535:
        raise FetchConfigError(f"port {where} must be between 1 and 65535")
    key = None
    if sftp.key_file.strip():
        key = _load_key(_local_path(data_dir, sftp.key_file), secrets.key_passphrase)
    if key is None and not secrets.password:
        raise FetchConfigError(
            f"no sFTP credentials: set key_file {where} to a private key CCGI has on file, or "
            f"set the environment variable {ENV_PASSWORD}")
    return _Target(
        host=sftp.host.strip(), port=sftp.port, username=sftp.username.strip(),
        remote_dir=sftp.remote_dir or ".", known_hosts=known_hosts, key=key,
        password=secrets.password, timeout=max(1.0, float(sftp.timeout_seconds)),
        attempts=1 + max(0, int(sftp.retries)), delete_remote=sftp.delete_remote,
    )


# --- host keys --------------------------------------------------------------------------------


def _unknown_message(t: _Target, key: paramiko.PKey) -> str:
    return (
        f"Refusing to connect: the sFTP server {t.where} is not in the known_hosts file "
        f"{t.known_hosts}, so it cannot be told apart from an impostor. It offered a "
        f"{key.get_name()} key with fingerprint {key.fingerprint}. To trust it deliberately: "
        f"`ssh-keyscan -p {t.port} {t.host} >> {t.known_hosts}`, then compare the fingerprint "
        f"(`ssh-keygen -lf {t.known_hosts}`) with the one CCGI gave you, and remove the line "
        f"again if they differ."
    )


def _changed_message(t: _Target, exc: paramiko.BadHostKeyException) -> str:
    return (
        f"WARNING: THE IDENTITY OF THE sFTP SERVER {t.where} HAS CHANGED. Connection refused, "
        f"nothing was downloaded. It presented a {exc.key.get_name()} key with fingerprint "
        f"{exc.key.fingerprint}, but {t.known_hosts} expects {exc.expected_key.get_name()} "
        f"{exc.expected_key.fingerprint}. Someone may be intercepting the connection "
        f"(man-in-the-middle), or CCGI may have replaced the server's key. Do not simply accept "
        f"the new key: ask CCGI, by phone or another channel you trust, for the server's current "
        f"fingerprint. Only if it matches, remove the old line with `ssh-keygen -R "
        f"'{t.known_hosts_name}' -f {t.known_hosts}` and add the new one with `ssh-keyscan -p "
        f"{t.port} {t.host} >> {t.known_hosts}`."
    )


class _RejectUnknown(paramiko.RejectPolicy):
    """RejectPolicy with a message that tells a person how to trust the server on purpose."""

    def __init__(self, target: _Target) -> None:
        self.target = target

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> None:
        raise HostKeyUnknown(_unknown_message(self.target, key))


# --- connection ---------------------------------------------------------------------------------


_TRANSIENT: tuple[type[BaseException], ...] = (OSError, EOFError, paramiko.SSHException)
"""Errors worth a reconnect and retry: network drops, timeouts, a server that went away."""


class _Unreachable(Exception):
    """Connecting failed for a reason that may pass (wraps the transient error)."""


class _Connection:
    """One SSH connection with its sFTP session, re-opened on demand after a failure."""

    def __init__(self, target: _Target) -> None:
        self.t = target
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def sftp(self) -> paramiko.SFTPClient:
        """The open session, reconnecting if the last one broke."""
        transport = self._client.get_transport() if self._client else None
        channel = self._sftp.get_channel() if self._sftp else None
        if (self._sftp is not None and transport is not None and transport.is_active()
                and channel is not None and not channel.closed):
            return self._sftp
        self.close()
        self._sftp = self._connect()
        return self._sftp

    def _connect(self) -> paramiko.SFTPClient:
        t = self.t
        client = paramiko.SSHClient()
        try:
            # Only the configured file: the machine's ~/.ssh/known_hosts is not consulted.
            client.load_host_keys(str(t.known_hosts))
        except (OSError, paramiko.SSHException, ValueError) as exc:
            client.close()
            raise FetchConfigError(f"cannot read the known_hosts file {t.known_hosts} "
                                   f"(known_hosts in settings.toml [sftp]): {exc}") from None
        client.set_missing_host_key_policy(_RejectUnknown(t))
        try:
            client.connect(
                t.host, port=t.port, username=t.username, password=t.password, pkey=t.key,
                timeout=t.timeout, banner_timeout=t.timeout, auth_timeout=t.timeout,
                channel_timeout=t.timeout, allow_agent=False, look_for_keys=False,
            )
            sftp = client.open_sftp()
            # Without this a server that stops answering mid-file would hang the job forever.
            sftp.get_channel().settimeout(t.timeout)
        except FetchError:
            client.close()
            raise
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyChanged(_changed_message(t, exc)) from None
        except paramiko.AuthenticationException as exc:
            # A server that drops the connection during sign-in makes paramiko raise this
            # too; only a refusal over a live connection is about the credentials.
            transport = client.get_transport()
            dropped = transport is None or not transport.is_active()
            client.close()
            if dropped:
                raise _Unreachable("the server closed the connection during sign-in "
                                   f"({type(exc).__name__})") from exc
            how = "the private key (key_file)" if t.key else ""
            if t.password:
                how += (" or " if how else "") + f"the password ({ENV_PASSWORD})"
            raise AuthError(f"the sFTP server {t.where} refused user {t.username!r} with "
                            f"{how}: {type(exc).__name__}. Check the user name and "
                            f"credentials with CCGI.") from None
        except _TRANSIENT as exc:
            client.close()
            raise _Unreachable(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:
            client.close()
            raise
        self._client = client
        return sftp

    def close(self) -> None:
        sftp, client = self._sftp, self._client
        self._sftp = self._client = None
        if sftp is not None:
            with contextlib.suppress(Exception):
                sftp.close()
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempt - 1)))


# --- listing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Remote:
    name: str
    size: int
    mtime: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.name, self.size, self.mtime)


def _is_drop_name(name: str) -> bool:
    return bool(FILE_RE.match(name) or ZIP_RE.match(name))


def _list(sftp: paramiko.SFTPClient, t: _Target) -> tuple[list[_Remote], list[str]]:
    """Drop files in the remote folder, and the names that are not drop files."""
    try:
        entries = sftp.listdir_attr(t.remote_dir)
    except FileNotFoundError:
        raise FetchConfigError(f"the folder {t.remote_dir!r} does not exist on {t.where} "
                               "(remote_dir in settings.toml [sftp])") from None
    except PermissionError:
        raise FetchConfigError(f"user {t.username!r} may not list {t.remote_dir!r} on "
                               f"{t.where} (remote_dir in settings.toml [sftp])") from None
    drops, ignored = [], []
    for attr in sorted(entries, key=lambda a: a.filename):
        name = attr.filename
        if name in (".", ".."):
            continue
        mode = attr.st_mode or 0
        target = attr
        if stat.S_ISLNK(mode):
            try:
                target = sftp.stat(posixpath.join(t.remote_dir, name))
                mode = target.st_mode or 0
            except OSError:
                ignored.append(name)
                continue
        if not _is_drop_name(name) or (mode and not stat.S_ISREG(mode)):
            ignored.append(name)
            continue
        drops.append(_Remote(name, int(target.st_size or 0), int(target.st_mtime or 0)))
    return drops, ignored


# --- one file ---------------------------------------------------------------------------------


class _RemoteChanged(Exception):
    """The remote file changed while we downloaded it (CCGI still uploading?)."""


class _Incomplete(Exception):
    """The transfer ended short without an error (a dropped connection looks like EOF)."""


def _part_path(data_dir: DataDir, r: _Remote) -> Path:
    return partial_dir(data_dir) / f"{r.name}.{r.size}-{r.mtime}.part"


def _discard_stale_partials(data_dir: DataDir, r: _Remote) -> None:
    """Partials of an older version of this file must not be resumed into the new one."""
    keep = _part_path(data_dir, r)
    prefix = f"{r.name}."
    for p in partial_dir(data_dir).iterdir():
        if p.name.startswith(prefix) and p.name.endswith(".part") and p != keep:
            with contextlib.suppress(OSError):
                p.unlink()


def _transfer(sftp: paramiko.SFTPClient, remote: str, part: Path, r: _Remote) -> None:
    """Append the rest of the remote file to ``part``, from the partial file's length on."""
    offset = part.stat().st_size if part.exists() else 0
    if offset > r.size:
        part.unlink()
        offset = 0
    rf = sftp.open(remote, "rb")
    try:
        rf.seek(offset)
        if offset < r.size:
            # Pipelined reads: one request per round trip would crawl over a long link.
            rf.prefetch(r.size)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        with os.fdopen(fd, "ab") as out:
            got = offset
            while got <= r.size:
                chunk = rf.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                got += len(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        # The session may be dead or stalled; a polite CLOSE of the handle would wait out the
        # timeout once more. Shut the sFTP channel first so closing fails fast; the caller
        # reconnects anyway.
        with contextlib.suppress(Exception):
            sftp.close()
        with contextlib.suppress(Exception):
            rf.close()
        raise
    with contextlib.suppress(Exception):
        rf.close()
    if got > r.size:
        raise _RemoteChanged(f"grew beyond {r.size:,} bytes while downloading")
    if got < r.size:
        now = sftp.stat(remote)
        if (now.st_size, int(now.st_mtime or 0)) != (r.size, r.mtime):
            raise _RemoteChanged("was replaced or truncated while downloading")
        raise _Incomplete(f"transfer ended at {got:,} of {r.size:,} bytes")
    now = sftp.stat(remote)
    if (now.st_size, int(now.st_mtime or 0)) != (r.size, r.mtime):
        raise _RemoteChanged("changed while downloading")


def _fetch_one(conn: _Connection, data_dir: DataDir, r: _Remote,
               say: Callable[[str], None]) -> FetchedFile:
    t = conn.t
    remote = posixpath.join(t.remote_dir, r.name)
    part = _part_path(data_dir, r)
    _discard_stale_partials(data_dir, r)
    resumed_from = part.stat().st_size if part.exists() else 0
    last: BaseException | None = None
    for attempt in range(1, t.attempts + 1):
        have = part.stat().st_size if part.exists() else 0
        if have:
            say(f"resuming {r.name} at byte {have:,} of {r.size:,} (attempt {attempt})")
        else:
            say(f"downloading {r.name} ({r.size:,} bytes, attempt {attempt})")
        try:
            _transfer(conn.sftp(), remote, part, r)
            break
        except FetchError:
            raise
        except _RemoteChanged:
            # The bytes we have may belong to a file that no longer exists: start over later.
            with contextlib.suppress(OSError):
                part.unlink()
            raise
        except (FileNotFoundError, PermissionError):
            raise  # The remote file vanished or is unreadable: retrying will not help.
        except (_Unreachable, _Incomplete, *_TRANSIENT) as exc:
            last = exc
            conn.close()  # A broken session may hold stale responses: always start afresh.
            if attempt < t.attempts:
                delay = _backoff(attempt)
                say(f"{r.name}: {_describe(exc)}; retrying in {delay:g}s")
                time.sleep(delay)
    else:
        assert last is not None
        raise last
    size = part.stat().st_size
    if size != r.size:  # _transfer checked; this guards the file we are about to publish.
        raise _Incomplete(f"partial file has {size:,} bytes, expected {r.size:,}")
    digest = hash_files([part])
    final = data_dir.inbox / r.name
    part.replace(final)  # atomic: the loader sees no file or the whole file
    fsync_dir(data_dir.inbox)
    return FetchedFile(r.name, r.size, digest, resumed_from, attempt)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    kind = type(exc).__name__.lstrip("_")
    return f"{kind}: {text}" if text else kind


def _delete_remote(conn: _Connection, r: _Remote, report: FetchReport,
                   say: Callable[[str], None]) -> None:
    try:
        conn.sftp().remove(posixpath.join(conn.t.remote_dir, r.name))
    except FetchError:
        raise
    except (_Unreachable, *_TRANSIENT) as exc:
        report.errors.append(f"{r.name}: fetched, but could not delete it on the server "
                             f"({_describe(exc)})")
        conn.close()
        return
    report.deleted.append(r.name)
    say(f"deleted {r.name} on the server")


# --- the run ----------------------------------------------------------------------------------


@contextlib.contextmanager
def paramiko_log(data_dir: DataDir) -> Iterator[Path | None]:
    """While the block runs, paramiko's log (the ``paramiko`` logger: connection errors with
    their tracebacks, from its transport thread) goes to ``logs/fetch.log`` and nowhere else.

    Without a handler of its own, Python's last-resort handler prints every warning and
    error paramiko logs to standard error: a full traceback on each retry when a server
    drops the connection, alarming noise in a cron mail. Our own messages say what matters
    once, in the summary. Yields the log's path (None when it cannot be opened: then the
    lines are dropped rather than printed)."""
    log = logging.getLogger("paramiko")
    path: Path | None = data_dir.logs / LOG_NAME
    handler: logging.Handler
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    except OSError:
        handler, path = logging.NullHandler(), None
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        yield path
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]
        handler.close()


def fetched_ledger(data_dir: DataDir) -> set[tuple[str, int, int]]:
    """(name, size, mtime) of every file fetched so far."""
    out = set()
    for rec in read_jsonl(ledger_path(data_dir)):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            out.add((str(rec["name"]), int(rec["size"]), int(rec["mtime"])))
    return out


def fetch(data_dir: DataDir, sftp: SftpSettings, secrets: FetchSecrets, *,
          progress: Callable[[str], None] | None = None) -> FetchReport:
    """Download the drop files of the remote folder not fetched before into the inbox.

    Raises :class:`FetchError` (with a message for a person) when nothing can be fetched:
    settings or secrets missing, the server's key unknown or changed, credentials refused, the
    server unreachable after the retries, the remote folder missing, another fetch of this data
    directory running (``logs/fetch.lock``). Problems with single files
    do not raise; they are listed in :attr:`FetchReport.errors` and retried on the next run.
    paramiko's own log lines go to ``logs/fetch.log`` (:func:`paramiko_log`). The summary is
    the caller's to print (:meth:`FetchReport.summary`), once.
    """
    data_dir.logs.mkdir(parents=True, exist_ok=True)
    with paramiko_log(data_dir):
        return _fetch(data_dir, sftp, secrets, progress)


def _fetch(data_dir: DataDir, sftp: SftpSettings, secrets: FetchSecrets,
           progress: Callable[[str], None] | None) -> FetchReport:
    started = time.monotonic()
    say: Callable[[str], None] = progress or (lambda _msg: None)
    report = FetchReport()
    t = _target(data_dir, sftp, secrets)
    data_dir.inbox.mkdir(parents=True, exist_ok=True)
    data_dir.logs.mkdir(parents=True, exist_ok=True)
    partial_dir(data_dir).mkdir(mode=0o750, exist_ok=True)
    lock = FetchLock(data_dir)
    try:
        lock.acquire()
    except LockHeld as exc:
        raise FetchBusy(str(exc)) from None
    conn = _Connection(t)
    try:
        drops, report.ignored = _connect_and_list(conn, say)
        seen = fetched_ledger(data_dir)
        say(f"{len(drops)} drop file(s) on the server, {len(report.ignored)} other name(s)")
        for i, r in enumerate(drops):
            if r.key in seen:
                report.skipped.append(r.name)
                if t.delete_remote:  # Verified when it was fetched; the ledger says so.
                    _delete_remote(conn, r, report, say)
                continue
            begun = time.monotonic()
            try:
                got = _fetch_one(conn, data_dir, r, say)
            except FetchError:
                raise
            except Exception as exc:  # one file's failure must not stop the others
                report.failed.append(r.name)
                report.errors.append(f"{r.name}: {_describe(exc)}; will retry on the next run")
                say(f"{r.name}: FAILED ({_describe(exc)})")
                if isinstance(exc, _Unreachable):
                    rest = [x.name for x in drops[i + 1:] if x.key not in seen]
                    report.failed.extend(rest)
                    report.errors.append(f"lost the connection to {t.where} and could not "
                                         f"reconnect; {len(rest)} more file(s) left for the "
                                         f"next run")
                    break
                continue
            append_jsonl(ledger_path(data_dir), _ledger_record(t, r, got, begun))
            seen.add(r.key)
            report.fetched.append(got)
            say(f"fetched {r.name} ({r.size:,} bytes"
                + (f", resumed at byte {got.resumed_from:,}" if got.resumed_from else "")
                + ")")
            if t.delete_remote:
                _delete_remote(conn, r, report, say)
    finally:
        conn.close()
        lock.release()
        report.seconds = round(time.monotonic() - started, 3)
    return report


def _connect_and_list(conn: _Connection,
                      say: Callable[[str], None]) -> tuple[list[_Remote], list[str]]:
    t = conn.t
    for attempt in range(1, t.attempts + 1):
        say(f"connecting to {t.where} as {t.username}")
        try:
            return _list(conn.sftp(), t)
        except FetchError:
            raise
        except (_Unreachable, *_TRANSIENT) as exc:
            conn.close()
            if attempt == t.attempts:
                raise ConnectError(f"cannot reach the sFTP server {t.where} after {attempt} "
                                   f"attempt(s): {_describe(exc)}. Check host and port in "
                                   f"settings.toml [sftp] and the network.") from None
            delay = _backoff(attempt)
            say(f"{_describe(exc)}; retrying in {delay:g}s")
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _ledger_record(t: _Target, r: _Remote, got: FetchedFile, begun: float) -> dict[str, Any]:
    return {
        "name": r.name, "size": r.size, "mtime": r.mtime, "fetched_at": now_iso(),
        "sha256": got.sha256, "host": t.host, "port": t.port, "remote_dir": t.remote_dir,
        "attempts": got.attempts, "resumed_from": got.resumed_from,
        "seconds": round(time.monotonic() - begun, 3),
    }
