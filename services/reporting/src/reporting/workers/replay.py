"""Rebuild every projection from the events: empty the tables, then read each topic from
its beginning to its current end, applying events in batches (one transaction per batch,
the inbox still deduplicating). Stop the live consumer first: its offsets are untouched,
so it resumes after the replay without counting anything twice."""

from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared.consumer import EventConsumer, read_record
from hub_shared.kafka_admin import partitions_of
from reporting.models import PROJECTIONS, InboxMessage


async def empty_projections(sessions: async_sessionmaker[AsyncSession], group: str) -> None:
    async with sessions() as session, session.begin():
        for model in PROJECTIONS:
            await session.execute(delete(model))
        await session.execute(delete(InboxMessage).where(InboxMessage.consumer == group))


async def replay(
    consumer: EventConsumer,
    bootstrap_servers: str,
    *,
    batch_size: int = 1000,
    on_total: Callable[[int], None] = lambda _n: None,
    on_progress: Callable[[int], None] = lambda _n: None,
) -> dict[str, int]:
    """Returns counts: applied, duplicate, ignored, invalid."""
    sessions = consumer.sessions
    await empty_projections(sessions, consumer.group)
    topics = consumer.topics
    partitions = [TopicPartition(t, p) for t in topics for p in await partitions_of(bootstrap_servers, t)]
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await reader.start()
    counts = {"applied": 0, "duplicate": 0, "ignored": 0, "invalid": 0}
    try:
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        ends = await reader.end_offsets(partitions)
        starts = await reader.beginning_offsets(partitions)
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        on_total(total)
        remaining = {tp for tp in partitions if ends[tp] > starts[tp]}
        done = 0
        while remaining:
            batch = await reader.getmany(*remaining, timeout_ms=1000, max_records=batch_size)
            items = [read_record(r, consumer.handles) for tp, rs in batch.items() for r in rs if r.offset < ends[tp]]
            # The live consumer's one way of applying: same handlers, same inbox, one
            # transaction per batch.
            async with sessions() as session, session.begin():
                await consumer.apply(session, items)
            for item in items:
                # Invalid events were dead-lettered live; replay them from the DLQ once fixed.
                counts["invalid" if item.outcome == "dead_letter" else item.outcome] += 1
            done += len(items)
            on_progress(done)
            for tp in list(remaining):
                if await reader.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await reader.stop()
    return counts
