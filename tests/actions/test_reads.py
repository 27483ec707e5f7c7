"""The pages' reads go through the service: a down Redis is Unavailable with a reason for a banner, an unknown
failure list is Invalid, and the failure groups are read to their end in the background."""

from __future__ import annotations

import fakeredis
import pytest

from resque_exporter.actions import Audit, Invalid, RemediationService, ResqueHandle, Unavailable
from resque_exporter.actions.reads import PageReads
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.mutations import FailedFilter
from resque_exporter.resque.writer import ResqueWriter


def reads_over(server: fakeredis.FakeServer, failures: int = 0) -> PageReads:
    client = fakeredis.FakeRedis(server=server)
    if failures:
        writer = ResqueWriter(client, "resque", "vm")
        worker = writer.register_worker(10, ["mail"])
        for n in range(failures):
            writer.enqueue("mail", "MailJob", [n])
            writer.start_job(worker)
            writer.fail_job(worker, "Net::ReadTimeout", f"timeout {n}", ["/srv/app/mail.rb:3:in `perform'"])
    handles = {"main": ResqueHandle("main", DataStore(client))}
    return PageReads(RemediationService(handles, Audit(handles)))


def test_groups_entries_and_samples_of_a_readable_resque() -> None:
    reads = reads_over(fakeredis.FakeServer(), failures=3)
    view = reads.failure_groups("main")
    assert reads.wait_caught_up("main", timeout=10)
    (group,) = view.groups
    assert (group.job_class, group.exception, group.count) == ("MailJob", "Net::ReadTimeout", 3)
    flt = FailedFilter(job_class="MailJob", exception="Net::ReadTimeout")
    entries = reads.group_entries("main", "failed", flt, before=None, limit=2)
    assert [e.error for e in entries.entries] == ["timeout 2", "timeout 1"] and entries.next_before == 1
    sample = reads.group_sample("main", group)
    assert sample is not None and sample.error == "timeout 2"
    assert reads.snapshot("main").failed == 3


def test_an_unknown_failure_list_is_invalid() -> None:
    reads = reads_over(fakeredis.FakeServer(), failures=1)
    with pytest.raises(Invalid):
        reads.group_entries("main", "resque:queues", FailedFilter(), before=None, limit=20)


def test_a_down_redis_is_unavailable_with_a_reason_for_the_banner() -> None:
    server = fakeredis.FakeServer()
    server.connected = False
    reads = reads_over(server)
    for read in (reads.snapshot, reads.failure_groups):
        with pytest.raises(Unavailable) as caught:
            read("main")
        assert caught.value.reason == "ConnectionError: FakeRedis is emulating a connection error."
        assert "emulating" not in caught.value.message  # the API's body never carries the Redis error's text
