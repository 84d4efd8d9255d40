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
import math
from dataclasses import dataclass

import numpy as np

from .errors import MinimistralError
from .guards.limits import MAX_SIZE
from .guards.values import as_float, is_real, is_whole, shown


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
    context_len: int = 8192         # context length (Table 1; the paper gives no training length)
    vocab_size: int = 32000         # V
    norm_eps: float = 1e-5          # RMSNorm epsilon (released config)
    rope_theta: float = 10000.0     # RoPE base (v0.1; 1e6 for v0.2 and v0.3)

    def __post_init__(self):
        self.check()
        # One type per field from here on, whatever number was given: int sizes, float eps and
        # theta (an np.int64 or a Fraction would otherwise reach json.dumps and NumPy).
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                object.__setattr__(self, field.name, as_float(value) if field.type == "float" else int(value))

    def check(self, source: str = "the model config", keys: dict | None = None) -> None:
        """Raise MinimistralError if these numbers cannot describe a model minimistral can run
        (check_values, below)."""
        check_values(dataclasses.asdict(self), source, keys)

    @property
    def n_rep(self) -> int:
        """G: how many query heads share one key/value head (4 for the 7B)."""
        return self.n_heads // self.n_kv_heads

    def replace(self, **changes) -> "ModelArgs":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_hf_config(cls, cfg: dict, source: str = "config.json") -> "ModelArgs":
        """From a transformers ``config.json`` (MistralConfig); refuses what minimistral does not run."""
        def need(key):
            if key not in cfg:
                raise MinimistralError(f"{source} has no '{key}'; is this a Mistral config.json?")
            return cfg[key]

        model_type = cfg.get("model_type", "mistral")
        if model_type != "mistral":
            raise MinimistralError(f"{source}: model_type is {shown(model_type)}; minimistral runs Mistral "
                                   f"models (model_type 'mistral') only.")
        unsupported(cfg, source, {"hidden_act": "hidden_act", "rope_scaling": "rope_scaling",
                                  "quantization_config": "quantization_config",
                                  "attention_bias": "attention_bias", "mlp_bias": "mlp_bias"})
        rope = cfg.get("rope_parameters") or {}
        if not isinstance(rope, dict):
            raise MinimistralError(f"{source}: rope_parameters must be an object, got {shown(rope)}.")
        if rope.get("rope_type", "default") != "default":
            raise MinimistralError(f"{source}: rope_parameters asks for rope_type "
                                   f"{shown(rope.get('rope_type'))}; minimistral implements the default RoPE only.")
        theta = cfg.get("rope_theta", rope.get("rope_theta", 10000.0))
        dim, n_heads = need("hidden_size"), need("num_attention_heads")
        head_dim = cfg.get("head_dim")
        if head_dim is None:
            head_dim = _divide(dim, n_heads, source, "hidden_size", "num_attention_heads")
        n_kv_heads = cfg.get("num_key_value_heads")
        args = dict(
            dim=dim, n_layers=need("num_hidden_layers"), head_dim=head_dim,
            hidden_dim=need("intermediate_size"), n_heads=n_heads,
            n_kv_heads=n_heads if n_kv_heads is None else n_kv_heads,      # HF: null means MHA
            sliding_window=cfg.get("sliding_window"),
            context_len=cfg.get("max_position_embeddings", 8192 if cfg.get("sliding_window") else 32768),
            vocab_size=need("vocab_size"), norm_eps=cfg.get("rms_norm_eps", 1e-5), rope_theta=theta,
        )
        return cls._build(args, source, HF_KEYS)

    @classmethod
    def from_params_json(cls, cfg: dict, source: str = "params.json") -> "ModelArgs":
        """From Mistral's own ``params.json`` (no rope_theta key means 10000)."""
        def need(key):
            if key not in cfg:
                raise MinimistralError(f"{source} has no '{key}'; is this a Mistral params.json?")
            return cfg[key]

        unsupported(cfg, source, {"hidden_act": "hidden_act", "rope_scaling": "rope_scaling",
                                  "moe": "moe", "vision_encoder": "vision_encoder",
                                  "quantization": "quantization"})
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
        return cls._build(args, source, PARAMS_KEYS)

    @classmethod
    def _build(cls, args: dict, source: str, keys: dict) -> "ModelArgs":
        # JSON floats like 4096.0 or strings are config errors, not crashes; check before building
        # so the message uses the file's own keys.
        check_values(args, source, keys)
        return cls(**args)

    def n_params(self) -> int:
        """Parameter count (untied embeddings): 7,241,732,096 for the 7B."""
        D, F, V, Hd = self.dim, self.hidden_dim, self.vocab_size, self.head_dim
        attn = D * self.n_heads * Hd * 2 + D * self.n_kv_heads * Hd * 2   # wq, wo, wk, wv
        block = attn + 3 * D * F + 2 * D                                  # + w1, w2, w3, two norms
        return self.n_layers * block + 2 * V * D + D                      # + embeddings, output, norm


