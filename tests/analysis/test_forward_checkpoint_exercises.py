"""The checkers of notebooks 06 and 13 (analysis/forward_pass_exercises.py, checkpoints_exercises.py):
'not yet' for the placeholder, 'right' for a right answer, and for a wrong one a hint that does
not print the expected value."""

import numpy as np
import pytest
from test_basic_exercises import hint_of, mentions

from minimistral.analysis import checkpoints_exercises as ck
from minimistral.analysis import forward_pass_exercises as fp
from minimistral.rope import apply_rope
from minimistral.sampling import softmax_with_temperature
from minimistral.tokenizer import SHIPPED_TOKENIZER, Tokenizer


# ---- notebook 06 ---------------------------------------------------------------------------------

def test_forward_pass_expected_values():
    assert fp.glu_width(4096) == 11008 and fp.glu_width() == 13824     # Llama 2 7B, 13B
    t = np.array([[3.0, 4.0]])
    assert np.allclose(fp.rms_normed(t, [1.0, 2.0], 0.0), [[3 / 12.5 ** 0.5, 8 / 12.5 ** 0.5]])


@pytest.fixture(scope="module")
def tok():
    return Tokenizer(SHIPPED_TOKENIZER)


def test_forward_pass_right_wrong_and_hints(tok):
    t = np.array([[1.0, -2.0, 3.0, 0.5], [0.0, 0.0, 0.0, 4.0]], dtype=np.float32)
    g = np.array([1.0, 0.5, 2.0, 1.0], dtype=np.float32)
    logits = np.random.default_rng(0).standard_normal(50).astype(np.float32) * 3
    assert all("not yet" in fp.check(n, None, t, g, tok, logits) for n in range(1, 5))

    # right answers, written independently of the module
    pr = np.sort(np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum())[::-1]
    n_kept = int(np.count_nonzero(np.cumsum(pr) - pr < 0.5))
    ids = ([1] + tok.encode("[INST] Hi [/INST]", bos=False) + tok.encode("Hello!", bos=False) + [2]
           + tok.encode("[INST] Bye [/INST]", bos=False))
    right = {1: 13824, 2: t / np.sqrt((t ** 2).mean(-1, keepdims=True) + 1e-5) * g, 3: ids, 4: n_kept}
    assert all(fp.check(n, a, t, g, tok, logits) == f"exercise {n}: right" for n, a in right.items())

    wrong = {1: 13653, 2: t / np.sqrt((t ** 2).mean(-1, keepdims=True) + 1e-5), 3: ids[1:], 4: n_kept - 1}
    for n, a in wrong.items():
        hint = hint_of(fp.check(n, a, t, g, tok, logits), n)
        if n in (1, 4):
            assert not mentions(hint, right[n]), hint
    assert "round it up" in fp.check(1, 13653) and "gain" in fp.check(2, wrong[2], t, g)
    assert "<s>" in fp.check(3, ids[1:], tok=tok) and "</s>" in fp.check(3, [i for i in ids if i != 2], tok=tok)
    centred = t - t.mean(-1, keepdims=True)
    assert "LayerNorm" in fp.check(2, centred / np.sqrt(t.var(-1, keepdims=True) + 1e-5) * g, t, g)
    assert "before it" in fp.check(4, n_kept - 1, logits=logits)
    for x in (1, 12000, 99):
        assert not mentions(hint_of(fp.check(1, x), 1), 13824)
        assert not mentions(hint_of(fp.check(4, n_kept + x, logits=logits), 4), n_kept)
    assert softmax_with_temperature(logits, 1.0).sum() == pytest.approx(1.0)


# ---- notebook 13 ---------------------------------------------------------------------------------

def rope_half(x, cos, sin):
    half = x.shape[-1] // 2
    c2, s2 = np.concatenate([cos, cos], -1)[:, None, :], np.concatenate([sin, sin], -1)[:, None, :]
    return x * c2 + np.concatenate([-x[..., half:], x[..., :half]], -1) * s2


def test_checkpoints_right_wrong_and_hints():
    bits = np.array([0x3F80, 0xC040, 0x3E80, 0x0001, 0x7F80], dtype=np.uint16)
    assert all("not yet" in ck.check(n, None, bits) for n in range(1, 5))
    right = {1: "model.layers.5.mlp.up_proj.weight",
             2: np.array([1.0, -3.0, 0.25, 2.0 ** -133, np.inf], dtype=np.float32),
             3: 2 * 128 + 64 + 2,                    # head 2, pair 2, member 1
             4: rope_half}
    assert all(ck.check(n, a, bits) == f"exercise {n}: right" for n, a in right.items())

    assert "gate_proj is w1" in ck.check(1, "model.layers.5.mlp.gate_proj.weight")
    assert "model.layers" in ck.check(1, "layers.5.mlp.up_proj.weight")
    assert "integers" in ck.check(2, bits.astype(np.float32), bits)
    assert "float32" in ck.check(2, right[2].astype(np.float64), bits)
    assert "rows move" in ck.check(3, 261) and "other way" in ck.check(3, 2 * 128 + 2 * 5)   # HF row 261 holds it
    assert "(2j, 2j+1)" in ck.check(4, apply_rope)
    flipped = lambda x, c, s: rope_half(x, c, -s)                # noqa: E731
    assert "sign" in ck.check(4, flipped)
    assert "function" in ck.check(4, 3)
    for x in (0, 261, 300, 5000, 322 - 128):
        assert not mentions(hint_of(ck.check(3, x), 3), 322), x


# ---- notebook 09 ---------------------------------------------------------------------------------

def test_swa_cost_right_wrong_and_hints():
    from minimistral.analysis import swa_cost_exercises as sc

    assert all("not yet" in sc.check(n, None) for n in range(1, 5))
    W = 4096

    def flops(T, w, H, Hd):                      # written out: min(t + 1, w) keys for query t
        return 4 * H * Hd * sum(t + 1 if w is None else min(t + 1, w) for t in range(T))

    def swa_pairs(T):
        return sum(min(t + 1, W) for t in range(T))

    first = next(T for T in range(W, 4 * W) if T * (T + 1) / 2 >= 2 * swa_pairs(T))
    right = {1: flops, 2: first, 3: (32 * 32768 * 32768 * 4, 32 * 32768 * W * 4),
             4: (16384 ** 2 / swa_pairs(16384), 16384 * 16385 / 2 / swa_pairs(16384))}
    assert all(sc.check(n, a) == f"exercise {n}: right" for n, a in right.items())

    assert "4 Hd" in sc.check(1, lambda T, w, H, Hd: flops(T, w, H, Hd) // 2)
    assert "look further" in sc.check(2, first - 1) and "smallest" in sc.check(2, first + 50)
    assert "4 bytes" in sc.check(3, (right[3][0] // 2, right[3][1] // 2))
    assert "other order" in sc.check(3, right[3][::-1]) and "other order" in sc.check(4, right[4][::-1])
    for x in (first - 1, first + 1, 4 * W, 10):
        assert not mentions(hint_of(sc.check(2, x), 2), first), x
