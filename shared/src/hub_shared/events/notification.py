"""Notification events, published by notification on ``notification.events``.

Ids only: a notification id, the member id (or nothing for a hear-back contact), the
organisation that sent it, what it was about. Never a name or an email address.
Readers are tolerant (unknown fields are ignored); a breaking change is a new version."""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class DeliveryStatus(StrEnum):
    CREATED = "created"
    HELD_FOR_DIGEST = "held-for-digest"
    SENDING = "sending"
    DELIVERED = "delivered"  # accepted by the relay
    TEMPORARY_FAILURE = "temporary-failure"  # 4xx or a timeout before the message was handed over: retried
    PERMANENT_FAILURE = "permanent-failure"  # 5xx: the address is suppressed
    TECHNICAL_FAILURE = "technical-failure"  # gave up after bounded retries
    UNKNOWN = "unknown"  # a crash between handing it over and recording the answer: never resent blindly
    WITHHELD = "withheld"  # consent checked at send time said no (left, unsubscribed, suppressed, erased, ...)
    DIGESTED = "digested"  # gathered into a daily or weekly digest


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NotificationStatusChangedV1(_Event):
    """One email's ledger entry moved to a new state."""

    event_type: ClassVar[str] = "notification.status_changed.v1"

    notification_id: UUID
    organisation_code: str = Field(description="The organisation on whose behalf it is sent")
    kind: str = Field(description="Template: invitation, update, confirm_email, digest_daily, ...")
    reference: str | None = Field(None, description="The opportunity, response or invitation it is about")
    member_id: UUID | None = None
    recipient_kind: str = Field(description="member or hear_back")
    status: DeliveryStatus
    reason: str | None = None
    attempts: int = 0
    changed_at: datetime


class RecipientSuppressedV1(_Event):
    """The relay refused an address for good (5xx): nothing more is sent to it until
    membership has a new address. Membership should stop contact by email."""

    event_type: ClassVar[str] = "notification.recipient_suppressed.v1"

    member_id: UUID | None = None
    contact_token: str | None = None
    reason: str
    suppressed_at: datetime


class UnsubscribeReceivedV1(_Event):
    """The person followed the one-click unsubscribe link of an email (RFC 8058):
    membership should stop every kind of contact the email's list covers."""

    event_type: ClassVar[str] = "notification.unsubscribed.v1"

    member_id: UUID | None = None
    contact_token: str | None = None
    scope: str = Field("all", description="What they left: 'all' non-transactional email")
    notification_id: UUID | None = Field(None, description="The email whose link they followed")
    unsubscribed_at: datetime
