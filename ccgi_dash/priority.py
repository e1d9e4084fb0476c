"""CPU priority of the loads: a load gives way to the people using the dashboard.

The app and the weekly load often share one small server. A load is a batch job that nobody
watches second by second; a coordinator waiting for a page is. So ``ingest``, ``sync`` and
``rebuild`` lower their own priority (nice :data:`LOAD_NICE`) before they start, and the
demo's backfill does the same once the current week is in. On an idle machine a lowered
priority costs the load nothing; on a busy one the app's sessions get the cores first.

Measured (``benchmarks/bench_browser.py`` phase (b), ten browser sessions while drops load one
after another on the app's core): see the README's "Tests and benchmarks".
"""

from __future__ import annotations

import contextlib
import os

LOAD_NICE = 10
"""The nice value loads run at: below every interactive process (nice 0), above nothing
that matters (19 is the lowest)."""


def lower_priority(niceness: int) -> None:
    """Lower every thread of this process to ``niceness`` (Linux keeps a nice value per
    thread, and new threads take their creator's); nothing where that is not possible.

    Never raises a priority: a process already nicer than ``niceness`` keeps its value (an
    unprivileged process could not raise it anyway)."""
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        tids = [0]
    for tid in tids:
        with contextlib.suppress(OSError):
            now = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, max(now, niceness))
