"""`/probe?target=` (multi-target pattern), in-process against real redis-servers: one live Resque, one dead."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from resque_exporter.resque.connect import redis_client as connect
from resque_exporter.resque.datastore import DataStore
from resque_exporter.scrape.app import build_exporter_app
from resque_exporter.scrape.scraper import Target

from support.redis_server import free_port

AppClient = httpx.Client

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def client(redis_client: redis.Redis, redis_url: str) -> Iterator[AppClient]:
    redis_client.sadd("resque:queues", "mailers")
    redis_client.rpush("resque:queue:mailers", '{"class":"MailJob","args":[]}', '{"class":"MailJob","args":[]}')
    dead_url = f"redis://127.0.0.1:{free_port()}/0"
    app = build_exporter_app(
        [
            Target("live", DataStore(connect(redis_url, password=None, timeout_seconds=1.0)), 1.0, redis_url),
            Target("dead", DataStore(connect(dead_url, password=None, timeout_seconds=0.3)), 0.3, dead_url),
        ],
        enable_lifecycle=True,
    )
    with AppClient(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as test_client:
        yield test_client
    app.runtime.close()


def samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def resques_in(got: Samples) -> set[str]:
    return {value for _, labels in got for key, value in labels if key == "resque"}


def test_probe_returns_only_that_resque_and_no_exporter_metrics(client: AppClient) -> None:
    response = client.get("/probe", params={"target": "live"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    got = samples(response.text)
    assert got[("resque_up", frozenset({("resque", "live")}))] == 1
    assert got[("resque_queue_jobs", frozenset({("resque", "live"), ("queue", "mailers")}))] == 2
    assert resques_in(got) == {"live"}
    own = {name for name, _ in got if not name.startswith("resque_") or name.startswith("resque_exporter_")}
    assert own == set(), "the exporter's own metrics (build info, errors, process_*) belong on /metrics only"


def test_probe_of_a_dead_resque_is_200_with_up_0(client: AppClient) -> None:
    response = client.get("/probe", params={"target": "dead"})
    assert response.status_code == 200
    got = samples(response.text)
    assert got[("resque_up", frozenset({("resque", "dead")}))] == 0
    assert ("resque_scrape_duration_seconds", frozenset({("resque", "dead")})) in got
    assert resques_in(got) == {"dead"}


def test_probe_honours_the_scrape_timeout_header(client: AppClient) -> None:
    response = client.get(
        "/probe", params={"target": "live"}, headers={"X-Prometheus-Scrape-Timeout-Seconds": "0.000001"}
    )
    assert response.status_code == 200  # budget floored at 0.1 s: a local Redis still answers in time
    assert samples(response.text)[("resque_up", frozenset({("resque", "live")}))] == 1


def test_probe_speaks_openmetrics_when_asked(client: AppClient) -> None:
    response = client.get(
        "/probe", params={"target": "live"}, headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def test_unknown_target_is_400_naming_the_known_ones(client: AppClient) -> None:
    response = client.get("/probe", params={"target": "nope"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert "unknown target 'nope'" in response.text
    assert "known targets: live, dead" in response.text


def test_unknown_target_echo_is_capped(client: AppClient) -> None:
    response = client.get("/probe", params={"target": "x" * 10_000})
    assert response.status_code == 400
    assert len(response.text) < 300


@pytest.mark.parametrize("query", ["", "?target="])
def test_missing_target_is_400(client: AppClient, query: str) -> None:
    response = client.get(f"/probe{query}")
    assert response.status_code == 400
    assert "missing ?target=" in response.text
    assert "known targets: live, dead" in response.text


def test_metrics_still_serves_every_resque_and_the_exporters_own(client: AppClient) -> None:
    client.get("/probe", params={"target": "dead"})
    got = samples(client.get("/metrics").text)
    assert resques_in(got) == {"live", "dead"}
    assert got[("resque_up", frozenset({("resque", "live")}))] == 1
    assert got[("resque_up", frozenset({("resque", "dead")}))] == 0
    # The probe's failed read counts too: /metrics is where the exporter reports on itself.
    assert got[("resque_exporter_scrape_errors_total", frozenset({("resque", "dead"), ("reason", "connection")}))] == 2
    assert ("resque_exporter_build_info", frozenset({("version", "0.1.0")})) in got
    assert got[("resque_exporter_config_last_reload_successful", frozenset())] == 1
    assert got[("resque_exporter_config_last_reload_success_timestamp_seconds", frozenset())] > 1_600_000_000
    assert any(name == "process_resident_memory_bytes" for name, _ in got)


def test_landing_page_links_a_probe_per_resque(client: AppClient) -> None:
    text = client.get("/").text
    assert "/probe?target=" in text
    assert 'href="/probe?target=live"' in text and 'href="/probe?target=dead"' in text


def test_reload_without_a_config_file_is_400_and_get_is_405(client: AppClient) -> None:
    response = client.post("/-/reload")
    assert response.status_code == 400
    assert "no config file to reload" in response.text
    assert client.get("/-/reload").status_code == 405


def test_collect_exporter_serves_only_the_exporters_own_metrics(client: AppClient) -> None:
    """What the multi-target setup scrapes beside /probe: no per-Resque series twice."""
    got = samples(client.get("/metrics", params={"collect[]": "exporter"}).text)
    assert ("resque_exporter_build_info", frozenset({("version", "0.1.0")})) in got
    assert any(name == "process_resident_memory_bytes" for name, _ in got)
    assert not [name for name, _ in got if name.startswith("resque_") and not name.startswith("resque_exporter_")]
    resques_only = samples(client.get("/metrics", params={"collect[]": "resques"}).text)
    assert resques_in(resques_only) == {"live", "dead"}
    assert not [name for name, _ in resques_only if name.startswith(("resque_exporter_", "process_"))]


def test_unknown_collect_is_400(client: AppClient) -> None:
    response = client.get("/metrics", params={"collect[]": "bogus"})
    assert response.status_code == 400 and "known: resques, exporter" in response.text


def test_landing_page_shows_each_resques_state_and_why_it_is_down(client: AppClient) -> None:
    assert "not scraped yet" in client.get("/").text
    client.get("/metrics")
    text = client.get("/").text
    live_row = next(row for row in text.split("<tr>") if "<td>live</td>" in row)
    dead_row = next(row for row in text.split("<tr>") if "<td>dead</td>" in row)
    assert ">up</span>" in live_row
    assert "<b>down</b>" in dead_row and "<b>connection</b>" in dead_row
