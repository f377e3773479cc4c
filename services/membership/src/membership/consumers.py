"""Subscriptions: 'you said, we did' responses, to tell the right people."""

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared.consumer import EventConsumer
from hub_shared.events import FeedbackRespondedV1
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_EVENTS
from membership.handlers import updates
from membership.links import links_from
from membership.models import InboxMessage
from membership.settings import MembershipSettings

GROUP = "membership.updates"


def consumers(settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> list[EventConsumer]:
    assert isinstance(settings, MembershipSettings)
    return [
        EventConsumer(
            group=GROUP,
            topics=[FEEDBACK_EVENTS.name],
            handlers={
                FeedbackRespondedV1.event_type: partial(updates.on_feedback_responded, links=links_from(settings))
            },
            sessions=sessions,
            inbox_model=InboxMessage,
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_backoff_seconds,
        )
    ]
