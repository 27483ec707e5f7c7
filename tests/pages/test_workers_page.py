"""The workers and queues pages in process (TestClient, fakeredis written the way Resque writes): stuck, dead
and fat workers first, filters in the URL, the right buttons per state, live workers per queue.

What an agent measured reaches the pages on ``WorkerStatus.facts`` and ``Snapshot.agent_facts``; here the
DataStore's reads carry hand-made facts (support.measured_store), as they do once agents publish them.
"""

from __future__ import annotations

import re

import fakeredis
from fastapi.testclient import TestClient

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.actions.agent_actions import AgentActions
from resque_exporter.config.thresholds import QueueThresholds, Thresholds
from resque_exporter.resque.agent_channel import AgentChannel
from resque_exporter.resque.agent_facts import ProcessUsage, WorkerFacts
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.build import build_sidecar

from support.measured_store import MeasuredStore

OPERATOR = "operator-token-0123456789abcdef"
VIEWER = "viewer-token-0123456789abcdef00"
MIB = 1024**2
THRESHOLDS = Thresholds(queues={"mail": QueueThresholds(running_job_age_seconds=120, worker_rss_bytes=256 * MIB)})


class Fleet:
    def __init__(self, *, agent_hosts: tuple[str, ...] = ()) -> None:
        client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        writer = ResqueWriter(client, "resque", "vm")
        now = writer.server_time()
        self.stuck = writer.register_worker(11, ["mail"], "s1")
        writer.enqueue("mail", "SlowMailJob", [1])
        writer.start_job(self.stuck, run_at=now - 300)  # 5 min: over mail's 120 s, far under the default hour
        self.expired = writer.register_worker(12, ["mail"], "d1", at=now - 900)
        self.gone = writer.register_worker(13, ["mail"], "g1")  # its heartbeat is fresh: only the agent knows
        writer.enqueue("mail", "MailJob", [2])
        writer.start_job(self.gone, run_at=now - 5)
        self.fat = writer.register_worker(14, ["mail"], "f1")
        writer.enqueue("mail", "ReportJob", [3])
        writer.start_job(self.fat, run_at=now - 10)
        self.working = writer.register_worker(15, ["mail"], "w1")
        writer.enqueue("mail", "MailJob", [4])
        writer.start_job(self.working, run_at=now - 10)
        self.idle = [writer.register_worker(100 + n, ["mail", "low"], f"idle{n % 4}") for n in range(40)]
        for n in range(3):
            writer.enqueue("low", "LowJob", [n])
        store = MeasuredStore(client)
        handles = {"main": ResqueHandle("main", store)}
        service = RemediationService(handles, Audit(handles), thresholds={"main": THRESHOLDS})
        store.facts = {
            self.gone: WorkerFacts(self.gone, now - 1, True, now - 4, None, None),
            self.fat: WorkerFacts(
                self.fat, now - 1, False, None, ProcessUsage(14, 90 * MIB, 3.0), ProcessUsage(1414, 339 * MIB, 99.0)
            ),
        }
        for host in agent_hosts:
            AgentChannel.for_store(store).register_agent(host, version="test", pid=1, writers=["resque"])
        tokens = TokenStore([("alice", "operator", OPERATOR), ("viewer", "read-only", VIEWER)])
        agent = AgentActions(service, b"k" * 32) if agent_hosts else None
        self.http = TestClient(build_sidecar(service, tokens, agent=agent).app)
        self.service = service

    def login(self, token: str = OPERATOR) -> Fleet:
        form = self.http.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        assert self.http.post("/login", data={"csrf": csrf.group(1), "token": token}).status_code == 200
        return self

    def page(self, query: str) -> str:
        response = self.http.get(f"/workers?resque=main{query}")
        assert response.status_code == 200, response.text
        return response.text


def rows(html: str) -> list[tuple[str, str]]:
    """(worker id, state) of each table row, in page order."""
    return re.findall(r'<tr class="worker [^"]*" data-worker="([^"]+)" data-state="([^"]+)"', html)


def row_html(html: str, worker_id: str) -> str:
    start = html.index(f'data-worker="{worker_id}"')
    return html[start : html.index("</tr>", start)]


def test_stuck_dead_and_fat_lead_the_page_and_idle_workers_collapse() -> None:
    fleet = Fleet().login()
    html = fleet.page("")
    assert rows(html) == [
        (fleet.stuck, "stuck"),  # by mail's 120 s: the global hour would have said "working"
        (fleet.expired, "dead"),
        (fleet.gone, "dead"),
        (fleet.fat, "fat"),
        (fleet.working, "working"),
    ]
    assert html.index("Stuck, dead and fat (4)") < html.index("Working (1)") < html.index("idle0: 10 idle")
    assert html.count('data-worker="vm') == 0 and all(f"idle{n}: 10 idle" in html for n in range(4))
    assert "The agent on g1 saw the process exit at" in row_html(html, fleet.gone)
    assert "Its heartbeat expired: the last one is 9" in row_html(html, fleet.expired)
    fat = row_html(html, fleet.fat)
    assert "90 MiB / 339 MiB" in fat and "(limit 256 MiB)" in fat and "3% / 99%" in fat
    assert "(limit 2 min)" in row_html(html, fleet.stuck)


