"""The export contract of metrics.md: one row per group, suppressed unless raw.

The CLI's ``export`` and every CSV download of a metric table go through ``metric_export``,
so a download and an export of the same view are the same rows with the same cells hidden.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

import pandas as pd

from ccgi_dash import metrics
from ccgi_dash.metrics import Filters
from ccgi_dash.privacy import suppress, to_csv_bytes
from ccgi_dash.scope import Scope
from ccgi_dash.store import Warehouse

EXPORT_COLUMNS = ("metric", "numerator", "denominator", "rate", "suppressed")


def metric_export(wh: Warehouse, scope: Scope, metric_id: str, by: Sequence[str] = (),
                  filters: Filters = Filters(), as_of: date | None = None, *,
                  raw: bool = False, threshold: int = 11) -> pd.DataFrame:
    """The export frame: breakdown columns, then metric, numerator, denominator, rate (0..1,
    4 decimals), suppressed. ``raw`` skips suppression and is only for operators entitled to
    unsuppressed counts (the CLI's holder of the files, an admin)."""
    frame = metrics.compute(wh, scope, metric_id, by, filters, as_of)
    frame = frame.assign(suppressed=False) if raw else suppress(frame, by, threshold)
    frame = frame.drop(columns=["school_district"], errors="ignore")
    frame.insert(len(frame.columns) - 4, "metric", metric_id)
    frame["rate"] = pd.array([None if r is None or pd.isna(r) else round(float(r), 4)
                              for r in frame["rate"]], dtype="Float64")
    frame["numerator"] = pd.array([None if n is None or pd.isna(n) else int(n)
                                   for n in frame["numerator"]], dtype="Int64")
    frame["suppressed"] = frame["suppressed"].astype(bool)
    if "drop_date" in frame:
        frame["drop_date"] = [d.isoformat() for d in frame["drop_date"]]
    return frame.reset_index(drop=True)


def render(frame: pd.DataFrame, fmt: str) -> bytes:
    """CSV (formula-safe, Excel-friendly) or JSON records, as the CLI writes them."""
    if fmt == "csv":
        return to_csv_bytes(frame)
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        return (json.dumps(records, indent=1) + "\n").encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; use csv or json")
