"""`minimistral finetune`: instruction-tune a model in NumPy, write the changed tensors as an adapter.

A command of its own rather than an option of `train`: train's options build a new model
(width, layers, heads, window, corpus), none of which a fine-tuning can change; this one starts
from a checkpoint (--base) and writes an adapter (checkpoints/adapter.py), not a checkpoint.
"""

from __future__ import annotations


def run(opts) -> int:
    """Fine-tune --base (default: the shipped story model) into --out; a progress line on stderr."""
    from ..errors import MinimistralError
    from ..training.instruct import FinetuneConfig, FinetuneProgress, check_finetune_config, finetune
    from .output import say

    if opts.base == "":
        raise MinimistralError("--base is empty; pass the checkpoint directory to fine-tune.")
    fields = {f: getattr(opts, f) for f in FINETUNE_OPTIONS}
    config = check_finetune_config(FinetuneConfig(**fields, dtype="F32" if opts.f32 else "BF16",
                                                  new_pieces=not opts.freeze_all_rows))
    if opts.base is None:
        from .. import DEFAULT_MODEL

        say("no --base given: fine-tuning the small story model that ships with minimistral.", "note")
        opts.base = str(DEFAULT_MODEL)
    bar = FinetuneProgress()
    try:
        result = finetune(opts.base, opts.out, config, progress=bar)
    finally:
        bar.finish()
    print(result.summary())
    return 0


# option -> (type, metavar, help); the defaults come from FinetuneConfig
FINETUNE_OPTIONS = {
    "steps": (int, "N", "optimiser steps"),
    "batch": (int, "B", "conversations per step"),
    "lr": (float, "LR", "peak learning rate"),
    "warmup": (int, "N", "steps of linear warm-up"),
    "min_lr_ratio": (float, "R", "the cosine decays to lr * R"),
    "weight_decay": (float, "WD", "AdamW's decoupled weight decay"),
    "clip": (float, "C", "clip the global gradient norm to C"),
    "seed": (int, "S", "seed of the instruction set and of the batch order"),
    "corpus_seed": (int, "S", "seed of the story corpus the questions are about"),
    "train_examples": (int, "N", "training conversations"),
    "heldout_examples": (int, "N", "held-out conversations scored at the end"),
    "eval_every": (int, "N", "held-out answer loss and accuracy every N steps"),
    "eval_examples": (int, "N", "held-out conversations scored at those evaluations"),
}


def add_options(p) -> None:
    from ..training.instruct import FinetuneConfig

    defaults = FinetuneConfig()
    p.add_argument("--base", default=None, metavar="DIR",
                   help="the checkpoint to fine-tune (default: the story model that ships with minimistral)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="directory for the adapter (adapter.json, adapter.safetensors), the log and eval.json")
    for name, (kind, metavar, text) in FINETUNE_OPTIONS.items():
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, default=getattr(defaults, name),
                       metavar=metavar, help=f"{text} (default {getattr(defaults, name)})")
    p.add_argument("--f32", action="store_true", help="store the adapter's tensors as float32 (default bf16)")
    p.add_argument("--freeze-all-rows", action="store_true",
                   help="train no embedding row (default: the rows of pieces the base shares one row for, "
                        "such as [INST], see training/instruct.py)")
