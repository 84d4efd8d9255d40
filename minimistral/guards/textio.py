"""Text in and names out: one policy for every path that takes text, one for showing names.

Text in (a prompt, a system prompt, a chat line, a chat message from Python): it must be valid
Unicode, i.e. came in as valid UTF-8 (or in the terminal's own encoding). Python hands us
undecodable bytes as lone surrogates ('\\udcff' for the byte 0xff, PEP 383: argv, stdin read
with surrogateescape, file names); ``checked_text`` refuses them with one sentence naming where
the text came from and the first bad byte. We do not guess: replacing bytes with U+FFFD would
feed the model text the user never wrote, and latin-1 or UTF-16 text would come out garbled.

    checked_text("caf\\udce9", "--prompt")
      -> MinimistralError: --prompt is not valid UTF-8 (byte 0xe9 at character 3); ...

Names out (file names, tensor names, anything from a file or a directory listing that ends up
in a message): ``show`` escapes what a terminal would interpret or cannot print, so a name
holding a newline or an ANSI escape prints as its escape, on one line:

    show("a\\nb\\x1b[31m")   ->  'a\\\\nb\\\\x1b[31m'      show("caf\\udce9")  ->  'caf\\\\xe9'

Names in (a tensor name, a shard file name, a storage key: anything a file names): ``checked_name``
takes them only as valid Unicode without NUL, at most MAX_NAME_CHARS long. A NUL cannot be part
of a path (the OS refuses it), a lone surrogate (JSON's "\\ud800") cannot be encoded to one.
"""

from __future__ import annotations

import unicodedata

from ..errors import MinimistralError

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
MAX_NAME_CHARS = 1024       # "model.layers.31.self_attn.q_proj.weight" has 39


def show(value) -> str:
    """str(value) with every character a terminal would act on (controls, ANSI escapes, line and
    paragraph separators) or could not encode (lone surrogates = undecodable bytes) escaped."""
    out = []
    for ch in str(value):
        o = ord(ch)
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif ch in _NAMED:
            out.append(_NAMED[ch])
        elif 0xDC80 <= o <= 0xDCFF:                       # surrogateescape: the original byte
            out.append(f"\\x{o - 0xDC00:02x}")
        elif o < 0x100:
            out.append(f"\\x{o:02x}")
        else:
            out.append(f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    return "".join(out)


def terminal_safe(text: str) -> str:
    """Generated text for a terminal: control characters other than newline and tab escaped.

    A checkpoint's tokens may spell ESC sequences (<0x1B> is a token) that a terminal would obey
    (move the cursor, retitle the window, write the clipboard). cli.py applies this only when
    stdout is a terminal; a pipe or a file gets the text exactly.

        terminal_safe("red \x1b[31m!")  ->  'red \\x1b[31m!'
    """
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch) != "Cc" else show(ch) for ch in text)


def checked_text(text, what: str) -> str:
    """text if it is a str of valid Unicode, else MinimistralError naming `what` (see module doc)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            return bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise MinimistralError(f"{what} is not valid UTF-8 (byte 0x{text[e.start]:02x} at byte "
                                   f"{e.start}){_hint(bytes(text))}; convert it to UTF-8 first "
                                   f"(e.g. iconv -t UTF-8).") from None
    if not isinstance(text, str):
        raise MinimistralError(f"{what} must be text (a str), got {type(text).__name__}.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        ch = ord(text[e.start])
        byte = f"byte 0x{ch - 0xDC00:02x}" if 0xDC80 <= ch <= 0xDCFF else f"character U+{ch:04X}"
        raw = text.encode("utf-8", "surrogateescape") if 0xDC80 <= ch <= 0xDCFF else b""
        raise MinimistralError(f"{what} is not valid UTF-8 ({byte} at character {e.start})"
                               f"{_hint(raw)}; convert it to UTF-8 first (e.g. iconv -t UTF-8).") from None
    return text


def _hint(raw: bytes) -> str:
    """', it looks like UTF-16' when the bytes start with a UTF-16 byte order mark."""
    return ", it looks like UTF-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""


def checked_name(name, what: str) -> str:
    """name if a file may use it as a name (see module doc), else MinimistralError naming `what`.

        checked_name("lm_head.weight", "x.safetensors: a tensor")  ->  'lm_head.weight'
        checked_name("a\\x00b", "x.safetensors: a tensor")
          ->  MinimistralError: x.safetensors: a tensor is named 'a\\x00b', which holds a NUL byte; ...
    """
    if not isinstance(name, str):
        raise MinimistralError(f"{what} has a name that is not text ({type(name).__name__}); the file is corrupt.")
    if not name or len(name) > MAX_NAME_CHARS:
        problem = "is empty" if not name else f"has {len(name):,} characters (at most {MAX_NAME_CHARS})"
        raise MinimistralError(f"{what} has a name that {problem}; the file is corrupt.")
    try:
        name.encode("utf-8")
        bad = "a NUL byte" if "\0" in name else ""
    except UnicodeEncodeError:
        bad = "a lone surrogate, not Unicode text"
    if bad:
        raise MinimistralError(f"{what} is named '{show(name)}', which holds {bad}; the file is corrupt "
                               f"or was edited by hand.")
    return name
