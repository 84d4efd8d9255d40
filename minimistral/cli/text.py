"""What `generate` and `chat` share: their options, loading a model for text, streaming it out."""

from __future__ import annotations

import sys

from ..errors import MinimistralError
from ..guards.textio import checked_text, terminal_safe
from .output import flush_warnings, say, warn


def load_with_progress(directory, window=None):
    """minimistral.load with a layer progress bar on stderr (the disk is read once, here)."""
    from .. import load
    from ..training.progress import ProgressBar

    bar = ProgressBar("loading", "layers")
    model = load(directory, progress=bar, sliding_window=window)
    bar.finish()
    return model


def warn_window(layout: str, args, window) -> None:
    """A GGUF file holds no sliding window (llama.cpp has none for this architecture): say that
    full attention is assumed, and how to set one."""
    if layout == "gguf" and window is None and args.sliding_window is None:
        warn("the GGUF file holds no sliding window: full causal attention assumed (Mistral 7B v0.1 "
             "was trained with a window of 4096: add --window 4096 for it; v0.2 and v0.3 use none).")


def load_for_text(opts):
    """Check the options and the tokenizer first (seconds), then load the weights (minutes cold)."""
    from pathlib import Path

    from ..checkpoints.layout import detect_layout, find_tokenizer
    from ..generation import check_options
    from ..speculative import check_lookahead

    check_options(opts.max_tokens, opts.temperature, opts.top_p, opts.seed, opts.chunk_size)
    check_window(opts.window)
    for name in ("prompt", "system"):                 # text in: one policy (textio.checked_text)
        if getattr(opts, name, None) is not None:
            setattr(opts, name, checked_text(getattr(opts, name), f"--{name}"))
    if opts.model is None:                  # no --model: a model that ships with minimistral
        opts.model = str(shipped_model(chat=hasattr(opts, "guardrail")))
    check_lookahead(opts.lookahead)
    layout = detect_layout(Path(opts.model))
    if find_tokenizer(opts.model) is None:
        raise MinimistralError(f"{opts.model} has no tokenizer.model; copy it next to the weights "
                               f"(it is in the same download).")
    model = load_with_progress(opts.model, opts.window)
    warn_window(layout, model.args, opts.window)
    return model, model.tokenizer


STORY_NOTE = ("the small story model that ships with minimistral (trained by `minimistral train`; it "
              "knows simple English stories, nothing else)")
INSTRUCT_NOTE = ("the small instruct model that ships with minimistral (the story model fine-tuned by "
                 "`minimistral finetune` to answer questions about short stories; nothing else)")


def shipped_model(chat: bool = False):
    """The directory of the shipped model a command uses without --model, said in a note on stderr:
    the story model; for chat the instruct model when one ships (minimistral.default_chat_model)."""
    from .. import DEFAULT_MODEL, default_chat_model

    if not chat:
        say(f"no --model given: using {STORY_NOTE}.", "note")
        return DEFAULT_MODEL
    directory, kind = default_chat_model()
    if kind == "instruct":
        say(f"no --model given: using {INSTRUCT_NOTE}.", "note")
    else:
        say(f"no --model given: using {STORY_NOTE}; no instruct model ships yet, so it continues the "
            f"[INST] template as a story rather than answering.", "note")
    return directory


def warn_past_context(model, n_tokens: int) -> None:
    """Without a window, positions past the config's context length are extrapolation: warn on stderr."""
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

    from ..tokenizer import TextStream

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


def drafts_summary(session, opts) -> str:
    """With --lookahead: how many draft tokens the model accepted, e.g. '; drafts 12/30 accepted'."""
    st = session.stats
    return f"; drafts {st['accepted']}/{st['drafted']} accepted" if opts.lookahead else ""


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


def check_window(window) -> None:
    from ..guards.values import whole_number

    if window is not None:
        whole_number(window, "--window", 1, unit="tokens")


def add_window_option(p) -> None:
    p.add_argument("--window", type=int, default=None, metavar="W",
                   help="sliding window W in tokens, replacing the checkpoint's (GGUF files hold none)")


def add_model_options(p, chat: bool = False) -> None:
    if chat:
        p.add_argument("--model", default=None, metavar="DIR",
                       help="checkpoint directory (HF or Mistral layout, or a fine-tuning's adapter) or GGUF "
                            "file; default: the instruct model that ships with minimistral, or the story "
                            "model while none ships")
    else:
        p.add_argument("--model", default=None, metavar="DIR",
                       help="checkpoint directory (HF or Mistral layout) or GGUF file; default: the small "
                            "story model that ships with minimistral")
    add_window_option(p)
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
