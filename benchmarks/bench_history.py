"""40 weekly Los Angeles-scale drops: load time as history grows, then metric query times.

    .venv/bin/python -m benchmarks.bench_history [--drops 40] [--skip-load]

1. Writes and loads 40 weekly LA drops one at a time (each CSV set is deleted once loaded;
   the loader keeps its raw copy), timing every load: the 40th must load as fast as the
   first, since no step may copy or rescan the history.
2. On the loaded warehouse, times every metric with a breakdown (district, school, a
   subgroup, two dimensions, and the weekly trend over all 40 drops), 7 runs each after one
   warm-up, each run a real query: the counts ``compute`` remembers are forgotten first
   (``metrics.forget_counts``), so a run counts the metric with the other metrics of its
   population, in one query, as a page's first ask does. Target: every single metric with a
   breakdown under 100 ms median.
The warehouse stays in benchmarks/out/history/data for bench_pages.py.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

from benchmarks.common import OUT, ROOT, median_ms, save, weekly, write_drops
from ccgi_dash import metrics
from ccgi_dash.scope import Scope
from ccgi_dash.store import DataDir, Warehouse

BREAKDOWNS = [("district",), ("school",), ("race_ethnicity",), ("district", "sed"),
              ("drop_date",)]


def load_history(n: int) -> list[dict]:
    folder = OUT / "history"
    data = folder / "data"
    shutil.rmtree(folder, ignore_errors=True)
    loads: list[dict] = []

    def load(d, target) -> None:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ccgi_dash", "ingest", "--quiet", "--data-dir",
                        str(data), str(target)], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t
        shutil.rmtree(target)
        loads.append({"drop": str(d), "seconds": round(seconds, 2)})
        print(f"drop {len(loads):>2} ({d}): loaded in {seconds:.2f} s", flush=True)

    write_drops(weekly(n), folder / "csv", on_drop=load)
    return loads


def time_queries(data: DataDir) -> dict:
    wh = Warehouse(data)
    scope = Scope.county()
    results: dict[str, dict[str, float]] = {}
    for by in BREAKDOWNS:
        key = ",".join(by)
        results[key] = {}
        for m in metrics.METRICS:
            metrics.compute(wh, scope, m, by)
            samples = []
            for _ in range(7):
                metrics.forget_counts(wh)
                t = time.perf_counter()
                metrics.compute(wh, scope, m, by)
                samples.append(time.perf_counter() - t)
            results[key][m] = round(median_ms(samples), 1)
        worst = max(results[key].items(), key=lambda kv: kv[1])
        print(f"by {key:<20} median over metrics {statistics.median(results[key].values()):6.1f}"
              f" ms, slowest {worst[0]} {worst[1]:.1f} ms", flush=True)
    rank = {}
    for r in metrics.RANKINGS:
        metrics.ranking(wh, scope, r)
        samples = []
        for _ in range(7):
            t = time.perf_counter()
            metrics.ranking(wh, scope, r)
            samples.append(time.perf_counter() - t)
        rank[r] = round(median_ms(samples), 1)
    print(f"ranked lists: slowest {max(rank.items(), key=lambda kv: kv[1])}", flush=True)
    wh.close()
    return {"metrics_ms": results, "rankings_ms": rank}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--drops", type=int, default=40)
    ap.add_argument("--skip-load", action="store_true", help="reuse the loaded warehouse")
    args = ap.parse_args()
    result: dict = {}
    if not args.skip_load:
        loads = load_history(args.drops)
        first, last = loads[0]["seconds"], loads[-1]["seconds"]
        mid = statistics.median(x["seconds"] for x in loads)
        print(f"first load {first:.2f} s, 40th load {last:.2f} s, median {mid:.2f} s")
        result["loads"] = loads
    result.update(time_queries(DataDir(OUT / "history" / "data")))
    print(f"saved {save('history', result)}")


if __name__ == "__main__":
    main()
