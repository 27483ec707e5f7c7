"""A small YAML writer for generated files people read: block scalars for PromQL, long texts folded at
spaces within 120 columns (never inside a URL or a word), sequences indented, keys in the given order."""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

WIDTH = 120


def _scalar(value: Any) -> str:
    """One-line YAML for a scalar, quoted only where YAML needs it."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 20, allow_unicode=True)
    return text.removesuffix("\n...\n").rstrip("\n")


def _string(value: str, indent: int) -> list[str]:
    """The text after `key:` (first element) and the lines that follow it."""
    pad = " " * indent
    if "\n" in value:
        return ["|-", *(pad + line if line else "" for line in value.split("\n"))]
    one_line = _scalar(value)
    if indent + len(one_line) <= WIDTH - 20 or "  " in value or value != value.strip():
        return [one_line]
    lines = textwrap.wrap(value, WIDTH - indent, break_long_words=False, break_on_hyphens=False)
    return [">-", *(pad + line for line in lines)]


def dump(value: Any, indent: int = 0) -> str:
    return "\n".join(_lines(value, indent)) + "\n"


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_entry(f"{pad}{_scalar(key)}:", item, indent))
    elif isinstance(value, list):
        for item in value:
            inner = _lines(item, indent + 2)
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}- {inner[0].lstrip()}")
                out.extend(inner[1:])
            else:
                out.extend(_entry(f"{pad}-", item, indent))
    else:
        raise TypeError(f"not a mapping or list: {value!r}")
    return out


def _entry(prefix: str, item: Any, indent: int) -> list[str]:
    if isinstance(item, dict) and item:
        return [prefix, *_lines(item, indent + 2)]
    if isinstance(item, list) and item:
        return [prefix, *_lines(item, indent + 2)]
    if isinstance(item, str):
        first, *rest = _string(item, indent + 2)
        return [f"{prefix} {first}", *rest]
    return [f"{prefix} {_scalar(item)}"]
