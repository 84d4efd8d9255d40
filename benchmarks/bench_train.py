"""Training speed against PyTorch (issue 11): tokens/s of one optimiser step, side by side.

    flock /tmp/minimistral-heavy.lock python benchmarks/bench_train.py
    flock /tmp/minimistral-heavy.lock python benchmarks/bench_train.py --repeats 7 --json out.jsonl

One process, both sides over the same starting weights and the same batches of B sequences of
T token ids (the shipped model's recipe from minimistral.training.train.TrainConfig: D = 128, 4 layers,
8 query heads on 2 kv heads, Hd = 16, F = 384, W = 16, V = 32000, 16 x 128 tokens):

* minimistral: the trainer's step, as minimistral.training.train.train runs it: loss_and_grads (NumPy,
  float32), clip_global_norm, AdamW.update (the model reads the updated arrays in place);
* torch: transformers.MistralForCausalLM, float32, attn_implementation="eager",
  torch.set_num_threads(2): forward with labels (the same shifted mean cross-entropy),
  backward, clip_grad_norm_, torch.optim.AdamW (decay on the matrices only, as ours).

Before timing, both sides compute the loss and gradient norm of the same batch from the same
weights, which must agree (so both do the same work). Then blocks of --steps steps alternate
between the sides, --repeats times, each side starting first in every other repeat, so a burst
of load from other programs hits both alike. Reported: tokens/s per block, the medians, and the
median of the per-repeat ratios minimistral / torch; also the split of each step into
loss+gradients and the optimiser update, and the process CPU time per step (all threads; less
sensitive to other programs than wall time, though threads spinning while they wait count).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    """CPU model and count from lscpu (the RESULTS convention), plus the load average now."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        cpu = f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPUs"
    except OSError:
        cpu = platform.processor() or "?"
    return cpu


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Ours:
    """The minimistral trainer's step over float32 NumPy arrays."""

    def __init__(self, config, params: dict):
        from minimistral.training.backward import loss_and_grads
        from minimistral.training.optim import clip_global_norm
        from minimistral.training.train import model_of

        self.clip, self.loss_and_grads = clip_global_norm, loss_and_grads
        self.c, self.args = config, config.model_args()
        self.params = {n: p.copy() for n, p in params.items()}
        self.model = model_of(self.args, self.params)          # reads the params in place
        self.adamw = config.adamw(self.params)
        self.step_no, self.split = 0, [0.0, 0.0]

    def loss_and_norm(self, tokens) -> tuple[float, float]:
        loss, grads = self.loss_and_grads(self.model, tokens)
        return loss, float(np.sqrt(sum(np.sum(np.square(g, dtype=np.float64)) for g in grads.values())))

    def step(self, tokens) -> float:
        t0 = time.perf_counter()
        loss, grads = self.loss_and_grads(self.model, tokens)
        t1 = time.perf_counter()
        self.step_no += 1
        self.clip(grads, self.c.clip)
        self.adamw.update(self.params, grads, self.c.lr_at(self.step_no))
        t2 = time.perf_counter()
        self.split[0] += t1 - t0
        self.split[1] += t2 - t1
        return loss


