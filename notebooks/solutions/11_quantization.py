"""Worked solutions for notebooks/11_quantization.ipynb.

Each block replaces the exercise cell of the same name; it runs in the notebook's namespace
(np, model, the_block, ids, quantized ... are defined there).
tests/notebooks/test_notebooks.py puts them in place and checks that every checker says "right".
"""

# %% exercise-1
# One block of 32 weights: the fp16 scale (2 bytes), 32 low halves two to a byte (16 bytes) and
# 32 fifth bits eight to a byte (4 bytes): 22 bytes, 8 x 22 / 32 = 5.5 bits a weight.
answer_1 = 8 * (2 + 16 + 32 // 8) / 32

# %% exercise-2
# Bytes 0-1: d as fp16, little-endian. Weights 0..15 are the low halves of bytes 2..17 and
# weights 16..31 their high halves, so weight 21 is the high half of byte 2 + (21 - 16) = 7.
d = float(the_block[:2].view(np.float16)[0])
q = int(the_block[2 + 21 - 16] >> 4)            # 0..15
answer_2 = d * (q - 8)

# %% exercise-3
# Table 1's matrices: per layer wq [H Hd, D], wk and wv [K Hd, D], wo [D, H Hd], w1 and w3
# [F, D], w2 [D, F]; then the embeddings and the output [V, D]. Q6_K: 210 bytes per 256
# weights; the 2 L + 1 norms of D weights stay F32. About 5.53 GiB (5.94 GB).
D, L, Hd, F, H, K, V = 4096, 32, 128, 14336, 32, 8, 32000
per_layer = H * Hd * D + 2 * K * Hd * D + D * H * Hd + 3 * F * D
matrix_weights = L * per_layer + 2 * V * D
answer_3 = (matrix_weights // 256 * 210 + 4 * (2 * L + 1) * D) / 2**30

# %% exercise-4
# Softmax each position's logits (its largest logit taken out first, so exp cannot overflow),
# take the probability of the token that comes next under each model, and the root mean square
# of their difference, in percent.
def answer_4(base_logits, q_logits, targets):
    def p_next(logits):
        z = np.asarray(logits, dtype=np.float64)
        z = z - z.max(axis=-1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=-1, keepdims=True)
        return p[np.arange(len(targets)), targets]

    dp = p_next(q_logits) - p_next(base_logits)
    return float(100 * np.sqrt(np.mean(dp ** 2)))


# On the first held-out story (llama.cpp, section 5: 0.618 % for L2 7b q8_0, 3.252 % for q4_K_M).
base_logits = model.forward(ids[0])[:-1]
for q in ["q8_0", "q4_0"]:
    print(q, f"RMS Δp {answer_4(base_logits, quantized[q].forward(ids[0])[:-1], ids[0][1:]):.3f} %")
