"""Entry points: ``create_app`` for the API, and ``cli`` for the image's
commands (migrate, api, relay, consume, check, replay, publish-snapshot, audit)."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from fastapi import FastAPI
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hub_shared import asyncapi, correlation
from hub_shared.asyncapi import Published
from hub_shared.db import create_engine, session_factory
from hub_shared.events import ReportPublishedV1
from hub_shared.logging import configure_logging
from hub_shared.organisations import reference
from hub_shared.problems import Problem
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


PUBLISHED = [
    Published(
        REPORTING_SNAPSHOTS.name,
        ReportPublishedV1,
        "key = month; one per ICB (its tenant). Only disclosure-controlled figures.",
    )
]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    app = create_service_app(
        title="ICS Engagement Hub — reporting",
        description=(
            "Involvement measured from the hub's events: Friends and Family Test scores, themes and sentiment, "
            "the involvement scorecard and CSV exports (staff see them in the console). Scoped to what your "
            "organisation may see; "
            "every figure is disclosure-controlled (counts of 1 to 4 are shown as *)."
        ),
        settings=settings,
        asyncapi=lambda sessions: asyncapi.document(
            SERVICE_NAME, settings.kafka_bootstrap_servers, consumers(settings, sessions), PUBLISHED
        ),
    )
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


def chosen_icbs(icb: str | None) -> list[str]:
    """The ICB named (``--icb``), else every ICB the hub holds; an unknown one is an error."""
    held = reference().icbs()
    if icb is None:
        return held
    if icb.upper() not in held:
        raise typer.BadParameter(
            f"'{icb}' is not an ICB this hub holds ({', '.join(held) or 'none'})", param_hint="--icb"
        )
    return [icb.upper()]


ICB_OPTION = typer.Option("--icb", help="Only this ICB (by default each ICB the hub holds)")


@cli.command("publish-snapshot")
def publish_snapshot_command(
    month: Annotated[str, typer.Argument(help="A closed month, YYYY-MM")],
    icb: Annotated[str | None, ICB_OPTION] = None,
) -> None:
    """Publish a closed month's disclosure-controlled figures as report.published.v1, one per ICB."""
    settings = ReportingSettings()
    configure_logging(SERVICE_NAME, settings.log_level)
    icbs = chosen_icbs(icb)

    async def run() -> int:
        engine = create_engine(settings.database_url)
        refused = 0
        try:
            for code in icbs:  # each its own transaction: one ICB's month already out stops no other
                try:
                    async with session_factory(engine)() as session, session.begin():
                        await publish_snapshot(session, reference(), code, month, correlation_id=correlation.current())
                except Problem as problem:
                    refused += 1
                    typer.echo(f"{code}: {problem.title}: {problem.detail}", err=True)
                    continue
                typer.echo(
                    f"snapshot of {code} for {month} staged; the relay publishes it to {REPORTING_SNAPSHOTS.name}"
                )
        finally:
            await engine.dispose()
        return refused

    if asyncio.run(run()):
        raise typer.Exit(1)


@cli.command("audit")
def audit_command(
    month: Annotated[str, typer.Argument(help="The month, YYYY-MM")],
    icb: Annotated[str | None, ICB_OPTION] = None,
) -> None:
    """Run the disclosure audit over a month's outputs, per ICB, and print what it checked and
    found. Exits 1 if any starred figure could be worked out."""
    settings = ReportingSettings()
    configure_logging(SERVICE_NAME, settings.log_level)
    icbs = chosen_icbs(icb)

    async def run() -> dict[str, list[OutputAudit]]:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                return {code: await audit_month(session, reference(), code, month) for code in icbs}
        finally:
            await engine.dispose()

    audited = asyncio.run(run())
    console = Console()
    found = 0
    for code, results in audited.items():
        table = Table(title=f"Disclosure audit of {code}'s {month} under {RULE_SET}")
        for column in ("output", "starred counts", "extra stars", "recoverable"):
            table.add_column(column, justify="left" if column == "output" else "right")
        for r in results:
            table.add_row(r.output, str(r.starred), str(r.extra), str(len(r.findings)))
        console.print(table)
        findings = [(r.output, f) for r in results for f in r.findings]
        for output, f in findings:
            console.print(f"RECOVERABLE {code} {output}: {f.key[0]} {f.key[1]} = {f.value} ({f.reason})")
        checked = sum(r.starred for r in results)
        console.print(f"{code}: {len(results)} outputs, {checked} starred counts checked, {len(findings)} recoverable.")
        found += len(findings)
    if len(audited) > 1:
        outputs = sum(len(r) for r in audited.values())
        checked = sum(r.starred for results in audited.values() for r in results)
        console.print(f"{len(audited)} ICBs: {outputs} outputs, {checked} starred counts checked, {found} recoverable.")
    raise typer.Exit(1 if found else 0)
