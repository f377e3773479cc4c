"""Entry points: ``create_app`` for the API and ``cli`` for the image's commands."""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from faststream.specification import AsyncAPI

from feedback_intake import SERVICE_NAME
from feedback_intake.api import router
from feedback_intake.consumers import consumers
from feedback_intake.fft_returns import UploadRunner
from feedback_intake.models import OutboxMessage
from feedback_intake.schemas import FeedbackCreate
from feedback_intake.settings import IntakeSettings
from hub_shared.asyncapi import describe_consumed
from hub_shared.consumer import new_broker
from hub_shared.db import create_engine, session_factory
from hub_shared.events import (
    FeedbackReceivedV1,
    FeedbackRejectedV1,
    FeedbackRespondedV1,
    FeedbackReviewedV1,
    FeedbackSubmittedV1,
    FftMonthlyReturnV1,
    MemberErasedV1,
)
from hub_shared.organisations import reference
from hub_shared.ratelimit import RateLimit
from hub_shared.runtime import ServiceDefinition
from hub_shared.runtime import cli as service_cli
from hub_shared.topics import FEEDBACK_EVENTS, FEEDBACK_REJECTED
from hub_shared.web import create_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
ENVELOPE = "CloudEvents 1.0, structured JSON; extensions tenant (ODS code) and correlationid."


def asyncapi(settings: IntakeSettings, sessions: Any) -> dict[str, Any]:
    broker = new_broker(settings.kafka_bootstrap_servers, client_id=SERVICE_NAME)
    for consumer in consumers(settings, sessions):
        consumer.register(broker)
    for model, key in (
        (FeedbackReceivedV1, "submission id"),
        (FeedbackReviewedV1, "submission id"),
        (FftMonthlyReturnV1, "return id"),
        (FeedbackRespondedV1, "response id"),
    ):
        broker.publisher(
            FEEDBACK_EVENTS.name,
            title=f"{model.event_type}",
            description=f"{ENVELOPE} Type {model.event_type}; key = {key}.",
            schema=model,
        )
    broker.publisher(
        FEEDBACK_REJECTED.name,
        title=FeedbackRejectedV1.event_type,
        description=f"{ENVELOPE} Ingress submissions that failed validation.",
        schema=FeedbackRejectedV1,
    )
    spec = AsyncAPI(
        broker,
        title=f"{SERVICE_NAME} events",
        version="1.0.0",
        description=(
            "Places' systems publish feedback.submitted.v1 on feedback.submissions: the data is the same JSON "
            "as POST /v1/feedback (see the OpenAPI FeedbackCreate schema) and must carry a client_reference; "
            "the tenant extension names the submitting organisation. Failures appear on feedback.rejected."
        ),
    ).to_specification()
    document: dict[str, Any] = spec.to_jsonable()
    describe_consumed(document, "feedback-intake.ingress", FeedbackSubmittedV1.event_type, FeedbackCreate)
    describe_consumed(document, "feedback-intake.erasure", MemberErasedV1.event_type, MemberErasedV1)
    return document


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    uploads = UploadRunner(sessions, reference())

    def body_limit_for(path: str) -> int:
        if path.endswith("/feedback/batch"):
            return settings.max_batch_bytes
        if path.startswith("/v1/fft-returns/uploads"):
            return settings.max_upload_bytes
        return settings.max_body_bytes

    async def on_startup(_app: FastAPI) -> None:
        await uploads.resume_unfinished()

    async def on_shutdown(_app: FastAPI) -> None:
        await uploads.stop()

    app = create_service_app(
        title="ICS Engagement Hub — feedback intake",
        description=(
            "Places and GP practices post Friends and Family Test answers, comments and engagement findings, "
            "singly, in batches or as monthly FFT returns; reviewers work the safeguarding and complaint queue; "
            "places publish 'you said, we did' responses. Every call needs a bearer token naming your "
            "organisation (ODS code) and scopes. Errors are RFC 9457 problem documents."
        ),
        settings=settings,
        engine=engine,
        asyncapi=lambda: asyncapi(settings, sessions),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        body_limit_for=body_limit_for,
    )
    app.state.sessions = sessions
    app.state.uploads = uploads
    app.state.rate_limit = RateLimit(settings.rate_limit, settings.rate_limit_storage)
    app.include_router(router)
    return app


SERVICE = ServiceDefinition(
    name=SERVICE_NAME,
    settings=IntakeSettings,
    migrations_dir=MIGRATIONS,
    create_app=create_app,  # type: ignore[arg-type]
    outbox_model=OutboxMessage,
    consumers=consumers,
)
cli = service_cli(SERVICE)
