"""The export contract of metrics.md: one row per group, suppressed unless raw.

The CLI's ``export`` and every CSV download of a metric table go through ``metric_export``,
so a download and an export of the same view are the same rows with the same cells hidden.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from ccgi_dash import metrics
from ccgi_dash.metrics import Request
from ccgi_dash.privacy import suppress_metric, to_csv_bytes
from ccgi_dash.store import Warehouse

EXPORT_COLUMNS = ("metric", "numerator", "denominator", "rate", "suppressed")


def metric_export(wh: Warehouse, request: Request, metric_id: str, by: Sequence[str] = (), *,
                  raw: bool = False) -> pd.DataFrame:
    """The export frame: breakdown columns, then metric, numerator, denominator, rate (0..1,
    4 decimals), suppressed. ``raw`` skips suppression and is only for operators entitled to
    unsuppressed counts (the CLI's holder of the files, an admin).

    Suppression is ``privacy.suppress_metric``, as on every page: a population that is
    another metric's hidden count has an empty ``denominator`` too. This is exactly what
    ``python -m ccgi_dash export`` writes (before ``render``)."""
    frame = metrics.compute(wh, request.scope, metric_id, by, request.filters, request.as_of)
    frame = (frame.assign(suppressed=False) if raw
             else suppress_metric(wh, request, metric_id, by, frame))
    frame = frame.drop(columns=["school_district", "population_hidden"], errors="ignore")
    frame.insert(len(frame.columns) - 4, "metric", metric_id)
    frame["rate"] = pd.array([None if r is None or pd.isna(r) else round(float(r), 4)
                              for r in frame["rate"]], dtype="Float64")
    frame["numerator"] = pd.array([None if n is None or pd.isna(n) else int(n)
                                   for n in frame["numerator"]], dtype="Int64")
    frame["denominator"] = pd.array([None if n is None or pd.isna(n) else int(n)
                                     for n in frame["denominator"]], dtype="Int64")
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
