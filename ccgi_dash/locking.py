"""Keep two syncs (or two loads) of one data directory from running at the same time.

A sync may be started by cron, by a systemd timer and by a person at the same moment; two of
them fetching into the same inbox, or loading the same drop twice, would race. Each holds an
exclusive ``fcntl.flock`` on a file in ``<data dir>/logs/`` while it runs:

* ``logs/sync.lock`` — :class:`SyncLock`, held for a whole fetch + load;
* ``logs/load.lock`` — :func:`load_lock`, held by the loader so two ingests never overlap,
  whoever started them;
* ``logs/fetch.lock`` — :class:`FetchLock`, held by ``fetch()`` itself (inside a sync, or
  alone), so two downloads never write the same partial file.

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
    """A non-blocking, exclusive, process-wide lock on one file, usable with ``with``.

    Acquiring never waits: a scheduled job that finds the previous one still running should
    say so and stop, not pile up behind it.
    """

    purpose = "job"
    """What the lock protects, for messages ("another sync is running ...")."""

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

    def acquire(self) -> FileLock:
        """Take the lock or raise :class:`LockHeld` at once."""
        if self._fd is not None:
            raise LockHeld(f"this {self.purpose} lock ({self.path}) is already held by this "
                           "process", os.getpid(), self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
