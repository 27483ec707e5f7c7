"""A Resque whose Redis is down is a banner with its reason on every page, and the other Resques still render."""

from __future__ import annotations

import re

import fakeredis
from fastapi.testclient import TestClient

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.config.thresholds import Thresholds
from resque_exporter.pages import mount_pages
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.app import create_sidecar_app

OPERATOR = "operator-token-0123456789abcdef"
REASON = "ConnectionError: FakeRedis is emulating a connection error."


def client_with_one_down() -> TestClient:
    """Two Resques: `main` answers (one failure), `gone` has a Redis that refuses every connection."""
    up = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    writer = ResqueWriter(up, "resque", "vm")
    worker = writer.register_worker(10, ["mail"])
    writer.enqueue("mail", "MailJob", [1])
    writer.start_job(worker)
    writer.fail_job(worker, "Net::ReadTimeout", "timeout", ["/srv/app/mail.rb:3:in `perform'"])
    down_server = fakeredis.FakeServer()
    down_server.connected = False
    handles = {
        "main": ResqueHandle("main", DataStore(up)),
        "gone": ResqueHandle("gone", DataStore(fakeredis.FakeRedis(server=down_server))),
    }
    service = RemediationService(handles, Audit(handles))
    tokens = TokenStore([("alice", "operator", OPERATOR)])
    app = create_sidecar_app(service, tokens)
    mount_pages(app, service, tokens, {name: Thresholds() for name in handles})
    client = TestClient(app)
    form = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    client.post("/login", data={"csrf": csrf.group(1), "token": OPERATOR})
    return client


def test_attention_shows_the_down_resque_with_its_reason_and_the_other_one() -> None:
    client = client_with_one_down()
    page = client.get("/")
    assert page.status_code == 200
    assert f"<strong>gone</strong>: Redis unreachable. {REASON}" in page.text
    assert "Dead workers" not in page.text and "main" in page.text


def test_failures_show_the_down_resque_beside_the_groups_of_the_other() -> None:
    client = client_with_one_down()
    page = client.get("/failures")
    assert page.status_code == 200 and REASON in page.text and "Net::ReadTimeout" in page.text
    group = client.get("/failures?resque=gone&list=failed&class=MailJob&exception=Net%3A%3AReadTimeout")
    assert group.status_code == 200 and REASON in group.text


def test_per_resque_pages_of_the_down_resque_answer_503_with_the_reason() -> None:
    client = client_with_one_down()
    for path in ("/queues?resque=gone", "/scheduler?resque=gone"):
        page = client.get(path)
        assert page.status_code == 503 and REASON in page.text, path
    workers = client.get("/workers?resque=gone")
    assert workers.status_code == 503 and "the Redis of Resque &#39;gone&#39; is unavailable" in workers.text
    assert client.get("/queues?resque=main").status_code == 200


def test_an_action_on_the_down_resque_is_not_done_with_503() -> None:
    client = client_with_one_down()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert csrf is not None
    response = client.post(
        "/workers/unregister", data={"csrf": csrf.group(1), "resque": "gone", "worker": "vm:10:mail"}
    )
    assert response.status_code == 503 and "Not done" in response.text
