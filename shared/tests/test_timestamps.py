"""UtcDateTime keeps the instant and gives it back timezone-aware in UTC, on SQLite (which
has no zoned type) and PostgreSQL alike; a naive time is refused."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Uuid, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub_shared.db import create_engine, session_factory
from hub_shared.timestamps import Day, Timestamp, UtcDateTime


class Base(DeclarativeBase):
    pass


class Moment(Base):
    __tablename__ = "moment"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


PLUS_FIVE = timezone(timedelta(hours=5))


async def test_times_keep_their_instant_and_come_back_in_utc(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        sessions = session_factory(engine)
        early, late = uuid.uuid4(), uuid.uuid4()
        async with sessions() as session, session.begin():
            session.add(Moment(id=early, at=datetime(2026, 11, 1, 1, 30, tzinfo=PLUS_FIVE)))  # 2026-10-31 20:30Z
            session.add(Moment(id=late, at=datetime(2026, 10, 31, 21, 0, tzinfo=UTC)))
        async with sessions() as session:
            stored = await session.get(Moment, early)
            assert stored is not None
            assert stored.at == datetime(2026, 10, 31, 20, 30, tzinfo=UTC)
            assert stored.at.utcoffset() == timedelta(0)
            # Comparisons are between instants, whatever offset the bound value carries.
            after = datetime(2026, 11, 1, 1, 45, tzinfo=PLUS_FIVE)  # 20:45Z
            found = (await session.scalars(select(Moment.id).where(Moment.at > after))).all()
            assert found == [late]
    finally:
        await engine.dispose()


async def test_a_naive_time_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with session_factory(engine)() as session:
            session.add(Moment(id=uuid.uuid4(), at=datetime(2026, 11, 1, 1, 30)))
            with pytest.raises(StatementError, match="naive datetime"):
                await session.flush()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("sent", [0, 1700000000, "0", "1700000000", "2026-11-01T09:30Z", "2026-11-01T09:30:00", True])
def test_a_time_sent_is_rfc_3339_with_its_zone_never_a_number(sent: object) -> None:
    with pytest.raises(ValidationError, match="timezone"):
        TypeAdapter(Timestamp).validate_python(sent)


def test_a_time_sent_with_its_zone_is_that_instant() -> None:
    got = TypeAdapter(Timestamp).validate_python("2026-11-01T01:30:00.5+05:00")
    assert got == datetime(2026, 10, 31, 20, 30, 0, 500_000, tzinfo=UTC)


@pytest.mark.parametrize("sent", [0, "0", "20261101", "2026-11-01T00:00:00Z"])
def test_a_day_sent_is_an_iso_date_never_a_number(sent: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Day).validate_python(sent)
    assert TypeAdapter(Day).validate_python("2026-11-01").isoformat() == "2026-11-01"
