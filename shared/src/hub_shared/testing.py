"""Real infrastructure for tests, as a pytest plugin (``pytest_plugins = ["hub_shared.testing"]``).

Each part is found in this order:
1. given: ``KAFKA_BOOTSTRAP_SERVERS`` / ``HUB_TEST_POSTGRES_URL`` (an admin URL);
2. testcontainers, when a Docker daemon answers (a developer's laptop);
3. the project's own scripts (deploy/kafka.sh, deploy/postgres.sh), on test ports, with
   state under .state/test-*, which is what CI on a machine without Docker uses.
"""

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[3]
TEST_KAFKA_PORT = int(os.environ.get("HUB_TEST_KAFKA_PORT", "19092"))
TEST_PG_PORT = int(os.environ.get("HUB_TEST_PG_PORT", "15433"))


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


@dataclass
class KafkaUnderTest:
    bootstrap_servers: str
    script_env: dict[str, str] | None = None  # set when this run owns the broker process

    @property
    def controllable(self) -> bool:
        return self.script_env is not None

    def _script(self, action: str) -> None:
        assert self.script_env is not None, "only a broker started by deploy/kafka.sh can be stopped"
        subprocess.run([str(REPO / "deploy" / "kafka.sh"), action], env=self.script_env, check=True)

    def stop(self) -> None:
        self._script("stop")

    def start(self) -> None:
        self._script("start")


def pytest_configure(config: pytest.Config) -> None:
    """Tests run in development mode: services make this machine's secrets (.state/secrets)
    instead of refusing to start without them (tests of that unset it)."""
    os.environ.setdefault("HUB_DEVELOPMENT_MODE", "1")


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaUnderTest]:
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield KafkaUnderTest(given)
        return
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield KafkaUnderTest(container.get_bootstrap_server())
        return
    state = REPO / ".state" / "test-kafka"
    shutil.rmtree(state, ignore_errors=True)  # a fresh cluster: no topics or offsets from earlier runs
    env = {**os.environ, "KAFKA_PORT": str(TEST_KAFKA_PORT), "KAFKA_STATE_DIR": str(state)}
    broker = KafkaUnderTest(f"127.0.0.1:{TEST_KAFKA_PORT}", env)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A libpq URL to a server where the tests may create databases."""
    given = os.environ.get("HUB_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver=None) as container:
            yield container.get_connection_url()
        return
    env = {**os.environ, "PG_PORT": str(TEST_PG_PORT), "PG_STATE_DIR": str(REPO / ".state" / "test-postgres")}
    subprocess.run([str(REPO / "deploy" / "postgres.sh"), "start"], env=env, check=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{TEST_PG_PORT}/postgres"
    finally:
        subprocess.run([str(REPO / "deploy" / "postgres.sh"), "stop"], env=env, check=False)


@pytest.fixture(scope="session")
def new_postgres_database(postgres_admin_url: str):  # type: ignore[no-untyped-def]
    """Factory: a fresh, empty database; returns its SQLAlchemy async URL."""
    created: list[str] = []

    def make(prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        base = postgres_admin_url.rsplit("/", 1)[0].split("://", 1)[1]
        return f"postgresql+psycopg://{base}/{name}"

    yield make
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class TcpProxy:
    """A loopback TCP proxy a test can cut: while cut, open connections are dropped and new
    ones refused, as when a database server goes away; ``restore`` lets them through again.
    Lets a test give a real driver a real outage without stopping a shared server."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.cut = False

    async def start(self) -> "TcpProxy":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.sever()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def sever(self) -> None:
        self.cut = True
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    def restore(self) -> None:
        self.cut = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, upstream_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.transport.abort()
                self._open.discard(dst)

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


class SmtpSink:
    """A real SMTP server in-process (aiosmtpd, on its own thread), keeping what it
    received for tests to read. ``refuse`` maps part of an address to an SMTP reply for
    RCPT (e.g. ``{"bounce": "550 5.1.1 No such user"}``); ``hold`` makes DATA wait, with
    the message already kept, until the test sets it (the window between the relay
    accepting a message and the sender recording the answer)."""

    def __init__(self) -> None:
        import threading

        self.messages: list[Any] = []
        self.refuse: dict[str, str] = {}
        self.hold: threading.Event | None = None
        self.arrived = threading.Event()
        self.port = 0
        self._controller: Any = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        for fragment, reply in self.refuse.items():
            if fragment in address:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import policy
        from email.parser import BytesParser

        self.messages.append(
            BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        )
        self.arrived.set()
        if self.hold is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait)
        return "250 Message accepted for delivery"

    def start(self, **controller: Any) -> "SmtpSink":
        """``controller``: aiosmtpd Controller/SMTP options (``tls_context`` with
        ``require_starttls``, ``ssl_context`` for implicit TLS, ``authenticator`` with
        ``auth_required``)."""
        import socket

        from aiosmtpd.controller import Controller

        if not self.port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **controller)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            if self.hold is not None:
                self.hold.set()
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
