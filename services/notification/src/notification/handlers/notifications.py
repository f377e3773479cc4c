"""The delivery ledger: queueing emails, one row per (event, recipient) — the unique
``dedupe_key`` makes queueing idempotent whatever redelivers the event — withholding and
forgetting them; what invitations and updates are about (opportunities, kept current as they
change or are cancelled, invitations, responses); and replies, which get an acknowledgement
and, for a booked place, a reminder before the event (moved when the time changes, withheld
when it is cancelled)."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.db import upsert
from hub_shared.events import (
    Answer,
    DeliveryStatus,
    Envelope,
    FeedbackRespondedV1,
    InvitationAnsweredV1,
    InvitationIssuedV1,
    OpportunityCancelledV1,
    OpportunityChangedV1,
    OpportunityPublishedV1,
    Place,
)
from notification.models import InvitationRef, Notification, Opportunity, Recipient, ResponseContent
from notification.publishing import PENDING, move
from notification.rules import kinds
from notification.rules.schedule import next_digest
from notification.settings import NotificationSettings


def dedupe(raw: str) -> str:
    """The ledger's unique key for (event, recipient): hashed, so it names nobody."""
    return hashlib.sha256(raw.encode()).hexdigest()


async def queue(
    session: AsyncSession,
    settings: NotificationSettings,
    *,
    dedupe_key: str,
    kind: str,
    recipient: Recipient | None,
    recipient_key: str | None,
    recipient_kind: str,
    member_id: uuid.UUID | None,
    organisation_code: str,
    reference: str | None = None,
    links: dict[str, str] | None = None,
    due_at: datetime | None = None,
    farewell_address: str | None = None,
) -> Notification | None:
    """Record an email to send (or to hold for the person's digest); None if this key was
    queued before."""
    now = datetime.now(UTC)
    status = DeliveryStatus.CREATED
    if kind in kinds.DIGESTIBLE and recipient is not None and recipient.frequency in ("daily", "weekly"):
        status = DeliveryStatus.HELD_FOR_DIGEST
        due_at = next_digest(
            now, recipient.frequency, hour=settings.digest_hour, weekday=settings.weekly_digest_weekday
        )
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "dedupe_key": dedupe(dedupe_key),
        "recipient_key": recipient_key,
        "recipient_kind": recipient_kind,
        "member_id": member_id,
        "organisation_code": organisation_code,
        "kind": kind,
        "reference": reference,
        "links": links or {},
        "status": status.value,
        "attempts": 0,
        "due_at": due_at or now,
        "farewell_address": farewell_address,
        "created_at": now,
        "updated_at": now,
    }
    connection = await session.connection()
    statement = upsert(connection.dialect.name, Notification, ("dedupe_key",)).values(**values)
    statement = statement.returning(Notification.id)
    inserted = (await session.execute(statement)).scalar_one_or_none()
    if inserted is None:
        return None
    row = await session.get(Notification, inserted)
    assert row is not None
    move(session, row, status, now=now)
    return row


async def withhold_pending(
    session: AsyncSession, recipient_key: str, reason: str, *, only_kinds: frozenset[str] | None = None
) -> int:
    """Stop every email still waiting for this recipient (farewells excepted)."""
    query = (
        select(Notification)
        .where(Notification.recipient_key == recipient_key)
        .where(Notification.status.in_(PENDING))
        .where(Notification.kind.not_in(kinds.FAREWELLS))
    )
    if only_kinds is not None:
        query = query.where(Notification.kind.in_(only_kinds))
    rows = (await session.scalars(query.with_for_update())).all()
    for row in rows:
        move(session, row, DeliveryStatus.WITHHELD, reason)
    return len(rows)


async def forget(session: AsyncSession, recipient_key: str) -> None:
    """Erasure: the ledger keeps what happened (states, counts) but nothing that leads back
    to the person; farewell emails still waiting keep their address until they are final."""
    await session.execute(
        update(Notification)
        .where(Notification.recipient_key == recipient_key)
        .values(recipient_key=None, member_id=None, links={})
    )


async def on_opportunity_published(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, OpportunityPublishedV1)
    opportunity = await session.get(Opportunity, data.opportunity_id)
    if opportunity is None:
        opportunity = Opportunity(id=data.opportunity_id)
        session.add(opportunity)
    opportunity.organisation_code = data.organisation_code
    opportunity.kind = data.kind.value
    opportunity.title = data.title
    opportunity.starts_at = data.starts_at
    opportunity.online = data.online
    opportunity.closes_at = data.closes_at


