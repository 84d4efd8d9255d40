"""`minimistral train`: train a small Mistral in NumPy on the generated stories."""

from __future__ import annotations


def run(opts) -> int:
    """Train a small Mistral from scratch on the generated stories; a progress line on stderr."""
    from ..training.progress import TrainingProgress
    from ..training.train import TrainConfig, check_config, train

    fields = {f: getattr(opts, f) for f in TRAIN_OPTIONS}
    config = check_config(TrainConfig(**fields, dtype="F32" if opts.f32 else "BF16",
                                      compact_vocab=not opts.full_vocab))
    bar = TrainingProgress()             # a log gets one line per evaluation, a terminal a live line
    try:
        result = train(config, opts.out, progress=bar)
    finally:
        bar.finish()                     # an error or Ctrl-C then starts on a line of its own
    print(result.summary())
    return 0


# option -> (type, metavar, help); the defaults come from TrainConfig (the shipped model's recipe)
TRAIN_OPTIONS = {
    "steps": (int, "N", "optimiser steps"),
    "seed": (int, "S", "seed of the initial weights"),
    "batch": (int, "B", "sequences per step"),
    "seq_len": (int, "T", "tokens per sequence (longer than the window)"),
    "lr": (float, "LR", "peak learning rate"),
    "warmup": (int, "N", "steps of linear warm-up"),
    "min_lr_ratio": (float, "R", "the cosine decays to lr * R"),
    "weight_decay": (float, "WD", "AdamW's decoupled weight decay (not on norm gains)"),
    "clip": (float, "C", "clip the global gradient norm to C"),
    "dim": (int, "D", "model width"),
    "n_layers": (int, "L", "transformer blocks"),
    "n_heads": (int, "H", "query heads"),
    "n_kv_heads": (int, "K", "key/value heads (GQA)"),
    "head_dim": (int, "Hd", "features per head"),
    "hidden_dim": (int, "F", "feed-forward width"),
    "sliding_window": (int, "W", "attention window"),
    "eval_every": (int, "N", "held-out loss every N steps"),
    "eval_windows": (int, "N", "held-out windows of T tokens"),
    "checkpoint_every": (int, "N", "intermediate checkpoints in DIR/checkpoints every N steps (0: none)"),
    "corpus_seed": (int, "S", "seed of the story corpus"),
    "name_weight": (float, "X", "loss weight of a name said again in its story (1: the plain mean)"),
}


def add_options(p) -> None:
    from ..training.train import TrainConfig

    defaults = TrainConfig()
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the checkpoint and the log")
    for name, (kind, metavar, text) in TRAIN_OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if name == "sliding_window":
            flag = "--window"
        p.add_argument(flag, dest=name, type=kind, default=getattr(defaults, name), metavar=metavar,
                       help=f"{text} (default {getattr(defaults, name)})")
    p.add_argument("--f32", action="store_true", help="store the weights as float32 (default bf16)")
    p.add_argument("--full-vocab", action="store_true",
                   help="train all 32000 output rows (default: the corpus's pieces and one shared row "
                        "for the rest, the same model and loss, faster; training/vocab.py)")
