"""What the browser benchmark needs to drive the app: a pinned ``streamlit run``, Chromium
through Playwright's async API, the demo door, and a "settled" signal measured in the page.

How a filter change is timed. An init script in every page records, with the page's own
clock (``performance.now()``): the last mouse press (the click that starts the change), every
change of Streamlit's script state (``data-test-script-state`` on ``stApp``), and the last
DOM mutation of the app outside the sidebar (content, charts, the status widget). The page has
settled once Streamlit has run the script since the click and is idle again, its status widget
is gone, no element is stale (``data-stale="true"``: drawn by the previous run, not yet
replaced), every visible plotly chart has drawn its SVG, and nothing has changed for
``QUIET_MS``. The time reported is from the click to the last change, so the quiet wait itself
is not counted, and it is measured in the browser, so Playwright's round trips are not either.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]
QUIET_MS = 300
"""How long the page must stay unchanged after a run to count as settled."""
POLL_MS = 150
"""How often a waiting page checks whether it has settled. It does not change the time
measured (the page's clock says when the last change was); it only adds up to this much
before the next click. Ten pages waiting on one core each checking every 50 ms cost the
browsers' core a share of its time, and so slowed what they measured."""
SETTLE_TIMEOUT_MS = 30_000
"""The longest any one interaction is waited for; longer counts as a timeout."""
TIMEOUT_MS = 60_000
"""Playwright's default wait (a first page on a busy machine)."""

INIT_JS = r"""
(() => {
  if (window.__ccgi) return;
  const c = window.__ccgi = {t0: 0, lastMut: 0, states: [], app: null, msgs: []};
  // When each message from the server arrived. A busy browser can take a run's "started"
  // and "finished" messages in one batch and never show the app as running; a message
  // after the click still says the server answered it.
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => {
        c.msgs.push(performance.now());
        if (c.msgs.length > 2000) c.msgs.splice(0, 1000);
      });
    }
  };
  document.addEventListener('mousedown', () => { c.t0 = performance.now(); }, true);
  c.attach = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app === c.app) return;
    c.app = app;
    new MutationObserver((records) => {
      // a chart drawn is thousands of records: one lookup of the sidebar per batch, once a
      // record outside it is found, so that watching costs the browser next to nothing
      const now = performance.now();
      let changed = false;
      for (const r of records) {
        if (r.target === app && r.attributeName === 'data-test-script-state') {
          c.states.push([now, app.getAttribute('data-test-script-state')]);
          continue;
        }
        if (changed) continue;
        const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
        if (el && el.closest('[data-testid="stSidebar"]')) continue;
        changed = true;
      }
      if (changed) c.lastMut = now;
    }).observe(app, {subtree: true, childList: true, attributes: true, characterData: true});
  };
  let tries = 0;
  const timer = setInterval(() => {
    c.attach();
    if (c.app || ++tries > 600) clearInterval(timer);
  }, 50);
})();
"""

SETTLED_JS = r"""
([since, quiet, needRun]) => {
  const c = window.__ccgi;
  if (!c) return false;
  c.attach();
  const app = c.app;
  if (!app || !app.isConnected) { c.app = null; return false; }
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const start = needRun ? Math.max(c.t0, since) : since;
  // the server answered since the click: a run seen, or its messages followed by a change of
  // the page (the change, not only the message: a busy browser draws a while after)
  const answered = c.msgs.filter(t => t >= start);
  if (needRun && !c.states.some(([t, _]) => t >= start)
      && !(answered.length && c.lastMut > answered[0])) return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  if (!charts.every(e => e.offsetParent === null || e.querySelector('.main-svg'))) return false;
  const last = Math.max(c.lastMut, ...c.states.map(([t, _]) => t), ...answered);
  if (performance.now() - last < quiet) return false;
  const runs = c.states.filter(([t, s]) => t >= start && s === 'running').length;
  return {ms: last - start, runs: runs};
}
"""

DIAGNOSE_JS = r"""
(since) => {
  const c = window.__ccgi || {states: [], lastMut: 0, t0: 0};
  const app = document.querySelector('[data-testid="stApp"]');
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  return JSON.stringify({
    state: app && app.getAttribute('data-test-script-state'),
    connection: app && app.getAttribute('data-test-connection-state'),
    open_lists: document.querySelectorAll('[role="listbox"]').length,
    runs_since_click: c.states.filter(([t, _]) => t >= Math.max(c.t0, since)).length,
    messages_since_click: (c.msgs || []).filter(t => t >= Math.max(c.t0, since)).length,
    status_widget: !!document.querySelector('[data-testid="stStatusWidget"]'),
    stale: document.querySelectorAll('[data-stale="true"]').length,
    charts_undrawn: charts.filter(
      e => e.offsetParent !== null && !e.querySelector('.main-svg')).length,
    ms_since_last_change: Math.round(performance.now() - c.lastMut)});
}
"""

ERRORS_JS = r"""
() => [...document.querySelectorAll(
    '[data-testid="stException"], [data-testid="stAlertContentError"]')]
  .map(e => e.innerText.trim().slice(0, 300))
"""


LAST_TIMEOUT: dict[int, str] = {}
"""The diagnosis of the last timeout, by ``id(page)``."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_cores() -> bool:
    """Whether cores 0 and 1 both exist for this process (else nothing is pinned)."""
    return {0, 1} <= os.sched_getaffinity(0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2:].split()
    # after "pid (comm) ": state is field 3 of stat(5), utime field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def chromium_cpu_seconds() -> float:
    """CPU time of every Chromium process on the machine (the browser, its renderers and
    helpers): what the pages cost on the browser's side. A renderer that has ended (a
    session's page closed) is counted in its parent's time for reaped children (cutime and
    cstime), so each process's own time plus that of its reaped children is summed."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"chromium" not in (proc / "cmdline").read_bytes().split(b"\0")[0]:
                continue
            raw = (proc / "stat").read_text()
        except (OSError, IndexError):
            continue  # a process that ended meanwhile
        fields = raw[raw.rindex(")") + 2:].split()
        # utime, stime, cutime, cstime: fields 14-17 of stat(5)
        total += sum(int(f) for f in fields[11:15]) / tick
    return total


def core_ticks() -> dict[int, tuple[int, int]]:
    """Per core: (busy, total) jiffies since boot, from /proc/stat."""
    out: dict[int, tuple[int, int]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            v = [int(x) for x in values]
            idle = v[3] + v[4]  # idle + iowait
            out[int(name[3:])] = (sum(v[:8]) - idle, sum(v[:8]))
    return out


def busy_share(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]],
               ) -> dict[str, float]:
    """Per core, the share of the time between two ``core_ticks`` it was busy (0..1)."""
    return {f"core{c}": round((after[c][0] - before[c][0])
                              / max(1, after[c][1] - before[c][1]), 2)
            for c in sorted(after) if c in before}


