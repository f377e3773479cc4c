"""Entry points: ``create_app`` for the API and ``cli`` for the image's commands."""

import gc
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback_intake import SERVICE_NAME
from feedback_intake.api import router
from feedback_intake.consumers import consumers
from feedback_intake.models import OutboxMessage
from feedback_intake.schemas import EXAMPLE, IngressSubmission
from feedback_intake.settings import IntakeSettings
from feedback_intake.workers.fft_uploads import UploadRunner
from hub_shared import asyncapi
from hub_shared.asyncapi import Published, describe_consumed
from hub_shared.events import (
    FeedbackReceivedV1,
    FeedbackRejectedV1,
    FeedbackRespondedV1,
    FeedbackReviewedV1,
    FeedbackSubmittedV1,
    FftMonthlyReturnV1,
    MemberErasedV1,
)
from hub_shared.group_commit import GroupCommit
from hub_shared.organisations import reference
from hub_shared.ratelimit import RateLimit
from hub_shared.runtime import ServiceDefinition
from hub_shared.runtime import cli as service_cli
from hub_shared.topics import FEEDBACK_EVENTS, FEEDBACK_REJECTED, FEEDBACK_RESPONSES
from hub_shared.web import create_service_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
PUBLISHED = [
    *(
        Published(FEEDBACK_EVENTS.name, model, f"key = {key}.")
        for model, key in (
            (FeedbackReceivedV1, "submission id"),
            (FeedbackReviewedV1, "submission id"),
            (FftMonthlyReturnV1, "return id"),
        )
    ),
    Published(FEEDBACK_RESPONSES.name, FeedbackRespondedV1, "key = response id."),
    Published(
        FEEDBACK_REJECTED.name,
        FeedbackRejectedV1,
        "Ingress records that were not accepted, keyed by the client_reference, with the signing organisation as "
        "tenant ('unauthenticated' if none). For the hub's operators only: senders read their own at "
        "GET /v1/ingress/rejections.",
    ),
]


