"""The backward pass: the gradient of the next-token loss for every weight, in NumPy.

model.py, read in reverse. The training forward below is model.py's forward over a batch of B
sequences of T tokens (N = B*T rows), built from the same pieces (rms_norm, silu, rope_angles /
apply_rope, and the ``allowed`` matrix of masks.sliding_window_mask), keeping what the backward
needs. Then each piece gets its backward, beside its forward and with the same shape comments:

    forward                                        backward (chain rule, last step first)
    h = embed(tokens)              [N] -> [N, D]   dE[id] += dh of every row holding that id
    h = h + attention(rms_norm(h))                 dh += d(attention input), through rms_norm
    h = h + feed_forward(rms_norm(h))              dh += d(feed-forward input), through rms_norm
    logits = output(rms_norm(h))   [N, D] -> [N, V]
    loss = mean(-log softmax(logits)[next id])     dlogits = (softmax - onehot(next id)) / M
                                                   (M = B*(T-1) predictions)

The residual ``h = h + f(h)`` is why gradients reach the first layer undiminished: its
derivative is the identity plus f's, so dh flows straight through every block and f's share is
added on top.

Notation: for y = f(x), ``dy`` is dloss/dy, an array of y's shape. A linear map y = x @ W.T gives
dx = dy @ W and dW = dy.T @ x, summed over all N rows by the matrix product itself.

    model = Mistral(args, Weights.from_arrays(arrays))       # float32 weights
    loss, grads = loss_and_grads(model, tokens)              # tokens [T] or [B, T]
    grads["layers.0.attention.wq.weight"].shape              # (H*Hd, D), float32

Everything is float32 and batched over all rows: one matrix product per linear map per step,
attention as a stack of [T, Hd] @ [Hd, S] products (the G query heads of a kv head share its
keys, as in gqa.py), and the V-wide output layer and cross-entropy in row chunks so the [N, V]
logits never exist at once (0.5 GB at N = 4096). At the shipped shape (N = 16 x 128, D = 128,
V = 32000) the output layer's three [N, D] x [D, V] products are three quarters of the work.

One idea, longer than the others: the whole backward pass, one section per forward piece.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checkpoints.names import expected_shapes
from ..errors import MinimistralError
from ..fast import band
from ..gqa import softmax
from ..guards.values import check_tokens, describe
from ..masks import sliding_window_mask
from ..model import Mistral, NonFiniteError, rms_norm, silu
from ..rope import apply_rope, rope_angles

# The output layer and cross-entropy run over CE_CHUNK_BYTES of logits at a time:
# 64 MiB = 524 rows of V = 32000 float32 logits, reused from chunk to chunk (and call to call),
# instead of a fresh [N, V] array (0.26 GB at N = 2048) whose pages the kernel must zero each step.
CE_CHUNK_BYTES = 64 << 20


@dataclass
class Pass:
    """What every block of one training pass shares: weights, batch shape, RoPE angles, mask."""

    args: object                 # ModelArgs
    W: dict                      # native name -> float32 array
    B: int                       # sequences
    T: int                       # tokens per sequence (N = B*T rows)
    cos: np.ndarray              # [T, Hd/2]
    sin: np.ndarray              # [T, Hd/2]
    allowed: np.ndarray          # bool [T, S=T], masks.sliding_window_mask
    Q: int | None = None         # queries per block when attention goes in window blocks (fast/band.py)
    band: np.ndarray | None = None   # bool [n, Q, Q + W - 1]: the same mask, block by block

    @classmethod
    def of(cls, model: Mistral, B: int, T: int) -> "Pass":
        """B sequences of T tokens, each at positions 0..T-1, through model's float32 weights."""
        a = model.args
        positions = np.arange(T)
        cos, sin = rope_angles(positions, a.head_dim, a.rope_theta)             # [T, Hd/2]
        allowed = sliding_window_mask(positions, positions, a.sliding_window)   # [T, S=T]
        Q = band.block_size(T, a.sliding_window)
        mask = None if Q is None else band.band_mask(T, Q, a.sliding_window)    # [n, Q, Q + W - 1]
        return cls(a, _float32_weights(model), B, T, cos, sin, allowed, Q, mask)


