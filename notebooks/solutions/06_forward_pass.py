"""Worked solutions for notebooks/06_forward_pass.ipynb (each block replaces its exercise cell)."""

# %% exercise-1
D = 5120
answer_1 = 256 * -(-int(2 * 4 * D / 3) // 256)          # 13653 -> 13824, Llama 2 13B's width

# %% exercise-2
t = np.array([[1.0, -2.0, 3.0, 0.5], [0.0, 0.0, 0.0, 4.0]], dtype=np.float32)
g = np.array([1.0, 0.5, 2.0, 1.0], dtype=np.float32)
answer_2 = t / np.sqrt(np.mean(t ** 2, axis=-1, keepdims=True) + 1e-5) * g

# %% exercise-3
# <s> once at the start; each answer ends with </s>; [INST] is plain text here (v1 tokenizer).
answer_3 = ([1] + tok.encode("[INST] Hi [/INST]", bos=False) + tok.encode("Hello!", bos=False) + [2]
            + tok.encode("[INST] Bye [/INST]", bos=False))

# %% exercise-4
pr = np.exp(sampling_logits.astype(np.float64) - sampling_logits.max())
pr = np.sort(pr / pr.sum())[::-1]                        # most likely first
before = np.cumsum(pr) - pr                              # mass ahead of each token
answer_4 = int(np.count_nonzero(before < 0.5))           # kept while the mass ahead is below p
