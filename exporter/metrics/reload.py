"""The config-reload families (Prometheus's own `*_config_last_reload_*` pair). Pure: no I/O, no clock."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric


def reload_families(successful: bool, last_success_timestamp_seconds: float) -> list[Metric]:
    """Whether the last load of the config worked, and when one last did (startup counts as a load).

    Alert on `resque_exporter_config_last_reload_successful == 0`: the exporter is still serving an
    older config than the file on disk.
    """
    ok = GaugeMetricFamily(
        "resque_exporter_config_last_reload_successful",
        "1 if the last (re)load of the config file worked, 0 if it was refused and the previous config is kept.",
    )
    ok.add_metric([], 1.0 if successful else 0.0)
    when = GaugeMetricFamily(
        "resque_exporter_config_last_reload_success_timestamp_seconds",
        "Unix time of the last successful load of the config (at startup or by SIGHUP / POST /-/reload).",
    )
    when.add_metric([], last_success_timestamp_seconds)
    return [ok, when]