# ---- inputs ----------------------------------------------------------------------------------

def _float32_weights(model: Mistral) -> dict[str, np.ndarray]:
    """{native name: float32 array} of every parameter, in native layout, as gradients are taken."""
    w = model.weights
    if getattr(w, "out_perm", None):
        raise MinimistralError("training needs float32 weights in native layout "
                               "(Weights.from_arrays); this model stores HF-permuted wq/wk rows.")
    arrays = {}
    for name, shape in expected_shapes(model.args).items():
        if name not in w.tensors:
            raise MinimistralError(f"the model has no weight '{name}'; cannot compute its gradient.")
        raw = w.tensors[name].raw
        if raw.dtype != np.float32 or tuple(raw.shape) != tuple(shape):
            raise MinimistralError(f"training needs float32 weights (Weights.from_arrays): '{name}' is "
                                   f"{raw.dtype} of shape {tuple(raw.shape)}, expected float32 {tuple(shape)}.")
        arrays[name] = raw
    return arrays


# ---- RMSNorm ---------------------------------------------------------------------------------

def rms_norm_backward(dy: np.ndarray, x: np.ndarray, gain: np.ndarray, eps: float):
    """Gradients of y = rms_norm(x, gain) = x * r * gain, r = 1/sqrt(mean(x^2) + eps): [N, D].

    dgain = sum over rows of dy * x * r; and since dr/dx_j = -r^3 x_j / D, with u = dy * gain,
    dx = r * u - x * r^3 * mean(u * x): the second ("mean") term is the normalisation pulling
    back along x itself. Returns dx [N, D], dgain [D].
    """
    r = 1.0 / np.sqrt(np.mean(np.square(x), axis=-1, keepdims=True, dtype=np.float32)
                      + np.float32(eps))                                         # [N, 1]
    xr = x * r                                                                   # [N, D]
    dgain = np.einsum("nd,nd->d", dy, xr, dtype=np.float32)                      # [D]
    u = dy * gain                                                                # [N, D]
    mean_ux = np.mean(u * xr, axis=-1, keepdims=True, dtype=np.float32)          # [N, 1]
    dx = (u - xr * mean_ux) * r                                                  # [N, D]
    return dx, dgain


# ---- attention -------------------------------------------------------------------------------

def attention_forward(c: Pass, i: int, x: np.ndarray):
    """Model.attention over B sequences: [N, D] -> [N, D], plus what the backward needs.

    Query heads are grouped per kv head as in gqa.grouped_attention, q [B, K, G, T, Hd] against
    k [B, K, 1, T, Hd]: the G query heads of a group read the same keys by broadcasting, and
    each product is one [T, Hd] @ [Hd, S] matrix (at T = S = 128, Hd = 16 that is 2^18
    multiply-adds, which OpenBLAS keeps on one thread, see fast/attention.py; one
    [G*T, Hd] @ [Hd, S] product per kv head would go to two threads, measured 7-30x slower on
    a shared 2-core machine, benchmarks/RESULTS.md).
    """
    W, p, B, T = c.W, f"layers.{i}.attention.", c.B, c.T
    H, K, Hd = c.args.n_heads, c.args.n_kv_heads, c.args.head_dim
    G = H // K
    q = (x @ W[p + "wq.weight"].T).reshape(B, T, H, Hd)                          # [N, D] -> [B, T, H, Hd]
    k = (x @ W[p + "wk.weight"].T).reshape(B, T, K, Hd)                          # [N, D] -> [B, T, K, Hd]
    v = (x @ W[p + "wv.weight"].T).reshape(B, T, K, Hd)                          # [N, D] -> [B, T, K, Hd]
    q, k = apply_rope(q, c.cos, c.sin), apply_rope(k, c.cos, c.sin)              # rotate each pair
    # Contiguous copies: NumPy hands a stack of matrices to BLAS only when each is a plain
    # (or transposed) matrix; other strides fall back to a much slower loop.
    if c.Q is not None:
        return banded_attention_forward(c, i, x, q, k, v)
    qg = np.ascontiguousarray(q.reshape(B, T, K, G, Hd).transpose(0, 2, 3, 1, 4))  # [B, K, G, T, Hd]
    kh = np.ascontiguousarray(k.transpose(0, 2, 1, 3))[:, :, None]               # [B, K, 1, S=T, Hd]
    vh = np.ascontiguousarray(v.transpose(0, 2, 1, 3))[:, :, None]               # [B, K, 1, S, Hd]
    scores = qg @ kh.swapaxes(-1, -2)                                            # [B, K, G, T, S]
    scores *= np.float32(1.0 / np.sqrt(Hd))
    scores = np.where(c.allowed, scores, np.float32(-np.inf))                    # mask: [T, S] broadcast
    probs = softmax(scores)                                                      # [B, K, G, T, S]
    o = probs @ vh                                                               # [B, K, G, T, Hd]
    o = o.transpose(0, 3, 1, 2, 4).reshape(B * T, H * Hd)                        # [N, H*Hd]
    out = o @ W[p + "wo.weight"].T                                               # [N, H*Hd] -> [N, D]
    return out, (x, qg, kh, vh, probs, o)


