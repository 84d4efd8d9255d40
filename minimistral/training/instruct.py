"""Instruction tuning in NumPy: the story model taught to answer in Mistral's [INST] template.

The paper's Mistral 7B - Instruct (section 4) is the base model fine-tuned on instruction
data. The data here: training/instructions.py (stories of the corpus, questions whose answers
are known exactly, refusals under the guardrail prompt, ids from the tokenizer's own template).

Fine-tuning (``finetune``) trains the blocks and the final norm with the loss on the answer's
tokens only (backward.loss_and_grads(loss_mask=)) and freezes the embedding and the output
layer, most of the bytes. One exception: pieces the base never learned apart. A model trained
with the compact vocabulary (vocab.py) gives every piece absent from its stories one shared
embedding row, so "▁[", "INST", "]", "/" and most of the guardrail prompt would all be the same
vector; those rows (only the ones the instruction data use) are trained too. The answers use
only words of the stories, whose output rows the base has learned. ``write_adapter`` ships the
changed tensors as a small safetensors file with a JSON naming the base
(checkpoints/adapter.py); minimistral.load(DIR) puts them back on top of the base.

    result = finetune("minimistral/data/story-mistral", "runs/instruct", FinetuneConfig(steps=1500))
    model = minimistral.load("runs/instruct")                         # base + adapter
    answer_accuracy(model, instruction_set("heldout", 300))           # exact answers, greedy
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checkpoints.adapter import ROWS
from ..errors import MinimistralError
from ..guards.files import kind as path_kind
from ..guards.files import output_dir
from ..guards.textio import show
from ..guards.values import describe, shown, whole_number
from ..model import Mistral
from .backward import loss_and_grads
from .evaluate import cross_entropy
from .instructions import (
    KINDS,
    QUESTIONS,
    Example,
    InstructBatches,
    encode_example,
    instruction_set,
)
from .optim import AdamW, checked_hyper_parameters, clip_global_norm, lr_at

# ---- evaluation ---------------------------------------------------------------------------------

def generate_answer(model: Mistral, ex: Example, max_tokens: int = 48) -> str:
    """The model's greedy answer to the last turn (the earlier answers are the reference ones),
    up to </s>, as text."""
    tok = model.tokenizer
    ids = model.generate(ex.prompt_ids(tok), max_tokens=max_tokens, temperature=0.0, eos_id=tok.eos_id)
    return tok.decode([i for i in ids if i != tok.eos_id])


def answer_accuracy(model: Mistral, examples: list[Example] | None = None, max_tokens: int = 48,
                    samples: int = 0) -> dict:
    """Exact-answer accuracy, greedy, of any model with the chat template's tokenizer (base or
    instruct): the answer up to </s> (or max_tokens), spaces at both ends dropped, must be one of
    the example's accepted answers. Default examples: the first 300 held-out conversations.

        {"examples": 300, "accuracy": 0.71, "questions": 0.68, "by_kind": {"who": {"n": 70,
         "accuracy": 0.9}, ...}, "guardrail": {...}, "samples": [...]}

    "questions" is the accuracy over the question kinds (QUESTIONS, one answer from the story);
    "guardrail" splits it by whether the guardrail system prompt was there (refusals apart);
    ``samples`` keeps that many (prompt, expected, answer) rows to read.
    """
    if model.tokenizer is None:
        raise MinimistralError("answer_accuracy needs a model with its tokenizer (load it from a directory "
                               "holding tokenizer.model).")
    examples = instruction_set("heldout", 300) if examples is None else examples
    rows = []
    for ex in examples:
        got = generate_answer(model, ex, max_tokens).strip()
        rows.append((ex, got, got in ex.accept))

    def share(sel):
        return {"n": len(sel), "accuracy": float(np.mean([r[2] for r in sel])) if sel else None}

    out = {"examples": len(rows), "accuracy": share(rows)["accuracy"],
           "questions": share([r for r in rows if r[0].kind in QUESTIONS])["accuracy"],
           "by_kind": {k: share([r for r in rows if r[0].kind == k]) for k in KINDS},
           "guardrail": {"with": share([r for r in rows if r[0].system and r[0].kind != "refusal"]),
                         "without": share([r for r in rows if not r[0].system])}}
    out["samples"] = [{"kind": ex.kind, "prompt": ex.turns[-2][1], "expected": ex.answer, "answer": got}
                      for ex, got, _ in rows[:samples]]
    return out


def answer_loss(model: Mistral, examples: list[Example]) -> float:
    """Mean cross-entropy (nats) of the answers' tokens given their conversations, forward only:
    what fine-tuning minimises, on held-out conversations."""
    total, count = 0.0, 0
    for ex in examples:
        ids, mask = encode_example(ex, model.tokenizer)
        on = mask[1:] > 0                                                            # [T-1]
        ce = cross_entropy(model.forward(ids)[:-1][on], ids[1:][on])                 # [answer tokens]
        total += float(ce.sum())
        count += int(on.sum())
    return total / count


# ---- fine-tuning ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FinetuneConfig:
    """Everything a fine-tuning run depends on, besides its base. The defaults: the recipe meant
    for the shipped instruct model (see finetune)."""

    steps: int = 1500
    batch: int = 16                 # conversations per step, padded to the longest
    lr: float = 1e-3                # peak; a third of pre-training's
    warmup: int = 50
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0       # nothing to pull the weights towards zero: they start trained
    beta1: float = 0.9
    beta2: float = 0.95
    adam_eps: float = 1e-8
    clip: float = 1.0
    seed: int = 0                   # the instruction set's draws and the order of the batches
    corpus_seed: int = 0
    train_examples: int = 20000     # conversations (a step takes `batch` of them, epochs reshuffled)
    heldout_examples: int = 300
    eval_every: int = 250           # held-out answer loss and accuracy every this many steps
    eval_examples: int = 100        # of the held-out conversations, at those evaluations (all at the end)
    new_pieces: bool = True         # train the embedding rows of pieces the base shares one row for
    dtype: str = "BF16"             # storage of the adapter's tensors: "BF16" or "F32"

    def lr_at(self, step: int) -> float:
        return lr_at(step, self.lr, self.warmup, self.steps, self.min_lr_ratio)


def check_finetune_config(c: FinetuneConfig) -> FinetuneConfig:
    """c with plain numbers, or MinimistralError naming the option that cannot work."""
    if not isinstance(c, FinetuneConfig):
        raise MinimistralError(f"config must be a FinetuneConfig, got {describe(c)}.")
    fixed = {n: whole_number(getattr(c, n), n, 1) for n in ("steps", "batch", "train_examples",
                                                            "heldout_examples", "eval_every", "eval_examples")}
    for n in ("warmup", "seed", "corpus_seed"):
        fixed[n] = whole_number(getattr(c, n), n)
    fixed.update(checked_hyper_parameters(c))
    if c.dtype not in ("BF16", "F32"):
        raise MinimistralError(f"dtype must be 'BF16' or 'F32', got {shown(c.dtype)}.")
    return dataclasses.replace(c, **fixed)


def native_float32(model: Mistral) -> dict[str, np.ndarray]:
    """{native name: float32 array in native row order} of a loaded model (bf16 widened, HF wq/wk
    rows put back in the native order): new arrays, ready to train."""
    from ..checkpoints.names import expected_shapes
    from ..checkpoints.quantize import native_rows

    return {name: np.ascontiguousarray(native_rows(model.weights, name, 0, shape[0]), dtype=np.float32)
            for name, shape in expected_shapes(model.args).items()}


def shared_rows(table: np.ndarray, ids) -> list[int]:
    """The ids among ``ids`` whose embedding row equals another id's row exactly: pieces the
    base cannot tell apart (a compact-vocabulary model's 'rest' row, vocab.py)."""
    _, inverse, counts = np.unique(table, axis=0, return_inverse=True, return_counts=True)
    shared = counts[inverse.reshape(-1)] > 1                                         # [V]
    return sorted(int(i) for i in set(int(i) for i in ids) if shared[i])


def trainable_names(args) -> list[str]:
    """The tensors instruction tuning trains in full: every block's, and the final norm."""
    from ..checkpoints.names import expected_shapes

    return [n for n in expected_shapes(args) if n.startswith("layers.") or n == "norm.weight"]


@dataclass
class FinetuneResult:
    """What finetune() returns: the model as written (base + adapter, loaded back), the float32
    parameters as trained (native names and row order), the log, where, and the held-out
    evaluation of the base and of the fine-tuned model."""

    model: Mistral
    params: dict
    log: list
    out_dir: Path
    evaluation: dict

    def summary(self) -> str:
        e = self.evaluation
        return (f"wrote {show(self.out_dir)} (adapter.json, adapter.safetensors, finetune_log.jsonl, eval.json); "
                f"held-out exact answers {e['instruct']['accuracy']:.1%} (base {e['base']['accuracy']:.1%}), "
                f"questions {e['instruct']['questions']:.1%}, refusals "
                f"{e['instruct']['by_kind']['refusal']['accuracy'] or 0:.0%}; "
                f"{self.log[-1]['elapsed_s'] / 60:.1f} min")

    def __repr__(self):
        return f"FinetuneResult({self.summary()})"


class FinetuneProgress:
    """A progress(row) for finetune(): the line of `minimistral train`, with the accuracy."""

    def __init__(self, stream=None):
        from .progress import ProgressBar

        self.bar = ProgressBar("fine-tuning", "steps", stream)
        self.held = self.acc = None

    def __call__(self, row: dict) -> None:
        if row["heldout_loss"] is not None:
            self.held, self.acc = row["heldout_loss"], row["accuracy"]
        held = f"{self.held:.3f}" if self.held is not None else "-"
        acc = f"{self.acc:.0%}" if self.acc is not None else "-"
        self.bar(row["step"], row["steps"], note=f"loss {row['loss']:.3f}  held-out {held}  exact {acc}  "
                 f"{row['tokens_per_s']:.0f} tok/s", log=row["heldout_loss"] is not None)

    def finish(self) -> None:
        self.bar.finish()


def finetune(base, out_dir, config: FinetuneConfig = FinetuneConfig(), progress=None) -> FinetuneResult:
    """Instruction-tune the checkpoint ``base`` (None: the shipped story model); write the adapter.

    Trains the blocks and the final norm (and the embedding rows of new_pieces) with AdamW on
    the answers' tokens; writes into out_dir adapter.json + adapter.safetensors (checkpoints/
    adapter.py), tokenizer.model, finetune_log.jsonl (one row per step) and eval.json (held-out
    exact-answer accuracy of the base and of the result). ``progress``: a function called with
    each log row, or None.
    """
    from .. import DEFAULT_MODEL, load
    from ..checkpoints.adapter import is_adapter, write_adapter
    from .train import model_of

    c = check_finetune_config(config)
    if progress is not None and not callable(progress):
        raise MinimistralError(f"progress must be None or a function called as progress(row); "
                               f"got {describe(progress)}.")
    base = Path(DEFAULT_MODEL if base is None else base)
    if is_adapter(base):
        raise MinimistralError(f"{show(base)} is itself an adapter; fine-tune the full checkpoint its "
                               f"adapter.json names as its base.")
    if path_kind(base) == "file":
        raise MinimistralError(f"{show(base)} is a file; fine-tune a checkpoint directory (HF or Mistral layout).")
    if Path(out_dir).resolve() == base.resolve():
        raise MinimistralError("--out is the base's own directory; write the adapter to a directory of its own.")
    base_model = load(base)
    tok = base_model.tokenizer
    if tok is None:
        raise MinimistralError(f"{show(base)} has no tokenizer.model; fine-tuning needs its chat template.")
    out = output_dir(out_dir)
    args = base_model.args
    params = native_float32(base_model)
    train_set = instruction_set("train", c.train_examples, c.seed, c.corpus_seed)
    heldout = instruction_set("heldout", c.heldout_examples, c.seed, c.corpus_seed)
    batches = InstructBatches(train_set, c.batch, tok, c.seed)
    rows = []
    if c.new_pieces:
        used = np.unique(np.concatenate([ids for ids, _ in batches.encoded]))
        rows = shared_rows(params["tok_embeddings.weight"], used)
    trainable = {n: params[n] for n in trainable_names(args)}          # the same arrays: updated in place
    if rows:
        trainable[ROWS] = params["tok_embeddings.weight"][rows].copy()   # [r, D]
    adamw = AdamW(trainable, c.beta1, c.beta2, c.adam_eps, c.weight_decay)
    model = model_of(args, params, tok)
    log, start = [], time.perf_counter()
    with open(out / "finetune_log.jsonl", "w") as log_file:
        for step in range(1, c.steps + 1):
            t0 = time.perf_counter()
            tokens, mask = batches[step - 1]
            loss, grads = loss_and_grads(model, tokens, loss_mask=mask)
            g = {n: grads[n] for n in trainable if n != ROWS}
            if rows:
                g[ROWS] = grads["tok_embeddings.weight"][rows]
            grad_norm = clip_global_norm(g, c.clip)
            lr = c.lr_at(step)
            adamw.update(trainable, g, lr)
            if rows:
                params["tok_embeddings.weight"][rows] = trainable[ROWS]
            row = {"step": step, "steps": c.steps, "lr": lr, "loss": float(loss), "heldout_loss": None,
                   "accuracy": None, "grad_norm": grad_norm, "tokens_per_s": tokens.size / (time.perf_counter() - t0),
                   "elapsed_s": time.perf_counter() - start}
            if step % c.eval_every == 0 or step == c.steps:
                few = heldout[:c.eval_examples]
                row["heldout_loss"] = answer_loss(model, few)
                row["accuracy"] = answer_accuracy(model, few)["accuracy"]
            log.append(row)
            log_file.write(json.dumps(row) + "\n")
            log_file.flush()
            if progress is not None:
                progress(row)
    changed = {n: params[n] for n in trainable_names(args)}
    info = {"recipe": dataclasses.asdict(c), "trained_rows_pieces": [tok.piece(i) for i in rows],
            "frozen": ["tok_embeddings.weight (all other rows)", "output.weight"]}
    write_adapter(out, base, changed, {i: params["tok_embeddings.weight"][i] for i in rows}, c.dtype, info)
    final = load(out)                                                   # what ships: base + adapter
    evaluation = {"heldout_examples": len(heldout),
                  "base": answer_accuracy(base_model, heldout),
                  "instruct": answer_accuracy(final, heldout, samples=20),
                  "instruct_answer_loss": answer_loss(final, heldout),
                  "base_answer_loss": answer_loss(base_model, heldout)}
    (out / "eval.json").write_text(json.dumps(evaluation, indent=1) + "\n")
    return FinetuneResult(final, params, log, out, evaluation)
