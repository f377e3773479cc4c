"""Database sessions, and the statements every service writes the same way. Each service
owns its own database: this builds the engine, gives a request its session (``Session``)
and commits it (``commit``), and upserts on PostgreSQL or SQLite alike (``upsert``)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Annotated, Any

import orjson
import psycopg
from fastapi import Depends, Request
from sqlalchemy import JSON, event, insert, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from hub_shared.problems import Problem

# Erasure leaves no bytes behind in a SQLite store. A deleted row's bytes would stay in its
# page (free space, or a free page) and, in write-ahead-log mode, in the log's older page
# images and in the database file until a checkpoint copies the newer page over it, which
# readers of the other processes can hold off indefinitely: secure_delete zeroes the bytes
# as the row goes, and a connection that deleted or changed rows checkpoints the whole log
# into the file and empties it (TRUNCATE, waiting for readers as for any lock) as it is
# given back. Inserts overwrite nothing and skip it (a checkpoint triples a commit's cost).
CHECKPOINT = "PRAGMA wal_checkpoint(TRUNCATE)"
OVERWRITING = ("DELETE", "UPDATE", "INSERT OR REPLACE", "REPLACE")


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL lets the API, relay and consumer of one service share the file.
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def _overwrote(conn, _cursor, statement, _parameters, _context, _many):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith(OVERWRITING) or " ON CONFLICT " in statement.upper():
                conn.info["checkpoint"] = True

        @event.listens_for(engine.sync_engine.pool, "reset")
        def _checkpoint(dbapi_conn, record, state):  # type: ignore[no-untyped-def]
            # Only where the driver can be awaited (not a connection collected as garbage).
            if record.info.pop("checkpoint", False) and state.asyncio_safe and not state.terminate_only:
                cursor = dbapi_conn.cursor()
                cursor.execute(CHECKPOINT)
                cursor.close()

        return engine
    # No pre-ping (a round trip per checkout): after a server restart the first use of a
    # dead connection fails as a transient error (503 at the API, a wait in a consumer)
    # and SQLAlchemy then discards every connection of the pool at once.
    return create_async_engine(url, pool_size=10, max_overflow=10)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits on success, rolls back on any error."""
    async with sessions() as session, session.begin():
        yield session


async def open_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A request's session (``app.state.sessions``); what it did not commit is rolled back
    when the session closes."""
    async with request.app.state.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(open_session)]


async def commit(session: AsyncSession) -> None:
    """Commit a request's work; a unique key taken meanwhile by a concurrent request is a
    409 the client may retry, not a 500."""
    try:
        await session.commit()
    except sa_exc.IntegrityError as exc:
        await session.rollback()
        raise Problem(409, "Conflict", "A concurrent request changed the same data; retry the request.") from exc


@cache
def upsert(
    dialect_name: str,
    model: Any,
    keys: tuple[str, ...],
    *,
    update: tuple[str, ...] = (),
    add: tuple[str, ...] = (),
    unless_newer: str | None = None,
) -> Any:
    """An INSERT of ``model`` that, on a conflict of ``keys``, does nothing (neither
    ``update`` nor ``add``), or sets the ``update`` columns to the inserted values and adds
    the inserted values to the ``add`` columns (counters); with ``unless_newer``, a stored
    row whose column is later than the inserted one is left as it is (an event that arrived
    late). Same syntax on PostgreSQL and SQLite; built once per shape (building statements
    per batch costs more than running them)."""
    dialect: Any = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(model)
    values: dict[str, Any] = {column: statement.excluded[column] for column in update}
    values.update({column: getattr(model, column) + statement.excluded[column] for column in add})
    if not values:
        return statement.on_conflict_do_nothing(index_elements=list(keys))
    where = getattr(model, unless_newer) <= statement.excluded[unless_newer] if unless_newer else None
    return statement.on_conflict_do_update(index_elements=list(keys), set_=values, where=where)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


# COPY from one row up: measured on PostgreSQL 15 with psycopg 3.3, a transaction of a
# submission and its outbox row took 1.1 ms of client CPU by COPY, 2.2 ms by executemany.
COPY_FROM_ROWS = 1


async def bulk_insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows in the caller's transaction: COPY for many rows on PostgreSQL (an order
    of magnitude cheaper than row-by-row INSERTs), a Core INSERT otherwise."""
    if not rows:
        return
    connection = await session.connection()
    table = model.__table__
    if connection.dialect.name != "postgresql" or len(rows) < COPY_FROM_ROWS:
        await connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    as_json = {c.name for c in table.columns if isinstance(c.type, JSON)}
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection  # psycopg's AsyncConnection, inside our transaction
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    try:
        async with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                await copy.write_row([orjson.dumps(row[c]).decode() if c in as_json else row[c] for c in columns])
    except psycopg.Error as exc:
        # As SQLAlchemy would raise it (IntegrityError, OperationalError, ...), so callers
        # and the failure classification treat a COPY like any other statement.
        raise sa_exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
