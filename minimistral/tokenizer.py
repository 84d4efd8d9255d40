"""The Mistral tokenizer: SentencePiece BPE, 32000 pieces, <s> = 1, </s> = 2 (reference §6).

    Tokenizer(path).encode("Hello world")  ->  [1, 22557, 1526]      (<s> ▁Hello ▁world)

The instruct models were trained on the v1 chat template (reference §6):

    <s>[INST] {user} [/INST] {answer}</s>[INST] {user} [/INST]

Each message is encoded *on its own* by SentencePiece, which adds its "dummy prefix" space, so
"[INST]" always starts with the piece "▁[" and an answer's first word carries its "▁". A system
prompt is not a turn of its own: it goes in front of the first user message, then a blank line.

Later tokenizers (``tokenizer.model.v3`` of Instruct v0.3) have [INST] and [/INST] as control
tokens (ids 3 and 4) and mistral-common puts the system prompt before the *last* user message:

    <s>[INST]▁{user}[/INST]▁{answer}</s>[INST]▁{system}\n\n{user}[/INST]
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import MinimistralError
from .guards.files import read_small
from .guards.textio import checked_text, show
from .guards.values import is_whole, shown

SHIPPED_TOKENIZER = Path(__file__).parent / "data" / "tokenizer.model"   # Mistral 7B v0.1's own
MAX_TOKENIZER_BYTES = 64 * 2**20       # tokenizer.model is 0.5 to 2 MB in every release

# Paper section 5.1 (docs/mistral-7b.md §4), verbatim: the system prompt of `--guardrail`.
GUARDRAIL_PROMPT = ("Always assist with care, respect, and truth. Respond with utmost utility yet "
                    "securely. Avoid harmful, unethical, prejudiced, or negative content. Ensure replies "
                    "promote fairness and positivity.")

ROLES = ("system", "user", "assistant")


class Tokenizer:
    """A sentencepiece model file, with BOS/EOS ids, exact encode/decode and the chat template."""

    def __init__(self, path, proto: bytes | None = None):
        """From a tokenizer.model file, or from ``proto``, its bytes built elsewhere (a GGUF file's
        vocabulary, checkpoints/gguf_vocab.py), with ``path`` naming where they came from."""
        import sentencepiece

        if not isinstance(path, (str, os.PathLike)):
            raise MinimistralError(f"the tokenizer path must be a file name, got {type(path).__name__}.")
        self.path = Path(path)
        # Read through guards/files.py (a FIFO or a directory gets a sentence, not a hang), then hand
        # sentencepiece the bytes: no path encoding issues with names that are not UTF-8.
        if proto is None:
            proto = read_small(self.path, MAX_TOKENIZER_BYTES, "tokenizer file")
        self.sp = sentencepiece.SentencePieceProcessor()
        try:
            ok = self.sp.LoadFromSerializedProto(proto)
        except (OSError, RuntimeError, TypeError):
            ok = False
        if not ok or self.sp.get_piece_size() < 1:
            raise MinimistralError(f"{show(self.path)} is not a sentencepiece tokenizer model; re-download it.")
        self.bos_id, self.eos_id = self.sp.bos_id(), self.sp.eos_id()
        self.vocab_size = self.sp.get_piece_size()
        inst = [self.sp.piece_to_id(p) for p in ("[INST]", "[/INST]")]
        # (begin, end) control ids in v2/v3 tokenizers; None for v1, where [INST] is plain text
        self.inst_ids = tuple(inst) if all(self.sp.is_control(i) for i in inst) else None

    def encode(self, text: str, bos: bool = True, eos: bool = False) -> list[int]:
        """Token ids of text, with <s> in front unless bos=False. Text like "<s>" is plain text.

        Text must be valid Unicode (textio.checked_text: bytes must be UTF-8, no lone surrogates).
        """
        ids = self.sp.encode(checked_text(text, "the text to encode"))
        return ([self.bos_id] if bos else []) + ids + ([self.eos_id] if eos else [])

    def decode(self, ids) -> str:
        """Text for ids; control tokens (<s>, </s>) are dropped by sentencepiece, never stripped by hand."""
        return self.sp.decode(self.checked_ids(ids))

    def piece(self, token_id: int) -> str:
        """The vocabulary piece of one id, e.g. 5255 -> '▁cat' (for labels in figures)."""
        return self.sp.id_to_piece(self.checked_ids([token_id])[0])

    def checked_ids(self, ids) -> list[int]:
        """ids as a list of Python ints in [0, vocab_size), else MinimistralError saying which."""
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
            raise MinimistralError(f"token ids must be a sequence of integers, got {type(ids).__name__}.")
        out = []
        for i in ids:
            if not is_whole(i):
                raise MinimistralError(f"token ids must be integers, got {shown(i)}.")
            if not 0 <= i < self.vocab_size:
                raise MinimistralError(f"token id {shown(int(i))} is outside this tokenizer's {self.vocab_size} "
                                       f"pieces (0..{self.vocab_size - 1}); was it made by another model?")
            out.append(int(i))
        return out

    # ---- the v1 instruct template ---------------------------------------------------------------

    def encode_user_turn(self, content: str, system: str | None = None) -> list[int]:
        """'[INST] {system}\\n\\n{content} [/INST]' without <s>: one user turn.

            encode_user_turn("Hi")  ->  ▁[ INST ] ▁Hi ▁[ / INST ]
        """
        content = checked_text(content, "the user message")
        if system:
            content = checked_text(system, "the system prompt") + "\n\n" + content
        if self.inst_ids:
            return [self.inst_ids[0]] + self.encode(content, bos=False) + [self.inst_ids[1]]
        return self.encode(f"[INST] {content} [/INST]", bos=False)

    def encode_answer(self, content: str) -> list[int]:
        """An assistant turn: its text, then </s>."""
        return self.encode(content, bos=False, eos=True)

    def encode_chat(self, messages) -> list[int]:
        """Token ids of a conversation in the instruct template, ready for the model to answer.

        messages: [{"role": "system" | "user" | "assistant", "content": str}, ...]. As
        mistral-common does: system messages are joined into one system prompt put before the
        first user message (v1; the last one with v3's control tokens); consecutive messages of
        one role are joined by a blank line.

            [{"role": "user", "content": "Hi"}]  ->  <s>[INST] Hi [/INST]
        """
        system, turns = normalize_chat(messages)
        system_turn = len(turns) - 1 if self.inst_ids else 0     # v3: the last user turn; v1: the first
        ids = [self.bos_id]
        for i, (role, content) in enumerate(turns):
            if role == "user":
                ids += self.encode_user_turn(content, system if i == system_turn else None)
            else:
                ids += self.encode_answer(content)
        return ids


def normalize_chat(messages) -> tuple[str | None, list[tuple[str, str]]]:
    """(system prompt, [(role, content)] starting and ending with a user turn), as mistral-common.

    Directly consecutive messages of one role merge with a blank line; a system message between
    two user messages keeps them apart (two [INST] blocks in a row).
    """
    if not isinstance(messages, (list, tuple)):
        raise MinimistralError("messages must be a list of {'role': ..., 'content': ...} dictionaries.")
    if not messages:                      # mistral-common: "must have at least one message"
        raise MinimistralError("the conversation is empty; give at least one message, e.g. "
                               "[{'role': 'user', 'content': 'Hi'}].")
    systems, turns, previous = [], [], None
    for m in messages:
        role, content = (m.get("role"), m.get("content")) if isinstance(m, dict) else (None, None)
        if role not in ROLES or not isinstance(content, str):
            raise MinimistralError(f"each message needs a role in {ROLES} and a string content; got {shown(m)}.")
        if role == "system":
            if any(r == "assistant" for r, _ in turns):
                raise MinimistralError("a system message must come before the first assistant message.")
            systems.append(content)
        elif previous == role:            # only directly consecutive messages merge
            turns[-1] = (role, turns[-1][1] + "\n\n" + content)
        else:
            turns.append((role, content))
        previous = role
    if not turns or turns[0][0] != "user":
        turns.insert(0, ("user", ""))
    if turns[-1][0] != "user":
        raise MinimistralError("the last message must be from the user: the model answers it.")
    return ("\n\n".join(systems) if systems else None), turns


class TextStream:
    """Turns generated ids into text piece by piece, exactly as decoding them all at once would.

    SentencePiece drops the space of a text's first "▁word", and one character may span several
    byte tokens (<0xE6> <0x97> <0xA5> = "日"). So we decode the new ids behind a few ids of
    context and print only what is new and complete:

        context [▁the] + [▁cat]   ->  decode "the cat" minus "the"  ->  " cat"
        [<0xE6>] -> "\\ufffd" held back; [<0xE6> <0x97> <0xA5>] -> "日"
    """

    def __init__(self, tokenizer: Tokenizer, context=()):
        self.tok = tokenizer
        anchor = [int(i) for i in context if int(i) not in (tokenizer.bos_id, tokenizer.eos_id)][-4:]
        self.anchor = anchor
        self.ids: list[int] = []
        self.printed = len(tokenizer.decode(anchor))

    def add(self, token_id: int) -> str:
        """Text completed by one more id ('' while a multi-byte character is incomplete)."""
        self.ids.append(int(token_id))
        text = self.tok.decode(self.anchor + self.ids)
        if text.endswith("\ufffd"):
            return ""
        new, self.printed = text[self.printed:], len(text)
        return new

    def flush(self) -> str:
        """Whatever is still held back at the end (an incomplete character, shown as \\ufffd)."""
        text = self.tok.decode(self.anchor + self.ids)
        new, self.printed = text[self.printed:], len(text)
        return new
