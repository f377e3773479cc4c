"""A place posts feedback; the outbox relay publishes it; reporting counts it exactly once,
through duplicates, poison messages and a broker outage; tenants stay apart."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from hub_shared import kafka_admin
from hub_shared.auth import DevKeys
from hub_shared.events import FeedbackReceivedV1, encode, new_envelope
from hub_shared.testing import KafkaUnderTest, consumer_group, eventually
from hub_shared.topics import FEEDBACK_EVENTS, dead_letter

from .conftest import Hub, running_hub

pytestmark = pytest.mark.long(seconds=66)


def received_event(org: str, subject: str | None = None):  # type: ignore[no-untyped-def]
    submission_id = uuid.uuid4()
    data = FeedbackReceivedV1(
        submission_id=submission_id,
        organisation_code=org,
        service_area="general_practice",
        channel="fft_sms",
        fft_answer="good",
        occurred_at=datetime.now(UTC),
        received_at=datetime.now(UTC),
    )
    return new_envelope(data, source="test", subject=subject or str(submission_id), tenant=org, correlation_id="test")


async def publish(hub: Hub, *messages: tuple[str, bytes]) -> None:
    """Publish raw (key, value) records to feedback.events, as any producer could."""
    producer = AIOKafkaProducer(bootstrap_servers=hub.kafka.bootstrap_servers, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(FEEDBACK_EVENTS.name, value=value, key=key.encode())
    finally:
        await producer.stop()


async def test_posted_feedback_is_counted_in_reporting(hub: Hub) -> None:
    response = await hub.post_feedback("P81001")
    assert response.status_code == 201, response.text
    submission = response.json()
    assert response.headers["Location"] == f"/v1/feedback/{submission['id']}"
    stored = await hub.intake.get(f"/v1/feedback/{submission['id']}", headers=hub.token("P81001"))
    assert stored.status_code == 200 and stored.json()["fft_answer"] == "good"

    async def counted() -> bool:
        return await hub.applied("P81001") >= 1

    await eventually(counted, what="reporting to apply the new submission")
    before = await hub.applied("01A")
    if before < 5:  # 1 to 4 are shown as "*"
        assert await hub.volume("01A") == "*"
    for _ in range(5):
        assert (await hub.post_feedback("P81001")).status_code == 201

    async def shown() -> bool:
        # Other tests' events for 01A may still be arriving on the shared hub: the API must
        # show what the store holds, which includes these five.
        stored = await hub.applied("01A")
        return stored >= before + 5 and await hub.volume("01A") == stored

    await eventually(shown, what="the place's count in reporting's API")


async def test_correlation_id_travels_from_http_to_the_event(hub: Hub) -> None:
    correlation_id = f"trace-{uuid.uuid4()}"
    token = hub.token("P82002")
    body = {
        "organisation_code": "P82002",
        "service_area": "maternity",
        "channel": "online_comment",
        "text": "Clear explanations from the midwife.",
        "occurred_at": "2026-11-02T08:00:00Z",
    }
    response = await hub.intake.post("/v1/feedback", json=body, headers={**token, "X-Correlation-ID": correlation_id})
    assert response.status_code == 201
    assert response.headers["X-Correlation-ID"] == correlation_id

    async def published_with_it() -> bool:
        records = await kafka_admin.read_all(hub.kafka.bootstrap_servers, FEEDBACK_EVENTS.name)
        return any(correlation_id.encode() in r.value and response.json()["id"].encode() in r.value for r in records)

    await eventually(published_with_it, what="the event carrying the request's correlation id")


async def test_an_event_delivered_twice_counts_once(hub: Hub) -> None:
    org = "P83005"
    first = received_event(org, subject="aggregate-dup")
    second = received_event(org, subject="aggregate-dup")  # same key: same partition, after the duplicate
    once, again = encode(first).value, encode(second).value
    await publish(hub, ("aggregate-dup", once), ("aggregate-dup", once), ("aggregate-dup", again))

    async def two() -> bool:
        return await hub.applied(org) == 2

    await eventually(two, what="two distinct events counted (the duplicate before the second was skipped)")
    assert await hub.applied(org) == 2


async def test_a_malformed_event_is_dead_lettered_and_the_next_good_one_is_processed(hub: Hub) -> None:
    org = "P83006"
    key = "aggregate-poison"
    poison = b'{"specversion": "1.0", "type": "feedback.received.v1", "this is": not json'
    good = encode(received_event(org, subject=key))
    await publish(hub, (key, poison), (key, good.value))

    async def good_counted() -> bool:
        return await hub.applied(org) == 1

    await eventually(good_counted, what="the good event after the poison one")
    letters = await kafka_admin.read_all(hub.kafka.bootstrap_servers, dead_letter(FEEDBACK_EVENTS.name))
    # Every group reading the topic dead-letters it once, naming itself; reporting's:
    ours = [
        d
        for d in letters
        if d.value == poison and d.headers["dlq-consumer-group"] == consumer_group("reporting.projections")
    ]
    assert len(ours) == 1
    assert ours[0].original_topic == FEEDBACK_EVENTS.name
    assert "not a CloudEvents" in ours[0].reason
    assert int(ours[0].headers["dlq-original-offset"]) >= 0


async def test_feedback_posted_while_the_broker_is_down_arrives_after_it_restarts(
    private_kafka: KafkaUnderTest,
    new_postgres_database,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    # A hub of its own on a broker of its own: the run's broker serves other tests meanwhile.
    async with running_hub(private_kafka, new_postgres_database, DevKeys(tmp_path / "keys").ensure()) as hub:
        org = "P82004"
        before = await hub.applied(org)
        private_kafka.stop()
        try:
            response = await hub.post_feedback(org)
            assert response.status_code == 201, "the POST must not depend on Kafka"
            ready = await hub.intake.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["broker"].startswith("unavailable")
        finally:
            private_kafka.start()

        async def arrived() -> bool:
            return await hub.applied(org) == before + 1

        await eventually(arrived, timeout=120, what="the event held in the outbox to arrive after the restart")


async def test_another_place_cannot_read_this_places_count(hub: Hub) -> None:
    other_place = await hub.reporting.get("/v1/reports/feedback-volume/01A", headers=hub.token("02B"))
    assert other_place.status_code == 403
    assert other_place.headers["content-type"].startswith("application/problem+json")
    practice_reading_its_place = await hub.reporting.get("/v1/reports/feedback-volume/01A", headers=hub.token("P81001"))
    assert practice_reading_its_place.status_code == 403
    own = await hub.reporting.get("/v1/reports/feedback-volume/01A", headers=hub.token("01A"))
    assert own.status_code == 200
    no_token = await hub.reporting.get("/v1/reports/feedback-volume/01A")
    assert no_token.status_code == 401


async def test_a_place_cannot_post_for_another_places_practice(hub: Hub) -> None:
    body = {
        "organisation_code": "P82001",
        "service_area": "general_practice",
        "channel": "fft_sms",
        "fft_answer": "poor",
        "occurred_at": "2026-11-01T10:00:00Z",
    }
    response = await hub.intake.post("/v1/feedback", json=body, headers=hub.token("01A"))
    assert response.status_code == 403
    assert response.json()["title"] == "Not your organisation"
