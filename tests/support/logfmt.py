"""A strict reader of the logfmt lines exporter/logs.py writes, so tests check the format, not substrings."""

from __future__ import annotations

import re

_PAIR = re.compile(r'([^\s="]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?:\s+|$)')
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def parse_logfmt(line: str) -> dict[str, str]:
    """key=value pairs of one line; raises ValueError on anything that is not logfmt."""
    fields: dict[str, str] = {}
    position = 0
    while position < len(line):
        match = _PAIR.match(line, position)
        if not match:
            raise ValueError(f"not logfmt at column {position}: {line!r}")
        key, raw = match.groups()
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m.group(1), m.group(1)), raw[1:-1])
        fields[key] = raw
        position = match.end()
    return fields


def parse_log(output: str) -> list[dict[str, str]]:
    """Every line of a process's output as logfmt, each with the four keys every line has."""
    records = [parse_logfmt(line) for line in output.splitlines() if line.strip()]
    for record in records:
        assert {"ts", "level", "logger", "msg"} <= set(record), record
    return records
