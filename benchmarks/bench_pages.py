"""Every page's full script run at Los Angeles scale with 40 weekly drops.

    .venv/bin/python -m benchmarks.bench_history      # once, builds the warehouse
    .venv/bin/python -m benchmarks.bench_pages [--runs 7]

Serves benchmarks/out/history/data as the demo data and drives app.py headlessly with
Streamlit's AppTest (the same script run a browser session triggers, without the network):
* first page of a new session: a fresh AppTest in a fresh process cache (cold) and in a warm
  one (another session already ran);
* every page, warm: the median of ``--runs`` reruns;
* a filter change on every page: selecting a district in the sidebar, then clearing it.
Targets: each page and filter change under 300 ms median once warm; first page of a new
session under 2 s.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

from benchmarks.common import OUT, ROOT, median_ms, save


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    data = OUT / "history" / "data"
    if not (data / "warehouse" / "manifest.json").exists():
        raise SystemExit("run `python -m benchmarks.bench_history` first")
    os.environ["CCGI_DEMO_DIR"] = str(data)
    os.environ["CCGI_DATA_DIR"] = str(OUT / "history" / "no-live-data")
    from streamlit.testing.v1 import AppTest

    # Setting session state between runs (below) happens outside a script run, which
    # Streamlit reports with a warning each time; it is expected here, so keep it quiet.
    # (Streamlit resets its loggers' levels on each run, so a filter rather than a level.)
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())

    from ccgi_dash.ui.filters import KEYS
    from ccgi_dash.ui.session import IDENTITY_KEY, Identity, demo_scope
    from ccgi_dash.ui.shell import PAGES

    def session(persona: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state[IDENTITY_KEY] = Identity("demo", persona)
        return at

    t = time.perf_counter()
    first = session("coe").run()
    cold = time.perf_counter() - t
    assert not first.exception, first.exception
    t = time.perf_counter()
    session("coe").run()
    warm_first = time.perf_counter() - t
    print(f"first page of a new session: cold process {cold * 1000:.0f} ms, "
          f"warm process {warm_first * 1000:.0f} ms", flush=True)

    result: dict = {"first_page_cold_ms": round(cold * 1000),
                    "first_page_warm_ms": round(warm_first * 1000), "pages": {}}
    for persona in ("coe", "district:1964733"):  # Los Angeles Unified
        at = session(persona).run()
        # AppTest runs a switched-to page without the shell's sidebar, so filters are set
        # the way the sidebar widgets set them: in their session-state keys.
        if persona == "coe":
            choices = [[c] for c in list(at.sidebar.multiselect[0].options)[:3]]
        else:
            choices = [[12], [9, 10]]
        key = KEYS["district"] if persona == "coe" else KEYS["grade_level"]
        scope = demo_scope(persona)[1]
        for spec in PAGES:
            if not spec.allowed(scope):
                continue  # a page this persona may not open (it would only time a refusal)
            try:
                at.switch_page(spec.path).run()
            except ValueError:
                continue  # not this persona's page
            assert not at.exception, (spec.path, at.exception)
            reruns = []
            for _ in range(args.runs):
                t = time.perf_counter()
                at.run()
                reruns.append(time.perf_counter() - t)
            changes = []
            for choice in choices:  # each selection is new to the cache; then back to all
                for value in (choice, []):
                    at.session_state[key] = value
                    t = time.perf_counter()
                    at.run()
                    changes.append(time.perf_counter() - t)
                    assert not at.exception, (spec.path, value, at.exception)
            name = f"{persona} {Path(spec.path).stem}"
            result["pages"][name] = {"rerun_ms": round(median_ms(reruns)),
                                    "filter_change_ms": round(median_ms(changes))}
            print(f"{name:<38} rerun {median_ms(reruns):6.0f} ms   filter change "
                  f"{median_ms(changes):6.0f} ms", flush=True)
    print(f"saved {save('pages', result)}")


if __name__ == "__main__":
    main()
