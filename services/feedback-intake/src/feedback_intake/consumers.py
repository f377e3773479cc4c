"""Subscriptions: raw submissions from places' own systems, and member erasures."""

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback_intake.handlers import ingress, submissions
from feedback_intake.models import InboxMessage
from feedback_intake.settings import IntakeSettings
from hub_shared.auth import TokenVerifier
from hub_shared.consumer import EventConsumer
from hub_shared.events import FeedbackSubmittedV1, MemberErasedV1
from hub_shared.organisations import reference
from hub_shared.page_records import NAMESPACE as PAGE_RECORDS
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_SUBMISSIONS, MEMBERSHIP_EVENTS


def consumers(settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> list[EventConsumer]:
    assert isinstance(settings, IntakeSettings)
    common = {
        "sessions": sessions,
        "inbox_model": InboxMessage,
        "max_attempts": settings.consumer_max_attempts,
        "backoff_seconds": settings.consumer_backoff_seconds,
    }
    page_links = settings.signed_links("feedback_page_secret", "", PAGE_RECORDS)
    verifier = TokenVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        jwks_path=settings.jwks_path,
        jwks_url=settings.jwks_url,
    )
    return [
        EventConsumer(
            group="feedback-intake.ingress",
            topics=[FEEDBACK_SUBMISSIONS.name],
            handlers={},
            batch_handlers={
                FeedbackSubmittedV1.event_type: partial(
                    ingress.on_ingress_submissions,
                    organisations=reference(),
                    verifier=verifier,
                    page_links=page_links,
                )
            },
            invalid_handler=partial(ingress.on_invalid_ingress, verifier=verifier),
            **common,  # type: ignore[arg-type]
        ),
        EventConsumer(
            group="feedback-intake.erasure",
            topics=[MEMBERSHIP_EVENTS.name],
            handlers={MemberErasedV1.event_type: partial(submissions.on_member_erased, organisations=reference())},
            **common,  # type: ignore[arg-type]
        ),
    ]
