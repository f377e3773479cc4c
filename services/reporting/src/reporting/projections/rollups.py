"""The rollups' set-based writes, shared by the projections that keep counts: many rows in
one statement, in key order (concurrent batches then lock counter rows in one order, no
deadlock). Increments commute, so a replay in any interleaving of partitions reproduces
the same figures."""

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import text as sql
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.db import upsert
from reporting.rules.fft import ANSWERS, MODES

# Where each answer and mode sits in a rollup row's FFT figures (``models.FFT_FIGURES``).
AT = {name: i for i, name in enumerate((*ANSWERS, *MODES))}


async def increment_many(
    session: AsyncSession, model: Any, columns: tuple[str, ...], keys: int, rows: list[tuple[Any, ...]]
) -> None:
    """INSERT .. ON CONFLICT DO UPDATE adding to each row's counts, for many rows in one
    statement: ``rows`` are tuples of ``columns``, the first ``keys`` of them the key, each
    key once."""
    if not rows:
        return
    connection = await session.connection()
    # Rows in key order: concurrent batches then lock counter rows in one order (no deadlock).
    rows = sorted(rows)
    if connection.dialect.name == "postgresql":
        # One array per column, unnested server-side: one statement and one round trip per
        # table and batch, where an executemany pays its per-row overhead a thousand times.
        arrays = {
            column: _array_literal(values, quoted=i < keys)
            for i, (column, values) in enumerate(zip(columns, zip(*rows, strict=True), strict=True))
        }
        await connection.execute(_upsert_unnested(model, columns, keys), arrays)
        return
    statement = upsert(connection.dialect.name, model, columns[:keys], add=columns[keys:])
    await connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])


def _array_literal(values: Sequence[Any], quoted: bool) -> str:
    """A PostgreSQL array literal of keys (text, every element quoted and escaped) or of
    counts (numbers, which never need quoting). psycopg's list dumper tests each element
    with a regular expression to decide its quoting: that was a third of this handler's CPU."""
    if quoted:
        return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
    return "{" + ",".join(map(repr, values)) + "}"


@cache
def _upsert_unnested(model: Any, columns: tuple[str, ...], keys: int) -> Any:
    table = model.__table__
    dialect = postgresql.dialect()
    arrays = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns)
    added = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in columns[keys:])
    return sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(columns[:keys])}) DO UPDATE SET {added}"
    )


async def replace_many(session: AsyncSession, model: Any, key: str, rows: list[dict[str, Any]]) -> None:
    """INSERT .. ON CONFLICT DO UPDATE setting every other column: the rows as they are now."""
    if rows:
        connection = await session.connection()
        rows = sorted(rows, key=lambda row: row[key])  # one lock order for concurrent batches
        others = tuple(c.name for c in model.__table__.columns if c.name != key)
        await connection.execute(upsert(connection.dialect.name, model, (key,), update=others), rows)