def banded_attention_forward(c: Pass, i: int, x, q, k, v):
    """attention_forward's scores and mix in blocks of Q queries against their windows of
    Q + W - 1 keys (fast/band.py): the same probabilities where the window allows a key, and
    no work where it does not. Blocks are laid out [B, K, n, G*Q, .]: one small product each."""
    W, p, B, T, Q = c.W, f"layers.{i}.attention.", c.B, c.T, c.Q
    H, K, Hd = c.args.n_heads, c.args.n_kv_heads, c.args.head_dim
    G, Wn = H // K, c.args.sliding_window
    qb = band.blocks(q.reshape(B, T, K, G, Hd).transpose(0, 2, 3, 1, 4), Q)     # [B, K, G, n, Q, Hd]
    n = qb.shape[3]
    qb = np.ascontiguousarray(qb.transpose(0, 1, 3, 2, 4, 5)).reshape(B, K, n, G * Q, Hd)
    kw = band.windows(k.transpose(0, 2, 1, 3), Q, Wn)                            # [B, K, n, S', Hd]
    vw = band.windows(v.transpose(0, 2, 1, 3), Q, Wn)                            # [B, K, n, S', Hd]
    scores = (qb @ kw.swapaxes(-1, -2)).reshape(B, K, n, G, Q, -1)               # [B, K, n, G, Q, S']
    scores *= np.float32(1.0 / np.sqrt(Hd))
    scores = np.where(c.band[:, None], scores, np.float32(-np.inf))              # [n, 1, Q, S'] broadcast
    probs = softmax(scores).reshape(B, K, n, G * Q, -1)                          # [B, K, n, G*Q, S']
    o = (probs @ vw).reshape(B, K, n, G, Q, Hd)                                  # [B, K, n, G, Q, Hd]
    o = o.transpose(0, 2, 4, 1, 3, 5).reshape(B, n * Q, H * Hd)[:, :T]           # [B, T, H*Hd]
    o = np.ascontiguousarray(o).reshape(B * T, H * Hd)                           # [N, H*Hd]
    out = o @ W[p + "wo.weight"].T                                               # [N, H*Hd] -> [N, D]
    return out, (x, qb, kw, vw, probs, o)


