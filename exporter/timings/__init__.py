"""Job timings from resque-clues events: parse (pure), tail log files, aggregate, publish.

Hosted by the worker-host agent (and the exporter's demo) through :class:`TimingsService`.
"""

from .service import IngestResult, TimingsCollector, TimingsError, TimingsService
from .settings import ClueSource, IngestSettings, TimingsSettings

__all__ = [
    "ClueSource",
    "IngestResult",
    "IngestSettings",
    "TimingsCollector",
    "TimingsError",
    "TimingsService",
    "TimingsSettings",
]
