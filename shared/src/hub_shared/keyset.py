"""Keyset pages, newest first, on (a timestamp, an id) for every listing API: the cursor is
the last row's pair, so a page never shifts when rows arrive. Its form (microseconds since the
epoch, a dot, the id's hex) is in the OpenAPI document (`Cursor`), and every string that form
takes is a position: the contract says exactly which cursors an API takes; any other is a 422
on the field `cursor`."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Query
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hub_shared.problems import Problem

Row = TypeVar("Row")
CURSOR = r"^[0-9]{1,16}\.[0-9a-f]{32}$"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

Cursor = Annotated[str | None, Query(pattern=CURSOR, description="The cursor a previous page gave")]


def encode(at: datetime, ident: uuid.UUID) -> str:
    # Integer arithmetic: a float timestamp would round the microseconds and skip rows. A
    # column without a zone (plain DateTime on SQLite) reads back naive, in UTC.
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return f"{(aware - EPOCH) // MICROSECOND}.{ident.hex}"


def decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The time and id a cursor stands for; one of another form is a 422 naming `cursor` (an
    API that takes `Cursor` refuses it before, field by field, as its document says)."""
    if not re.match(CURSOR, cursor):
        raise Problem(
            422,
            "Invalid cursor",
            "Use the cursor a previous page gave.",
            errors=[{"field": "cursor", "message": "not a cursor this API issued", "type": "cursor"}],
        )
    micros, ident = cursor.split(".")
    return EPOCH + int(micros) * MICROSECOND, uuid.UUID(hex=ident)


async def newest_first(
    session: AsyncSession,
    query: Select[Row],
    at: InstrumentedAttribute[Any],
    ident: InstrumentedAttribute[Any],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row], str | None]:
    """One page of `query`'s rows and the cursor of the next page (None on the last)."""
    if cursor:
        after_at, after_id = decode(cursor)
        query = query.where(or_(at < after_at, and_(at == after_at, ident < after_id)))
    rows = list((await session.scalars(query.order_by(at.desc(), ident.desc()).limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode(getattr(last, at.key), getattr(last, ident.key))
