"""What a client and an operator see when a dependency fails: 503 with Retry-After naming
the dependency (never a 500), readiness that says which one is down, and dead letters
that can be replayed, filtered, as often as needed without applying anything twice."""

import uuid
from urllib.parse import urlsplit, urlunsplit

import httpx

import feedback_intake.main as intake_main
from hub_shared import kafka_admin
from hub_shared.events import encode
from hub_shared.testing import TcpProxy, consumer_group, eventually, migrated
from hub_shared.topics import FEEDBACK_EVENTS, dead_letter

from .conftest import Hub
from .test_walking_skeleton import publish, received_event


async def test_an_api_whose_database_is_down_answers_503_with_retry_after_and_recovers(hub: Hub) -> None:
    url = hub.new_database("intake_outage")
    migrated(intake_main.MIGRATIONS, url)
    parts = urlsplit(url)
    proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    app = intake_main.create_app(hub.settings.model_copy(update={"database_url": proxied}))
    body = {
        "organisation_code": "P81001",
        "service_area": "general_practice",
        "channel": "fft_online",
        "fft_answer": "good",
        "occurred_at": "2026-11-01T10:00:00Z",
    }
    headers = {**hub.token("P81001"), "Idempotency-Key": str(uuid.uuid4())}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
            proxy.sever()
            down = await client.post("/v1/feedback", json=body, headers=headers)
            assert down.status_code == 503, down.text
            assert down.headers["content-type"] == "application/problem+json"
            assert int(down.headers["retry-after"]) > 0
            assert down.json()["dependency"] == "database"
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"].startswith("unavailable")

            proxy.restore()
            retried = await client.post("/v1/feedback", json=body, headers=headers)
            assert retried.status_code == 201, retried.text
            again = await client.post("/v1/feedback", json=body, headers=headers)
            assert again.json()["id"] == retried.json()["id"]  # the client's retry is safe
            assert (await client.get("/readyz")).status_code == 200
    finally:
        await app.state.engine.dispose()
        await proxy.stop()


async def test_dead_letters_replay_by_filter_and_a_second_replay_changes_nothing(hub: Hub) -> None:
    """An event dead-lettered for a reason that has since been fixed is replayed by reason
    and type; replaying it again (or everything) counts it once."""
    org = "P82003"
    before = await hub.applied(org)
    good = received_event(org)
    message = encode(good)
    # A letter as the consumer would have written it after giving up on a good event.
    letter_headers = [
        *message.headers.items(),
        ("dlq-reason", b"OperationalError('server closed the connection unexpectedly')"),
        ("dlq-original-topic", FEEDBACK_EVENTS.name.encode()),
        ("dlq-original-partition", b"0"),
        ("dlq-original-offset", b"0"),
        ("dlq-consumer-group", consumer_group("reporting.projections").encode()),
    ]
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=hub.kafka.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            dead_letter(FEEDBACK_EVENTS.name), message.value, key=good.subject.encode(), headers=letter_headers
        )
    finally:
        await producer.stop()
    letters = await kafka_admin.read_all(hub.kafka.bootstrap_servers, dead_letter(FEEDBACK_EVENTS.name))
    chosen = kafka_admin.select_letters(letters, reason="server closed", event_type="feedback.received.v1")
    assert [d.key for d in chosen] == [good.subject.encode()]
    assert kafka_admin.select_letters(letters, reason="server closed", event_type="feedback.reviewed.v1") == []

    await kafka_admin.replay(hub.kafka.bootstrap_servers, chosen)
    await eventually(lambda: _applied(hub, org, before + 1), what="the replayed event applied")
    await kafka_admin.replay(hub.kafka.bootstrap_servers, chosen)  # an operator runs it twice
    await publish(hub, (good.subject, message.value))  # and the original arrives late
    await eventually(lambda: _settled(hub), what="the topic drained")
    assert await hub.applied(org) == before + 1


async def _applied(hub: Hub, org: str, expected: int) -> bool:
    return await hub.applied(org) == expected


async def _settled(hub: Hub) -> bool:
    """Reporting's consumer group has caught up with the end of feedback.events."""
    return (
        await kafka_admin.group_lag(
            hub.kafka.bootstrap_servers, consumer_group("reporting.projections"), FEEDBACK_EVENTS.name
        )
        == 0
    )
