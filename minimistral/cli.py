"""The command line: the only place that prints, shows progress, or exits.

    minimistral demo                      a forward pass of a tiny built-in model, shapes printed
    minimistral info --model DIR          what a checkpoint is: layout, config, size, RAM, tokenizer
    minimistral generate --model DIR --prompt TEXT      stream a continuation
    minimistral chat --model DIR [--system TEXT | --guardrail]   multi-turn, rolling cache kept

Errors a user can cause (MinimistralError) become one line on stderr and exit code 2;
anything else is a bug in minimistral: one line and exit code 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys

from .errors import MinimistralError


def cmd_demo(opts) -> int:
    """Run the paper's example sentence through the tiny built-in model, printing each shape."""
    import numpy as np

    from .demo import tiny_model

    model = tiny_model()
    a = model.args
    text = "The cat sat on the mat and saw the dog go to"
    ids = model.tokenizer.encode(text)
    print(f"model      : tiny random Mistral, {a.n_layers} layers, D={a.dim}, H={a.n_heads}, "
          f"K={a.n_kv_heads}, Hd={a.head_dim}, F={a.hidden_dim}, W={a.sliding_window}, V={a.vocab_size}")
    print(f"prompt     : {text!r}")
    print(f"token ids  : {ids}  [T={len(ids)}]")
    print(f"pieces     : {[model.tokenizer.piece(i) for i in ids]}")
    hidden = model.hidden_states(np.array(ids))
    print(f"embedding  : {hidden[0].shape}  [T, D]   (then one residual stream per block)")
    for i, h in enumerate(hidden[1:-1]):
        print(f"after block {i}: {h.shape}  [T, D]")
    print(f"after block {a.n_layers - 1} + final RMSNorm: {hidden[-1].shape}  [T, D]")
    logits = model.forward(np.array(ids))
    print(f"logits     : {logits.shape} {logits.dtype}  [T, V]")
    print(f"next token : {int(logits[-1].argmax())} (random weights: the text is meaningless)")
    return 0


def cmd_figures(opts) -> int:
    """Redraw the paper's figures from the modules' live data into --out (PNG files)."""
    from .figures import write_all

    for path in write_all(opts.out):
        print(path)
    return 0


def add_figures_options(p) -> None:
    p.add_argument("--out", default="figures", metavar="DIR", help="directory for the PNG files (default: figures/)")


# ---- running a checkpoint: info, generate, chat (issue 4) ----------------------------------------

def load_with_progress(directory):
    """minimistral.load with a layer progress bar on stderr (the disk is read once, here)."""
    from . import load
    from .progress import ProgressBar

    bar = ProgressBar("loading", "layers")
    model = load(directory, progress=bar)
    bar.finish()
    return model


