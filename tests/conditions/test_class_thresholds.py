"""Per-class memory thresholds: from the config file to the sparse `class` series the memory rule joins on."""

from __future__ import annotations

from pathlib import Path

import pytest

from resque_exporter.config import ConfigError, load_config
from resque_exporter.metrics.reading import Reading
from resque_exporter.metrics.thresholds import threshold_families
from resque_exporter.resque.snapshot import Snapshot

CONFIG = """
thresholds: {worker_rss_bytes: 1073741824}
resques:
  main:
    queue_thresholds:
      imports: {worker_rss_bytes: 4294967296, queue_jobs: 50}
    class_thresholds:
      ReportJob: {worker_rss_bytes: 2147483648}
"""


def test_class_thresholds_are_read_and_published_sparse(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text(CONFIG)
    thresholds = load_config(path).thresholds_for("main")
    assert thresholds.worker_rss_bytes_for("imports", "ReportJob") == 2147483648  # the class wins
    assert thresholds.worker_rss_bytes_for("imports", "ImportJob") == 4294967296
    assert thresholds.worker_rss_bytes_for("mail", None) == 1073741824
    empty = Snapshot(0.0, {}, frozenset(), 0, 0, {}, ())
    families = {f.name: f for f in threshold_families([Reading("main", 0.0, empty, thresholds=thresholds)])}
    rss = {tuple(sorted(s.labels.items())): s.value for s in families["resque_threshold_worker_rss_bytes"].samples}
    assert rss == {
        (("class", ""), ("queue", ""), ("resque", "main")): 1073741824,
        (("class", ""), ("queue", "imports"), ("resque", "main")): 4294967296,
        (("class", "ReportJob"), ("queue", ""), ("resque", "main")): 2147483648,
    }
    jobs = families["resque_threshold_queue_jobs"].samples
    assert all("class" not in sample.labels for sample in jobs), "only the memory threshold has a class label"


def test_a_class_threshold_takes_only_known_signals(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("resques:\n  main:\n    class_thresholds:\n      ReportJob: {queue_jobs: 5}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert "class_thresholds.ReportJob.queue_jobs" in str(raised.value)
