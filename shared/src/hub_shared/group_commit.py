"""Group commit: the writes of concurrent requests committed in one transaction.

A request hands its rows (say a submission and its outbox row) to ``GroupCommit.write``
and waits; while one group's transaction is in flight, the next requests' rows gather,
and go together in the next one: one COPY or multi-row INSERT per table and one commit
(one WAL flush) for the whole group, instead of a transaction per request. There is no
timer: under light load a group is one request and waits for nothing.

``write`` returns only once the group committed, so an answer sent after it ("201")
still means durable. If a group fails:
* transiently (the database went away, a serialisation failure), every request of it
  gets that error (503 at the API; nothing it sent is stored, or the client's retry is
  absorbed by its Idempotency-Key or client_reference);
* otherwise (a unique key one request reused, say), each request of the group is tried
  again alone, so only the request at fault gets its error."""

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared.db import bulk_insert, transaction
from hub_shared.failures import is_transient

# Up to this many rows a group goes as one statement (one round trip); a larger one (a
# batch POST) goes by COPY, which PostgreSQL reads faster than JSON rows.
ONE_STATEMENT_ROWS = 200

# (mapped model, rows as column values) in the order they are to be inserted.
Writes = Sequence[tuple[Any, list[dict[str, Any]]]]


class GroupCommit:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_rows: int = 10_000) -> None:
        self._sessions = sessions
        self._max_rows = max_rows  # bounds one transaction's size under a flood
        self._waiting: list[tuple[Writes, asyncio.Future[None]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.groups = 0  # transactions committed (or tried), for metrics and tests

    async def write(self, writes: Writes) -> None:
        """Insert ``writes`` in a committed transaction shared with concurrent callers;
        returns once it is committed, raises what made it fail otherwise."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((writes, done))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        await done

    async def _run(self) -> None:
        while self._waiting:
            group = self._next_group()
            try:
                await self._commit([w for w, _ in group])
            except asyncio.CancelledError as exc:  # shutting down: no one may wait forever
                for _, done in group + self._waiting:
                    _settle(done, exc)
                raise
            except Exception as exc:
                if is_transient(exc) or len(group) == 1:
                    for _, done in group:
                        _settle(done, exc)
                    continue
                for writes, done in group:  # find the request at fault: each alone
                    try:
                        await self._commit([writes])
                    except Exception as alone:
                        _settle(done, alone)
                    else:
                        _settle(done, None)
            else:
                for _, done in group:
                    _settle(done, None)

    def _next_group(self) -> list[tuple[Writes, asyncio.Future[None]]]:
        rows = 0
        for taken, (writes, _) in enumerate(self._waiting):
            rows += sum(len(r) for _, r in writes)
            if rows > self._max_rows and taken:
                break
        else:
            taken = len(self._waiting)
        group, self._waiting = self._waiting[:taken], self._waiting[taken:]
        return group

    async def _commit(self, group: list[Writes]) -> None:
        by_model: dict[Any, list[dict[str, Any]]] = {}
        for writes in group:
            for model, rows in writes:
                if rows:
                    by_model.setdefault(model, []).extend(rows)
        if not by_model:
            return
        self.groups += 1
        engine = self._sessions.kw["bind"]
        if engine.dialect.name == "postgresql" and sum(map(len, by_model.values())) < ONE_STATEMENT_ROWS:
            statement, parameters = one_statement(by_model)
            # JSON cannot carry a NUL into text: such a group goes the COPY way below, where
            # the driver refuses the NUL as it does on every other path (a 422 at the API).
            if not any("\\u0000" in p for p in parameters):
                # One statement, committed on its own: one round trip for the whole group.
                async with engine.connect() as connection:
                    autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await autocommit.exec_driver_sql(statement, parameters)
                return
        async with transaction(self._sessions) as session:
            for model, rows in by_model.items():
                await bulk_insert(session, model, rows)


def one_statement(by_model: dict[Any, list[dict[str, Any]]]) -> tuple[str, tuple[str, ...]]:
    """An INSERT per table, chained as data-modifying CTEs into one statement; each
    table's rows travel as one JSON array (json_populate_recordset makes them rows of the
    table's type), so the statement's text depends only on the tables and columns."""
    inserts = []
    for model, rows in by_model.items():
        table = model.__table__.name
        columns = ", ".join(f'"{c}"' for c in rows[0])
        rows_of_table = f'json_populate_recordset(NULL::"{table}", %s::json)'
        inserts.append(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM {rows_of_table}')
    *first, last = inserts
    ctes = ", ".join(f"w{n} AS ({insert})" for n, insert in enumerate(first))
    statement = f"WITH {ctes} {last}" if ctes else last
    return statement, tuple(orjson.dumps(rows).decode() for rows in by_model.values())


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # the request was cancelled (its client went away)
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
