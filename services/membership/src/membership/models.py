"""membership's tables. Contact details (name, email, phone, postcode) live only in
``member`` and ``hear_back_contact``, with the person's contact key (their cards on the
contacts topic are sealed with it); erasure deletes the rows, and so the keys."""

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub_shared.inbox import InboxMixin
from hub_shared.outbox import OutboxMixin
from hub_shared.timestamps import UtcDateTime


class Base(DeclarativeBase):
    pass


class Member(Base):
    """A patient partner. Pending until they confirm their email; left = no contact, and
    the contact details are gone (only bands and practice remain, for statistics)."""

    __tablename__ = "member"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending, active, left
    email: Mapped[str | None] = mapped_column(String(320), unique=True, nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(10), nullable=True)
    practice_code: Mapped[str] = mapped_column(String(10), index=True)
    place_code: Mapped[str | None] = mapped_column(String(10), index=True, nullable=True)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    frequency: Mapped[str] = mapped_column(String(20), default="as_it_happens")
    age_band: Mapped[str | None] = mapped_column(String(30), nullable=True)
    sex: Mapped[str | None] = mapped_column(String(30), nullable=True)
    ethnic_group: Mapped[str | None] = mapped_column(String(50), nullable=True)
    disability: Mapped[str | None] = mapped_column(String(30), nullable=True)
    carer: Mapped[str | None] = mapped_column(String(30), nullable=True)
    consent_given: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_wording_version: Mapped[str] = mapped_column(String(40))
    consent_source: Mapped[str] = mapped_column(String(20))
    consent_basis: Mapped[str | None] = mapped_column(String(200), nullable=True)
    consent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # In every link sent to the member; a confirmed new email address adds one, so links sent
    # to the old address stop working.
    link_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Seals their contact cards (hub_shared.sealing); gone with the row, or when they leave.
    contact_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class FeedbackPageSubmission(Base):
    """A feedback page's form, once sent: its id (a fresh one in every page served) makes a
    second press, a reload or a retry the same submission, answered as the first was; so does
    the same feedback from the same client again within minutes (``content_key``). The
    feedback itself is not kept here: it went to intake's ingress."""

    __tablename__ = "feedback_page_submission"

    form_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_code: Mapped[str] = mapped_column(String(10))
    contact_token: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the hear-back reference given
    # A keyed digest of the client, the page, the answer, the words and the address given
    # (Links.content_key): the same feedback sent again from a fresh page is a repeat too.
    content_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class HearBackContact(Base):
    """Someone who only wants to hear what came of their feedback: an address, the
    pseudonymous token intake stores on their submission, and the organisation the feedback
    was given to (whose ICB their cards belong to; null for contacts from before it was
    recorded)."""

    __tablename__ = "hear_back_contact"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    contact_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # seals their cards
    organisation_code: Mapped[str | None] = mapped_column(String(10), nullable=True)


class UsedLink(Base):
    """Single-use links already followed (by their unique id)."""

    __tablename__ = "used_link"

    link_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GroupInvitation(Base):
    """A person a team listed for a group (a PPG list import), waiting to accept from the
    welcome email. Nobody is added to a group, or shown to a team, until they accept, so
    an import neither changes nor reveals anyone's membership. Deleted once accepted, when
    the person is erased, or once its link has expired."""

    __tablename__ = "group_invitation"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member_group.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    postcode: Mapped[str] = mapped_column(String(10))
    practice_code: Mapped[str] = mapped_column(String(10))
    consent_basis: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    contact_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # seals the welcome's card


class EmailAllowance(Base):
    """When emails asked for by someone (joining, a fresh link, hearing back, a new address,
    a list import) were last sent to an address, to cap them per hour. The address is kept
    only as a keyed digest."""

    __tablename__ = "email_allowance"

    address_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent_at: Mapped[list[str]] = mapped_column(JSON, default=list)


class Group(Base):
    __tablename__ = "member_group"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    organisation_code: Mapped[str] = mapped_column(String(10), index=True)  # who manages it
    place_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    service_area: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GroupMembership(Base):
    __tablename__ = "group_membership"
    __table_args__ = (Index("ix_group_membership_member", "member_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member_group.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Opportunity(Base):
    __tablename__ = "opportunity"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_code: Mapped[str] = mapped_column(String(10), index=True)
    place_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    targeting: Mapped[dict] = mapped_column(JSON)  # type: ignore[type-arg]
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # 1 when published, one more for each change or the cancellation (the events carry it).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Invitation(Base):
    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("opportunity_id", "member_id", name="uq_invitation_once"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    opportunity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answer: Mapped[str | None] = mapped_column(String(10), nullable=True)
    place: Mapped[str | None] = mapped_column(String(20), nullable=True)  # booked, waiting_list
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    attendance_bands: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # type: ignore[type-arg]


class OutboxMessage(OutboxMixin, Base):
    pass


class InboxMessage(InboxMixin, Base):
    pass
