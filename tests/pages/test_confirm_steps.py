"""The confirm steps of the pages in process (Starlette's TestClient, fakeredis): a destructive click first shows
what it would hit (class, queue, arguments, age or runtime, worker and host), the confirmation acts on exactly
that, and the result names it. Retry never wears the danger colour; remove, unregister, kill and stop do."""

from __future__ import annotations

import html
import re
from typing import Any

import fakeredis
import pytest
import redis
from fastapi.testclient import TestClient

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.build import build_sidecar

OPERATOR = "operator-token-0123456789abcdef"
VIEWER = "viewer-token-0123456789abcdef00"
SECRET = "hunter2-secret"


class Pages:
    def __init__(self, token: str = OPERATOR) -> None:
        self.redis: redis.Redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        self.writer = ResqueWriter(self.redis, "resque", "vm")
        worker = self.writer.register_worker(10, ["mail"])
        for n in range(3):
            self.writer.enqueue("mail", "MailJob", [n, {"password": SECRET, "to": f"user{n}@example.com"}])
            self.writer.start_job(worker)
            self.writer.fail_job(worker, "Net::ReadTimeout", f"timeout {n}", ["/srv/app/mail.rb:3:in `perform'"])
        handles = {"main": ResqueHandle("main", DataStore(self.redis))}
        service = RemediationService(handles, Audit(handles))
        tokens = TokenStore([("alice", "operator", OPERATOR), ("viewer", "read-only", VIEWER)])
        built = build_sidecar(service, tokens, agent_available=True)
        self.http = TestClient(built.app)
        form = self.http.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        self.http.post("/login", data={"csrf": csrf.group(1), "token": token}, follow_redirects=False)
        found = re.search(r'name="csrf" value="([^"]+)"', self.http.get("/").text)
        assert found is not None
        self.csrf = found.group(1)

    def post(self, path: str, **form: Any) -> Any:
        return self.http.post(path, data={"csrf": self.csrf, **{k: str(v) for k, v in form.items()}})


def hidden(page: str) -> dict[str, str]:
    """The hidden fields of the page's confirm form (the one whose button is primary)."""
    form = page[page.rindex("<form", 0, page.index('class="primary')) :]
    return {html.unescape(n): html.unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form)}


def main_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page[page.index("<main") : page.index("</main>")]))


def first_failed(pages: Pages) -> dict[str, Any]:
    raw = pages.redis.lindex("resque:failed", 1)
    assert raw is not None
    listed = pages.http.get("/failures?resque=main&list=failed&class=MailJob&exception=Net%3A%3AReadTimeout").text
    ids = re.findall(r'name="id" value="([0-9a-f]{32})"', listed)
    return {"resque": "main", "id": ids[0], "list": "failed", "index": 2, "action": "remove", "back": "/failures"}


def test_remove_of_a_failed_job_confirms_the_job_and_removes_exactly_it() -> None:
    pages = Pages()
    entry = first_failed(pages)  # the newest is listed first: index 2
    step = pages.post("/failures/entry", **entry)
    assert step.status_code == 200 and pages.redis.llen("resque:failed") == 3  # a confirm step changes nothing
    text = main_text(step.text)
    assert "Remove this failed job?" in text and "MailJob" in text and "mail" in text
    assert "user2@example.com" in text and SECRET not in step.text  # arguments shown, sensitive keys masked
    assert "Net::ReadTimeout: timeout 2" in text and "vm:10:mail" in text
    assert 'class="primary danger">Remove this failed job' in step.text
    fields = hidden(step.text)
    assert (fields["id"], fields["index"], fields["confirm"]) == (entry["id"], "2", "yes")

    done = pages.post("/failures/entry", **{k: v for k, v in fields.items() if k != "csrf"})
    assert done.status_code == 200, done.text
    result = main_text(done.text)
    assert "Removed the failed job MailJob from queue mail, arguments [2," in result and entry["id"] not in result
    remaining = [r.decode() for r in pages.redis.lrange("resque:failed", 0, -1)]
    assert len(remaining) == 2 and all("timeout 2" not in r for r in remaining)


def test_a_confirmation_of_an_entry_gone_meanwhile_does_nothing_and_says_so() -> None:
    pages = Pages()
    entry = first_failed(pages)
    fields = hidden(pages.post("/failures/entry", **entry).text)
    raw = pages.redis.lindex("resque:failed", 2)
    assert raw is not None
    pages.redis.lrem("resque:failed", 1, raw)  # someone removed it after the confirm page was shown
    pages.redis.rpush("resque:failed", raw.replace(b"timeout 2", b"timeout 9"))
    done = pages.post("/failures/entry", **{k: v for k, v in fields.items() if k != "csrf"})
    assert done.status_code == 409 and "no longer" in main_text(done.text)
    assert pages.redis.llen("resque:failed") == 3


def test_retry_buttons_are_not_danger_remove_buttons_are() -> None:
    pages = Pages()
    group = pages.http.get("/failures?resque=main&list=failed&class=MailJob&exception=Net%3A%3AReadTimeout").text
    buttons = re.findall(r'<button type="submit" class="([^"]*)">([^<]+)</button>', group)
    assert buttons and all(("danger" in cls) == label.startswith("Remove") for cls, label in buttons), buttons
    retry = pages.post("/failures/bulk", resque="main", action="retry", **{"class": "MailJob"})
    assert 'class="primary">Retry 3 entries' in retry.text
    remove = pages.post("/failures/bulk", resque="main", action="remove", **{"class": "MailJob"})
    assert 'class="primary danger">Remove 3 entries' in remove.text


