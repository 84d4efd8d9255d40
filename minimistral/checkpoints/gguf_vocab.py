"""The tokenizer inside a GGUF file, as a SentencePiece model: built from the file's metadata
(reading), and the metadata taken from a SentencePiece model (quantize.py, writing).

A llama-style GGUF carries its vocabulary as three parallel arrays, one entry per token id:

    tokenizer.ggml.tokens      ["<unk>", "<s>", "</s>", "<0x00>", ..., "▁the", ...]
    tokenizer.ggml.scores      [0.0, 0.0, 0.0, 0.0, ..., -1000000000.0, ...]  (BPE merge priority)
    tokenizer.ggml.token_type  [2, 3, 3, 6, ..., 1, ...]  1 normal, 2 unknown, 3 control,
                                                          4 user-defined, 5 unused, 6 byte

which are exactly the pieces of SentencePiece's model file (its token types use the same
numbers). So we write that file back: a ``ModelProto`` message in protobuf's wire format, by
hand (a few lines; protobuf is not needed), and hand it to sentencepiece, which then encodes
and decodes exactly as with Mistral's own tokenizer.model (tests/checkpoints/test_gguf.py
checks ids against mistral-common's). A protobuf field is a key varint (field number << 3 |
wire type) and a value: a varint (0), a 4-byte float (5) or a length-prefixed string or nested
message (2). One piece, "▁the" with score -1.5, normal type:

    0a 0d                    field 1 (pieces), a message of 13 bytes:
       0a 06 e2 96 81 74 68 65      field 1, the 6 UTF-8 bytes of "▁the"
       15 00 00 c0 bf               field 2, float -1.5
       18 01                        field 3, varint 1 (NORMAL)

The rest of the file is the settings Mistral's tokenizers all use (read from their
tokenizer.model files): BPE, byte fallback, whitespace-only pieces allowed, the "identity"
normalizer with a dummy prefix space and without collapsing spaces.
"""

from __future__ import annotations

import struct

BPE = 2                                      # TrainerSpec.model_type
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1                       # negative int32/int64: two's complement, 10 bytes
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _int(field: int, n: int) -> bytes:
    return _varint(field << 3) + _varint(n)


