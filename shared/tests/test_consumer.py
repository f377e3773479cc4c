"""EventConsumer against the real broker: bounded retries with backoff, then the dead-letter
topic with the reason and origin in headers, and the partition keeps moving."""

import asyncio
import time
import uuid

from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from hub_shared import kafka_admin
from hub_shared.consumer import EventConsumer, PermanentFailure, new_broker
from hub_shared.events import Envelope, FeedbackReceivedV1, encode
from hub_shared.testing import KafkaUnderTest
from hub_shared.topics import Topic, dead_letter

from .conftest import InboxMessage, Tally
from .test_outbox_relay import event


async def until(check, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_transient_failures_are_retried_then_the_poison_is_dead_lettered(sessions, kafka: KafkaUnderTest) -> None:  # type: ignore[no-untyped-def]
    topic = f"test.consumer.{uuid.uuid4().hex[:8]}"
    await kafka_admin.create_topics(
        kafka.bootstrap_servers, (Topic(topic, 1, "test"), Topic(dead_letter(topic), 1, "test"))
    )
    calls: dict[str, int] = {}

    async def tally(session, envelope: Envelope) -> None:  # type: ignore[no-untyped-def]
        data = envelope.data
        assert isinstance(data, FeedbackReceivedV1)
        calls[envelope.subject] = calls.get(envelope.subject, 0) + 1
        if envelope.subject == "flaky" and calls["flaky"] < 3:
            raise ConnectionError("database blinked")
        if envelope.subject == "always-fails":
            raise ConnectionError("never works")
        if envelope.subject == "permanent":
            raise PermanentFailure("cannot apply")
        row = await session.get(Tally, data.organisation_code)
        if row is None:
            session.add(Tally(organisation_code=data.organisation_code, count=1))
        else:
            row.count += 1

    consumer = EventConsumer(
        group=f"test-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers={FeedbackReceivedV1.event_type: tally},
        sessions=sessions,
        inbox_model=InboxMessage,
        max_attempts=3,
        backoff_seconds=0.01,
    )
    broker = new_broker(kafka.bootstrap_servers, client_id="test")
    consumer.register(broker)
    await broker.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        for subject, org in [
            ("flaky", "P81001"),
            ("always-fails", "P81002"),
            ("permanent", "P81003"),
            ("fine", "P81004"),
        ]:
            message = encode(event(org, subject))
            headers = list(message.headers.items())
            await producer.send_and_wait(topic, message.value, key=subject.encode(), headers=headers)

        async def last_one_applied() -> bool:
            async with sessions() as session:
                return await session.get(Tally, "P81004") is not None

        await until(last_one_applied)
    finally:
        await producer.stop()
        await broker.stop()

    async with sessions() as session:
        tallies = {t.organisation_code: t.count for t in (await session.scalars(select(Tally))).all()}
    assert tallies == {"P81001": 1, "P81004": 1}
    assert calls == {"flaky": 3, "always-fails": 3, "permanent": 1, "fine": 1}

    letters = {d.key: d for d in await kafka_admin.read_all(kafka.bootstrap_servers, dead_letter(topic))}
    assert set(letters) == {b"always-fails", b"permanent"}
    assert letters[b"always-fails"].headers["dlq-attempts"] == "3"
    assert "never works" in letters[b"always-fails"].reason
    assert letters[b"permanent"].headers["dlq-attempts"] == "1"
    assert letters[b"permanent"].original_topic == topic
    assert letters[b"permanent"].headers["dlq-original-partition"] == "0"
    assert letters[b"permanent"].headers["dlq-original-offset"] == "2"
    assert letters[b"permanent"].headers["content-type"] == "application/cloudevents+json"