def banded_attention_backward(c: Pass, i: int, dout: np.ndarray, saved, grads: dict) -> np.ndarray:
    """attention_backward for banded_attention_forward: the same products block by block, the
    windows' key and value gradients folded back onto their positions (band.fold)."""
    x, qb, kw, vw, probs, o = saved
    W, p, B, T, Q = c.W, f"layers.{i}.attention.", c.B, c.T, c.Q
    H, K, Hd = c.args.n_heads, c.args.n_kv_heads, c.args.head_dim
    G, Wn, n = H // K, c.args.sliding_window, qb.shape[2]
    scale = np.float32(1.0 / np.sqrt(Hd))
    grads[p + "wo.weight"] = dout.T @ o                                          # [D, N] @ [N, H*Hd]
    do = (dout @ W[p + "wo.weight"]).reshape(B, T, K, G, Hd).transpose(0, 2, 3, 1, 4)   # [B, K, G, T, Hd]
    do = np.ascontiguousarray(band.blocks(do, Q).transpose(0, 1, 3, 2, 4, 5)).reshape(B, K, n, G * Q, Hd)
    dvw = probs.swapaxes(-1, -2) @ do                                            # [B, K, n, S', Hd]
    dprobs = do @ vw.swapaxes(-1, -2)                                            # [B, K, n, G*Q, S']
    dscores = softmax_backward(dprobs, probs)                                    # [B, K, n, G*Q, S']
    dscores *= scale
    dq = (dscores @ kw).reshape(B, K, n, G, Q, Hd)                               # [B, K, n, G, Q, Hd]
    dkw = dscores.swapaxes(-1, -2) @ qb                                          # [B, K, n, S', Hd]
    dq = dq.transpose(0, 2, 4, 1, 3, 5).reshape(B, n * Q, H, Hd)[:, :T]          # [B, T, H, Hd]
    dk = band.fold(dkw, T, Wn).transpose(0, 2, 1, 3)                             # [B, T, K, Hd]
    dv = band.fold(dvw, T, Wn).transpose(0, 2, 1, 3)                             # [B, T, K, Hd]
    return _qkv_backward(c, i, x, dq, dk, dv, grads)


