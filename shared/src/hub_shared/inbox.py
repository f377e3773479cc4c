"""Inbox: the ids of events a consumer has applied, recorded in the same transaction as
the effect, so a redelivered event changes nothing."""

from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import DateTime, String
from sqlalchemy.dialects import postgresql, sqlite
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

    One INSERT .. ON CONFLICT DO NOTHING: the primary key decides, so two concurrent
    deliveries of one event cannot both apply it."""
    connection = await session.connection()
    result = await connection.execute(
        _record_once(connection.dialect.name, cast(Any, model)),
        {"consumer": consumer, "event_id": event_id, "event_type": event_type, "processed_at": datetime.now(UTC)},
    )
    return result.first() is not None  # RETURNING: rowcount is not reliable across drivers


@cache
def _record_once(dialect_name: str, model: Any) -> Any:
    # Built once: constructing statements per event costs more than running them.
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(model).on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    return statement.returning(model.event_id)
