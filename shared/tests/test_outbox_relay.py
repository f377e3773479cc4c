"""The relay against the real broker, on SQLite and PostgreSQL."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import select, update

from hub_shared import kafka_admin
from hub_shared.db import create_engine, session_factory
from hub_shared.events import FeedbackReceivedV1, decode, new_envelope
from hub_shared.outbox import NOTIFY_CHANNEL, OutboxRelay, add_event, add_tombstone
from hub_shared.testing import KafkaUnderTest, eventually
from hub_shared.topics import Topic
from hub_shared.wakeup import trigger_statements

from .conftest import Base, OutboxMessage

pytestmark = pytest.mark.long(seconds=16)


def event(org: str, subject: str):  # type: ignore[no-untyped-def]
    data = FeedbackReceivedV1(
        submission_id=uuid.uuid4(),
        organisation_code=org,
        service_area="community",
        channel="ppg_meeting",
        text="Minutes of the meeting.",
        occurred_at=datetime.now(UTC),
        received_at=datetime.now(UTC),
    )
    return new_envelope(data, source="test", subject=subject, tenant=org, correlation_id="c")


async def fresh_topic(kafka: KafkaUnderTest) -> str:
    name = f"test.outbox.{uuid.uuid4().hex[:8]}"
    await kafka_admin.create_topics(kafka.bootstrap_servers, (Topic(name, 3, "test"),))
    return name


async def test_relay_publishes_staged_events_in_order_and_deletes_them(sessions, kafka: KafkaUnderTest) -> None:  # type: ignore[no-untyped-def]
    topic = await fresh_topic(kafka)
    staged = [event("P81001", "aggregate-1") for _ in range(5)]
    async with sessions() as session, session.begin():
        for envelope in staged:
            add_event(session, OutboxMessage, envelope, topic)

    relay = OutboxRelay(sessions, OutboxMessage, kafka.bootstrap_servers, client_id="test")
    assert await relay.publish_pending() == 5
    assert await relay.publish_pending() == 0
    await relay._reset_producer()

    records = await kafka_admin.read_all(kafka.bootstrap_servers, topic)
    assert [decode(r.value).id for r in records] == [e.id for e in staged]  # one key: one partition, in order
    async with sessions() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []  # published: gone from the outbox


async def test_a_rolled_back_transaction_publishes_nothing(sessions, kafka: KafkaUnderTest) -> None:  # type: ignore[no-untyped-def]
    topic = await fresh_topic(kafka)
    try:
        async with sessions() as session, session.begin():
            add_event(session, OutboxMessage, event("P81001", "x"), topic)
            raise RuntimeError("the state change failed")
    except RuntimeError:
        pass
    relay = OutboxRelay(sessions, OutboxMessage, kafka.bootstrap_servers, client_id="test")
    assert await relay.publish_pending() == 0


async def test_unreachable_broker_keeps_rows_and_records_why(sessions, kafka: KafkaUnderTest) -> None:  # type: ignore[no-untyped-def]
    topic = await fresh_topic(kafka)
    async with sessions() as session, session.begin():
        add_event(session, OutboxMessage, event("P81002", "k"), topic)

    dead = OutboxRelay(sessions, OutboxMessage, "127.0.0.1:1", client_id="test", max_backoff=0.2)
    task = asyncio.create_task(dead.run())
    await asyncio.sleep(1.5)
    dead.stop()
    await task
    async with sessions() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    assert row.published_at is None
    # The broker never answered, so the claim was released or left to lapse: either way it is retried.

    live = OutboxRelay(sessions, OutboxMessage, kafka.bootstrap_servers, client_id="test")
    async with sessions() as session, session.begin():  # let any lapsed lease expire now
        await session.execute(update(OutboxMessage).values(claimed_until=None))
    assert await live.publish_pending() == 1
    await live._reset_producer()
    assert len(await kafka_admin.read_all(kafka.bootstrap_servers, topic)) == 1


async def test_the_sweep_reclaims_rows_whose_lease_ran_out_but_not_live_claims(sessions, kafka: KafkaUnderTest) -> None:  # type: ignore[no-untyped-def]
    topic = await fresh_topic(kafka)
    async with sessions() as session, session.begin():
        add_event(session, OutboxMessage, event("P81003", "stuck"), topic)
        add_event(session, OutboxMessage, event("P81003", "busy"), topic)
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.key == "stuck").values(claimed_until=now - timedelta(seconds=1))
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.key == "busy").values(claimed_until=now + timedelta(minutes=5))
        )
    relay = OutboxRelay(sessions, OutboxMessage, kafka.bootstrap_servers, client_id="test")
    assert await relay.publish_pending() == 1
    await relay._reset_producer()
    records = await kafka_admin.read_all(kafka.bootstrap_servers, topic)
    assert [r.key for r in records] == [b"stuck"]


async def outbox_rows(sessions) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.seq))).all())


async def run_until_empty(relay: OutboxRelay, sessions, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(timeout):
            while await outbox_rows(sessions):
                await asyncio.sleep(0.1)
    finally:
        relay.stop()
        await task


async def test_each_keys_events_stay_in_order_across_claims_in_flight(sessions, kafka: KafkaUnderTest) -> None:  # type: ignore[no-untyped-def]
    # Small claims, so that many are in flight one after another; keys interleaved, so
    # each claim carries several events of every key, spread over the topic's partitions.
    topic = await fresh_topic(kafka)
    keys = [f"aggregate-{k}" for k in range(8)]
    staged = [event("P81001", keys[i % len(keys)]) for i in range(600)]
    async with sessions() as session, session.begin():
        for envelope in staged:
            add_event(session, OutboxMessage, envelope, topic)

    relay = OutboxRelay(sessions, OutboxMessage, kafka.bootstrap_servers, client_id="test", batch_size=25)
    await run_until_empty(relay, sessions)

    records = await kafka_admin.read_all(kafka.bootstrap_servers, topic)
    assert sorted(decode(r.value).id for r in records) == sorted(e.id for e in staged)  # each once
    for key in keys:
        sent = [decode(r.value).id for r in records if r.key == key.encode()]
        assert sent == [e.id for e in staged if e.subject == key]
    assert len({r.partition for r in records}) > 1  # the keys really were spread


async def test_a_tombstone_is_relayed_as_a_null_value_after_the_keys_earlier_events(
    sessions, kafka: KafkaUnderTest
) -> None:  # type: ignore[no-untyped-def]
    topic = await fresh_topic(kafka)
    first = event("P81001", "member-1")
    async with sessions() as session, session.begin():
        add_event(session, OutboxMessage, first, topic)
        add_tombstone(session, OutboxMessage, topic, "member-1")

    relay = OutboxRelay(sessions, OutboxMessage, kafka.bootstrap_servers, client_id="test")
    assert await relay.publish_pending() == 2
    await relay._reset_producer()

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records = []
        async with asyncio.timeout(10):
            while len(records) < 2:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records += batch
    finally:
        await consumer.stop()
    assert [r.key for r in records] == [b"member-1", b"member-1"]
    assert decode(records[0].value).id == first.id and records[1].value is None


async def test_a_graceful_stop_deletes_what_kafka_acknowledged_and_gives_back_the_rest(
    sessions, kafka: KafkaUnderTest
) -> None:  # type: ignore[no-untyped-def]
    topic = await fresh_topic(kafka)
    staged = [event("P81001", f"aggregate-{i % 5}") for i in range(2000)]
    async with sessions() as session, session.begin():
        for envelope in staged:
            add_event(session, OutboxMessage, envelope, topic)

    relay = OutboxRelay(sessions, OutboxMessage, kafka.bootstrap_servers, client_id="test", batch_size=20)
    task = asyncio.create_task(relay.run())
    async with asyncio.timeout(60):
        while len(await outbox_rows(sessions)) == len(staged):
            await asyncio.sleep(0.01)
    relay.stop()  # as SIGTERM does
    await task

    left = await outbox_rows(sessions)
    assert 0 < len(left) < len(staged)  # stopped part way
    assert all(row.claimed_until is None for row in left)  # nothing held: another relay takes them at once
    published = {decode(r.value).id for r in await kafka_admin.read_all(kafka.bootstrap_servers, topic)}
    assert published == {e.id for e in staged} - {row.event_id for row in left}  # deleted means acknowledged

    await run_until_empty(OutboxRelay(sessions, OutboxMessage, kafka.bootstrap_servers, client_id="test"), sessions)
    records = await kafka_admin.read_all(kafka.bootstrap_servers, topic)
    assert sorted(decode(r.value).id for r in records) == sorted(e.id for e in staged)  # each once, none lost


@pytest.mark.postgres
async def test_on_postgresql_a_commit_wakes_the_relay_instead_of_its_poll(
    new_postgres_database: Callable[[str], str], kafka: KafkaUnderTest
) -> None:
    """With the migrations' trigger, rows reach Kafka at once though the relay would look
    for them only every 30 seconds."""
    engine = create_engine(new_postgres_database("notified"))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        for statement in trigger_statements("outbox", NOTIFY_CHANNEL):
            await conn.exec_driver_sql(statement)
    sessions = session_factory(engine)
    topic = await fresh_topic(kafka)
    relay = OutboxRelay(
        sessions, OutboxMessage, kafka.bootstrap_servers, client_id="test", idle_poll=30, notified_poll=30
    )
    task = asyncio.create_task(relay.run())
    try:
        for subject in ("before-it-listens", "while-it-waits"):
            staged = event("P81001", subject)
            async with sessions() as session, session.begin():
                add_event(session, OutboxMessage, staged, topic)

            async def relayed(envelope_id: str = staged.id) -> bool:
                records = await kafka_admin.read_all(kafka.bootstrap_servers, topic)
                return envelope_id in {decode(r.value).id for r in records}

            await eventually(relayed, timeout=5, what=f"the event staged {subject} on {topic}")
            await asyncio.sleep(0.5)  # the relay is waiting for a notification again
    finally:
        relay.stop()
        await task
        await engine.dispose()
