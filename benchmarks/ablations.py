"""Ablations of the shipped recipe: what the sliding window, the kv heads and the depth buy.

Every variant is the shipped model's recipe (TrainConfig: 6 layers, D = 128, 8 query heads on 2 kv
heads of 16 features, W = 32, batch 8 x 512 tokens; with the plain mean loss, name_weight 1, as
when the set was run) with one thing changed, trained on the same
corpus for the same number of steps (--steps, default 600 = 2.5 M tokens: 6 to 10 minutes a run on
one core of this machine with the other core busy, 22 for full attention, whose cost grows with
T x T; the shipped model had 6000 steps), initial weights seeded by --seeds:

    window     recipe (W = 32)   full (no window: W = T = 512 in training, None at inference)   w16 (W = 16)
    kv heads   mqa (1 kv head)   recipe (2: GQA)   mha (8: one per query head)      same width D = H x Hd
    layers     layers4           recipe (6)        layers8                          same W = 32

For each run: held-out cross-entropy (training/evaluate.evaluate, 64 windows of 512 tokens, with the
unigram baseline) and on the hand-written text (evaluate.handwritten); names retrieved by how far
back they were last said (evaluate.name_recall, banded by the recipe's W = 32 and k = 6 for every
variant, so each band holds the same mentions); training tokens/s (median step); pre-fill and
decode tokens/s of the written checkpoint (bf16, one thread: a 512-token prompt, then 64 greedy
tokens, best of 3); and KV-cache bytes per token (gqa.kv_cache_bytes, float32 as the rolling
buffer keeps them) with the cache's size after 4096 tokens (a window caps it at W positions).

    python benchmarks/ablations.py --steps 3 --only mqa --out /tmp/ablations.json     # smoke test
    flock /tmp/minimistral-heavy.lock python benchmarks/ablations.py --seeds 0 1       # the full set

Results go to minimistral/data/experiments/ablations.json (--out): runs are merged in by
(variant, seed, steps) and the file is rewritten after each one, so an interrupted set resumes
where it stopped (--force reruns what is there). Seeds can train side by side, one process per
core, each into its own --out; --merge then gathers them, and --speeds re-measures pre-fill and
decode on the kept checkpoints alone (two runs beside each other share memory bandwidth):

    python benchmarks/ablations.py --seeds 0 --out /tmp/s0.json --keep RUNS &     # one per core
    python benchmarks/ablations.py --seeds 1 --out /tmp/s1.json --keep RUNS; wait
    python benchmarks/ablations.py --merge /tmp/s0.json /tmp/s1.json
    python benchmarks/ablations.py --speeds --keep RUNS
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # before NumPy loads BLAS: see RESULTS.md
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))                    # run from a checkout without installing

import minimistral  # noqa: E402
from minimistral.gqa import kv_cache_bytes  # noqa: E402
from minimistral.model import Mistral  # noqa: E402
from minimistral.training import corpus, evaluate  # noqa: E402
from minimistral.training.train import TrainConfig, train  # noqa: E402

OUT = HERE.parent / "minimistral" / "data" / "experiments" / "ablations.json"
# The set was run before the recipe weighed names said again 10 times (name_weight, the shipped
# model of 2026-12-06): its variants keep the plain mean, so a rerun reproduces ablations.json.
RECIPE = TrainConfig(name_weight=1.0)
# variant -> the TrainConfig fields it changes (sliding_window None: full causal attention)
VARIANTS = {
    "recipe": {},
    "full": {"sliding_window": None},
    "w16": {"sliding_window": 16},
    "mqa": {"n_kv_heads": 1},
    "mha": {"n_kv_heads": RECIPE.n_heads},
    "layers4": {"n_layers": 4},
    "layers8": {"n_layers": 8},
}
GROUPS = {"window": ["recipe", "full", "w16"], "kv_heads": ["mqa", "recipe", "mha"],
          "layers": ["layers4", "recipe", "layers8"]}
PROMPT_TOKENS, DECODE_TOKENS, REPEATS = 512, 64, 3


def config_of(variant: str, steps: int, seed: int) -> TrainConfig:
    """The recipe with the variant's change, at `steps` steps (the cosine spans them; the recipe's
    100 warm-up steps, or a tenth of a run shorter than 1000), one evaluation (the last), no
    intermediate checkpoints. Full attention trains with W = T: no key of a sequence is outside it."""
    changes = dict(VARIANTS[variant])
    if "sliding_window" in changes and changes["sliding_window"] is None:
        changes["sliding_window"] = RECIPE.seq_len
    warmup = RECIPE.warmup if steps >= 10 * RECIPE.warmup else max(1, steps // 10)
    return dataclasses.replace(RECIPE, **changes, steps=steps, seed=seed, eval_every=steps,
                               checkpoint_every=0, warmup=warmup)


def inference_model(variant: str, out_dir: Path) -> Mistral:
    """The written checkpoint as it ships (bf16, memory-mapped); full attention without a window."""
    model = minimistral.load(out_dir)
    if VARIANTS[variant].get("sliding_window", 0) is None:
        model = Mistral(model.args.replace(sliding_window=None), model.weights, tokenizer=model.tokenizer)
    return model


def speed(model: Mistral) -> dict:
    """Pre-fill tokens/s of a PROMPT_TOKENS-token held-out prompt and decode tokens/s of DECODE_TOKENS
    greedy tokens after it (the rolling cache; chunks of W, or the whole prompt without a window),
    best of REPEATS."""
    prompt = corpus.heldout_windows(1, PROMPT_TOKENS, 0, model.tokenizer)[0]
    prefill, decode = [], []
    for _ in range(REPEATS):
        cache = model.new_cache()
        t0 = time.perf_counter()
        logits = model.prefill(prompt, cache)
        t1 = time.perf_counter()
        token = int(logits[-1].argmax())
        for _ in range(DECODE_TOKENS):
            token = int(model.decode(token, cache).argmax())
        t2 = time.perf_counter()
        prefill.append(t1 - t0)
        decode.append(t2 - t1)
    return {"prefill_tokens_per_s": len(prompt) / min(prefill), "decode_tokens_per_s": DECODE_TOKENS / min(decode)}


def distance_bins(rows, width: int = 32) -> list[dict]:
    """name_recall's (distance, right, ce) rows as top-1 per bin of `width` tokens of distance."""
    out = []
    if not rows:
        return out
    top = max(d for d, _, _ in rows)
    for lo in range(0, top + 1, width):
        sel = [r for d, r, _ in rows if lo < d <= lo + width]
        if sel:
            out.append({"distance": [lo + 1, lo + width], "mentions": len(sel), "top1": float(np.mean(sel))})
    return out


