"""Topic creation and dead-letter inspection/replay, for the operator's CLI and tests."""

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from hub_shared.outbox import kafka_producer
from hub_shared.topics import ALL_TOPICS, Topic


async def create_topics(bootstrap_servers: str, topics: tuple[Topic, ...] = ALL_TOPICS) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="hub-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # created concurrently elsewhere
                await admin.create_topics(
                    [
                        NewTopic(
                            t.name,
                            num_partitions=t.partitions,
                            replication_factor=1,
                            topic_configs=dict(t.config),
                        )
                        for t in missing
                    ]
                )
        await await_group_coordinator(admin)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def await_group_coordinator(admin: AIOKafkaAdminClient, timeout: float = 30.0) -> None:
    """Wait until the broker can coordinate consumer groups. A new broker creates its
    offsets topic on the first group request; until then every consumer logs
    GroupCoordinatorNotAvailableError, which looks like a failure to whoever reads it.
    Asking here first means the consumers start against a ready coordinator."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await admin.describe_consumer_groups(["hub.coordinator-check"])
            return
        except KafkaError:
            if asyncio.get_running_loop().time() > deadline:
                return  # the consumers retry by themselves; this was only to keep start-up quiet
            await asyncio.sleep(0.2)


async def partitions_of(bootstrap_servers: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="hub-admin")
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(p["partition"] for d in described if d.get("error_code", 0) == 0 for p in d["partitions"])


async def group_lag(bootstrap_servers: str, group: str, topic: str) -> int:
    """How many records of a topic a consumer group has not committed yet (all of them if
    the group has committed nothing)."""
    tps = [TopicPartition(topic, p) for p in await partitions_of(bootstrap_servers, topic)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="hub-admin")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
    finally:
        await consumer.stop()
        await admin.close()
    lag = 0
    for tp in tps:
        mark = committed.get(tp)
        done = mark.offset if mark is not None and mark.offset >= 0 else starts[tp]
        lag += max(ends[tp] - done, 0)
    return lag


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    timestamp: datetime  # when it was dead-lettered

    @property
    def event_type(self) -> str:
        """The CloudEvents type, or "" for a message that is not a readable event."""
        try:
            value = json.loads(self.value)
        except ValueError:
            return ""
        return str(value.get("type", "")) if isinstance(value, dict) else ""

    @property
    def reason(self) -> str:
        return self.headers.get("dlq-reason", "")

    @property
    def original_topic(self) -> str:
        return self.headers.get("dlq-original-topic", "")


async def read_all(bootstrap_servers: str, topic: str, timeout: float = 10.0) -> list[DeadLetter]:
    """Every record currently in a topic, from the beginning, without joining a group."""
    tps = [TopicPartition(topic, p) for p in await partitions_of(bootstrap_servers, topic)]
    if not tps:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        records: list[DeadLetter] = []

        async def behind() -> bool:
            return any([await consumer.position(tp) < end[tp] for tp in tps])

        async def drain() -> None:
            while await behind():
                batch = await consumer.getmany(*tps, timeout_ms=500)
                for items in batch.values():
                    for r in items:
                        records.append(
                            DeadLetter(
                                r.partition,
                                r.offset,
                                r.key,
                                r.value or b"",
                                {k: v.decode(errors="replace") for k, v in (r.headers or ())},
                                datetime.fromtimestamp(r.timestamp / 1000, UTC),
                            )
                        )

        await asyncio.wait_for(drain(), timeout)
        return records
    finally:
        await consumer.stop()


def select_letters(
    letters: list[DeadLetter],
    *,
    reason: str | None = None,
    event_type: str | None = None,
    group: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    from_offset: int = 0,
) -> list[DeadLetter]:
    """The dead letters matching every filter given (reason: a case-insensitive substring)."""
    return [
        d
        for d in letters
        if d.offset >= from_offset
        and (reason is None or reason.lower() in d.reason.lower())
        and (event_type is None or d.event_type == event_type)
        and (group is None or d.headers.get("dlq-consumer-group") == group)
        and (since is None or d.timestamp >= since)
        and (until is None or d.timestamp < until)
    ]


async def replay(
    bootstrap_servers: str,
    letters: list[DeadLetter],
    progress: Callable[[int], None] = lambda _n: None,
) -> int:
    """Publish dead letters back to their original topics, without the dlq- headers.
    Consumers are idempotent, so replaying one that later succeeded changes nothing."""
    producer = kafka_producer(bootstrap_servers, "hub-dlq-replay")
    await producer.start()
    try:
        for n, letter in enumerate(letters, 1):
            headers = [(k, v.encode()) for k, v in letter.headers.items() if not k.startswith("dlq-")]
            await producer.send_and_wait(letter.original_topic, value=letter.value, key=letter.key, headers=headers)
            progress(n)
        return len(letters)
    finally:
        await producer.stop()
