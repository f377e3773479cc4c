"""Real infrastructure for tests, as a pytest plugin (``pytest_plugins = ["hub_shared.testing"]``).

Each part is found in this order:
1. given: ``KAFKA_BOOTSTRAP_SERVERS`` / ``HUB_TEST_POSTGRES_URL`` (an admin URL);
2. testcontainers, when a Docker daemon answers (a developer's laptop);
3. the project's own scripts (deploy/kafka.sh, deploy/postgres.sh), on test ports, with
   state under .state/test-*, which is what CI on a machine without Docker uses.

A run with several processes (pytest-xdist, ``make test``) starts one broker and one
PostgreSQL: the first process that needs one starts it, under a file lock, and the others
wait for it and reuse it; the process that started the run stops them at its end. Each
process keeps to its own part of them: its own databases (``new_postgres_database``) and
its own topics (``HUB_TOPIC_PREFIX``, set here for each xdist worker, read by
``hub_shared.topics``); consumer groups named with ``consumer_group``.
"""

import asyncio
import fcntl
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import URL, make_url

from hub_shared import migrations

REPO = Path(__file__).resolve().parents[3]
TEST_KAFKA_PORT = int(os.environ.get("HUB_TEST_KAFKA_PORT", "19092"))  # its controller: the next port
TEST_PG_PORT = int(os.environ.get("HUB_TEST_PG_PORT", "15433"))
# A second broker, for the tests that stop one (the shared one stays up): two ports above.
PRIVATE_KAFKA_PORT = int(os.environ.get("HUB_TEST_PRIVATE_KAFKA_PORT", str(TEST_KAFKA_PORT + 2)))
RUN_DIR_VARIABLE = "HUB_TEST_RUN_DIR"  # where the processes of one run agree who starts what

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if WORKER:
    # Before any test module imports hub_shared.topics (this plugin loads first).
    os.environ.setdefault("HUB_TOPIC_PREFIX", f"test-{WORKER}.")
    _topics = sys.modules.get("hub_shared.topics")
    if _topics is not None and os.environ["HUB_TOPIC_PREFIX"] != _topics.PREFIX:  # type: ignore[attr-defined]
        raise RuntimeError("hub_shared.topics was imported before hub_shared.testing set this worker's topic prefix")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lasting_port() -> int:
    """A free port no other process will be handed before the caller binds it, minutes
    later: one below the system's ephemeral range (``free_port``'s, and every outgoing
    connection's), where only a server that names the port can take it."""
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    lowest = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32768
    candidates = list(range(20000, max(20001, lowest)))
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


def consumer_group(name: str) -> str:
    """A consumer group's name in this test process: with the topic prefix, so that the
    same group in another worker (reading other topics) never shares its partitions."""
    return os.environ.get("HUB_TOPIC_PREFIX", "") + name


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def pytest_configure(config: pytest.Config) -> None:
    # Tests run in development mode: services make this machine's secrets (.state/secrets)
    # instead of refusing to start without them (tests of that unset it).
    os.environ.setdefault("HUB_DEVELOPMENT_MODE", "1")
    config.addinivalue_line(
        "markers", "kafka: needs the real broker (added to every test using the kafka fixture; not in make test-quick)"
    )
    config.addinivalue_line(
        "markers", "postgres: needs the real PostgreSQL (added to every test using it; not in make test-quick)"
    )
    config.addinivalue_line(
        "markers", "chromium: drives Debian's Chromium (every test using the browser fixture; never skipped)"
    )
    config.addinivalue_line(
        "markers",
        "long(seconds=N): a module of about N seconds in a parallel run (pytestmark); long modules "
        "start first, longest first, so that a parallel run never waits for one at the end",
    )
    if not hasattr(config, "workerinput") and RUN_DIR_VARIABLE not in os.environ:
        # The process that started the run; xdist's workers, started after this, inherit it.
        os.environ[RUN_DIR_VARIABLE] = tempfile.mkdtemp(prefix="hub-test-run-")
        config.stash[_owned_run_dir] = Path(os.environ[RUN_DIR_VARIABLE])


