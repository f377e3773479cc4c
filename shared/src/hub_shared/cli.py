"""``hub``: the operator's command line (dev tokens, topics, dead letters, demo data)."""

import asyncio
import functools
import json
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from aiokafka.errors import KafkaConnectionError
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hub_shared import demo, kafka_admin, reference_cli
from hub_shared.auth import SCOPES, DevKeys
from hub_shared.events import ContactDetails, MemberContactV2
from hub_shared.failures import DependencyUnavailable
from hub_shared.logging import configure_logging
from hub_shared.organisations import Kind, reference
from hub_shared.sealing import NAMESPACE, ContactKeys
from hub_shared.settings import ServiceSettings
from hub_shared.topics import ALL_TOPICS, MEMBERSHIP_CONTACTS, SOURCE_TOPICS, dead_letter

app = typer.Typer(help="ICS Engagement Hub operator commands.", no_args_is_help=True, pretty_exceptions_enable=False)
topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead letters: inspect and replay.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")
contacts_app = typer.Typer(
    help="The restricted contacts topic: the emails membership asks notification to send.", no_args_is_help=True
)
app.add_typer(contacts_app, name="contacts")
app.add_typer(reference_cli.app, name="reference")
console = Console(stderr=True)
T = TypeVar("T")


@app.callback()
def main() -> None:
    """ICS Engagement Hub operator commands."""
    configure_logging("hub", "WARNING")  # on stderr: stdout is for what a command prints


KeysDir = Annotated[Path, typer.Option(envvar="HUB_DEV_KEYS_DIR", help="Where development signing keys live")]
DEFAULT_KEYS = Path(".state/dev-keys")


@app.command()
def token(
    org: Annotated[str, typer.Option(help="ODS code the token acts for, e.g. 01A or P81001")],
    scope: Annotated[list[str] | None, typer.Option(help="Scope to grant (repeat); default: all")] = None,
    ttl: Annotated[
        int, typer.Option(min=1, help="Lifetime in seconds (default one hour); e.g. --ttl 86400 for a day")
    ] = 3600,
    keys_dir: KeysDir = DEFAULT_KEYS,
) -> None:
    """Issue a development bearer token (creates the dev signing key and JWKS on first use).

    Only for an organisation the hub holds: those published by `hub reference import`
    (read from the broker), else the demo ICS."""
    settings = ServiceSettings()
    asyncio.run(reference_cli.published(settings.kafka_bootstrap_servers, settings.reference_topic, timeout=5.0))
    organisation = reference().get(org.upper())
    if organisation is None:
        known = ", ".join(o.code for o in reference() if o.kind is not Kind.PRACTICE)
        console.print(
            f"[red]hub token: '{org}' is not an organisation of this ICS[/red]. Use an ODS code the hub holds "
            f"(`hub reference show`), e.g. {known}, or a practice of theirs."
        )
        raise typer.Exit(2)
    unknown = sorted(set(scope or ()) - set(SCOPES))
    if unknown:
        console.print(f"[red]hub token: unknown scope(s) {', '.join(unknown)}[/red]; known: {', '.join(SCOPES)}")
        raise typer.Exit(2)
    keys = DevKeys(keys_dir).ensure()
    scope = scope or list(SCOPES)
    typer.echo(
        keys.issue(
            organisation=org, scopes=scope, issuer=settings.jwt_issuer, audience=settings.jwt_audience, ttl_seconds=ttl
        )
    )


@topics_app.command("create")
def topics_create() -> None:
    """Create every hub topic with its partition count (idempotent)."""
    settings = ServiceSettings()
    created = _kafka(kafka_admin.create_topics(settings.kafka_bootstrap_servers))
    console.print(f"created {len(created)} topic(s): {', '.join(created) or 'none needed'}")


@topics_app.command("list")
def topics_list() -> None:
    """Show the hub's topics and partition counts."""
    table = Table("topic", "partitions", "what")
    for t in ALL_TOPICS:
        table.add_row(t.name, str(t.partitions), t.description)
    Console().print(table)