async def on_opportunity_changed(session: AsyncSession, envelope: Envelope, settings: NotificationSettings) -> None:
    """The copy takes the newest details (an older version changes nothing), so every email
    rendered from now on shows them; reminders still waiting move with the start time."""
    data = envelope.data
    assert isinstance(data, OpportunityChangedV1)
    opportunity = await session.get(Opportunity, data.opportunity_id, with_for_update=True)
    if opportunity is None:
        opportunity = Opportunity(id=data.opportunity_id, version=0)
        session.add(opportunity)
    if data.version <= (opportunity.version or 0):
        return
    opportunity.organisation_code = data.organisation_code
    opportunity.kind = data.kind.value
    opportunity.title = data.title
    opportunity.starts_at = data.starts_at
    opportunity.closes_at = data.closes_at
    opportunity.online = data.online
    opportunity.location = data.location
    opportunity.version = data.version
    if "starts_at" not in data.changed:
        return
    remind_at = max(data.starts_at - timedelta(hours=settings.reminder_hours_before), datetime.now(UTC))
    await session.execute(
        update(Notification)
        .where(Notification.kind == kinds.REMINDER, Notification.reference == str(data.opportunity_id))
        .where(Notification.status.in_(PENDING))
        .values(due_at=remind_at)
    )


async def on_opportunity_cancelled(session: AsyncSession, envelope: Envelope) -> None:
    """The copy is marked cancelled with the reason (the cancellation email shows it), and
    nothing else about it still waiting is sent: invitations, reminders, offers, changes."""
    data = envelope.data
    assert isinstance(data, OpportunityCancelledV1)
    opportunity = await session.get(Opportunity, data.opportunity_id, with_for_update=True)
    if opportunity is not None and data.version > opportunity.version:
        opportunity.cancelled_at = data.cancelled_at
        opportunity.cancel_reason = data.reason
        opportunity.version = data.version
    waiting = (
        await session.scalars(
            select(Notification)
            .where(Notification.reference == str(data.opportunity_id))
            .where(Notification.kind.in_(kinds.VOID_WHEN_CANCELLED), Notification.status.in_(PENDING))
            .with_for_update()
        )
    ).all()
    for row in waiting:
        move(session, row, DeliveryStatus.WITHHELD, "opportunity cancelled")


async def on_invitation_issued(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, InvitationIssuedV1)
    if await session.get(InvitationRef, data.invitation_id) is None:
        session.add(
            InvitationRef(
                id=data.invitation_id,
                opportunity_id=data.opportunity_id,
                member_id=data.member_id,
                organisation_code=data.organisation_code,
            )
        )


async def on_invitation_answered(session: AsyncSession, envelope: Envelope, settings: NotificationSettings) -> None:
    """A reply gets an acknowledgement; a booked place gets a reminder before the event, and
    a change of mind withdraws the reminder."""
    data = envelope.data
    assert isinstance(data, InvitationAnsweredV1)
    key = str(data.member_id)
    recipient = await session.get(Recipient, key)
    reference = str(data.opportunity_id)
    common = {
        "recipient": recipient,
        "recipient_key": key,
        "recipient_kind": "member",
        "member_id": data.member_id,
        "organisation_code": data.organisation_code,
        "reference": reference,
    }
    await queue(
        session,
        settings,
        dedupe_key=f"{envelope.id}:{key}:{kinds.REPLY_RECEIVED}",
        kind=kinds.REPLY_RECEIVED,
        links={"answer": data.answer.value, "place": data.place.value if data.place else ""},
        **common,  # type: ignore[arg-type]
    )
    earlier = (
        await session.scalars(
            select(Notification)
            .where(Notification.recipient_key == key, Notification.kind == kinds.REMINDER)
            .where(Notification.reference == reference, Notification.status.in_(PENDING))
            .with_for_update()
        )
    ).all()
    for row in earlier:
        move(session, row, DeliveryStatus.WITHHELD, "reply changed")
    opportunity = await session.get(Opportunity, data.opportunity_id)
    if data.answer == Answer.YES and data.place == Place.BOOKED and opportunity is not None:
        remind_at = opportunity.starts_at - timedelta(hours=settings.reminder_hours_before)
        if opportunity.starts_at > datetime.now(UTC):
            await queue(
                session,
                settings,
                dedupe_key=f"{envelope.id}:{key}:{kinds.REMINDER}",
                kind=kinds.REMINDER,
                due_at=max(remind_at, datetime.now(UTC)),
                **common,  # type: ignore[arg-type]
            )


async def on_feedback_responded(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, FeedbackRespondedV1)
    response = await session.get(ResponseContent, data.response_id)
    if response is None:
        response = ResponseContent(id=data.response_id)
        session.add(response)
    response.organisation_code = data.organisation_code
    response.you_said = data.you_said
    response.we_did = data.we_did
    response.status = data.status.value
    response.evidence_url = data.evidence_url