_owned_run_dir = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)  # before -m selects by these marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark what each test needs, from the fixtures it uses; then order the modules for
    xdist's loadscope, which hands each worker a module at a time: the long modules first,
    longest first (so that none is left to start near the end, alone), then the rest in their
    own order. A worker whose module has two tests or fewer left is handed the next at once:
    a long module of one or two tests is followed by a short one, not by the next long one.
    Tests keep their order within a module (end-to-end tests build on each other's data)."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if "kafka" in used:
            item.add_marker(pytest.mark.kafka)
        if "postgres_admin_url" in used:
            item.add_marker(pytest.mark.postgres)
        if "browser" in used:
            item.add_marker(pytest.mark.chromium)
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)

    def seconds(module: str) -> float:
        marks = (item.get_closest_marker("long") for item in modules[module])
        return max((mark.kwargs.get("seconds", 0) for mark in marks if mark is not None), default=0)

    long = sorted((m for m in modules if seconds(m) > 0), key=seconds, reverse=True)
    short = [m for m in modules if seconds(m) == 0]
    ordered: list[pytest.Item] = []
    for module in long:
        ordered += modules[module]
        if len(modules[module]) <= 2 and short:
            ordered += modules[short.pop(0)]
    for module in short:
        ordered += modules[module]
    items[:] = ordered


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's process stops what any of its processes started, once all are done."""
    run_dir = config.stash.get(_owned_run_dir, None)
    if run_dir is None:
        return
    for record in sorted(run_dir.glob("*.json")):
        started = json.loads(record.read_text())
        if "stop" in started:
            subprocess.run(started["stop"], env={**os.environ, **started["env"]}, check=False)
    shutil.rmtree(run_dir, ignore_errors=True)
    os.environ.pop(RUN_DIR_VARIABLE, None)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def started_once(name: str, start: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """What ``start`` returned, run by the first process of this run to ask for ``name``;
    the others wait for it and get the same. ``start`` returns ``stop`` (a command) and
    ``env`` for the run's end."""
    run_dir = Path(os.environ[RUN_DIR_VARIABLE])
    record = run_dir / f"{name}.json"
    with _locked(run_dir / f"{name}.lock"):
        if record.exists():
            started = json.loads(record.read_text())
            if "error" in started:
                raise RuntimeError(f"{name} did not start in another test process: {started['error']}")
            return started  # type: ignore[no-any-return]
        try:
            started = start()
        except BaseException as error:
            record.write_text(json.dumps({"error": repr(error)}))
            raise
        record.write_text(json.dumps(started))
        return started


@dataclass
class KafkaUnderTest:
    bootstrap_servers: str
    script_env: dict[str, str] | None = None  # set for a broker a test may stop (private_kafka)

    @property
    def controllable(self) -> bool:
        return self.script_env is not None

    def _script(self, action: str) -> None:
        assert self.script_env is not None, "only a test's private broker can be stopped"
        subprocess.run([str(REPO / "deploy" / "kafka.sh"), action], env=self.script_env, check=True)

    def stop(self) -> None:
        self._script("stop")

    def start(self) -> None:
        self._script("start")


# A test broker lives for minutes, on a machine where CPU is what a run waits for: with the
# JVM's quick compiler alone (no C2) its start took 9.1 CPU seconds instead of 13.8 (cpuacct,
# one start each); the serial collector, with no collector threads beside the broker's on two
# cores, took a tenth less of its CPU through the same tests (20.8 s instead of 23.1).
TEST_BROKER_JVM = {"KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m -XX:TieredStopAtLevel=1", "KAFKA_GC_OPTS": "-XX:+UseSerialGC"}


def _kafka_env(port: int, state: Path) -> dict[str, str]:
    given = {name: os.environ[name] for name in TEST_BROKER_JVM if name in os.environ}
    return {"KAFKA_PORT": str(port), "KAFKA_STATE_DIR": str(state), **TEST_BROKER_JVM, **given}


def _start_kafka(port: int, state: Path) -> dict[str, Any]:
    """A fresh broker: no topics or offsets from earlier runs (one left running by an
    interrupted run is stopped first)."""
    env = _kafka_env(port, state)
    script = str(REPO / "deploy" / "kafka.sh")
    subprocess.run([script, "stop"], env={**os.environ, **env}, check=False, capture_output=True)
    if state.exists():  # the last run's cluster goes in the background: hundreds of databases' files
        old = state.with_name(f"{state.name}.old-{os.getpid()}")
        state.rename(old)
        subprocess.Popen(["rm", "-rf", str(old)], start_new_session=True)
    subprocess.run([script, "start"], env={**os.environ, **env}, check=True)
    return {"bootstrap_servers": f"127.0.0.1:{port}", "stop": [script, "stop"], "env": env}


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaUnderTest]:
    """The run's broker, shared by every test process (not to be stopped: see private_kafka)."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield KafkaUnderTest(given)
        return
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield KafkaUnderTest(container.get_bootstrap_server())
        return
    started = started_once("kafka", lambda: _start_kafka(TEST_KAFKA_PORT, REPO / ".state" / "test-kafka"))
    yield KafkaUnderTest(started["bootstrap_servers"])


@pytest.fixture
def private_kafka() -> Iterator[KafkaUnderTest]:
    """A broker of this test's own, which it may stop and start (deploy/kafka.sh, on
    HUB_TEST_PRIVATE_KAFKA_PORT and the next port); stopped after the test."""
    with _locked(Path(os.environ[RUN_DIR_VARIABLE]) / "private-kafka.lock"):  # one port: one at a time
        started = _start_kafka(PRIVATE_KAFKA_PORT, REPO / ".state" / "test-kafka-private")
        broker = KafkaUnderTest(started["bootstrap_servers"], {**os.environ, **started["env"]})
        try:
            yield broker
        finally:
            subprocess.run(started["stop"], env=broker.script_env, check=False)


def _start_postgres(port: int, state: Path) -> dict[str, Any]:
    """A fresh cluster: no databases from earlier runs (one left running by an interrupted
    run is stopped first), so that a run need not drop the ones it made."""
    env = {"PG_PORT": str(port), "PG_STATE_DIR": str(state)}
    script = str(REPO / "deploy" / "postgres.sh")
    subprocess.run([script, "stop"], env={**os.environ, **env}, check=False, capture_output=True)
    if state.exists():  # the last run's cluster goes in the background: hundreds of databases' files
        old = state.with_name(f"{state.name}.old-{os.getpid()}")
        state.rename(old)
        subprocess.Popen(["rm", "-rf", str(old)], start_new_session=True)
    subprocess.run([script, "start"], env={**os.environ, **env}, check=True)
    return {"url": f"postgresql://postgres@127.0.0.1:{port}/postgres", "stop": [script, "stop"], "env": env}


_server_outlives_run = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def postgres_admin_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A libpq URL to a server where the tests may create databases."""
    given = os.environ.get("HUB_TEST_POSTGRES_URL")
    if given:
        request.config.stash[_server_outlives_run] = True
        yield given
        return
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver=None) as container:
            yield container.get_connection_url()
        return
    started = started_once("postgres", lambda: _start_postgres(TEST_PG_PORT, REPO / ".state" / "test-postgres"))
    yield started["url"]


