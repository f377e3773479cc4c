"""Subscriptions: which events reporting applies, from which topics."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared.consumer import EventConsumer
from hub_shared.events import FeedbackReceivedV1
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_EVENTS
from reporting import handlers
from reporting.models import InboxMessage

GROUP = "reporting.projections"


def consumers(settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> list[EventConsumer]:
    return [
        EventConsumer(
            group=GROUP,
            topics=[FEEDBACK_EVENTS.name],
            handlers={FeedbackReceivedV1.event_type: handlers.on_feedback_received},
            sessions=sessions,
            inbox_model=InboxMessage,
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_backoff_seconds,
        )
    ]
