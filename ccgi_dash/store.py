"""Where loaded data lives, and how a reader and a writer never meet.

DuckDB lets one process write a database file, or many read it. So no file is ever written
after it is published:

* each load builds **one new DuckDB file for its drop** (``warehouse/drops/<date>-<id>.duckdb``)
  under a temporary name, fsyncs it and renames it into place;
* the **manifest** (``warehouse/manifest.json``) lists the published drops; it is replaced
  atomically (write, fsync, ``os.replace``), and that replace is the commit of a load;
* readers open an in-memory DuckDB, ``ATTACH`` every drop of the manifest ``READ_ONLY``, and
  see a ``student_facts`` union for trends. A load never touches an attached file, so the app
  and a load never block each other, and a load killed at any moment leaves the manifest (and
  what is served) as it was.

A load's cost does not grow with history: it writes one file and rewrites a small manifest;
it reads only the previous drop's per-district counts, which the manifest carries.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

MANIFEST_VERSION = 1
_ALIAS_RE = re.compile(r"^d\d{8}$")
_FILE_RE = re.compile(r"^\d{8}-[0-9a-f]{12}\.duckdb$")


def default_data_dir() -> Path:
    """The real data: ``CCGI_DATA_DIR`` if set, else ``data/`` in the working directory."""
    return Path(os.environ.get("CCGI_DATA_DIR", "data"))


def demo_data_dir() -> Path:
    """The synthetic demo: a data directory of its own (``CCGI_DEMO_DIR``, else
    ``data/demo``), so that nothing a demo visitor does can read real data."""
    return Path(os.environ.get("CCGI_DEMO_DIR", "data/demo"))


@dataclass(frozen=True)
class DataDir:
    """The folders of one data directory (real data and the demo each have their own)."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def drops(self) -> Path:
        return self.warehouse / "drops"

    @property
    def manifest(self) -> Path:
        return self.warehouse / "manifest.json"

    @property
    def raw(self) -> Path:
        """Every loaded drop's files, as received, so the database can be rebuilt."""
        return self.root / "raw"

    @property
    def quarantine(self) -> Path:
        """Rejected drops, untouched, each with a REASON.txt."""
        return self.root / "quarantine"

    @property
    def inbox(self) -> Path:
        """Where ``fetch`` puts new files for ``sync`` to load."""
        return self.root / "inbox"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def load_log(self) -> Path:
        return self.logs / "loads.jsonl"

    @property
    def audit_log(self) -> Path:
        return self.logs / "audit.jsonl"

    @property
    def backfill(self) -> Path:
        """How far a newest-first load (the demo's backfill) got: see :func:`write_backfill`."""
        return self.root / "backfill.json"

    def ensure(self) -> None:
        for p in (self.drops, self.raw, self.quarantine, self.inbox, self.logs):
            p.mkdir(parents=True, exist_ok=True)

    def new_drop_file(self, drop: date) -> Path:
        """A fresh, never-used file name for a drop's database."""
        return self.drops / f"{drop:%Y%m%d}-{uuid.uuid4().hex[:12]}.duckdb"


@dataclass
class DropEntry:
    """What the manifest records of one published drop."""

    drop_date: str
    file: str
    loaded_at: str
    sha256: str
    rows: dict[str, int]
    rejects: int
    warnings: list[str]
    district_counts: dict[str, int]
    school_year: str = ""
    override: str = ""

    @property
    def date(self) -> date:
        return date.fromisoformat(self.drop_date)


@dataclass
class Manifest:
    version: int = 0
    county_code: str = ""
    drops: list[DropEntry] = field(default_factory=list)

    def latest(self) -> DropEntry | None:
        return self.drops[-1] if self.drops else None

    def find(self, drop: date) -> DropEntry | None:
        iso = drop.isoformat()
        return next((d for d in self.drops if d.drop_date == iso), None)

    def to_json(self) -> str:
        return json.dumps(
            {"format": MANIFEST_VERSION, "version": self.version,
             "county_code": self.county_code, "drops": [asdict(d) for d in self.drops]},
            indent=1,
        )


