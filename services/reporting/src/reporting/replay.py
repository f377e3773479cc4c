"""Rebuild every projection from the events: empty the tables, then read each topic from
its beginning to its current end, applying events in batches (one transaction per batch,
the inbox still deduplicating). Stop the live consumer first: its offsets are untouched,
so it resumes after the replay without counting anything twice."""

from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared.consumer import EventHandler, apply_once
from hub_shared.events import InvalidEvent, decode
from hub_shared.kafka_admin import partitions_of
from reporting.models import PROJECTIONS, InboxMessage


async def empty_projections(sessions: async_sessionmaker[AsyncSession], group: str) -> None:
    async with sessions() as session, session.begin():
        for model in PROJECTIONS:
            await session.execute(delete(model))
        await session.execute(delete(InboxMessage).where(InboxMessage.consumer == group))


async def replay(
    sessions: async_sessionmaker[AsyncSession],
    bootstrap_servers: str,
    topics: list[str],
    handlers: dict[str, EventHandler],
    group: str,
    *,
    batch_size: int = 500,
    on_total: Callable[[int], None] = lambda _n: None,
    on_progress: Callable[[int], None] = lambda _n: None,
) -> dict[str, int]:
    """Returns counts: applied, duplicate, ignored, invalid."""
    await empty_projections(sessions, group)
    partitions = [TopicPartition(t, p) for t in topics for p in await partitions_of(bootstrap_servers, t)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    counts = {"applied": 0, "duplicate": 0, "ignored": 0, "invalid": 0}
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        on_total(total)
        remaining = {tp for tp in partitions if ends[tp] > starts[tp]}
        done = 0
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch_size)
            records = [r for tp, rs in batch.items() for r in rs if r.offset < ends[tp]]
            async with sessions() as session, session.begin():
                for record in records:
                    counts[await _apply(session, record, handlers, group)] += 1
            done += len(records)
            on_progress(done)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return counts


async def _apply(session: AsyncSession, record, handlers: dict[str, EventHandler], group: str) -> str:  # type: ignore[no-untyped-def]
    try:
        envelope = decode(record.value, record.key, dict(record.headers or ()))
    except InvalidEvent:
        return "invalid"  # the live consumer dead-lettered it; replay it from the DLQ once fixed
    handler = handlers.get(envelope.type)
    if handler is None:
        return "ignored"
    applied = await apply_once(session, InboxMessage, group, handler, envelope)
    return "applied" if applied else "duplicate"
