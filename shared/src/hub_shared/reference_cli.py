"""``hub reference``: load the organisations NHS ODS publishes into a running hub."""

import asyncio
import uuid
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from hub_shared.events import OrganisationKind, OrganisationsPublishedV1
from hub_shared.ods_files import InvalidReferenceFiles, OdsFiles, read_hierarchies
from hub_shared.organisation_feed import OrganisationFeed, publish_hierarchies
from hub_shared.settings import ServiceSettings

app = typer.Typer(help="Organisations from NHS ODS's published files.", no_args_is_help=True)
console = Console(stderr=True)

File = Annotated[Path, typer.Option(exists=False, dir_okay=False)]


def summary(hierarchies: list[OrganisationsPublishedV1]) -> Table:
    table = Table("ICB", "name", "places", "practices open", "closed", "merged into a successor")
    for h in hierarchies:
        kinds = Counter(o.kind for o in h.organisations)
        practices = [o for o in h.organisations if o.kind is OrganisationKind.PRACTICE]
        icb = next(o for o in h.organisations if o.kind is OrganisationKind.ICB)
        table.add_row(
            h.icb_code,
            icb.name,
            str(kinds[OrganisationKind.PLACE]),
            str(sum(1 for o in practices if o.closed_on is None)),
            str(sum(1 for o in practices if o.closed_on is not None)),
            str(sum(1 for o in practices if o.successor is not None)),
        )
    return table


@app.command("import")
def import_files(
    practices: Annotated[Path, typer.Option(help="GP practices: ODS's epraccur.csv (no header row)")],
    sub_icb_locations: Annotated[
        Path, typer.Option(help="Sub-ICB locations, the hub's places: ODS's eccg.csv (standard layout)")
    ],
    icbs: Annotated[Path, typer.Option(help="Integrated care boards, in ODS's standard layout")],
    successions: Annotated[Path | None, typer.Option(help="Successions (mergers): ODS's succ.csv; optional")] = None,
    icb: Annotated[
        list[str] | None,
        typer.Option(help="Import only this ICB (repeat for several); default: every ICB in the ICB file"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the files and show what would change")] = False,
) -> None:
    """Check ODS's files and publish each ICB's organisations; every service applies them
    without a restart. A bad line is reported with its file and line, and nothing is published."""
    files = OdsFiles(practices, sub_icb_locations, icbs, successions)
    try:
        hierarchies = read_hierarchies(files, icb or ())
    except InvalidReferenceFiles as exc:
        for error in exc.errors:
            console.print(f"[red]{error}[/red]", highlight=False)
        console.print(f"{len(exc.errors)} problem(s); nothing was imported.")
        raise typer.Exit(1) from None
    Console().print(summary(hierarchies))
    if dry_run:
        console.print("dry run: nothing was published")
        return
    settings = ServiceSettings()
    try:
        asyncio.run(
            publish_hierarchies(
                settings.kafka_bootstrap_servers,
                hierarchies,
                correlation_id=str(uuid.uuid4()),
                topic=settings.reference_topic,
            )
        )
    except KafkaError as exc:
        console.print(
            f"[red]Kafka at {settings.kafka_bootstrap_servers} did not take the import[/red]: {exc!r}. "
            "Nothing was published; run the import again once the broker is up."
        )
        raise typer.Exit(1) from None
    console.print(f"published {len(hierarchies)} ICB(s) on {settings.reference_topic}; every service applies them now")


async def published(bootstrap_servers: str, topic: str, timeout: float = 10.0) -> OrganisationFeed | None:
    """The hierarchies published so far (None when the topic could not be read)."""
    feed = OrganisationFeed(bootstrap_servers, topic=topic)
    feed.start()
    try:
        return feed if await feed.wait_settled(timeout) else None
    finally:
        await feed.stop()


@app.command("show")
def show() -> None:
    """What the hub's services hold now: the ICBs published on the organisations topic."""
    settings = ServiceSettings()
    feed = asyncio.run(published(settings.kafka_bootstrap_servers, settings.reference_topic))
    if feed is None:
        console.print(f"[red]cannot read {settings.reference_topic} at {settings.kafka_bootstrap_servers}[/red]")
        raise typer.Exit(1)
    if not feed.hierarchies:
        console.print("nothing published yet: the services hold the demo ICS")
        return
    Console().print(summary(list(feed.hierarchies.values())))
