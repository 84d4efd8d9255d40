"""`minimistral info`: what a checkpoint is, without running it."""

from __future__ import annotations

import math
from pathlib import Path

from ..guards.textio import show
from .output import human
from .text import check_window


def run(opts) -> int:
    """Describe a checkpoint directory without running it; without --model, the shipped models."""
    from .. import DEFAULT_MODEL, default_chat_model
    from .output import say

    check_window(opts.window)
    if opts.model is not None:
        return describe(opts.model, opts.window)
    chat_model, kind = default_chat_model()
    say("no --model given: describing the models that ship with minimistral: the story model "
        "(`generate`'s default)" + (" and the instruct model (`chat`'s default)." if kind == "instruct"
                                    else "; no instruct model ships yet, so `chat` uses it too."), "note")
    describe(DEFAULT_MODEL, opts.window)
    if kind == "instruct":
        print()
        describe(chat_model, opts.window)
    return 0


def describe(model, window=None) -> int:
    """Print what the checkpoint at ``model`` is, one line per aspect."""
    from ..checkpoints.adapter import open_model
    from ..checkpoints.layout import find_tokenizer
    from ..gqa import kv_cache_bytes

    args, weights, layout = open_model(model)
    if window is not None:
        args = args.replace(sliding_window=window)
    tok = find_tokenizer(model)
    files = sorted({t.path for t in weights.tensors.values()})
    on_disk = sum(Path(p).stat().st_size for p in files)
    n_params = sum(math.prod(t.shape) for name, t in weights.tensors.items()
                   if not (name == "output.weight" and t is weights.tensors.get("tok_embeddings.weight")))
    dtypes = sorted({t.dtype for t in weights.tensors.values()})
    kv_bytes = kv_cache_bytes(args.n_layers, args.n_kv_heads, args.head_dim,
                              args.sliding_window or args.context_len, 4)
    layouts = {"hf": "HF transformers (config.json + safetensors)",
               "native": "Mistral native (params.json + consolidated.safetensors)",
               "pth": "Mistral native (params.json + consolidated.00.pth, read without torch)",
               "gguf": "GGUF (llama.cpp), quantized blocks dequantized where they are used"}
    window_text = (f"{args.sliding_window} (sliding window attention{', from --window' if window else ''})"
                   if args.sliding_window else
                   "none in the file: full causal attention assumed (--window W sets one; 7B v0.1 used 4096)"
                   if layout == "gguf" else "none (full causal attention)")
    if layout == "adapter":
        layouts["adapter"] = adapter_layout(Path(model))
    print(f"checkpoint : {show(Path(model))}")
    print(f"layout     : {layouts[layout]}")
    print(f"files      : {', '.join(show(Path(p).name) for p in files)}")
    print(f"config     : dim={args.dim} n_layers={args.n_layers} head_dim={args.head_dim} "
          f"hidden_dim={args.hidden_dim} n_heads={args.n_heads} n_kv_heads={args.n_kv_heads} "
          f"vocab_size={args.vocab_size} norm_eps={args.norm_eps:g} rope_theta={args.rope_theta:g}")
    print(f"window     : {window_text}")
    print(f"parameters : {n_params:,} (config implies {args.n_params():,})")
    print(f"weights    : {human(weights.nbytes())} as {'/'.join(dtypes)}; {human(on_disk)} on disk, "
          f"memory-mapped (page cache, not copied)")
    print(f"est. RAM   : {human(weights.nbytes() + kv_bytes)} = {human(weights.nbytes())} mapped weights + "
          f"{human(kv_bytes)} float32 KV cache ({args.sliding_window or args.context_len} positions"
          f"{'' if args.sliding_window else ', grows with the text'}), plus pre-fill buffers")
    if layout == "gguf":            # the tokenizer is built from the file's vocabulary; its chat template is not run
        from ..checkpoints.gguf import describe

        for i, line in enumerate(describe(weights)):
            print(f"{'types' if i == 0 else '':<10} : {line}")
        print(f"tokenizer  : inside the GGUF file ({tok.vocab_size} pieces; chat as the "
              f"{'v3 template, [INST] a control token' if tok.inst_ids else 'v1 template, [INST] as text'})")
    else:
        print(f"tokenizer  : {f'{show(tok.path.name)} ({tok.vocab_size} pieces)' if tok else 'not found (no tokenizer.model)'}")
    return 0


def adapter_layout(directory) -> str:
    """The layout line of an adapter: what it changes, over which base."""
    from ..checkpoints.adapter import read_adapter_json, resolve_base

    meta = read_adapter_json(directory)
    rows = len(meta.get("embedding_rows") or [])
    return (f"minimistral adapter (adapter.json + adapter.safetensors): {len(meta['tensors'])} tensors"
            f"{f' and {rows} embedding rows' if rows else ''} changed by fine-tuning, over the base "
            f"{show(resolve_base(meta.get('base'), Path(directory)))}")


def add_options(p) -> None:
    from .text import add_window_option

    p.add_argument("--model", default=None, metavar="DIR",
                   help="checkpoint directory or GGUF file; default: the models that ship with minimistral")
    add_window_option(p)