def run_one(variant: str, steps: int, seed: int, keep: Path | None) -> dict:
    """Train one variant and measure it; returns the row of the JSON."""
    config = config_of(variant, steps, seed)
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix=f"ablation-{variant}-") as tmp:
        out_dir = (keep / f"{variant}-seed{seed}-steps{steps}") if keep else Path(tmp) / "run"
        result = train(config, out_dir, progress=False)
        train_s = time.time() - t0
        model = inference_model(variant, out_dir)
        args = model.args
        rates = [r["tokens_per_s"] for r in result.log[1:]] or [result.log[0]["tokens_per_s"]]   # step 1 warms up
        held = evaluate.evaluate(model, n_windows=64, seq_len=512)
        hand = evaluate.handwritten(model)
        names = evaluate.name_recall(model, window=RECIPE.sliding_window, layers=RECIPE.n_layers)
        window = args.sliding_window
        row = {
            "variant": variant, "seed": seed, "steps": steps, "tokens": steps * config.batch * config.seq_len,
            "changes": VARIANTS[variant],
            "config": {"n_layers": args.n_layers, "n_heads": args.n_heads, "n_kv_heads": args.n_kv_heads,
                       "head_dim": args.head_dim, "sliding_window": window, "trained_window": config.sliding_window},
            "parameters": args.n_params(),
            "final_train_loss": result.log[-1]["loss"],
            "heldout_ce": held["model_ce"], "heldout_unigram_ce": held["unigram_ce"],
            "handwritten_ce": {k: v["model_ce"] for k, v in hand.items()},
            "names": {b: v["top1"] for b, v in names["bands"].items()},
            "names_mentions": {b: v["mentions"] for b, v in names["bands"].items()},
            "names_by_distance": distance_bins(names["by_distance"]),
            "train_tokens_per_s": float(np.median(rates)),
            **speed(model),
            "kv_bytes_per_token": kv_cache_bytes(args.n_layers, args.n_kv_heads, args.head_dim, 1, 4),
            "kv_cache_bytes_at_4096": kv_cache_bytes(args.n_layers, args.n_kv_heads, args.head_dim,
                                                     min(window or 4096, 4096), 4),
            "train_seconds": round(train_s), "seconds": round(time.time() - t0),
        }
    return row


