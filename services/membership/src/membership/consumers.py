"""Subscriptions: 'you said, we did' responses, to tell the right people; unsubscribes and
refused addresses from notification, to stop contact."""

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared.consumer import EventConsumer
from hub_shared.events import FeedbackRespondedV1, RecipientSuppressedV1, UnsubscribeReceivedV1
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_RESPONSES, NOTIFICATION_EVENTS
from membership.handlers import hear_back, members
from membership.links import links_from
from membership.models import InboxMessage
from membership.settings import MembershipSettings

GROUP = "membership.updates"
CONTACT_OUTCOMES_GROUP = "membership.contact-outcomes"  # unsubscribes and refused addresses


def consumers(settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> list[EventConsumer]:
    assert isinstance(settings, MembershipSettings)
    return [
        EventConsumer(
            group=GROUP,
            topics=[FEEDBACK_RESPONSES.name],
            handlers={
                FeedbackRespondedV1.event_type: partial(hear_back.on_feedback_responded, links=links_from(settings))
            },
            sessions=sessions,
            inbox_model=InboxMessage,
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_backoff_seconds,
        ),
        EventConsumer(
            group=CONTACT_OUTCOMES_GROUP,
            topics=[NOTIFICATION_EVENTS.name],
            handlers={
                UnsubscribeReceivedV1.event_type: partial(members.on_unsubscribed, links=links_from(settings)),
                RecipientSuppressedV1.event_type: partial(members.on_recipient_suppressed, links=links_from(settings)),
            },
            sessions=sessions,
            inbox_model=InboxMessage,
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_backoff_seconds,
        ),
    ]
