"""Queueing emails in the delivery ledger. One row per (event, recipient): the unique
``dedupe_key`` makes queueing idempotent whatever redelivers the event."""

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.db import upsert
from hub_shared.events import DeliveryStatus
from notification import kinds
from notification.models import Notification, Recipient
from notification.publishing import PENDING, move
from notification.schedule import next_digest
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
