"""The first run: from the end of the install to the first page of the default demo.

``./run.sh`` on a fresh machine installs, then builds the Fresno County demo and starts the
app. This benchmark times what comes after the install, with the very commands ``run.sh``
runs (:func:`demo_commands`, kept in step with it by ``tests/test_loader.py``), into a
temporary demo directory:

1. ``python -m ccgi_dash demo ... --out <dir>/drops --data-dir <dir> --load --quiet``: each
   weekly drop written and loaded through the real loader, its CSVs removed once loaded;
2. ``streamlit run app.py``, and a headless Chromium (Playwright, as the browser tests use)
   opening the app until the welcome page's "Enter the demo" button shows: the first page;
3. one click on that button until the Overview page's headline numbers show: the first
   dashboard page.

It reports each phase, the total to the first page, and the disk the demo directory takes
(raw copies, databases, quarantine, anything left in ``drops/``). Run by hand on a quiet
machine (it uses every core it is given):

    .venv/bin/python -m benchmarks.bench_first_run            # Fresno, scale 1
    CCGI_FIRST_RUN_COUNTY=Kern .venv/bin/python -m benchmarks.bench_first_run

The result goes to ``benchmarks/out/first_run.json``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import ROOT, save

COUNTY = os.environ.get("CCGI_FIRST_RUN_COUNTY", "Fresno")
SCALE = os.environ.get("CCGI_FIRST_RUN_SCALE", "1")
THROUGH = os.environ.get("CCGI_FIRST_RUN_THROUGH", "")
"""A fixed last drop date (YYYY-MM-DD) makes runs on different days comparable."""
CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 120_000


def demo_commands(demo_dir: Path) -> dict[str, list[str]]:
    """What ``run.sh`` runs to build the demo when none is loaded (same arguments)."""
    py = sys.executable
    demo = [py, "-m", "ccgi_dash", "demo", "--county", COUNTY, "--scale", SCALE,
            "--out", str(demo_dir / "drops"), "--data-dir", str(demo_dir), "--load",
            "--quiet"]
    if THROUGH:
        demo += ["--through", THROUGH]
    return {"demo_and_load": demo}


def du(path: Path) -> int:
    """Bytes used on disk by the files under ``path`` (0 when it does not exist)."""
    if not path.exists():
        return 0
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _streamlit(demo_dir: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = _free_port()
    env = {**os.environ, "CCGI_DEMO_DIR": str(demo_dir),
           "CCGI_DATA_DIR": str(demo_dir.parent / "real")}
    for name in ("CCGI_USERS_FILE", "CCGI_COOKIE_KEY"):
        env.pop(name, None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("streamlit")), "run", "app.py",
             "--server.headless", "true", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield f"http://127.0.0.1:{port}", proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_health(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited ({proc.returncode}):\n{log.read_text()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(
                f"{url}/_stcore/health", timeout=2) as r:
            if r.status == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"streamlit did not answer:\n{log.read_text()}")


def main() -> None:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="ccgi-first-run-"))
    demo_dir = work / "demo"
    result: dict[str, object] = {"county": COUNTY, "scale": SCALE, "through": THROUGH or None,
                                 "cpus": os.cpu_count()}
    try:
        # The browser is started before the clock: on a user's machine it is already open.
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM) if CHROMIUM.exists() else None,
                args=["--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking"])
            t0 = time.perf_counter()
            phases: dict[str, float] = {}
            for name, cmd in demo_commands(demo_dir).items():
                t = time.perf_counter()
                run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                                     check=False)
                phases[name] = round(time.perf_counter() - t, 2)
                print(f"{name}: {phases[name]:.1f} s (exit {run.returncode})", flush=True)
                print(run.stdout.strip(), flush=True)
                if run.returncode != 0:
                    raise SystemExit(f"{name} failed:\n{run.stdout}\n{run.stderr}")
            t = time.perf_counter()
            with _streamlit(demo_dir, work / "streamlit.log") as (url, proc):
                _wait_health(url, proc, work / "streamlit.log")
                phases["server_up"] = round(time.perf_counter() - t, 2)
                page = browser.new_page()
                page.goto(url)
                page.get_by_role("button", name="Enter the demo").wait_for(timeout=TIMEOUT_MS)
                phases["welcome_page"] = round(time.perf_counter() - t, 2)
                first_page = time.perf_counter() - t0
                page.get_by_role("button", name="Enter the demo").click()
                page.locator('[data-testid="stMetricValue"]').first.wait_for(
                    timeout=TIMEOUT_MS)
                phases["overview_page"] = round(time.perf_counter() - t, 2)
                first_dashboard = time.perf_counter() - t0
            browser.close()
        result["phases_s"] = phases
        result["to_first_page_s"] = round(first_page, 2)
        result["to_first_dashboard_page_s"] = round(first_dashboard, 2)
        disk = {part: du(demo_dir / part)
                for part in ("drops", "raw", "warehouse", "quarantine", "logs", "inbox")}
        disk["total"] = du(demo_dir)
        result["disk_mb"] = {k: round(v / 2**20, 1) for k, v in disk.items()}
        result["drops"] = len(list((demo_dir / "raw").iterdir()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = save("first_run", result)
    print(f"first page {result.get('to_first_page_s')} s after the install "
          f"(dashboard page {result.get('to_first_dashboard_page_s')} s); disk "
          f"{result.get('disk_mb')}; written to {path}")


if __name__ == "__main__":
    main()
