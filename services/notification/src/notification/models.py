"""notification's tables: its own copy of recipients (from membership's contact cards),
the delivery ledger, what emails are about (opportunities, responses), place branding,
and the outbox and inbox.

The ledger holds no address or name: an email is rendered and addressed at send time from
the recipient row, which erasure deletes. Only a farewell email (left, erased) carries its
address in the ledger, until it reaches a final state, when the address is wiped."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub_shared.inbox import InboxMixin
from hub_shared.outbox import OutboxMixin
from hub_shared.timestamps import UtcDateTime


class Base(DeclarativeBase):
    pass


class Recipient(Base):
    """Whom we may write to, keyed as membership keys its contact cards: a member id or a
    hear-back contact token."""

    __tablename__ = "recipient"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # member, hear_back
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    organisation_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    contactable: Mapped[bool] = mapped_column(Boolean, default=False)
    frequency: Mapped[str] = mapped_column(String(20), default="as_it_happens")
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    suppressed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    suppression_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Notification(Base):
    """One email to one recipient: the delivery ledger. ``dedupe_key`` is unique per
    (event, recipient), so an event applied twice can never queue a second email."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_due", "status", "due_at"),
        Index("ix_notification_org_created", "organisation_code", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    organisation_code: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    links: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    digest_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    relay_reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    farewell_address: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Opportunity(Base):
    """What an invitation is about, from ``opportunity.published.v1``, kept current by
    ``opportunity.changed.v1`` and ``opportunity.cancelled.v1`` (the newest version wins)."""

    __tablename__ = "opportunity"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_code: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    online: Mapped[bool] = mapped_column(Boolean)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class InvitationRef(Base):
    """Which opportunity an invitation is for and whom, from ``invitation.issued.v1``."""

    __tablename__ = "invitation_ref"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    opportunity_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    organisation_code: Mapped[str] = mapped_column(String(10))


class ResponseContent(Base):
    """A published 'you said, we did' response, from ``feedback.responded.v1``."""

    __tablename__ = "response_content"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_code: Mapped[str] = mapped_column(String(10))
    you_said: Mapped[str] = mapped_column(Text)
    we_did: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(30))
    evidence_url: Mapped[str | None] = mapped_column(Text, nullable=True)


class Branding(Base):
    """How an organisation signs its emails."""

    __tablename__ = "branding"

    organisation_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    sign_off: Mapped[str] = mapped_column(Text)
    team_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxMessage(OutboxMixin, Base):
    pass


class InboxMessage(InboxMixin, Base):
    pass
