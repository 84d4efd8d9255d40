"""The progress line of long runs on stderr: training, and loading for the command line.

    loading   [##########..............]  16/32 layers   7.2/14.5 GB   38 s
    training  [####....................]  1000/6000 steps   640 s   loss 1.288  held-out 1.307  6400 tok/s

On a terminal the line redraws in place; otherwise (a log, a pipe, a notebook) only the lines
asked for with ``log=True`` and the final line are written.

The library reports progress through callbacks and leaves printing to cli/, with one exception,
and that is why this module sits here, below cli/: ``train()`` runs for minutes, so when nobody
passed a callback and stderr is a terminal (a person is watching) it draws TrainingProgress
itself. `minimistral train` draws the same line; `minimistral generate` the loading one.

    bar = TrainingProgress()                  # or train(config, out, progress=True)
    train(config, "runs/mine", progress=bar)  # one line per evaluation in a log, live on a terminal
"""

from __future__ import annotations

import sys
import time

GB = 1e9


class ProgressBar:
    """Call with (done, total, bytes_done, bytes_total); finish() ends the line (once)."""

    def __init__(self, label: str, unit: str, stream=None, width: int = 24):
        self.label, self.unit, self.width = label, unit, width
        self.stream = stream if stream is not None else sys.stderr
        self.live = getattr(self.stream, "isatty", lambda: False)()
        self.start = time.perf_counter()
        self.last = self.logged = ""
        self.finished = False

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
        """End the line: on a terminal the cursor moves on, in a log the last line is written."""
        if self.finished:
            return
        self.finished = True
        if self.last and (self.live or self.last != self.logged):
            self.stream.write(("\r" if self.live else "") + self.last + "\n")
        elif self.live:
            self.stream.write("\n")
        self.stream.flush()


class TrainingProgress:
    """A ``progress(row)`` for train(): the training line, written as a log line at every
    held-out evaluation, the last held-out loss kept on the line in between."""

    def __init__(self, stream=None):
        self.bar = ProgressBar("training", "steps", stream)
        self.held = None

    def __call__(self, row: dict) -> None:
        if row["heldout_loss"] is not None:
            self.held = row["heldout_loss"]
        held = f"{self.held:.3f}" if self.held is not None else "-"
        self.bar(row["step"], row["steps"], note=f"loss {row['loss']:.3f}  held-out {held}  "
                 f"{row['tokens_per_s']:.0f} tok/s", log=row["heldout_loss"] is not None)

    def finish(self) -> None:
        self.bar.finish()
