"""How well a model predicts text: cross-entropy on held-out windows, beside the unigram and
uniform baselines that say what "good" means for this corpus and vocabulary."""

from __future__ import annotations

import math
import re

import numpy as np

from ..model import Mistral
from . import corpus


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """float64 [T]: -log softmax(logits)[target] per row, logits [T, V] float32."""
    z = logits - logits.max(axis=-1, keepdims=True)                                 # [T, V]
    log_z = np.log(np.sum(np.exp(z), axis=-1, dtype=np.float64))                    # [T]
    return log_z - z[np.arange(len(targets)), targets]                              # [T]


def heldout_loss(model: Mistral, windows: np.ndarray) -> float:
    """Mean next-token cross-entropy (nats) over held-out windows [N, T], by the forward pass alone."""
    total, count = 0.0, 0
    for row in windows:                                                             # [T]
        logits = model.forward(row)                                                 # [T, V]
        total += float(cross_entropy(logits[:-1], row[1:]).sum())
        count += len(row) - 1
    return total / count


def evaluate(model: Mistral, n_windows: int = 256, seq_len: int = 128, train_tokens: int = 2_000_000,
             corpus_seed: int = 0) -> dict:
    """Held-out cross-entropy (nats/token) and perplexity of a model, beside two baselines.

    The same predictions are scored for all three: positions 1..T-1 of n_windows held-out windows.
      uniform  every one of the V = 32000 tokens equally likely: ln 32000 = 10.37 nats
      unigram  p(token) counted on the first train_tokens of the training split, add-one smoothed
               (corpus.unigram_log_probs): what a model knows without looking at the context
    """
    windows = corpus.heldout_windows(n_windows, seq_len, corpus_seed, model.tokenizer)      # [N, T]
    unigram = corpus.unigram_log_probs(corpus.token_stream("train", train_tokens, corpus_seed, model.tokenizer),
                                       model.args.vocab_size)                               # [V]
    ce = heldout_loss(model, windows)
    ce_unigram = float(-unigram[windows[:, 1:]].mean())
    ce_uniform = math.log(model.args.vocab_size)
    return {"heldout_tokens_scored": int(windows[:, 1:].size), "model_ce": ce, "model_ppl": math.exp(ce),
            "unigram_ce": ce_unigram, "unigram_ppl": math.exp(ce_unigram),
            "uniform_ce": ce_uniform, "uniform_ppl": math.exp(ce_uniform)}


# ---- text written by hand (data/eval/): never generated, never trained on ------------------------

def text_loss(model: Mistral, texts: list[str]) -> tuple[float, int]:
    """(mean cross-entropy in nats per token, tokens scored) over texts, each on its own from <s>:
    every token after <s> is predicted from the ones before it (</s> is not added)."""
    total, count = 0.0, 0
    for text in texts:
        ids = np.array(model.tokenizer.encode(text), dtype=np.int64)                 # [T], <s> first
        total += float(cross_entropy(model.forward(ids)[:-1], ids[1:]).sum())
        count += len(ids) - 1
    return total / count, count


def handwritten(model: Mistral, train_tokens: int = 2_000_000, corpus_seed: int = 0) -> dict:
    """The hand-written sentences and passages, scored for the model, a unigram fitted on the first
    train_tokens training tokens (add-one smoothed), and a uniform guess; nats per token."""
    sentences, passages = corpus.eval_texts()
    unigram = corpus.unigram_log_probs(corpus.token_stream("train", train_tokens, corpus_seed, model.tokenizer),
                                       model.args.vocab_size)                       # [V]
    out = {}
    for name, texts in (("sentences", sentences), ("passages", passages)):
        ce, n = text_loss(model, texts)
        targets = np.concatenate([model.tokenizer.encode(t)[1:] for t in texts])
        out[name] = {"texts": len(texts), "tokens": n, "model_ce": ce,
                     "unigram_ce": float(-unigram[targets].mean()),
                     "uniform_ce": math.log(model.args.vocab_size)}
    return out


# ---- names: copied from context, by how far back they were last said ------------------------------

