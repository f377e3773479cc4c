"""The hub wired in-process against the real broker and real PostgreSQL: intake's API,
outbox relay and consumers; membership's API and pages, relay and consumer; notification's
API and pages, relay, consumer and sending worker, against a real SMTP server (aiosmtpd)
the fixture starts; reporting's consumer, relay and API. Only HTTP transport is in-process.
The APIs also trust staff tokens from the test OpenID Connect provider (started only when a
test signs someone in: hub_shared.console_testing), so the staff console can run against them."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

import feedback_intake.main as intake_main
import membership.main as membership_main
import notification.main as notification_main
import reporting.main as reporting_main
from feedback_intake.consumers import consumers as intake_consumers
from feedback_intake.models import OutboxMessage
from feedback_intake.settings import IntakeSettings
from hub_shared import kafka_admin
from hub_shared.auth import SCOPES, DevKeys
from hub_shared.consumer import new_broker
from hub_shared.db import create_engine, session_factory
from hub_shared.identity import IdentityProviderSettings
from hub_shared.organisations import reference
from hub_shared.outbox import OutboxRelay
from hub_shared.sealing import NAMESPACE, ContactKeys
from hub_shared.testing import KafkaUnderTest, SmtpSink, consumer_group
from membership.consumers import consumers as membership_consumers
from membership.models import OutboxMessage as MembershipOutbox
from membership.settings import MembershipSettings
from notification.consumers import consumers as notification_consumers
from notification.models import OutboxMessage as NotificationOutbox
from notification.settings import NotificationSettings
from notification.workers.delivery import Worker
from reporting.consumers import consumers as reporting_consumers
from reporting.models import OutboxMessage as ReportingOutbox
from reporting.queries.feedback_volume import feedback_received
from reporting.settings import ReportingSettings

ALL_SCOPES = list(SCOPES)


def descendants(org: str) -> list[str]:
    return reference().descendants(org)


@dataclass
class Hub:
    intake: httpx.AsyncClient
    reporting: httpx.AsyncClient
    kafka: KafkaUnderTest
    keys: DevKeys
    settings: IntakeSettings
    reporting_settings: ReportingSettings
    reporting_sessions: Any
    new_database: Any
    membership: httpx.AsyncClient
    membership_settings: MembershipSettings
    membership_sessions: Any
    intake_sessions: Any
    notification: httpx.AsyncClient | None = None
    notification_settings: NotificationSettings | None = None
    notification_sessions: Any = None
    smtp: SmtpSink | None = None
    apps: dict[str, Any] = field(default_factory=dict)  # "intake", "membership", ... -> ASGI app

    def token(self, org: str, scopes: list[str] = ALL_SCOPES) -> dict[str, str]:
        token = self.keys.issue(
            organisation=org, scopes=scopes, issuer=self.settings.jwt_issuer, audience=self.settings.jwt_audience
        )
        return {"Authorization": f"Bearer {token}"}

    async def volume(self, org: str) -> int | str:
        """What reporting's API shows: a count, or "*" for 1 to 4 (disclosure control)."""
        response = await self.reporting.get(f"/v1/reports/feedback-volume/{org}", headers=self.token("QZZ"))
        response.raise_for_status()
        return response.json()["received"]  # type: ignore[no-any-return]

    async def applied(self, org: str) -> int:
        """Submissions reporting has applied for an organisation and those under it (its store)."""
        async with self.reporting_sessions() as session:
            return await feedback_received(session, descendants(org))

    async def post_feedback(self, org: str, **overrides: Any) -> httpx.Response:
        body = {
            "organisation_code": org,
            "service_area": "general_practice",
            "channel": "fft_online",
            "fft_answer": "good",
            "occurred_at": "2026-11-01T10:00:00Z",
            **overrides,
        }
        return await self.intake.post("/v1/feedback", json=body, headers=self.token(org))


def contact_keys(membership_app: Any) -> ContactKeys:
    """Membership's contact keys as notification asks for them, from the in-process app."""
    settings = NotificationSettings()
    links = settings.signed_links("contact_keys_secret", "http://membership", NAMESPACE)
    return ContactKeys("http://membership", links, transport=httpx.ASGITransport(app=membership_app))


