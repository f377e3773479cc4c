"""Entry points: ``create_app`` for the API, and ``cli`` for the image's
commands (migrate, api, relay, consume, check, replay, publish-snapshot, audit)."""

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from fastapi import FastAPI
from faststream.specification import AsyncAPI
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hub_shared import correlation
from hub_shared.consumer import new_broker
from hub_shared.db import create_engine, session_factory
from hub_shared.events import ReportPublishedV1
from hub_shared.logging import configure_logging
from hub_shared.organisations import reference
from hub_shared.runtime import ServiceDefinition
from hub_shared.runtime import cli as service_cli
from hub_shared.settings import ServiceSettings
from hub_shared.topics import REPORTING_SNAPSHOTS
from hub_shared.web import create_service_app
from reporting import SERVICE_NAME
from reporting.api import router
from reporting.consumers import consumers
from reporting.models import OutboxMessage
from reporting.publishing import publish_snapshot
from reporting.queries.monthly_audit import OutputAudit, audit_month
from reporting.rules.publication import RULE_SET
from reporting.settings import ReportingSettings
from reporting.workers.replay import replay

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def asyncapi(settings: ServiceSettings, sessions: Any) -> dict[str, Any]:
    broker = new_broker(settings.kafka_bootstrap_servers, client_id=SERVICE_NAME)
    for consumer in consumers(settings, sessions):
        consumer.register(broker)
    broker.publisher(
        REPORTING_SNAPSHOTS.name,
        title=ReportPublishedV1.event_type,
        description="CloudEvents 1.0 structured JSON; key = month. Only disclosure-controlled figures.",
        schema=ReportPublishedV1,
    )
    return AsyncAPI(broker, title=f"{SERVICE_NAME} events", version="1.0.0").to_specification().to_jsonable()  # type: ignore[no-any-return]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    app = create_service_app(
        title="ICS Engagement Hub — reporting",
        description=(
            "Involvement measured from the hub's events: Friends and Family Test scores, themes and sentiment, "
            "the involvement scorecard and CSV exports (staff see them in the console). Scoped to what your "
            "organisation may see; "
            "every figure is disclosure-controlled (counts of 1 to 4 are shown as *)."
        ),
        settings=settings,
        engine=engine,
        asyncapi=lambda: asyncapi(settings, sessions),
    )
    app.state.sessions = sessions
    app.include_router(router)
    return app


SERVICE = ServiceDefinition(
    name=SERVICE_NAME,
    settings=ReportingSettings,
    migrations_dir=MIGRATIONS,
    create_app=create_app,
    outbox_model=OutboxMessage,
    consumers=consumers,
)
cli = service_cli(SERVICE)


@cli.command("replay")
def replay_command(batch_size: Annotated[int, typer.Option(help="Events per transaction")] = 1000) -> None:
    """Rebuild every projection from the start of the topics (stop `consume` first)."""
    settings = ReportingSettings()
    configure_logging(SERVICE_NAME, settings.log_level)

    async def run() -> dict[str, int]:
        engine = create_engine(settings.database_url)
        try:
            with Progress(console=Console(stderr=True)) as progress:
                task = progress.add_task("replaying events", total=None)
                return await replay(
                    consumers(settings, session_factory(engine))[0],
                    settings.kafka_bootstrap_servers,
                    batch_size=batch_size,
                    on_total=lambda n: progress.update(task, total=n),
                    on_progress=lambda n: progress.update(task, completed=n),
                )
        finally:
            await engine.dispose()

    counts = asyncio.run(run())
    typer.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


@cli.command("publish-snapshot")
def publish_snapshot_command(month: Annotated[str, typer.Argument(help="A closed month, YYYY-MM")]) -> None:
    """Publish a closed month's disclosure-controlled figures as report.published.v1."""
    settings = ReportingSettings()
    configure_logging(SERVICE_NAME, settings.log_level)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                await publish_snapshot(session, reference(), month, correlation_id=correlation.current())
        finally:
            await engine.dispose()

    asyncio.run(run())
    typer.echo(f"snapshot for {month} staged; the relay publishes it to {REPORTING_SNAPSHOTS.name}")


@cli.command("audit")
def audit_command(month: Annotated[str, typer.Argument(help="The month, YYYY-MM")]) -> None:
    """Run the disclosure audit over a month's outputs and print what it checked and found.
    Exits 1 if any starred figure could be worked out."""
    settings = ReportingSettings()
    configure_logging(SERVICE_NAME, settings.log_level)

    async def run() -> list[OutputAudit]:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                return await audit_month(session, reference(), month)
        finally:
            await engine.dispose()

    results = asyncio.run(run())
    table = Table(title=f"Disclosure audit of {month} under {RULE_SET}")
    for column in ("output", "starred counts", "extra stars", "recoverable"):
        table.add_column(column, justify="left" if column == "output" else "right")
    for r in results:
        table.add_row(r.output, str(r.starred), str(r.extra), str(len(r.findings)))
    console = Console()
    console.print(table)
    findings = [(r.output, f) for r in results for f in r.findings]
    for output, f in findings:
        console.print(f"RECOVERABLE {output}: {f.key[0]} {f.key[1]} = {f.value} ({f.reason})")
    checked = sum(r.starred for r in results)
    console.print(f"{len(results)} outputs, {checked} starred counts checked, {len(findings)} recoverable.")
    raise typer.Exit(1 if findings else 0)
