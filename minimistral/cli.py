"""The command line: the only place that prints, shows progress, or exits.

    minimistral demo                      the paper's sentence through the shipped trained model
    minimistral info --model DIR          what a checkpoint is: layout, config, size, RAM, tokenizer
    minimistral generate [--model DIR] --prompt TEXT    stream a continuation (default: the shipped model)
    minimistral chat --model DIR [--system TEXT | --guardrail]   multi-turn, rolling cache kept
    minimistral train --out DIR [--steps N --seed S ...]   train a tiny Mistral on generated stories

Errors a user can cause (MinimistralError) become one line on stderr and exit code 2;
anything else is a bug in minimistral: one line and exit code 1 (``--debug`` shows the traceback).
``main`` is the one place that meets the world outside (see ``run``): a reader that closes the
pipe (``| head -1``) ends the command quietly with 141 (128 + SIGPIPE, what a shell reports for
``yes | head -1``); a full disk or a dead terminal is one sentence and exit 2; warnings wait until
the command has produced output, so an error is never preceded by them; every message is
printed through textio.show, so no file or tensor name can put a control character on the terminal.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import warnings

from .errors import MinimistralError
from .textio import checked_text, show, terminal_safe

EXIT_PIPE = 128 + getattr(signal, "SIGPIPE", 13)   # 141: the reader closed our stdout pipe
WRITE_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EROFS, getattr(errno, "EDQUOT", errno.ENOSPC)}

_warnings: list[str] = []     # warnings held until the command produces output (see warn)


def say(message: str, kind: str = "error") -> None:
    """One line on stderr, 'minimistral: <kind>: message', escaped; a dead stderr is ignored."""
    try:
        print(f"minimistral: {kind}: {show(message)}", file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass


def warn(message: str) -> None:
    """A warning, printed only once the command has produced output (flush_warnings) or ended
    well: a command that fails prints its error alone, not warnings that led nowhere."""
    _warnings.append(message)


def flush_warnings() -> None:
    while _warnings:
        say(_warnings.pop(0), "warning")


def cmd_demo(opts) -> int:
    """Walk the paper's example sentence through the shipped trained model, printing each step."""
    import numpy as np

    from . import load_default
    from .sampling import softmax_with_temperature

    model = load_default()
    a, tok = model.args, model.tokenizer
    text = "The cat sat on the mat and saw the dog go to"
    ids = tok.encode(text)
    print(f"model      : minimistral's tiny trained Mistral (shipped in the package), {a.n_layers} layers, "
          f"D={a.dim}, H={a.n_heads}, K={a.n_kv_heads}, Hd={a.head_dim}, F={a.hidden_dim}, "
          f"W={a.sliding_window}, V={a.vocab_size}")
    print(f"prompt     : {text!r}")
    print(f"token ids  : {ids}  [T={len(ids)}]")
    print(f"pieces     : {[tok.piece(i) for i in ids]}")
    hidden = model.hidden_states(np.array(ids))
    print(f"embedding  : {hidden[0].shape}  [T, D]   (then one residual stream per block)")
    for i, h in enumerate(hidden[1:-1]):
        print(f"after block {i}: {h.shape}  [T, D]")
    print(f"after block {a.n_layers - 1}, final norm: {hidden[-1].shape}  [T, D]   (the last block's output, "
          f"RMS-normalised)")
    logits = model.forward(np.array(ids))
    print(f"logits     : {logits.shape} {logits.dtype}  [T, V]")
    print("what the model expected at each step (its top guess, then the probability it gave the "
          "word that came):")
    for t in range(1, len(ids)):
        probs = softmax_with_temperature(logits[t - 1], 1.0)               # [V]
        guess = int(probs.argmax())
        print(f"  {tok.decode(ids[1:t])!r:<44} -> {_shown(tok, guess):<10} "
              f"(p {probs[guess]:.2f}); came {_shown(tok, ids[t])} (p {probs[ids[t]]:.2f})")
    probs = softmax_with_temperature(logits[-1], 1.0)
    top = np.argsort(probs)[::-1][:5]
    print(f"next token : top 5 after {text!r}:")
    for i in top:
        print(f"  {_shown(tok, int(i)):<12} {probs[i]:.4f}" if probs[i] >= 1e-3 else
              f"  {_shown(tok, int(i)):<12} {probs[i]:.2e}")
    new = model.generate(ids, max_tokens=3 * a.sliding_window, temperature=0.0)
    print(f"greedy     : {tok.decode(ids + new)!r}")
    print(f"             ({len(new)} new tokens through the rolling buffer of W = {a.sliding_window} slots; "
          f"`minimistral generate --prompt TEXT` samples more)")
    return 0


