"""A row deleted from a SQLite store leaves none of its bytes in the store's files: not in
the database file's free space or free pages, not in the write-ahead log, even while
another connection was reading when the delete committed and nothing is written after it."""

import asyncio
from pathlib import Path

from sqlalchemy import text

from hub_shared.db import create_engine

SECRET = "Ottoline Vexley-Harcourt, ottoline.vexley@example.org"


def store_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


async def test_a_deleted_row_leaves_no_bytes_in_the_file_or_its_log(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    reading, deleted = asyncio.Event(), asyncio.Event()

    async def reader() -> None:
        """Another process's reader: mid-query (holding its snapshot) as the delete commits."""
        async with engine.connect() as conn:
            rows = await conn.stream(text("SELECT details FROM person"))
            await rows.fetchmany(1)
            reading.set()
            await asyncio.wait([asyncio.create_task(deleted.wait())], timeout=0.5)
            await rows.close()

    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE person (id INTEGER PRIMARY KEY, details TEXT)"))
            await conn.execute(text("CREATE INDEX ix_person_details ON person (details)"))
        async with engine.begin() as conn:
            for n in range(200):  # enough rows to span pages, so some become free pages
                await conn.execute(text("INSERT INTO person (details) VALUES (:d)"), {"d": f"{SECRET} {n}"})
            await conn.execute(text("INSERT INTO person (details) VALUES ('someone else')"))
        assert SECRET.encode() in store_bytes(path)  # so the search below can fail
        reading_task = asyncio.create_task(reader())
        await reading.wait()
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM person WHERE details LIKE 'Ottoline%'"))
        deleted.set()
        await reading_task
        # Read while the store is open and idle: closing the last connection would
        # checkpoint and remove the log, which a running service never does.
        everything = store_bytes(path)
    finally:
        await engine.dispose()
    assert b"someone else" in everything
    for trace in (b"Ottoline", b"vexley"):
        assert trace not in everything, f"{trace!r} is still in the store's files after the delete"