@pytest.fixture(scope="session")
def new_postgres_database(postgres_admin_url: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Factory: a fresh database; returns its SQLAlchemy async URL. Empty, or given a
    service's migrations folder, at the newest schema already (a copy of the process's
    migrated template, as ``migrated`` makes: one CREATE DATABASE instead of two). Dropped at
    the end only on a server that outlives the run (a given one): a server of the run's own
    is thrown away whole (each DROP DATABASE forces a checkpoint: 112 of them took the last
    7 minutes of a run on a busy machine)."""
    created: list[str] = []
    server = make_url(postgres_admin_url).set(drivername="postgresql+psycopg")

    def make(prefix: str, migrations_dir: Path | None = None) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        url = server.set(database=name)
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            if migrations_dir is None:
                conn.execute(f'CREATE DATABASE "{name}"')
            else:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template(conn, migrations_dir, url)}"')
        created.append(name)
        return url.render_as_string(hide_password=False)

    yield make
    if not request.config.stash.get(_server_outlives_run, False):
        return
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        for name in created + _leftovers:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Migrated copies (``migrated``): per test process, a migrations folder's template, and on a
# server that outlives the run, the databases to drop at its end.
_templates: dict[tuple[Path, str], str] = {}
_leftovers: list[str] = []


def migrated(migrations_dir: Path, database_url: str) -> None:
    """Bring a test's new, empty database to the newest schema, as ``migrations.upgrade``
    does, at the cost of a copy. The first time in a test process, a service's migrations run
    into a template of the same kind (SQLite or PostgreSQL); every later database is a copy
    of it: a SQLite file copied, a PostgreSQL database made from the template. Running every
    migration for every test was the largest part of setting a test up (SQLite rebuilds a
    table to alter it). A database that already has tables is upgraded as it is."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _copy_sqlite(migrations_dir, Path(url.database or ""))
    else:
        _copy_postgres(migrations_dir, url)


