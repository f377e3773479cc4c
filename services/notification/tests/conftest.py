"""notification on a real PostgreSQL store with a real SMTP server in-process (aiosmtpd).
Events are applied through the same consumer code the live consumer runs (decode, inbox,
handlers), from real encoded Kafka records; the Kafka tests live in test_never_twice.py."""

import itertools
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka.structs import ConsumerRecord
from sqlalchemy import select

from hub_shared.auth import SCOPES, DevKeys
from hub_shared.consumer import EventConsumer, read_record
from hub_shared.events import (
    ContactDetails,
    ContactMessage,
    Envelope,
    Frequency,
    MessageKind,
    encode,
    new_envelope,
)
from hub_shared.links import SignedLinks
from hub_shared.sealing import NAMESPACE, ContactKeys, new_key, seal
from hub_shared.testing import SmtpSink
from hub_shared.topics import MEMBERSHIP_CONTACTS, MEMBERSHIP_EVENTS
from notification.consumers import consumers
from notification.main import MIGRATIONS, create_app
from notification.models import Notification, OutboxMessage
from notification.settings import NotificationSettings
from notification.workers.delivery import Worker

_offsets = itertools.count()
LINKS = {
    "confirm": "http://membership/confirm?token=confirm-token",
    "preferences": "http://membership/preferences?token=preferences-token",
    "reply": "http://membership/reply?token=reply-token",
}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> DevKeys:
    """One key pair for the test process: generating an RSA key costs a tenth of a second."""
    return DevKeys(tmp_path_factory.mktemp("keys")).ensure()


@pytest.fixture
def settings(new_postgres_database, keys: DevKeys, smtp_sink: SmtpSink, settings_overrides: dict[str, Any]):  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {
        "database_url": new_postgres_database("notification", MIGRATIONS),
        "HUB_JWKS_PATH": keys.jwks_path,
        "smtp_port": smtp_sink.port,
        "smtp_timeout_seconds": 5,
        "retry_base_seconds": 0.01,
        "worker_idle_seconds": 0.05,
        "public_base_url": "http://notification",
        "farewell_grace_seconds": 0,
        **settings_overrides,
    }
    return NotificationSettings(**values)


@pytest_asyncio.fixture
async def app(settings: NotificationSettings):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()


@pytest_asyncio.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notification") as c:
        yield c


@pytest_asyncio.fixture
async def worker(app, settings: NotificationSettings) -> AsyncIterator[Worker]:  # type: ignore[no-untyped-def]
    w = Worker(settings, app.state.sessions, name="test-worker")
    yield w
    await w.relay.close()


def auth(keys: DevKeys, org: str, scopes: tuple[str, ...] = tuple(SCOPES)) -> dict[str, str]:
    s = NotificationSettings()
    token = keys.issue(organisation=org, scopes=list(scopes), issuer=s.jwt_issuer, audience=s.jwt_audience)
    return {"Authorization": f"Bearer {token}"}


def record(envelope: Envelope | None, topic: str, key: str | None = None) -> ConsumerRecord:
    """A Kafka record as the broker would hand it over (None: a tombstone for ``key``)."""
    if envelope is None:
        headers: list[tuple[str, bytes]] = []
        value = None
        key_bytes = (key or "").encode()
    else:
        message = encode(envelope)
        headers = list(message.headers.items())
        value = message.value
        key_bytes = message.key if isinstance(message.key, bytes) else str(message.key).encode()
    return ConsumerRecord(topic, 0, next(_offsets), 0, 0, key_bytes, value, None, 0, 0, headers)


async def deliver(app, *records: ConsumerRecord) -> list[str]:  # type: ignore[no-untyped-def]
    """Apply records with the live consumer's code, in one transaction; returns outcomes."""
    consumer: EventConsumer = consumers(app.state.settings, app.state.sessions, KEYS)[0]
    items = [read_record(r) for r in records]
    async with app.state.sessions() as session, session.begin():
        await consumer.apply(session, items)
    return [i.outcome for i in items]


@dataclass
class HeldKeys(ContactKeys):
    """Membership's contact keys, held here: each card ``card`` builds is sealed with its
    person's key (one per member or contact token), and opens with it until ``forget``."""

    held: dict[str, bytes] = field(default_factory=dict)

    async def key_for(self, card_key: str) -> bytes | None:
        return self.held.get(card_key)

    def forget(self, card_key: str) -> None:
        self.held.pop(card_key, None)


KEYS = HeldKeys("http://membership", SignedLinks(["not-asked-tests-hold-the-keys-0123456789"], "", NAMESPACE))


def card(
    email: str,
    kind: MessageKind | None = None,
    *,
    member_id: uuid.UUID | None = None,
    token: str | None = None,
    name: str | None = "Ada Lovelace",
    contactable: bool = True,
    frequency: Frequency = Frequency.AS_IT_HAPPENS,
    links: dict[str, str] | None = None,
    reference: str | None = None,
    tenant: str | None = None,
    to: str | None = None,
) -> Envelope:
    """A member's card (tenant their practice, P81001 unless given) or a hear-back contact's
    (``token``; tenant its ICB, QZZ unless given), sealed with their key."""
    details = ContactDetails(
        name=name if member_id else None,
        email=email,
        frequency=frequency,
        contactable=contactable,
        message=ContactMessage(kind=kind, to=to, reference=reference, links=LINKS if links is None else links)
        if kind
        else None,
    )
    key = KEYS.held.setdefault(str(member_id) if member_id else str(token), new_key())
    data = seal(key, details, member_id=member_id, contact_token=token)
    return new_envelope(
        data,
        source="membership",
        subject=str(member_id) if member_id else str(token),
        tenant=tenant or ("P81001" if member_id else "QZZ"),
        correlation_id=str(uuid.uuid4()),
    )


def contacts(envelope: Envelope) -> ConsumerRecord:
    return record(envelope, MEMBERSHIP_CONTACTS.name)


def membership_event(data: Any, subject: str, tenant: str = "P81001") -> ConsumerRecord:
    envelope = new_envelope(data, source="membership", subject=subject, tenant=tenant, correlation_id=str(uuid.uuid4()))
    return record(envelope, MEMBERSHIP_EVENTS.name)


async def drain(worker: Worker, rounds: int = 20) -> None:
    """Run the worker until nothing more is due."""
    for _ in range(rounds):
        if await worker.run_once() == 0:
            return


async def ledger(app) -> list[Notification]:  # type: ignore[no-untyped-def]
    async with app.state.sessions() as session:
        return list((await session.scalars(select(Notification).order_by(Notification.created_at))).all())


async def published(app, event_type: str | None = None) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    async with app.state.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.seq))).all()
    events = [json.loads(r.payload) for r in rows if r.payload]
    return [e for e in events if event_type is None or e["type"] == event_type]
