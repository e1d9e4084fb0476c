"""``streamlit run`` that also writes down how long the app takes to answer each rerun.

    python -m benchmarks.timed_server run app.py [streamlit options]   # as `streamlit run`

Used by ``bench_browser`` in place of ``python -m streamlit``. With ``CCGI_BENCH_RUNS`` set
to a file, each answered rerun appends one JSON line: the session, when the rerun request
reached the server and when the script run it started finished (``time.monotonic``, the
system's monotonic clock, which the benchmark's own process shares), and the seconds in
between. That is the app's part of an interaction: the wait for the app's core and the
script run, without the browser's drawing before and after. A request that arrives while a
run is under way restarts it (Streamlit's rerun); the time counts from the first request
the finished run answers. Nothing of the product changes: this wraps Streamlit's session
class in the benchmark's server process only.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any


def _install(path: str) -> None:
    """Time every rerun of every session: arrival in ``handle_backmsg``, end at the
    session's next ``SCRIPT_STOPPED_WITH_SUCCESS``."""
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent

    pending: dict[str, float] = {}
    lock = threading.Lock()
    out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - the server's life
    handle = AppSession.handle_backmsg
    on_event = AppSession._on_scriptrunner_event

    def handle_backmsg(self: AppSession, msg: Any) -> None:
        if msg.WhichOneof("type") == "rerun_script":
            with lock:
                pending.setdefault(self.id, time.monotonic())
        handle(self, msg)

    def _on_scriptrunner_event(self: AppSession, sender: Any, event: Any,
                               *args: Any, **kwargs: Any) -> None:
        if event == ScriptRunnerEvent.SCRIPT_STOPPED_WITH_SUCCESS:
            done = time.monotonic()
            with lock:
                began = pending.pop(self.id, None)
            if began is not None:
                out.write(json.dumps({"session": self.id, "arrived": began, "done": done,
                                      "seconds": round(done - began, 4)}) + "\n")
        on_event(self, sender, event, *args, **kwargs)

    AppSession.handle_backmsg = handle_backmsg  # type: ignore[method-assign]
    AppSession._on_scriptrunner_event = _on_scriptrunner_event  # type: ignore[method-assign]


def main() -> None:
    path = os.environ.get("CCGI_BENCH_RUNS")
    if path:
        _install(path)
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *sys.argv[1:]]
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