@dataclass
class Server:
    """A running ``streamlit run app.py``: its URL, process and log."""

    url: str
    proc: subprocess.Popen
    log: Path
    runs: Path | None = None
    """Where the server writes the app's time to answer each rerun (``timed_server``)."""

    def answers(self, began: float, ended: float) -> list[float]:
        """Seconds the app took to answer each rerun request that reached it between
        ``began`` and ``ended`` (monotonic clock): from the request's arrival to the end of
        the script run it started, without the browser's part."""
        if self.runs is None or not self.runs.exists():
            return []
        out = []
        for line in self.runs.read_text().splitlines():
            with contextlib.suppress(ValueError, KeyError):
                run = json.loads(line)
                if began <= run["arrived"] <= ended:
                    out.append(float(run["seconds"]))
        return out

    def errors(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if "Traceback" in line or "Error" in line]


@contextlib.contextmanager
def streamlit_server(demo_dir: Path, log: Path, *, core: int | None,
                     script: str = "app.py") -> Iterator[Server]:
    """``streamlit run app.py`` on a free loopback port serving ``demo_dir`` as the demo data
    (and an empty real data directory, so the demo door shows), pinned to ``core`` with
    ``taskset`` when given, until the block ends."""
    port = free_port()
    live = log.parent / "no-live-data"
    env = {**os.environ, "CCGI_DEMO_DIR": str(demo_dir), "CCGI_DATA_DIR": str(live),
           "PYTHONPATH": str(ROOT)}
    for name in ("CCGI_USERS_FILE", "CCGI_COOKIE_KEY"):
        env.pop(name, None)
    runs = log.parent / f"{log.stem}-runs.jsonl"
    runs.unlink(missing_ok=True)
    env["CCGI_BENCH_RUNS"] = str(runs)
    # streamlit run, with each rerun's answer time written down (benchmarks/timed_server.py)
    cmd = [sys.executable, "-m", "benchmarks.timed_server", "run", script,
           "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    if core is not None:
        cmd = ["taskset", "-c", str(core), *cmd]  # taskset execs: the pid is streamlit's
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"streamlit exited ({proc.returncode}):\n"
                                     f"{log.read_text(errors='replace')}")
                with contextlib.suppress(OSError), urllib.request.urlopen(
                        f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit(f"streamlit did not answer in 90 s:\n"
                                     f"{log.read_text(errors='replace')}")
                time.sleep(0.2)
            yield Server(url, proc, log, runs)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# --------------------------------------------------------------------------- in the page

@dataclass
class Sample:
    """One timed interaction."""

    page: str
    persona: str
    what: str
    seconds: float | None
    """None: it did not settle within SETTLE_TIMEOUT_MS."""
    errors: list[str] = field(default_factory=list)
    note: str = ""
    """On a timeout: which part of the settled signal was still missing; on a failed
    interaction: why."""
    span: tuple[float, float] | None = None
    """When the interaction began and ended (this process's monotonic clock)."""


async def new_page(browser: Any, width: int = 1440, height: int = 900) -> Any:
    ctx = await browser.new_context(viewport={"width": width, "height": height})
    ctx.set_default_timeout(TIMEOUT_MS)
    await ctx.add_init_script(INIT_JS)
    return await ctx.new_page()


async def settled(page: Any, since: float = 0, *, need_run: bool = False) -> float | None:
    """Wait for the page to settle after ``since`` (the page clock), having run the script
    since the last click when ``need_run``; the seconds from that click (or ``since``) to
    the last change, or None on timeout."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        handle = await page.wait_for_function(SETTLED_JS, arg=[since, QUIET_MS, need_run],
                                              timeout=SETTLE_TIMEOUT_MS, polling=POLL_MS)
    except PlaywrightTimeout:
        LAST_TIMEOUT[id(page)] = await page.evaluate(DIAGNOSE_JS, since)
        return None
    result = await handle.json_value()
    return result["ms"] / 1000


async def timed(page: Any, action: Callable[[], Awaitable[Any]]) -> float | None:
    """Run ``action`` (which ends with the click that starts a script run) and time it."""
    since = await page.evaluate("performance.now()")
    await action()
    return await settled(page, since, need_run=True)


async def errors_shown(page: Any) -> list[str]:
    return await page.evaluate(ERRORS_JS)


async def enter_demo(page: Any, url: str, leader: bool) -> str:
    """Pass the demo door as the COE coordinator, or as the leader of the district the door
    offers first (the one with the most schools); the persona's name for reports."""
    await page.goto(url + "/", wait_until="commit")
    door = page.get_by_role("button", name="Enter the demo")
    await door.wait_for(timeout=2 * TIMEOUT_MS)
    await settled(page)
    persona = "coordinator"
    if leader:
        await page.get_by_role("radio", name="District leader").check(force=True)
        picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="District")
        await picker.wait_for()
        await settled(page)
        lines = [t.strip() for t in (await picker.inner_text()).splitlines()]
        name = next((t for t in lines if t and t != "District"), "")
        inputs = picker.locator("input")
        if not name and await inputs.count():
            name = (await inputs.first.get_attribute("value")
                    or await inputs.first.get_attribute("aria-label") or "")
            if name == "District":
                name = ""
        persona = f"leader of {name or 'the first district offered'}"
    await door.click()
    await page.locator(".st-key-ccgi_nav").wait_for(state="attached")
    await page.locator("h1").first.wait_for()
    await settled(page)
    return persona


