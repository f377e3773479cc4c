"""Entry points: ``create_app`` for the API and pages, and ``cli`` for the image's commands."""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared import asyncapi
from hub_shared.asyncapi import Published, describe_consumed
from hub_shared.events import (
    AttendanceRecordedV1,
    FeedbackRespondedV1,
    FeedbackSubmittedV1,
    GroupMembershipChangedV1,
    InvitationAnsweredV1,
    InvitationIssuedV1,
    MemberConfirmedV1,
    MemberContactV2,
    MemberErasedV1,
    MemberJoinedV1,
    MemberLeftV1,
    MemberPreferencesChangedV1,
    OpportunityCancelledV1,
    OpportunityChangedV1,
    OpportunityPublishedV1,
    UpdateDueV1,
)
from hub_shared.page_records import NAMESPACE as PAGE_RECORDS
from hub_shared.ratelimit import RateLimit
from hub_shared.runtime import ServiceDefinition
from hub_shared.runtime import cli as service_cli
from hub_shared.sealing import NAMESPACE
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_SUBMISSIONS, MEMBERSHIP_CONTACTS, MEMBERSHIP_EVENTS
from hub_shared.web import create_service_app
from membership import SERVICE_NAME, pages
from membership.api import router
from membership.consumers import consumers
from membership.links import links_from
from membership.models import OutboxMessage
from membership.settings import MembershipSettings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
PUBLISHED = [
    *(
        Published(MEMBERSHIP_EVENTS.name, model, f"key = {key}. Ids and bands only.")
        for model, key in (
            (MemberJoinedV1, "member id"),
            (MemberConfirmedV1, "member id"),
            (MemberPreferencesChangedV1, "member id"),
            (MemberLeftV1, "member id"),
            (MemberErasedV1, "member id"),
            (GroupMembershipChangedV1, "member id"),
            (OpportunityPublishedV1, "opportunity id"),
            (OpportunityChangedV1, "opportunity id"),
            (OpportunityCancelledV1, "opportunity id"),
            (InvitationIssuedV1, "member id"),
            (InvitationAnsweredV1, "member id"),
            (AttendanceRecordedV1, "member id"),
            (UpdateDueV1, "member id or hear-back contact token"),
        )
    ),
    Published(
        MEMBERSHIP_CONTACTS.name,
        MemberContactV2,
        "Restricted to membership and notification. Log-compacted; key = member id (or hear-back contact token); "
        "the latest card per key wins and a null value (tombstone) means the person was erased. The details are "
        "sealed with the person's key (GET /v1/contact-keys/{key}), destroyed on erasure.",
    ),
    Published(
        FEEDBACK_SUBMISSIONS.name,
        FeedbackSubmittedV1,
        "What a person gives on a practice's feedback page (/f/{code}), put on intake's ingress as online FFT: "
        "key = its client reference; header authorization = FeedbackPage <token>, signed with the secret "
        "membership shares with intake for that organisation and reference. No email address: hearing back "
        "travels as the hear-back contact token.",
    ),
]


def asyncapi_document(settings: MembershipSettings, sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    document = asyncapi.document(
        SERVICE_NAME, settings.kafka_bootstrap_servers, consumers(settings, sessions), PUBLISHED
    )
    describe_consumed(document, "membership.updates", FeedbackRespondedV1.event_type, FeedbackRespondedV1)
    return document


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or MembershipSettings()
    assert isinstance(settings, MembershipSettings)

    def body_limit_for(path: str) -> int:
        return settings.max_import_bytes if path.endswith("/import") else settings.max_body_bytes

    app = create_service_app(
        title="ICS Engagement Hub — membership",
        description=(
            "Patient partners join, confirm, choose what they hear about, are invited to take part, reply, and can "
            "leave or be forgotten; people who left feedback can hear back without joining. Members act through "
            "signed links emailed to them; place and practice teams call with a bearer token and never see contact "
            "details. Errors are RFC 9457 problem documents."
        ),
        settings=settings,
        asyncapi=lambda sessions: asyncapi_document(settings, sessions),
        body_limit_for=body_limit_for,
    )
    app.state.links = links_from(settings)
    app.state.contact_key_links = settings.signed_links("contact_keys_secret", settings.public_base_url, NAMESPACE)
    app.state.page_links = settings.signed_links("feedback_page_secret", settings.public_base_url, PAGE_RECORDS)
    app.state.rate_limit = RateLimit(settings.rate_limit, settings.rate_limit_storage)
    app.state.public_rate_limit = RateLimit(settings.public_rate_limit, settings.rate_limit_storage)
    app.include_router(router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC, check_dir=False), name="static")
    return app


SERVICE = ServiceDefinition(
    name=SERVICE_NAME,
    settings=MembershipSettings,
    migrations_dir=MIGRATIONS,
    create_app=create_app,
    outbox_model=OutboxMessage,
    consumers=consumers,
)
cli = service_cli(SERVICE)