def asyncapi_document(settings: IntakeSettings, sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    document = asyncapi.document(
        SERVICE_NAME, settings.kafka_bootstrap_servers, consumers(settings, sessions), PUBLISHED, INGRESS
    )
    describe_consumed(
        document,
        "feedback-intake.ingress",
        FeedbackSubmittedV1.event_type,
        IngressSubmission,
        headers=INGRESS_HEADERS,
        examples=[INGRESS_EXAMPLE],
    )
    describe_consumed(
        document, "feedback-intake.erasure", MemberErasedV1.event_type, MemberErasedV1, examples=[ERASURE_EXAMPLE]
    )
    return document


INGRESS = (
    "Places' and practices' systems publish feedback.submitted.v1 on feedback.submissions, as CloudEvents 1.0 "
    "structured JSON (content-type application/cloudevents+json), keyed by the client_reference. The data is the "
    "JSON of POST /v1/feedback (OpenAPI FeedbackCreate) and must carry a client_reference. Every record is "
    "signed with the same bearer token as HTTP, in the record header `authorization: Bearer <token>` (scope "
    "feedback:write); the envelope's `tenant` must be the token's organisation or one it may act for (a place "
    "for its practices). A record that is unsigned, wrongly signed, or claims another organisation is not "
    "accepted. Why a record was rejected is kept for the organisation whose token signed it, and for no one "
    "else: GET /v1/ingress/rejections on the intake API. (feedback.rejected carries the same rejections for "
    "the hub's operators; grant it to no sender.) The correlation id is the envelope's `correlationid`. "
    "The hub's own feedback pages (membership) publish here too, each record signed instead with "
    "`authorization: FeedbackPage <token>` (the secret membership and intake share, bound to the record's tenant "
    "and client_reference), accepted as channel fft_online only."
)
INGRESS_HEADERS: dict[str, Any] = {
    "type": "object",
    "required": ["authorization"],
    "properties": {
        "authorization": {
            "type": "string",
            "pattern": "^(Bearer|FeedbackPage) .+",
            "description": "Bearer <JWT>: the same token as for HTTP, scope feedback:write (the hub's feedback pages: "
            "FeedbackPage <token>)",
        },
        "content-type": {"const": "application/cloudevents+json"},
    },
}
INGRESS_EXAMPLE: dict[str, Any] = {
    "name": "practice-system-posts-an-fft-answer",
    "summary": "Northvale Place (01A) posts an FFT answer for one of its practices. The authorization value is "
    "elided: use a token for 01A (`hub token --org 01A --scope feedback:write` in development).",
    "headers": {"authorization": "Bearer <token for 01A>", "content-type": "application/cloudevents+json"},
    "payload": {
        "specversion": "1.0",
        "id": "5b0f3f5e-5d2f-4a51-9f7e-0b1c1d2e3f40",
        "source": "01A-feedback-system",
        "type": "feedback.submitted.v1",
        "subject": "northvale-2026-11-000123",
        "time": "2026-11-20T09:31:00Z",
        "datacontenttype": "application/json",
        "tenant": "01A",
        "correlationid": "northvale-batch-2026-11-20",
        "data": {**EXAMPLE, "client_reference": "northvale-2026-11-000123"},
    },
}
ERASURE_EXAMPLE: dict[str, Any] = {
    "name": "a-member-asks-to-be-forgotten",
    "summary": "membership tells every service to drop its links to a member",
    "payload": {
        "specversion": "1.0",
        "id": "0c9d5a7e-1b2c-4d3e-8f90-a1b2c3d4e5f6",
        "source": "membership",
        "type": "member.erased.v1",
        "subject": "6f1c0a52-8a8e-4a36-9d0e-2b1f0c3e7a10",
        "time": "2026-11-22T10:00:00Z",
        "datacontenttype": "application/json",
        "tenant": "QZZ",
        "correlationid": "erasure-6f1c0a52",
        "data": {"member_id": "6f1c0a52-8a8e-4a36-9d0e-2b1f0c3e7a10", "erased_at": "2026-11-22T10:00:00Z"},
    },
}


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    def body_limit_for(path: str) -> int:
        if path.endswith("/feedback/batch"):
            return settings.max_batch_bytes
        if path.startswith("/v1/fft-returns/uploads"):
            return settings.max_upload_bytes
        return settings.max_body_bytes

    async def on_startup(app: FastAPI) -> None:
        await app.state.uploads.resume_unfinished()

    async def on_shutdown(app: FastAPI) -> None:
        await app.state.uploads.stop()
        await app.state.rate_limit.close()

    app = create_service_app(
        title="ICS Engagement Hub — feedback intake",
        description=(
            "Places and GP practices post Friends and Family Test answers, comments and engagement findings, "
            "singly, in batches or as monthly FFT returns; reviewers work the safeguarding and complaint queue; "
            "places publish 'you said, we did' responses. Every call needs a bearer token naming your "
            "organisation (ODS code) and scopes. Errors are RFC 9457 problem documents."
        ),
        settings=settings,
        asyncapi=lambda sessions: asyncapi_document(settings, sessions),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        body_limit_for=body_limit_for,
    )
    app.state.group_commit = GroupCommit(app.state.sessions)
    app.state.uploads = UploadRunner(app.state.sessions, reference())
    app.state.rate_limit = RateLimit(settings.rate_limit, settings.rate_limit_storage)
    app.include_router(router)
    # What building the app made (modules, routes, models: some 176,000 objects) lives as long
    # as the process; frozen (garbage collected first), it is left out of the full collections
    # that work such as a big upload sets off, each of which would otherwise hold the event
    # loop for ~100 ms. (Frozen here, before serving: frozen in the lifespan, uvicorn's worker
    # processes never came up.)
    gc.collect()
    gc.freeze()
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
