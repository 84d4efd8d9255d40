"""Issue 21, item 4, in one run: the full 7B shapes as bf16, Q8_0, Q4_0 and Q4_K_M, torch bf16 beside them.

    flock /tmp/minimistral-heavy.lock python benchmarks/bench_quant.py [--prompt 512] [--decode 4]

What it does, in this order, one model at a time (each in its own process, alone on the machine,
so its peak memory is its own and the page cache holds one model):

1. The float32 GEMM ceiling: NumPy (its BLAS, default threads) multiplies x [T, 4096] by float32
   copies of one layer's seven matrices (wq, wk, wv, wo, w1, w3, w2), best of 3; a pre-fill of T
   tokens through 32 such layers cannot beat T / (32 x that time) tokens/s when every weight must be
   widened or dequantized to float32 first. (Attention and the output row are left out: the
   ceiling is generous by those few per cent.)
2. A synthetic bf16 checkpoint in HF layout (benchmarks/make_synthetic.py, 14.48 GB), kept in
   --dir for later runs. minimistral runs it, then transformers' MistralForCausalLM in torch bf16
   (the same files; benchmarks/bench_speed.py's two sides).
3. For each GGUF type a synthetic file (benchmarks/bench_gguf.py: random blocks, ordinary scales,
   real names, shapes and tokenizer; Q4_K_M is llama.cpp's recipe), run by minimistral, then deleted.

Each side: load, a warm-up pre-fill of 8 tokens (pages the weights in), one timed pre-fill of
--prompt tokens, --decode decode steps after it (median s/token), then (minimistral) a cache holding
4096 positions of random keys and values and --decode steps at it: the memory a full
4096-position cache costs is in the peak. Peak RSS (VmHWM) and peak anonymous memory (RssAnon
sampled every 5 ms) are read when the side quits. The numbers go to stdout as a table and to --json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_speed import Worker, machine, median  # noqa: E402

FULL_CACHE = 4096


def gemm_ceiling(T: int, n_layers: int = 32, repeats: int = 3) -> dict:
    """Tokens/s that float32 GEMM allows a T-token pre-fill through n_layers 7B layers."""
    rng = np.random.default_rng(0)
    shapes = {"wq": (4096, 4096), "wk": (1024, 4096), "wv": (1024, 4096), "wo": (4096, 4096),
              "w1": (14336, 4096), "w3": (14336, 4096), "w2": (4096, 14336)}
    mats = {k: rng.standard_normal(s, dtype=np.float32) * np.float32(0.02) for k, s in shapes.items()}
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for w in mats.values():
            x = rng.standard_normal((T, w.shape[1]), dtype=np.float32)
            x @ w.T
        best = min(best, time.perf_counter() - start)
    flops = 2 * T * sum(o * i for o, i in shapes.values())
    return {"T": T, "layer_s": best, "gflops": flops / best / 1e9, "tokens_per_s": T / (n_layers * best)}


def run_side(side: str, model: Path, a) -> dict:
    """One model on one side, alone: pre-fill, decode, (minimistral) decode at a full cache, memory."""
    w = Worker(side, model)
    out = {"side": side, "model": model.name, "load_s": w.load_s}
    w.ask("prefill 8")
    out["prefill_s"] = w.ask(f"prefill {a.prompt}")["wall"]
    out["prefill_tok_s"] = a.prompt / out["prefill_s"]
    out["decode_s"] = median([w.ask("decode")["wall"] for _ in range(a.decode)])
    if side == "minimistral":
        w.ask(f"window {FULL_CACHE}")
        out["decode_full_cache_s"] = median([w.ask("decode")["wall"] for _ in range(a.decode)])
    out.update(w.ask("quit"))
    w.proc.wait()
    print(json.dumps(out), flush=True)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=ROOT / "benchmarks" / "work", help="where the synthetic files go")
    ap.add_argument("--types", default="q8_0,q4_0,q4_k_m", help="GGUF types to write and run")
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--prompt", type=int, default=512, help="pre-fill length (default 512)")
    ap.add_argument("--decode", type=int, default=4, help="decode steps per measurement (median)")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch bf16 side")
    ap.add_argument("--json", type=Path, default=None, help="write the raw numbers here")
    a = ap.parse_args(argv)
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"# {date}; {machine()}; NumPy {np.__version__}; command: python {' '.join(sys.argv)}", flush=True)
    ceiling = gemm_ceiling(a.prompt, a.layers)
    print(json.dumps({"gemm_ceiling": ceiling}), flush=True)

    from make_synthetic import make_synthetic

    hf = a.dir / ("synthetic-7b-hf" if a.layers == 32 else f"synthetic-{a.layers}layers-hf")
    if not (hf / "config.json").exists():
        make_synthetic(hf, a.layers, 0)
    rows = [dict(run_side("minimistral", hf, a), type="bf16", file_gb=sum(
        p.stat().st_size for p in hf.glob("*.safetensors")) / 1e9)]
    if not a.no_torch:
        rows.append(dict(run_side("torch", hf, a), type="bf16 (torch)", file_gb=rows[0]["file_gb"]))

    from bench_gguf import write_synthetic

    from minimistral.config import ModelArgs

    for qtype in a.types.split(","):
        path = a.dir / f"synthetic-7b.{qtype}.gguf"
        write_synthetic(path, qtype, ModelArgs(n_layers=a.layers))          # v0.1: W = 4096, like the HF files
        info = subprocess.run([sys.executable, "-m", "minimistral", "info", "--model", str(path)],
                              capture_output=True, text=True, cwd=ROOT).stdout
        try:
            rows.append(dict(run_side("minimistral", path, a), type=qtype.upper(),
                             file_gb=path.stat().st_size / 1e9, info=info))
        finally:
            path.unlink()

    print(f"\nfloat32 GEMM ceiling for a {a.prompt}-token pre-fill: {ceiling['gflops']:.0f} GFLOP/s, "
          f"{ceiling['tokens_per_s']:.2f} tokens/s")
    head = ["type", "side", "file GB", f"pre-fill {a.prompt} tok/s", "of GEMM ceiling", "decode s/token",
            f"decode s/token, {FULL_CACHE} cached", "peak RSS GiB", "peak anon GiB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join([
            r["type"], r["side"], f"{r['file_gb']:.2f}", f"{r['prefill_tok_s']:.2f}",
            f"{r['prefill_tok_s'] / ceiling['tokens_per_s']:.2f}", f"{r['decode_s']:.2f}",
            f"{r['decode_full_cache_s']:.2f}" if "decode_full_cache_s" in r else "",
            f"{r['peak_rss_gb'] / 1.024 ** 3:.2f}", f"{r['peak_anon_gb'] / 1.024 ** 3:.2f}"]) + " |")
    print("\n".join(lines), flush=True)
    if a.json:
        a.json.write_text(json.dumps({"date": date, "machine": machine(), "command": " ".join(sys.argv),
                                      "gemm_ceiling": ceiling, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
