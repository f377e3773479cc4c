"""Keyset pages: every row once across pages, newest first, ties on the timestamp broken by
id, and a cursor the API did not issue refused on its field."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import DateTime, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub_shared import keyset
from hub_shared.db import create_engine, session_factory
from hub_shared.problems import Problem


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    name: Mapped[str] = mapped_column(String(10))


async def test_pages_cover_every_row_once_newest_first_and_refuse_a_forged_cursor(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    # Seven rows, three sharing one timestamp: the id breaks the tie.
    rows = [Item(id=uuid.uuid4(), at=start + timedelta(minutes=min(i, 3)), name=str(i)) for i in range(7)]
    sessions = session_factory(engine)
    async with sessions() as session:
        session.add_all(rows)
        await session.commit()
        seen: list[Item] = []
        cursor = None
        while True:
            page, cursor = await keyset.newest_first(session, select(Item), Item.at, Item.id, limit=2, cursor=cursor)
            assert len(page) <= 2
            seen += page
            if cursor is None:
                break
        assert [r.name for r in seen] == [r.name for r in sorted(rows, key=lambda r: (r.at, r.id), reverse=True)]
        with pytest.raises(Problem) as refused:
            await keyset.newest_first(session, select(Item), Item.at, Item.id, limit=2, cursor="not-ours")
        assert refused.value.status == 422 and refused.value.extensions["errors"][0]["field"] == "cursor"
    await engine.dispose()
