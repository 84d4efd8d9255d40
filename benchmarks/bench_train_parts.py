"""What makes the shipped recipe's training step fast: the output layer over the corpus's pieces
only (training/vocab.py, CompactVocab) and attention in window blocks (fast/band.py), each
switched off in turn. Seconds per loss_and_grads step, the shipped model's shape and batch.

    flock /tmp/minimistral-heavy.lock python benchmarks/bench_train_parts.py [--steps 60] [--repeats 3]

One process, one batch shape: TrainConfig() (6 layers, D = 128, 8 query heads on 2 kv heads,
W = 32, B = 8 x T = 512 tokens), real corpus batches. For each of the four variants the same
batches go through loss_and_grads + clip + AdamW; variants alternate within each repeat so load
from other programs hits all alike. Before timing, the compact and full output layers are checked
to give the same loss on one batch (the compact one is exact, vocab.py). Reported: median seconds
per step and tokens/s per variant, and the ratio to the variant the trainer uses.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from minimistral.fast import band
from minimistral.training import corpus
from minimistral.training.backward import loss_and_grads
from minimistral.training.init import init_params
from minimistral.training.optim import clip_global_norm
from minimistral.training.train import TrainConfig, model_of
from minimistral.training.vocab import CompactVocab


def setup(c: TrainConfig, compact: bool, batches, tok):
    """The trainer's model (compact output layer) or the same weights over all 32000 rows: the
    pieces absent from the corpus all get the shared row (CompactVocab.expand), so both give the
    same loss and differ only in cost."""
    args = c.model_args()
    vocab = CompactVocab.of(batches.rows, args.vocab_size)
    params = vocab.compact(init_params(args, c.seed, c.init_std))
    if compact:
        return model_of(args.replace(vocab_size=vocab.size), params), params, vocab.output_bias(), vocab.index
    params = vocab.expand(params)
    return model_of(args, params, tok), params, None, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6, help="steps per variant per repeat")
    ap.add_argument("--repeats", type=int, default=3)
    o = ap.parse_args()
    c = TrainConfig()
    tok = corpus.tokenizer()
    n = o.steps * o.repeats
    batches = corpus.Batches(c.batch, c.seq_len, n, c.corpus_seed, tok)
    block_size = band.block_size
    variants = {}
    for compact in (True, False):
        model, params, bias, index = setup(c, compact, batches, tok)
        for banded in (True, False):
            variants[(compact, banded)] = (model, params, bias, index)
    first = batches[0]
    l_full = loss_and_grads(variants[(False, True)][0], first)[0]
    m, _, b, idx = variants[(True, True)]
    l_compact = loss_and_grads(m, idx[first], b)[0]
    print(f"loss on one batch: full vocab {l_full:.6f}, compact {l_compact:.6f}")
    assert abs(l_full - l_compact) < 1e-4 * abs(l_full)
    adamw = {k: c.adamw(v[1]) for k, v in variants.items()}
    times = {k: [] for k in variants}
    for r in range(o.repeats):
        for key in (list(variants) if r % 2 == 0 else list(variants)[::-1]):
            compact, banded = key
            model, params, bias, index = variants[key]
            band.block_size = block_size if banded else (lambda T, W: None)
            for s in range(o.steps):
                tokens = batches[r * o.steps + s]
                if index is not None:
                    tokens = index[tokens]
                t0 = time.perf_counter()
                loss, grads = loss_and_grads(model, tokens, bias)
                clip_global_norm(grads, c.clip)
                adamw[key].update(params, grads, c.lr_at(1 + s))
                times[key].append(time.perf_counter() - t0)
    band.block_size = block_size
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, numpy {np.__version__}")
    print(f"recipe: B = {c.batch}, T = {c.seq_len}, W = {c.sliding_window}, {c.n_layers} layers, "
          f"{o.repeats} x {o.steps} steps per variant")
    base = statistics.median(times[(True, True)])
    for (compact, banded), t in times.items():
        med = statistics.median(t)
        print(f"  output layer {'compact' if compact else 'full 32000':10s} attention {'window blocks' if banded else 'dense T x T':13s}"
              f"  {med:.3f} s/step  {c.batch * c.seq_len / med:7.0f} tokens/s  {med / base:.2f}x the trainer's")


if __name__ == "__main__":
    main()
