"""A progress bar on stderr for the CLI (the library reports progress through a callback).

    loading   [##########..............]  16/32 layers   7.2/14.5 GB   38 s
    training  [####....................]  200/1200 steps   61 s   loss 1.912  held-out 1.950  1843 tok/s

On a terminal the line redraws in place; otherwise (a log, a pipe) only the lines asked for with
``log=True`` and the final line are written.
"""

from __future__ import annotations

import sys
import time

GB = 1e9


class ProgressBar:
    """Call with (done, total, bytes_done, bytes_total); finish() ends the line."""

    def __init__(self, label: str, unit: str, stream=None, width: int = 24):
        self.label, self.unit, self.width = label, unit, width
        self.stream = stream if stream is not None else sys.stderr
        self.live = getattr(self.stream, "isatty", lambda: False)()
        self.start = time.perf_counter()
        self.last = self.logged = ""

    def line(self, done: int, total: int, bytes_done: int = 0, bytes_total: int = 0) -> str:
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        unit, scale = ("GB", GB) if bytes_total >= GB else ("MB", 1e6)
        size = f"   {bytes_done / scale:.1f}/{bytes_total / scale:.1f} {unit}" if bytes_total else ""
        return (f"{self.label}  [{bar}]  {done}/{total} {self.unit}{size}"
                f"   {time.perf_counter() - self.start:.0f} s")

    def __call__(self, done: int, total: int, bytes_done: int = 0, bytes_total: int = 0,
                 note: str = "", log: bool = False) -> None:
        """Redraw with ``note`` after the time; ``log`` also writes the line when not on a terminal."""
        self.last = self.line(done, total, bytes_done, bytes_total) + (f"   {note}" if note else "")
        if self.live:
            self.stream.write("\r" + self.last)
        elif log:
            self.stream.write(self.last + "\n")
            self.logged = self.last
        self.stream.flush()

    def finish(self) -> None:
        if self.last and (self.live or self.last != self.logged):
            self.stream.write(("\r" if self.live else "") + self.last + "\n")
        elif self.live:
            self.stream.write("\n")
        self.stream.flush()