def _shown(tok, token_id: int) -> str:
    """A piece as a reader should see it, quoted: '\u2581cat' -> "' cat'", '</s>' stays '</s>'."""
    return repr(tok.piece(token_id).replace("\u2581", " "))


def cmd_figures(opts) -> int:
    """Redraw the paper's figures from the modules' live data into --out (PNG files)."""
    from .figures import write_all
    from .figures_attention import write_all as write_attention

    for path in write_all(opts.out) + write_attention(opts.out):
        print(show(path))
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
    print(f"tokenizer  : {f'{show(tok.path.name)} ({tok.vocab_size} pieces)' if tok else 'not found (no tokenizer.model)'}")
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
    for name in ("prompt", "system"):                 # text in: one policy (textio.checked_text)
        if getattr(opts, name, None) is not None:
            setattr(opts, name, checked_text(getattr(opts, name), f"--{name}"))
    if opts.model is None:                  # generate without --model: the shipped trained model
        from . import DEFAULT_MODEL

        opts.model = str(DEFAULT_MODEL)
        say("no --model given: using the small story model that ships with minimistral (trained by "
            "`minimistral train`; it knows simple English stories, nothing else).", "note")
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
        warn(f"{n_tokens} tokens exceed the {a.context_len} positions this model "
             f"was trained on (no sliding window); expect the text to degrade.")


def stream_text(session, tokenizer, prompt_ids, opts, context=None, out=None):
    """Generate, writing text to `out` as produced; returns (new ids, prefill s, decode s).

    The text is decoded after `context` (default the prompt), so a continuation keeps its
    leading space; a chat answer passes context=() and starts at its first letter.
    """
    import time

    from .tokenizer import TextStream

    out = out if out is not None else sys.stdout
    text = TextStream(tokenizer, prompt_ids if context is None else context)
    shown = terminal_safe if getattr(out, "isatty", lambda: False)() else (lambda t: t)
    ids, start = [], time.perf_counter()
    first = None
    for token in session.stream(prompt_ids, max_tokens=opts.max_tokens, temperature=opts.temperature,
                                top_p=opts.top_p, seed=opts.seed, chunk_size=opts.chunk_size,
                                eos_id=tokenizer.eos_id, lookahead=opts.lookahead):
        if first is None:
            first = time.perf_counter()
            flush_warnings()
        ids.append(token)
        if token != tokenizer.eos_id:
            out.write(shown(text.add(token)))
            out.flush()
    out.write(shown(text.flush()))
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
    flush_warnings()
    print()
    print(f"prompt {len(prompt_ids)} tokens, pre-fill {rate(len(prompt_ids), prefill_s)}; "
          f"generated {len(ids)} tokens, decode {rate(len(ids) - 1, decode_s)}{drafts_summary(session, opts)}; "
          f"{memory_summary()}", file=sys.stderr)
    return 0


def cmd_chat(opts) -> int:
    """Multi-turn chat on stdin: the rolling cache is kept, each turn feeds only its new tokens."""
    from .tokenizer import GUARDRAIL_PROMPT

    if sys.stdin is None:
        raise MinimistralError("standard input is closed; chat reads your messages from it "
                               "(one per line).")
    model, tok = load_for_text(opts)
    system = GUARDRAIL_PROMPT if opts.guardrail else opts.system
    session = model.session()
    interactive = sys.stdin.isatty()
    print("chat: type a message and press Enter; an empty line or Ctrl-D ends.", file=sys.stderr)
    n_line = 0
    while True:
        if interactive:
            print("> ", end="", flush=True)
        n_line += 1
        line = read_line(sys.stdin, f"chat line {n_line} (standard input)")
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