def name_recall(model: Mistral, n_stories: int = 60, corpus_seed: int = 0, window: int | None = None,
                layers: int | None = None) -> dict:
    """Top-1 among the story's own names at every mention of a name in held-out stories, by band.

    At the position before a name's first piece, the model's logits are compared over the first
    pieces of every name the story uses (its cast); right if the true name's piece is highest.
    Bands by how far back the name was last said (corpus.band): 'near' within the window W,
    'mid' beyond W but within k (W - 1), 'far' beyond; 'first' is a name's first mention, which no
    context can give away (what guessing among the cast scores). Also the mean cross-entropy of
    the name's piece over all 32000, per band, and per distance for plotting.
    """
    W = window or model.args.sliding_window
    k = layers or model.args.n_layers
    tok = model.tokenizer
    rows = []                                                     # (band, distance, right, ce)
    for text in corpus.stories("heldout", n_stories, corpus_seed):
        ids = np.array(tok.encode(text), dtype=np.int64)                                # [T]
        mentions = corpus.name_mentions(ids, tok, first=True)
        cast = sorted({int(ids[m.position]) for m in mentions})                        # first pieces
        if len(cast) < 2:
            continue
        logits = model.forward(ids)                                                    # [T, V]
        for m in mentions:
            row = logits[m.position - 1]                                               # [V]
            right = int(ids[m.position]) == cast[int(np.argmax(row[cast]))]
            ce = float(cross_entropy(row[None], ids[m.position:m.position + 1])[0])
            b = "first" if m.distance == 0 else corpus.band(m.distance, W, k)
            rows.append((b, m.distance, right, ce))
    out = {"window": W, "layers": k, "reach": k * (W - 1), "stories": n_stories, "bands": {}}
    for b in ("first", "near", "mid", "far"):
        sel = [r for r in rows if r[0] == b]
        out["bands"][b] = {"mentions": len(sel), "top1": float(np.mean([r[2] for r in sel])) if sel else None,
                           "ce": float(np.mean([r[3] for r in sel])) if sel else None}
    out["by_distance"] = [(d, r, ce) for b, d, r, ce in rows if b != "first"]
    return out


