"""The dashboard in a real browser: filter changes per page, ten sessions during a load, and
the app's CPU time per interaction.

    .venv/bin/python -m benchmarks.bench_browser                  # Fresno demo, scale 1
    .venv/bin/python -m benchmarks.bench_browser --scale 0.2      # a smaller Fresno
    .venv/bin/python -m benchmarks.bench_browser --data data/demo # an existing demo warehouse
    .venv/bin/python -m benchmarks.bench_browser --shots /tmp/shots --phases shots

The data. By default the benchmark builds its own demo under
``benchmarks/out/browser/<county>-<scale>/`` (kept for later runs): ``python -m ccgi_dash demo
--county Fresno --scale 1 --through 2026-11-20`` (73 weekly drops; Fresno at scale 1 is about
92,000 students in grades 6-12 in 104 schools), and ``python -m ccgi_dash ingest`` of every
drop but the last, which is held back as the first drop loaded during phase (b); the weeks
after it are drawn by the demo generator (same county, scale and seed) under
``benchmarks/out/browser/<county>-<scale>-next/``. Each run works on a fresh copy of that
warehouse, so a run's loads never change the next run's data. ``--data`` uses a loaded data
directory instead (copied, never changed; ``data/demo`` as ``run.sh`` builds it is used when
present and neither ``--scale`` nor ``--county`` is given); the drops loaded during (b) are
then the demo generator's weeks after its latest, for ``--county`` and ``--scale``, which must
be the ones the directory was built with.

The machine. The app (``streamlit run app.py``, headless, on a free 127.0.0.1 port) runs
pinned to core 0 with ``taskset -c 0``, and so does the load in (b); this process, Playwright's
driver and Chromium (Debian's ``/usr/bin/chromium``) run on core 1. On a machine with fewer
than two cores nothing is pinned (the JSON says so). No traffic leaves 127.0.0.1.

(a) Filter changes. For the demo COE coordinator and a demo district leader (the district
the demo door offers first), every page of their navigation is opened and then, ``--rounds``
times: a district (a school for the leader), a grade and a student group are picked in the
sidebar one after the other, and the filters are cleared. Each change is timed from the click
to the page settled (see ``benchmarks/browser_kit.py`` for the signal). Target: median under
1 s per page, none over 2 s.

(b) Ten browser sessions (``--sessions``), half coordinators, half leaders, each making
``--interactions`` interactions (opening a page, picking a filter, clearing) at once, while
``python -m ccgi_dash ingest`` loads drops into the data directory the app reads, one weekly
drop after another (up to ``--loads``) for as long as the sessions click, so that every
interaction meets a load (one load of a few seconds met only the first dozen). The loads run
as the command does by default, at nice 10 (``ccgi_dash.priority``). ``--pause S`` makes each
session wait S seconds after a change has settled before its next click, as a person reading
the page would (default 0: at once). Target: no error on any page (no ``stException``, no
error alert), no failed load, median under 2 s.
An interaction that has not settled after 30 s (``SETTLE_TIMEOUT_MS``) is a timeout; every
median counts it as 30 s.

(c) The streamlit process's CPU time (utime + stime from /proc/<pid>/stat) over each phase,
divided by its interactions; the same for every Chromium process (the browser's side of an
interaction), and how busy each core was: with ten browsers on one core, the browsers' core,
not the app's, decides how long an interaction takes. And the app's own part of each
interaction: the server (``benchmarks/timed_server.py``, ``streamlit run`` with Streamlit's
session class wrapped) writes down when each rerun request arrived and when the script run
answering it finished; each phase reports the median, 90th percentile and slowest of those.

(floor) The clicks of (b), picking a district and clearing, on ``benchmarks/floor_app.py``:
a Streamlit app of a multiselect and a button and no data, one session alone and then
``--sessions`` at once, with no load. What the browsers need there is what any Streamlit
page costs them, whatever the app: the part of (b) no change to the dashboard can remove.

Results go to ``benchmarks/out/browser.json``; a table is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks import browser_kit as kit
from benchmarks.common import LAST_DROP, OUT, ROOT, save

DEMO_DIR = ROOT / "data" / "demo"
GROUP_FILTER = "Student groups"


# --------------------------------------------------------------------------- data

CLI_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cli_command(*args: str, core: int | None = None) -> list[str]:
    """``python -m ccgi_dash ARGS``, pinned to ``core`` when one is given."""
    cmd = [sys.executable, "-m", "ccgi_dash", *args]
    return cmd if core is None else ["taskset", "-c", str(core), *cmd]


def run_cli(*args: str, core: int | None = None) -> None:
    subprocess.run(cli_command(*args, core=core), cwd=ROOT, env=CLI_ENV, check=True)


def build_demo(county: str, scale: float) -> tuple[Path, Path]:
    """The benchmark's own demo: a loaded warehouse without its newest drop, and the folder
    holding that drop. Built once per county and scale, then reused."""
    home = OUT / "browser" / f"{county.lower().replace(' ', '-')}-{scale:g}"
    drops, extra, base = home / "drops", home / "extra", home / "data"
    if (base / "warehouse" / "manifest.json").exists() and len(list(extra.glob("*.csv"))) == 10:
        return base, extra
    for d in (extra, base):
        shutil.rmtree(d, ignore_errors=True)
    print(f"building the {county} demo at scale {scale:g} in {home}", flush=True)
    run_cli("demo", "--county", county, "--scale", f"{scale:g}", "--through",
            LAST_DROP.isoformat(), "--out", str(drops), "--quiet")
    extra.mkdir(parents=True)
    for f in drops.glob(f"*_{LAST_DROP:%Y%m%d}.csv"):
        f.rename(extra / f.name)
    run_cli("ingest", "--data-dir", str(base), "--quiet", str(drops))
    shutil.rmtree(drops)  # loaded; the same arguments write the same files again
    return base, extra


def later_drops(newest: date, county: str, scale: float, count: int) -> list[Path]:
    """The demo generator's ``count`` weekly drops after ``newest``, a folder each, in date
    order: what (b) loads one after another. Drawn once per county and scale, then reused."""
    import duckdb

    from ccgi_dash import demo

    weeks = [newest + timedelta(weeks=i) for i in range(1, count + 1)]
    stem = f"{county.lower().replace(' ', '-')}-{scale:g}-next"
    folders = [OUT / "browser" / stem / f"{when:%Y%m%d}" for when in weeks]
    if all(len(list(f.glob("*.csv"))) == 10 for f in folders):
        return folders
    world = demo.DemoWorld.create(county, seed=7, scale=scale, through=weeks[-1])
    con = duckdb.connect()
    try:
        for when, folder in zip(weeks, folders, strict=True):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for name, table in world.drop(when).items():
                demo._write(con, table, folder / f"{name}_{when:%Y%m%d}.csv")
    finally:
        con.close()
    return folders


def newest_loaded(data: Path) -> date:
    from ccgi_dash.store import DataDir, read_manifest

    latest = read_manifest(DataDir(data)).latest()
    if latest is None:
        raise SystemExit(f"{data} holds no loaded drop")
    return latest.date


def working_copy(base: Path) -> Path:
    """A fresh copy of the warehouse for this run (its load in (b) changes it)."""
    run = OUT / "browser" / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    # The raw copies the loader keeps are not read by the app: left out (a GB at Fresno).
    shutil.copytree(base, run / "data", ignore=lambda folder, names: [
        n for n in names if Path(folder) == base and n in ("raw", "users.yaml")])
    (run / "data" / "raw").mkdir()
    return run / "data"


# --------------------------------------------------------------------------- phases

def answered(seconds: list[float]) -> dict[str, Any]:
    """The app's own answer times (``Server.answers``): how many, median, 90th percentile
    and slowest."""
    if not seconds:
        return {"n": 0}
    ordered = sorted(seconds)
    return {"n": len(ordered), "median_s": round(statistics.median(ordered), 3),
            "p90_s": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 3),
            "max_s": round(ordered[-1], 3)}


class Meter:
    """What a phase costs from the moment it is made: the app's CPU, every Chromium
    process's CPU and how busy each core is, and the app's own answer time per rerun."""

    def __init__(self, server: kit.Server) -> None:
        self.server = server
        self.app = kit.cpu_seconds(server.proc.pid)
        self.browsers = kit.chromium_cpu_seconds()
        self.ticks = kit.core_ticks()
        self.began = time.monotonic()

    def figures(self, n: int, answers_from: float | None = None) -> dict[str, Any]:
        """The costs so far per interaction (``n`` of them), and the answers to the reruns
        that arrived since ``answers_from`` (default: since the meter was made)."""
        app = kit.cpu_seconds(self.server.proc.pid) - self.app
        browsers = kit.chromium_cpu_seconds() - self.browsers
        return {
            "app_cpu_s": round(app, 2),
            "app_cpu_ms_per_interaction": round(app / n * 1000, 1) if n else None,
            "browser_cpu_ms_per_interaction": round(browsers / n * 1000, 1) if n else None,
            "core_busy": kit.busy_share(self.ticks, kit.core_ticks()),
            "app_answer": answered(self.server.answers(
                self.began if answers_from is None else answers_from, time.monotonic())),
        }


def summary(samples: list[kit.Sample]) -> dict[str, Any]:
    """Count, timeouts, median and slowest of timed interactions. The median counts an
    interaction that never settled as the longest wait (``SETTLE_TIMEOUT_MS``): leaving it
    out would let a timeout make the median look better."""
    secs = [s.seconds for s in samples if s.seconds is not None]
    ranked = secs + [kit.SETTLE_TIMEOUT_MS / 1000] * (len(samples) - len(secs))
    return {"n": len(samples), "timeouts": sum(s.seconds is None for s in samples),
            "median_s": round(statistics.median(ranked), 3) if ranked else None,
            "max_s": round(max(secs), 3) if secs else None,
            "errors": sorted({e for s in samples for e in s.errors})}


async def record(page: Any, samples: list[kit.Sample], title: str, persona: str, what: str,
                 seconds: float | None) -> None:
    note = kit.LAST_TIMEOUT.pop(id(page), "") if seconds is None else ""
    samples.append(kit.Sample(title, persona, what, seconds, await kit.errors_shown(page),
                              note))


async def attempt(page: Any, samples: list[kit.Sample], title: str, persona: str,
                  what: str, action: Any) -> Any:
    """Run one interaction (``action`` returns (label, seconds)), record it, and return its
    label; an interaction that fails is recorded as such and the run goes on."""
    began = time.monotonic()
    try:
        label, seconds = await action()
    except Exception as exc:  # recorded; the benchmark goes on
        samples.append(kit.Sample(title, persona, what, None, await kit.errors_shown(page),
                                  f"failed: {type(exc).__name__}: {str(exc)[:300]}",
                                  (began, time.monotonic())))
        return None
    if seconds is None and label is None:
        return None  # nothing to do (no such widget)
    await record(page, samples, title, persona, f"{what}{': ' + label if label else ''}",
                 seconds)
    samples[-1].span = (began, time.monotonic())
    return label


async def filter_round(page: Any, title: str, persona: str, leader: bool, nth: int,
                       samples: list[kit.Sample]) -> None:
    """District (school for a leader), grade, a student group, then clear: four changes."""
    place = "School" if leader else "District"
    if await kit.has_filter(page, place):
        await attempt(page, samples, title, persona, place,
                      lambda: kit.pick(page, place, nth))
    if await kit.has_filter(page, "Grade"):
        await attempt(page, samples, title, persona, "Grade",
                      lambda: kit.pick(page, "Grade", nth))

    async def group() -> tuple[str | None, float | None]:
        label = await kit.open_groups(page)
        if not label:
            return None, None
        text, seconds = await kit.pick(page, label, nth)
        return f"{label}: {text}", seconds

    await attempt(page, samples, title, persona, "Student group", group)

    async def clear() -> tuple[str | None, float | None]:
        seconds = await kit.clear_filters(page)
        return (None, None) if seconds is None else ("", seconds)

    await attempt(page, samples, title, persona, "Clear filters", clear)


async def opened(page: Any, title: str) -> tuple[str, float | None]:
    return "", await kit.open_page(page, title)


async def phase_a(browser: Any, server: kit.Server, rounds: int) -> dict[str, Any]:
    """Every page as the coordinator and as a district leader: open it, change filters."""
    changes: list[kit.Sample] = []
    opens: list[kit.Sample] = []
    cpu = browser_cpu = 0.0
    ticks = kit.core_ticks()
    began = time.monotonic()
    for leader in (False, True):
        page = await kit.new_page(browser)
        try:
            persona = await kit.enter_demo(page, server.url, leader)
            titles = await kit.nav_titles(page)
            before = kit.cpu_seconds(server.proc.pid)
            browser_before = kit.chromium_cpu_seconds()
            for title in titles:
                await attempt(page, opens, title, persona, "open",
                              lambda p=page, t=title: opened(p, t))
                for nth in range(rounds):
                    await filter_round(page, title, persona, leader, nth, changes)
                done = [s for s in changes if s.page == title and s.persona == persona]
                print(f"  {persona:<28} {title:<22} " + " ".join(
                    f"{s.seconds:.2f}" if s.seconds is not None else "timeout" for s in done),
                    flush=True)
            cpu += kit.cpu_seconds(server.proc.pid) - before
            browser_cpu += kit.chromium_cpu_seconds() - browser_before
        finally:
            await page.context.close()
    pages: dict[str, Any] = {}
    for s in changes:
        pages.setdefault(s.page, [])
    result = {"pages": {}, "opens": {}, "samples": [asdict(s) for s in changes + opens]}
    for title in pages:
        result["pages"][title] = summary([s for s in changes if s.page == title])
        result["pages"][title]["by_persona"] = {
            p: summary([s for s in changes if s.page == title and s.persona == p])
            for p in sorted({s.persona for s in changes if s.page == title})}
        result["opens"][title] = summary([s for s in opens if s.page == title])
    n = len(changes) + len(opens)
    result["interactions"] = n
    result["app_cpu_s"] = round(cpu, 2)
    result["app_cpu_ms_per_interaction"] = round(cpu / n * 1000, 1) if n else None
    result["browser_cpu_ms_per_interaction"] = round(browser_cpu / n * 1000, 1) if n else None
    result["core_busy"] = kit.busy_share(ticks, kit.core_ticks())
    result["all_changes"] = summary(changes)
    result["app_answer"] = answered(server.answers(began, time.monotonic()))
    return result


async def session(browser: Any, server: kit.Server, index: int, interactions: int,
                  start: asyncio.Event, entered: list[int], samples: list[kit.Sample],
                  door: asyncio.Semaphore, pause: float = 0.0) -> None:
    """One visitor: enter, wait for the others, then ``interactions`` clicks, each
    ``pause`` seconds after the last one settled (a person reading the page)."""
    leader = index % 2 == 1
    page = await kit.new_page(browser)
    try:
        async with door:  # entering is not measured: a few at a time, not ten page loads
            persona = await kit.enter_demo(page, server.url, leader)
        persona = f"{index}: {persona}"
        titles = await kit.nav_titles(page)
        entered.append(index)
        await start.wait()
        title = titles[0]
        filtered = False
        for i in range(interactions):
            if i and pause:
                await asyncio.sleep(pause)
            if i % 2 == 0:
                others = [t for t in titles if t != title]  # a click on the page shown
                title = others[(index + i // 2) % len(others)]  # would start no run
                await attempt(page, samples, title, persona, "open",
                              lambda t=title: opened(page, t))
            elif filtered:
                async def clear() -> tuple[str, float | None]:
                    return "", await kit.clear_filters(page)

                await attempt(page, samples, title, persona, "Clear filters", clear)
                filtered = False
            else:
                label = "Grade" if leader else "District"
                if not await kit.has_filter(page, label):
                    label = "Grade"
                await attempt(page, samples, title, persona, label,
                              lambda lab=label, n=(index + i) % 3: kit.pick(page, lab, n))
                filtered = True
    finally:
        await page.context.close()


async def load_in_turn(drops: list[Path], data: Path, core: int | None, log: Path,
                       finished: asyncio.Event) -> list[dict[str, Any]]:
    """Load ``drops`` one after another with ``python -m ccgi_dash ingest`` (pinned to the
    app's core) until ``finished`` is set; each load's drop, exit code and span. A load that
    fails ends the series: a later drop would be checked against the wrong neighbour."""
    loads: list[dict[str, Any]] = []
    with log.open("ab") as out:
        for drop in drops:
            if finished.is_set():
                break
            cmd = cli_command("ingest", "--data-dir", str(data), "--quiet", str(drop),
                              core=core)
            began = time.monotonic()
            proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, env=CLI_ENV, stdout=out,
                                                        stderr=subprocess.STDOUT)
            try:
                code = await asyncio.wait_for(proc.wait(), 600)
            except TimeoutError:
                proc.kill()
                code = await proc.wait()
            loads.append({"drop": drop.name, "exit_code": code,
                          "span": (began, time.monotonic())})
            if code != 0:
                break
    return loads


async def phase_b(browser: Any, server: kit.Server, data: Path, drops: list[Path],
                  sessions: int, interactions: int, core: int | None, pause: float = 0.0,
                  ) -> dict[str, Any]:
    """``sessions`` visitors clicking at once while drops load one after another."""
    samples: list[kit.Sample] = []
    start = asyncio.Event()
    entered: list[int] = []
    door = asyncio.Semaphore(3)
    tasks = [asyncio.create_task(
        session(browser, server, i, interactions, start, entered, samples, door, pause))
        for i in range(sessions)]
    # every session has entered before the first click and the load: poll, bounded
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(entered) + sum(t.done() for t in tasks) \
            < sessions:
        await asyncio.sleep(0.2)
    meter = Meter(server)
    log = data.parent / "load.log"
    log.unlink(missing_ok=True)
    finished = asyncio.Event()
    start.set()
    await asyncio.sleep(1.0)  # the sessions' first clicks are out: the first load meets them
    began = time.monotonic()
    loading = asyncio.create_task(load_in_turn(drops, data, core, log, finished))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    costs = meter.figures(len(samples), answers_from=began)
    ended = time.monotonic()
    finished.set()  # the load under way ends as it would; no further one starts
    loads = await loading
    failures = [repr(r) for r in results if isinstance(r, BaseException)]
    spans = [load["span"] for load in loads]
    during = sum(1 for s in samples if s.span and any(
        s.span[0] <= e and s.span[1] >= b for b, e in spans))
    result = summary(samples)
    result.update({
        "sessions": sessions, "interactions_each": interactions, "pause_s": pause,
        "session_failures": failures,
        "loads": {"count": len(loads),
                  "failed": [{"drop": load["drop"], "exit_code": load["exit_code"]}
                             for load in loads if load["exit_code"] != 0],
                  "seconds_each": [round(load["span"][1] - load["span"][0], 2)
                                   for load in loads],
                  "drops_left_unloaded": len(drops) - len(loads),
                  "output": log.read_text(errors="replace")[-2000:] if log.exists() else ""},
        "sessions_busy_s": round(ended - began, 2),
        "interactions_during_a_load": during,
        **costs,
        "samples": [asdict(s) for s in samples]})
    return result


async def phase_shots(browser: Any, server: kit.Server, folder: Path) -> list[str]:
    """Every page of both personas at 1440x900 and 400x800: first screen and whole page."""
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[str] = []
    for leader in (False, True):
        for width, height in ((1440, 900), (400, 800)):
            page = await kit.new_page(browser, width, height)
            try:
                await kit.enter_demo(page, server.url, leader)
                who = "leader" if leader else "coordinator"
                for i, title in enumerate(await kit.nav_titles(page)):
                    if i == 0:  # the page the demo opens on, as the visitor first sees it
                        # (opening the sidebar to click it again would leave it open)
                        await page.locator("h1").filter(has_text=title).first.wait_for()
                        await kit.settled(page)
                    else:
                        nav = page.locator(".st-key-ccgi_nav").get_by_text(title, exact=True)
                        opener = page.locator('[data-testid="stExpandSidebarButton"]')
                        if await opener.count() and await opener.first.is_visible():
                            await opener.first.click()  # closed on a narrow screen
                            await nav.first.wait_for()
                            await kit.settled(page)
                        await kit.open_page(page, title)
                    slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
                    stem = folder / f"{who}-{slug}-{width}x{height}"
                    saved += [str(p) for p in await kit.screenshots(page, stem)]
            finally:
                await page.context.close()
    return saved


async def floor_session(browser: Any, url: str, interactions: int, start: asyncio.Event,
                        entered: list[int], samples: list[kit.Sample]) -> None:
    """One visitor of ``floor_app.py``: pick a district, clear, and so on."""
    page = await kit.new_page(browser)
    try:
        await page.goto(url + "/")
        await page.get_by_text("Floor").first.wait_for()
        await kit.settled(page)
        entered.append(1)
        await start.wait()
        for i in range(interactions):
            if i % 2 == 0:
                await attempt(page, samples, "floor", "floor", "District",
                              lambda n=i % 3: kit.pick(page, "District", n))
            else:
                async def clear() -> tuple[str, float | None]:
                    return "", await kit.clear_filters(page)

                await attempt(page, samples, "floor", "floor", "Clear filters", clear)
    finally:
        await page.context.close()


async def phase_floor(browser: Any, folder: Path, sessions: int, interactions: int,
                      core: int | None) -> dict[str, Any]:
    """The clicks of (b) on ``benchmarks/floor_app.py`` (a multiselect and a button, no
    data): one session alone, then ``sessions`` at once. No drop loads: this is what the
    browsers cost per click whatever the app does."""
    folder.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}
    with kit.streamlit_server(folder, folder / "floor.log", core=core,
                              script="benchmarks/floor_app.py") as server:
        for n in (1, sessions):
            samples: list[kit.Sample] = []
            start, entered = asyncio.Event(), []
            tasks = [asyncio.create_task(floor_session(browser, server.url, interactions,
                                                       start, entered, samples))
                     for _ in range(n)]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and len(entered) + sum(
                    t.done() for t in tasks) < n:
                await asyncio.sleep(0.2)
            meter = Meter(server)
            start.set()
            failures = [repr(r) for r in await asyncio.gather(*tasks, return_exceptions=True)
                        if isinstance(r, BaseException)]
            part = summary(samples)
            part.update({"sessions": n, "session_failures": failures,
                         **meter.figures(len(samples))})
            result[f"{n}_sessions"] = part
    return result


# --------------------------------------------------------------------------- main

async def run(args: argparse.Namespace, data: Path, drops: list[Path], core_app: int | None,
              ) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    result: dict[str, Any] = {}
    if "floor" in args.phases.split(","):
        print(f"floor: the clicks of (b) on a ten-line Streamlit app, 1 and {args.sessions} "
              "sessions", flush=True)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(kit.CHROMIUM),
                                              args=kit.CHROMIUM_ARGS)
            try:
                result["floor"] = await phase_floor(browser, data.parent / "floor",
                                                    args.sessions, args.interactions,
                                                    core_app)
            except Exception as exc:  # keep the other phases' figures
                result["floor"] = {"failed": f"{type(exc).__name__}: {exc}"[:2000]}
            finally:
                await browser.close()
        save("browser", result)
    log = data.parent / "streamlit.log"
    with kit.streamlit_server(data, log, core=core_app) as server:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(kit.CHROMIUM),
                                              args=kit.CHROMIUM_ARGS)
            try:
                warm = await kit.new_page(browser)  # a fresh server's first request
                await warm.goto(server.url + "/")
                await warm.get_by_role("button", name="Enter the demo").wait_for()
                await warm.context.close()
                phases = [
                    ("a", "a_filter_changes", "(a) filter changes, page by page",
                     lambda: phase_a(browser, server, args.rounds)),
                    ("shots", "screenshots", f"screenshots into {args.shots}",
                     lambda: phase_shots(browser, server, args.shots)),
                    ("b", "b_sessions_during_load",
                     f"(b) {args.sessions} sessions while drops load",
                     lambda: phase_b(browser, server, data, drops, args.sessions,
                                     args.interactions, core_app, args.pause))]
                for name, key, title, phase in phases:
                    if name not in args.phases.split(",") or (name == "shots"
                                                               and not args.shots):
                        continue
                    print(title, flush=True)
                    load_before = os.getloadavg()[0]
                    try:
                        result[key] = await phase()
                    except Exception as exc:  # keep the other phases' figures
                        result[key] = {"failed": f"{type(exc).__name__}: {exc}"[:2000]}
                        print(f"{title} failed: {result[key]['failed']}", flush=True)
                    if isinstance(result[key], dict):  # other work on the machine skews
                        result[key]["machine_load_1min"] = [  # every figure: say how much
                            round(load_before, 1), round(os.getloadavg()[0], 1)]
                    save("browser", result)
            finally:
                await browser.close()
        result["server_log_errors"] = server.errors()[-20:]
    return result


def print_table(result: dict[str, Any]) -> None:
    a = result.get("a_filter_changes")
    if a and "pages" in a:
        print(f"\n{'page':<24}{'changes':>8}{'median s':>10}{'max s':>8}{'open s':>8}  verdict")
        for title, s in a["pages"].items():
            ok = (s["median_s"] is not None and s["median_s"] < 1 and s["max_s"] <= 2
                  and not s["timeouts"])
            opened = a["opens"].get(title, {}).get("median_s")
            print(f"{title:<24}{s['n']:>8}{s['median_s'] or float('nan'):>10.2f}"
                  f"{s['max_s'] or float('nan'):>8.2f}{opened or float('nan'):>8.2f}  "
                  f"{'ok' if ok else 'MISSES the target'}"
                  + (f"  errors: {s['errors']}" if s["errors"] else ""))
        print(f"app CPU per interaction (a): {a['app_cpu_ms_per_interaction']} ms "
              f"({a['interactions']} interactions, {a['app_cpu_s']} s); browser CPU per "
              f"interaction {a.get('browser_cpu_ms_per_interaction')} ms; cores busy "
              f"{a.get('core_busy')}; the app's own answer to a rerun (request in to run "
              f"done): {a.get('app_answer')}")
    b = result.get("b_sessions_during_load")
    pinned = result.get("setup", {}).get("pinned")
    cores = f"core {pinned['browser']}" if isinstance(pinned, dict) else "any core"
    if b and "samples" in b:
        pause = f", {b['pause_s']} s pause" if b.get("pause_s") else ""
        print(f"(b) {b['sessions']} sessions x {b['interactions_each']}{pause}: median "
              f"{b['median_s']} s, max {b['max_s']} s, timeouts {b['timeouts']}, errors "
              f"{len(b['errors'])}; {b['loads']['count']} drops loaded one after another "
              f"({len(b['loads']['failed'])} failed), {b['interactions_during_a_load']} of "
              f"{len(b['samples'])} interactions during a load; "
              f"app CPU per interaction {b['app_cpu_ms_per_interaction']} ms, browser CPU "
              f"per interaction {b.get('browser_cpu_ms_per_interaction')} ms, cores busy "
              f"{b.get('core_busy')} (app on core 0, browsers on {cores}); the app's own "
              f"answer to a rerun (request in to run done): {b.get('app_answer')}")
    for n, f in (result.get("floor") or {}).items():
        if isinstance(f, dict) and "median_s" in f:
            print(f"floor ({n.replace('_', ' ')}, ten-line app): median {f['median_s']} s, "
                  f"max {f['max_s']} s, timeouts {f['timeouts']}; app CPU per interaction "
                  f"{f['app_cpu_ms_per_interaction']} ms, browser CPU per interaction "
                  f"{f['browser_cpu_ms_per_interaction']} ms, cores busy {f['core_busy']}; "
                  f"the app's own answer: {f['app_answer']}")
    for key, value in result.items():
        if isinstance(value, dict) and "failed" in value:
            print(f"{key} FAILED: {value['failed'][:300]}")
    if b and b.get("session_failures"):
        print(f"(b) {len(b['session_failures'])} session(s) failed:",
              *sorted({f[:200] for f in b["session_failures"]}), sep="\n  ")
    if result.get("server_log_errors"):
        print("server log errors:", *result["server_log_errors"], sep="\n  ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--county", default=None, help="demo county (default Fresno)")
    ap.add_argument("--scale", type=float, default=None, help="demo scale (default 1)")
    ap.add_argument("--data", type=Path, default=None,
                    help="a loaded demo data directory to copy instead of building one")
    ap.add_argument("--rounds", type=int, default=2,
                    help="filter rounds per page and persona in (a) (default 2)")
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--interactions", type=int, default=8,
                    help="interactions per session in (b) (default 8)")
    ap.add_argument("--pause", type=float, default=0.0,
                    help="seconds each session of (b) waits after a change has settled "
                         "before its next click, as a person reading the page would "
                         "(default 0: click again at once, the target's case)")
    ap.add_argument("--loads", type=int, default=30,
                    help="weekly drops (b) may load one after another, for as long as its "
                         "sessions click (default 30; a load takes a few seconds)")
    ap.add_argument("--phases", default="a,b,floor",
                    help="comma list of a, b, floor, shots (default a,b,floor)")
    ap.add_argument("--browsers-on-both-cores", action="store_true",
                    help="leave Chromium free to use both cores, the app's as well (the app "
                         "stays pinned to core 0): how much a second core for the browsers "
                         "would change, at the app's expense")
    ap.add_argument("--shots", type=Path, default=None,
                    help="folder for screenshots of every page (phase 'shots')")
    args = ap.parse_args()
    if not kit.CHROMIUM.exists():
        raise SystemExit(f"needs Debian's Chromium at {kit.CHROMIUM} (apt-get install chromium)")
    if not 1 <= args.rounds <= 10 or not 1 <= args.sessions <= 20 \
            or not 1 <= args.interactions <= 50 or not 0 <= args.pause <= 60 \
            or not 1 <= args.loads <= 40:
        raise SystemExit("--rounds 1-10, --sessions 1-20, --interactions 1-50, "
                         "--pause 0-60, --loads 1-40")
    if args.shots:
        args.phases += ",shots"
    county = args.county or "Fresno"
    scale = 1.0 if args.scale is None else args.scale
    source = args.data
    if source is None and args.county is None and args.scale is None \
            and (DEMO_DIR / "warehouse" / "manifest.json").exists():
        source = DEMO_DIR
    if source is not None:
        base = source
        drops = later_drops(newest_loaded(source), county, scale, args.loads)
    else:
        base, extra = build_demo(county, scale)
        drops = [extra, *later_drops(LAST_DROP, county, scale, args.loads - 1)]
    data = working_copy(base)
    pinned = kit.two_cores()
    if pinned and not args.browsers_on_both_cores:
        os.sched_setaffinity(0, {1})  # this process, Playwright's driver and Chromium
    began, load_at_start = time.time(), os.getloadavg()
    result = asyncio.run(run(args, data, drops, 0 if pinned else None))
    result["setup"] = {
        "county": county, "scale": scale, "data": str(base), "drops_for_b": [str(d) for d in drops],
        "pinned": ({"app_and_load": 0,
                    "browser": "0 and 1" if args.browsers_on_both_cores else "1"}
                   if pinned else "not pinned (< 2 cores)"),
        "load_average_at_start": load_at_start, "started": date.today().isoformat(),
        "seconds": round(time.time() - began), "rounds": args.rounds,
        "quiet_ms": kit.QUIET_MS}
    path = save("browser", result)
    print_table(result)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
