"""The first run: from the end of the install to the first page of the default demo.

``./run.sh`` on a fresh machine installs, then builds the Fresno County demo and starts the
app. This benchmark times what comes after the install, with the very commands ``run.sh``
runs (:func:`demo_commands`, kept in step with it by ``tests/test_loader.py``), into a
temporary demo directory:

1. ``python -m ccgi_dash demo ... --out <dir>/drops --data-dir <dir> --load --newest-first
   --quiet`` started in the background: each weekly drop written and loaded through the real
   loader, the current week first, then the earlier weeks newest to oldest; ``run.sh``
   waits only until the manifest appears (the current week is committed);
2. ``streamlit run app.py``, and a headless Chromium (Playwright, as the browser tests use)
   opening the app until the welcome page's "Enter the demo" button shows: the first page;
3. one click on that button until the Overview page's headline numbers show, and a check
   that it is the current week's ("Data as of the drop of ..."): the first dashboard page;
4. the wait for the background load to finish (every week loaded).

It reports each phase, the total to the first page, the CPU seconds the demo process used
(its own, from ``wait4``: it varies much less with the machine's load than wall time), the
load average before and after, and the disk the demo directory takes (raw copies,
databases, quarantine, anything left in ``drops/``). Run by hand (it uses every core it is
given; ``taskset -c 0,1`` pins it to two):

    .venv/bin/python -m benchmarks.bench_first_run            # Fresno, scale 1
    CCGI_FIRST_RUN_COUNTY=Kern .venv/bin/python -m benchmarks.bench_first_run

The result goes to ``benchmarks/out/first_run.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
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
            "--newest-first", "--quiet"]
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
    builder: subprocess.Popen | None = None
    result: dict[str, object] = {"county": COUNTY, "scale": SCALE, "through": THROUGH or None,
                                 "cpus": len(os.sched_getaffinity(0)),
                                 "load_average_before": [round(x, 1) for x in os.getloadavg()]}
    try:
        # The browser is started before the clock: on a user's machine it is already open.
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM) if CHROMIUM.exists() else None,
                args=["--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking"])
            t0 = time.perf_counter()
            phases: dict[str, float] = {}
            [cmd] = demo_commands(demo_dir).values()
            demo_log = (work / "demo.log").open("wb")
            builder = subprocess.Popen(cmd, cwd=ROOT, stdout=demo_log,
                                       stderr=subprocess.STDOUT)
            manifest = demo_dir / "warehouse" / "manifest.json"
            while not manifest.exists():  # what run.sh waits for
                if builder.poll() is not None:
                    raise SystemExit(f"demo failed:\n{(work / 'demo.log').read_text()}")
                time.sleep(0.05)
            phases["current_week_loaded"] = round(time.perf_counter() - t0, 2)
            print(f"current week loaded: {phases['current_week_loaded']:.1f} s", flush=True)
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
                newest = json.loads(manifest.read_text())["drops"][-1]["drop_date"]
                shown = f"Data as of the drop of {date.fromisoformat(newest):%B %d, %Y}"
                result["current_week_shown"] = page.get_by_text(shown).count() > 0
                banner = page.get_by_text("Loading earlier weeks")
                result["banner"] = banner.first.inner_text() if banner.count() else None
                print(f"overview: {shown!r} shown: {result['current_week_shown']}; banner: "
                      f"{result['banner']!r}", flush=True)
            browser.close()
        _, status, usage = os.wait4(builder.pid, 0)
        builder.returncode = os.waitstatus_to_exitcode(status)
        demo_log.close()
        phases["all_weeks_loaded"] = round(time.perf_counter() - t0, 2)
        result["demo_cpu_s"] = round(usage.ru_utime + usage.ru_stime, 1)
        result["demo_exit"] = builder.returncode
        result["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
        print((work / "demo.log").read_text().strip(), flush=True)
        result["phases_s"] = phases
        result["to_first_page_s"] = round(first_page, 2)
        result["to_first_dashboard_page_s"] = round(first_dashboard, 2)
        disk = {part: du(demo_dir / part)
                for part in ("drops", "raw", "warehouse", "quarantine", "logs", "inbox")}
        disk["total"] = du(demo_dir)
        result["disk_mb"] = {k: round(v / 2**20, 1) for k, v in disk.items()}
        result["drops"] = len(list((demo_dir / "raw").iterdir()))
    finally:
        if builder is not None and builder.returncode is None and builder.poll() is None:
            builder.kill()
            builder.wait()
        shutil.rmtree(work, ignore_errors=True)
    path = save("first_run", result)
    print(f"first page {result.get('to_first_page_s')} s after the install "
          f"(dashboard page {result.get('to_first_dashboard_page_s')} s, every week loaded "
          f"{phases.get('all_weeks_loaded')} s, demo CPU {result.get('demo_cpu_s')} s, load "
          f"{result['load_average_before']} -> {result.get('load_average_after')}); disk "
          f"{result.get('disk_mb')}; written to {path}")


if __name__ == "__main__":
    main()
