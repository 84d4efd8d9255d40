"""Training over the pieces the corpus uses: an output layer of S + 1 rows that is exact for all V.

The stories use a few thousand of the tokenizer's V = 32000 pieces. Every training step of a
full output layer would multiply by all 32000 rows, and AdamW would update all of them, to learn
that the 29,000 pieces that never occur are unlikely. Instead the model trains on S + 1 rows:
one per piece of the corpus, and one row, the *rest*, that stands for all R = V - S others at once.

Why that is exact. When R pieces share one output row w_rest, each gets the logit h . w_rest, so
the softmax over all V pieces has the denominator

    Z = sum over the S pieces exp(h . w_i)  +  R exp(h . w_rest)
      = sum over S + 1 rows exp(logit_j + b_j),    b = [0, ..., 0, ln R]

a softmax over S + 1 rows with a fixed bias ln R on the last one (``output_bias``), counted in
the sum only: a text's unused piece is still one piece, log p = h . w_rest - ln Z. The loss the
compact model trains is the loss of the full model whose R unused rows are copies of w_rest,
which is what ``expand`` writes: the checkpoint is an ordinary Mistral with V = 32000 rows.
Each unused piece then gets probability p(rest) / R: the model's belief that some piece it never
saw comes next, spread evenly, which is all it can know about them.

    vocab = CompactVocab.of(stream, 32000)      # stream: the training token ids
    vocab.index[ids]                            # full ids -> 0 .. S (S = the rest)
    full = vocab.expand(params)                 # [S + 1, D] tables -> [V, D], for the checkpoint
"""

from __future__ import annotations

import math

import numpy as np

SPECIAL = (0, 1, 2)          # <unk>, <s>, </s>: always their own rows


class CompactVocab:
    """The S pieces a corpus uses (sorted full ids), and the map from full ids to compact ones."""

    def __init__(self, ids: np.ndarray, vocab_size: int):
        self.ids = np.asarray(ids, dtype=np.int64)                               # [S] full ids
        self.vocab_size = vocab_size                                             # V
        self.index = np.full(vocab_size, len(self.ids), dtype=np.int64)          # [V] -> 0..S
        self.index[self.ids] = np.arange(len(self.ids))

    @classmethod
    def of(cls, stream: np.ndarray, vocab_size: int) -> "CompactVocab":
        """The pieces that occur in a token stream, plus <unk>, <s> and </s>."""
        return cls(np.union1d(np.unique(stream), SPECIAL), vocab_size)

    @property
    def size(self) -> int:
        """S + 1: the compact model's vocabulary, the rest row included."""
        return len(self.ids) + 1

    @property
    def rest(self) -> int:
        """R = V - S, how many pieces the rest row stands for."""
        return self.vocab_size - len(self.ids)

    def output_bias(self) -> np.ndarray:
        """float32 [S + 1]: 0 for the corpus's pieces, ln R for the rest (see the module docstring)."""
        bias = np.zeros(self.size, dtype=np.float32)
        bias[-1] = math.log(self.rest) if self.rest > 0 else -np.inf
        return bias

    def compact(self, full: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Full-vocabulary params -> compact ones: the corpus's rows, and row 0's shape for the rest."""
        out = dict(full)
        for name in ("tok_embeddings.weight", "output.weight"):
            table = full[name]                                                   # [V, D]
            rest = table[np.setdiff1d(np.arange(self.vocab_size), self.ids)[:1]]
            out[name] = np.ascontiguousarray(np.concatenate([table[self.ids], rest]), dtype=np.float32)
        return out

    def expand(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Compact params -> full ones: each corpus piece's rows at its full id; every other piece
        gets the rest row, in the output layer and in the embedding alike."""
        out = dict(params)
        for name in ("tok_embeddings.weight", "output.weight"):
            table = params[name]                                                 # [S + 1, D]
            out[name] = table[self.index]                                        # [V, D]
        return out
