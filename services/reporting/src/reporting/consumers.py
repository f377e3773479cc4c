"""Subscriptions: which events reporting applies, from which topics."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared.consumer import BatchHandler, EventConsumer, EventHandler
from hub_shared.events import FeedbackReceivedV1, FeedbackRespondedV1, FeedbackReviewedV1, FftMonthlyReturnV1
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_EVENTS, MEMBERSHIP_EVENTS, NOTIFICATION_EVENTS
from reporting import handlers, membership_measures, notification_measures
from reporting.models import InboxMessage

GROUP = "reporting.projections"
BATCH_HANDLERS: dict[str, BatchHandler] = {
    FeedbackReceivedV1.event_type: handlers.on_feedback_received,
    FftMonthlyReturnV1.event_type: handlers.on_fft_returns,
}
HANDLERS: dict[str, EventHandler] = {
    FeedbackReviewedV1.event_type: handlers.on_feedback_reviewed,
    FeedbackRespondedV1.event_type: handlers.on_feedback_responded,
    **membership_measures.HANDLERS,
}
TOPICS = [FEEDBACK_EVENTS.name, MEMBERSHIP_EVENTS.name]
NOTIFICATION_GROUP = "reporting.notifications"


def consumers(settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> list[EventConsumer]:
    return [
        EventConsumer(
            group=GROUP,
            topics=TOPICS,
            handlers=HANDLERS,
            batch_handlers=BATCH_HANDLERS,
            sessions=sessions,
            inbox_model=InboxMessage,
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_backoff_seconds,
        ),
        EventConsumer(
            group=NOTIFICATION_GROUP,
            topics=[NOTIFICATION_EVENTS.name],
            handlers=notification_measures.HANDLERS,
            sessions=sessions,
            inbox_model=InboxMessage,
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_backoff_seconds,
        ),
    ]
