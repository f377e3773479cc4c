"""Never twice, over the real broker and real processes: every event published again
(and the consumer restarted) sends nothing more; a worker SIGKILLed between handing an
email to the relay and recording the answer leaves it ``unknown`` — counted, shown to
operators, not resent. The SMTP server's count is the judge."""

import asyncio
import os
import signal
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from hub_shared import kafka_admin
from hub_shared.auth import DevKeys
from hub_shared.consumer import new_broker
from hub_shared.events import MessageKind, encode
from hub_shared.testing import KafkaUnderTest, SmtpSink, eventually
from hub_shared.topics import MEMBERSHIP_CONTACTS
from notification.consumers import consumers
from notification.workers.delivery import Worker

from .conftest import KEYS, auth, card, contacts, deliver, ledger

pytestmark = pytest.mark.long(seconds=17)

BIN = Path(__file__).resolve().parents[3] / ".venv" / "bin"


async def test_every_event_published_again_and_the_consumer_restarted_sends_nothing_more(
    app: Any, settings: Any, kafka: KafkaUnderTest, smtp_sink: SmtpSink
) -> None:
    await kafka_admin.create_topics(kafka.bootstrap_servers)
    run = uuid.uuid4().hex[:8]
    group = f"notification.test-{run}"
    envelopes = [
        card(f"again-{run}-{i}@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4()) for i in range(20)
    ]
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, enable_idempotence=True, acks="all")
    await producer.start()

    async def publish_all() -> None:
        for envelope in envelopes:
            message = encode(envelope)
            await producer.send_and_wait(
                MEMBERSHIP_CONTACTS.name,
                value=message.value,
                key=message.key if isinstance(message.key, bytes) else str(message.key).encode(),
                headers=[(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in message.headers.items()],
            )

    async def start_consumer() -> Any:
        broker = new_broker(kafka.bootstrap_servers, client_id=f"test-{run}")
        for consumer in consumers(settings, app.state.sessions, KEYS):
            consumer.group = group
            consumer.register(broker)
        await broker.start()
        return broker

    mine = lambda: [m for m in smtp_sink.messages if f"again-{run}-" in m["To"]]  # noqa: E731
    worker = Worker(settings, app.state.sessions, name=f"w-{run}")
    working = asyncio.create_task(worker.run())
    try:
        await publish_all()
        broker = await start_consumer()

        async def all_sent() -> bool:
            return len(mine()) >= 20

        await eventually(all_sent, timeout=60, what="20 emails")
        await broker.stop()  # a restarted consumer...
        await publish_all()  # ...and every event published again
        broker = await start_consumer()

        async def caught_up() -> bool:
            return await kafka_admin.group_lag(kafka.bootstrap_servers, group, MEMBERSHIP_CONTACTS.name) == 0

        await eventually(caught_up, timeout=60, what="the consumer to read everything again")
        await asyncio.sleep(1.5)  # the worker has had every chance to send a second copy
        await broker.stop()
    finally:
        worker.stop()
        await working
        await producer.stop()
    assert len(mine()) == 20
    assert len({m["To"] for m in mine()}) == 20
    # Other tests' cards may be on this process's contacts topic too: count this test's.
    ours = {e.data.member_id for e in envelopes}  # type: ignore[attr-defined]
    rows = [r for r in await ledger(app) if r.status == "delivered" and r.member_id in ours]
    assert len(rows) == 20  # the ledger agrees with the SMTP server


async def test_a_worker_killed_mid_send_leaves_it_unknown_and_never_resends_it(
    app: Any, settings: Any, smtp_sink: SmtpSink, client: httpx.AsyncClient, keys: DevKeys
) -> None:
    await deliver(app, contacts(card("held@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4())))
    smtp_sink.hold = threading.Event()  # the relay has the message but has not answered
    env = {
        **os.environ,
        "NOTIFICATION_DATABASE_URL": settings.database_url,
        "NOTIFICATION_SMTP_PORT": str(smtp_sink.port),
        "NOTIFICATION_SENDING_LEASE_SECONDS": "3",
        "NOTIFICATION_WORKER_IDLE_SECONDS": "0.1",
        "NOTIFICATION_RETRY_BASE_SECONDS": "0.1",
        "HUB_LOG_LEVEL": "WARNING",
    }
    first = await asyncio.create_subprocess_exec(str(BIN / "notification"), "worker", env=env)
    second: asyncio.subprocess.Process | None = None
    try:

        async def handed_over() -> bool:
            return smtp_sink.arrived.is_set()

        await eventually(handed_over, timeout=60, what="the worker to hand the email to the relay")
        [row] = await ledger(app)
        assert row.status == "sending"
        first.send_signal(signal.SIGKILL)  # in the window: accepted by the relay, not recorded
        await asyncio.wait_for(first.wait(), timeout=10)
        smtp_sink.hold.set()
        await deliver(app, contacts(card("after@example.org", MessageKind.FRESH_LINK, member_id=uuid.uuid4())))
        second = await asyncio.create_subprocess_exec(str(BIN / "notification"), "worker", env=env)

        async def settled() -> bool:
            return {r.status for r in await ledger(app)} == {"unknown", "delivered"}

        await eventually(settled, timeout=60, what="the lost send to be marked unknown")
        await asyncio.sleep(1.0)  # the new worker has had every chance to resend it
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), timeout=15)
    assert [m["To"] for m in smtp_sink.messages] == ["held@example.org", "after@example.org"]
    by_status = {r.status: r for r in await ledger(app)}
    assert "stopped between handing it to the relay and recording the answer" in (by_status["unknown"].reason or "")
    assert by_status["unknown"].attempts == 1
    r = await client.get("/v1/notifications/summary", headers=auth(keys, "QZZ"))
    assert r.json()["unknown"] == 1 and r.json()["by_status"] == {"unknown": 1, "delivered": 1}
    r = await client.get("/v1/notifications", params={"status": "unknown"}, headers=auth(keys, "QZZ"))
    assert len(r.json()["items"]) == 1
    # The ledger agrees with the SMTP server: every message it received is delivered or unknown.
    assert len(smtp_sink.messages) == len([r for r in await ledger(app) if r.status in ("delivered", "unknown")])
