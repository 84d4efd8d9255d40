"""Figures of memory: GQA head sharing, KV-cache bytes, the rolling buffer (Fig. 2), pre-fill
chunks (Fig. 3), and one forward pass. Same contract as the other figure modules: each returns (figure, data).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..config import ModelArgs
from ..gqa import kv_cache_bytes, kv_head_of
from ..masks import chunk_mask
from ..sampling import softmax_with_temperature
from .style import FIG3_TEXT, FONT, ORANGE, YELLOW, draw_grid, token_labels

SEVEN_B = ModelArgs()                     # Table 1
GIB = 2 ** 30
FIG2_SENTENCES = ("This is an example of", "Mistral is a good", "The cat sat on the mat")


# ---- grouped-query attention --------------------------------------------------------------------

def fig_gqa_heads(args: ModelArgs = SEVEN_B):
    """Which kv head each query head reads: 32 query heads -> 8 kv heads for the 7B.

    data bool [H, K]: True where query head h reads kv head k (kv_head_of, as the model groups).
    """
    H, K = args.n_heads, args.n_kv_heads
    group = kv_head_of(H, K)                                           # [H]
    sharing = group[:, None] == np.arange(K)[None, :]                  # [H, K]
    fig = Figure(figsize=(14, 5), layout="constrained")
    ax = fig.subplots()
    colors = [f"C{g % 10}" for g in range(K)]
    kv_x = (np.arange(K) + 0.5) * H / K - 0.5                          # kv heads centred under groups
    for h in range(H):
        ax.plot([h, kv_x[group[h]]], [0.85, 0.15], color=colors[group[h]], linewidth=1.5)
        ax.add_patch(_rect(h, 1, 0.8, colors[group[h]], alpha=0.35))
    for k in range(K):
        ax.add_patch(_rect(kv_x[k], 0, 2.4, colors[k], alpha=0.8))
        ax.text(kv_x[k], 0, f"kv {k}", ha="center", va="center", fontsize=FONT, color="white")
    ax.text(-1.5, 1, f"{H} query heads", ha="right", va="center", fontsize=FONT)
    ax.text(-1.5, 0, f"{K} key/value heads", ha="right", va="center", fontsize=FONT)
    ax.set_xlim(-9, H)
    ax.set_ylim(-0.5, 1.5)
    ax.set_xticks(range(0, H, 4), [f"q{h}" for h in range(0, H, 4)], fontsize=FONT - 2)
    ax.set_yticks([])
    ax.set_xlabel("query head index", fontsize=FONT)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"Grouped-query attention: every {H // K} query heads share one key/value head "
                 f"(the KV cache holds {K}, not {H})", fontsize=FONT + 1)
    return fig, sharing


def _rect(x, y, width, color, alpha):
    from matplotlib.patches import Rectangle

    return Rectangle((x - width / 2, y - 0.15), width, 0.3, facecolor=color, alpha=alpha,
                     edgecolor="0.2")


def fig_kv_cache_bytes(args: ModelArgs = SEVEN_B, max_len: int = 32768):
    """KV-cache GiB vs sequence length for MHA (K = H), GQA (K = 8) and MQA (K = 1), bf16.

    data float [3, N]: GiB for MHA, GQA, MQA at the lengths 1024, 2048, ..., max_len.
    """
    lengths = 2 ** np.arange(10, int(np.log2(max_len)) + 1)
    kinds = {"MHA (32 kv heads)": args.n_heads, f"GQA ({args.n_kv_heads} kv heads, Mistral 7B)":
             args.n_kv_heads, "MQA (1 kv head)": 1}
    data = np.array([[kv_cache_bytes(args.n_layers, K, args.head_dim, int(n), 2) / GIB
                      for n in lengths] for K in kinds.values()])       # [3, N]
    fig = Figure(figsize=(11, 6), layout="constrained")
    ax = fig.subplots()
    for row, label, style in zip(data, kinds, ("s-", "o-", "^-")):
        ax.plot(lengths, row, style, label=label, linewidth=2)
        ax.annotate(f"{row[-1]:g} GiB", (lengths[-1], row[-1]), textcoords="offset points",
                    xytext=(8, 0), va="center", fontsize=FONT - 1)
    ax.set_xscale("log", base=2)
    ax.set_xticks(lengths, [f"{n:,}" for n in lengths], fontsize=FONT - 2)
    ax.set_xlim(lengths[0] * 0.8, lengths[-1] * 2)
    ax.tick_params(labelsize=FONT - 1)
    # A log2 axis: equal steps double the length, so a straight line in memory looks curved.
    ax.set_xlabel("sequence length, tokens (log2 scale: each tick doubles; no rolling buffer)",
                  fontsize=FONT)
    ax.set_ylabel("KV cache, GiB (bf16, one sequence)", fontsize=FONT)
    ax.legend(fontsize=FONT - 1)
    ax.grid(alpha=0.3)
    ax.set_title("KV cache of the 7B: 2 x 32 layers x K x 128 values per token", fontsize=FONT + 1)
    return fig, data


# ---- the rolling buffer (Fig. 2) ----------------------------------------------------------------

def rolling_buffer_slots(words: list[str], window: int = 4, steps: int = 3) -> np.ndarray:
    """str [steps, W]: the word in each slot of a real cache after each of the last steps words.

    The tiny random model (window W) reads the words one position at a time, as in decoding,
    into its RollingBufferCache; after each of the last ``steps`` positions the cache's own
    record of which position sits in which slot is mapped back to the words. Each word is one
    position, as in the paper's figure (the tokenizer splits "Mistral" into "Mist" + "ral").
    """
    from ..tokenizer import SHIPPED_TOKENIZER, Tokenizer
    from ..training.init import TINY, tiny_model

    model = tiny_model(TINY.replace(sliding_window=window, n_layers=1), tokenizer=False)
    tok = Tokenizer(SHIPPED_TOKENIZER)
    cache = model.new_cache()
    table = []
    for pos, word in enumerate(words):
        first_piece = tok.encode(word, bos=False)[0]
        model.run([first_piece], np.array([pos]), cache)
        if pos >= len(words) - steps:
            held = cache.positions                                      # [W] position per slot
            table.append([words[p] if p >= 0 else "" for p in held])
    return np.array(table, dtype=object)


def fig_rolling_buffer(window: int = 4):
    """Fig. 2: slots of a W = 4 rolling buffer at timesteps i, i+1, i+2 for three sequences.

    data str [3 sentences, 3 steps, W]; the newest word is orange, as the paper highlights it.
    """
    tables = np.stack([rolling_buffer_slots(s.split(), window) for s in FIG2_SENTENCES])
    fig = Figure(figsize=(14, 5.5), layout="constrained")
    axes = fig.subplots(len(FIG2_SENTENCES), 3)
    for r, sentence in enumerate(FIG2_SENTENCES):
        n = len(sentence.split())
        for c in range(3):
            ax, newest = axes[r, c], (n - 3 + c) % window
            for s, word in enumerate(tables[r, c]):
                color = "white" if not word else ORANGE if s == newest else YELLOW
                ax.add_patch(_rect(s, 0, 0.95, color, alpha=1.0))
                ax.text(s, 0, word, ha="center", va="center", fontsize=FONT)
            ax.set_xlim(-0.5, window - 0.5)
            ax.set_ylim(-0.2, 0.2)
            ax.set_yticks([])
            ax.set_xticks(range(window), [f"slot {s}" for s in range(window)] if r == 2 else [],
                          fontsize=FONT - 3)
            if r == 0:
                ax.set_title(["Timestep i", "Timestep i + 1", "Timestep i + 2"][c], fontsize=FONT + 1)
            if c == 0:
                ax.set_ylabel(sentence + " ...", fontsize=FONT - 2, rotation=0, ha="right", va="center")
    fig.suptitle(f"Rolling buffer cache, W = {window}: position i is stored in slot i mod W "
                 "(newest in orange), read from a real RollingBufferCache", fontsize=FONT)
    return fig, tables


def fig_rolling_buffer_memory(args: ModelArgs = SEVEN_B, max_len: int = 32768):
    """KV-cache GiB with and without the rolling buffer: 8x smaller at 32K tokens for the 7B.

    data float [2, N]: without buffer (grows with the sequence), with buffer (capped at W slots).
    """
    lengths = 2 ** np.arange(10, int(np.log2(max_len)) + 1)
    W = args.sliding_window
    full = [kv_cache_bytes(args.n_layers, args.n_kv_heads, args.head_dim, int(n)) / GIB for n in lengths]
    buffered = [kv_cache_bytes(args.n_layers, args.n_kv_heads, args.head_dim, int(min(n, W))) / GIB
                for n in lengths]
    data = np.array([full, buffered])                                   # [2, N]
    fig = Figure(figsize=(11, 6), layout="constrained")
    ax = fig.subplots()
    ax.plot(lengths, data[0], "o-", color="#B03A2E", linewidth=2, label="every position kept")
    ax.plot(lengths, data[1], "s-", color="#1E8449", linewidth=2,
            label=f"rolling buffer: W = {W} slots per layer")
    ax.annotate(f"{data[0, -1] / data[1, -1]:.0f}x smaller\n({data[0, -1]:g} vs {data[1, -1]:g} GiB)",
                xy=(lengths[-1], data[1, -1]), xytext=(lengths[-4], data[0, -1] * 0.6),
                fontsize=FONT, arrowprops=dict(arrowstyle="->"))
    ax.set_xscale("log", base=2)
    ax.set_xticks(lengths, [f"{n:,}" for n in lengths], fontsize=FONT - 2)
    ax.tick_params(labelsize=FONT - 1)
    ax.set_xlabel("sequence length, tokens (log2 scale: each tick doubles)", fontsize=FONT)
    ax.set_ylabel("KV cache, GiB (bf16, one sequence)", fontsize=FONT)
    ax.legend(fontsize=FONT - 1, loc="upper left")
    ax.grid(alpha=0.3)
    ax.set_title("Cache memory of the 7B with and without the rolling buffer", fontsize=FONT + 1)
    return fig, data


# ---- pre-fill and chunking (Fig. 3) -------------------------------------------------------------

def fig_prefill_chunks(text: str = FIG3_TEXT, chunk: int = 4, window: int = 4, which: int = 2):
    """Fig. 3: the third chunk of 4 attending Past / Cache / Current, from chunk_mask.

    data bool [chunk, T]: the mask the model's attention applies to that chunk's queries.
    """
    labels = token_labels(text)
    start = which * chunk
    grid = chunk_mask(start, chunk, len(labels), window)                # [chunk, T]
    fig = Figure(figsize=(13, 5.2), layout="constrained")
    ax = fig.subplots()
    draw_grid(ax, grid, labels[start:start + chunk], labels,
              f"Pre-fill in chunks of {chunk}, W = {window}: chunk \"{' '.join(labels[start:start + chunk])}\"")
    for x in (start - window - 0.5, start - 0.5):
        ax.axvline(x, color="black", linewidth=3)
    for name, lo, hi in (("Past", 0, start - window), ("Cache", start - window, start),
                         ("Current", start, start + chunk)):
        ax.text((lo + hi - 1) / 2, chunk - 0.1, name, ha="center", va="top", fontsize=FONT + 1,
                fontweight="bold")
    ax.set_ylim(chunk + 0.5, -0.5)
    ax.set_ylabel("queries of the chunk", fontsize=FONT)
    ax.set_xlabel("keys: past (dropped), cache (sliding window band), current chunk (causal)",
                  fontsize=FONT)
    return fig, grid


# ---- one forward pass ---------------------------------------------------------------------------

def fig_forward_pass(text: str = FIG3_TEXT, top: int = 8):
    """The shipped trained model on the Fig. 3 sentence: residual-stream size per layer, next token.

    The model is minimistral.load_default(), the small Mistral trained by minimistral on its own
    generated stories (minimistral/data/story-mistral). Its next token after "... go to" is ' the'
    with probability above 0.999, so the bars are drawn on a log scale to show the runners-up.

    data dict: "rms" float [L + 2, T] (RMS of the residual stream: the embeddings, after each of
    the L blocks, then after the final norm, a row of its own since the jump to RMS ~1 is the
    norm's, not the last block's) and "probs" float [V] (softmax of the last position's logits).
    """
    from .. import load_default

    model = load_default()
    ids = np.array(model.tokenizer.encode(text))                        # [T] with <s>
    hidden: list = []
    positions = np.arange(len(ids))
    logits = model.run(ids, positions, hidden=hidden)                   # [T, V]
    L = model.args.n_layers
    # hidden: the stream before each block (L arrays), then the final normed output; the last
    # block's own output, before the norm, is recomputed from the stream that entered it.
    hidden.insert(L, model.block(L - 1, hidden[L - 1], positions))      # [T, D]
    rms = np.stack([np.sqrt(np.mean(np.square(h), axis=-1, dtype=np.float32)) for h in hidden])
    probs = softmax_with_temperature(logits[-1], 1.0)                   # [V] float64
    best = np.argsort(probs)[::-1][:top]
    fig = Figure(figsize=(15, 6), layout="constrained")
    left, right = fig.subplots(1, 2)
    image = left.imshow(rms, cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=left, label="RMS of the residual stream")
    pieces = [model.tokenizer.piece(i).replace("\u2581", "") for i in ids]
    left.set_xticks(range(len(ids)), pieces, rotation=90, fontsize=FONT - 2)
    left.set_yticks(range(L + 2), ["embedding"] + [f"after block {k}" for k in range(L)]
                    + ["final norm"], fontsize=FONT - 2)
    left.axhline(L + 0.5, color="white", linewidth=4)                   # the norm is not a block
    left.set_title("Residual stream through the blocks", fontsize=FONT + 1)
    right.barh(range(top), probs[best][::-1], color=YELLOW, edgecolor="0.3")
    for row, i in enumerate(best[::-1]):
        label = f"{probs[i]:.4f}" if probs[i] >= 0.01 else f"{probs[i]:.1e}"
        right.text(probs[i] * 1.15, row, label, va="center", fontsize=FONT - 3)
    right.set_xscale("log")
    right.set_xlim(right=5.0)                                           # room for the top label
    right.set_yticks(range(top), [_printable(model.tokenizer.piece(i)) for i in best][::-1], fontsize=FONT - 2)
    right.set_xlabel("probability of the next token (log scale)", fontsize=FONT)
    right.set_title("Next token after \"... go to\" (trained model)", fontsize=FONT + 1)
    fig.suptitle(f"One forward pass of the shipped Mistral trained on minimistral's stories "
                 f"({L} layers, D = {model.args.dim}, W = {model.args.sliding_window})", fontsize=FONT + 1)
    return fig, {"rms": rms, "probs": probs}


def _printable(piece: str) -> str:
    """A vocabulary piece for a plot label: '▁' as '_', characters the font lacks escaped."""
    return "'" + piece.replace("\u2581", "_").encode("ascii", "backslashreplace").decode() + "'"
