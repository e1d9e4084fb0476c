#!/usr/bin/env bash
# One command on a fresh machine: create the environment, install, build the synthetic demo
# data if none is loaded, and start the app at http://localhost:8501.
#   ./run.sh                  Fresno County demo (default)
#   DEMO_COUNTY="Los Angeles" DEMO_SCALE=0.2 ./run.sh
set -euo pipefail
cd "$(dirname "$0")"

# WeasyPrint (the PDF brief) needs Debian's Pango libraries and the DejaVu fonts.
need=()
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "Installing system packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt

DEMO_DIR=${CCGI_DEMO_DIR:-data/demo}
export CCGI_DEMO_DIR="$DEMO_DIR"
# The demo is (re)built when none is loaded, or when an earlier run's backfill was cut short.
demo_needed() {
  [ ! -f "$DEMO_DIR/warehouse/manifest.json" ] && return 0
  .venv/bin/python -c 'import sys; from pathlib import Path
from ccgi_dash.store import DataDir, read_backfill
b = read_backfill(DataDir(Path(sys.argv[1])))
sys.exit(0 if b is not None and not b.done and not b.running else 1)' "$DEMO_DIR"
}
if demo_needed; then
  county=${DEMO_COUNTY:-Fresno}
  echo "Building the synthetic demo for $county County (one drop a week, last year and this)"
  # The current week is written and loaded first; the app starts as soon as it is in, and
  # the earlier weeks load newest to oldest in the background while it runs (the app says
  # so until they are all in). Each weekly drop goes through the real loader (validated,
  # one database file per drop); its CSV files are removed once loaded: raw/ keeps them
  # compressed. The background load's output goes to $DEMO_DIR/logs/demo-build.log.
  mkdir -p "$DEMO_DIR/logs"
  log="$DEMO_DIR/logs/demo-build.log"
  .venv/bin/python -m ccgi_dash demo --county "$county" --scale "${DEMO_SCALE:-1}" \
    --out "$DEMO_DIR/drops" --data-dir "$DEMO_DIR" --load --newest-first --quiet >"$log" 2>&1 &
  builder=$!
  until [ -f "$DEMO_DIR/warehouse/manifest.json" ]; do
    if ! kill -0 "$builder" 2>/dev/null; then
      wait "$builder" || true
      echo "Building the demo failed:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "The current week is loaded; earlier weeks keep loading in the background ($log)."
fi

exec .venv/bin/streamlit run app.py --server.port "${PORT:-8501}" "$@"
