"""Validated ingest of one Los Angeles-scale drop against a bare DuckDB read_csv.

    .venv/bin/python -m benchmarks.bench_ingest [--repeat 3]

Writes one LA drop (~680,000 students) as CSV, then in the same run, alternating:
* bare: ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` for each of the ten files into a
  fresh DuckDB file (what any loader must at least do);
* ingest: ``python -m ccgi_dash ingest`` into a fresh data directory, in a child process so
  its peak memory is measured on its own (ru_maxrss of the child).
Targets: ingest at most 2x the bare read; peak memory under 2 GB.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys

import duckdb

from benchmarks.common import LAST_DROP, OUT, ROOT, save, write_drops

WRAP = """
import resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def child(cmd: list[str]) -> tuple[float, float]:
    """Run a command in a fresh wrapper; return (seconds, peak RSS MB of that command alone)."""
    out = subprocess.run([sys.executable, "-c", WRAP, *cmd], check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    folder = OUT / "ingest-drop"
    drop_dir = folder / f"{LAST_DROP:%Y%m%d}"
    if not (drop_dir / f"students_{LAST_DROP:%Y%m%d}.csv").exists():
        print("writing one Los Angeles-scale drop ...", flush=True)
        write_drops([LAST_DROP], folder)
    size = sum(p.stat().st_size for p in drop_dir.glob("*.csv")) / 2**20
    con = duckdb.connect()
    rows = {p.stem: con.execute("SELECT count(*) FROM read_csv(?, header=true, quote='\"', "
                                "escape='\"')", [str(p)]).fetchone()[0]
            for p in sorted(drop_dir.glob("*.csv"))}
    con.close()
    print(f"drop: {size:,.0f} MB in 10 files, {sum(rows.values()):,} rows "
          f"({rows[f'students_{LAST_DROP:%Y%m%d}']:,} students)")
    bare, ingest, peak = [], [], []
    py = sys.executable
    for i in range(args.repeat):
        target = folder / "bare.duckdb"
        target.unlink(missing_ok=True)
        s, _ = child([py, str(ROOT / "benchmarks" / "bare_read.py"), str(drop_dir), str(target)])
        bare.append(s)
        data = folder / "data"
        shutil.rmtree(data, ignore_errors=True)
        s, mb = child([py, "-m", "ccgi_dash", "ingest", "--quiet", "--data-dir", str(data),
                       str(drop_dir)])
        ingest.append(s)
        peak.append(mb)
        print(f"run {i + 1}: bare read {bare[-1]:.2f} s, validated ingest {ingest[-1]:.2f} s",
              flush=True)
    result = {
        "rows": rows, "csv_mb": round(size),
        "bare_read_s": round(statistics.median(bare), 2),
        "ingest_s": round(statistics.median(ingest), 2),
        "ratio": round(statistics.median(ingest) / statistics.median(bare), 2),
        "ingest_peak_rss_mb_max": round(max(peak)),
    }
    print(f"median: bare read {result['bare_read_s']} s, ingest {result['ingest_s']} s, "
          f"ratio {result['ratio']}x (target <= 2x); peak RSS of the ingest process "
          f"<= {result['ingest_peak_rss_mb_max']} MB (target < 2048 MB)")
    print(f"saved {save('ingest', result)}")


if __name__ == "__main__":
    main()