async def nav_titles(page: Any) -> list[str]:
    """The navigation's page titles (links drawn with st.page_link in the sidebar, which may
    be collapsed on a narrow screen: attached, not necessarily visible)."""
    links = page.locator(".st-key-ccgi_nav a")
    await links.first.wait_for(state="attached")
    texts = await page.locator(
        '.st-key-ccgi_nav a [data-testid="stMarkdownContainer"]').all_text_contents()
    return [t.strip() for t in texts]


async def open_page(page: Any, title: str) -> float | None:
    """Click ``title`` in the navigation; the seconds until the page settled."""
    link = page.locator(".st-key-ccgi_nav").get_by_text(title, exact=True)
    await close_lists(page)
    return await timed(page, lambda: link.first.click())


def _multiselect(page: Any, label: str) -> Any:
    return page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]').filter(
            has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))).first


async def has_filter(page: Any, label: str) -> bool:
    return await _multiselect(page, label).count() > 0


async def pick(page: Any, label: str, nth: int = 0) -> tuple[str, float | None]:
    """Open the sidebar multiselect ``label`` and click its ``nth`` option: the option's
    text and the seconds until the page settled."""
    box = _multiselect(page, label)
    await box.scroll_into_view_if_needed()
    # a scroll's event comes a frame later; one arriving after the click that opened the list
    # closes the list again (react-aria closes it when the page behind it scrolls)
    await page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                        "requestAnimationFrame(r)))")
    option = page.get_by_role("option").filter(
        has_not_text=re.compile(r"^\s*Select all\s*$")).nth(nth)
    text = None
    for attempt in range(4):  # a click on a combobox may only focus it: bounded retries
        if attempt % 2 == 0:
            await box.locator("input").click()
        else:
            await box.get_by_role("button", name="Open").click()
        try:
            await option.wait_for(timeout=3_000)
            # the list can close between showing its option and our reading it (a redraw of
            # the sidebar): read with a short wait, and open it again when it closed
            text = (await option.inner_text(timeout=2_000)).strip()
            break
        except Exception:  # Playwright's timeout: try the other way in
            await page.keyboard.press("Escape")
            await settled(page)
    if text is None:
        raise RuntimeError(f"the {label!r} filter's list did not open in 4 tries")
    seconds = await timed(page, lambda: option.click())
    await close_lists(page)
    return text, seconds


