"""A real Redis Sentinel setup on loopback: a master, a replica and three `redis-sentinel` processes.

Sentinel rewrites its config file, so each sentinel gets one in a private temporary folder. Timings are
short (down after 1 s, failover timeout 5 s) so a test's failover takes seconds. Every process is stopped
by :meth:`SentinelSetup.stop`, by its id.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType

import redis

from .processes import launch
from .redis_server import HOST, RedisServer, free_port, no_retry
from .waiting import wait_for

MASTER_NAME = "resque-main"


class SentinelProcess:
    """One `redis-sentinel` watching `MASTER_NAME`."""

    def __init__(self, master_port: int, *, quorum: int, master_password: str | None, password: str | None) -> None:
        binary = shutil.which("redis-sentinel")
        if binary is None:
            raise RuntimeError("'redis-sentinel' was not found on PATH (Debian: apt-get install -y redis-sentinel)")
        self.password = password
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="resque-exporter-sentinel-"))
        lines = [
            f"port {self.port}",
            f"bind {HOST}",
            "daemonize no",
            f"dir {self._dir}",
            f"sentinel monitor {MASTER_NAME} {HOST} {master_port} {quorum}",
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
            f"sentinel failover-timeout {MASTER_NAME} 5000",
            f"sentinel parallel-syncs {MASTER_NAME} 1",
        ]
        if master_password is not None:
            lines.append(f"sentinel auth-pass {MASTER_NAME} {master_password}")
        if password is not None:
            lines += [f"requirepass {password}", f"sentinel sentinel-pass {password}"]
        config = self._dir / "sentinel.conf"
        config.write_text("\n".join(lines) + "\n")
        self.client = redis.Redis(HOST, self.port, password=password, socket_timeout=2, retry=no_retry())
        try:
            self._proc = launch(
                [binary, str(config)],
                what=f"redis-sentinel on port {self.port}",
                ready=self.client.ping,
                timeout=10,
                interval=0.02,
                log_to=self._dir / "sentinel.log",
                stop_timeout=5,
            )
        except BaseException:
            self.client.close()
            shutil.rmtree(self._dir, ignore_errors=True)
            raise

    def master_address(self) -> tuple[str, int]:
        host, port = self.client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
        return host.decode(), int(port)

    def log(self) -> str:
        return self._proc.output()

    def stop(self) -> None:
        self.client.close()
        self._proc.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


class SentinelSetup:
    """Master + replica + 3 sentinels (quorum 2). `master_args` are extra redis-server arguments (ACL users)."""

    def __init__(
        self,
        *,
        master_password: str | None = None,
        sentinel_password: str | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        auth = ("--masterauth", master_password) if master_password is not None else ()
        self.master = RedisServer(master_password, extra_args=extra_args + auth).start()
        self.replica = RedisServer(
            master_password, extra_args=(*extra_args, *auth, "--replicaof", HOST, str(self.master.port))
        ).start()
        self.sentinels: list[SentinelProcess] = []
        try:
            self._wait_for_sync()
            for _ in range(3):
                self.sentinels.append(
                    SentinelProcess(
                        self.master.port, quorum=2, master_password=master_password, password=sentinel_password
                    )
                )
            wait_for("the sentinels to discover each other and the replica", self._sentinels_see_each_other, timeout=30)
        except BaseException:
            self.stop()
            raise

    @property
    def addresses(self) -> list[str]:
        return [f"{HOST}:{sentinel.port}" for sentinel in self.sentinels]

    def _wait_for_sync(self) -> None:
        def synced() -> bool:
            info = self.replica.client().info("replication")
            return info.get("master_link_status") == "up"

        wait_for("the replica to sync", synced, timeout=30)

    def _sentinels_see_each_other(self) -> bool:
        for sentinel in self.sentinels:
            fields = sentinel.client.sentinel_master(MASTER_NAME)
            if int(fields["num-other-sentinels"]) < 2 or int(fields["num-slaves"]) < 1:
                return False
        return True

    def current_master_port(self) -> int:
        return self.sentinels[0].master_address()[1]

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.stop()
        self.replica.stop()
        self.master.stop()

    def __enter__(self) -> SentinelSetup:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
