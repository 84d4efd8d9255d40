"""JSON from a checkpoint, believed only within bounds: where untrusted JSON becomes numbers and text.

Every JSON minimistral reads from a checkpoint goes through ``parse_json``: config.json,
params.json, model.safetensors.index.json and every safetensors header. Plain ``json.loads``
trusts too much: a number of 5000 digits makes Python raise "Exceeds the limit (4300 digits)"
(or, below the limit, spend quadratic time converting it), and an object holding one key twice
silently keeps the last. Here:

    numbers  at most MAX_NUMBER_CHARS characters each, refused before int() or float() runs
             (a u64 offset has 20 digits, a float repr at most 24 characters)
    keys     each at most once per object
    text     UTF-8

    parse_json(b'{"dim": 4096}', "params.json")                 ->  {'dim': 4096}
    parse_json(b'{"dim": 1' + b'0' * 5000 + b'}', "params.json")
      -> MinimistralError: params.json holds a number of 5001 characters; ...
    parse_json(b'{"dim": 1, "dim": 2}', "params.json")
      -> MinimistralError: params.json holds the key 'dim' twice; ...

NaN and Infinity are read as floats, so the checks of each field can name the field that
holds them ("rope_theta must be a finite number"). What the values mean is for the readers to
check (config.py, checkpoints/): every value may be any JSON type, so they check the type
before they use a value, and before they look it up in a dict (a list is not hashable).
"""

from __future__ import annotations

import json

from ..errors import MinimistralError
from .textio import show

MAX_NUMBER_CHARS = 64


def parse_json(data, where) -> object:
    """The JSON value in data (bytes or str), under the bounds above; MinimistralError naming where."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise MinimistralError(f"{show(where)} is not valid JSON (not UTF-8 text); is it the right file?") from None
    try:
        return json.loads(data, parse_int=_number(int, where), parse_float=_number(float, where),
                          object_pairs_hook=unique_keys(where))
    except (json.JSONDecodeError, RecursionError) as e:
        raise MinimistralError(f"{show(where)} is not valid JSON ({getattr(e, 'msg', 'too deeply nested')}); "
                               f"the file is corrupt, re-download it.") from None


def _number(convert, where):
    """A parse_int / parse_float hook: the number, once its text is known to be short."""
    def parse(text: str):
        if len(text) > MAX_NUMBER_CHARS:
            raise MinimistralError(f"{show(where)} holds a number of {len(text):,} characters; no field of "
                                   f"a checkpoint needs more than {MAX_NUMBER_CHARS}: the file is corrupt.")
        return convert(text)
    return parse


def unique_keys(where):
    """A json object_pairs_hook that refuses an object holding one key twice."""
    def hook(pairs):
        out = {}
        for key, value in pairs:
            if key in out:
                raise MinimistralError(f"{show(where)} holds the key {show(repr(key))} twice; "
                                       f"the file is corrupt or was edited by hand.")
            out[key] = value
        return out
    return hook