def read_manifest(dd: DataDir) -> Manifest:
    """The published state; a missing manifest is an empty warehouse."""
    try:
        raw = json.loads(dd.manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Manifest()
    drops = [DropEntry(**d) for d in raw.get("drops", [])]
    drops.sort(key=lambda d: d.drop_date)
    return Manifest(raw.get("version", 0), raw.get("county_code", ""), drops)


_VERSIONS: dict[tuple[str, int, int, int], int] = {}


def manifest_version(dd: DataDir) -> int:
    """The published manifest's version, parsed only when the file changed.

    The manifest is only ever replaced by rename, so its inode, size and mtime identify its
    content; the app asks for the version on every data call and pays a ``stat`` for it.
    """
    try:
        st = dd.manifest.stat()
    except FileNotFoundError:
        return 0
    key = (str(dd.manifest), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _VERSIONS:
        if len(_VERSIONS) > 64:
            _VERSIONS.clear()
        _VERSIONS[key] = read_manifest(dd).version
    return _VERSIONS[key]


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (the directory entry itself)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so that readers see either the old or the new content, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def publish_drop_file(tmp: Path, final: Path) -> None:
    """Move a finished drop database into place durably (the data before the manifest)."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    fsync_dir(final.parent)


def commit_manifest(dd: DataDir, manifest: Manifest) -> None:
    """The single commit point of a load: replace the manifest atomically."""
    manifest.version += 1
    atomic_write_text(dd.manifest, manifest.to_json())


def collect_garbage(dd: DataDir, manifest: Manifest, min_age_seconds: float = 3600) -> list[Path]:
    """Remove drop files no manifest names (left by killed loads), once they are old enough
    that no reader can still be opening them."""
    keep = {d.file for d in manifest.drops}
    removed = []
    now = time.time()
    if not dd.drops.exists():
        return removed
    for p in dd.drops.iterdir():
        if p.name in keep:
            continue
        if now - p.stat().st_mtime < min_age_seconds:
            continue
        with contextlib.suppress(OSError):
            p.unlink()
            removed.append(p)
    return removed


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line (the load log, the audit log); O_APPEND keeps lines whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


ERROR_LOG = "errors.log"
"""File in ``logs/`` holding the tracebacks of unexpected errors (the console gets one line)."""


def log_error(logs: Path, exc: BaseException, context: str) -> Path:
    """Append ``exc``'s traceback to ``<logs>/errors.log`` and return the log's path.

    Where ``logs`` cannot be written, the traceback goes to a file in the system's
    temporary folder instead, so the one line printed can always name where it is."""
    text = (f"=== {now_iso()} pid {os.getpid()}: {context}\n"
            + "".join(traceback.format_exception(exc)) + "\n")
    try:
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / ERROR_LOG
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
        return path
    except OSError:
        fd, name = tempfile.mkstemp(prefix="ccgi-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return Path(name)


@dataclass(frozen=True)
class Backfill:
    """A newest-first load's progress: ``settled`` of ``total`` drops, by process ``pid``."""

    settled: int
    total: int
    pid: int
    done: bool
    updated: str

    @property
    def running(self) -> bool:
        """The process that writes it is still alive (a killed load leaves ``done`` false)."""
        if self.done:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def write_backfill(dd: DataDir, settled: int, total: int, *, done: bool = False) -> None:
    """Record that ``settled`` of ``total`` drops of a newest-first load are settled (loaded,
    already loaded or rejected); replaced atomically, so a reader never sees half of it."""
    atomic_write_text(dd.backfill, json.dumps(
        {"settled": settled, "total": total, "pid": os.getpid(), "done": done,
         "updated": now_iso()}))


def read_backfill(dd: DataDir) -> Backfill | None:
    """The last backfill status written, or None when there is none (or it is unreadable)."""
    try:
        raw = json.loads(dd.backfill.read_text(encoding="utf-8"))
        return Backfill(int(raw["settled"]), int(raw["total"]), int(raw["pid"]),
                        bool(raw["done"]), str(raw.get("updated", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            out.append(json.loads(line))
    return out


class Warehouse:
    """A read-only view of every published drop of one data directory.

    One in-memory DuckDB database with each drop file attached ``READ_ONLY`` under the alias
    ``d<YYYYMMDD>``. The aliases come from the manifest's validated dates (a fixed mapping),
    never from user input. Sessions must not share one connection: call :meth:`cursor` for
    each query (DuckDB cursors are separate connections to the same database).
    """

    def __init__(self, data_dir: Path | DataDir, *, threads: int | None = None) -> None:
        self.dd = data_dir if isinstance(data_dir, DataDir) else DataDir(Path(data_dir))
        self.manifest = read_manifest(self.dd)
        self._con = duckdb.connect(":memory:")
        if threads:
            self._con.execute(f"SET threads = {int(threads)}")
        self._aliases: dict[date, str] = {}
        self._lock = threading.Lock()
        for entry in self.manifest.drops:
            alias = f"d{entry.date:%Y%m%d}"
            path = self.dd.drops / entry.file
            if not _ALIAS_RE.match(alias) or not _FILE_RE.match(entry.file):
                raise ValueError(f"manifest names an unexpected file: {entry.file}")
            self._con.execute(f"ATTACH ? AS {alias} (READ_ONLY)", [str(path)])
            self._aliases[entry.date] = alias
        self.has_cubes = False
        if self._aliases:
            union = " UNION ALL BY NAME ".join(
                f"SELECT * FROM {a}.student_facts" for a in self._aliases.values()
            )
            self._con.execute(f"CREATE VIEW all_facts AS {union}")
            with_cube = {r[0] for r in self._con.execute(
                "SELECT database_name FROM duckdb_tables() WHERE table_name = 'facts_cube'"
            ).fetchall()}
            if set(self._aliases.values()) <= with_cube:
                union = " UNION ALL BY NAME ".join(
                    f"SELECT * FROM {a}.facts_cube" for a in self._aliases.values())
                # Copied into memory, not a view: every weekly trend reads every drop's cube,
                # and a union of forty attached files costs 15 ms a query before any work
                # (2 ms as one table). The copy is small (27 MB for Los Angeles with 40
                # weeks, 0.2 s to make) and the files never change under a warehouse.
                self._con.execute(f"CREATE TABLE all_cubes AS {union}")
                self.has_cubes = True

    @property
    def version(self) -> int:
        return self.manifest.version

    @property
    def drops(self) -> list[date]:
        """Published drop dates, oldest first."""
        return list(self._aliases)

    @property
    def latest(self) -> date | None:
        return self.drops[-1] if self._aliases else None

    @property
    def empty(self) -> bool:
        return not self._aliases

    def alias(self, drop: date) -> str:
        """The attached schema of a drop; raises KeyError for a drop that is not loaded."""
        return self._aliases[drop]

    def table(self, drop: date, name: str) -> str:
        """A qualified table name for a loaded drop. ``name`` must be one of the fixed tables."""
        if name not in DROP_TABLES:
            raise KeyError(name)
        return f"{self._aliases[drop]}.{name}"

    def resolve(self, as_of: date | None) -> date | None:
        """The drop in force at ``as_of``: the latest loaded on or before it (or the latest)."""
        if not self._aliases:
            return None
        if as_of is None:
            return self.latest
        earlier = [d for d in self._aliases if d <= as_of]
        return earlier[-1] if earlier else None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._con.cursor()

    @contextlib.contextmanager
    def query(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        self._con.close()


DROP_TABLES = frozenset(
    {
        "students", "fafsa_cadaa", "uc_apply", "csu_apply", "ccc_apply", "favorite_colleges",
        "favorite_careers", "favorite_majors", "career_assessments", "ag_eligibility",
        "student_facts", "facts_cube", "rejects", "load_warnings", "drop_meta",
        "district_counts",
    }
)
"""The tables every drop database holds (see docs and loader)."""


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
