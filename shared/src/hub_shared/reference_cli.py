"""``hub reference``: load the organisations NHS ODS publishes into a running hub."""

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from hub_shared.events import (
    Envelope,
    GpPatientSurveyPublishedV1,
    OrganisationKind,
    OrganisationsPublishedV1,
    RegisteredPatients,
    RegisteredPopulationPublishedV1,
    SurveyResult,
)
from hub_shared.gp_patient_survey import InvalidSurveyResults, PracticeResult, SurveyColumns, read_survey
from hub_shared.gp_registrations import InvalidRegistrations, MonthOfRegistrations, read_registrations
from hub_shared.ods_files import InvalidReferenceFiles, OdsFiles, read_hierarchies
from hub_shared.ord_records import read_ord_records
from hub_shared.organisation_feed import OrganisationFeed
from hub_shared.organisations import Organisations
from hub_shared.reference_publishing import content_envelope, publish_together
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
        refuse(exc.errors)
    publish_hierarchies(hierarchies, dry_run)


@app.command("import-ord")
def import_ord(
    file: Annotated[Path, typer.Argument(help="Records of the ODS ORD API (JSON) saved to a file")],
    icb: Annotated[
        list[str] | None,
        typer.Option(help="Import only this ICB (repeat for several); default: every ICB in the file"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and show what would change")] = False,
) -> None:
    """Like `import`, from the ODS ORD API's organisation records saved as JSON (the ICBs, their
    sub-ICB locations and practices)."""
    try:
        hierarchies = read_ord_records(file, icb)
    except InvalidReferenceFiles as exc:
        refuse(exc.errors)
    publish_hierarchies(hierarchies, dry_run)


def refuse(errors: Sequence[object]) -> NoReturn:
    """Name every bad line, and stop: nothing of the files is published."""
    for error in errors:
        console.print(f"[red]{error}[/red]", highlight=False)
    console.print(f"{len(errors)} problem(s); nothing was imported.")
    raise typer.Exit(1) from None


def publish_hierarchies(hierarchies: list[OrganisationsPublishedV1], dry_run: bool) -> None:
    Console().print(summary(hierarchies))
    if dry_run:
        console.print("dry run: nothing was published")
        return
    settings = ServiceSettings()
    correlation_id = str(uuid.uuid4())
    envelopes = [
        content_envelope(h, subject=h.icb_code, tenant=h.icb_code, time=h.published_at, correlation_id=correlation_id)
        for h in hierarchies
    ]
    try:
        asyncio.run(publish_together(settings.kafka_bootstrap_servers, settings.reference_topic, envelopes))
    except KafkaError as exc:
        console.print(
            f"[red]Kafka at {settings.kafka_bootstrap_servers} did not take the import[/red]: {exc!r}. "
            "Nothing was published; run the import again once the broker is up."
        )
        raise typer.Exit(1) from None
    console.print(f"published {len(hierarchies)} ICB(s) on {settings.reference_topic}; every service applies them now")


def held_organisations(settings: ServiceSettings) -> Organisations:
    """The organisations the services hold (read from the broker); exits when it cannot."""
    feed = asyncio.run(published(settings.kafka_bootstrap_servers, settings.reference_topic, timeout=10.0))
    if feed is None:
        console.print(f"[red]cannot read the organisations ({settings.reference_topic})[/red]: is Kafka up?")
        raise typer.Exit(1)
    return Organisations.from_hierarchies(feed.current())


def publish_statistics(settings: ServiceSettings, envelopes: list[Envelope], what: str) -> None:
    try:
        asyncio.run(publish_together(settings.kafka_bootstrap_servers, settings.statistics_topic, envelopes))
    except KafkaError as exc:
        console.print(f"[red]Kafka did not take the import[/red]: {exc!r}. Nothing was published; run it again.")
        raise typer.Exit(1) from None
    console.print(f"published {what} for {len(envelopes)} ICB(s) on {settings.statistics_topic}")


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


T = TypeVar("T")


def _by_held_icb(organisations: Organisations, items: Iterable[tuple[str, T]]) -> tuple[dict[str, list[T]], set[str]]:
    """Items by the ICB of their practice, for practices the hub holds; and the practice codes
    of no ICB it holds."""
    by_icb: dict[str, list[T]] = defaultdict(list)
    unknown: set[str] = set()
    for practice, item in items:
        org = organisations.get(practice)
        if org is None or org.kind is not OrganisationKind.PRACTICE:
            unknown.add(practice)
            continue
        by_icb[organisations.icb_of(practice)].append(item)
    return by_icb, unknown


def population_events(
    month: MonthOfRegistrations, organisations: Organisations, sources: list[str], correlation_id: str
) -> tuple[list[Envelope], set[str]]:
    """One event per ICB the hub holds practices of; and the practices of no ICB it holds."""
    by_icb, unknown = _by_held_icb(
        organisations,
        (
            (practice, RegisteredPatients(practice_code=practice, age_band=band, sex=sex, patients=patients))
            for (practice, band, sex), patients in sorted(month.counts.items())
        ),
    )
    now = datetime.now(UTC)
    envelopes = [
        content_envelope(
            RegisteredPopulationPublishedV1(
                icb_code=icb, month=month.month, counts=counts, sources=sources, published_at=now
            ),
            subject=f"population:{icb}:{month.month}",
            tenant=icb,
            time=now,
            correlation_id=correlation_id,
        )
        for icb, counts in sorted(by_icb.items())
    ]
    return envelopes, unknown


@app.command("population")
def import_population(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="NHS England's practice files by single year of age: gp-reg-pat-prac-sing-age-male.csv "
            "and gp-reg-pat-prac-sing-age-female.csv (one month's)"
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the files; publish nothing")] = False,
) -> None:
    """Load a month of "Patients Registered at a GP Practice": reporting's rates per 1,000 and
    representativeness use the month that matches. Bad lines are named; nothing is half-loaded."""
    try:
        month = read_registrations(files)
    except InvalidRegistrations as exc:
        refuse(exc.errors)
    settings = ServiceSettings()
    organisations = held_organisations(settings)
    envelopes, unknown = population_events(month, organisations, [f.name for f in files], str(uuid.uuid4()))
    for envelope in envelopes:
        data = envelope.data
        assert isinstance(data, RegisteredPopulationPublishedV1)
        practices = {c.practice_code for c in data.counts}
        patients = sum(c.patients for c in data.counts)
        console.print(f"{data.icb_code} {data.month}: {len(practices)} practices, {patients:,} patients")
    publish_held(settings, envelopes, unknown, "files", month.month, dry_run)


def publish_held(
    settings: ServiceSettings, envelopes: list[Envelope], unknown: set[str], files: str, what: str, dry_run: bool
) -> None:
    """Publish the statistics of the ICBs the hub holds; say what was left out, and stop if
    that was everything."""
    if unknown:
        console.print(f"{len(unknown)} practice(s) in the {files} belong to no ICB the hub holds: left out")
    if not envelopes:
        console.print(f"[red]no practice of the {files} is one the hub holds[/red]; nothing was imported.")
        raise typer.Exit(1)
    if dry_run:
        console.print("dry run: nothing was published")
        return
    publish_statistics(settings, envelopes, what)


def survey_events(
    results: list[PracticeResult],
    organisations: Organisations,
    year: str,
    question: str,
    sources: list[str],
    correlation_id: str,
) -> tuple[list[Envelope], set[str]]:
    """One event per ICB the hub holds practices of; and the practices of no ICB it holds."""
    by_icb, unknown = _by_held_icb(
        organisations,
        (
            (
                r.practice_code,
                SurveyResult(practice_code=r.practice_code, base=r.base, share=r.share, lower=r.lower, upper=r.upper),
            )
            for r in results
        ),
    )
    now = datetime.now(UTC)
    envelopes = [
        content_envelope(
            GpPatientSurveyPublishedV1(
                icb_code=icb, year=year, question=question, results=found, sources=sources, published_at=now
            ),
            subject=f"gpps:{icb}:{year}",
            tenant=icb,
            time=now,
            correlation_id=correlation_id,
        )
        for icb, found in sorted(by_icb.items())
    ]
    return envelopes, unknown


@app.command("survey")
def import_survey(
    file: Annotated[Path, typer.Argument(help="The GP Patient Survey's practice results file (CSV)")],
    year: Annotated[str, typer.Option(help="The survey's year, e.g. 2025")],
    question: Annotated[
        str,
        typer.Option(
            help="The question's stem in that year's file: 'were you involved as much as you wanted to be in "
            "decisions about your care and treatment?', e.g. Q90"
        ),
    ],
    practice_column: Annotated[str, typer.Option(help="Column of the practice's ODS code")] = "Practice_Code",
    base_column: Annotated[str, typer.Option(help="Column of the base; {q} is the question")] = "{q}base",
    share_column: Annotated[str, typer.Option(help="Column of the positive share")] = "{q}_12pct",
    lower_column: Annotated[str, typer.Option(help="Column of the interval's lower bound")] = "{q}_12pct_lower",
    upper_column: Annotated[str, typer.Option(help="Column of the interval's upper bound")] = "{q}_12pct_upper",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file; publish nothing")] = False,
) -> None:
    """Load a year of GP Patient Survey results on involvement in decisions: shown in reporting's
    scorecard beside FFT and the hub's own figures. Bad lines are named; nothing is half-loaded."""
    if not (len(year) == 4 and year.isdigit()):
        console.print(f"[red]--year '{year}' is not a year[/red]")
        raise typer.Exit(2)
    columns = SurveyColumns(practice_column, base_column, share_column, lower_column, upper_column)
    try:
        results = read_survey(file, question.strip(), columns)
    except InvalidSurveyResults as exc:
        refuse(exc.errors)
    settings = ServiceSettings()
    organisations = held_organisations(settings)
    envelopes, unknown = survey_events(results, organisations, year, question.strip(), [file.name], str(uuid.uuid4()))
    for envelope in envelopes:
        data = envelope.data
        assert isinstance(data, GpPatientSurveyPublishedV1)
        with_share = sum(1 for r in data.results if r.share is not None)
        console.print(f"{data.icb_code} {year}: {len(data.results)} practices, {with_share} with a published share")
    publish_held(settings, envelopes, unknown, "file", f"the {year} survey", dry_run)
