"""The project's one file lock: two syncs, two loads or two ``users`` commands never overlap.

A sync may be started by cron, by a systemd timer and by a person at the same moment; two of
them fetching into the same inbox, or loading the same drop twice, would race; two operators
editing the users file at once would lose a change. Each holds an exclusive ``fcntl.flock`` on
a lock file while it runs:

* ``logs/sync.lock`` — :class:`SyncLock`, held for a whole fetch + load;
* ``logs/load.lock`` — :func:`load_lock`, held by the loader so two ingests never overlap,
  whoever started them;
* ``logs/fetch.lock`` — :class:`FetchLock`, held by ``fetch()`` itself (inside a sync, or
  alone), so two downloads never write the same partial file;
* ``<users file>.lock`` — :class:`UsersLock`, held by ``ccgi_dash.accounts.users`` while it
  reads, changes and replaces the users file.

The scheduled jobs never wait (a job that finds the previous one still running says so and
stops); a ``users`` command is quick, so the next one waits its turn for a few seconds
(``acquire(wait=...)``).

Why ``flock`` and not a pid file: the kernel releases the lock when the holding process dies,
however it dies (``kill -9``, OOM, power loss), so there is never a stale lock to clean up by
hand. The pid written into the file is only there to tell a person *who* holds it.

The lock file is never deleted: deleting it while another process waits on it would let two
processes lock two different files of the same name. A lock is held by an open file, so a
child started with ``fork`` (not ``subprocess``, whose children do not inherit it) shares it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from ccgi_dash.store import DataDir, now_iso


class LockHeld(RuntimeError):
    """Another process holds the lock; the message names its pid and the lock file."""

    def __init__(self, message: str, pid: int | None, path: Path) -> None:
        super().__init__(message)
        self.pid = pid
        self.path = path


class FileLock:
    """An exclusive, process-wide lock on one file, usable with ``with``.

    Acquiring does not wait unless asked to (``acquire(wait=seconds)``): a scheduled job that
    finds the previous one still running should say so and stop, not pile up behind it.
    """

    purpose = "job"
    """What the lock protects, for messages ("another sync is running ...")."""
    mode = 0o644
    """Permissions of a newly created lock file (it holds only a pid and a time)."""
    poll_seconds = 0.01
    """How often a waiting :meth:`acquire` retries."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> int | None:
        """The pid recorded in the lock file (meaningful only while someone holds it)."""
        try:
            first = self.path.read_text(encoding="utf-8").split("\n", 1)[0].strip()
        except OSError:
            return None
        return int(first) if first.isdigit() else None

    def acquire(self, wait: float = 0.0) -> FileLock:
        """Take the lock, retrying for up to ``wait`` seconds, or raise :class:`LockHeld`.

        ``wait=0`` (the default) tries once. Waiting polls rather than blocking in ``flock``,
        so the wait has a deadline and no signal handling is needed."""
        if self._fd is not None:
            raise LockHeld(f"this {self.purpose} lock ({self.path}) is already held by this "
                           "process", os.getpid(), self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, self.mode)
        deadline = time.monotonic() + max(wait, 0.0)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(self.poll_seconds)
        except BlockingIOError:
            os.close(fd)
            pid = self.holder()
            who = f"pid {pid}" if pid else "a process that has not yet written its pid"
            raise LockHeld(
                f"another {self.purpose} is already running ({who}; lock file {self.path}). "
                f"Wait for it to finish; the lock is released automatically when that "
                f"process exits, even if it is killed.",
                pid,
                self.path,
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # Record who we are for the next contender's message. Truncate first: the previous
        # holder's longer pid must not leave digits behind.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{now_iso()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock up (idempotent). The file stays; see the module docstring."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> FileLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, held={self.held})"


def _logs(data_dir: DataDir | Path) -> Path:
    dd = data_dir if isinstance(data_dir, DataDir) else DataDir(Path(data_dir))
    return dd.logs


class SyncLock(FileLock):
    """``logs/sync.lock``: one fetch-and-load of a data directory at a time."""

    purpose = "sync"

    def __init__(self, data_dir: DataDir | Path) -> None:
        super().__init__(_logs(data_dir) / "sync.lock")


class LoadLock(FileLock):
    """``logs/load.lock``: one ingest of a data directory at a time."""

    purpose = "load"

    def __init__(self, data_dir: DataDir | Path) -> None:
        super().__init__(_logs(data_dir) / "load.lock")


class FetchLock(FileLock):
    """``logs/fetch.lock``: taken by :func:`ccgi_dash.fetch.fetch` itself, so even two fetches
    started outside a sync cannot append to the same partial download."""

    purpose = "fetch"

    def __init__(self, data_dir: DataDir | Path) -> None:
        super().__init__(_logs(data_dir) / "fetch.lock")


def sync_lock(data_dir: DataDir | Path) -> SyncLock:
    """The sync lock of a data directory (not yet acquired: use it in ``with``)."""
    return SyncLock(data_dir)


def load_lock(data_dir: DataDir | Path) -> LoadLock:
    """The load lock of a data directory (not yet acquired: use it in ``with``)."""
    return LoadLock(data_dir)


class UsersLock(FileLock):
    """``<users file>.lock``: one change of the users file at a time.

    A second ``users`` command waits for the first (:meth:`acquire` with ``wait``) instead
    of failing, since each holds the lock for a fraction of a second. Created ``0600``: it
    sits beside a file of password hashes and is nobody else's business."""

    purpose = "`users` command"
    mode = 0o600

    def __init__(self, users_file: Path) -> None:
        users_file = Path(users_file)
        super().__init__(users_file.with_name(users_file.name + ".lock"))