def test_filters_open_the_page_on_the_object() -> None:
    fleet = Fleet().login()
    assert rows(fleet.page("&state=stuck")) == [(fleet.stuck, "stuck")]
    assert rows(fleet.page("&state=dead")) == [(fleet.expired, "dead"), (fleet.gone, "dead")]
    assert rows(fleet.page("&state=fat")) == [(fleet.fat, "fat")]
    assert rows(fleet.page(f"&worker={fleet.gone}")) == [(fleet.gone, "dead")]
    assert rows(fleet.page("&host=f1")) == [(fleet.fat, "fat")]
    one_host = fleet.page("&host=idle1")  # a host's idle workers are listed one by one
    assert [state for _, state in rows(one_host)] == ["idle"] * 10
    by_queue = fleet.page("&queue=low&state=idle")
    assert (
        len(rows(by_queue)) == 40 and "Showing only queue <strong>low</strong> state <strong>idle</strong>" in by_queue
    )
    nothing = fleet.page("&host=nowhere")
    assert rows(nothing) == [] and "No worker matches these filters." in nothing
    counts = fleet.page("&queue=mail")
    assert 'href="/workers?resque=main&amp;queue=mail&amp;state=stuck">1 stuck</a>' in counts


def test_a_dead_worker_offers_unregister_and_never_a_kill() -> None:
    fleet = Fleet(agent_hosts=("s1", "d1", "g1", "f1", "w1")).login()
    html = fleet.page("")
    for dead in (fleet.expired, fleet.gone):
        row = row_html(html, dead)
        assert "Unregister" in row and "Kill job" not in row and "kill -USR1" not in row and "Stop now" not in row
        assert 'name="force"' not in row and 'name="reason"' not in row
    assert 'data-dead-by="agent"' in row_html(html, fleet.gone)
    assert 'data-dead-by="heartbeat"' in row_html(html, fleet.expired)
    for live in (fleet.stuck, fleet.fat, fleet.working):
        row = row_html(html, live)
        assert "Kill job" in row and "Stop now" in row and "Unregister" not in row
        assert "kill -USR1" not in row  # the agent acts there: no manual command


def test_without_an_agent_a_live_job_shows_the_manual_kill_and_read_only_sees_no_button() -> None:
    fleet = Fleet().login()
    html = fleet.page("")
    assert "kill -USR1 11" in row_html(html, fleet.stuck)
    assert "kill -USR1" not in row_html(html, fleet.gone)
    viewer = Fleet().login(VIEWER).page("")
    live = viewer.split('id="live"', 1)[1].split("</main>", 1)[0]
    assert rows(viewer) and "<button" not in live and "<form" not in live


def test_unregister_of_a_dead_worker_from_the_page() -> None:
    fleet = Fleet().login()
    csrf = re.search(r'name="csrf" value="([^"]+)"', fleet.page(""))
    assert csrf is not None
    form = {"csrf": csrf.group(1), "resque": "main", "worker": fleet.expired, "back": "/workers?resque=main"}
    step = fleet.http.post("/workers/unregister", data=form)  # the confirm step names the worker first
    assert step.status_code == 200 and f"Unregister worker {fleet.expired}?" in step.text
    confirmed = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', step.text))
    done = fleet.http.post("/workers/unregister", data=confirmed)
    assert done.status_code == 200 and f"Worker {fleet.expired} on " in done.text and " unregistered." in done.text
    assert fleet.expired not in [w for w, _ in rows(fleet.page(""))]


def test_the_queues_page_counts_live_workers_and_says_how_many_are_dead() -> None:
    fleet = Fleet().login()
    html = fleet.http.get("/queues?resque=main").text
    mail = html[html.index('queue=mail">mail</a>') :]
    mail = mail[: mail.index("</tr>")]
    # 45 registered on mail: the expired one and the one whose process the agent saw exit are not live.
    assert ">43</a>" in mail and "of 45 registered (2 dead)" in mail
    assert 'href="/workers?resque=main&amp;queue=mail"' in mail
    low = html[html.index('queue=low">low</a>') :]
    low = low[: low.index("</tr>")]
    assert ">40</a>" in low and "registered" not in low


def test_the_queues_page_opened_on_one_queue_shows_that_queue_alone() -> None:
    """Alert and attention links name a queue: the page opens on it, not on every queue of the Resque."""
    fleet = Fleet().login()
    html = fleet.http.get("/queues?resque=main&queue=mail").text
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    assert 'queue=mail">mail</a>' in table and 'queue=low">low</a>' not in table
    assert 'href="/queues?resque=main">All queues of main</a>' in html
