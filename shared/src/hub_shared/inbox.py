"""Inbox: the ids of events a consumer has applied, recorded in the same transaction as
the effect, so a redelivered event changes nothing."""

from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import String, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hub_shared.db import upsert
from hub_shared.timestamps import UtcDateTime


class InboxMixin:
    """Declare ``class InboxMessage(InboxMixin, Base)`` in a service's models."""

    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime)


async def record_deliveries(
    session: AsyncSession, model: type[InboxMixin], consumer: str, keys: list[tuple[str, str]]
) -> set[str]:
    """Record many events (id, type) in the open transaction with one statement; returns
    the ids this consumer had not applied before.

    INSERT .. ON CONFLICT DO NOTHING .. RETURNING: the primary key decides, so two
    concurrent deliveries of one event cannot both apply it."""
    if not keys:
        return set()
    connection = await session.connection()
    now = datetime.now(UTC)
    unique = dict(keys)  # one row per id: a statement may not conflict with itself
    if connection.dialect.name == "postgresql":
        # Two array parameters instead of a VALUES list of thousands: the statement stays
        # small, so neither side parses a large text per batch.
        result = await connection.execute(
            _record_unnested(cast(Any, model).__tablename__),
            {"consumer": consumer, "ids": list(unique), "types": list(unique.values()), "now": now},
        )
        return {row[0] for row in result}
    result = await connection.execute(
        _record_once(connection.dialect.name, cast(Any, model)),
        [
            {"consumer": consumer, "event_id": key, "event_type": kind, "processed_at": now}
            for key, kind in unique.items()
        ],
    )
    return {row[0] for row in result}


@cache
def _record_unnested(table: str) -> Any:
    return text(
        f"INSERT INTO {table} (consumer, event_id, event_type, processed_at) "
        "SELECT :consumer, u.event_id, u.event_type, :now "
        "FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[])) AS u(event_id, event_type) "
        "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
    )


@cache
def _record_once(dialect_name: str, model: Any) -> Any:
    # Built once: constructing statements per batch costs more than running them.
    return upsert(dialect_name, model, ("consumer", "event_id")).returning(model.event_id)
