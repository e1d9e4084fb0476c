"""The session registry file, ``<data dir>/logs/sessions.sqlite``, shared by every process.

It holds two things with one lifetime and one home: the server-side sessions
(:mod:`ccgi_dash.accounts.sessions`) and the failed sign-ins and locks
(:mod:`ccgi_dash.accounts.lockout`). This module owns the file: its schema and one
transaction per step. Deleting the file signs everybody out and forgets locks; it is
recreated as needed."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from ccgi_dash.store import DataDir, default_data_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_hash   TEXT PRIMARY KEY,
    username  TEXT NOT NULL,
    epoch     INTEGER NOT NULL,
    created   REAL NOT NULL,
    last_seen REAL NOT NULL,
    expires   REAL NOT NULL,
    ended     REAL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (username);
CREATE TABLE IF NOT EXISTS login_failures (
    name_hash TEXT NOT NULL,
    at        REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_by_name ON login_failures (name_hash, at);
CREATE TABLE IF NOT EXISTS login_locks (
    name_hash    TEXT PRIMARY KEY,
    locked_at    REAL NOT NULL,
    locked_until REAL NOT NULL
);
"""


def registry_path(data_dir: DataDir | None = None) -> Path:
    return (data_dir or DataDir(default_data_dir())).logs / "sessions.sqlite"


class Registry:
    """One SQLite file of sessions and failed sign-ins.

    A connection per operation (cheap for SQLite) keeps it safe from any thread; WAL lets
    readers and a writer work at once, and ``BEGIN IMMEDIATE`` makes each read-then-write
    step atomic across processes. It must live on a local disk (WAL needs shared memory)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside ``BEGIN IMMEDIATE``: committed on success, rolled back on any
        exception. The schema is created on first use in this process."""
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        try:
            if not self._ready:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
                self._ready = True
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()


_registries_lock = threading.Lock()
_registries: dict[Path, Registry] = {}


def registry(data_dir: DataDir | None = None) -> Registry:
    """The registry of a data directory (one object per path, so its schema is set up once
    per process)."""
    path = registry_path(data_dir)
    with _registries_lock:
        return _registries.setdefault(path, Registry(path))
