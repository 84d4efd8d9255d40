"""`minimistral chat`: multi-turn chat on stdin, the rolling cache kept across turns."""

from __future__ import annotations

import sys

from ..errors import MinimistralError
from .output import rate
from .text import (
    add_model_options,
    load_for_text,
    read_line,
    stream_text,
    warn_past_context,
)


def run(opts) -> int:
    """Multi-turn chat on stdin: the rolling cache is kept, each turn feeds only its new tokens."""
    from ..tokenizer import GUARDRAIL_PROMPT

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


def add_options(p) -> None:
    add_model_options(p, chat=True)