def _kafka(work: Coroutine[Any, Any, T]) -> T:
    """Run a broker call; a broker that cannot be reached is a one-line error, not a traceback."""
    try:
        return asyncio.run(work)
    except KafkaConnectionError as exc:
        console.print(
            f"[red]Cannot reach Kafka at {ServiceSettings().kafka_bootstrap_servers}[/red]: {exc}. "
            "Is it running (deploy/kafka.sh status)? Set KAFKA_BOOTSTRAP_SERVERS to use another broker."
        )
        raise typer.Exit(1) from None


def _letters(topic: str) -> list[kafka_admin.DeadLetter]:
    settings = ServiceSettings()
    return _kafka(kafka_admin.read_all(settings.kafka_bootstrap_servers, dead_letter(topic)))


TopicArg = Annotated[str, typer.Argument(help=f"Source topic, one of: {', '.join(t.name for t in SOURCE_TOPICS)}")]


@dlq_app.command("list")
def dlq_list(topic: TopicArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the dead letters of a topic with their reasons."""
    letters = _letters(topic)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "partition": d.partition,
                        "offset": d.offset,
                        "headers": d.headers,
                        "value": d.value.decode(errors="replace"),
                    }
                    for d in letters
                ],
                indent=2,
            )
        )
        return
    table = Table("offset", "group", "from", "attempts", "reason")
    for d in letters:
        table.add_row(
            str(d.offset),
            d.headers.get("dlq-consumer-group", ""),
            f"{d.original_topic}[{d.headers.get('dlq-original-partition')}]@{d.headers.get('dlq-original-offset')}",
            d.headers.get("dlq-attempts", ""),
            d.reason[:120],
        )
    Console().print(table)
    console.print(f"{len(letters)} dead letter(s) in {dead_letter(topic)}")


def _utc(value: datetime | None) -> datetime | None:
    """Times on the command line are UTC unless they say otherwise."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dlq_app.command("replay")
def dlq_replay(
    topic: TopicArg,
    reason: Annotated[str | None, typer.Option(help="Only letters whose reason contains this text")] = None,
    event_type: Annotated[str | None, typer.Option(help="Only this event type, e.g. feedback.received.v1")] = None,
    group: Annotated[str | None, typer.Option(help="Only letters this consumer group gave up on")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only letters dead-lettered at or after (UTC)")] = None,
    until: Annotated[datetime | None, typer.Option(help="Only letters dead-lettered before (UTC)")] = None,
    from_offset: Annotated[int, typer.Option(help="Only letters at or after this DLQ offset")] = 0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be replayed; publish nothing")] = False,
) -> None:
    """Publish dead letters back to their original topic once the cause is fixed.

    Safe to repeat: consumers record every event id they applied, so a letter replayed
    twice, or one whose event was applied meanwhile, changes nothing."""
    letters = kafka_admin.select_letters(
        _letters(topic),
        reason=reason,
        event_type=event_type,
        group=group,
        since=_utc(since),
        until=_utc(until),
        from_offset=from_offset,
    )
    if dry_run:
        for d in letters:
            console.print(
                f"{d.offset}  {d.timestamp:%Y-%m-%d %H:%M:%S}  {d.event_type or '(unreadable)'}  {d.reason[:100]}"
            )
        console.print(f"{len(letters)} dead letter(s) would be replayed to {topic}")
        return
    settings = ServiceSettings()
    with Progress(console=console) as progress:
        task = progress.add_task(f"replaying {len(letters)} dead letter(s)", total=len(letters))
        _kafka(
            kafka_admin.replay(
                settings.kafka_bootstrap_servers, letters, progress=lambda n: progress.update(task, completed=n)
            )
        )
    console.print(f"replayed {len(letters)} dead letter(s) to {topic}")


class ContactKeysSettings(ServiceSettings):
    """What the CLI needs to open contact cards, read as notification reads it."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    service_name: str = "notification"
    membership_url: str = "http://127.0.0.1:8002"
    SECRETS = ("contact_keys_secret",)
    SHARED_SECRETS = ("contact_keys_secret",)
    contact_keys_secret: SecretStr | None = None


async def _open_cards(records: list[kafka_admin.DeadLetter], membership_url: str | None) -> list[ContactDetails]:
    """Cards with a message, oldest first, opened with each person's key from membership
    (tombstones and the cards of people erased since are skipped)."""
    settings = ContactKeysSettings()
    url = membership_url or settings.membership_url
    keys = ContactKeys(url, settings.signed_links("contact_keys_secret", url, NAMESPACE))
    opened = []
    try:
        for record in sorted(records, key=lambda r: json.loads(r.value)["time"] if r.value else ""):
            event = json.loads(record.value) if record.value else {}
            if event.get("type") != MemberContactV2.event_type:
                continue
            details = await keys.open(MemberContactV2.model_validate(event["data"]))
            if details is not None and details.message is not None:
                opened.append(details)
    finally:
        await keys.aclose()
    return opened


def _contact_messages(emails: set[str] | None = None, membership_url: str | None = None) -> list[ContactDetails]:
    """Contact cards with a message for these addresses, oldest first."""
    settings = ServiceSettings()
    records = _kafka(kafka_admin.read_all(settings.kafka_bootstrap_servers, MEMBERSHIP_CONTACTS.name))
    try:
        cards = asyncio.run(_open_cards(records, membership_url))
    except DependencyUnavailable as exc:
        console.print(f"[red]cannot open the contact cards[/red]: {exc}")
        raise typer.Exit(1) from exc
    return [card for card in cards if emails is None or card.email in emails]


@contacts_app.command("links")
def contacts_links(
    email: Annotated[str, typer.Argument(help="The address the email would go to")],
    membership_url: Annotated[
        str | None, typer.Option(help="membership's base URL, which holds the keys (NOTIFICATION_MEMBERSHIP_URL)")
    ] = None,
) -> None:
    """Show the emails membership asked to send to an address, with their links (cards are
    sealed per person: opened with keys from membership, as notification opens them)."""
    cards = _contact_messages({email.strip().lower()}, membership_url)
    if not cards:
        console.print(f"no messages for {email} on {MEMBERSHIP_CONTACTS.name} (yet)")
        raise typer.Exit(1)
    for card in cards:
        assert card.message is not None
        typer.echo(f"{card.message.kind.value}:")
        for name, url in card.message.links.items():
            typer.echo(f"  {name}: {url}")


def _confirm_links(emails: set[str], membership_url: str, timeout: float = 60.0) -> dict[str, str]:
    """The newest confirmation link per address, waiting for the relay to publish them."""
    import time

    deadline = time.monotonic() + timeout
    links: dict[str, str] = {}
    while time.monotonic() < deadline:
        for card in _contact_messages(emails, membership_url):
            if card.message is not None and "confirm" in card.message.links:
                links[card.email] = card.message.links["confirm"]
        if set(links) >= emails:
            break
        time.sleep(0.5)
    return links


@app.command()
def seed(
    intake_url: Annotated[str, typer.Option(help="feedback-intake's base URL")] = "http://127.0.0.1:8001",
    membership_url: Annotated[
        str | None, typer.Option(help="membership's base URL: also seed groups, members and an opportunity")
    ] = None,
    per_practice: Annotated[int, typer.Option(help="Feedback items per active practice")] = 5,
    keys_dir: KeysDir = DEFAULT_KEYS,
) -> None:
    """Post demo feedback for every active practice of the demo ICS through the intake API
    (and, given --membership-url, demo patient partners through membership's API)."""
    settings = ServiceSettings()
    keys = DevKeys(keys_dir).ensure()
    if membership_url:

        def token_for(org: str) -> str:
            return keys.issue(
                organisation=org,
                scopes=list(SCOPES),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            )

        summary = demo.seed_membership(
            membership_url,
            token_for,
            functools.partial(_confirm_links, membership_url=membership_url),
            progress=lambda step: console.print(f"membership: {step}"),
        )
        console.print(f"membership seeded: {json.dumps(summary)}")
    token = keys.issue(
        organisation=demo.ICB_CODE,
        scopes=["feedback:write"],
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    bodies = list(demo.demo_feedback(reference(), per_practice))
    with Progress(console=console) as progress:
        task = progress.add_task(f"seeding {len(bodies)} feedback items", total=len(bodies))
        accepted, problems = demo.post_all(intake_url, token, bodies, lambda n: progress.update(task, completed=n))
    for problem in problems[:10]:
        console.print(f"[red]refused[/red] {problem}")
    console.print(f"seeded {accepted} of {len(bodies)} feedback items")
    if problems:
        raise typer.Exit(1)
