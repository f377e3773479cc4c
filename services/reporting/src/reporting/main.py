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
from reporting import SERVICE_NAME
from reporting.api import router
from reporting.consumers import consumers
from reporting.settings import ReportingSettings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def asyncapi(settings: ServiceSettings, sessions: Any) -> dict[str, Any]:
    broker = new_broker(settings.kafka_bootstrap_servers, client_id=SERVICE_NAME)
    for consumer in consumers(settings, sessions):
        consumer.register(broker)
    return AsyncAPI(broker, title=f"{SERVICE_NAME} events", version="1.0.0").to_specification().to_jsonable()  # type: ignore[no-any-return]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    app = create_service_app(
        title="ICS Engagement Hub — reporting",
        description="Involvement measured from the hub's events, scoped to what your organisation may see.",
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
    consumers=consumers,
)
cli = service_cli(SERVICE)
