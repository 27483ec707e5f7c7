"""How a scrape's failure-list reading is bounded: LRANGE chunk sizes, the fair split of the per-scrape
budget between lists, and the digest that shows a small list unchanged without parsing it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Protocol

CHUNK_BYTES = 256 * 1024  # one LRANGE reply: ~0.1 ms of Redis time (replies of ~1 MB took up to 3 ms under load)
MAX_CHUNK_ENTRIES = 1000
SMALL_LIST_BYTES = 1024 * 1024  # a small list (<= reread_max_entries) this big is still read whole (~0.5 ms)


class Read(Protocol):
    """One scan's share of a scrape, as the budget sees it (failure_scan._Read)."""

    demand: int
    avg_bytes: float
    count: int


def chunk_entries(avg_bytes: float) -> int:
    """Entries per LRANGE for entries of this mean size."""
    return max(1, min(MAX_CHUNK_ENTRIES, int(CHUNK_BYTES / max(avg_bytes, 1.0))))


def digest(entries: Sequence[Any]) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for raw in entries:
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogateescape")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.digest()


def grant(reads: Sequence[Read], budget: list[int], demand: int | None = None) -> None:
    """Add to the reads' counts a max-min fair share of the budget [entries, bytes] (`demand` overrides theirs)."""
    wants = [read.demand if demand is None else demand for read in reads]
    grants = [0] * len(reads)
    left = budget[0]
    order = sorted(range(len(reads)), key=wants.__getitem__)
    for k, i in enumerate(order):
        grants[i] = max(min(wants[i], left // (len(order) - k)), 0)
        left -= grants[i]
    cost = sum(g * r.avg_bytes for g, r in zip(grants, reads, strict=True))
    if cost > budget[1]:  # big entries: scale the grants down to the byte budget, but let every read progress
        scale = max(budget[1], 0) / cost
        grants = [
            min(g, max(int(g * scale), 1 if scale and not r.count else 0)) for g, r in zip(grants, reads, strict=True)
        ]
    for g, read in zip(grants, reads, strict=True):
        read.count += g
        budget[0] -= g
        budget[1] -= int(g * read.avg_bytes)
