"""What is loaded: drops, rows per dataset, rejects, recent load attempts.

Read from the manifest and the load log only, so the status is instant however much history
is loaded, and works while a load is running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from ccgi_dash.datasets import DATASET_NAMES
from ccgi_dash.settings import Settings
from ccgi_dash.store import DataDir, read_jsonl, read_manifest


def drops_frame(dd: DataDir) -> pd.DataFrame:
    """One row per loaded drop: date, when loaded, rows per dataset, rejects, warnings."""
    manifest = read_manifest(dd)
    rows = []
    for d in manifest.drops:
        row: dict[str, object] = {"drop_date": d.date, "school_year": d.school_year,
                                  "loaded_at": d.loaded_at}
        for name in DATASET_NAMES:
            row[name] = d.rows.get(name, 0)
        row["rejected_rows"] = d.rejects
        row["warnings"] = len(d.warnings)
        row["override"] = d.override
        rows.append(row)
    cols = ["drop_date", "school_year", "loaded_at", *DATASET_NAMES, "rejected_rows",
            "warnings", "override"]
    return pd.DataFrame(rows, columns=cols)


def load_attempts(dd: DataDir) -> pd.DataFrame:
    """Every load attempt from the load log, newest first (loaded, already loaded, rejected)."""
    records = read_jsonl(dd.load_log)
    cols = ["at", "drop_date", "outcome", "message", "rejects", "override", "seconds"]
    frame = pd.DataFrame(records)
    for c in cols:
        if c not in frame:
            frame[c] = None
    return frame[cols].iloc[::-1].reset_index(drop=True)


@dataclass(frozen=True)
class Freshness:
    latest: date | None
    age_days: int | None
    stale: bool
    next_expected: date | None


def freshness(dd: DataDir, settings: Settings, today: date | None = None) -> Freshness:
    """How old the newest drop is, whether that is stale, and when the next is due (weekly)."""
    manifest = read_manifest(dd)
    latest = manifest.latest()
    today = today or date.today()
    if latest is None:
        return Freshness(None, None, False, None)
    age = (today - latest.date).days
    nxt = latest.date + timedelta(days=7)
    while nxt < today:
        nxt += timedelta(days=7)
    return Freshness(latest.date, age, age > settings.stale_after_days, nxt)


def status_lines(dd: DataDir, settings: Settings) -> list[str]:
    """The text of ``python -m ccgi_dash status``."""
    manifest = read_manifest(dd)
    lines = [f"Data directory: {dd.root.resolve()}"]
    if settings.source:
        lines.append(f"Settings: {settings.source}")
    if not manifest.drops:
        lines.append("No drops loaded yet. Load some with: python -m ccgi_dash ingest PATH")
    else:
        first, last = manifest.drops[0], manifest.drops[-1]
        lines.append(f"Drops loaded: {len(manifest.drops)} ({first.drop_date} .. "
                     f"{last.drop_date}), county {manifest.county_code}")
        fresh = freshness(dd, settings)
        note = f" (STALE: older than {settings.stale_after_days} days)" if fresh.stale else ""
        lines.append(f"Newest drop: {last.drop_date}, {fresh.age_days} days old{note}; "
                     f"next expected {fresh.next_expected}")
        lines.append("Rows in the newest drop:")
        width = max(len(n) for n in DATASET_NAMES)
        for name in DATASET_NAMES:
            lines.append(f"  {name:<{width}}  {last.rows.get(name, 0):>10,}")
        lines.append(f"  {'rejected rows':<{width}}  {last.rejects:>10,}")
        for w in last.warnings:
            lines.append(f"  warning: {w}")
    attempts = read_jsonl(dd.load_log)
    rejected = [a for a in attempts if a.get("outcome") == "rejected"]
    if attempts:
        lines.append(f"Load attempts: {len(attempts)}, rejected: {len(rejected)}")
        for a in rejected[-5:]:
            lines.append(f"  rejected {a.get('drop_date') or '?'} at {a.get('at')}: "
                         f"{str(a.get('message', '')).splitlines()[0] if a.get('message') else ''}")
    quarantined = sorted(p.name for p in dd.quarantine.glob("*")) if dd.quarantine.exists() else []
    if quarantined:
        lines.append(f"Quarantined drops ({dd.quarantine}): {', '.join(quarantined[-5:])}")
    return lines


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
