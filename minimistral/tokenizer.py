"""The Mistral tokenizer: SentencePiece BPE, 32000 pieces, <s> = 1, </s> = 2 (reference §6).

    Tokenizer(path).encode("Hello world")  ->  [1, 22557, 1526]      (<s> Hello ▁world)
"""

from __future__ import annotations

from pathlib import Path

from .errors import MinimistralError


class Tokenizer:
    """A sentencepiece model file, with BOS/EOS ids and exact encode/decode."""

    def __init__(self, path):
        import sentencepiece

        self.path = Path(path)
        if not self.path.is_file():
            raise MinimistralError(f"tokenizer file {self.path} does not exist.")
        self.sp = sentencepiece.SentencePieceProcessor()
        try:
            ok = self.sp.Load(str(self.path))
        except (OSError, RuntimeError):
            ok = False
        if not ok:
            raise MinimistralError(f"{self.path} is not a sentencepiece tokenizer model; re-download it.")
        self.bos_id, self.eos_id = self.sp.bos_id(), self.sp.eos_id()
        self.vocab_size = self.sp.get_piece_size()

    def encode(self, text: str, bos: bool = True, eos: bool = False) -> list[int]:
        ids = self.sp.encode(text)
        return ([self.bos_id] if bos else []) + ids + ([self.eos_id] if eos else [])

    def decode(self, ids) -> str:
        """Text for ids; control tokens (<s>, </s>) are dropped by sentencepiece, never stripped by hand."""
        return self.sp.decode([int(i) for i in ids])

    def piece(self, token_id: int) -> str:
        """The vocabulary piece of one id, e.g. 5255 -> '▁cat' (for labels in figures)."""
        return self.sp.id_to_piece(int(token_id))
