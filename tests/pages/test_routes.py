"""The pages' routes in process (Starlette's TestClient, fakeredis): login and its redirects, cookies, the
external URL prefix, and that page actions are the API's audited actions."""

from __future__ import annotations

import re

import fakeredis
import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.logs import record_fields
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.build import build_sidecar

OPERATOR = "operator-token-0123456789abcdef"
VIEWER = "viewer-token-0123456789abcdef00"


def app_for(
    external_url: str | None = None, tokens: TokenStore | None = None, key: bytes | None = None, agent: bool = False
) -> tuple[TestClient, RemediationService]:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    writer = ResqueWriter(client, "resque", "vm")
    worker = writer.register_worker(10, ["mail"])
    for n in range(3):
        writer.enqueue("mail", "MailJob", [n])
        writer.start_job(worker)
        writer.fail_job(worker, "Net::ReadTimeout", f"timeout {n}", ["/srv/app/mail.rb:3:in `perform'"])
    handles = {"main": ResqueHandle("main", DataStore(client))}
    service = RemediationService(handles, Audit(handles))
    tokens = tokens or TokenStore([("alice", "operator", OPERATOR), ("viewer", "read-only", VIEWER)])
    built = build_sidecar(
        service,
        tokens,
        external_url=external_url,
        session_key=key,
        agent_available=agent,
    )
    return TestClient(built.app), service


def login(client: TestClient, token: str, prefix: str = "", next_: str = "") -> str:
    form = client.get(f"{prefix}/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    response = client.post(
        f"{prefix}/login", data={"csrf": csrf.group(1), "token": token, "next": next_}, follow_redirects=False
    )
    assert response.status_code == 303
    return response.headers["location"]


def csrf_of(client: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def test_login_redirects_only_within_the_site() -> None:
    client, _ = app_for()
    assert login(client, OPERATOR, next_="/failures?resque=main") == "/failures?resque=main"
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client.cookies.clear()
        assert login(client, OPERATOR, next_=evil) == "/"


def test_a_wrong_token_is_refused_and_counted() -> None:
    client, service = app_for()
    form = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    response = client.post("/login", data={"csrf": csrf.group(1), "token": "nope" * 8})
    assert response.status_code == 401 and "Unknown token." in response.text
    assert "resque_session" not in response.cookies
    assert b'resque_sidecar_page_refusals_total{reason="bad_token"} 1.0' in generate_latest(service.audit.registry)


def test_pages_carry_a_strict_csp_and_the_cookie_is_strict() -> None:
    client, _ = app_for()
    form = client.get("/login")
    assert "script-src 'self'" in form.headers["content-security-policy"]
    assert "unsafe-inline" not in form.headers["content-security-policy"]
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    response = client.post("/login", data={"csrf": csrf.group(1), "token": OPERATOR}, follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=43200" in cookie
    assert "secure" not in cookie  # plain http on loopback
    assert "<script>" not in client.get("/").text.replace('<script src="/static/pages.js" defer></script>', "")


def test_external_url_prefixes_routes_links_and_secures_the_cookie() -> None:
    plain, _ = app_for("https://ops.example.com/resque/")
    assert plain.get("/resque/", follow_redirects=False).headers["location"] == "/resque/login?next=%2Fresque%2F"
    assert plain.get("/resque/static/pages.css").status_code == 200
    assert plain.get("/login").status_code == 404  # the routes live under the external URL's path
    form = plain.get("/resque/login")
    assert "secure" in form.headers["set-cookie"].lower()  # even when the proxy speaks http to the sidecar
    client = TestClient(plain.app, base_url="https://testserver")
    assert login(client, OPERATOR, prefix="/resque") == "/resque/"
    page = client.get("/resque/failures").text
    assert 'href="/resque/static/pages.css"' in page and 'href="/resque/queues"' in page


def test_a_session_ends_when_its_token_leaves_the_tokens_file_or_changes_role() -> None:
    key = b"k" * 32
    client, _ = app_for(key=key)
    login(client, OPERATOR)
    cookies = {"resque_session": client.cookies["resque_session"]}
    same, _ = app_for(key=key)
    assert same.get("/", cookies=cookies, follow_redirects=False).status_code == 200
    for tokens in (
        TokenStore([("alice", "read-only", OPERATOR)]),
        TokenStore([("bob", "operator", OPERATOR)]),
    ):
        changed, _ = app_for(tokens=tokens, key=key)
        assert changed.get("/", cookies=cookies, follow_redirects=False).status_code == 303
    other_key, _ = app_for(key=b"x" * 32)
    assert other_key.get("/", cookies=cookies, follow_redirects=False).status_code == 303


def test_a_group_action_is_the_apis_audited_bulk_action(caplog: pytest.LogCaptureFixture) -> None:
    client, service = app_for()
    login(client, OPERATOR)
    group = "/failures?resque=main&list=failed&class=MailJob&exception=Net%3A%3AReadTimeout"
    csrf = csrf_of(client, group)
    form = {"csrf": csrf, "resque": "main", "list": "failed", "class": "MailJob", "exception": "Net::ReadTimeout"}
    dry = client.post("/failures/bulk", data=form | {"action": "retry_and_remove"})
    assert "<strong>3</strong> entries will change." in dry.text
    with caplog.at_level("INFO", logger="resque_exporter.audit"):
        caplog.clear()  # the dry run is audited too when an earlier in-process CLI left the audit logger at INFO
        done = client.post("/failures/bulk", data=form | {"action": "retry_and_remove", "confirm": "yes"})
    assert "3 entries changed" in done.text
    audit = [record_fields(r) for r in caplog.records if r.name == "resque_exporter.audit"]
    assert len(audit) == 1 and audit[0]["actor"] == "alice" and audit[0]["action"] == "bulk_retry_and_remove"
    metrics = generate_latest(service.audit.registry).decode()
    assert 'resque_sidecar_actions_total{action="bulk_retry_and_remove",outcome="ok",resque="main"} 1.0' in metrics
    assert 'resque_sidecar_actions_total{action="bulk_retry_and_remove",outcome="dry_run",resque="main"} 1.0' in metrics
    assert "No failures in main. All clear." in client.get("/failures?resque=main").text


def test_read_only_post_is_refused_by_the_service_and_audited() -> None:
    client, service = app_for()
    login(client, VIEWER)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert csrf is not None
    response = client.post(
        "/failures/bulk", data={"csrf": csrf.group(1), "resque": "main", "action": "remove", "confirm": "yes"}
    )
    assert response.status_code == 403
    metrics = generate_latest(service.audit.registry).decode()
    assert 'resque_sidecar_actions_total{action="bulk_remove",outcome="forbidden",resque="main"} 1.0' in metrics


def test_the_workers_page_keeps_a_place_for_agent_buttons() -> None:
    agent, _ = app_for(agent=True)
    login(agent, OPERATOR)
    page = agent.get("/workers?resque=main&host=vm")  # one host: its idle workers are listed one by one
    assert page.status_code == 200 and 'data-worker-actions="vm:10:mail"' in page.text
