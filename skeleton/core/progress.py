"""A progress line on stderr: `desc: done/total files, rate files/s`."""

from __future__ import annotations

import sys
import time

PROGRESS_INTERVAL = 1.0  # seconds between progress lines


class Progress:
    """`desc: done/total files` on stderr, at most every PROGRESS_INTERVAL seconds and at the
    end (one line rewritten on a terminal). Not tqdm: the library needs numpy alone (tqdm comes
    with the workflow's extra), and a parse job of a few dozen files would pay its import."""

    def __init__(self, total: int, desc: str, enabled: bool = True) -> None:
        self.total, self.desc, self.enabled = total, desc, enabled
        self.done = 0
        self._start = self._shown = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.enabled and time.monotonic() - self._shown >= PROGRESS_INTERVAL:
            self._show(final=False)

    def close(self) -> None:
        if self.enabled:
            self._show(final=True)

    def _show(self, final: bool) -> None:
        now = time.monotonic()
        self._shown = now
        rate = self.done / max(now - self._start, 1e-9)
        line = f"{self.desc}: {self.done}/{self.total} files, {rate:.0f} files/s"
        tty = sys.stderr.isatty()
        end = "\n" if final or not tty else ""
        print(("\r" if tty else "") + line, end=end, file=sys.stderr, flush=True)
