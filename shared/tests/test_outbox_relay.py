"""The relay against the real broker, on SQLite and PostgreSQL."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from hub_shared import kafka_admin
from hub_shared.events import FeedbackReceivedV1, decode, new_envelope
from hub_shared.outbox import OutboxRelay, add_event
from hub_shared.testing import KafkaUnderTest
from hub_shared.topics import Topic

from .conftest import OutboxMessage


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