def _eval_lines(name: str) -> list[list[str]]:
    """The tab-separated lines of data/eval/<name>, comments left out."""
    text = (corpus.EVAL_DIR / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def name_probes(model: Mistral) -> dict:
    """data/eval/names.txt: hand-written passages that say a name again. At the position before
    the name, two scores of the name's first piece: top-1 among the passage's own cast where it has
    two names or more (each cast name's first piece as it would be written there, after a space or
    after a quote mark), top-1 among the first pieces of every name of
    the file (a harder pool), and its cross-entropy over all 32000 tokens."""
    tok = model.tokenizer
    probes = [(line[0], line[1].split(",")) for line in _eval_lines("names.txt")]
    pool = set()
    for _, cast in probes:
        for n in cast:
            pool.add(tok.encode(n, bos=False)[0])                      # '▁Max', after a space
            pool.add(tok.encode('"' + n, bos=False)[1])                # 'Max', right after a quote
    in_cast, in_pool, ces = [], [], []
    for text, cast in probes:
        prompt, answer = text.split("[", 1)
        full = tok.encode(prompt + answer.split("]", 1)[0])
        i = next(i for i in range(1, len(full)) if tok.decode(full[:i]).strip() == prompt.strip())
        row = model.forward(np.array(full[:i], dtype=np.int64))[-1]                   # [V]
        own = sorted({tok.encode(prompt + n)[i] for n in cast} | {full[i]})
        cands = sorted(pool | {full[i]})
        if len(cast) > 1:                                                            # else trivially right
            in_cast.append(own[int(np.argmax(row[own]))] == full[i])
        in_pool.append(cands[int(np.argmax(row[cands]))] == full[i])
        ces.append(float(cross_entropy(row[None], np.array([full[i]]))[0]))
    return {"probes": len(probes), "top1_cast": float(np.mean(in_cast)), "top1": float(np.mean(in_pool)),
            "ce": float(np.mean(ces)), "candidates": len(pool),
            "cast_probes": len(in_cast)}


def name_pairs(model: Mistral, max_tokens: int = 60) -> dict:
    """data/eval/name_pairs.txt: each opening with two sets of names, continued greedily. A version
    uses its own names if its continuation says one of them; a pair counts when both versions do."""
    tok = model.tokenizer
    rows = []
    for opening, a, b in _eval_lines("name_pairs.txt"):
        used = []
        for names in (a.split(","), b.split(",")):
            ids = tok.encode(opening.format(*names))
            text = tok.decode(model.generate(ids, max_tokens=max_tokens, temperature=0.0, eos_id=None))
            used.append(any(re.search(rf"\b{re.escape(n)}\b", text) for n in names))
        rows.append(all(used))
    return {"pairs": len(rows), "both_use_their_names": int(sum(rows))}


def hop_checks(model: Mistral, n_stories: int = 30, per_story: int = 2, corpus_seed: int = 0) -> dict:
    """The causal checks of analysis/trace.py on names the model retrieves from beyond its window:
    for mid-band mentions it gets right (top-1 among its cast), the name's probability with nothing
    cut and with three cuts, each beside a control of as many other positions: the relay at the
    layer of its longest hop (``relay``), the relay at every layer where it hops (``every_hop``),
    and the sentence ends between the name and the query at every layer (``sentence_ends``)."""
    from ..analysis.trace import carrier_cut, cut_experiment, sentence_ends

    tok, W, k = model.tokenizer, model.args.sliding_window, model.args.n_layers
    rows = []
    for text in corpus.stories("heldout", n_stories, corpus_seed):
        ids = np.array(tok.encode(text), dtype=np.int64)
        mentions = corpus.name_mentions(ids, tok, first=True)
        cast = sorted({int(ids[m.position]) for m in mentions})
        logits = model.forward(ids)
        done = 0
        for m in mentions:
            if m.distance == 0 or corpus.band(m.distance, W, k) != "mid" or done == per_story:
                continue
            if cast[int(np.argmax(logits[m.position - 1][cast]))] != ids[m.position]:
                continue
            source, query, target = m.position - m.distance, m.position - 1, int(ids[m.position])
            one = cut_experiment(model, ids, source, query, target)
            every = cut_experiment(model, ids, source, query, target, every_hop=True)
            ends = sentence_ends(tok, ids, source + 1, query)
            row = {"p": one["p"], "relay": (one["p_relay"], one["p_control"]),
                   "every_hop": (every["p_relay"], every["p_control"])}
            if ends:
                c = carrier_cut(model, ids, source, query, target, ends)
                row["sentence_ends"] = (c["p_carriers"], c["p_control"])
            rows.append(row)
            done += 1
    out = {"retrievals": len(rows), "p": float(np.mean([r["p"] for r in rows])) if rows else None}
    for cut in ("relay", "every_hop", "sentence_ends"):
        sel = [r for r in rows if cut in r]
        out[cut] = None if not sel else {
            "retrievals": len(sel), "p": float(np.mean([r["p"] for r in sel])),
            "p_cut": float(np.mean([r[cut][0] for r in sel])),
            "p_control_cut": float(np.mean([r[cut][1] for r in sel])),
            "halved_by_cut": float(np.mean([r[cut][0] < r["p"] / 2 for r in sel])),
            "halved_by_control_cut": float(np.mean([r[cut][1] < r["p"] / 2 for r in sel]))}
    return out


def report(model: Mistral, train_tokens: int = 2_000_000) -> dict:
    """Every measurement of a shipped model's RESULTS.md, in one dict."""
    recall = name_recall(model)
    recall.pop("by_distance")
    return {"heldout": evaluate(model, n_windows=64, seq_len=512, train_tokens=train_tokens),
            "handwritten": handwritten(model, train_tokens), "names_in_stories": recall,
            "name_probes": name_probes(model), "name_pairs": name_pairs(model), "hops": hop_checks(model)}


def main(argv=None) -> None:
    """python -m minimistral.training.evaluate [DIR]: the report of a model (default: the shipped one)."""
    import json
    import sys

    import minimistral

    argv = sys.argv[1:] if argv is None else argv
    model = minimistral.load(argv[0]) if argv else minimistral.load_default()
    print(json.dumps(report(model), indent=1))


if __name__ == "__main__":
    main()
