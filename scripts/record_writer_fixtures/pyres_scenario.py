"""Drives real pyres 1.5 against the Redis on REDIS_PORT, then reports what pyres's own API says.

Run by record.py with a Python that has pyres installed (record.py makes that venv); not part of the
test run. Scenario: 3 OkJob + 2 FailJob on `pyfast`, 1 SlowJob on `pyslow`, 4 MailJob on `pymail` (no
worker listens), one MailJob delayed by an hour. A worker on pyfast,pyslow works pyfast, then forks for
SlowJob, which is running at the dump. The report is one JSON line on stdout; the worker keeps running
until stdin closes.
"""

import datetime
import json
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pyjobs
from pyres import ResQ, failure
from pyres.worker import Worker

SERVER = f"127.0.0.1:{os.environ['REDIS_PORT']}"


def work() -> None:
    Worker.run(["pyfast", "pyslow"], server=SERVER, interval=1)


def wait_for(check, what):
    deadline = time.time() + 30
    while not check():
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def main() -> None:
    resq = ResQ(server=SERVER)
    for n in range(1, 5):
        resq.enqueue(pyjobs.MailJob, f"user{n}@example.com", {"template": "welcome", "n": n})
    later = datetime.datetime.now() + datetime.timedelta(hours=1)
    resq.enqueue_at(later, pyjobs.MailJob, "later@example.com", {"template": "reminder", "n": 5})
    for n in range(1, 4):
        resq.enqueue(pyjobs.OkJob, n)
    for n in range(1, 3):
        resq.enqueue(pyjobs.FailJob, n)
    resq.enqueue_from_string("pyjobs.SlowJob", "pyslow", 600)

    worker = multiprocessing.Process(target=work, daemon=True)
    worker.start()
    wait_for(lambda: resq.size("pyfast") == 0 and resq.size("pyslow") == 0, "the worker to take every job")
    wait_for(lambda: any(Worker.find(w, resq).job() for w in resq.workers()), "SlowJob to run")
    wait_for(lambda: failure.count(resq) == 2 and int(resq.redis.get("resque:stat:processed") or 0) == 5, "stats")

    workers = {}
    for worker_id in resq.workers():
        found = Worker.find(worker_id, resq)
        workers[worker_id] = {
            "state": found.state(),
            "job": found.job(),
            "processed": found.get_processed(),
            "failed": found.get_failed(),
        }
    report = {
        "info": {k: v for k, v in resq.info().items() if k != "servers"},
        "queues": sorted(resq.queues()),
        "sizes": {q: resq.size(q) for q in sorted(resq.queues())},
        "failure_count": failure.count(resq),
        "failures": [{k: v for k, v in f.items() if k != "redis_value"} for f in failure.all(resq, 0, 100)],
        "workers": workers,
        "delayed_timestamps": resq.delayed_queue_schedule_size(),
        "worker_pid": worker.pid,
    }
    sys.stdout.write(json.dumps(report, default=str) + "\n")
    sys.stdout.flush()
    sys.stdin.read()
    worker.kill()  # SlowJob's child keeps its record, as on a host that died
    os._exit(0)


if __name__ == "__main__":
    main()
