"""Keyset paging, newest first: a cursor is the last row's time (microseconds since the epoch)
and id. Every string its pattern matches is a position, so the OpenAPI document says exactly
which cursors an API takes, and anything else is refused field by field (422)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Query

CURSOR = r"^[0-9]{1,16}\.[0-9a-f]{32}$"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

Cursor = Annotated[str | None, Query(pattern=CURSOR, description="The cursor of the page before")]


def cursor_of(at: datetime, ident: uuid.UUID) -> str:
    # Integer arithmetic: a float timestamp would round the microseconds and skip rows.
    return f"{(at - EPOCH) // MICROSECOND}.{ident.hex}"


def position(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The time and id a cursor (one that matches ``CURSOR``) stands for."""
    micros, ident = cursor.split(".")
    return EPOCH + int(micros) * MICROSECOND, uuid.UUID(hex=ident)
