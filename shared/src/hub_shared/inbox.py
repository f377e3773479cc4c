"""Inbox: the ids of events a consumer has applied, recorded in the same transaction as
the effect, so a redelivered event changes nothing."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column


class InboxMixin:
    """Declare ``class InboxMessage(InboxMixin, Base)`` in a service's models."""

    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


async def first_delivery(
    session: AsyncSession, model: type[InboxMixin], consumer: str, event_id: str, event_type: str
) -> bool:
    """Record the event in the open transaction; False if this consumer already applied it.

    Two concurrent deliveries of one event both pass the read; the primary key makes the
    second commit fail, which rolls its effect back and is retried as a duplicate."""
    if await session.get(model, (consumer, event_id)) is not None:
        return False
    row_type: Any = model  # a mapped subclass of the mixin
    session.add(row_type(consumer=consumer, event_id=event_id, event_type=event_type, processed_at=datetime.now(UTC)))
    return True
