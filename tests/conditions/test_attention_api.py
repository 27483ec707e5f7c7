"""The attention page and GET /api/v1/resques/{resque}/attention show the same items: one reading, one check
per condition; alert names link to their runbook section and info items sit apart."""

from __future__ import annotations

import re

import fakeredis
from fastapi.testclient import TestClient

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.config.pages import DEFAULT_RUNBOOK_URL, PageSettings
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.build import build_sidecar

TOKEN = "viewer-token-0123456789abcdef00"
API = "/api/v1/resques"


def sidecar(runbook_url: str | None = None) -> TestClient:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    writer = ResqueWriter(client, "resque", "vm")
    for n in range(3):
        writer.enqueue("mail", "MailJob", [n])  # queue mail: jobs, and no worker polls it
    writer.set_pause_all(True)
    handles = {"main": ResqueHandle("main", DataStore(client))}
    service = RemediationService(handles, Audit(handles))
    settings = {"main": PageSettings(runbook_url=runbook_url)} if runbook_url else None
    built = build_sidecar(service, TokenStore([("viewer", "read-only", TOKEN)]), page_settings=settings)
    return TestClient(built.app)


def logged_in(client: TestClient) -> TestClient:
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf is not None
    response = client.post("/login", data={"csrf": csrf.group(1), "token": TOKEN}, follow_redirects=False)
    assert response.status_code == 303
    return client


def test_the_api_lists_the_pages_items_with_their_links_and_runbook() -> None:
    client = sidecar()
    response = client.get(f"{API}/main/attention", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resque"] == "main" and body["down"] is False
    assert [(i["alert"], i["severity"], i["link"]) for i in body["items"]] == [
        ("ResqueQueueNotDraining", "critical", "/queues?resque=main&queue=mail"),
        ("ResqueWorkersPaused", "info", "/workers?resque=main"),
    ]
    assert body["items"][0]["runbook_url"] == f"{DEFAULT_RUNBOOK_URL}#resquequeuenotdraining"
    assert body["items"][0]["count"] == 3 and body["items"][0]["since"] is not None

    page = logged_in(client).get("/?resque=main").text
    shown = re.findall(r'class="muted alert-name" href="([^"]+)"[^>]*>(Resque\w+)</a>', page)
    assert shown == [(i["runbook_url"], i["alert"]) for i in body["items"]]
    assert page.index("For information") < page.index("ResqueWorkersPaused")
    assert page.index("ResqueQueueNotDraining") < page.index("For information")


def test_a_sites_runbook_url_is_what_the_page_links_to() -> None:
    client = logged_in(sidecar("https://wiki.example.org/resque/alerts.md"))
    assert 'href="https://wiki.example.org/resque/alerts.md#resquequeuenotdraining"' in client.get("/").text


def test_the_api_needs_a_token_and_a_configured_resque() -> None:
    client = sidecar()
    assert client.get(f"{API}/main/attention").status_code == 401
    missing = client.get(f"{API}/nope/attention", headers={"Authorization": f"Bearer {TOKEN}"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
