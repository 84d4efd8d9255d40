"""ModelArgs: the hyper-parameters of the paper's Table 1, read from a checkpoint's config.

Dimension legend, used in every shape comment of minimistral:

    T   tokens in the current call (the sequence or the chunk)
    S   key/value positions attended to (cache + current chunk)
    D   dim, the model width (4096)
    H   n_heads, query heads (32)
    K   n_kv_heads, key/value heads (8); G = H // K query heads share one kv head
    Hd  head_dim (128)
    F   hidden_dim of the feed-forward (14336)
    V   vocab_size (32000)
    W   sliding_window (4096), or None for full causal attention
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import MinimistralError


@dataclass(frozen=True)
class ModelArgs:
    """Mistral 7B's shape. Defaults are the paper's Table 1 (arXiv 2310.06825) and v0.1's config."""

    dim: int = 4096                 # D
    n_layers: int = 32
    head_dim: int = 128             # Hd
    hidden_dim: int = 14336         # F
    n_heads: int = 32               # H
    n_kv_heads: int = 8             # K
    sliding_window: int | None = 4096  # W; None = full causal attention (v0.2, v0.3)
    context_len: int = 8192         # the trained context length (Table 1)
    vocab_size: int = 32000         # V
    norm_eps: float = 1e-5          # RMSNorm epsilon (released config)
    rope_theta: float = 10000.0     # RoPE base (v0.1; 1e6 for v0.2 and v0.3)

    def __post_init__(self):
        self.check()

    def check(self, source: str = "the model config") -> None:
        """Raise MinimistralError if the numbers cannot describe a Mistral model."""
        for name in ("dim", "n_layers", "head_dim", "hidden_dim", "n_heads", "n_kv_heads",
                     "context_len", "vocab_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise MinimistralError(f"{source}: {name} must be a positive integer, got {value!r}.")
        if self.head_dim % 2:
            raise MinimistralError(f"{source}: head_dim must be even for rotary embeddings, got {self.head_dim}.")
        if self.n_heads % self.n_kv_heads:
            raise MinimistralError(
                f"{source}: n_heads ({self.n_heads}) must be a multiple of n_kv_heads ({self.n_kv_heads}).")
        w = self.sliding_window
        if w is not None and (isinstance(w, bool) or not isinstance(w, int) or w < 1):
            raise MinimistralError(f"{source}: sliding_window must be a positive integer or null, got {w!r}.")
        for name in ("norm_eps", "rope_theta"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise MinimistralError(f"{source}: {name} must be a positive number, got {value!r}.")

    @property
    def n_rep(self) -> int:
        """G: how many query heads share one key/value head (4 for the 7B)."""
        return self.n_heads // self.n_kv_heads

    def replace(self, **changes) -> "ModelArgs":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_hf_config(cls, cfg: dict, source: str = "config.json") -> "ModelArgs":
        """From a transformers ``config.json`` (MistralConfig)."""
        def need(key):
            if key not in cfg:
                raise MinimistralError(f"{source} has no '{key}'; is this a Mistral config.json?")
            return cfg[key]

        rope = cfg.get("rope_parameters") or {}
        theta = cfg.get("rope_theta", rope.get("rope_theta", 10000.0) if isinstance(rope, dict) else 10000.0)
        dim, n_heads = need("hidden_size"), need("num_attention_heads")
        head_dim = cfg.get("head_dim")
        if head_dim is None:
            head_dim = _divide(dim, n_heads, source, "hidden_size", "num_attention_heads")
        args = dict(
            dim=dim, n_layers=need("num_hidden_layers"), head_dim=head_dim,
            hidden_dim=need("intermediate_size"), n_heads=n_heads,
            n_kv_heads=cfg.get("num_key_value_heads", n_heads),
            sliding_window=cfg.get("sliding_window"),
            context_len=cfg.get("max_position_embeddings", 8192 if cfg.get("sliding_window") else 32768),
            vocab_size=need("vocab_size"), norm_eps=cfg.get("rms_norm_eps", 1e-5), rope_theta=theta,
        )
        return cls._build(args, source)

    @classmethod
    def from_params_json(cls, cfg: dict, source: str = "params.json") -> "ModelArgs":
        """From Mistral's own ``params.json`` (no rope_theta key means 10000)."""
        def need(key):
            if key not in cfg:
                raise MinimistralError(f"{source} has no '{key}'; is this a Mistral params.json?")
            return cfg[key]

        window = cfg.get("sliding_window")
        args = dict(
            dim=need("dim"), n_layers=need("n_layers"), head_dim=cfg.get("head_dim"),
            hidden_dim=need("hidden_dim"), n_heads=need("n_heads"),
            n_kv_heads=cfg.get("n_kv_heads", cfg.get("n_heads")),
            sliding_window=window, context_len=8192 if window else 32768,
            vocab_size=need("vocab_size"), norm_eps=cfg.get("norm_eps", 1e-5),
            rope_theta=cfg.get("rope_theta", 10000.0),
        )
        if args["head_dim"] is None:
            args["head_dim"] = _divide(args["dim"], args["n_heads"], source, "dim", "n_heads")
        return cls._build(args, source)

    @classmethod
    def _build(cls, args: dict, source: str) -> "ModelArgs":
        # JSON floats like 4096.0 or strings are config errors, not crashes.
        try:
            return cls(**args)
        except MinimistralError as e:
            raise MinimistralError(str(e).replace("the model config", source)) from None
        except TypeError as e:  # pragma: no cover - defensive
            raise MinimistralError(f"{source}: {e}.") from None

    def n_params(self) -> int:
        """Parameter count (untied embeddings): 7,241,732,096 for the 7B."""
        D, F, V, Hd = self.dim, self.hidden_dim, self.vocab_size, self.head_dim
        attn = D * self.n_heads * Hd * 2 + D * self.n_kv_heads * Hd * 2   # wq, wo, wk, wv
        block = attn + 3 * D * F + 2 * D                                  # + w1, w2, w3, two norms
        return self.n_layers * block + 2 * V * D + D                      # + embeddings, output, norm


def _divide(dim, n_heads, source: str, dim_key: str, heads_key: str) -> int:
    """head_dim = dim / n_heads when a config leaves it out."""
    for key, value in ((dim_key, dim), (heads_key, n_heads)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MinimistralError(f"{source}: {key} must be a positive integer, got {value!r}.")
    if dim % n_heads:
        raise MinimistralError(f"{source}: {dim_key} ({dim}) must be divisible by {heads_key} ({n_heads}).")
    return dim // n_heads
