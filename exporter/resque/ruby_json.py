"""JSON exactly as Ruby's `JSON.generate` (MultiJson, what `Resque.encode` uses) writes it.

Compact, insertion order kept, raw UTF-8 (layout doc §0), and floats in Ruby's `Float#to_s` form:
Ruby writes `1.0e+20` and `1.0e-05` where Python writes `1e+20` and `1e-05`. The switch to an exponent
happens at the same magnitudes in both (below 1e-4, from 1e16 on) and both write the shortest digits that
round-trip, so only the mantissa of an exponent form differs: Ruby always gives it a fraction. A payload
the sidecar pushes back must be byte-identical to the stored one, or byte-exact matching such as
`Resque::Job.destroy` misses it.
"""

from __future__ import annotations

import json
from typing import Any


def ruby_json(value: Any) -> str:
    """`Resque.encode(value)` for decoded JSON (dict, list, str, int, float, bool, None)."""
    if not _has_float(value):  # then Python's C encoder writes Ruby's bytes (a bulk retry: 3x faster)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)


def _has_float(value: Any) -> bool:
    """Whether anything but str, int, bool, None, lists and str-keyed dicts is inside (floats, mostly)."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(key) is str for key in item):
                return True
            pending.extend(item.values())
        elif kind is list or kind is tuple:
            pending.extend(item)
        elif not (kind is str or kind is int or kind is bool or item is None):
            return True  # a float, or a subclass the element-by-element encoder judges
    return False


def ruby_float(number: float) -> str:
    """Ruby's `Float#to_s` of a finite float (`1.0e+20`, `1.0e-05`, `600.0`)."""
    text = repr(number)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}e{exponent}"
    return text


def _encode(value: Any, parts: list[str]) -> None:
    if isinstance(value, str):
        parts.append(json.dumps(value, ensure_ascii=False))
    elif value is None or isinstance(value, bool | int):
        parts.append(json.dumps(value))
    elif isinstance(value, float):
        # NaN and Infinity are not JSON; Python reads them anyway, so write them back as read.
        parts.append(ruby_float(value) if value == value and abs(value) != float("inf") else json.dumps(value))
    elif isinstance(value, dict):
        parts.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                parts.append(",")
            parts.append(json.dumps(str(key), ensure_ascii=False))
            parts.append(":")
            _encode(item, parts)
        parts.append("}")
    elif isinstance(value, list | tuple):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _encode(item, parts)
        parts.append("]")
    else:
        raise TypeError(f"not JSON: {type(value).__name__}")
