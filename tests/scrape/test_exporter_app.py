"""The exporter's HTTP endpoints, in-process (httpx over WSGI) against a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from resque_exporter.resque.connect import redis_client
from resque_exporter.resque.datastore import DataStore
from resque_exporter.scrape.app import build_exporter_app
from resque_exporter.scrape.scraper import Target
from resque_exporter.scrape.web import scrape_budget

from support.redis_server import free_port

AppClient = httpx.Client


@pytest.fixture
def app_client(redis_client: redis.Redis, redis_url: str) -> Iterator[AppClient]:
    redis_client.sadd("resque:queues", "mailers")
    redis_client.rpush("resque:queue:mailers", '{"class":"MailJob","args":[]}')
    dead_url = f"redis://127.0.0.1:{free_port()}/0"
    targets = [
        Target("main", DataStore(redis_client_for(redis_url)), 1.0, redis_url),
        Target("dead", DataStore(redis_client_for(dead_url)), 0.5, dead_url),
    ]
    app = build_exporter_app(targets, descriptions={"main": "redis://127.0.0.1 namespace=resque", "dead": "<dead>"})
    with AppClient(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as client:
        yield client
    app.runtime.close()


def redis_client_for(url: str) -> redis.Redis:
    return redis_client(url, password=None, timeout_seconds=0.5)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_is_200_with_a_dead_resque_beside_a_live_one(app_client: AppClient) -> None:
    response = app_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    got = samples(response.text)
    assert got[("resque_up", frozenset({("resque", "main")}))] == 1
    assert got[("resque_up", frozenset({("resque", "dead")}))] == 0
    assert got[("resque_queue_jobs", frozenset({("resque", "main"), ("queue", "mailers")}))] == 1
    assert got[("resque_exporter_scrape_errors_total", frozenset({("resque", "dead"), ("reason", "connection")}))] == 1
    assert ("resque_exporter_build_info", frozenset({("version", "0.1.0")})) in got
    assert any(name == "process_resident_memory_bytes" for name, _ in got)


def test_error_text_never_reaches_labels(app_client: AppClient) -> None:
    text = app_client.get("/metrics").text
    assert "Connection refused" not in text and "Error" not in text


def test_openmetrics_is_negotiated(app_client: AppClient) -> None:
    response = app_client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def test_landing_page_links_metrics_and_lists_resques(app_client: AppClient) -> None:
    response = app_client.get("/")
    assert response.status_code == 200
    assert 'href="/metrics"' in response.text
    assert "main" in response.text and "dead" in response.text


def test_health(app_client: AppClient) -> None:
    assert app_client.get("/-/healthy").text == "Healthy\n"
    assert app_client.get("/-/ready").status_code == 200


def test_unknown_path_is_404(app_client: AppClient) -> None:
    assert app_client.get("/nope").status_code == 404


@pytest.mark.parametrize(
    ("header", "budget"),
    [(None, None), ("10", 9.5), ("0.3", 0.1), ("abc", None), ("-1", None), ("nan", None)],
)
def test_scrape_budget_from_prometheus_header(header: str | None, budget: float | None) -> None:
    headers = {} if header is None else {"x-prometheus-scrape-timeout-seconds": header}
    assert scrape_budget(headers) == budget
