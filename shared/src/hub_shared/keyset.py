"""Keyset pages, newest first, on (a timestamp, an id) for every listing API: the cursor is
the last row's pair, opaque to the caller, so a page never shifts when rows arrive; a cursor
the API did not issue is a 422 on the field `cursor`."""

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hub_shared.problems import Problem

Row = TypeVar("Row")


def encode(at: datetime, ident: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), str(ident)]).encode()).decode()


def decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, ident = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), uuid.UUID(ident)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Problem(
            422,
            "Invalid cursor",
            "Use the cursor a previous page gave.",
            errors=[{"field": "cursor", "message": "not a cursor this API issued", "type": "cursor"}],
        ) from exc


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
