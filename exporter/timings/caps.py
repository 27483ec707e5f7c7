"""Label caps: the top N names by volume keep their own series, every other name shares ``other``.

Job classes, queues and exception names are open-ended, so each is capped. The series are counters
and histograms, which must never go down, so a name's series only ever counts what it saw while it
held a slot: when a name in ``other`` outgrows the weakest slot holder by ``PROMOTE_FACTOR``, the two
swap at the next :meth:`TopN.rebalance`. The promoted name's series counts from then on, the demoted
one's is no longer exposed (it goes stale; it resumes where it stopped if promoted again), and ``other``
keeps what it already counted. Every series stays monotonic and each event lands in exactly one series,
so rates summed over the series stay exact.
"""

from __future__ import annotations

import heapq
from typing import Final

OTHER: Final = "other"
PROMOTE_FACTOR: Final = 2.0  # hysteresis: two classes of equal volume never swap back and forth
MAX_TRACKED_NAMES: Final = 100_000  # volumes of more names than this are not remembered (memory bound)


class TopN:
    """Which names hold one of ``limit`` slots. Not thread-safe: the aggregator holds the lock."""

    def __init__(self, limit: int, max_tracked: int = MAX_TRACKED_NAMES) -> None:
        self.limit = limit
        self.max_tracked = max_tracked
        self.volumes: dict[str, int] = {}
        self.chosen: set[str] = set()

    def label(self, name: str) -> str:
        """Count one observation of ``name`` and return the label it is recorded under now."""
        volume = self.volumes.get(name)
        if volume is not None:
            self.volumes[name] = volume + 1
        elif len(self.volumes) < self.max_tracked:
            self.volumes[name] = 1
        if name in self.chosen:
            return name
        if len(self.chosen) < self.limit and name in self.volumes:
            self.chosen.add(name)
            return name
        return OTHER

    def rebalance(self) -> None:
        """Promote names that outgrew the weakest slot holders (called once per scrape, O(names))."""
        if len(self.volumes) <= len(self.chosen):
            return
        waiting = heapq.nlargest(
            self.limit, ((v, n) for n, v in self.volumes.items() if n not in self.chosen), key=lambda item: item
        )
        holders = sorted((self.volumes[n], n) for n in self.chosen)
        for (volume, name), (weakest_volume, weakest) in zip(waiting, holders, strict=False):
            if volume <= PROMOTE_FACTOR * weakest_volume:
                break
            self.chosen.discard(weakest)
            self.chosen.add(name)

    def __len__(self) -> int:
        return len(self.volumes)
