"""The monitoring mixin: alert and recording rules, the runbook and the Grafana dashboards from ONE source.

`python -m resque_exporter.mixin --config mixin.yml --output-dir DIR` renders them with your selectors,
URLs and `for:` durations (defaults: MixinConfig). The files shipped under deploy/ and docs/alerts.md
are the rendered defaults; a test fails when they are out of sync with this source.
"""
