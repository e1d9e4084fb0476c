"""Loading CCGI drops: discover, validate, publish, and commit with one manifest replace.

The storage design is in :mod:`ccgi_dash.store`: each drop becomes one new DuckDB file, and
replacing ``warehouse/manifest.json`` is the only commit point. A load therefore runs:

1. under the load lock (:func:`ccgi_dash.locking.load_lock`), so two loads never overlap,
   after removing what a killed load left in temporary places;
2. per drop, up to :data:`WORKERS` drops side by side (oldest first): name-level checks,
   already-loaded and older-drop checks, the file-level checks of every file (size, format,
   header), then one DuckDB pass per file into a new database built in a temporary folder
   ``warehouse/drops/.tmp-*`` (see :mod:`ccgi_dash.validate`): the roster first, then the
   other files side by side (each read keeps to one core), while a background thread hashes
   the files and keeps a gzip-compressed copy of them in ``raw/.tmp-*``; then the reject-rate
   and county checks, the small tables and ``student_facts``;
3. one drop at a time, in date order: the checks that need the drop before (date order, the
   roster check against the previous drop's counts), then publish the database file
   (rename), move the raw copy into ``raw/<YYYYMMDD>/``, and commit the manifest. A process
   killed at any moment before that commit leaves the served data exactly as it was; the
   next load cleans up and succeeds. A backfill (``ingest_stream(backfill=N)``, the demo's
   newest-first first run) commits in the order offered instead: each drop is placed by
   date, and the roster check runs against the loaded drops on both sides of it.

**Any error inside one drop is that drop's rejection** (:func:`_settle`): a damaged zip, a
file cut mid-record, an unreadable file, a full disk, or a bug (whose traceback goes to
``logs/errors.log``) rejects that drop only; the others of the run still load in date order.
A rejected drop is copied untouched into ``quarantine/<YYYYMMDD>-<timestamp>/`` with a
``REASON.txt``. Every attempt appends one line to ``logs/loads.jsonl``.

Test hook: when the environment variable ``CCGI_FAULT_AT`` names one of :data:`FAULT_STAGES`,
the process kills itself with SIGKILL on reaching that stage, so tests can prove that a load
killed there changes nothing that is served. It is never set in production.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gzip
import os
import re
import shutil
import signal
import time
import uuid
import zipfile
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

import duckdb

from ccgi_dash import reader, validate
from ccgi_dash.datasets import DATASET_NAMES
from ccgi_dash.locking import load_lock
from ccgi_dash.metrics import build_student_facts
from ccgi_dash.reference import DIRECTORY_CSV, directory
from ccgi_dash.settings import Settings
from ccgi_dash.store import (
    DataDir,
    DropEntry,
    Manifest,
    append_jsonl,
    collect_garbage,
    commit_manifest,
    log_error,
    now_iso,
    publish_drop_file,
    read_manifest,
    write_backfill,
)

Progress = Callable[[str], None]

FAULT_ENV = "CCGI_FAULT_AT"
FAULT_STAGES = ("files_read", "built", "published", "raw_copied", "committed")
"""Where the ``CCGI_FAULT_AT`` test hook can kill a load, in the order a load reaches them."""
TMP_PREFIX = ".tmp-"
"""Temporary folders in ``warehouse/drops/`` and ``raw/``; no drop file name starts so."""
SUMMARY_EACH_UP_TO = 5
"""Up to this many drops, the summary gives each its own line (see summary_lines)."""
REASON_ROWS = 200
"""Rejected rows written to a quarantined drop's REASON.txt."""
MIB = 1024 * 1024
READERS = max(2, min(4, os.cpu_count() or 2))
"""Files read at once (each read runs on one core)."""
CHECKPOINT_THRESHOLD = "16GB"
"""No automatic checkpoint while a drop is built (see :func:`connect_build`)."""
BLOCK_SIZE = 32 * 1024
"""DuckDB block size of a drop's database file (see :func:`connect_build`)."""
WORKERS = max(1, min(2, os.cpu_count() or 1))
"""Drops read and built at once when several are offered (each in its own database file,
committed in date order). One build leaves a second core mostly idle: its file reads keep
to one core each and its Python steps to one."""


def _fault_point(stage: str) -> None:
    """Test hook (see the module docstring): die here, as a power cut or ``kill -9`` would."""
    if os.environ.get(FAULT_ENV) == stage:
        os.kill(os.getpid(), signal.SIGKILL)


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class DropOutcome:
    """What became of one drop."""

    drop_date: date
    status: str
    """``loaded``, ``already_loaded`` or ``rejected``."""
    message: str
    """One paragraph a data manager can act on."""
    rows: dict[str, int] = field(default_factory=dict)
    rejects: int = 0
    warnings: list[str] = field(default_factory=list)
    quarantine: Path | None = None
    seconds: float = 0.0
    override: str = ""