async def close_lists(page: Any) -> None:
    """Close an open dropdown list with Escape (bounded): while one is open, the next click
    elsewhere only closes it, and the page would wait for a run that never starts."""
    lists = page.locator('[role="listbox"]')
    for _ in range(3):
        if not await lists.count():
            return
        await page.keyboard.press("Escape")
        with contextlib.suppress(Exception):
            await lists.first.wait_for(state="detached", timeout=3_000)


async def open_groups(page: Any) -> str | None:
    """Expand the sidebar's "Student groups" expander; the first group filter's label."""
    exp = page.locator('[data-testid="stSidebar"] [data-testid="stExpander"]').filter(
        has_text="Student groups").first
    if await exp.count() == 0:
        return None
    label = exp.locator('[data-testid="stMultiSelect"] [data-testid="stWidgetLabel"]').first
    for _ in range(3):  # a click while the sidebar redraws may be lost: bounded retries
        if await label.is_visible():
            break
        await exp.locator("summary").first.click()
        with contextlib.suppress(Exception):
            await label.wait_for(timeout=5_000)
    await label.wait_for()
    return (await label.inner_text()).strip()


async def clear_filters(page: Any) -> float | None:
    button = page.locator('[data-testid="stSidebar"]').get_by_role("button",
                                                                   name="Clear filters")
    if await button.count() == 0:
        return None
    return await timed(page, lambda: button.first.click())


async def sidebar_covers(page: Any) -> bool:
    """Whether the expanded sidebar lies over the main area (a narrow window)."""
    return await page.evaluate("""() => {
        const side = document.querySelector('[data-testid="stSidebar"]');
        const main = document.querySelector('[data-testid="stMain"]');
        if (!side || !main) return false;
        const s = side.getBoundingClientRect(), m = main.getBoundingClientRect();
        return s.width > 0 && s.right > 0 && s.right > m.left + 1
            && side.getAttribute('aria-expanded') !== 'false';
    }""")


async def screenshots(page: Any, stem: Path) -> list[Path]:
    """The first screen as a reader sees it after navigating (``stem``.png); when the
    sidebar covers the page, the first screen with the sidebar closed (``-closed.png``);
    and the whole page (``-full.png``: Streamlit scrolls inside its main area, so the window
    is made as tall as the content for that shot, then restored)."""
    size = page.viewport_size
    shots = [stem.with_suffix(".png")]
    await page.screenshot(path=str(shots[0]))
    if await sidebar_covers(page):
        close = page.get_by_role("button", name="Collapse sidebar")
        if await close.count():
            await close.first.click()
            await settled(page)
            shots.append(stem.with_name(stem.name + "-closed.png"))
            await page.screenshot(path=str(shots[-1]))
    height = await page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stMain"] > div, '
        + '[data-testid="stMainBlockContainer"]')].map(e => e.scrollHeight), 0)""")
    shots.append(stem.with_name(stem.name + "-full.png"))
    await page.set_viewport_size({"width": size["width"],
                                  "height": max(size["height"], min(int(height) + 80, 16_000))})
    await settled(page)
    await page.screenshot(path=str(shots[-1]), full_page=True)
    await page.set_viewport_size(size)
    await settled(page)
    return shots