def check_values(values: dict, source: str = "the model config", keys: dict | None = None) -> None:
    """Raise MinimistralError if the numbers cannot describe a Mistral model minimistral can run.

    The one validator of a config's values (every layout goes through it, before anything is
    allocated): sizes are whole numbers in [1, 2^31 - 1] (limits.MAX_SIZE), the heads divide,
    norm_eps is in (0, 1) and rope_theta a finite number > 1 (a base <= 1 would make the
    rotation speeds grow with the pair index; inf or 1e300 for eps silently zero the model).
    ``keys`` maps our field names to the file's own (``dim`` -> ``hidden_size``) so the
    message names what the user sees in the file.
    """
    key = (keys or {}).get
    for name in ("dim", "n_layers", "head_dim", "hidden_dim", "n_heads", "n_kv_heads",
                 "context_len", "vocab_size"):
        value = values[name]
        if not is_whole(value) or value < 1:
            raise MinimistralError(f"{source}: {key(name, name)} must be a positive integer, got {shown(value)}.")
        if value > MAX_SIZE:
            raise MinimistralError(f"{source}: {key(name, name)} = {value} is beyond any real model "
                                   f"(at most {MAX_SIZE}); is the config corrupt?")
    H, K, Hd = values["n_heads"], values["n_kv_heads"], values["head_dim"]
    if Hd % 2:
        raise MinimistralError(f"{source}: {key('head_dim', 'head_dim')} must be even for rotary "
                               f"embeddings, got {Hd}.")
    if H % K:
        raise MinimistralError(
            f"{source}: {key('n_heads', 'n_heads')} ({H}) must be a multiple of "
            f"{key('n_kv_heads', 'n_kv_heads')} ({K}).")
    w = values["sliding_window"]
    if w is not None and (not is_whole(w) or not 1 <= w <= MAX_SIZE):
        raise MinimistralError(f"{source}: {key('sliding_window', 'sliding_window')} must be a positive "
                               f"integer (at most {MAX_SIZE}) or null, got {shown(w)}.")
    for name in ("norm_eps", "rope_theta"):
        if not is_real(values[name]) or not math.isfinite(as_float(values[name])):
            raise MinimistralError(f"{source}: {key(name, name)} must be a finite number, "
                                   f"got {shown(values[name])}.")
    eps, theta = as_float(values["norm_eps"]), as_float(values["rope_theta"])
    if not (0 < eps < 1 and np.float32(eps) > 0):
        raise MinimistralError(f"{source}: {key('norm_eps', 'norm_eps')} must lie between 0 and 1 "
                               f"(Mistral uses 1e-5), got {shown(eps)}.")
    if not theta > 1:
        raise MinimistralError(f"{source}: {key('rope_theta', 'rope_theta')} must be greater than 1 "
                               f"(Mistral uses 10000 or 1000000), got {shown(theta)}.")


# Our field name -> the file's key, for messages about that file.
HF_KEYS = {"dim": "hidden_size", "n_layers": "num_hidden_layers", "head_dim": "head_dim",
           "hidden_dim": "intermediate_size", "n_heads": "num_attention_heads",
           "n_kv_heads": "num_key_value_heads", "sliding_window": "sliding_window",
           "context_len": "max_position_embeddings", "vocab_size": "vocab_size",
           "norm_eps": "rms_norm_eps", "rope_theta": "rope_theta"}
PARAMS_KEYS = {name: name for name in HF_KEYS}

# What a config may ask for that minimistral does not implement: key -> accepted values.
SUPPORTED = {"hidden_act": ("silu", "swish"), "rope_scaling": (None,), "quantization_config": (None,),
             "moe": (None,), "vision_encoder": (None,), "quantization": (None,),
             "attention_bias": (False, None), "mlp_bias": (False, None)}
WHAT = {"hidden_act": "the activation", "rope_scaling": "RoPE scaling",
        "quantization_config": "quantized weights", "quantization": "quantized weights",
        "moe": "a mixture of experts (Mixtral)", "vision_encoder": "a vision encoder (Pixtral)",
        "attention_bias": "biases in the attention", "mlp_bias": "biases in the feed-forward"}


def unsupported(cfg: dict, source: str, keys: dict) -> None:
    """Refuse a config that asks for something minimistral does not implement, naming it."""
    for key in keys:
        if key in cfg and cfg[key] not in SUPPORTED[key]:
            if key == "hidden_act":
                raise MinimistralError(f"{source}: hidden_act is {shown(cfg[key])}; Mistral's feed-forward uses "
                                       f"SiLU ('silu') and minimistral implements only that.")
            raise MinimistralError(f"{source} asks for {WHAT[key]} ('{key}'), which minimistral does not "
                                   f"implement; it runs the plain Mistral 7B architecture.")


def _divide(dim, n_heads, source: str, dim_key: str, heads_key: str) -> int:
    """head_dim = dim / n_heads when a config leaves it out."""
    for key, value in ((dim_key, dim), (heads_key, n_heads)):
        if not is_whole(value) or value < 1:
            raise MinimistralError(f"{source}: {key} must be a positive integer, got {shown(value)}.")
    if dim % n_heads:
        raise MinimistralError(f"{source}: {dim_key} ({dim}) must be divisible by {heads_key} ({n_heads}).")
    return dim // n_heads