def read_line(stream, what: str) -> str:
    """One line of text from a stream, under the text policy (textio.checked_text): bytes in the
    stream's own encoding (the terminal's, UTF-8 almost always), refused with one sentence if not."""
    import codecs

    try:
        raw = stream.buffer.readline() if hasattr(stream, "buffer") else stream.readline()
    except OSError as e:
        raise MinimistralError(f"cannot read standard input: {e.strerror}.") from None
    except UnicodeDecodeError as e:
        raw = e.object
    encoding = getattr(stream, "encoding", None) or "utf-8"
    if isinstance(raw, bytes) and codecs.lookup(encoding).name != "utf-8":
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            pass
    return checked_text(raw, what)


def add_model_options(p, chat: bool = False) -> None:
    if chat:
        p.add_argument("--model", required=True, metavar="DIR", help="checkpoint directory (HF or Mistral layout)")
    else:
        p.add_argument("--model", default=None, metavar="DIR",
                       help="checkpoint directory (HF or Mistral layout); default: the small story model "
                            "that ships with minimistral")
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


# ---- training (issue 11) ------------------------------------------------------------------------

def cmd_train(opts) -> int:
    """Train a small Mistral from scratch on the generated stories; a progress line on stderr."""
    import time

    from .train import TrainConfig, check_config, train

    fields = {f: getattr(opts, f) for f in TRAIN_OPTIONS}
    config = TrainConfig(**fields, dtype="F32" if opts.f32 else "BF16")
    check_config(config)
    live = sys.stderr.isatty()
    start = time.perf_counter()
    state = {"held": None}

    def progress(row):
        if row["heldout_loss"] is not None:
            state["held"] = row["heldout_loss"]
        done, total = row["step"], row["steps"]
        filled = 24 * done // total
        held = f"{state['held']:.3f}" if state["held"] is not None else "-"
        line = (f"training  [{'#' * filled}{'.' * (24 - filled)}]  step {done}/{total}  loss {row['loss']:.3f}"
                f"  held-out {held}  {row['tokens_per_s']:.0f} tok/s  {time.perf_counter() - start:.0f} s")
        if live:
            sys.stderr.write("\r" + line)
        elif row["heldout_loss"] is not None:       # a log file: one line per evaluation
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    result = train(config, opts.out, progress=progress)
    if live:
        sys.stderr.write("\n")
    last = result.log[-1]
    print(f"wrote {result.out_dir} (config.json, model.safetensors, tokenizer.model, train_log.jsonl); "
          f"final loss {last['loss']:.3f}, held-out {last['heldout_loss']:.3f} nats/token, "
          f"{last['elapsed_s'] / 60:.1f} min")
    return 0


# option -> (type, metavar, help); the defaults come from TrainConfig (the shipped model's recipe)
TRAIN_OPTIONS = {
    "steps": (int, "N", "optimiser steps"),
    "seed": (int, "S", "seed of the initial weights"),
    "batch": (int, "B", "sequences per step"),
    "seq_len": (int, "T", "tokens per sequence (longer than the window)"),
    "lr": (float, "LR", "peak learning rate"),
    "warmup": (int, "N", "steps of linear warm-up"),
    "min_lr_ratio": (float, "R", "the cosine decays to lr * R"),
    "weight_decay": (float, "WD", "AdamW's decoupled weight decay (not on norm gains)"),
    "clip": (float, "C", "clip the global gradient norm to C"),
    "dim": (int, "D", "model width"),
    "n_layers": (int, "L", "transformer blocks"),
    "n_heads": (int, "H", "query heads"),
    "n_kv_heads": (int, "K", "key/value heads (GQA)"),
    "head_dim": (int, "Hd", "features per head"),
    "hidden_dim": (int, "F", "feed-forward width"),
    "sliding_window": (int, "W", "attention window"),
    "eval_every": (int, "N", "held-out loss every N steps"),
    "eval_windows": (int, "N", "held-out windows of T tokens"),
    "checkpoint_every": (int, "N", "intermediate checkpoints in DIR/checkpoints every N steps (0: none)"),
    "corpus_seed": (int, "S", "seed of the story corpus"),
}