@asynccontextmanager
async def running_hub(  # type: ignore[no-untyped-def]
    kafka: KafkaUnderTest,
    new_postgres_database,
    keys: DevKeys,
    identity_provider: IdentityProviderSettings | None = None,
    groups: str = "",
) -> AsyncIterator[Hub]:
    """Every service's API, relay, consumers and notification's worker on ``kafka``, each on
    a fresh database at the newest schema (``new_postgres_database(name, migrations)``).
    Consumer groups carry this test process's prefix (its topics do), and ``groups`` after it
    for a second hub.
    With ``identity_provider``, the APIs also trust the staff sign-in provider's tokens."""
    common: dict[str, Any] = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "HUB_JWKS_PATH": keys.jwks_path}
    if identity_provider is not None:
        common["identity_provider"] = identity_provider
    intake_settings = IntakeSettings(database_url=new_postgres_database("intake", intake_main.MIGRATIONS), **common)
    reporting_settings = ReportingSettings(
        database_url=new_postgres_database("reporting", reporting_main.MIGRATIONS), **common
    )
    membership_settings = MembershipSettings(
        database_url=new_postgres_database("membership", membership_main.MIGRATIONS),
        public_rate_limit="1000/minute",
        public_response_floor_ms=20,
        **common,
    )
    smtp = SmtpSink().start()
    notification_settings = NotificationSettings(
        database_url=new_postgres_database("notification", notification_main.MIGRATIONS),
        public_base_url="http://notification",
        smtp_port=smtp.port,
        retry_base_seconds=0.2,
        farewell_grace_seconds=1,
        **common,
    )
    await kafka_admin.create_topics(kafka.bootstrap_servers)

    intake_app = intake_main.create_app(intake_settings)
    reporting_app = reporting_main.create_app(reporting_settings)
    membership_app = membership_main.create_app(membership_settings)
    notification_app = notification_main.create_app(notification_settings)

    relay_engine = create_engine(intake_settings.database_url)
    relay = OutboxRelay(
        session_factory(relay_engine),
        OutboxMessage,
        kafka.bootstrap_servers,
        client_id="test-relay",
        idle_poll=0.05,
        max_backoff=1.0,
    )
    relay_task = asyncio.create_task(relay.run())
    reporting_relay_engine = create_engine(reporting_settings.database_url)
    reporting_relay = OutboxRelay(
        session_factory(reporting_relay_engine),
        ReportingOutbox,
        kafka.bootstrap_servers,
        client_id="test-reporting-relay",
        idle_poll=0.05,
        max_backoff=1.0,
    )
    reporting_relay_task = asyncio.create_task(reporting_relay.run())
    membership_relay_engine = create_engine(membership_settings.database_url)
    membership_relay = OutboxRelay(
        session_factory(membership_relay_engine),
        MembershipOutbox,
        kafka.bootstrap_servers,
        client_id="test-membership-relay",
        idle_poll=0.05,
        max_backoff=1.0,
    )
    membership_relay_task = asyncio.create_task(membership_relay.run())
    membership_consumer_engine = create_engine(membership_settings.database_url)
    notification_relay_engine = create_engine(notification_settings.database_url)
    notification_relay = OutboxRelay(
        session_factory(notification_relay_engine),
        NotificationOutbox,
        kafka.bootstrap_servers,
        client_id="test-notification-relay",
        idle_poll=0.05,
        max_backoff=1.0,
    )
    notification_relay_task = asyncio.create_task(notification_relay.run())
    notification_consumer_engine = create_engine(notification_settings.database_url)
    notification_worker_engine = create_engine(notification_settings.database_url)
    worker = Worker(notification_settings, session_factory(notification_worker_engine), name="test-worker")
    worker_task = asyncio.create_task(worker.run())

    consumer_engine = create_engine(reporting_settings.database_url)
    intake_consumer_engine = create_engine(intake_settings.database_url)
    broker = new_broker(kafka.bootstrap_servers, client_id="test-consumers")
    for consumer in [
        *reporting_consumers(reporting_settings, session_factory(consumer_engine)),
        *intake_consumers(intake_settings, session_factory(intake_consumer_engine)),
        *membership_consumers(membership_settings, session_factory(membership_consumer_engine)),
        *notification_consumers(
            notification_settings, session_factory(notification_consumer_engine), contact_keys(membership_app)
        ),
    ]:
        consumer.group = consumer_group(consumer.group) + groups
        consumer.register(broker)
    await broker.start()

    try:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=intake_app), base_url="http://intake") as intake,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=reporting_app), base_url="http://reporting"
            ) as reporting,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=membership_app), base_url="http://membership"
            ) as membership,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=notification_app), base_url="http://notification"
            ) as notification,
        ):
            yield Hub(
                intake,
                reporting,
                kafka,
                keys,
                intake_settings,
                reporting_settings,
                reporting_app.state.sessions,
                new_postgres_database,
                membership=membership,
                membership_settings=membership_settings,
                membership_sessions=membership_app.state.sessions,
                intake_sessions=intake_app.state.sessions,
                notification=notification,
                notification_settings=notification_settings,
                notification_sessions=notification_app.state.sessions,
                smtp=smtp,
                apps={
                    "intake": intake_app,
                    "membership": membership_app,
                    "notification": notification_app,
                    "reporting": reporting_app,
                },
            )
    finally:
        relay.stop()
        reporting_relay.stop()
        membership_relay.stop()
        notification_relay.stop()
        worker.stop()
        await notification_relay_task
        await worker_task
        smtp.stop()
        await relay_task
        await reporting_relay_task
        await membership_relay_task
        await broker.stop()
        for engine in (
            relay_engine,
            consumer_engine,
            intake_consumer_engine,
            membership_relay_engine,
            membership_consumer_engine,
            notification_relay_engine,
            notification_consumer_engine,
            notification_worker_engine,
            notification_app.state.engine,
            intake_app.state.engine,
            reporting_app.state.engine,
            membership_app.state.engine,
        ):
            await engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def hub(  # type: ignore[no-untyped-def]
    kafka: KafkaUnderTest, new_postgres_database, tmp_path_factory, staff_identity_provider: IdentityProviderSettings
) -> AsyncIterator[Hub]:
    keys = DevKeys(Path(tmp_path_factory.mktemp("keys"))).ensure()
    async with running_hub(kafka, new_postgres_database, keys, staff_identity_provider) as running:
        yield running
