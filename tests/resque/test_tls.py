"""TLS to a real redis-server (Debian's build has tls-port) with a test CA made here by the openssl CLI:
verification against a private CA, a client certificate the server requires, the server name checked.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from resque_exporter.config import load_config
from resque_exporter.metrics.reading import Reading
from resque_exporter.scrape.scraper import Scraper
from resque_exporter.scrape.targets import targets_from_config

from support.redis_server import RedisServer, free_port


def openssl(*args: str, cwd: Path) -> None:
    binary = shutil.which("openssl")
    if binary is None:
        raise RuntimeError("'openssl' was not found on PATH (Debian: apt-get install -y openssl)")
    subprocess.run([binary, *args], cwd=cwd, check=True, capture_output=True)


def make_pki(folder: Path) -> None:
    """A CA, a server certificate for `redis.test` (not for 127.0.0.1) and a client certificate."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=folder)  # fmt: skip
    (folder / "server.ext").write_text("subjectAltName=DNS:redis.test\n")
    certificates = (("server", "/CN=redis.test", ["-extfile", "server.ext"]), ("client", "/CN=exporter", []))
    for name, subject, ext in certificates:
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", f"{name}.key",
                "-out", f"{name}.csr", cwd=folder)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", f"{name}.crt", *ext, cwd=folder)  # fmt: skip
    # a second CA that signed nothing here: trusting it must fail verification
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other CA",
            "-keyout", "other.key", "-out", "other.crt", cwd=folder)  # fmt: skip


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> tuple[RedisServer, int, Path]:
    folder = tmp_path_factory.mktemp("pki")
    make_pki(folder)
    port = free_port()
    server = RedisServer(
        extra_args=(
            "--tls-port", str(port),
            "--tls-cert-file", str(folder / "server.crt"),
            "--tls-key-file", str(folder / "server.key"),
            "--tls-ca-cert-file", str(folder / "ca.crt"),
            "--tls-auth-clients", "yes",
        )
    )  # fmt: skip
    server.start()  # the plain port stays on loopback for seeding
    yield server, port, folder  # type: ignore[misc]
    server.stop()


def read_with(tmp_path: Path, port: int, tls: str) -> Reading:
    config = tmp_path / "config.yml"
    config.write_text(f"resques:\n  main:\n    redis_url: rediss://127.0.0.1:{port}/0\n    tls: {tls}\n")
    scraper = Scraper(targets_from_config(load_config(config)))
    try:
        (reading,) = scraper.read()
    finally:
        scraper.close()
    return reading


def test_tls_with_private_ca_client_certificate_and_server_name(
    tls_server: tuple[RedisServer, int, Path], tmp_path: Path
) -> None:
    server, port, folder = tls_server
    server.client().sadd("resque:queues", "mail")
    server.client().rpush("resque:queue:mail", '{"class":"MailJob","args":[]}')
    tls = (
        f'{{ca_file: "{folder}/ca.crt", cert_file: "{folder}/client.crt", key_file: "{folder}/client.key", '
        "server_name: redis.test}"
    )
    reading = read_with(tmp_path, port, tls)
    assert reading.snapshot is not None, reading.error_reason
    assert reading.snapshot.queues == {"mail": 1}


@pytest.mark.parametrize(
    "tls",
    [
        pytest.param('{{ca_file: "{f}/other.crt", cert_file: "{f}/client.crt", key_file: "{f}/client.key", '
                     "server_name: redis.test}}", id="untrusted CA"),
        pytest.param('{{ca_file: "{f}/ca.crt", cert_file: "{f}/client.crt", key_file: "{f}/client.key"}}',
                     id="name mismatch: the certificate is for redis.test, not 127.0.0.1"),
        pytest.param('{{ca_file: "{f}/ca.crt", server_name: redis.test}}', id="no client certificate"),
    ],
)  # fmt: skip
def test_tls_refusals_show_the_resque_down(tls_server: tuple[RedisServer, int, Path], tmp_path: Path, tls: str) -> None:
    _, port, folder = tls_server
    reading = read_with(tmp_path, port, tls.format(f=folder))
    assert reading.snapshot is None and reading.error_reason == "connection"


def test_verify_off_skips_the_checks(tls_server: tuple[RedisServer, int, Path], tmp_path: Path) -> None:
    _, port, folder = tls_server
    tls = f'{{cert_file: "{folder}/client.crt", key_file: "{folder}/client.key", verify: false}}'
    reading = read_with(tmp_path, port, tls)
    assert reading.snapshot is not None