def summarise(rows: list[dict], steps: int) -> dict:
    """Per group and variant, the mean over seeds of the headline numbers (at `steps`)."""
    keys = ["heldout_ce", "train_tokens_per_s", "prefill_tokens_per_s", "decode_tokens_per_s",
            "kv_bytes_per_token", "kv_cache_bytes_at_4096"]
    out = {}
    for group, variants in GROUPS.items():
        out[group] = {}
        for v in variants:
            sel = [r for r in rows if r["variant"] == v and r["steps"] == steps]
            if not sel:
                continue
            entry = {k: float(np.mean([r[k] for r in sel])) for k in keys}
            entry["seeds"] = sorted(r["seed"] for r in sel)
            entry["heldout_ce_spread"] = float(np.ptp([r["heldout_ce"] for r in sel]))
            entry["passages_ce"] = float(np.mean([r["handwritten_ce"]["passages"] for r in sel]))
            for band in ("near", "mid", "far"):
                vals = [r["names"][band] for r in sel if r["names"][band] is not None]
                entry[f"names_{band}"] = float(np.mean(vals)) if vals else None
            out[group][v] = entry
    return out


def write(out: Path, rows: list[dict], argv: list[str], note: str | None = None, made_by=()) -> dict:
    """Rewrite the JSON with these rows (sorted), their summary per step count, and how they were made
    (the commands already there, then `made_by`, then this one)."""
    data = json.loads(out.read_text()) if out.exists() else {}
    data.update({
        "what": "the shipped recipe (training/train.TrainConfig) with one change per variant, trained "
                "at an equal token budget; see benchmarks/ablations.py",
        "recipe": dataclasses.asdict(RECIPE), "variants": VARIANTS, "groups": GROUPS,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, NumPy {np.__version__}, one BLAS thread",
        "summary": {str(s): summarise(rows, s) for s in sorted({r["steps"] for r in rows})},
        "runs": sorted(rows, key=lambda r: (r["steps"], r["variant"], r["seed"])),
    })
    data.setdefault("commands", [])
    command = "python benchmarks/ablations.py " + " ".join(argv)
    for c in [*made_by, command]:
        if c not in data["commands"]:
            data["commands"].append(c)
    if note:
        data.setdefault("notes", [])
        if note not in data["notes"]:
            data["notes"].append(note)
    data.pop("command", None)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n")
    return data


def remeasure_speeds(rows: list[dict], keep: Path) -> list[dict]:
    """Pre-fill and decode tokens/s of every kept checkpoint again, one after the other in this process
    (a quiet machine: the runs themselves may have measured beside each other)."""
    for r in rows:
        run_dir = keep / f"{r['variant']}-seed{r['seed']}-steps{r['steps']}"
        if not run_dir.is_dir():
            print(f"{run_dir} is missing: speeds of {r['variant']} seed {r['seed']} kept as measured", flush=True)
            continue
        model = inference_model(r["variant"], run_dir)
        r.update(speed(model), speeds="remeasured alone after the runs")
        print(f"{r['variant']} seed {r['seed']}: pre-fill {r['prefill_tokens_per_s']:.0f} tok/s, "
              f"decode {r['decode_tokens_per_s']:.0f} tok/s", flush=True)
    return rows


