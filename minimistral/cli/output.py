"""What the command line writes besides the text itself: one-line messages on stderr, warnings
held until the command has produced output, rates and sizes, the process's memory."""

from __future__ import annotations

import sys

from ..guards.textio import show

_warnings: list[str] = []     # warnings held until the command produces output (see warn)


def say(message: str, kind: str = "error") -> None:
    """One line on stderr, 'minimistral: <kind>: message', escaped; a dead stderr is ignored."""
    try:
        print(f"minimistral: {kind}: {show(message)}", file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass


def warn(message: str) -> None:
    """A warning, printed only once the command has produced output (flush_warnings) or ended
    well: a command that fails prints its error alone, not warnings that led nowhere."""
    _warnings.append(message)


def flush_warnings() -> None:
    while _warnings:
        say(_warnings.pop(0), "warning")


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:.2f} tok/s" if seconds > 0 and n else "-"


def memory_summary() -> str:
    """Peak resident memory, and now: anonymous (our arrays) vs file-backed (mapped weights)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20      # KiB -> GiB (Linux)
    status = {}
    try:
        with open("/proc/self/status") as f:
            status = {k: int(v.split()[0]) / 2**20 for k, v in (line.split(":", 1) for line in f)
                      if k in ("RssAnon", "RssFile")}
    except (OSError, ValueError):
        pass
    parts = [f"peak RSS {peak:.2f} GiB"]
    if status:
        parts.append(f"now {status.get('RssAnon', 0):.2f} GiB anonymous + "
                     f"{status.get('RssFile', 0):.2f} GiB mapped weights")
    return ", ".join(parts)


def human(nbytes: float) -> str:
    """1.5e9 -> '1.50 GB', 2.5e6 -> '2.5 MB'."""
    return f"{nbytes / 1e9:.2f} GB" if nbytes >= 1e9 else f"{nbytes / 1e6:.1f} MB"
