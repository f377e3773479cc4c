"""Subscriptions: membership's contact cards (compacted, sealed per person, tombstoned on
erasure) and events, and feedback-intake's responses, into notification's own store and
delivery ledger."""

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared.consumer import EventConsumer, EventHandler
from hub_shared.events import (
    FeedbackRespondedV1,
    InvitationAnsweredV1,
    InvitationIssuedV1,
    MemberConfirmedV1,
    MemberContactV2,
    MemberErasedV1,
    MemberLeftV1,
    OpportunityCancelledV1,
    OpportunityChangedV1,
    OpportunityPublishedV1,
)
from hub_shared.sealing import NAMESPACE, ContactKeys
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_RESPONSES, MEMBERSHIP_CONTACTS, MEMBERSHIP_EVENTS
from notification.handlers import notifications, recipients
from notification.models import InboxMessage
from notification.settings import NotificationSettings

GROUP = "notification.deliveries"
TOPICS = [MEMBERSHIP_CONTACTS.name, MEMBERSHIP_EVENTS.name, FEEDBACK_RESPONSES.name]


def contact_keys(settings: NotificationSettings) -> ContactKeys:
    """Membership's per-person keys, asked for at ``NOTIFICATION_MEMBERSHIP_URL``."""
    links = settings.signed_links("contact_keys_secret", settings.membership_url, NAMESPACE)
    return ContactKeys(settings.membership_url, links)


def handlers(settings: NotificationSettings, keys: ContactKeys) -> dict[str, EventHandler]:
    return {
        MemberContactV2.event_type: partial(recipients.on_contact_card, settings=settings, keys=keys),
        MemberConfirmedV1.event_type: recipients.on_member_confirmed,
        MemberLeftV1.event_type: partial(recipients.on_member_left, settings=settings),
        MemberErasedV1.event_type: partial(recipients.on_member_erased, settings=settings),
        OpportunityPublishedV1.event_type: notifications.on_opportunity_published,
        OpportunityChangedV1.event_type: partial(notifications.on_opportunity_changed, settings=settings),
        OpportunityCancelledV1.event_type: notifications.on_opportunity_cancelled,
        InvitationIssuedV1.event_type: notifications.on_invitation_issued,
        InvitationAnsweredV1.event_type: partial(notifications.on_invitation_answered, settings=settings),
        FeedbackRespondedV1.event_type: notifications.on_feedback_responded,
    }


def consumers(
    settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession], keys: ContactKeys | None = None
) -> list[EventConsumer]:
    assert isinstance(settings, NotificationSettings)
    return [
        EventConsumer(
            group=GROUP,
            topics=TOPICS,
            handlers=handlers(settings, keys or contact_keys(settings)),
            sessions=sessions,
            inbox_model=InboxMessage,
            # A null value on the contacts topic is an erasure (tombstone), not a bad event.
            invalid_handler=partial(recipients.on_contact_tombstone, settings=settings),
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_backoff_seconds,
        )
    ]
