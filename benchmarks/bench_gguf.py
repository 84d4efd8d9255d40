"""GGUF files of the full Mistral-7B shapes: decode time per token and memory, per quantization type.

    flock /tmp/minimistral-heavy.lock python benchmarks/bench_gguf.py [--types q8_0,q4_0,q4_k_m] [--max-tokens N]
    flock /tmp/minimistral-heavy.lock python benchmarks/bench_gguf.py --kernel      # one matrix at a time

Writes a synthetic 7B GGUF file per type (random blocks with ordinary scales, the real shapes,
names and tokenizer; Q8_0 7.7 GB, Q4_0 4.1 GB, Q4_K_M 4.4 GB: llama.cpp's Q4_K_M recipe, Q6_K
for output and for attn_v and ffn_down in 16 of the 32 layers), runs ``python -m minimistral
generate`` on it while sampling the child's /proc/<pid>/status (benchmarks/bench_7b.py), and
deletes the file. ``--kernel`` times quant_matmul_transposed alone on the 7B's matrix shapes.
Results go to benchmarks/RESULTS.md by hand (the machine is shared: say so).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SCALES = {"Q8_0": [(0, 1e-3)], "Q4_0": [(0, 6e-3)], "Q4_K": [(0, 3e-4), (2, 2e-3)], "Q6_K": [(208, 6e-5)]}
MORE_BITS = [i for i in range(32) if i < 4 or i >= 28 or (i - 4) % 3 == 2]   # llama.cpp use_more_bits(i, 32)


def kind_of(qtype: str, name: str, shape: tuple) -> str:
    """The storage type of one tensor in a file of type qtype (q4_k_m: llama.cpp's recipe)."""
    if len(shape) == 1:
        return "F32"
    if qtype != "q4_k_m":
        return qtype.upper()
    if name == "output.weight":
        return "Q6_K"
    if name.endswith(("attention.wv.weight", "feed_forward.w2.weight")) and int(name.split(".")[1]) in MORE_BITS:
        return "Q6_K"
    return "Q4_K"


def random_blocks(rng, kind: str, rows: int, cols: int) -> np.ndarray:
    """uint8 [rows, row bytes] of random blocks whose fp16 scales are ordinary numbers."""
    from minimistral.fast.quant import BLOCKS

    per_block, block_bytes = BLOCKS[kind]
    raw = rng.integers(0, 256, size=(rows * cols // per_block, block_bytes), dtype=np.uint8)
    for at, value in SCALES[kind]:
        raw[:, at:at + 2] = np.frombuffer(np.float16(value).tobytes(), np.uint8)
    return raw.reshape(rows, -1)


def write_synthetic(path: Path, qtype: str, args) -> None:
    """A GGUF file of these ModelArgs' shapes: random blocks, the shipped (Mistral v1) tokenizer."""
    import gguf

    from minimistral.checkpoints.gguf_vocab import vocabulary
    from minimistral.checkpoints.names import gguf_name, iter_expected
    from minimistral.checkpoints.quantize import _metadata
    from minimistral.fast.quant import row_bytes
    from minimistral.tokenizer import SHIPPED_TOKENIZER, Tokenizer

    tok = Tokenizer(SHIPPED_TOKENIZER)
    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(str(path), "llama")
    _metadata(w, args, tok, vocabulary(tok.sp), "Q8_0" if qtype == "q8_0" else "Q4_0", f"synthetic-7b-{qtype}")
    shapes = list(iter_expected(args))
    for name, shape in shapes:
        kind = kind_of(qtype, name, shape)
        nbytes = 4 * shape[0] if kind == "F32" else shape[0] * row_bytes(kind, shape[1])
        w.add_tensor_info(gguf_name(name), shape, np.dtype(np.float32), nbytes, raw_dtype=gguf.GGMLQuantizationType[kind])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for name, shape in shapes:
        kind = kind_of(qtype, name, shape)
        w.write_tensor_data(np.ones(shape, np.float32) if kind == "F32" else random_blocks(rng, kind, *shape))
    w.close()


def kernel(threads_list=(1, 2)) -> None:
    """quant_matmul_transposed alone, every type, the 7B's matrix shapes, T = 1, 4 and 64 rows."""
    from minimistral.fast.linear import bf16_matmul_transposed
    from minimistral.fast.quant import quant_matmul_transposed

    rng = np.random.default_rng(0)
    shapes = [(4096, 4096), (14336, 4096), (4096, 14336)]
    for kind in ("Q8_0", "Q4_0", "Q4_K", "Q6_K", "BF16"):
        mats = [random_blocks(rng, kind, *s) if kind != "BF16" else
                (rng.integers(0, 2**16, size=s, dtype=np.uint16) & 0x3FFF) for s in shapes]
        for threads in threads_list:
            row = [kind, f"{threads} thread{'s' if threads > 1 else ''}"]
            for T in (1, 4, 64):
                best = 1e9
                for _ in range(3):
                    start = time.perf_counter()
                    for (o, i), m in zip(shapes, mats):
                        x = rng.standard_normal((T, i)).astype(np.float32)
                        if kind == "BF16":
                            bf16_matmul_transposed(x, m, threads=threads)
                        else:
                            quant_matmul_transposed(x, m, kind, threads=threads)
                    best = min(best, time.perf_counter() - start)
                weights = sum(o * i for o, i in shapes)
                row.append(f"T={T}: {weights / best / 1e9:.2f} G weights/s")
            print("  ".join(row), flush=True)


def main() -> None:
    from bench_7b import run

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--types", default="q8_0,q4_0,q4_k_m")
    p.add_argument("--layers", type=int, default=32)
    p.add_argument("--max-tokens", type=int, default=8)
    p.add_argument("--dir", default="/tmp/minimistral-gguf-bench")
    p.add_argument("--kernel", action="store_true", help="time the matrix product alone")
    p.add_argument("--keep", action="store_true", help="keep the synthetic files")
    opts = p.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}")
    if opts.kernel:
        kernel()
        return
    directory = Path(opts.dir)
    directory.mkdir(parents=True, exist_ok=True)
    for qtype in opts.types.split(","):
        path = directory / f"synthetic-7b.{qtype}.gguf"
        start = time.perf_counter()
        if not path.exists():
            from minimistral.config import ModelArgs

            write_synthetic(path, qtype, ModelArgs(n_layers=opts.layers, sliding_window=None, context_len=32768,
                                                   rope_theta=1e6))
        written = time.perf_counter() - start
        info = __import__("subprocess").run([sys.executable, "-m", "minimistral", "info", "--model", str(path)],
                                            capture_output=True, text=True, cwd=ROOT).stdout
        result = run(path, opts.max_tokens, None)
        result.update(type=qtype, file_gb=path.stat().st_size / 1e9, write_s=written, info=info)
        print(json.dumps({k: v for k, v in result.items() if k != "text"}, indent=1), flush=True)
        if not opts.keep:
            path.unlink()


if __name__ == "__main__":
    main()
