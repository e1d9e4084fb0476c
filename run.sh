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
if [ ! -f "$DEMO_DIR/warehouse/manifest.json" ]; then
  county=${DEMO_COUNTY:-Fresno}
  echo "Building the synthetic demo for $county County (one drop a week, last year and this)"
  # Each weekly drop is loaded (validated, one database file per drop) as soon as it is
  # written, and its CSV files removed once loaded: raw/ keeps them compressed.
  .venv/bin/python -m ccgi_dash demo --county "$county" --scale "${DEMO_SCALE:-1}" \
    --out "$DEMO_DIR/drops" --data-dir "$DEMO_DIR" --load --quiet
fi

exec .venv/bin/streamlit run app.py --server.port "${PORT:-8501}" "$@"
