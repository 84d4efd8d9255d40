"""Write a synthetic Mistral-7B checkpoint: the real shapes, random bf16 numbers, HF layout.

    python benchmarks/make_synthetic.py                      # 32 layers -> benchmarks/work/synthetic-7b-hf
    python benchmarks/make_synthetic.py --layers 4           # -> benchmarks/work/synthetic-4layers-hf
    python benchmarks/make_synthetic.py --layers 2 --out DIR

The directory looks like the released mistralai/Mistral-7B-v0.1: config.json (the released one,
num_hidden_layers = N), model-00001-of-00002.safetensors, model-00002-of-00002.safetensors,
model.safetensors.index.json and tokenizer.model. Both minimistral and transformers load it.

The numbers are meaningless (matrices ~ N(0, 0.02^2), norm gains ~ 1, so activations stay
finite) but the bytes are exactly as many as the real model's: 14.48 GB for 32 layers. Files are
written tensor by tensor from a reused pool of random bf16 values, so memory stays ~200 MB.
Run it under the shared lock: `flock /tmp/minimistral-heavy.lock python benchmarks/make_synthetic.py`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from minimistral.fast.linear import float32_to_bf16  # noqa: E402

RELEASED_V01 = {  # mistralai/Mistral-7B-v0.1 config.json as released (tests/test_config.py)
    "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
    "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
    "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
    "sliding_window": 4096, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "transformers_version": "4.34.0.dev0", "use_cache": True, "vocab_size": 32000}

POOL = 1 << 25          # 32 Mi random bf16 values (64 MB), sliced at random offsets
SHARDS = 2


def hf_shapes(n_layers: int, cfg: dict) -> dict[str, tuple]:
    """HF tensor name -> shape, in the order the release stores them (embeddings, layers, head)."""
    D, F, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    Hd = D // cfg["num_attention_heads"]
    kv = cfg["num_key_value_heads"] * Hd
    shapes = {"model.embed_tokens.weight": (V, D)}
    for i in range(n_layers):
        p = f"model.layers.{i}."
        shapes.update({
            p + "input_layernorm.weight": (D,),
            p + "self_attn.q_proj.weight": (D, D), p + "self_attn.k_proj.weight": (kv, D),
            p + "self_attn.v_proj.weight": (kv, D), p + "self_attn.o_proj.weight": (D, D),
            p + "post_attention_layernorm.weight": (D,),
            p + "mlp.gate_proj.weight": (F, D), p + "mlp.up_proj.weight": (F, D),
            p + "mlp.down_proj.weight": (D, F),
        })
    shapes.update({"model.norm.weight": (D,), "lm_head.weight": (V, D)})
    return shapes


def split_shards(shapes: dict[str, tuple], n: int) -> list[list[str]]:
    """Consecutive names cut into n shards of about equal bytes (as the release does)."""
    sizes = {name: 2 * int(np.prod(s)) for name, s in shapes.items()}
    total, target = sum(sizes.values()), sum(sizes.values()) / n
    shards, current, done = [[] for _ in range(n)], 0, 0
    for name, size in sizes.items():
        if done + size / 2 > target * (current + 1) and current < n - 1:
            current += 1
        shards[current].append(name)
        done += size
    assert sum(len(s) for s in shards) == len(shapes) and total == done
    return shards


def write_shard(path: Path, names: list[str], shapes: dict[str, tuple], pool: np.ndarray,
                norm_pool: np.ndarray, rng: np.random.Generator) -> int:
    """Write one safetensors file, streaming each tensor from the pools; returns its data bytes."""
    header, offset = {}, 0
    for name in names:
        nbytes = 2 * int(np.prod(shapes[name]))
        header[name] = {"dtype": "BF16", "shape": list(shapes[name]), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    header["__metadata__"] = {"format": "pt"}
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for name in names:
            count = int(np.prod(shapes[name]))
            if len(shapes[name]) == 1:                       # an RMSNorm gain: ~1
                f.write(norm_pool[:count].tobytes())
                continue
            while count:                                      # a matrix: slices of the pool
                n = min(count, POOL // 2)
                start = int(rng.integers(0, POOL - n + 1))
                f.write(memoryview(pool[start:start + n]))
                count -= n
    return offset


def make_synthetic(out: Path, n_layers: int = 32, seed: int = 0) -> Path:
    """Write the checkpoint directory `out` and return it."""
    out.mkdir(parents=True, exist_ok=True)
    cfg = dict(RELEASED_V01, num_hidden_layers=n_layers)
    rng = np.random.default_rng(seed)
    pool = float32_to_bf16(rng.standard_normal(POOL, dtype=np.float32) * np.float32(0.02))
    norm_pool = float32_to_bf16(1 + 0.02 * rng.standard_normal(cfg["hidden_size"], dtype=np.float32))
    shapes = hf_shapes(n_layers, cfg)
    weight_map, total = {}, 0
    for k, names in enumerate(split_shards(shapes, SHARDS), start=1):
        shard = f"model-{k:05d}-of-{SHARDS:05d}.safetensors"
        total += write_shard(out / shard, names, shapes, pool, norm_pool, rng)
        weight_map.update({name: shard for name in names})
    (out / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2) + "\n")
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    shutil.copyfile(ROOT / "minimistral" / "data" / "tokenizer.model", out / "tokenizer.model")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=32, help="number of transformer blocks (default 32)")
    ap.add_argument("--out", type=Path, default=None,
                    help="output directory (default benchmarks/work/synthetic-7b-hf for 32 layers, "
                         "else benchmarks/work/synthetic-<N>layers-hf)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if a.layers < 1:
        ap.error("--layers must be at least 1")
    out = a.out or ROOT / "benchmarks" / "work" / (
        "synthetic-7b-hf" if a.layers == 32 else f"synthetic-{a.layers}layers-hf")
    t = time.perf_counter()
    make_synthetic(out, a.layers, a.seed)
    size = sum(p.stat().st_size for p in out.glob("*.safetensors"))
    print(f"wrote {out} ({a.layers} layers, {size / 1e9:.2f} GB) in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
