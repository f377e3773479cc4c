"""Timezone-aware UTC times in every store.

SQLAlchemy's ``DateTime(timezone=True)`` keeps the zone on PostgreSQL (``timestamptz``)
but SQLite has no such type: its ``DATETIME`` drops the offset on the way in, so
``01:30+05:00`` is stored and read back as ``01:30`` -- the wrong instant, and naive.
``UtcDateTime`` converts every value to UTC before it is stored and returns it
timezone-aware in UTC on both dialects. Naive datetimes are refused: every time in the
hub carries its zone."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator
from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A ``DateTime(timezone=True)`` column that stores UTC and reads back aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime takes a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f"naive datetime {value.isoformat()!r}: give a timezone-aware time")
        utc = value.astimezone(UTC)
        # SQLite stores text without an offset: store the UTC wall time, read it back as UTC.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)  # type: ignore[no-any-return]


# RFC 3339's date-time, the OpenAPI `format: date-time`: a date, a time with seconds, a zone.
RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def rfc_3339(value: Any) -> Any:
    """Only what the contract says a time is: pydantic alone would also take a number (``0``,
    ``"1700000000"``) as seconds since the epoch, or a time without seconds."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not RFC_3339.match(value):
        raise ValueError("Use a date and time with its timezone, e.g. 2026-11-01T09:30:00Z")
    return value


# A time a client sends (in a body or a query): RFC 3339, with its zone.
Timestamp = Annotated[AwareDatetime, BeforeValidator(rfc_3339)]

FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def full_date(value: Any) -> Any:
    """A day as the contract's `format: date` says (2026-11-01), never a number of seconds."""
    if isinstance(value, date) or (isinstance(value, str) and FULL_DATE.match(value)):
        return value
    raise ValueError("Use a date, e.g. 2026-11-01")


Day = Annotated[date, BeforeValidator(full_date)]
