"""The failures page says what the agents knew of an entry: recorded for an orphan (warn before a retry), or
killed by an agent policy (which, and why). In process: fakeredis, the sidecar's app."""

from __future__ import annotations

import re

import fakeredis
from fastapi.testclient import TestClient

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.resque.agent_channel import AgentChannel
from resque_exporter.resque.agent_facts import HostFacts, PolicyKill, encode_host_facts
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.orphans import orphan_error
from resque_exporter.resque.worker_admin import DIRTY_EXIT, PRUNE_EXIT
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.build import build_sidecar

WARNING = "this job may have completed; a retry may run it twice"
OPERATOR = "operator-token-0123456789abcdef"


def login(http: TestClient) -> None:
    csrf = re.search(r'name="csrf" value="([^"]+)"', http.get("/login").text)
    assert csrf is not None
    response = http.post("/login", data={"csrf": csrf.group(1), "token": OPERATOR, "next": ""}, follow_redirects=False)
    assert response.status_code == 303


def page(exception: str) -> str:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    writer = ResqueWriter(client, "resque", "vm")
    now = writer.server_time()
    orphaned, killed, plain = (writer.register_worker(pid, ["mail"]) for pid in (10, 11, 12))
    for worker, exc, error in (
        (
            orphaned,
            PRUNE_EXIT,
            orphan_error(f"Worker {orphaned} did not gracefully exit", 4711, "2026/11/22 21:03:13 UTC"),
        ),
        (killed, DIRTY_EXIT, "Child process received unhandled signal pid 88 SIGKILL (signal 9)"),
        (plain, DIRTY_EXIT, "Child process received unhandled signal pid 99 SIGKILL (signal 9)"),
    ):
        writer.enqueue("mail", "MailJob", [worker])
        writer.start_job(worker)
        writer.fail_job(worker, exc, error, at=now)
    store = DataStore(client)
    kill = PolicyKill(killed, "fat-mail", "kill_job", "child uses 900 MB > 500 MB", now - 1, "mail", "MailJob", None)
    old = PolicyKill(plain, "fat-mail", "kill_job", "child uses 901 MB > 500 MB", now - 3600, "mail", "MailJob", None)
    AgentChannel.for_store(store).publish_facts("vm", encode_host_facts(HostFacts("vm", now, 1, (), (kill, old))))
    handles = {"main": ResqueHandle("main", store)}
    service = RemediationService(handles, Audit(handles))
    app = build_sidecar(service, TokenStore([("alice", "operator", OPERATOR)])).app
    http = TestClient(app)
    login(http)
    response = http.get("/failures", params={"resque": "main", "class": "MailJob", "exception": exception})
    assert response.status_code == 200
    return response.text


def test_an_orphans_failure_warns_before_its_retry() -> None:
    text = page(PRUNE_EXIT)
    assert 'data-note="orphan"' in text and WARNING in text
    assert "The job's process 4711 was still running at 2026/11/22 21:03:13 UTC" in text
    assert text.index(WARNING) < text.index("/failures/entry")  # before the entry's Retry button
    assert 'data-note="policy-kill"' not in text


def test_a_policy_kill_is_named_beside_the_failure_it_caused_and_only_that_one() -> None:
    text = page(DIRTY_EXIT)
    assert text.count('data-note="policy-kill"') == 1  # the kill an hour before the other failure explains nothing
    assert "Killed by the agent's policy <code>fat-mail</code> (kill_job): child uses 900 MB &gt; 500 MB" in text
    assert WARNING not in text