@dataclass
class IngestReport:
    """Every drop's outcome, and the files offered that belong to no drop."""

    outcomes: list[DropOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when everything offered was loaded or already loaded, else 1."""
        bad = self.problems or any(o.status == "rejected" for o in self.outcomes)
        return 1 if bad else 0

    def summary_lines(self, each_up_to: int = SUMMARY_EACH_UP_TO) -> list[str]:
        """The end-of-run summary: each drop, rows per dataset, rejects, warnings, problems.

        When more than ``each_up_to`` drops were offered, those loaded (or already loaded)
        without a warning are summed up in one line; rejected drops and drops with warnings
        always get their own, since they are what a person must act on."""
        lines = []
        plain = [o for o in self.outcomes
                 if o.status != "rejected" and not o.warnings and not o.override]
        plain_ids = {id(o) for o in plain}
        collapse = len(self.outcomes) > each_up_to and len(plain) > 1
        if collapse:
            shown = Counter(o.status for o in plain)
            lines.append(
                f"{min(o.drop_date for o in plain)} to {max(o.drop_date for o in plain)}: "
                + ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in shown.items())
                + f" without warnings ({sum(o.seconds for o in plain):.1f}s of drop time).")
        for o in self.outcomes:
            if collapse and id(o) in plain_ids:
                continue
            head = f"{o.drop_date}: {o.status.replace('_', ' ')}"
            if o.status == "loaded":
                head += f" in {o.seconds:.1f}s"
            lines.append(f"{head}. {o.message}")
            for w in o.warnings:
                lines.append(f"  warning: {w}")
        for p in self.problems:
            lines.append(f"problem: {p}")
        counts = Counter(o.status for o in self.outcomes)
        lines.append(f"Drops: {counts['loaded']} loaded, {counts['already_loaded']} already "
                     f"loaded, {counts['rejected']} rejected; {len(self.problems)} file "
                     "problem(s).")
        loaded = [o for o in self.outcomes if o.status == "loaded"]
        if loaded:
            total: Counter[str] = Counter()
            for o in loaded:
                total.update(o.rows)
            lines.append("Rows loaded: " + ", ".join(f"{n} {total[n]:,}"
                                                     for n in DATASET_NAMES))
            lines.append(f"Rejected rows: {sum(o.rejects for o in loaded):,}; warnings: "
                         f"{sum(len(o.warnings) for o in loaded)}.")
        return lines


@dataclass(frozen=True)
class _FileToRead:
    """One file that passed the file-level checks, and how to read it."""

    file: reader.DropFile
    path: Path
    """Where DuckDB reads it (a zip member's extracted copy)."""
    match: reader.HeaderMatch
    encoding: str
    first_ssid: str | None
    """The first record's ssid, to check line numbers against (see validate.load_file)."""


class DropRejected(Exception):
    """A drop that must not be loaded; ``str()`` is the reason, ``rows`` sample rejects."""

    def __init__(self, message: str, rows: list[tuple] | None = None) -> None:
        super().__init__(message)
        self.rows = rows or []


@dataclass
class _Built:
    """A drop database built in a temporary folder, not yet published."""

    tmp_file: Path
    entry: DropEntry
    raw_tmp: Path | None
    county: str
    """The COE county code the drop was built with (its own main county when none was
    known yet); the commit amends the database if the county in force differs."""
    file_warnings: list[str]
    """Warnings about one file (encoding, line ends), stored with their dataset."""
    header_warnings: list[str]
    """Warnings about a file's header (extra columns), stored as drop warnings."""
    drop_warnings: list[str]
    """The drop warnings written into the database (header warnings, outside county)."""


# --------------------------------------------------------------------------------------------
# Entry points


def discover(paths: Sequence[Path]) -> reader.Discovery:
    """Group files, zips and folders into drops by date (see :func:`reader.discover`)."""
    return reader.discover(paths)


class Watcher:
    """Told how a long load goes (the command line draws a progress bar from it). The
    defaults do nothing; subclasses override what they need."""

    def found(self, drops: int) -> None:
        """``drops`` more drops were found in what was offered."""

    def done(self, outcome: DropOutcome) -> None:
        """One drop is settled (loaded, already loaded or rejected), in date order."""


def ingest(data_dir: DataDir, paths: Sequence[Path], settings: Settings, *,
           override_reason: str | None = None, progress: Progress | None = None,
           watcher: Watcher | None = None, workers: int | None = None) -> IngestReport:
    """Validate and load every drop found in ``paths``, oldest first.

    Each drop is committed on its own, so a later drop's rejection never undoes an earlier
    one, and any error raised while reading, checking or building one drop rejects that drop
    only (quarantined with its reason, logged); the others still load in date order.
    ``override_reason`` lets drops refused only for a roster swing load; the reason is
    recorded in the manifest and the load log. Raises :class:`ccgi_dash.locking.LockHeld`
    when another load of this data directory is running.
    """
    if workers is None:  # one drop offered: it gets the whole memory limit
        workers = min(WORKERS, max(1, len(reader.discover(paths).drops)))
    return ingest_stream(data_dir, [paths], settings, override_reason=override_reason,
                         progress=progress, watcher=watcher, workers=workers)


def ingest_stream(data_dir: DataDir, batches: Iterable[Sequence[Path]], settings: Settings, *,
                  override_reason: str | None = None, progress: Progress | None = None,
                  watcher: Watcher | None = None, workers: int | None = None,
                  on_drop: Callable[[DropOutcome, reader.DropSource], None] | None = None,
                  backfill: int | None = None) -> IngestReport:
    """:func:`ingest` of batches of paths that arrive one after another (the demo hands
    over each weekly drop as soon as it is written), under one load lock.

    Up to ``workers`` drops (default :data:`WORKERS`) are read and built at once, each into
    its own new database file; they are committed one by one in the order offered (date
    order within a batch), and the checks that depend on the drop before (older-drop and
    roster checks) run at that commit. ``on_drop`` is called after each drop is settled.

    ``backfill`` (the number of drops expected; the demo's newest-first load): drops may
    come newest first, so an older drop than those loaded is not refused but placed by
    date, and the roster check runs against the loaded drop on each side of it (the one
    before, as always, and the one after, which it now precedes); the same date twice is
    still caught by its hash. After each drop ``<data dir>/backfill.json`` records how many
    of the ``backfill`` drops are settled (:func:`ccgi_dash.store.write_backfill`).
    """
    say = progress or (lambda _msg: None)
    watch = watcher or Watcher()
    data_dir.ensure()
    report = IngestReport()
    n = max(1, workers or WORKERS)
    with load_lock(data_dir):
        _clean_leftovers(data_dir)

        def jobs() -> Iterator[_Job]:
            for paths in batches:
                found = reader.discover(paths)
                report.problems.extend(found.problems)
                watch.found(len(found.drops))
                for drop in found.drops:
                    yield _Job(drop, _new_work(data_dir), time.monotonic())

        limit = _Budget(_share(settings.ingest.memory_limit, n), _threads(n))
        older_ok = backfill is not None
        if backfill is not None:
            write_backfill(data_dir, 0, backfill)
        for job, result in _in_order(jobs(), lambda j: _prepare(data_dir, j, settings,
                                                                 limit, say, older_ok), n):
            try:
                outcome = _settle(data_dir, job, result, settings, override_reason, say,
                                  older_ok)
            finally:
                shutil.rmtree(job.work, ignore_errors=True)
            report.outcomes.append(outcome)
            if backfill is not None:
                write_backfill(data_dir, len(report.outcomes), backfill)
            watch.done(outcome)
            if on_drop is not None:
                on_drop(outcome, job.drop)
        if backfill is not None:
            write_backfill(data_dir, len(report.outcomes), backfill, done=True)
        collect_garbage(data_dir, read_manifest(data_dir))
    return report


def rebuild(data_dir: DataDir, settings: Settings, *, progress: Progress | None = None,
            watcher: Watcher | None = None, workers: int | None = None) -> IngestReport:
    """Rebuild every drop from ``raw/`` into new files, then commit them in one manifest.

    The drops rebuilt are those of the manifest (all of ``raw/`` when there is no manifest,
    e.g. after the warehouse was lost). Raw folders may hold the files compressed
    (``.csv.gz``, what loads keep) or as received by older versions (``.csv``, zips). Each
    drop is validated again, except the roster check, which it passed when first loaded.
    Any failure publishes nothing: the old manifest stays in force.
    """
    say = progress or (lambda _msg: None)
    watch = watcher or Watcher()
    data_dir.ensure()
    report = IngestReport()
    n = max(1, workers or WORKERS)
    with load_lock(data_dir):
        _clean_leftovers(data_dir)
        old = read_manifest(data_dir)
        raw_days = {p.name: p for p in data_dir.raw.iterdir()
                    if p.is_dir() and not p.name.startswith(".") and p.name.isdigit()}
        if old.drops:
            stamps = [f"{d.date:%Y%m%d}" for d in old.drops]
            for stamp in sorted(set(raw_days) - set(stamps)):
                report.problems.append(
                    f"raw/{stamp} is not in the manifest (a load that did not finish?); it "
                    "was not rebuilt. Load it with ingest if it is a real drop.")
        else:
            stamps = sorted(raw_days)
        watch.found(len(stamps))
        n = min(n, max(1, len(stamps)))
        previous = {d.drop_date: d for d in old.drops}
        county = settings.county_code or old.county_code
        limit = _Budget(_share(settings.ingest.memory_limit, n), _threads(n))

        def jobs() -> Iterator[_Job]:
            for stamp in stamps:
                day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
                yield _Job(reader.DropSource(day), _new_work(data_dir), time.monotonic(),
                           raw_dir=raw_days.get(stamp))

        def build(job: _Job) -> _Built:
            folder = job.raw_dir
            stamp = job.drop.stamp
            found = reader.discover([folder]) if folder else reader.Discovery()
            drops = [d for d in found.drops if d.day == job.drop.day]
            if folder is None or len(drops) != 1:
                raise DropRejected(f"raw/{stamp} is missing or holds no drop for "
                                   f"{job.drop.day}; it cannot be rebuilt.")
            job.drop = drops[0]
            say(f"{job.drop.day}: rebuilding from raw/{stamp}")
            return _build(data_dir, job.drop, settings, county or None, work=job.work,
                          copy_raw=False, memory_limit=limit, say=say)

        built: list[_Built] = []
        failed = False
        try:
            for job, result in _in_order(jobs(), build, n):
                day = job.drop.day
                try:
                    b = result.result()
                except Exception as exc:  # any failure of one drop stops the rebuild here
                    failed = True
                    reason = (str(exc) if isinstance(exc, DropRejected)
                              else _failure_text(data_dir, exc, day))
                    msg = (f"Rebuild failed at drop {day}: {reason} Nothing was published; "
                           "the data served is unchanged.")
                    outcome = DropOutcome(day, "rejected", msg,
                                          seconds=time.monotonic() - job.started)
                    report.outcomes.append(outcome)
                    watch.done(outcome)
                    break  # the drops after it are not built (those under way finish)
                county = county or b.county
                old_entry = previous.get(b.entry.drop_date)
                if old_entry is not None:
                    b.entry.override = old_entry.override
                built.append(b)
                outcome = DropOutcome(
                    day, "loaded", f"Rebuilt from raw/{job.drop.stamp}: "
                    f"{_rows_text(b.entry.rows)}.", b.entry.rows, b.entry.rejects,
                    b.entry.warnings, None, time.monotonic() - job.started, b.entry.override)
                report.outcomes.append(outcome)
                watch.done(outcome)
            if failed:
                for o in report.outcomes:
                    if o.status == "loaded":
                        o.status = "rejected"
                        o.message = ("Rebuilt, but not published because another drop failed "
                                     "to rebuild; the data served is unchanged.")
                    _log(data_dir, o)
                return report
            entries = []
            for b in built:
                final = data_dir.new_drop_file(b.entry.date)
                publish_drop_file(b.tmp_file, final)
                b.entry.file = final.name
                entries.append(b.entry)
            _fault_point("published")
            manifest = Manifest(old.version, county or "", entries)
            commit_manifest(data_dir, manifest)
            for o in report.outcomes:
                _log(data_dir, o)
        finally:
            for w in data_dir.drops.glob(f"{TMP_PREFIX}{os.getpid()}-*"):
                shutil.rmtree(w, ignore_errors=True)
        collect_garbage(data_dir, read_manifest(data_dir))
    return report


# --------------------------------------------------------------------------------------------
# Drops side by side, committed in order


@dataclass
class _Job:
    """One drop on its way through a load: its files, its work folder, when it started."""

    drop: reader.DropSource
    work: Path
    started: float
    raw_dir: Path | None = None
    """For a rebuild: the ``raw/<YYYYMMDD>`` folder it is rebuilt from."""


_T = TypeVar("_T")


def _in_order(jobs: Iterable[_Job], fn: Callable[[_Job], _T],
              workers: int) -> Iterator[tuple[_Job, Future[_T]]]:
    """Run ``fn`` on up to ``workers`` jobs at once, taking jobs lazily (a stream may still
    be writing the next one), and yield each job with its finished future in the order
    given. A job's exception stays in its future: it is that job's, not the run's."""
    it = iter(jobs)
    pending: deque[tuple[_Job, Future[_T]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ccgi-build") as pool:
        more = True
        while True:
            while more and len(pending) < workers:
                job = next(it, None)
                if job is None:
                    more = False
                    break
                pending.append((job, pool.submit(fn, job)))
            if not pending:
                return
            job, future = pending.popleft()
            wait([future])
            yield job, future


@dataclass(frozen=True)
class _Budget:
    """What one build may use while others run beside it."""

    memory: str
    threads: int | None


def _threads(workers: int) -> int | None:
    """DuckDB threads per build: the cores shared among the builds running at once (None:
    DuckDB's default, one per core, when a single build runs)."""
    if workers <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // workers)


def _share(limit: str, workers: int) -> str:
    """DuckDB's memory limit for each of ``workers`` builds running at once (together they
    keep to the configured limit)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?i?B)\s*", limit, re.IGNORECASE)
    if workers <= 1 or m is None:
        return limit
    units = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10,
             "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
    scale = units.get(m[2].upper())
    if scale is None:
        return limit
    return f"{max(64, int(float(m[1]) * scale / workers / 1e6))}MB"


# --------------------------------------------------------------------------------------------
# One drop


def _prepare(dd: DataDir, job: _Job, settings: Settings, memory_limit: _Budget,
             say: Progress, older_ok: bool = False) -> _Built | DropOutcome:
    """The part of a load that can run beside other drops': every check that depends on
    this drop alone, and its database built in the job's work folder. Returns the
    outcome at once for a drop already loaded with the same content."""
    drop, work = job.drop, job.work
    say(f"{drop.day}: checking {len(drop.files)} file(s)")
    manifest = read_manifest(dd)
    existing = manifest.find(drop.day)
    latest = manifest.latest()
    if existing is not None:
        _check_names(drop, settings)
        return _same_or_refused(drop, existing, _hash_drop(drop, work))
    if latest is not None and drop.day < latest.date and not older_ok:
        raise DropRejected(_older_text(latest))
    county = settings.county_code or manifest.county_code or None
    return _build(dd, drop, settings, county, work=work, copy_raw=True,
                  memory_limit=memory_limit, say=say)


def _same_or_refused(drop: reader.DropSource, existing: DropEntry, sha: str) -> DropOutcome:
    if sha == existing.sha256:
        return DropOutcome(drop.day, "already_loaded",
                           f"Drop {drop.day} is already loaded with the same content "
                           f"(sha256 {sha[:12]}); nothing was changed.",
                           rows=dict(existing.rows), rejects=existing.rejects)
    raise DropRejected(f"a drop for {drop.day} is already loaded with different content "
                       f"(sha256 {existing.sha256[:12]} loaded, {sha[:12]} offered). "
                       "A drop is a snapshot and is never replaced; if CCGI corrected "
                       "it, ask them to send it with the next drop date.")


def _older_text(latest: DropEntry) -> str:
    return (f"refused: a newer drop ({latest.drop_date}) is already loaded, and drops load "
            "in date order. If this older drop must be included, rebuild from raw/ with it "
            "added.")


def _settle(dd: DataDir, job: _Job, result: Future[_Built | DropOutcome], settings: Settings,
            override_reason: str | None, say: Progress, older_ok: bool = False) -> DropOutcome:
    """Commit a prepared drop, or turn whatever went wrong with it into its rejection."""
    drop = job.drop
    try:
        prepared = result.result()
        if isinstance(prepared, DropOutcome):
            outcome = prepared
        else:
            outcome = _commit(dd, drop, prepared, settings, override_reason, older_ok)
    except DropRejected as exc:
        outcome = _reject(dd, drop, str(exc), exc.rows)
    except Exception as exc:  # one drop's fault rejects that drop only
        outcome = _reject(dd, drop, _failure_text(dd, exc, drop.day), [])
    outcome.seconds = time.monotonic() - job.started
    _log(dd, outcome)
    say(f"{drop.day}: {outcome.status.replace('_', ' ')} ({outcome.seconds:.1f}s)")
    return outcome


def _reject(dd: DataDir, drop: reader.DropSource, reason: str, rows: list[tuple]) -> DropOutcome:
    try:
        quarantine: Path | None = _quarantine(dd, drop, reason, rows)
        where = f"The files were copied to {quarantine}; fix them and load the drop again."
    except OSError as exc:
        quarantine = None
        where = (f"The files could not be copied to quarantine ({_exc_text(exc)}); they were "
                 "left where they are.")
    msg = (f"Drop {drop.day} rejected: {reason} Nothing from this drop was loaded; the data "
           f"already served is unchanged. {where}")
    return DropOutcome(drop.day, "rejected", msg, quarantine=quarantine)


def _commit(dd: DataDir, drop: reader.DropSource, b: _Built, settings: Settings,
            override_reason: str | None, older_ok: bool = False) -> DropOutcome:
    """The checks that need the drops beside it, then publish and commit (in date order, or
    placed by date in a backfill: ``older_ok``)."""
    fresh = read_manifest(dd)
    existing = fresh.find(drop.day)
    if existing is not None:  # the same date offered twice in one stream
        return _same_or_refused(drop, existing, b.entry.sha256)
    before = [d for d in fresh.drops if d.date < drop.day]
    after = [d for d in fresh.drops if d.date > drop.day]
    if after and not older_ok:
        raise DropRejected(_older_text(fresh.drops[-1]))
    county = settings.county_code or fresh.county_code or b.county
    drop_warnings = list(b.header_warnings)
    outside = _outside_text(b.entry.district_counts, county)
    if outside:
        drop_warnings.append(outside)
    override = ""
    ing = settings.ingest
    counts = b.entry.district_counts
    swing_texts = []
    if before:
        previous = before[-1]
        check = validate.roster_check(previous.district_counts, counts,
                                      ing.roster_check_min_students,
                                      ing.roster_shrink_limit, ing.roster_growth_limit)
        for code, n in check.new:
            drop_warnings.append(f"new district {code} ({_district_name(code)}): {n:,} "
                                 f"students, not in the previous drop ({previous.drop_date}).")
        if check.swings:
            swing_texts.append(_swing_text(check.swings, previous, settings))
    if after:  # a backfill: this drop now comes just before ``after[0]``
        following = after[0]
        check = validate.roster_check(counts, following.district_counts,
                                      ing.roster_check_min_students,
                                      ing.roster_shrink_limit, ing.roster_growth_limit)
        for code, n in check.new:
            drop_warnings.append(f"district {code} ({_district_name(code)}) is not in this "
                                 f"drop but has {n:,} students in the next one loaded "
                                 f"({following.drop_date}).")
        if check.swings:
            swing_texts.append(_swing_text(check.swings, following, settings, later=True))
    if swing_texts:
        text = " ".join(swing_texts)
        if not override_reason:
            raise DropRejected(text + " If the change is real (a district joined or "
                               "left, a roster was fixed), load the drop again with "
                               "an override and its reason (--override \"...\").")
        override = override_reason
        drop_warnings.append("roster check overridden (" + override_reason + "): " + text)
    if county != b.county or drop_warnings != b.drop_warnings:
        _amend(b.tmp_file, county, drop_warnings)
    b.entry.warnings = b.file_warnings + drop_warnings
    b.entry.override = override
    final = dd.new_drop_file(drop.day)
    publish_drop_file(b.tmp_file, final)
    _fault_point("published")
    assert b.raw_tmp is not None
    _move_into_place(b.raw_tmp, dd.raw / drop.stamp)
    _fault_point("raw_copied")
    b.entry.file = final.name
    fresh.drops.append(b.entry)
    fresh.drops.sort(key=lambda d: d.drop_date)
    if not fresh.county_code:
        fresh.county_code = county
    commit_manifest(dd, fresh)
    _fault_point("committed")
    msg = f"Loaded drop {drop.day}: {_rows_text(b.entry.rows)}"
    msg += (f"; {b.entry.rejects:,} row(s) rejected (see the rejects table)"
            if b.entry.rejects else "; no rows rejected")
    if override:
        msg += f"; roster check overridden: {override}"
    return DropOutcome(drop.day, "loaded", msg + ".", dict(b.entry.rows), b.entry.rejects,
                       list(b.entry.warnings), None, 0.0, override)


def _amend(db: Path, county: str, drop_warnings: list[str]) -> None:
    """Write the warnings and county only known at commit into a built database (rare: a
    roster warning, or the first drops of a county loaded side by side)."""
    con = duckdb.connect(str(db))
    try:
        con.execute("DELETE FROM load_warnings WHERE dataset IS NULL")
        if drop_warnings:
            con.execute("INSERT INTO load_warnings SELECT NULL, unnest($msg)",
                        {"msg": drop_warnings})
        con.execute("UPDATE drop_meta SET county_code = ?", [county])
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _exc_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    kind = "zlib.error" if isinstance(exc, zlib.error) else type(exc).__name__
    return f"{kind}: {text}" if text else kind


def _failure_text(dd: DataDir, exc: Exception, day: date) -> str:
    """What an error raised inside one drop's load means, and what to do about it. An
    error of no known kind is a bug: its traceback goes to ``logs/errors.log``."""
    text = _exc_text(exc)
    if isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError, gzip.BadGzipFile)):
        return (f"a zip or compressed file of this drop is damaged ({text}); it was probably "
                "cut or corrupted in transfer. Fetch it again, or ask CCGI to send it again.")
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left" in str(exc):
        return (f"the disk is full ({text}). Free space where {dd.root} lives, then load the "
                "drop again.")
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc).lower():
        return ("the zip is password-protected, so it cannot be read. Ask CCGI for the zip "
                "without a password, or for the CSV files.")
    if isinstance(exc, NotImplementedError):
        return (f"the zip uses a compression method that cannot be read here ({text}). Ask "
                "CCGI for a standard (deflate) zip, or for the CSV files.")
    if isinstance(exc, OSError):
        return (f"a file could not be read or written ({text}). Check that the drop's files "
                "are readable and the disk is healthy, then load the drop again.")
    log = log_error(dd.logs, exc, f"loading drop {day}")
    return (f"an unexpected error stopped this drop ({text}); the details are in {log}. "
            "Load it again; if it fails the same way, report it with that log.")


def _check_names(drop: reader.DropSource, settings: Settings) -> None:
    """Faults visible from the names alone: unknown datasets, bad zips, missing datasets."""
    faults = list(drop.faults)
    missing = drop.missing(settings.ingest.datasets_not_received)
    if missing:
        faults.append(
            f"drop {drop.day} has no file for {', '.join(missing)} (expected "
            f"{', '.join(f'{m}_{drop.stamp}.csv' for m in missing)}). Every drop holds all "
            "ten datasets; if your COE does not receive one, list it in settings.toml "
            "[ingest] datasets_not_received.")
    if faults:
        raise DropRejected(" ".join(faults))


def _hash_drop(drop: reader.DropSource, work: Path) -> str:
    """SHA-256 over the drop's CSV contents in sorted name order (zips: their members)."""
    files = sorted(drop.by_dataset().values(), key=lambda f: f.csv_name.lower())
    if any(f.member for f in files):
        _, sha = reader.extract_members(files, work / "files")
        return sha
    return reader.hash_files(f.path for f in files)


def _build(dd: DataDir, drop: reader.DropSource, settings: Settings, county: str | None, *,
           work: Path, copy_raw: bool, memory_limit: _Budget, say: Progress) -> _Built:
    """Check a drop and build its database in ``work``; raise DropRejected if it fails.

    ``county`` is the COE county in force (None before the first load: the drop's own main
    county is used, and the commit corrects it if an earlier drop of the run set another)."""
    _check_names(drop, settings)
    ing = settings.ingest
    files = drop.by_dataset()
    faults = []
    for f in files.values():
        if f.size > ing.max_file_mb * MIB:
            faults.append(f"{f.shown} is {_size(f.size)}, more than the limit of "
                          f"{ing.max_file_mb:g} MB; if the file is genuine, raise "
                          "max_file_mb under [ingest] in settings.toml.")
    if faults:
        raise DropRejected(" ".join(faults))

    # Where each file can be read from: zip members are extracted (and hashed) first.
    on_disk: dict[str, Path] = {name: f.path for name, f in files.items()}
    sha: str | None = None
    if any(f.member for f in files.values()):
        on_disk, sha = reader.extract_members(list(files.values()), work / "files")

    header_warnings: list[str] = []
    reads: dict[str, _FileToRead] = {}
    for name, f in files.items():
        head, complete = reader.read_head(f, on_disk[name])
        sn = reader.sniff(head, complete)
        if sn.fault:
            faults.append(f"{f.shown} {sn.fault}.")
            continue
        m = reader.match_header(name, sn.header, settings.column_map.get(name))
        if m.missing:
            faults.append(_missing_columns(f, m, sn.header, settings))
            continue
        if m.extras:
            shown = ", ".join(repr(x) if x else "(unnamed)" for x in m.extras)
            header_warnings.append(f"{f.shown}: column(s) {shown} are not part of {name} and "
                                   "were ignored.")
        at = m.positions["ssid"]
        first = (sn.first_row[at].strip(" ") if sn.first_row and at < len(sn.first_row)
                 and "ssid" not in settings.value_map.get(name, {}) else None)
        reads[name] = _FileToRead(f, on_disk[name], m, sn.encoding, first)
    faults += validate.value_map_problems(settings.value_map)
    if faults:
        raise DropRejected(" ".join(faults))

    # Hash the files and keep a compressed copy of them as received while DuckDB reads them.
    raw_tmp = dd.raw / f"{TMP_PREFIX}{drop.stamp}-{uuid.uuid4().hex[:8]}" if copy_raw else None
    loose = sorted((f for f in files.values() if not f.member), key=lambda f: f.csv_name.lower())
    with ThreadPoolExecutor(max_workers=1) as pool:
        background: Future[str | None] = pool.submit(
            _hash_and_copy, [f.path for f in loose] if sha is None else [], drop.sources,
            raw_tmp)
        try:
            built = _build_database(
                drop, settings, county, work, reads, header_warnings, memory_limit,
                lambda: sha or background.result() or "", say)
        except BaseException:
            with contextlib.suppress(Exception):
                background.result()
            if raw_tmp is not None:
                shutil.rmtree(raw_tmp, ignore_errors=True)
            raise
        background.result()  # the raw copy must be complete before it is published
    _fault_point("built")
    built.raw_tmp = raw_tmp
    return built


def _hash_and_copy(paths: list[Path], sources: list[Path], raw_tmp: Path | None) -> str | None:
    """The background half of a load: the drop's hash and its compressed copy as received
    (loose CSVs gzip-compressed in the pass that hashes them; zips and ``.csv.gz`` copied as
    they came)."""
    kept = {p.name for p in paths}
    sha = reader.hash_and_keep(paths, raw_tmp) if paths else None
    if raw_tmp is not None:
        reader.copy_files([p for p in _unique(sources) if p.name not in kept], raw_tmp)
    return sha


def _unique(paths: list[Path]) -> list[Path]:
    seen, out = set(), []
    for p in paths:
        if p.name not in seen:
            seen.add(p.name)
            out.append(p)
    return out


def _missing_columns(f: reader.DropFile, m: reader.HeaderMatch, header: Sequence[str],
                     settings: Settings) -> str:
    like = reader.looks_like(header, settings.column_map, m.dataset)
    text = (f"{f.shown} lacks required column(s) {', '.join(m.missing)} of {m.dataset}; its "
            f"header has: {', '.join(header) or '(nothing)'}.")
    if like:
        text += f" This looks like the {' or '.join(like)} file: mislabeled?"
    text += (f" If your files name these columns differently, map them in settings.toml "
             f"under [column_map.{m.dataset}] (for example ssid = \"SSID\").")
    return text


def connect_build(db: Path, memory_limit: str,
                  threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """The connection a drop database is built with (tests use it too).

    Work beyond ``memory_limit`` spills next to the database; the file's order is kept in
    what is published (DuckDB's default, whatever a user's DuckDB configuration says); no
    automatic checkpoint interrupts the build (one at the end writes each table once).
    Blocks of :data:`BLOCK_SIZE` rather than DuckDB's 256 KB: a drop's many small tables
    and columns waste less of their last block (a Fresno drop's file is a third smaller).
    ``threads`` caps DuckDB's own worker threads when several drops are built at once (they
    share the cores)."""
    config = {"memory_limit": memory_limit, "temp_directory": str(db.parent / "spill"),
              "preserve_insertion_order": True, "checkpoint_threshold": CHECKPOINT_THRESHOLD,
              "default_block_size": str(BLOCK_SIZE)}
    if threads:
        config["threads"] = str(threads)
    return duckdb.connect(str(db), config=config)


def _build_database(drop: reader.DropSource, settings: Settings, county: str | None,
                    work: Path, reads: dict[str, _FileToRead], header_warnings: list[str],
                    memory_limit: _Budget, sha: Callable[[], str], say: Progress) -> _Built:
    """Load every file into ``work/drop.duckdb`` and run the checks of this drop alone.

    Returns the built drop (manifest entry with the file name still empty); the roster
    check, which needs the drop before, runs at the commit (:func:`_commit`)."""
    ing = settings.ingest
    con = connect_build(work / "drop.duckdb", memory_limit.memory, memory_limit.threads)
    try:
        validate.create_support_tables(con)
        for name in DATASET_NAMES:
            if name not in reads:
                validate.create_empty(con, name)
        # A read keeps to one core (ORDINALITY numbers rows in order), so files are read
        # side by side, each on its own cursor; then each is finished (orphans, duplicates,
        # rejects), the roster first, as every other file is checked against its students.
        names = [n for n in DATASET_NAMES if n in reads]
        with ThreadPoolExecutor(max_workers=READERS) as pool:
            futures = {n: pool.submit(_read_on_cursor, con, reads[n], settings, work, say)
                       for n in names}
            wait(futures.values())  # every reader stops before anything is raised
            staged = {n: futures[n].result() for n in names}
        _fault_point("files_read")
        results = validate.finish_files(con, [staged[n][0] for n in names])
        file_warnings = [(n, note) for n in names for note in staged[n][1]]
        over = [r for r in results if r.over_limit(ing.max_reject_rate)]
        if over:
            parts = [f"{r.file} has {r.rejected:,} rejected row(s) of {r.data_rows:,} "
                     f"({r.rejected / r.data_rows:.1%}), more than the {ing.max_reject_rate:.1%}"
                     f" allowed (first: {'; '.join(r.examples)})" for r in over]
            rows = con.execute("SELECT file, line, column_name, value, reason FROM rejects "
                               "ORDER BY dataset, line LIMIT ?", [REASON_ROWS]).fetchall()
            raise DropRejected(
                "; ".join(parts) + ". Ask CCGI to correct the file(s), or, if these rows "
                "may be dropped, raise max_reject_rate under [ingest] in settings.toml.", rows)

        counts = validate.district_counts(con)
        county = county or _main_county(counts)
        drop_warnings = list(header_warnings)
        outside = _outside_text(counts, county)
        if outside:
            drop_warnings.append(outside)
        con.execute("INSERT INTO load_warnings SELECT unnest($ds), unnest($msg)",
                    {"ds": [ds for ds, _ in file_warnings] + [None] * len(drop_warnings),
                     "msg": [msg for _, msg in file_warnings] + drop_warnings})
        loaded_at = now_iso()
        digest = sha()
        con.execute("CREATE TABLE drop_meta (drop_date DATE, loaded_at VARCHAR, sha256 VARCHAR,"
                    " county_code VARCHAR, source_files VARCHAR[])")
        con.execute("INSERT INTO drop_meta VALUES (?, ?, ?, ?, ?)",
                    [drop.day, loaded_at, digest, county, [p.name for p in drop.sources]])
        _directory_table(con)
        con.execute(
            "CREATE TABLE district_counts AS "
            "WITH named AS (SELECT substr(school_cds, 1, 7) AS district_code, "
            "mode(district_name) AS name FROM main.students GROUP BY 1), "
            "dir AS (SELECT substr(cds, 1, 7) AS district_code, any_value(district) AS name "
            "FROM directory GROUP BY 1) "
            "SELECT n.district_code, coalesce(n.name, d.name, 'District ' || n.district_code)"
            " AS district_name, CAST(c.students AS INTEGER) AS students "
            "FROM named n JOIN (SELECT unnest($codes) AS district_code, unnest($n) AS students)"
            " c USING (district_code) LEFT JOIN dir d USING (district_code) "
            "ORDER BY n.district_code", {"codes": list(counts), "n": list(counts.values())})
        say(f"{drop.day}: building student facts")
        build_student_facts(con, drop.day)
        accepted = {r.dataset: r.accepted for r in results}
        rows = {name: accepted.get(name, 0) for name in DATASET_NAMES}
        rejects = int(con.execute("SELECT count(*) FROM rejects").fetchone()[0])
        year = con.execute("SELECT mode(school_year) FROM main.students").fetchone()[0] or ""
        con.execute("DROP TABLE IF EXISTS temp.directory")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    file_texts = [msg for _, msg in file_warnings]
    entry = DropEntry(drop.day.isoformat(), "", loaded_at, digest, rows, rejects,
                      file_texts + drop_warnings, counts, year, "")
    return _Built(work / "drop.duckdb", entry, None, county, file_texts, header_warnings,
                  drop_warnings)


def _read_on_cursor(con: duckdb.DuckDBPyConnection, r: _FileToRead, settings: Settings,
                    work: Path, say: Progress) -> tuple[validate.Staged, list[str]]:
    """:func:`_read_file` on a cursor of its own (a separate connection to the same
    database), so that several files load at once."""
    cur = con.cursor()
    try:
        return _read_file(cur, r, settings, work, say)
    finally:
        cur.close()


def _read_file(con: duckdb.DuckDBPyConnection, r: _FileToRead, settings: Settings,
               work: Path, say: Progress) -> tuple[validate.Staged, list[str]]:
    """Load one file, taking the rare paths when needed: a file that is not UTF-8 is
    transcoded from Windows-1252, and one DuckDB's strict parser refuses is tried once more
    with its CRLF line ends made LF (a file whose lines end both ways)."""
    f, path, encoding = r.file, r.path, r.encoding
    say(f"reading {f.shown}")
    assert f.dataset is not None
    value_map = settings.value_map.get(f.dataset, {})
    notes: list[str] = []
    newlines = False
    current = path
    if encoding != "utf-8":
        current = _rewrite(path, work, encoding, newlines)
        notes.append(_cp1252_warning(f))
    while True:
        try:
            return validate.read_file(con, f.dataset, current, f.shown, r.match, value_map,
                                      r.first_ssid), notes
        except validate.FileCutShort as exc:
            raise DropRejected(f"{exc}.") from None
        except validate.EncodingRetry:
            if encoding != "utf-8":
                raise
            encoding = "cp1252"
            notes.append(_cp1252_warning(f))
        except duckdb.Error as exc:
            validate.discard_file(con, f.dataset, f.shown)
            first = str(exc).strip().splitlines()[0]
            if newlines:
                raise DropRejected(
                    f"{f.shown} could not be read as CSV ({first}). Check that it is a "
                    "comma-separated text file with one header line.") from exc
            newlines = True
            notes.append(f"{f.shown} mixes CRLF and LF line ends; it was read after making "
                         "them all LF.")
        current = _rewrite(path, work, encoding, newlines)


def _cp1252_warning(f: reader.DropFile) -> str:
    return (f"{f.shown} is not valid UTF-8; it was read as Windows-1252 (what Excel writes). "
            "Check accented names; saving it as CSV UTF-8 avoids this warning.")


def _rewrite(path: Path, work: Path, encoding: str, newlines: bool) -> Path:
    name = path.name[:-len(reader.GZ)] if reader.is_gzip_name(path.name) else path.name
    target = work / "rewritten" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    reader.rewrite(path, target, encoding=encoding, newlines=newlines)
    return target


def _main_county(counts: dict[str, int]) -> str:
    """The most common county code of a drop (by students): the COE's, for a first load."""
    by: Counter[str] = Counter()
    for code, n in counts.items():
        by[code[:2]] += n
    return by.most_common(1)[0][0] if by else ""


def _outside_text(counts: dict[str, int], county: str) -> str | None:
    """The warning for students at schools outside the COE's county, from the per-district
    counts (a district code starts with its county's two digits)."""
    by: Counter[str] = Counter()
    for code, n in counts.items():
        if code[:2] != county:
            by[code[:2]] += n
    if not by or not county:
        return None
    rows = sorted(by.items(), key=lambda r: (-r[1], r[0]))
    total = sum(n for _, n in rows)
    codes = ", ".join(f"{c}: {n:,}" for c, n in rows)
    return (f"{total:,} student(s) are at schools outside county {county} (school_cds county "
            f"codes {codes}); they were loaded. Check these school codes with the districts.")


@functools.cache
def _district_names() -> dict[str, str]:
    return {s.district_code: s.district for s in directory()}


def _district_name(code: str) -> str:
    return _district_names().get(code, "not in the CDE directory")


def _swing_text(swings: list[tuple[str, int, int]], previous: DropEntry,
                settings: Settings, later: bool = False) -> str:
    """``later``: ``previous`` is the drop loaded just after this one (a backfill), and each
    swing reads from this drop's count to that drop's."""
    ing = settings.ingest
    gone = f" (missing from the drop of {previous.drop_date})" if later else \
        " (missing from this drop)"
    items = ", ".join(f"{code} {_district_name(code)} {before:,} -> {now:,} students"
                      + (gone if now == 0 else "")
                      for code, before, now in swings)
    since = (f"between this drop and the next one loaded, of {previous.drop_date}" if later
             else f"since the drop of {previous.drop_date}")
    return (f"refused: the roster of {len(swings)} district(s) changed beyond the limits "
            f"{since}: {items}. A district of at least "
            f"{ing.roster_check_min_students} students may not fall below "
            f"{ing.roster_shrink_limit:g}x or rise above {ing.roster_growth_limit:g}x its "
            "previous count (roster_check_min_students, roster_shrink_limit, "
            "roster_growth_limit under [ingest] in settings.toml).")


def _directory_table(con: duckdb.DuckDBPyConnection) -> None:
    """The CDE directory as TEMP table ``directory`` for the facts' names, read by DuckDB
    straight from the shipped CSV (17,000 rows, a few milliseconds)."""
    con.execute("CREATE OR REPLACE TEMP TABLE directory AS SELECT trim(CDSCode) AS cds, "
                "nullif(trim(School), '') AS school, nullif(trim(District), '') AS district, "
                "trim(StatusType) AS status "
                "FROM read_csv(?, header = true, all_varchar = true, quote = '\"', "
                "escape = '\"')", [str(DIRECTORY_CSV)])


def _size(n: int) -> str:
    for unit, scale in (("GB", MIB * 1024), ("MB", MIB), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


def _rows_text(rows: dict[str, int]) -> str:
    return ", ".join(f"{rows.get(n, 0):,} {n}" for n in DATASET_NAMES)


# --------------------------------------------------------------------------------------------
# Files and folders


def _new_work(dd: DataDir) -> Path:
    work = dd.drops / f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    return work


def _clean_leftovers(dd: DataDir) -> None:
    """Remove what killed loads left in temporary places (safe: we hold the load lock):
    work folders, raw copies not moved into place, and half-written manifests."""
    manifest_tmp = f".{dd.manifest.name}."
    for folder in (dd.drops, dd.raw, dd.warehouse):
        if not folder.exists():
            continue
        for p in folder.iterdir():
            if p.name.startswith(TMP_PREFIX) or (folder == dd.warehouse and
                                                 p.name.startswith(manifest_tmp)):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        p.unlink()


def _move_into_place(tmp: Path, final: Path) -> None:
    """Rename a finished folder into place, replacing a leftover of a killed load."""
    if final.exists():
        old = final.with_name(f"{TMP_PREFIX}old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def _quarantine(dd: DataDir, drop: reader.DropSource, reason: str, rows: list[tuple]) -> Path:
    """Copy a rejected drop, untouched, into quarantine/ with a REASON.txt."""
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    target = dd.quarantine / f"{drop.stamp}-{stamp}"
    n = 2
    while target.exists():
        target = dd.quarantine / f"{drop.stamp}-{stamp}-{n}"
        n += 1
    target.mkdir(parents=True)
    names: set[str] = set()
    for src in drop.sources:
        name = src.name
        k = 2
        while name in names:
            name = f"{src.stem}-{k}{src.suffix}"
            k += 1
        names.add(name)
        with contextlib.suppress(OSError):
            shutil.copyfile(src, target / name)
    text = [f"Drop {drop.day} was rejected at {now_iso()}.", "", reason, ""]
    if rows:
        text += [f"First {len(rows)} rejected rows (file, line, column, value, reason):"]
        text += ["\t".join("" if v is None else str(v) for v in r) for r in rows]
    (target / "REASON.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
    return target


def _log(dd: DataDir, o: DropOutcome) -> None:
    append_jsonl(dd.load_log, {
        "at": now_iso(), "drop_date": o.drop_date.isoformat(), "outcome": o.status,
        "message": o.message, "rows": o.rows, "rejects": o.rejects, "warnings": o.warnings,
        "override": o.override, "seconds": round(o.seconds, 2),
        "quarantine": str(o.quarantine) if o.quarantine else None,
    })
