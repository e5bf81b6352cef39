"""Progress of a batch: a redrawn bar on a terminal, one line per submission otherwise."""

from __future__ import annotations

import sys
import time

from grader.protocol import printable


class Progress:
    """done/total, rate and ETA on stderr; entry names and statuses shown, never obeyed."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.tty = sys.stderr.isatty()

    def step(self, name: str, status: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed else 0.0
        eta = (self.total - self.done) / rate if rate else 0.0
        figures = f"{self.done}/{self.total}  {rate:.2f}/s  ETA {eta:.0f}s"
        if self.tty:
            filled = 30 * self.done // max(self.total, 1)
            end = "\n" if self.done == self.total else ""
            print(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {figures} ",
                end=end,
                file=sys.stderr,
                flush=True,
            )
        else:
            line = f"[{figures}] {printable(name, 200)}: {printable(status, 300)}"
            print(line, file=sys.stderr, flush=True)

    def interrupted(self) -> None:
        """End a half-drawn bar so the next message starts on a line of its own."""
        if self.tty and 0 < self.done < self.total:
            print(file=sys.stderr)
