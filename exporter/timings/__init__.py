"""Job timings from resque-clues events: parse (pure), tail log files, aggregate, publish.

Hosted by the worker-host agent (and the exporter's demo) through :class:`TimingsService`.
"""

from ..config.timings import ClueSource, IngestSettings, TimingsSettings
from .service import IngestResult, TimingsCollector, TimingsError, TimingsService

__all__ = [
    "ClueSource",
    "IngestResult",
    "IngestSettings",
    "TimingsCollector",
    "TimingsError",
    "TimingsService",
    "TimingsSettings",
]
