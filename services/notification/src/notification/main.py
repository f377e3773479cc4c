"""Entry points: ``create_app`` for the API and pages, and ``cli`` for the image's
commands (migrate, api, relay, consume, worker, check)."""

import asyncio
import signal
from pathlib import Path

from fastapi import FastAPI

from hub_shared import asyncapi
from hub_shared.asyncapi import Published
from hub_shared.db import create_engine, session_factory
from hub_shared.events import NotificationStatusChangedV1, RecipientSuppressedV1, UnsubscribeReceivedV1
from hub_shared.logging import configure_logging
from hub_shared.organisation_feed import following
from hub_shared.runtime import ServiceDefinition
from hub_shared.runtime import cli as service_cli
from hub_shared.settings import ServiceSettings, load
from hub_shared.topics import NOTIFICATION_EVENTS
from hub_shared.web import create_service_app
from notification import SERVICE_NAME, pages
from notification.api import router
from notification.consumers import consumers
from notification.links import unsubscribe_links
from notification.models import OutboxMessage
from notification.settings import NotificationSettings
from notification.workers.delivery import Worker

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
PUBLISHED = [
    Published(NOTIFICATION_EVENTS.name, model, f"key = {key}. {what} Ids only, never an address.")
    for model, key, what in (
        (NotificationStatusChangedV1, "notification id", "Every change of an email's state in the ledger."),
        (RecipientSuppressedV1, "member id or contact token", "The relay refused an address for good (5xx)."),
        (UnsubscribeReceivedV1, "member id or contact token", "One-click unsubscribe: stop non-transactional email."),
    )
]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    assert isinstance(settings, NotificationSettings)
    app = create_service_app(
        title="ICS Engagement Hub — notification",
        description=(
            "Every email a patient partner should get, exactly once, and none they shouldn't. Place and practice "
            "teams list and filter the ledger of their own sends (never addresses), brand their sign-off and preview "
            "templates; people unsubscribe with one click (RFC 8058). Errors are RFC 9457 problem documents."
        ),
        settings=settings,
        asyncapi=lambda sessions: asyncapi.document(
            SERVICE_NAME, settings.kafka_bootstrap_servers, consumers(settings, sessions), PUBLISHED
        ),
        # Mail providers post RFC 8058 one-click unsubscribes from their own sites; the signed
        # token in the address is what authorises it.
        cross_site_paths=("/unsubscribe",),
    )
    app.state.unsubscribe_links = unsubscribe_links(settings)
    app.include_router(router)
    app.include_router(pages.router)
    return app


async def run_worker(settings: NotificationSettings) -> None:
    engine = create_engine(settings.database_url)
    worker = Worker(settings, session_factory(engine))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)  # finish the email in hand and record it, then stop
    try:
        async with following(settings):  # emails name their ICS: keep its organisations current
            await worker.run()
    finally:
        await engine.dispose()


SERVICE = ServiceDefinition(
    name=SERVICE_NAME,
    settings=NotificationSettings,
    migrations_dir=MIGRATIONS,
    create_app=create_app,
    outbox_model=OutboxMessage,
    consumers=consumers,
)
cli = service_cli(SERVICE)


@cli.command()
def worker() -> None:
    """Send due emails over SMTP (safe to run several at once)."""
    settings = load(NotificationSettings)
    configure_logging(SERVICE_NAME, settings.log_level)
    asyncio.run(run_worker(settings))
