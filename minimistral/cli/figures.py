"""`minimistral figures`: every figure, redrawn from the package's own code and data."""

from __future__ import annotations

from ..guards.textio import show


def run(opts) -> int:
    """Redraw the paper's figures from the modules' live data into --out (PNG files)."""
    from ..figures import write_all

    for path in write_all(opts.out):
        print(show(path))
    return 0


def add_options(p) -> None:
    p.add_argument("--out", default="figures", metavar="DIR", help="directory for the PNG files (default: figures/)")
