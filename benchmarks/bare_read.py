"""The baseline of bench_ingest: DuckDB's own read_csv of each file into a table, nothing
else. ``python bare_read.py DROP_FOLDER TARGET.duckdb``"""

import pathlib
import sys

import duckdb

con = duckdb.connect(sys.argv[2])
for i, f in enumerate(sorted(pathlib.Path(sys.argv[1]).glob("*.csv"))):
    con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?, header = true, quote = '\"', "
                "escape = '\"')", [str(f)])
con.close()
