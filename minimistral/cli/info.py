"""`minimistral info`: what a checkpoint is, without running it."""

from __future__ import annotations

import math

from ..guards.textio import show
from .output import human
from .text import check_window


def run(opts) -> int:
    """Describe a checkpoint directory without running it."""
    from pathlib import Path

    from ..checkpoints.layout import find_tokenizer, open_checkpoint
    from ..gqa import kv_cache_bytes

    check_window(opts.window)
    args, weights, layout = open_checkpoint(opts.model)
    if opts.window is not None:
        args = args.replace(sliding_window=opts.window)
    tok = find_tokenizer(opts.model)
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
    window = (f"{args.sliding_window} (sliding window attention{', from --window' if opts.window else ''})"
              if args.sliding_window else
              "none in the file: full causal attention assumed (--window W sets one; 7B v0.1 used 4096)"
              if layout == "gguf" else "none (full causal attention)")
    print(f"checkpoint : {show(Path(opts.model))}")
    print(f"layout     : {layouts[layout]}")
    print(f"files      : {', '.join(show(Path(p).name) for p in files)}")
    print(f"config     : dim={args.dim} n_layers={args.n_layers} head_dim={args.head_dim} "
          f"hidden_dim={args.hidden_dim} n_heads={args.n_heads} n_kv_heads={args.n_kv_heads} "
          f"vocab_size={args.vocab_size} norm_eps={args.norm_eps:g} rope_theta={args.rope_theta:g}")
    print(f"window     : {window}")
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


def add_options(p) -> None:
    from .text import add_window_option

    p.add_argument("--model", required=True, metavar="DIR", help="checkpoint directory or GGUF file")
    add_window_option(p)