def _bytes(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _float(field: int, x: float) -> bytes:
    return _varint(field << 3 | 5) + struct.pack("<f", x)


def sentencepiece_proto(tokens: list[str], scores: list[float], types: list[int], unk_id: int,
                        bos_id: int, eos_id: int, add_space_prefix: bool = True) -> bytes:
    """A serialized SentencePiece ModelProto for this vocabulary (field numbers: sentencepiece's
    sentencepiece_model.proto)."""
    pieces = b"".join(_bytes(1, _bytes(1, t.encode("utf-8")) + _float(2, s) + _int(3, k))
                      for t, s, k in zip(tokens, scores, types))
    trainer = b"".join([
        _int(3, BPE), _int(4, len(tokens)),
        _int(24, 0),                         # treat_whitespace_as_suffix: no, "▁" starts a word
        _int(26, 1),                         # allow_whitespace_only_pieces ("▁▁▁▁" is one token)
        _int(35, 1),                         # byte_fallback: unknown characters become <0xNN> bytes
        _int(40, unk_id), _int(41, bos_id), _int(42, eos_id), _int(43, -1),   # no padding token
        _bytes(45, tokens[unk_id].encode()), _bytes(46, tokens[bos_id].encode()),
        _bytes(47, tokens[eos_id].encode()),
    ])
    normalizer = b"".join([
        _bytes(1, b"identity"),              # no Unicode normalization
        _int(3, int(add_space_prefix)),      # add_dummy_prefix: "Hello" is encoded as "▁Hello"
        _int(4, 0),                          # remove_extra_whitespaces: no, spaces are kept
        _int(5, 1),                          # escape_whitespaces: " " is written "▁"
    ])
    return pieces + _bytes(2, trainer) + _bytes(3, normalizer)


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        byte = data[i]
        n, i, shift = n | (byte & 0x7F) << shift, i + 1, shift + 7
        if byte < 0x80:
            return n, i


def piece_types(proto: bytes) -> list[int]:
    """The type of every piece of a serialized ModelProto (field 1, and its field 3; absent means
    NORMAL): the one thing sentencepiece's Python API does not tell (user-defined pieces)."""
    types, i = [], 0
    while i < len(proto):
        key, i = _read_varint(proto, i)
        wire = key & 7
        if wire == 0:
            _, i = _read_varint(proto, i)
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:                                                   # length-delimited (wire type 2)
            n, i = _read_varint(proto, i)
            if key >> 3 == 1:                                   # a piece: find its type field
                kind, j = NORMAL, i
                while j < i + n:
                    k, j = _read_varint(proto, j)
                    if k & 7 == 0:
                        v, j = _read_varint(proto, j)
                        kind = v if k >> 3 == 3 else kind
                    elif k & 7 in (1, 5):
                        j += 8 if k & 7 == 1 else 4
                    else:
                        m, j = _read_varint(proto, j)
                        j += m
                types.append(kind)
            i += n
    return types


def vocabulary(sp) -> tuple[list[str], list[float], list[int]]:
    """(pieces, scores, token types) of a loaded sentencepiece.SentencePieceProcessor, in GGUF's
    numbering (the same as sentencepiece's), the types read from its model proto."""
    n = sp.get_piece_size()
    types = piece_types(sp.serialized_model_proto())
    if len(types) != n:                              # cannot happen for a model sentencepiece loaded
        types = [UNKNOWN if sp.is_unknown(i) else CONTROL if sp.is_control(i) else BYTE if sp.is_byte(i)
                 else UNUSED if sp.is_unused(i) else NORMAL for i in range(n)]
    return [sp.id_to_piece(i) for i in range(n)], [sp.get_score(i) for i in range(n)], types


def gguf_tokenizer(path):
    """The Tokenizer a GGUF file carries (tokenizer.ggml.*), for sentencepiece-style ("llama") vocabularies."""
    from pathlib import Path

    from ..errors import MinimistralError
    from ..guards.textio import show
    from ..tokenizer import Tokenizer
    from .gguf_format import BOOL, FLOATS, INTS, STRING, meta, meta_array, read_gguf

    path = Path(path)
    where = show(path)
    file = read_gguf(path)
    model = meta(file, "tokenizer.ggml.model", (STRING,))
    if model != "llama":
        raise MinimistralError(f"{where} carries a {show(repr(model))} tokenizer; minimistral reads Mistral 7B's "
                               f"SentencePiece vocabulary ('llama').")
    tokens = meta_array(file, "tokenizer.ggml.tokens", (STRING,))
    n = len(tokens)
    scores = meta_array(file, "tokenizer.ggml.scores", FLOATS, [0.0] * n)
    types = meta_array(file, "tokenizer.ggml.token_type", INTS, [NORMAL] * n)
    if not n or len(scores) != n or len(types) != n:
        raise MinimistralError(f"{where}: the tokenizer's tokens, scores and token types differ in length "
                               f"({n}, {len(scores)}, {len(types)}); the file is corrupt.")
    if not all(NORMAL <= k <= BYTE for k in types):
        raise MinimistralError(f"{where}: tokenizer.ggml.token_type holds a type outside 1..6; the file is corrupt.")
    ids = [meta(file, f"tokenizer.ggml.{k}_token_id", INTS, d) for k, d in
           (("unknown", 0), ("bos", 1), ("eos", 2))]
    if not all(0 <= i < n for i in ids):
        raise MinimistralError(f"{where}: the tokenizer's unknown/bos/eos ids {ids} are not all among its "
                               f"{n} tokens; the file is corrupt.")
    prefix = meta(file, "tokenizer.ggml.add_space_prefix", BOOL, True)
    proto = sentencepiece_proto(tokens, scores, types, *ids, add_space_prefix=bool(prefix))
    try:
        tok = Tokenizer(path, proto=proto)
    except MinimistralError:
        raise MinimistralError(f"{where}: sentencepiece does not accept the vocabulary in the file (a piece "
                               f"empty or twice, byte pieces missing?); the file is corrupt.") from None
    if (tok.sp.unk_id(), tok.bos_id, tok.eos_id) != tuple(ids):
        raise MinimistralError(f"{where}: the tokenizer's special tokens are not where the file says "
                               f"(unknown/bos/eos ids {ids}); the file is corrupt.")
    return tok
