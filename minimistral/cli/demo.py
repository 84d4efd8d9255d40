"""`minimistral demo`: the paper's example sentence through the shipped trained model, step by
step; then a story opening continued past the window, with every name it carries marked."""

from __future__ import annotations

import numpy as np


def run(opts) -> int:
    """Walk the paper's example sentence through the shipped trained model, printing each step."""
    from .. import load_default
    from ..sampling import softmax_with_temperature

    model = load_default()
    a, tok = model.args, model.tokenizer
    text = "The cat sat on the mat and saw the dog go to"
    ids = tok.encode(text)
    print(f"model      : minimistral's tiny trained Mistral (shipped in the package), {a.n_layers} layers, "
          f"D={a.dim}, H={a.n_heads}, K={a.n_kv_heads}, Hd={a.head_dim}, F={a.hidden_dim}, "
          f"W={a.sliding_window}, V={a.vocab_size}")
    print(f"prompt     : {text!r}")
    print(f"token ids  : {ids}  [T={len(ids)}]")
    print(f"pieces     : {[tok.piece(i) for i in ids]}")
    hidden = model.hidden_states(np.array(ids))
    print(f"embedding  : {hidden[0].shape}  [T, D]   (then one residual stream per block)")
    for i, h in enumerate(hidden[1:-1]):
        print(f"after block {i}: {h.shape}  [T, D]")
    print(f"after block {a.n_layers - 1}, final norm: {hidden[-1].shape}  [T, D]   (the last block's output, "
          f"RMS-normalised)")
    logits = model.forward(np.array(ids))
    print(f"logits     : {logits.shape} {logits.dtype}  [T, V]")
    print("what the model expected at each step (its top guess, then the probability it gave the "
          "word that came):")
    for t in range(1, len(ids)):
        probs = softmax_with_temperature(logits[t - 1], 1.0)               # [V]
        guess = int(probs.argmax())
        print(f"  {tok.decode(ids[1:t])!r:<44} -> {_shown(tok, guess):<10} "
              f"(p {probs[guess]:.2f}); came {_shown(tok, ids[t])} (p {probs[ids[t]]:.2f})")
    probs = softmax_with_temperature(logits[-1], 1.0)
    top = np.argsort(probs)[::-1][:5]
    print(f"next token : top 5 after {text!r}:")
    for i in top:
        print(f"  {_shown(tok, int(i)):<12} {probs[i]:.4f}" if probs[i] >= 1e-3 else
              f"  {_shown(tok, int(i)):<12} {probs[i]:.2e}")
    new = model.generate(ids, max_tokens=a.sliding_window, temperature=0.0)
    print(f"greedy     : {tok.decode(ids + new)!r}")
    names_past_the_window(model)
    return 0


STORY_OPENING = "Hugo was a small boy who lived near the river. He had a tall bird named Milo."


def names_past_the_window(model, prompt: str = STORY_OPENING, names=("Hugo", "Milo")) -> None:
    """Continue a story opening greedily, then list where its names come back and how far back
    (in tokens) each was last said: beyond W - 1, only the stack of layers can have carried it."""
    from ..training.corpus import band, name_mentions

    tok, W, k = model.tokenizer, model.args.sliding_window, model.args.n_layers
    ids = tok.encode(prompt)
    new = model.generate(ids, max_tokens=4 * W, temperature=0.0)
    print(f"story      : {prompt!r}")
    print(f"greedy     : {tok.decode(new)!r}")
    print(f"             ({len(new)} new tokens through the rolling buffer of W = {W} slots, {k} layers: "
          f"a reach of {k * (W - 1)} tokens)")
    where = {"near": "inside the window", "mid": "past the window, within the reach", "far": "beyond the reach"}
    for m in name_mentions(ids + new, tok, names=names):
        if m.position >= len(ids):
            print(f"  {m.name!r} at token {m.position}: said {m.distance} tokens before "
                  f"({where[band(m.distance, W, k)]})")


def _shown(tok, token_id: int) -> str:
    """A piece as a reader should see it, quoted: '\u2581cat' -> "' cat'", '</s>' stays '</s>'."""
    return repr(tok.piece(token_id).replace("\u2581", " "))