def test_a_bulk_run_reports_entries_new_since_its_dry_run_and_leaves_them() -> None:
    pages = Pages()
    dry = pages.post("/failures/bulk", resque="main", action="remove", **{"class": "MailJob"})
    assert "<strong>3</strong> entries will change." in dry.text and "user0@example.com" in main_text(dry.text)
    fields = hidden(dry.text)
    worker = pages.writer.register_worker(11, ["mail"])
    pages.writer.enqueue("mail", "MailJob", [3])
    pages.writer.start_job(worker)
    pages.writer.fail_job(worker, "Net::ReadTimeout", "timeout 3")
    done = pages.post("/failures/bulk", **{k: v for k, v in fields.items() if k != "csrf"})
    text = main_text(done.text)
    assert "3 entries changed (remove)." in text and "Not touched: 1 new since your dry run." in text
    assert pages.redis.llen("resque:failed") == 1
    again = hidden(done.text.replace('<button type="submit" class="">Dry run for the 1 new', 'class="primary"'))
    assert again["class"] == "MailJob" and "confirm" not in again and "token" not in again
    second = pages.post("/failures/bulk", **{k: v for k, v in again.items() if k != "csrf"})
    assert "<strong>1</strong> entries will change." in second.text


def test_a_bulk_run_without_its_token_is_refused_with_the_dry_run_as_next_step() -> None:
    pages = Pages()
    refused = pages.post("/failures/bulk", resque="main", action="remove", confirm="yes", **{"class": "MailJob"})
    assert refused.status_code == 409 and "dry run" in main_text(refused.text)
    assert ">Dry run first</button>" in refused.text and pages.redis.llen("resque:failed") == 3


def test_remove_of_a_queued_job_confirms_it_and_names_it() -> None:
    pages = Pages()
    pages.writer.enqueue("mail", "MailJob", [7, {"password": SECRET}])
    pages.writer.enqueue("mail", "OtherJob", [8])
    page = pages.http.get("/queues?resque=main&queue=mail").text
    job_id = re.findall(r'name="id" value="([0-9a-f]{32})"', page)[0]
    step = pages.post("/queues/remove", resque="main", queue="mail", id=job_id, index=0, back="/queues")
    text = main_text(step.text)
    assert "Remove this queued job?" in text and "MailJob" in text and "next to run" in text and SECRET not in text
    assert pages.redis.llen("resque:queue:mail") == 2
    done = pages.post("/queues/remove", **{k: v for k, v in hidden(step.text).items() if k != "csrf"})
    assert "Removed MailJob from queue mail, arguments [7," in main_text(done.text)
    assert pages.redis.lrange("resque:queue:mail", 0, -1) == [b'{"class":"OtherJob","args":[8]}']


def test_unregister_confirms_the_worker_and_its_job_and_refuses_if_it_changed() -> None:
    pages = Pages()
    now = pages.writer.server_time()
    dead = pages.writer.register_worker(20, ["mail"], host="batch-1", at=now - 3600)
    pages.writer.enqueue("mail", "MailJob", [5])
    pages.writer.start_job(dead, run_at=now - 3600)
    step = pages.post("/workers/unregister", resque="main", worker=dead, back="/workers")
    text = main_text(step.text)
    assert f"Unregister worker {dead}?" in text and "batch-1" in text and "MailJob" in text and "1 h" in text
    fields = {k: v for k, v in hidden(step.text).items() if k != "csrf"}
    assert fields["run_at"] and fields["worker"] == dead

    pages.redis.set(f"resque:worker:{dead}:started", "2099-01-01 00:00:00 +0000")  # another process, same id
    stale = pages.post("/workers/unregister", **fields)
    assert stale.status_code == 409 and "another process" in main_text(stale.text)
    assert pages.redis.sismember("resque:workers", dead)

    fields["started"] = "2099-01-01 00:00:00 +0000"
    done = pages.post("/workers/unregister", **fields)
    lines = main_text(done.text)
    assert f"Worker {dead} on batch-1 unregistered." in lines and "Its in-flight job MailJob from queue mail" in lines
    assert not pages.redis.sismember("resque:workers", dead)


def test_kill_job_and_stop_now_confirm_first_and_pause_does_not() -> None:
    pages = Pages()
    worker = pages.writer.register_worker(30, ["mail"], host="web-1")
    pages.writer.enqueue("mail", "ReportJob", [{"id": 9}])
    pages.writer.start_job(worker)
    for action, heading in (("kill_job", "Kill this job?"), ("stop_now", "Stop this worker now?")):
        step = pages.post("/workers/agent", resque="main", worker=worker, action=action, back="/workers")
        text = main_text(step.text)
        assert step.status_code == 200 and heading in text and "ReportJob" in text and "web-1" in text
        assert hidden(step.text)["run_at"] and hidden(step.text)["action"] == action
    paused = pages.post("/workers/agent", resque="main", worker=worker, action="pause", back="/workers")
    assert "Confirm" not in paused.text.split("<main", 1)[1][:200]  # straight to the agent (none runs here)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/failures/entry", {"resque": "main", "id": "0" * 32, "action": "remove"}),
        ("/queues/remove", {"resque": "main", "queue": "mail", "id": "0" * 32}),
        ("/workers/unregister", {"resque": "main", "worker": "vm:10:mail"}),
    ],
)
def test_a_read_only_session_gets_no_confirm_step(path: str, form: dict[str, str]) -> None:
    pages = Pages(VIEWER)
    assert pages.post(path, **form).status_code == 403
