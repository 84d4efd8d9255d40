"""Speculative decoding with drafts from the text (issue 15): acceptance and tokens/s, with and without.

    python benchmarks/bench_lookahead.py --model DIR                    # a trained checkpoint
    python benchmarks/bench_lookahead.py --model tiny                   # the embedded random model
    flock /tmp/minimistral-heavy.lock python benchmarks/bench_lookahead.py --model benchmarks/work/synthetic-4layers-hf

For each prompt and each lookahead k (0 = plain decoding) it generates --max-tokens tokens
greedily (and, with --sampled, at temperature 0.7 / top-p 0.9) and reports: wall seconds,
tokens/s, draft tokens proposed and accepted, the acceptance rate (accepted / proposed),
tokens per model pass, and the speed-up over k = 0. Greedy outputs with lookahead are checked
against k = 0 token for token (the "same" column).

Prompts: "story" (the opening of a story, continued), and "repeat" (a passage given twice and
then begun a third time: the continuation can copy it, the case prompt lookup is made for).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_speed import machine  # noqa: E402

PASSAGE = ("Once upon a time, there was a little girl named Mia. She had a small dog named Biscuit. "
           "One day, Mia and Biscuit went to the park to play with a red ball.")
PROMPTS = {
    "story": "Once upon a time, there was a little girl named Mia. She had a small dog named Biscuit.",
    "repeat": PASSAGE + " " + PASSAGE + " Once upon a time, there was",
}


def load(model: str):
    if model == "tiny":
        from minimistral.training.init import tiny_model
        return tiny_model()
    import minimistral
    return minimistral.load(model)


def run(model, ids, k, max_tokens, temperature, top_p, seed):
    session = model.session()
    t = time.perf_counter()
    out = session.generate(ids, max_tokens, temperature, top_p, seed=seed, eos_id=None, lookahead=k)
    return out, time.perf_counter() - t, dict(session.stats)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny", help="checkpoint directory, or 'tiny' (random demo model)")
    ap.add_argument("--lookahead", nargs="+", type=int, default=[0, 2, 4, 8])
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3, help="runs per case (the fastest is kept)")
    ap.add_argument("--sampled", action="store_true", help="also at temperature 0.7, top-p 0.9")
    a = ap.parse_args(argv)
    model = load(a.model)
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    modes = [("greedy", 0.0, 1.0)] + ([("sampled", 0.7, 0.9)] if a.sampled else [])
    print(f"{date}; {machine()}; model {a.model}; window {model.args.sliding_window}; "
          f"{a.max_tokens} new tokens, best of {a.repeats}")
    print(f"command: python {' '.join(sys.argv)}")
    print("| prompt | mode | k | s | tok/s | drafted | accepted | acceptance | tokens/pass | speed-up | same |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, text in PROMPTS.items():
        ids = model.tokenizer.encode(text)
        for mode, temperature, top_p in modes:
            base = None
            for k in a.lookahead:
                runs = [run(model, ids, k, a.max_tokens, temperature, top_p, seed=0) for _ in range(a.repeats)]
                out, wall, st = min(runs, key=lambda r: r[1])
                if k == 0:
                    base = (out, wall)
                same = "-" if mode != "greedy" or k == 0 else ("yes" if out == base[0] else "NO")
                rate = st["accepted"] / st["drafted"] if st["drafted"] else 0.0
                print(f"| {name} | {mode} | {k} | {wall:.2f} | {len(out) / wall:.1f} | {st['drafted']} | "
                      f"{st['accepted']} | {rate:.0%} | {len(out) / (st['passes'] or len(out)):.2f} | "
                      f"{base[1] / wall:.2f}x | {same} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if a.model != "tiny":
        print("story continuation:", repr(model.tokenizer.decode(
            run(model, model.tokenizer.encode(PROMPTS['story']), 4, 48, 0.0, 1.0, 0)[0])))


if __name__ == "__main__":
    main()
