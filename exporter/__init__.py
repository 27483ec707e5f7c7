"""resque-exporter: Prometheus metrics for Resque, read straight from its Redis."""

__version__ = "0.1.0"
