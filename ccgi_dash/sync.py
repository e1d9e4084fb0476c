"""``sync``: fetch from CCGI's sFTP, then load every complete new drop. Built for cron.

* Two syncs never overlap: the whole run holds ``logs/sync.lock`` (flock, released if the
  process dies). A second sync started meanwhile exits at once with code 3.
* Files of one drop may arrive over several fetches. A drop missing datasets waits in the
  inbox while it is the newest one there; once a newer drop has arrived it is offered to the
  loader anyway, which rejects it with the missing datasets named.
* Files the loader has dealt with leave the inbox: a loaded drop is kept in ``raw/``, a
  rejected one (a damaged zip included) in ``quarantine/``, so nothing is lost and the next
  sync does not trip on it again. Only files whose copy could not be made stay.
* A second sync started while one runs says so in one line and exits with code 3: that is
  the expected outcome of an overlap, not an error.
* An unexpected error is recorded (``logs/errors.log`` holds its traceback, ``syncs.jsonl``
  the run) and ends the run with code 1 and one line naming the log.
* Every run appends one line to ``logs/syncs.jsonl`` (the data status page reads the last).

Exit codes: 0 all good (including "nothing new"), 1 a drop was rejected or a file could not
be fetched, 2 settings are missing or wrong, 3 another sync is running.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ccgi_dash import loader
from ccgi_dash.fetch import FetchConfigError, FetchError, FetchReport, FetchSecrets, fetch
from ccgi_dash.locking import LockHeld, SyncLock
from ccgi_dash.settings import Settings
from ccgi_dash.store import DataDir, append_jsonl, log_error, now_iso, read_jsonl

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_BUSY = 0, 1, 2, 3


@dataclass
class SyncReport:
    fetch: FetchReport | None = None
    fetch_error: str = ""
    ingest: loader.IngestReport | None = None
    waiting: list[str] = field(default_factory=list)
    exit_code: int = EXIT_OK
    seconds: float = 0.0
    busy: str = ""
    """Set when another sync held the lock: the one line this run prints."""

    def lines(self) -> list[str]:
        """The one-screen summary printed at the end of a sync (one line when another sync
        was running)."""
        if self.busy:
            return [self.busy]
        out = ["== CCGI sync summary =="]
        if self.fetch_error:
            out.append(f"Fetch FAILED: {self.fetch_error}")
        elif self.fetch is not None:
            f = self.fetch
            out.append("Fetch: " + f.summary())
            out.extend(f"  fetch error: {e}" for e in f.errors)
        for w in self.waiting:
            out.append(f"Waiting for the rest of a drop: {w}")
        if self.ingest is not None and self.ingest.outcomes:
            out.extend(self.ingest.summary_lines())
        elif self.ingest is not None:
            out.append("No new complete drop to load.")
        out.append(f"Exit code {self.exit_code} "
                   f"({'OK' if self.exit_code == 0 else 'needs attention'}), "
                   f"{self.seconds:.1f} s.")
        return out


def _split(dd: DataDir, settings: Settings) -> tuple[list[Path], list[str],
                                                     dict[str, list[Path]]]:
    """Which inbox files to load now, which drops wait, and each drop's files."""
    found = loader.discover([dd.inbox])
    skip = settings.ingest.datasets_not_received
    newest = max((d.day for d in found.drops), default=None)
    offer: list[Path] = []
    waiting: list[str] = []
    files: dict[str, list[Path]] = {}
    for drop in found.drops:
        files[drop.day.isoformat()] = list(drop.sources)
        missing = drop.missing(skip)
        if missing and not drop.faults and drop.day == newest:
            waiting.append(f"{drop.day} has {len(drop.by_dataset())} of "
                           f"{len(drop.by_dataset()) + len(missing)} files; missing "
                           f"{', '.join(missing)}")
            continue
        offer.extend(drop.sources)
    return offer, waiting, files


def sync(dd: DataDir, settings: Settings, secrets: FetchSecrets | None = None, *,
         progress: Callable[[str], None] | None = None) -> SyncReport:
    """Fetch new files, then load the complete drops in the inbox. Never raises for
    operational problems: the report's exit code says what happened."""
    started = time.monotonic()
    report = SyncReport()
    dd.ensure()
    try:
        with SyncLock(dd):
            try:
                report.fetch = fetch(dd, settings.sftp, secrets or FetchSecrets.from_env(),
                                     progress=progress)
                if report.fetch.errors:
                    report.exit_code = EXIT_FAILED
            except FetchConfigError as exc:
                report.fetch_error = str(exc)
                report.exit_code = EXIT_CONFIG
            except FetchError as exc:
                report.fetch_error = str(exc)
                report.exit_code = EXIT_FAILED
            if report.exit_code != EXIT_CONFIG:
                offer, report.waiting, files = _split(dd, settings)
                report.ingest = (loader.ingest(dd, offer, settings, progress=progress)
                                 if offer else loader.IngestReport())
                for o in report.ingest.outcomes:
                    if o.status == "rejected" and o.quarantine is None:
                        continue  # no copy was kept: the files stay in the inbox
                    for p in files.get(o.drop_date.isoformat(), []):
                        with contextlib.suppress(FileNotFoundError):
                            p.unlink()
                if report.ingest.exit_code and report.exit_code == EXIT_OK:
                    report.exit_code = EXIT_FAILED
    except LockHeld as exc:
        who = f" (pid {exc.pid})" if getattr(exc, "pid", None) else ""
        report.busy = (f"Another sync is already running{who}; this one did nothing and "
                       "exits with code 3. No action needed: the running sync fetches and "
                       "loads what has arrived.")
        report.exit_code = EXIT_BUSY
    except Exception as exc:  # a bug: recorded, one line, never a traceback on the console
        log = log_error(dd.logs, exc, "sync")
        report.fetch_error = (f"unexpected error ({type(exc).__name__}); the traceback is in "
                              f"{log}. Data already loaded is unchanged.")
        report.exit_code = EXIT_FAILED
    report.seconds = time.monotonic() - started
    _record(dd, report)
    return report


def _record(dd: DataDir, report: SyncReport) -> None:
    ingest = report.ingest
    append_jsonl(dd.logs / "syncs.jsonl", {
        "at": now_iso(),
        "exit_code": report.exit_code,
        "fetched": len(report.fetch.fetched) if report.fetch else 0,
        "fetch_error": report.fetch_error or report.busy,
        "loaded": [str(o.drop_date) for o in ingest.outcomes if o.status == "loaded"]
        if ingest else [],
        "rejected": [str(o.drop_date) for o in ingest.outcomes if o.status == "rejected"]
        if ingest else [],
        "waiting": report.waiting,
        "seconds": round(report.seconds, 2),
    })


def last_sync(dd: DataDir) -> dict | None:
    """The most recent sync run, for the data status page."""
    runs = read_jsonl(dd.logs / "syncs.jsonl")
    return runs[-1] if runs else None
