"""Worked solutions for notebooks/12_inside_the_model.ipynb.

Each block replaces the exercise cell of the same name; it runs in the notebook's namespace
(np, model, tok, a, ids, effects, ablated_logits ... are defined there).
tests/notebooks/test_notebooks.py puts them in place and checks that every checker says "right".
"""

# %% exercise-1
# The 256 byte pieces <0x00> .. <0xFF> have consecutive ids (docs/mistral-7b.md §6); the first
# one's id, read off the vocabulary, is the offset. A character the vocabulary lacks is spelled
# one piece per byte of its UTF-8 encoding.
first_byte_id = tok.sp.piece_to_id("<0x00>")           # 3: after <unk>, <s>, </s>


def answer_1(char):
    return [first_byte_id + b for b in char.encode("utf-8")]


print([tok.piece(i) for i in answer_1("🦙")])

# %% exercise-2
# hidden_states(ids)[i] is the residual stream before layer i, so after layer 1 is entry 2. Then
# what the model does at its end: the final RMSNorm (gain norm.weight, eps norm_eps), the output
# layer, a softmax; and the probability of the token the whole model puts first.
h = model.hidden_states(ids)[2][-1]                                            # [D]
normed = h / np.sqrt(np.mean(h * h) + a.norm_eps) * model.weights.vector("norm.weight")
logits = model.weights.linear("output.weight", normed[None, :])[0]            # [V]
p = np.exp(logits - logits.max())
p /= p.sum()
final_top = int(model.forward(ids)[-1].argmax())
answer_2 = float(p[final_top])
print(f"after layer 1: p({tok.piece(final_top)!r}) = {answer_2:.4f}; the lens's own top there: {tok.piece(int(p.argmax()))!r}")

# %% exercise-3
# One pass with all H heads of layer 1 removed, one intact; log-softmax each position's logits and
# take the next token's entry; average over positions 0..T-2 and subtract.
def mean_next_logp(logits):
    z = logits[:-1].astype(np.float64)
    z = z - z.max(-1, keepdims=True)
    z = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return float(z[np.arange(len(ids) - 1), ids[1:]].mean())


all_heads = [(1, h) for h in range(a.n_heads)]
answer_3 = mean_next_logp(ablated_logits(model, ids, all_heads)) - mean_next_logp(model.forward(ids))
print(f"all of layer 1 removed: {answer_3:.4f} nats; sum of the {a.n_heads} single-head changes: "
      f"{effects.delta[1].mean(-1).sum():.4f}")