def memory_summary() -> str:
    """Peak resident memory, and now: anonymous (our arrays) vs file-backed (mapped weights)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20      # KiB -> GiB (Linux)
    status = {}
    try:
        with open("/proc/self/status") as f:
            status = {k: int(v.split()[0]) / 2**20 for k, v in (line.split(":", 1) for line in f)
                      if k in ("RssAnon", "RssFile")}
    except (OSError, ValueError):
        pass
    parts = [f"peak RSS {peak:.2f} GiB"]
    if status:
        parts.append(f"now {status.get('RssAnon', 0):.2f} GiB anonymous + "
                     f"{status.get('RssFile', 0):.2f} GiB mapped weights")
    return ", ".join(parts)


def human(nbytes: float) -> str:
    """1.5e9 -> '1.50 GB', 2.5e6 -> '2.5 MB'."""
    return f"{nbytes / 1e9:.2f} GB" if nbytes >= 1e9 else f"{nbytes / 1e6:.1f} MB"


def cmd_info(opts) -> int:
    """Describe a checkpoint directory without running it."""
    from pathlib import Path

    from . import _find_tokenizer
    from .checkpoint import open_checkpoint

    args, weights, layout = open_checkpoint(opts.model)
    tok = _find_tokenizer(opts.model)
    files = sorted({t.path for t in weights.tensors.values()})
    on_disk = sum(Path(p).stat().st_size for p in files)
    n_params = sum(int(t.raw.size) for name, t in weights.tensors.items()
                   if not (name == "output.weight" and t is weights.tensors.get("tok_embeddings.weight")))
    dtypes = sorted({t.dtype for t in weights.tensors.values()})
    kv_bytes = 2 * args.n_layers * (args.sliding_window or args.context_len) * args.n_kv_heads * args.head_dim * 4
    layouts = {"hf": "HF transformers (config.json + safetensors)",
               "native": "Mistral native (params.json + consolidated.safetensors)",
               "pth": "Mistral native (params.json + consolidated.00.pth, read without torch)"}
    window = (f"{args.sliding_window} (sliding window attention)" if args.sliding_window
              else "none (full causal attention)")
    print(f"checkpoint : {Path(opts.model)}")
    print(f"layout     : {layouts[layout]}")
    print(f"files      : {', '.join(Path(p).name for p in files)}")
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
    print(f"tokenizer  : {f'{tok.path.name} ({tok.vocab_size} pieces)' if tok else 'not found (no tokenizer.model)'}")
    return 0


def add_info_options(p) -> None:
    p.add_argument("--model", required=True, metavar="DIR", help="checkpoint directory")


def load_for_text(opts):
    """Check the options and the tokenizer first (seconds), then load the weights (minutes cold)."""
    from pathlib import Path

    from . import _find_tokenizer
    from .checkpoint import detect_layout
    from .generation import check_options
    from .speculative import check_lookahead

    check_options(opts.max_tokens, opts.temperature, opts.top_p, opts.seed, opts.chunk_size)
    check_lookahead(opts.lookahead)
    detect_layout(Path(opts.model))
    if _find_tokenizer(opts.model) is None:
        raise MinimistralError(f"{opts.model} has no tokenizer.model; copy it next to the weights "
                               f"(it is in the same download).")
    model = load_with_progress(opts.model)
    return model, model.tokenizer


def warn_past_context(model, n_tokens: int) -> None:
    """Without a window, positions past the trained context are extrapolation: warn on stderr."""
    a = model.args
    if a.sliding_window is None and n_tokens > a.context_len:
        print(f"minimistral: warning: {n_tokens} tokens exceed the {a.context_len} positions this model "
              f"was trained on (no sliding window); expect the text to degrade.", file=sys.stderr)


def stream_text(session, tokenizer, prompt_ids, opts, context=None, out=None):
    """Generate, writing text to `out` as produced; returns (new ids, prefill s, decode s).

    The text is decoded after `context` (default the prompt), so a continuation keeps its
    leading space; a chat answer passes context=() and starts at its first letter.
    """
    import time

    from .tokenizer import TextStream

    out = out if out is not None else sys.stdout
    text = TextStream(tokenizer, prompt_ids if context is None else context)
    ids, start = [], time.perf_counter()
    first = None
    for token in session.stream(prompt_ids, max_tokens=opts.max_tokens, temperature=opts.temperature,
                                top_p=opts.top_p, seed=opts.seed, chunk_size=opts.chunk_size,
                                eos_id=tokenizer.eos_id, lookahead=opts.lookahead):
        if first is None:
            first = time.perf_counter()
        ids.append(token)
        if token != tokenizer.eos_id:
            out.write(text.add(token))
            out.flush()
    out.write(text.flush())
    end = time.perf_counter()
    first = first or end
    return ids, first - start, end - first


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:.2f} tok/s" if seconds > 0 and n else "-"


def drafts_summary(session, opts) -> str:
    """With --lookahead: how many draft tokens the model accepted, e.g. '; drafts 12/30 accepted'."""
    st = session.stats
    return f"; drafts {st['accepted']}/{st['drafted']} accepted" if opts.lookahead else ""


def cmd_generate(opts) -> int:
    """Continue a prompt, streaming the text, then one summary line on stderr."""
    model, tok = load_for_text(opts)
    prompt_ids = tok.encode(opts.prompt)
    warn_past_context(model, len(prompt_ids) + opts.max_tokens)
    session = model.session()
    ids, prefill_s, decode_s = stream_text(session, tok, prompt_ids, opts)
    print()
    print(f"prompt {len(prompt_ids)} tokens, pre-fill {rate(len(prompt_ids), prefill_s)}; "
          f"generated {len(ids)} tokens, decode {rate(len(ids) - 1, decode_s)}{drafts_summary(session, opts)}; "
          f"{memory_summary()}", file=sys.stderr)
    return 0


def cmd_chat(opts) -> int:
    """Multi-turn chat on stdin: the rolling cache is kept, each turn feeds only its new tokens."""
    from .tokenizer import GUARDRAIL_PROMPT

    model, tok = load_for_text(opts)
    system = GUARDRAIL_PROMPT if opts.guardrail else opts.system
    session = model.session()
    interactive = sys.stdin.isatty()
    print("chat: type a message and press Enter; an empty line or Ctrl-D ends.", file=sys.stderr)
    while True:
        if interactive:
            print("> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line.strip():
            break
        user = line.rstrip("\n")
        if session.position == 0:
            new = tok.encode_chat(([{"role": "system", "content": system}] if system else [])
                                  + [{"role": "user", "content": user}])
        else:
            # The session still holds the answer's last token, unfed (generation.py). The template
            # closes an answer with </s>: add it if the answer was cut by --max-tokens.
            closed = session.pending[-1:] == [tok.eos_id]
            new = ([] if closed else [tok.eos_id]) + tok.encode_user_turn(user)
        prefilled, cached = len(session.pending) + len(new), session.cache.length
        warn_past_context(model, session.position + len(new) + opts.max_tokens)
        try:
            ids, prefill_s, decode_s = stream_text(session, tok, new, opts, context=())
        except KeyboardInterrupt:
            # Ctrl-C stops this answer, not the chat: the cache rolled back to its last complete
            # pass, and what was chosen stays in the session (the next turn closes it with </s>).
            print("\n[answer interrupted; Ctrl-C at the prompt quits]", file=sys.stderr, flush=True)
            continue
        print(flush=True)
        print(f"[turn: {prefilled} new tokens pre-filled ({rate(prefilled, prefill_s)}) after "
              f"{cached} cached; {len(ids)} generated "
              f"({rate(len(ids) - 1, decode_s)}); {session.position} tokens in the conversation]",
              file=sys.stderr)
    return 0


def add_model_options(p, chat: bool = False) -> None:
    p.add_argument("--model", required=True, metavar="DIR", help="checkpoint directory (HF or Mistral layout)")
    if not chat:
        p.add_argument("--prompt", required=True, help="text to continue (empty: start from <s>)")
    p.add_argument("--max-tokens", type=int, default=256 if chat else 64, metavar="N",
                   help=f"stop after N new tokens, or at </s> (default {256 if chat else 64})")
    p.add_argument("--temperature", type=float, default=0.7, metavar="T", help="0 = greedy (default 0.7)")
    p.add_argument("--top-p", type=float, default=0.9, metavar="P", help="nucleus sampling mass (default 0.9)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed for sampling (default 0)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="C",
                   help="pre-fill the prompt C tokens at a time (default: the window W)")
    p.add_argument("--lookahead", type=int, default=0, metavar="K",
                   help="speculative decoding: check up to K tokens guessed from the text itself in one "
                        "pass; same output (greedy) or distribution (sampled); 0 = off (default 0)")
    if chat:
        system = p.add_mutually_exclusive_group()
        system.add_argument("--system", default=None, metavar="TEXT", help="a system prompt")
        system.add_argument("--guardrail", action="store_true",
                            help="use the paper's guardrail system prompt (section 5.1)")


COMMANDS = {
    "demo": (cmd_demo, "forward pass of a tiny built-in model on the paper's example sentence"),
    "figures": (cmd_figures, "redraw the paper's figures (masks, reach, GQA, rolling buffer, chunks) as PNGs"),
    "info": (cmd_info, "describe a checkpoint: layout, config, parameters, size, RAM, window, tokenizer"),
    "generate": (cmd_generate, "continue a prompt with a checkpoint, streaming the text"),
    "chat": (cmd_chat, "multi-turn chat with an instruct checkpoint ([INST] template), cache kept across turns"),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr (no usage dump) and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help).\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="minimistral", description="Mistral 7B in pure NumPy.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        add_options = ADD_OPTIONS.get(name)
        if add_options:
            add_options(p)
    return parser


ADD_OPTIONS: dict = {}   # command name -> function(parser) adding its options
ADD_OPTIONS["figures"] = add_figures_options
ADD_OPTIONS["info"] = add_info_options
ADD_OPTIONS["generate"] = add_model_options
ADD_OPTIONS["chat"] = lambda p: add_model_options(p, chat=True)


def main(argv=None) -> int:
    parser = build_parser()
    try:
        opts = parser.parse_args(argv)
    except SystemExit as e:       # --help, or a bad option already reported in one line
        return e.code if isinstance(e.code, int) else 2
    if opts.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[opts.command][0](opts)
    except MinimistralError as e:
        if opts.debug:
            raise
        print(f"minimistral: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minimistral: interrupted.", file=sys.stderr)
        return 130
    except Exception as e:  # a bug in minimistral, not the user's fault
        if opts.debug:
            raise
        print(f"minimistral: internal error ({type(e).__name__}: {e}); rerun with --debug "
              f"for the traceback and please report it.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
