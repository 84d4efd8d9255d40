"""`minimistral quantize`: write any checkpoint minimistral reads as a llama.cpp GGUF file.

    minimistral quantize --type q8_0 Mistral-7B-v0.1 mistral-7b-v0.1.Q8_0.gguf
"""

from __future__ import annotations

from ..guards.textio import show
from .output import human


def run(opts) -> int:
    """Quantize SRC into OUT with a progress bar, then one line saying what was written."""
    from ..checkpoints.quantize import quantize
    from ..training.progress import ProgressBar

    bar = ProgressBar("quantizing", "layers")
    summary = quantize(opts.src, opts.out, opts.type, progress=bar)
    bar.finish()
    types = ", ".join(f"{kind} ({n} tensors)" for kind, n in sorted(summary["types"].items()))
    print(f"wrote {show(summary['path'])}: {human(summary['bytes'])}, {types}; read back and checked "
          f"against {show(opts.src)}")
    return 0


def add_options(p) -> None:
    p.add_argument("--type", required=True, choices=["q8_0", "q4_0", "f16"],
                   help="q8_0: 8.5 bits a weight (~7.7 GB for the 7B), q4_0: 4.5 bits (~4.1 GB), f16: 16 bits")
    p.add_argument("src", metavar="SRC", help="checkpoint to read (HF, Mistral native, .pth or GGUF)")
    p.add_argument("out", metavar="OUT", help="GGUF file to write (must not exist)")