def softmax_backward(dprobs: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """d scores of probs = softmax(scores) over the last axis.

    dscores_j = p_j * (dp_j - sum_i p_i dp_i) (the Jacobian diag(p) - p p^T); where the mask
    gave p_j = 0 exactly, the gradient is exactly 0: nothing flows back outside the window.
    """
    return probs * (dprobs - np.sum(dprobs * probs, axis=-1, keepdims=True, dtype=np.float32))


def attention_backward(c: Pass, i: int, dout: np.ndarray, saved, grads: dict) -> np.ndarray:
    """Model.attention backward: dout [N, D] -> dx [N, D]; writes the four weight gradients.

    Each product's backward is a product: for o = probs @ v, dprobs = do @ v^T and
    dv = probs^T @ do; for scores = q @ k^T * s, dq = dscores @ k * s and dk = dscores^T @ q * s.
    A kv head is read by the G query heads of its group, so its dk and dv are the sums of
    their G contributions. RoPE rotates each pair by +angle, so its backward rotates by -angle.
    """
    if c.Q is not None:
        return banded_attention_backward(c, i, dout, saved, grads)
    x, qg, kh, vh, probs, o = saved
    W, p, B, T = c.W, f"layers.{i}.attention.", c.B, c.T
    H, K, Hd = c.args.n_heads, c.args.n_kv_heads, c.args.head_dim
    G = H // K
    scale = np.float32(1.0 / np.sqrt(Hd))
    grads[p + "wo.weight"] = dout.T @ o                                          # [D, N] @ [N, H*Hd]
    do = dout @ W[p + "wo.weight"]                                               # [N, D] -> [N, H*Hd]
    do = np.ascontiguousarray(do.reshape(B, T, K, G, Hd).transpose(0, 2, 3, 1, 4))  # [B, K, G, T, Hd]
    dv = (probs.swapaxes(-1, -2) @ do).sum(axis=2)                               # [B, K, S, Hd]: sum over G
    dprobs = do @ vh.swapaxes(-1, -2)                                            # [B, K, G, T, S]
    dscores = softmax_backward(dprobs, probs)                                    # [B, K, G, T, S]
    dscores *= scale
    dq = dscores @ kh                                                            # [B, K, G, T, Hd]
    dk = (dscores.swapaxes(-1, -2) @ qg).sum(axis=2)                             # [B, K, S, Hd]: sum over G
    dq = dq.transpose(0, 3, 1, 2, 4).reshape(B, T, H, Hd)                        # [B, T, H, Hd]
    dk = dk.transpose(0, 2, 1, 3)                                                # [B, T, K, Hd]
    dv = dv.transpose(0, 2, 1, 3)                                                # [B, T, K, Hd]
    return _qkv_backward(c, i, x, dq, dk, dv, grads)


def _qkv_backward(c: Pass, i: int, x, dq, dk, dv, grads: dict) -> np.ndarray:
    """From dq [B, T, H, Hd], dk and dv [B, T, K, Hd] (RoPE applied) to the three projections'
    gradients and dx [N, D]."""
    W, p, B, T = c.W, f"layers.{i}.attention.", c.B, c.T
    H, K, Hd = c.args.n_heads, c.args.n_kv_heads, c.args.head_dim
    dq, dk = apply_rope(dq, c.cos, -c.sin), apply_rope(dk, c.cos, -c.sin)        # rotate back by -angle
    dq, dk, dv = dq.reshape(B * T, H * Hd), dk.reshape(B * T, K * Hd), dv.reshape(B * T, K * Hd)
    grads[p + "wq.weight"] = dq.T @ x                                            # [H*Hd, N] @ [N, D]
    grads[p + "wk.weight"] = dk.T @ x                                            # [K*Hd, N] @ [N, D]
    grads[p + "wv.weight"] = dv.T @ x                                            # [K*Hd, N] @ [N, D]
    return dq @ W[p + "wq.weight"] + dk @ W[p + "wk.weight"] + dv @ W[p + "wv.weight"]  # [N, D]


# ---- SwiGLU feed-forward ---------------------------------------------------------------------

def feed_forward_forward(c: Pass, i: int, x: np.ndarray):
    """Model.feed_forward: w2(silu(w1 x) * w3 x): [N, D] -> [N, F] -> [N, D], plus saved values."""
    W, p = c.W, f"layers.{i}.feed_forward."
    a1 = x @ W[p + "w1.weight"].T                                                # [N, D] -> [N, F]
    a3 = x @ W[p + "w3.weight"].T                                                # [N, D] -> [N, F]
    gate = silu(a1)                                                              # [N, F]
    m = gate * a3                                                                # [N, F]
    return m @ W[p + "w2.weight"].T, (x, a1, a3, gate, m)                        # [N, F] -> [N, D]


def silu_backward(dgate: np.ndarray, a: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """d a of gate = silu(a) = a * sigmoid(a): silu'(a) = sigmoid(a) + silu(a) * (1 - sigmoid(a))."""
    with np.errstate(over="ignore"):       # exp(-a) -> inf for a < -88: sigmoid -> 0, as in silu
        sig = np.float32(1.0) / (np.float32(1.0) + np.exp(-a))                   # [N, F]
    return dgate * (sig + gate * (np.float32(1.0) - sig))                        # [N, F]


def feed_forward_backward(c: Pass, i: int, dout: np.ndarray, saved, grads: dict) -> np.ndarray:
    """SwiGLU backward: dout [N, D] -> dx [N, D]; writes dw1, dw2, dw3.

    m = gate * a3 is a product, so dgate = dm * a3 and da3 = dm * gate; x feeds both w1 and w3,
    so dx is the sum of what comes back through each.
    """
    x, a1, a3, gate, m = saved
    W, p = c.W, f"layers.{i}.feed_forward."
    grads[p + "w2.weight"] = dout.T @ m                                          # [D, N] @ [N, F]
    dm = dout @ W[p + "w2.weight"]                                               # [N, D] -> [N, F]
    da3 = dm * gate                                                              # [N, F]
    da1 = silu_backward(dm * a3, a1, gate)                                       # [N, F]
    grads[p + "w1.weight"] = da1.T @ x                                           # [F, N] @ [N, D]
    grads[p + "w3.weight"] = da3.T @ x                                           # [F, N] @ [N, D]
    return da1 @ W[p + "w1.weight"] + da3 @ W[p + "w3.weight"]                   # [N, F] -> [N, D]


# ---- one pre-norm block ------------------------------------------------------------------------

def block_forward(c: Pass, i: int, h: np.ndarray):
    """Mistral.block i: [N, D] -> [N, D], plus what block_backward needs."""
    W, eps = c.W, c.args.norm_eps
    attn_out, attn_saved = attention_forward(c, i, rms_norm(h, W[f"layers.{i}.attention_norm.weight"], eps))
    h_mid = h + attn_out                                                         # [N, D]
    ffn_out, ffn_saved = feed_forward_forward(c, i, rms_norm(h_mid, W[f"layers.{i}.ffn_norm.weight"], eps))
    return h_mid + ffn_out, (h, attn_saved, h_mid, ffn_saved)                    # [N, D]


def block_backward(c: Pass, i: int, dh: np.ndarray, saved, grads: dict) -> np.ndarray:
    """Block i backward: d(block output) [N, D] -> d(block input) [N, D]; writes its 9 gradients.

    h_out = h_mid + feed_forward(rms_norm(h_mid)): the residual hands dh on unchanged and the
    branch's gradient is added to it; then the same for h_mid = h + attention(rms_norm(h)).
    """
    W, eps, p = c.W, c.args.norm_eps, f"layers.{i}."
    h, attn_saved, h_mid, ffn_saved = saved
    dx = feed_forward_backward(c, i, dh, ffn_saved, grads)                       # [N, D]
    dx, grads[p + "ffn_norm.weight"] = rms_norm_backward(dx, h_mid, W[p + "ffn_norm.weight"], eps)
    dh = dh + dx                                                                 # d h_mid
    dx = attention_backward(c, i, dh, attn_saved, grads)                         # [N, D]
    dx, grads[p + "attention_norm.weight"] = rms_norm_backward(dx, h, W[p + "attention_norm.weight"], eps)
    return dh + dx                                                               # d h


# ---- output layer and cross-entropy ------------------------------------------------------------

_scratch: dict[str, np.ndarray] = {}


def _buffer(name: str, shape: tuple) -> np.ndarray:
    """A float32 work array kept between calls under this name (its pages are touched once)."""
    if name not in _scratch or _scratch[name].shape != shape:
        _scratch[name] = np.empty(shape, dtype=np.float32)
    return _scratch[name]


def output_loss_backward(x: np.ndarray, targets: np.ndarray, w_out: np.ndarray, bias=None, weights=None):
    """Mean cross-entropy of logits = x @ w_out.T against targets, and its gradients.

    x [M, D] (the normed final states of the M positions that have a next token), targets [M],
    w_out [V, D] -> (loss, dx [M, D], dw_out [V, D]). ``bias`` [V], if given, is a fixed term
    (no gradient) added to every row of logits inside the softmax's sum but not to the target's
    own logit: vocab.py's ln R, the rest row counted R times, each of its pieces scored once.
    With probs = softmax(logits), dloss/dlogits = (probs - onehot(target)) / M: the logit of the
    right token is pushed up, every other down in proportion to its probability. Rows go in
    chunks, each chunk's logits overwritten in place by its gradient.

    ``weights`` [M] (>= 0, not all 0), if given, make it a weighted mean: loss = sum(w ce) / sum(w)
    and dloss/dlogits = w (probs - onehot) / sum(w); 0/1 weights are the mean over the rows
    marked 1 (torch's cross_entropy with ignore_index on the rest).
    """
    M, D = x.shape
    V = w_out.shape[0]
    rows = max(1, min(M, CE_CHUNK_BYTES // (4 * V)))
    buf = _buffer("logits", (rows, V))
    dw_part = _buffer("dw_out", (V, D))
    dx = np.empty((M, D), dtype=np.float32)
    dw_out = np.empty((V, D), dtype=np.float32)
    if weights is None:
        inv_m, count = np.float32(1.0 / M), M          # every row: 1/M
    else:
        count = float(np.sum(weights, dtype=np.float64))
        inv_m = (np.asarray(weights, dtype=np.float64) / count).astype(np.float32)   # [M]: w / sum(w)
    total = 0.0
    for start in range(0, M, rows):
        xc, tc = x[start:start + rows], targets[start:start + rows]             # [R, D], [R]
        R = len(tc)
        logits = buf[:R]
        np.matmul(xc, w_out.T, out=logits)                                       # [R, D] -> [R, V]
        if bias is not None:
            logits += bias                                                       # [V] on every row
        logits -= logits.max(axis=1, keepdims=True)                              # exp cannot overflow
        target_logit = logits[np.arange(R), tc]                                  # [R]
        if bias is not None:             # the bias counts in the sum, not in the target's own logit
            target_logit -= bias[tc]
        np.exp(logits, out=logits)                                               # [R, V]
        sums = logits.sum(axis=1, dtype=np.float32)                              # [R]
        ce = np.log(sums) - target_logit                                         # [R]: -log p(target)
        if weights is None:
            total += float(np.sum(ce, dtype=np.float64))
            scale = inv_m                                                        # 1/M
        else:
            scale = inv_m[start:start + rows]                                    # [R]: w / sum(w)
            total += float(np.sum(weights[start:start + rows] * ce.astype(np.float64)))
        logits *= (scale / sums)[:, None]                                        # probs / M
        logits[np.arange(R), tc] -= scale                                        # (probs - onehot) / M
        np.matmul(logits, w_out, out=dx[start:start + rows])                     # [R, V] -> [R, D]
        if start == 0:
            np.matmul(logits.T, xc, out=dw_out)                                  # [V, R] @ [R, D]
        else:                                    # dw_out is the sum over chunks
            np.matmul(logits.T, xc, out=dw_part)                                 # [V, R] @ [R, D]
            dw_out += dw_part
    return total / count, dx, dw_out


# ---- the whole pass ------------------------------------------------------------------------------

def loss_and_grads(model: Mistral, tokens, output_bias=None, loss_mask=None):
    """(loss, grads): the mean next-token cross-entropy (nats) of tokens and its gradients.

    tokens [T] or [B, T] (B sequences of equal length, each at positions 0..T-1); the loss is
    the mean of -log p(tokens[b, t+1] | tokens[b, :t+1]) over all B*(T-1) predictions, and
    grads maps every native tensor name (checkpoint.expected_shapes) to its float32 gradient.
    model.weights must be float32 in native layout (Weights.from_arrays); anything else, or
    bad ids, raises MinimistralError, and a loss that is inf or NaN raises NonFiniteError.

        loss, grads = loss_and_grads(model, [1, 415, 5255, 3332])    # 3 predictions
        loss     -> about log(V) = 10.37 for a random model

    ``output_bias`` [V], if given, is a fixed term added to the logits (training/vocab.py).

    ``loss_mask`` [T] or [B, T], if given, weighs each prediction by the token it predicts:
    loss_mask[b, t] >= 0 weighs -log p(tokens[b, t] | tokens[b, :t]) (column 0 predicts nothing
    and is ignored), and the loss is sum(mask * ce) / sum(mask). A 0/1 mask is the mean over the
    tokens marked 1, e.g. only an answer's tokens in instruction tuning (training/instruct.py),
    as torch's cross_entropy with ignore_index=-100 on the others; rows marked 0 skip the
    output layer altogether.
    """
    a = model.args
    ids = check_tokens(tokens, a.vocab_size, batched=True)                      # [B, T]
    B, T = ids.shape
    weights = None if loss_mask is None else check_loss_mask(loss_mask, ids.shape)  # [M] float32
    N, D, eps = B * T, a.dim, a.norm_eps
    c = Pass.of(model, B, T)
    W = c.W

    # Forward, keeping each block's inputs and intermediates.
    h = W["tok_embeddings.weight"][ids.reshape(N)]                               # [N] -> [N, D]
    saved = []
    for i in range(a.n_layers):
        h, block_saved = block_forward(c, i, h)                                  # [N, D]
        saved.append(block_saved)
    xn = rms_norm(h, W["norm.weight"], eps)                                      # [N, D]

    # Only positions 0..T-2 have a next token; the last position's logits are never needed.
    rows = xn.reshape(B, T, D)[:, :-1].reshape(B * (T - 1), D)                   # [M = B*(T-1), D]
    targets = ids[:, 1:].reshape(-1)                                             # [M]
    if weights is None:
        loss, drows, grads_out = output_loss_backward(rows, targets, W["output.weight"], output_bias)
    else:                      # only the weighted rows reach the output layer; the others get dx = 0
        keep = np.flatnonzero(weights)                                           # [M'] row numbers
        loss, dkept, grads_out = output_loss_backward(rows[keep], targets[keep], W["output.weight"],
                                                      output_bias, weights[keep])
        drows = np.zeros_like(rows)                                              # [M, D]
        drows[keep] = dkept
    if not np.isfinite(loss):
        raise NonFiniteError(f"the training loss is {loss}; the weights have diverged "
                             f"(lower the learning rate).")
    grads = {"output.weight": grads_out}

    # Backward, last step first.
    dxn = np.zeros((B, T, D), dtype=np.float32)                                  # last position: 0
    dxn[:, :-1] = drows.reshape(B, T - 1, D)                                     # [M, D] -> [B, T, D]
    dh, grads["norm.weight"] = rms_norm_backward(dxn.reshape(N, D), h, W["norm.weight"], eps)
    for i in reversed(range(a.n_layers)):
        dh = block_backward(c, i, dh, saved.pop(), grads)                        # [N, D]
    # h = E[ids] picks rows, so each row of dh is added to the row of E it came from
    # (a token seen n times collects n contributions; unseen rows get 0).
    grads["tok_embeddings.weight"] = embedding_backward(ids.reshape(N), dh, W["tok_embeddings.weight"].shape)
    return loss, {name: grads[name] for name in W}


def check_loss_mask(mask, shape: tuple) -> np.ndarray:
    """A loss mask of the tokens' shape [B, T] (or [T] for B = 1) as float32 weights [B*(T-1)]
    of the predicted tokens (column 0 dropped), or MinimistralError saying what is wrong."""
    try:
        m = np.asarray(mask, dtype=np.float64)
    except (TypeError, ValueError):
        raise MinimistralError(f"loss_mask must be an array of numbers >= 0, got {describe(mask)}.") from None
    if m.ndim == 1 and shape[0] == 1:
        m = m[None]
    if m.shape != tuple(shape):
        raise MinimistralError(f"loss_mask has shape {m.shape} but the tokens {tuple(shape)}; "
                               f"give one weight per token.")
    m = m[:, 1:]
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise MinimistralError("loss_mask must hold finite numbers >= 0 (1 = train on this token, 0 = not).")
    if not np.any(m > 0):
        raise MinimistralError("loss_mask marks no token after the first; there is nothing to learn from.")
    return m.reshape(-1).astype(np.float32)


def embedding_backward(ids: np.ndarray, dh: np.ndarray, shape: tuple) -> np.ndarray:
    """dE [V, D]: row v is the sum of the rows of dh [N, D] whose token is v (0 if v is absent).

    The rows are sorted by token once, then each token's run is summed (np.add.reduceat): the
    same sums as np.add.at(dE, ids, dh), in one pass instead of one scattered add per row.
    """
    order = np.argsort(ids, kind="stable")                                       # [N]
    tokens, starts = np.unique(ids[order], return_index=True)                    # [U], [U]
    d_embed = np.zeros(shape, dtype=np.float32)                                  # [V, D]
    d_embed[tokens] = np.add.reduceat(dh[order], starts, axis=0)                 # [U, D]
    return d_embed
