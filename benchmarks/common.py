"""Shared pieces of the benchmarks: Los Angeles-scale drops, timing, memory.

The benchmarks use the demo generator's world (``DemoWorld``) so the data has the shape of a
real county: Los Angeles at scale 1 is about 680,000 students in grades 6-12 with the other
datasets in proportion. Output goes to ``benchmarks/out/`` (not in git).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ccgi_dash import demo
from ccgi_dash.datasets import DATASET_NAMES

ROOT = Path(__file__).resolve().parents[1]

OUT = Path(os.environ.get("CCGI_BENCH_OUT", ROOT / "benchmarks" / "out"))
COUNTY = os.environ.get("CCGI_BENCH_COUNTY", "Los Angeles")
SCALE = float(os.environ.get("CCGI_BENCH_SCALE", "1.0"))
LAST_DROP = date(2026, 11, 20)


def weekly(n: int, last: date = LAST_DROP) -> list[date]:
    """The last ``n`` Fridays up to ``last``, oldest first."""
    return [last - timedelta(weeks=i) for i in reversed(range(n))]


def write_drops(dates: list[date], folder: Path, *,
                on_drop: Callable[[date, Path], None] | None = None) -> None:
    """Write LA-scale drops for ``dates`` (in order) as CSV files into ``folder/<date>/``.

    ``on_drop`` is called after each drop is written (the scaling benchmark loads it and
    deletes the CSVs there, to keep the disk footprint to one drop at a time).
    """
    world = demo.DemoWorld.create(COUNTY, seed=7, scale=SCALE, through=dates[-1])
    con = duckdb.connect()
    for d in dates:
        tables = world.drop(d)
        target = folder / f"{d:%Y%m%d}"
        target.mkdir(parents=True, exist_ok=True)
        for name in DATASET_NAMES:
            demo._write(con, tables[name], target / f"{name}_{d:%Y%m%d}.csv")
        if on_drop:
            on_drop(d, target)
    con.close()


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux: ru_maxrss is in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def save(name: str, result: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    return path
