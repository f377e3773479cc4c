"""A row deleted from a SQLite store leaves none of its bytes in the store's files: not in
the database file's free space or free pages, not in the write-ahead log."""

from pathlib import Path

from sqlalchemy import text

from hub_shared.db import create_engine

SECRET = "Ottoline Vexley-Harcourt, ottoline.vexley@example.org"


def store_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


async def test_a_deleted_row_leaves_no_bytes_in_the_file_or_its_log(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE person (id INTEGER PRIMARY KEY, details TEXT)"))
            await conn.execute(text("CREATE INDEX ix_person_details ON person (details)"))
        async with engine.begin() as conn:
            for n in range(200):  # enough rows to span pages, so some become free pages
                await conn.execute(text("INSERT INTO person (details) VALUES (:d)"), {"d": f"{SECRET} {n}"})
            await conn.execute(text("INSERT INTO person (details) VALUES ('someone else')"))
        # A reader holds the store open throughout, as the other processes of a service do.
        async with engine.connect() as reader:
            await reader.execute(text("SELECT count(*) FROM person"))
            assert SECRET.encode() in store_bytes(path)  # so the search below can fail
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM person WHERE details LIKE 'Ottoline%'"))
            await reader.commit()
        async with engine.begin() as conn:  # the next write, as a service's next work would
            await conn.execute(text("INSERT INTO person (details) VALUES ('another')"))
        # Read while the store is open: closing the last connection would checkpoint and
        # remove the log, which a running service never does.
        everything = store_bytes(path)
    finally:
        await engine.dispose()
    assert b"someone else" in everything
    for trace in (b"Ottoline", b"vexley"):
        assert trace not in everything, f"{trace!r} is still in the store's files after the delete"
