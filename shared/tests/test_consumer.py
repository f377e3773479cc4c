"""EventConsumer against the real broker, on SQLite and PostgreSQL: batches applied once,
a poison event in the middle of a batch isolated and dead-lettered while the rest apply
exactly once, order per key kept across partitions, and a database outage waited out without a dead letter."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared import kafka_admin
from hub_shared.consumer import EventConsumer, PermanentFailure, new_broker
from hub_shared.db import create_engine, session_factory
from hub_shared.events import Envelope, FeedbackReceived, FeedbackReceivedV1, encode
from hub_shared.testing import KafkaUnderTest, TcpProxy
from hub_shared.topics import Topic, dead_letter

from .conftest import Base, InboxMessage, Tally
from .test_outbox_relay import event

pytestmark = pytest.mark.long(seconds=18)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def new_topic(kafka: KafkaUnderTest, partitions: int = 1) -> str:
    topic = f"test.consumer.{uuid.uuid4().hex[:8]}"
    await kafka_admin.create_topics(
        kafka.bootstrap_servers, (Topic(topic, partitions, "test"), Topic(dead_letter(topic), 1, "test"))
    )
    return topic


async def produce(kafka: KafkaUnderTest, topic: str, messages: list[tuple[bytes, bytes, list]]) -> None:  # type: ignore[type-arg]
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        for key, value, headers in messages:
            await producer.send(topic, value, key=key, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


def encoded(envelope: Envelope) -> tuple[bytes, bytes, list]:  # type: ignore[type-arg]
    message = encode(envelope)
    return envelope.subject.encode(), message.value, list(message.headers.items())


async def count(session: AsyncSession, data: FeedbackReceived, key: str | None = None) -> None:
    row = await session.get(Tally, key or data.organisation_code)
    if row is None:
        session.add(Tally(organisation_code=key or data.organisation_code, count=1))
    else:
        row.count += 1


async def tallies(sessions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return {t.organisation_code: t.count for t in (await session.scalars(select(Tally))).all()}


async def test_a_poison_event_mid_batch_is_dead_lettered_and_the_rest_apply_once_in_order(
    sessions,  # type: ignore[no-untyped-def]
    kafka: KafkaUnderTest,
) -> None:
    topic = await new_topic(kafka)
    calls: dict[str, int] = {}

    async def handler(session, envelope: Envelope) -> None:  # type: ignore[no-untyped-def]
        data = envelope.data
        assert isinstance(data, FeedbackReceived)
        calls[envelope.subject] = calls.get(envelope.subject, 0) + 1
        if envelope.subject == "flaky" and calls["flaky"] < 3:
            raise ConnectionError("the database blinked")  # transient: retried, never dead-lettered
        if envelope.subject == "permanent":
            raise PermanentFailure("cannot apply")
        if envelope.subject == "bug":
            raise ValueError("fails every time")
        await count(session, data, key=envelope.subject)

    fine = [event("P81001", f"fine-{n}") for n in range(6)]
    messages = [
        encoded(fine[0]),
        encoded(fine[1]),
        encoded(event("P81002", "permanent")),
        encoded(fine[2]),
        (b"garbage", b"{not json", []),
        encoded(fine[3]),
        encoded(event("P81003", "bug")),
        encoded(event("P81004", "flaky")),
        encoded(fine[4]),
        encoded(fine[1]),  # the same event delivered twice (a relay that crashed before marking)
        encoded(fine[5]),
    ]
    await produce(kafka, topic, messages)  # all waiting before the consumer starts: one batch

    consumer = EventConsumer(
        group=f"test-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers={FeedbackReceivedV1.event_type: handler},
        sessions=sessions,
        inbox_model=InboxMessage,
        max_attempts=3,
        backoff_seconds=0.01,
    )
    broker = new_broker(kafka.bootstrap_servers, client_id="test")
    consumer.register(broker)
    await broker.start()
    try:

        async def all_applied() -> bool:
            return (await tallies(sessions)).get("fine-5") == 1

        await until(all_applied)
        await asyncio.sleep(1)  # anything doubled would show by now
    finally:
        await broker.stop()

    assert await tallies(sessions) == {**{f"fine-{n}": 1 for n in range(6)}, "flaky": 1}
    assert calls["bug"] == 3  # bounded retries, alone
    assert calls["permanent"] <= 2  # tried in the batch, then once alone: never retried

    letters = {d.key: d for d in await kafka_admin.read_all(kafka.bootstrap_servers, dead_letter(topic))}
    assert set(letters) == {b"permanent", b"bug", b"garbage"}
    assert letters[b"bug"].headers["dlq-attempts"] == "3"
    assert "fails every time" in letters[b"bug"].reason
    assert letters[b"permanent"].headers["dlq-attempts"] == "1"
    assert letters[b"permanent"].original_topic == topic
    assert letters[b"permanent"].headers["dlq-original-partition"] == "0"
    assert letters[b"permanent"].headers["dlq-original-offset"] == "2"
    assert letters[b"permanent"].headers["content-type"] == "application/cloudevents+json"
    assert "not a CloudEvents" in letters[b"garbage"].reason


async def test_batches_keep_order_per_key_across_partitions(sessions, kafka: KafkaUnderTest) -> None:  # type: ignore[no-untyped-def]
    topic = await new_topic(kafka, partitions=3)
    seen: dict[str, list[int]] = {}

    async def batch_handler(session, envelopes) -> None:  # type: ignore[no-untyped-def]
        for envelope in envelopes:
            aggregate, n = envelope.subject.rsplit("#", 1)
            seen.setdefault(aggregate, []).append(int(n))
            await count(session, envelope.data)

    messages = []
    for n in range(50):
        for aggregate in ("a", "b", "c", "d", "e"):
            envelope = event("P81001", f"{aggregate}#{n}")
            message = encode(envelope)
            messages.append((aggregate.encode(), message.value, list(message.headers.items())))
    await produce(kafka, topic, messages)

    consumer = EventConsumer(
        group=f"test-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers={},
        batch_handlers={FeedbackReceivedV1.event_type: batch_handler},
        sessions=sessions,
        inbox_model=InboxMessage,
        batch_size=40,
    )
    broker = new_broker(kafka.bootstrap_servers, client_id="test")
    consumer.register(broker)
    await broker.start()
    try:

        async def all_applied() -> bool:
            return (await tallies(sessions)).get("P81001") == 250

        await until(all_applied)
    finally:
        await broker.stop()
    assert seen == {aggregate: list(range(50)) for aggregate in "abcde"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_database_outage_is_waited_out_not_dead_lettered(database_url: str, kafka: KafkaUnderTest) -> None:
    """The old consumer gave up after ~1.4 s of failures and dead-lettered good events; a
    5 s outage (connections dropped, new ones refused) must lose and double nothing."""
    setup = create_engine(database_url)
    async with setup.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await setup.dispose()
    url = urlsplit(database_url)
    proxy = await TcpProxy(url.hostname or "127.0.0.1", url.port or 5432).start()
    through_proxy = urlunsplit(url._replace(netloc=f"{url.username}@127.0.0.1:{proxy.port}"))
    engine = create_engine(through_proxy)
    sessions = session_factory(engine)
    topic = await new_topic(kafka, partitions=3)

    async def handler(session, envelope: Envelope) -> None:  # type: ignore[no-untyped-def]
        await count(session, envelope.data)  # type: ignore[arg-type]

    consumer = EventConsumer(
        group=f"test-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers={FeedbackReceivedV1.event_type: handler},
        sessions=sessions,
        inbox_model=InboxMessage,
        max_attempts=2,
        backoff_seconds=0.05,
        max_backoff_seconds=0.5,
        batch_size=20,
    )
    broker = new_broker(kafka.bootstrap_servers, client_id="test")
    consumer.register(broker)
    await broker.start()
    paused_seen = False
    try:
        await produce(kafka, topic, [encoded(event("P81001", f"before-{n}")) for n in range(100)])
        proxy.sever()
        await produce(kafka, topic, [encoded(event("P81001", f"during-{n}")) for n in range(300)])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            paused_seen = paused_seen or consumer.paused
            await asyncio.sleep(0.05)
        proxy.restore()

        async def all_applied() -> bool:
            return (await tallies(sessions)).get("P81001", 0) >= 400

        await until(all_applied)
        await asyncio.sleep(1)
    finally:
        await broker.stop()
        await engine.dispose()
        await proxy.stop()

    assert paused_seen, "the consumer should report itself paused during the outage"
    assert not consumer.paused
    assert await tallies(sessions_for(database_url)) == {"P81001": 400}
    assert await kafka_admin.read_all(kafka.bootstrap_servers, dead_letter(topic), timeout=3) == []


def sessions_for(url: str):  # type: ignore[no-untyped-def]
    return session_factory(create_engine(url))


async def test_the_consume_process_is_not_ready_while_a_consumer_is_paused(sessions, kafka: KafkaUnderTest) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from hub_shared.web import consumer_health_app

    consumer = EventConsumer(group="health-probe", topics=[], handlers={}, sessions=sessions, inbox_model=InboxMessage)
    app = consumer_health_app([consumer], sessions.kw["bind"], kafka.bootstrap_servers)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://consumer") as client:
        assert (await client.get("/readyz")).status_code == 200
        consumer.paused = True
        paused = await client.get("/readyz")
        assert paused.status_code == 503
        assert paused.json()["checks"]["consumer health-probe"] == "paused: retrying"
        assert (await client.get("/healthz")).status_code == 200
