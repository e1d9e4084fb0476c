"""Progress of the long commands (``demo``, ``ingest``, ``rebuild``) on the console.

Three ways, chosen from where the output goes:

* on a terminal, a progress bar drawn by tqdm (drops done of drops found, elapsed and
  remaining time, the last drop's outcome);
* when the output is not a terminal (cron, a log file, a pipe), one plain line per drop, which
  reads well in a log and never fills it with redrawn bars;
* with ``--quiet``, nothing: only the summary the command prints at the end.

tqdm was chosen over rich (or a hand-drawn bar) because it is small, has no dependencies of
its own, has been maintained for a decade, and handles what a hand-drawn bar gets wrong:
terminal width, rate and time estimates, and printing a message above the bar.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from ccgi_dash.loader import DropOutcome, Watcher


class DropProgress(Watcher):
    """A :class:`ccgi_dash.loader.Watcher` that shows drops as they are settled.

    ``total`` fixes the number of drops when it is known beforehand (the demo knows its
    weeks); otherwise the loader's :meth:`found` calls add up to it."""

    def __init__(self, label: str, *, quiet: bool = False, total: int | None = None,
                 stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.fixed = total is not None
        self.total = total or 0
        self.count = 0
        self.quiet = quiet
        self.bar: tqdm | None = None
        if not quiet and _is_terminal(self.stream):
            self.bar = tqdm(total=self.total or None, desc=label, unit="drop",
                            file=self.stream, dynamic_ncols=True, leave=True)

    def found(self, drops: int) -> None:
        if self.fixed:
            return
        self.total += drops
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()

    def done(self, outcome: DropOutcome) -> None:
        status = outcome.status.replace("_", " ")
        self.step(f"{outcome.drop_date}: {status} in {outcome.seconds:.1f}s",
                  f"{outcome.drop_date} {status}")

    def step(self, line: str, short: str) -> None:
        """One unit done: ``line`` for a log, ``short`` beside the bar."""
        self.count += 1
        if self.bar is not None:
            self.bar.set_postfix_str(short, refresh=False)
            self.bar.update(1)
        elif not self.quiet:
            of = f" ({self.count}/{self.total})" if self.total else ""
            print(line + of, file=self.stream, flush=True)

    def note(self, line: str) -> None:
        """A message that is not a step (shown above the bar, or as its own line)."""
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        elif not self.quiet:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> DropProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
