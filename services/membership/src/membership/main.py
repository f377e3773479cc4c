"""Entry points: ``create_app`` for the API and ``cli`` for the image's commands."""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from faststream.specification import AsyncAPI

from hub_shared.consumer import new_broker
from hub_shared.db import create_engine, session_factory
from hub_shared.runtime import ServiceDefinition
from hub_shared.runtime import cli as service_cli
from hub_shared.settings import ServiceSettings
from hub_shared.web import create_service_app
from membership import SERVICE_NAME
from membership.models import OutboxMessage
from membership.settings import MembershipSettings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def asyncapi(settings: ServiceSettings) -> dict[str, Any]:
    broker = new_broker(settings.kafka_bootstrap_servers, client_id=SERVICE_NAME)
    return AsyncAPI(broker, title=f"{SERVICE_NAME} events", version="1.0.0").to_specification().to_jsonable()  # type: ignore[no-any-return]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or MembershipSettings()
    engine = create_engine(settings.database_url)
    app = create_service_app(
        title="ICS Engagement Hub — membership",
        description=(
            "Patient partners join, choose what they care about and are invited to take part. "
            "(Membership capabilities arrive with their issue; this release serves health, readiness and documents.)"
        ),
        settings=settings,
        engine=engine,
        asyncapi=lambda: asyncapi(settings),
    )
    app.state.sessions = session_factory(engine)
    return app


SERVICE = ServiceDefinition(
    name=SERVICE_NAME,
    settings=MembershipSettings,
    migrations_dir=MIGRATIONS,
    create_app=create_app,
    outbox_model=OutboxMessage,
)
cli = service_cli(SERVICE)
