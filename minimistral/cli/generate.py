"""`minimistral generate`: continue a prompt, streaming the text (default: the shipped model)."""

from __future__ import annotations

import sys

from .output import flush_warnings, memory_summary, rate
from .text import (
    add_model_options,
    drafts_summary,
    load_for_text,
    stream_text,
    warn_past_context,
)


def run(opts) -> int:
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


def add_options(p) -> None:
    add_model_options(p)
