"""A progress line for long runs: counts, rate and ETA, on a terminal only.

``Progress`` draws one line on standard error, redrawn at most ten times a second::

    fiches  412/1043  39%  118/s  ETA 5s

It stays silent when the stream is not a terminal (a pipe, a file, CI logs) or when asked to be
quiet, so logs never fill with carriage returns. Stages (``stage("validate referentials")``)
replace the label and the counts of the line; :meth:`Progress.close` clears it.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Counts done out of a total, drawn on a terminal; a no-op elsewhere."""

    def __init__(
        self,
        total: int = 0,
        label: str = "",
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        interval: float = 0.1,
        clock=time.monotonic,  # type: ignore[no-untyped-def]
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.interval = interval
        self._clock = clock
        self._width = 0
        self.stage(label, total)

    def stage(self, label: str, total: int = 0) -> None:
        """Start counting something else (the line keeps its place)."""
        self.label = label
        self.total = total
        self.done = 0
        self._started = self._clock()
        self._drawn = float("-inf")
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw(force=self.done >= self.total > 0)

    def line(self) -> str:
        """The text of the progress line as it stands."""
        elapsed = self._clock() - self._started
        parts = [self.label]
        if self.total:
            parts.append(f"{self.done}/{self.total}")
            parts.append(f"{100 * self.done // self.total}%")
        elif self.done:
            parts.append(str(self.done))
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            parts.append(f"{rate:.0f}/s" if rate >= 10 else f"{rate:.1f}/s")
            if self.total and self.done < self.total:
                parts.append(f"ETA {_duration((self.total - self.done) / rate)}")
        return "  ".join(p for p in parts if p)

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if not force and now - self._drawn < self.interval:
            return
        self._drawn = now
        text = self.line()
        pad = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)

    def close(self) -> None:
        """Clear the line, leaving the cursor where the next output begins."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
