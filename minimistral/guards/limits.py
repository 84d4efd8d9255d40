"""Limits: what a config may claim, and what the machine can hold, checked before allocating.

A config file is believed only within these bounds; an array is allocated only once its size
is known to fit. Every such check in minimistral calls this module, so the rules are in one place:

    MAX_SIZE          no size in a config (layers, widths, window, context) may exceed 2^31 - 1:
                      token positions and ids are int64, but no real model is near this, and a
                      bigger number is a typo or an attack (hidden_size: 1e9).
    MAX_ELEMENTS      no tensor in a file holds more than 2^48 numbers (512 TB of bf16): a shape
                      claiming more is corrupt, even with a size 0 among its sizes ([0, 2^70]),
                      which NumPy would refuse with its own error (values.checked_shape).
    check_fits(n, w)  an allocation of n bytes must fit in the machine's physical RAM, else one
                      sentence saying what needed how much (a KV cache of 1.3 TB, logits of
                      100k tokens) instead of a MemoryError or a machine swapping for minutes.
    SCORE_BYTES       attention scores of one call are computed in blocks of queries so that
                      one block's [K, G, t, S] float32 scores stay under this (gqa.py).
    PREFILL_BYTES     pre-fill chunks are cut so that one chunk's activations stay under this
                      (model.prefill), whatever the window or the chunk size asked for.

    max_chunk_tokens(ModelArgs())  ->  5504   (the 7B: 390 KB of activations per token, so its
                                               default chunk stays the window, 4096)
"""

from __future__ import annotations

import os

from ..errors import MinimistralError

MAX_SIZE = 2**31 - 1
MAX_ELEMENTS = 2**48
MAX_NDIM = 8                       # dimensions of a stored tensor (weights have 1 or 2)
SCORE_BYTES = 256 * 2**20          # one attention block's scores (x ~3 for mask/exp/normalise)
PREFILL_BYTES = 2 * 2**30          # one pre-fill chunk's activations


def physical_memory() -> int:
    """Bytes of RAM in this machine (the ceiling for any one allocation), or 2^63 if unknown."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):      # not a POSIX system: no ceiling known
        return 2**63


def gib(nbytes: int) -> str:
    """1.5 * 2^30 -> '1.5 GiB', 3 * 2^40 -> '3072.0 GiB'."""
    return f"{nbytes / 2**30:.1f} GiB" if nbytes >= 2**27 else f"{nbytes / 2**20:.1f} MiB"


def check_fits(nbytes: int, what: str, fix: str = "") -> None:
    """Raise MinimistralError if an allocation of nbytes cannot fit in this machine's RAM.

    check_fits(2 * 32 * 10**9 * 8 * 128 * 4, "the KV cache for a window of 1e9 positions")
      -> MinimistralError: the KV cache ... would need 61035.2 GiB, more than this machine's 23.5 GiB of RAM.
    """
    ram = physical_memory()
    if nbytes > ram:
        raise MinimistralError(f"{what} would need {gib(nbytes)}, more than this machine's "
                               f"{gib(ram)} of RAM{'; ' + fix if fix else ''}.")


def bytes_per_token(args) -> int:
    """Pre-fill activations per token: the residual and normed input [D] x 3, q, k, v and the
    attention output [H*Hd + 2*K*Hd + H*Hd], the feed-forward's w1, w3 and gate [F] x 3, and one
    row of logits [V] when every position's logits are asked for; float32."""
    return 4 * (3 * args.dim + 2 * args.n_heads * args.head_dim + 2 * args.n_kv_heads * args.head_dim
                + 3 * args.hidden_dim + args.vocab_size)


def max_chunk_tokens(args) -> int:
    """How many tokens one pre-fill chunk may hold so its activations stay under PREFILL_BYTES."""
    return max(1, PREFILL_BYTES // bytes_per_token(args))
