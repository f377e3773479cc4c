"""The commands every service image offers: ``migrate``, ``api``, ``relay`` and
``consume``. One service = one image; these are its entry points."""

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import typer
import uvicorn
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI
from faststream import FastStream
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared import migrations
from hub_shared.consumer import EventConsumer, new_broker
from hub_shared.db import create_engine, session_factory
from hub_shared.health import check_dependencies, kafka_ping
from hub_shared.logging import configure_logging, get_logger
from hub_shared.organisation_feed import following
from hub_shared.outbox import OutboxMixin, OutboxRelay
from hub_shared.settings import ServiceSettings, load
from hub_shared.web import consumer_health_app, server_options


@dataclass
class ServiceDefinition:
    name: str
    settings: Callable[[], ServiceSettings]
    migrations_dir: Path
    create_app: Callable[[ServiceSettings], FastAPI]
    outbox_model: type[OutboxMixin] | None = None
    consumers: Callable[[ServiceSettings, async_sessionmaker[AsyncSession]], list[EventConsumer]] | None = None


def cli(service: ServiceDefinition) -> typer.Typer:
    app = typer.Typer(
        help=f"{service.name}: run one of the service's processes.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )

    @app.command()
    def migrate() -> None:
        """Apply this service's database migrations (run before api/relay/consume)."""
        settings = load(service.settings)
        configure_logging(service.name, settings.log_level)
        migrations.upgrade(service.migrations_dir, settings.database_url)
        get_logger().info("migrations applied", database=settings.database_url.split("@")[-1])

    @app.command()
    def api() -> None:
        """Serve the HTTP API (OpenAPI at /docs, AsyncAPI at /asyncapi.json)."""
        settings = load(service.settings)
        configure_logging(service.name, settings.log_level)
        common = server_options(settings)
        if settings.http_workers > 1:
            # Worker processes each build the app from the environment (create_app()). A worker
            # importing the service on a busy machine can take longer than uvicorn's 5 s health
            # check: it would be killed and replaced, over and over.
            factory = f"{service.create_app.__module__}:{service.create_app.__name__}"
            uvicorn.run(factory, factory=True, workers=settings.http_workers, timeout_worker_healthcheck=60, **common)
        else:
            uvicorn.run(service.create_app(settings), **common)

    @app.command()
    def check() -> None:
        """Exit 0 if the database and the broker answer (a container healthcheck for workers)."""
        settings = load(service.settings)
        problems = asyncio.run(_dependencies_down(settings))
        for problem in problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1 if problems else 0)

    if service.outbox_model is not None:
        outbox_model = service.outbox_model

        @app.command()
        def relay() -> None:
            """Publish the transactional outbox to Kafka."""
            settings = load(service.settings)
            configure_logging(service.name, settings.log_level)
            asyncio.run(_run_relay(service.name, settings, outbox_model))

    if service.consumers is not None:
        consumers = service.consumers

        @app.command()
        def consume() -> None:
            """Consume events from Kafka into this service's database."""
            settings = load(service.settings)
            configure_logging(service.name, settings.log_level)
            asyncio.run(_run_consumers(service.name, settings, consumers))

    return app


async def _dependencies_down(settings: ServiceSettings) -> list[str]:
    engine = create_engine(settings.database_url)
    try:
        checks = await check_dependencies(engine, settings.kafka_bootstrap_servers)
    finally:
        await engine.dispose()
    return [f"{name} {state}" for name, state in checks.items() if state != "ok"]


async def _run_relay(name: str, settings: ServiceSettings, model: type[OutboxMixin]) -> None:
    engine = create_engine(settings.database_url)
    relay = OutboxRelay(session_factory(engine), model, settings.kafka_bootstrap_servers, client_id=f"{name}-relay")
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.stop)  # finish the row in flight, then stop
    try:
        await relay.run()
    finally:
        await engine.dispose()


async def wait_for_broker(bootstrap_servers: str, max_backoff: float = 10.0) -> None:
    backoff = 0.5
    while True:
        try:
            await kafka_ping(bootstrap_servers)
            return
        except Exception as exc:
            if backoff == 0.5:
                get_logger().warning("waiting for the broker", bootstrap=bootstrap_servers, error=repr(exc))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside the consumer process: FastStream keeps the signal handling."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _run_consumers(
    name: str,
    settings: ServiceSettings,
    consumers: Callable[[ServiceSettings, async_sessionmaker[AsyncSession]], list[EventConsumer]],
) -> None:
    # A consumer (re)started while the broker is away waits for it instead of exiting:
    # Kafka being down delays events, it does not stop the hub. The broker can also go
    # between the wait and the start (a restart racing a crash): then wait again.
    while True:
        await wait_for_broker(settings.kafka_bootstrap_servers)
        try:
            await _consume(name, settings, consumers)
            return
        except KafkaConnectionError as exc:
            get_logger().warning("the broker went away as consumers started; waiting for it again", error=repr(exc))


async def _consume(
    name: str,
    settings: ServiceSettings,
    consumers: Callable[[ServiceSettings, async_sessionmaker[AsyncSession]], list[EventConsumer]],
) -> None:
    engine = create_engine(settings.database_url)
    broker = new_broker(settings.kafka_bootstrap_servers, client_id=f"{name}-consumer")
    running = consumers(settings, session_factory(engine))
    for consumer in running:
        consumer.register(broker)
    after_startup: list[Callable[[], Awaitable[None]]] = []
    on_shutdown: list[Callable[[], Awaitable[None]]] = []
    if settings.consumer_health_port:
        # /healthz, /readyz (database, broker, and whether a consumer is paused), /metrics.
        app = consumer_health_app(running, engine, settings.kafka_bootstrap_servers)
        config = uvicorn.Config(
            app, host=settings.http_host, port=settings.consumer_health_port, log_config=None, proxy_headers=False
        )
        server = _EmbeddedServer(config)
        serving: list[asyncio.Task[None]] = []

        async def start_health() -> None:
            serving.append(asyncio.create_task(server.serve()))

        async def stop_health() -> None:
            server.should_exit = True
            await asyncio.gather(*serving, return_exceptions=True)

        after_startup.append(start_health)
        on_shutdown.append(stop_health)
    on_shutdown.append(engine.dispose)
    # FastStream handles SIGTERM/SIGINT: stops polling, waits for the batch in hand
    # (graceful_timeout), which commits its offsets, and leaves the group.
    try:
        # Handlers ask reference() who is under whom: follow the published organisations.
        async with following(settings):
            await FastStream(broker, after_startup=after_startup, on_shutdown=on_shutdown).run()
    except KafkaConnectionError:
        # Starting failed, so FastStream ran no shutdown: close what did start.
        with contextlib.suppress(Exception):
            await broker.stop()
        await engine.dispose()
        raise