class Torch:
    """transformers' MistralForCausalLM, float32, eager attention, 2 threads, AdamW."""

    def __init__(self, config, params: dict, threads: int):
        import torch
        from transformers import MistralConfig, MistralForCausalLM

        from minimistral.checkpoints import export as checkpoint

        torch.set_num_threads(threads)
        self.torch, self.c = torch, config
        a = config.model_args()
        hf = {k: v for k, v in checkpoint.hf_config(a, "F32").items() if k not in ("architectures", "torch_dtype")}
        self.model = MistralForCausalLM(MistralConfig(**hf, attn_implementation="eager"))
        state = {k: torch.from_numpy(v.copy()) for k, v in checkpoint.to_hf(a, params).items()}
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        assert not unexpected and all("rotary" in k for k in missing), (missing, unexpected)
        self.model.train()
        decay = [p for n, p in self.model.named_parameters() if "norm" not in n]
        no_decay = [p for n, p in self.model.named_parameters() if "norm" in n]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                      {"params": no_decay, "weight_decay": 0.0}],
                                     lr=config.lr, betas=(config.beta1, config.beta2), eps=config.adam_eps)
        self.step_no, self.split = 0, [0.0, 0.0]

    def loss_and_norm(self, tokens) -> tuple[float, float]:
        ids = self.torch.from_numpy(np.asarray(tokens, dtype=np.int64))
        self.model.zero_grad(set_to_none=True)
        loss = self.model(input_ids=ids, labels=ids).loss
        loss.backward()
        norm = float(sum(float((p.grad.double() ** 2).sum()) for p in self.model.parameters()) ** 0.5)
        self.model.zero_grad(set_to_none=True)
        return float(loss.detach()), norm

    def step(self, tokens) -> float:

        ids = self.torch.from_numpy(np.asarray(tokens, dtype=np.int64))
        t0 = time.perf_counter()
        loss = self.model(input_ids=ids, labels=ids).loss
        loss.backward()
        t1 = time.perf_counter()
        self.step_no += 1
        self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.c.clip)
        for group in self.opt.param_groups:
            group["lr"] = self.c.lr_at(self.step_no)
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        t2 = time.perf_counter()
        self.split[0] += t1 - t0
        self.split[1] += t2 - t1
        return float(loss.detach())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="alternating blocks per side (default 5)")
    ap.add_argument("--steps", type=int, default=3, help="optimiser steps per block (default 3)")
    ap.add_argument("--batch", type=int, default=None, help="B (default: TrainConfig's)")
    ap.add_argument("--seq-len", type=int, default=None, help="T (default: TrainConfig's)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--json", help="append the numbers as one JSON line to this file")
    args = ap.parse_args(argv)

    import torch
    import transformers

    from minimistral.training.init import init_params
    from minimistral.training.train import TrainConfig

    config = TrainConfig()
    changes = {k: v for k, v in (("batch", args.batch), ("seq_len", args.seq_len)) if v is not None}
    if changes:
        import dataclasses
        config = dataclasses.replace(config, **changes)
    a = config.model_args()
    B, T = config.batch, config.seq_len
    print(f"machine: {machine()}; load average at start {load_average()}")
    print(f"numpy {np.__version__}, torch {torch.__version__} ({args.threads} threads), "
          f"transformers {transformers.__version__}")
    print(f"config: D={a.dim} L={a.n_layers} H={a.n_heads} K={a.n_kv_heads} Hd={a.head_dim} "
          f"F={a.hidden_dim} W={a.sliding_window} V={a.vocab_size}; batch {B} x {T} tokens")

    params = init_params(a, config.seed, config.init_std)
    rng = np.random.default_rng(0)
    n_batches = 1 + 2 * (args.steps * args.repeats + 1)
    batches = rng.integers(0, a.vocab_size, (n_batches, B, T))             # uniform random ids
    ours, ref = Ours(config, params), Torch(config, params, args.threads)

    # The same work: loss and gradient norm of one batch from the same weights.
    (l0, n0), (l1, n1) = ours.loss_and_norm(batches[0]), ref.loss_and_norm(batches[0])
    print(f"same batch, same weights: loss {l0:.6f} (minimistral) vs {l1:.6f} (torch), "
          f"gradient norm {n0:.6f} vs {n1:.6f}")
    assert abs(l0 - l1) <= 1e-5 * l1 and abs(n0 - n1) <= 1e-5 * n1, "the two sides disagree"

    ours.step(batches[1])                                                  # warm-up (not timed)
    ref.step(batches[1])
    ours.split, ref.split = [0.0, 0.0], [0.0, 0.0]
    rates = {"minimistral": [], "torch": []}
    cpu = {"minimistral": [], "torch": []}                                 # process CPU s per step
    ratios = []
    next_batch = 2
    for r in range(args.repeats):
        order = [("minimistral", ours), ("torch", ref)]
        if r % 2:
            order.reverse()
        block = {}
        for name, side in order:
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(args.steps):
                side.step(batches[next_batch % n_batches])
                next_batch += 1
            block[name] = args.steps * B * T / (time.perf_counter() - t0)
            rates[name].append(block[name])
            cpu[name].append((time.process_time() - c0) / args.steps)
        ratios.append(block["minimistral"] / block["torch"])
        print(f"repeat {r + 1}: minimistral {block['minimistral']:7.0f} tokens/s, torch "
              f"{block['torch']:7.0f} tokens/s, ratio {ratios[-1]:.2f}   (load {load_average()})")

    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = statistics.median(ratios)
    print(f"median: minimistral {med['minimistral']:.0f} tokens/s, torch {med['torch']:.0f} tokens/s; "
          f"median ratio minimistral / torch = {ratio:.2f}")
    for name, side in (("minimistral", ours), ("torch", ref)):
        total = sum(side.split)
        print(f"{name}: loss+gradients {side.split[0] / total:.0%} of the step time, "
              f"clip+AdamW {side.split[1] / total:.0%}; CPU time (all threads) "
              f"{statistics.median(cpu[name]):.2f} s per step (median)")
    print(f"load average at end {load_average()}")
    if args.json:
        row = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
               "batch": B, "seq_len": T, "steps_per_block": args.steps, "repeats": args.repeats,
               "tokens_per_s": rates, "cpu_s_per_step": cpu, "median": med, "ratio": ratio, "ratios": ratios,
               "split": {"minimistral": ours.split, "torch": ref.split}}
        with open(args.json, "a") as f:
            f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