def table(data: dict) -> str:
    """The runs at the largest budget as a markdown table, seeds side by side (for RESULTS.md)."""
    steps = max(r["steps"] for r in data["runs"])
    rows = [r for r in data["runs"] if r["steps"] == steps]
    head = ["variant", "seed", "held-out CE", "hand-written (sentences / passages)", "names near / mid / far / first",
            "train tok/s", "pre-fill tok/s", "decode tok/s", "KV B/token", "KV at 4096 tokens"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = [v for g in GROUPS.values() for v in g]
    for r in sorted(rows, key=lambda r: (order.index(r["variant"]), r["seed"])):
        n, h = r["names"], r["handwritten_ce"]
        lines.append("| " + " | ".join([
            r["variant"], str(r["seed"]), f"{r['heldout_ce']:.3f}", f"{h['sentences']:.2f} / {h['passages']:.2f}",
            " / ".join(f"{n[b]:.2f}" for b in ("near", "mid", "far", "first")),
            f"{r['train_tokens_per_s']:.0f}", f"{r['prefill_tokens_per_s']:.0f}", f"{r['decode_tokens_per_s']:.0f}",
            str(r["kv_bytes_per_token"]), f"{r['kv_cache_bytes_at_4096'] / 1024:.0f} KiB"]) + " |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600, help="steps per run, the same for every variant (default 600)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="initialisation seeds (0 1 for headlines)")
    ap.add_argument("--only", nargs="+", choices=list(VARIANTS), default=None, help="run these variants only")
    ap.add_argument("--out", type=Path, default=OUT, help=f"the JSON to merge into (default {OUT})")
    ap.add_argument("--keep", type=Path, default=None, help="keep each run's checkpoint under this directory")
    ap.add_argument("--force", action="store_true", help="rerun (variant, seed, steps) already in --out")
    ap.add_argument("--merge", type=Path, nargs="+", default=None,
                    help="train nothing: add the runs of these JSON files (e.g. seeds run side by side) to --out")
    ap.add_argument("--table", action="store_true", help="train nothing: print --out's runs as a markdown table")
    ap.add_argument("--speeds", action="store_true",
                    help="train nothing: measure pre-fill and decode again on the checkpoints kept in --keep")
    opts = ap.parse_args(argv)
    if opts.steps < 1:
        ap.error("--steps must be at least 1")
    data = json.loads(opts.out.read_text()) if opts.out.exists() else {}
    rows = data.get("runs", [])
    if opts.table:
        print(table(data))
        return data
    if opts.merge:
        made_by = []
        for path in opts.merge:
            extra = json.loads(path.read_text())
            keys = {(r["variant"], r["seed"], r["steps"]) for r in extra["runs"]}
            made_by += [extra["command"]] if "command" in extra else extra.get("commands", [])
            rows = [r for r in rows if (r["variant"], r["seed"], r["steps"]) not in keys] + extra["runs"]
        note = "seeds trained side by side, one process (one BLAS thread) per core; merged with --merge"
        data = write(opts.out, rows, argv, note, made_by)
        print(f"wrote {opts.out}: {len(rows)} runs", flush=True)
        return data
    if opts.speeds:
        if opts.keep is None:
            ap.error("--speeds needs --keep DIR, where the runs' checkpoints are")
        data = write(opts.out, remeasure_speeds(rows, opts.keep), argv,
                     "pre-fill and decode speeds re-measured alone, one checkpoint after another (--speeds)")
        return data
    variants = opts.only or list(VARIANTS)
    t0, ran = time.time(), 0
    for seed in opts.seeds:
        for variant in variants:
            done = [r for r in rows if (r["variant"], r["seed"], r["steps"]) == (variant, seed, opts.steps)]
            if done and not opts.force:
                print(f"{variant} seed {seed} steps {opts.steps}: already in {opts.out}", flush=True)
                continue
            row = run_one(variant, opts.steps, seed, opts.keep)
            ran += 1
            rows = [r for r in rows if r not in done] + [row]
            print(f"{variant} seed {seed}: held-out {row['heldout_ce']:.3f} nats, names near/mid/far "
                  f"{row['names']['near']}/{row['names']['mid']}/{row['names']['far']}, "
                  f"{row['train_tokens_per_s']:.0f} train tok/s, decode {row['decode_tokens_per_s']:.0f} tok/s, "
                  f"{row['kv_bytes_per_token']} KV bytes/token ({row['seconds']} s)", flush=True)
            data = write(opts.out, rows, argv)
    print(f"wrote {opts.out}: {ran} runs ({round(time.time() - t0)} s)" if ran else "nothing to run", flush=True)
    return data


if __name__ == "__main__":
    main()
