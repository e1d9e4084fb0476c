"""What is loaded: drops, rows per dataset, rejects, recent load attempts.

Read from the manifest and the load log only, so the status is instant however much history
is loaded, and works while a load is running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from ccgi_dash.datasets import DATASET_NAMES
from ccgi_dash.metrics import METRICS, compute, previous_drop, school_year_of
from ccgi_dash.scope import Scope
from ccgi_dash.settings import Settings
from ccgi_dash.store import DataDir, Warehouse, read_backfill, read_jsonl, read_manifest


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


def disk_usage(dd: DataDir) -> dict[str, int]:
    """Bytes on disk under the data directory's raw copies, databases and quarantine (what
    grows with every drop), plus the inbox and logs. Blocks actually allocated are counted,
    so compressed or sparse files count what they really take."""
    parts = {"raw files": dd.raw, "databases": dd.warehouse, "quarantine": dd.quarantine,
             "inbox": dd.inbox, "logs": dd.logs}
    out = {}
    for label, folder in parts.items():
        total = 0
        if folder.exists():
            for p in folder.rglob("*"):
                try:
                    st = p.lstat()
                except OSError:
                    continue
                if p.is_file():
                    total += getattr(st, "st_blocks", 0) * 512 or st.st_size
        out[label] = total
    return out


def size_text(n: int) -> str:
    """Bytes for a person: 1.2 GB, 310.4 MB, 12.0 KB."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


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


def backfill_text(dd: DataDir) -> str | None:
    """What the app says while the demo's earlier weeks are still loading (newest first,
    see :func:`ccgi_dash.demo.generate_and_load`), or None when nothing is loading and
    nothing was left half done. Read from the small status file the loader writes."""
    b = read_backfill(dd)
    if b is None or b.done or b.settled >= b.total:
        return None
    if b.running:
        return (f"Loading earlier weeks: {b.settled} of {b.total}; trends fill in as they "
                "arrive.")
    return (f"Loading earlier weeks stopped at {b.settled} of {b.total} (the load was "
            "interrupted); trends show only the weeks loaded. Run ./run.sh again to finish.")


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
        loading = backfill_text(dd)
        if loading:
            lines.append(loading)
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
    usage = disk_usage(dd)
    lines.append("Disk used: " + ", ".join(f"{label} {size_text(n)}"
                                           for label, n in usage.items())
                 + f" (total {size_text(sum(usage.values()))})")
    return lines




WATCHED = ("account_registered", "aid_submitted", "aid_completed", "uc_submitted",
           "csu_submitted", "favorite_college", "career_assessment")
"""Counts that only grow during a school year: a fall from one week to the next is unusual."""


def week_over_week(wh: Warehouse, scope: Scope, as_of: date | None = None,
                   roster_change: float = 0.05) -> pd.DataFrame:
    """Per district: roster and key counts this drop against the previous one, flagged.

    A change is flagged when the roster moves more than ``roster_change`` (5%) either way,
    a district appears or disappears, or a count that only grows in a school year falls.
    Counts are unsuppressed: this view is for the COE's data administrators.
    """
    drop = wh.resolve(as_of)
    prev = previous_drop(wh.drops, drop) if drop else None
    cols = ["district", "district_name", "students_before", "students_now", "change",
            "flags"]
    if drop is None or prev is None:
        return pd.DataFrame(columns=cols)
    frames = {}
    for d in (prev, drop):
        base = compute(wh, scope, "account_registered", ("district",), as_of=d)
        base = base.rename(columns={"denominator": "students"})[
            ["district", "district_name", "students"]]
        for m in WATCHED:
            part = compute(wh, scope, m, ("district",), as_of=d)
            counts = dict(zip(part["district"], part["numerator"], strict=True))
            base[m] = [int(counts.get(c, 0)) for c in base["district"]]
        frames[d] = base.set_index("district")
    before, now = frames[prev], frames[drop]
    rows = []
    same_year = school_year_of(prev) == school_year_of(drop)
    for code in sorted(set(before.index) | set(now.index)):
        b = before.loc[code] if code in before.index else None
        n = now.loc[code] if code in now.index else None
        name = (n if n is not None else b)["district_name"]
        sb = int(b["students"]) if b is not None else 0
        sn = int(n["students"]) if n is not None else 0
        flags = []
        if b is None:
            flags.append("new this week")
        elif n is None:
            flags.append("missing this week")
        elif sb and abs(sn - sb) / sb > roster_change:
            flags.append(f"roster {(sn - sb) / sb:+.0%}")
        if b is not None and n is not None and same_year:
            for m in WATCHED:
                if int(n[m]) < int(b[m]):
                    flags.append(f"{METRICS[m].title} fell {int(b[m])} → {int(n[m])}")
        rows.append({"district": code, "district_name": name, "students_before": sb,
                     "students_now": sn, "change": sn - sb, "flags": "; ".join(flags)})
    out = pd.DataFrame(rows, columns=cols)
    out["_quiet"] = out["flags"] == ""
    return out.sort_values(["_quiet", "district_name"]).drop(columns="_quiet").reset_index(
        drop=True)


def rejected_rows(wh: Warehouse, scope: Scope, as_of: date | None = None,
                  limit: int = 5000) -> pd.DataFrame:
    """The rows the loader set aside for the as-of drop: file, line, column, value, reason.

    Scoped by the school code the row gave when it has one (roster rows); rows of other files
    carry only an SSID and are shown to county-wide scopes only.
    """
    drop = wh.resolve(as_of)
    cols = ["dataset", "file", "line", "column_name", "value", "reason"]
    if drop is None or scope.sees_nothing:
        return pd.DataFrame(columns=cols)
    scope_sql, params = scope.sql("substr(school_cds, 1, 7)")
    sql = (f"SELECT dataset, file, line, column_name, value, reason "
           f"FROM {wh.table(drop, 'rejects')} WHERE {scope_sql} "
           f"ORDER BY dataset, line LIMIT ?")
    with wh.query() as cur:
        return cur.execute(sql, [*params, int(limit)]).df()