def add_train_options(p) -> None:
    from .train import TrainConfig

    defaults = TrainConfig()
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the checkpoint and the log")
    for name, (kind, metavar, text) in TRAIN_OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if name == "sliding_window":
            flag = "--window"
        p.add_argument(flag, dest=name, type=kind, default=getattr(defaults, name), metavar=metavar,
                       help=f"{text} (default {getattr(defaults, name)})")
    p.add_argument("--f32", action="store_true", help="store the weights as float32 (default bf16)")


COMMANDS = {
    "demo": (cmd_demo, "the paper's example sentence through the shipped trained model, step by step"),
    "figures": (cmd_figures, "redraw the paper's figures (masks, reach, GQA, rolling buffer, chunks) as PNGs"),
    "info": (cmd_info, "describe a checkpoint: layout, config, parameters, size, RAM, window, tokenizer"),
    "generate": (cmd_generate, "continue a prompt (default: the shipped story model), streaming the text"),
    "chat": (cmd_chat, "multi-turn chat with an instruct checkpoint ([INST] template), cache kept across turns"),
    "train": (cmd_train, "train a tiny Mistral in NumPy on generated stories, write an HF checkpoint"),
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
ADD_OPTIONS["train"] = add_train_options


def main(argv=None) -> int:
    parser = build_parser()
    try:
        opts = parser.parse_args(argv)
    except SystemExit as e:       # --help, or a bad option already reported in one line
        return e.code if isinstance(e.code, int) else 2
    if opts.command is None:
        parser.print_help()
        return 2
    return run(COMMANDS[opts.command][0], opts)


def run(command, opts) -> int:
    """Run one command; the one place that turns what went wrong into a line and an exit code."""
    _warnings.clear()
    if sys.stderr is None:                        # 2>&- : nowhere to write messages
        sys.stderr = open(os.devnull, "w")
    try:
        if sys.stdout is None:
            raise MinimistralError("standard output is closed; nowhere to write (redirect it to a "
                                   "file or /dev/null instead).")
        if getattr(opts, "model", None) == "":
            raise MinimistralError("--model is empty; pass the checkpoint directory.")
        with warnings.catch_warnings():
            # Python warnings (a library's) join ours: one line each, held like the others.
            warnings.showwarning = lambda message, category, *rest, **kw: warn(
                f"{category.__name__}: {message}")
            code = command(opts)
        sys.stdout.flush()                        # a full disk shows here for buffered output
        flush_warnings()
        return code
    except MinimistralError as e:
        if opts.debug:
            raise
        say(str(e))
        return 2
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, as cat or yes do, and keep Python from
        # complaining when it flushes stdout at exit.
        _silence_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        try:
            print("minimistral: interrupted.", file=sys.stderr)
        except (OSError, ValueError):
            pass
        return 130
    except OSError as e:
        if e.errno in WRITE_ERRNOS:
            if opts.debug:
                raise
            _silence_stdout()
            where = show(e.filename) if e.filename else "the standard output"
            say(f"cannot write to {where}: {e.strerror or os.strerror(e.errno)}.")
            return 2
        return _internal(e, opts)
    except Exception as e:  # a bug in minimistral, not the user's fault
        return _internal(e, opts)


def _internal(e: Exception, opts) -> int:
    if opts.debug:
        raise e
    say(f"internal error ({type(e).__name__}: {e}); rerun with --debug "
        f"for the traceback and please report it.")
    return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):     # not a real file (a test's capture)
        pass

if __name__ == "__main__":
    sys.exit(main())