def _copy_sqlite(migrations_dir: Path, path: Path) -> None:
    if str(path) in ("", ":memory:") or (path.exists() and path.stat().st_size > 0):
        migrations.upgrade(migrations_dir, f"sqlite:///{path}")
        return
    key = (migrations_dir, "sqlite")
    if key not in _templates:
        template = Path(tempfile.mkdtemp(prefix="hub-schema-")) / "template.db"
        migrations.upgrade(migrations_dir, f"sqlite:///{template}")
        _templates[key] = str(template)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_templates[key], path)


def _copy_postgres(migrations_dir: Path, url: URL) -> None:
    libpq = url.set(drivername="postgresql")
    with psycopg.connect(libpq.render_as_string(hide_password=False)) as db:
        has_tables = db.execute("SELECT 1 FROM pg_tables WHERE schemaname = 'public' LIMIT 1").fetchone()
    if has_tables:
        migrations.upgrade(migrations_dir, url.render_as_string(hide_password=False))
        return
    target = url.database
    with psycopg.connect(libpq.set(database="postgres").render_as_string(hide_password=False), autocommit=True) as conn:
        template = _postgres_template(conn, migrations_dir, url)
        # The empty database steps aside under another name rather than being dropped: every
        # DROP DATABASE forces a checkpoint (see new_postgres_database).
        conn.execute(f'ALTER DATABASE "{target}" RENAME TO "{target}_empty"')
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{template}"')
        _leftovers.append(f"{target}_empty")


def _postgres_template(conn: "psycopg.Connection[Any]", migrations_dir: Path, url: URL) -> str:
    """This process's migrated template of ``migrations_dir`` on ``url``'s server, made the
    first time it is asked for."""
    key = (migrations_dir, "postgresql")
    if key not in _templates:
        template = f"template_{uuid.uuid4().hex[:12]}"
        conn.execute(f'CREATE DATABASE "{template}"')
        migrations.upgrade(migrations_dir, url.set(database=template).render_as_string(hide_password=False))
        _templates[key] = template
        _leftovers.append(template)
    return _templates[key]


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
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds. Soon at
    first, then less often, up to every half second: many checks read a whole topic with a
    new client, and ten of those a second through a long wait cost the broker and the test
    process CPU that the rest of the run is waiting for."""
    deadline = time.monotonic() + timeout
    pause = 0.05
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
