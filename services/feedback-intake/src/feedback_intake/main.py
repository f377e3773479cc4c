"""Entry points: ``create_app`` for the API and ``cli`` for the image's commands."""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from faststream.specification import AsyncAPI

from feedback_intake import SERVICE_NAME
from feedback_intake.api import router
from feedback_intake.models import OutboxMessage
from feedback_intake.settings import IntakeSettings
from hub_shared.consumer import new_broker
from hub_shared.db import create_engine, session_factory
from hub_shared.events import FeedbackReceivedV1
from hub_shared.runtime import ServiceDefinition
from hub_shared.runtime import cli as service_cli
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_EVENTS
from hub_shared.web import create_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def asyncapi(settings: ServiceSettings) -> dict[str, Any]:
    broker = new_broker(settings.kafka_bootstrap_servers, client_id=SERVICE_NAME)
    broker.publisher(
        FEEDBACK_EVENTS.name,
        title="feedback.received.v1",
        description="CloudEvents 1.0 structured JSON; key = submission id; data below. Published from the outbox.",
        schema=FeedbackReceivedV1,
    )
    spec = AsyncAPI(broker, title=f"{SERVICE_NAME} events", version="1.0.0").to_specification()
    return spec.to_jsonable()  # type: ignore[no-any-return]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    engine = create_engine(settings.database_url)
    app = create_service_app(
        title="ICS Engagement Hub — feedback intake",
        description="Places and GP practices post Friends and Family Test answers, comments and "
        "engagement findings. Every call needs a bearer token naming your organisation.",
        settings=settings,
        engine=engine,
        asyncapi=lambda: asyncapi(settings),
    )
    app.state.sessions = session_factory(engine)
    app.include_router(router)
    return app


SERVICE = ServiceDefinition(
    name=SERVICE_NAME,
    settings=IntakeSettings,
    migrations_dir=MIGRATIONS,
    create_app=create_app,
    outbox_model=OutboxMessage,
)
cli = service_cli(SERVICE)
