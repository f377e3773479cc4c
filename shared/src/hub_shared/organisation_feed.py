"""The organisations every process knows, kept current from the ``reference.organisations``
topic without a restart.

Publishing: ``hub reference import`` (``hub_shared.reference_publishing``), one
``reference.organisations_published.v1`` per ICB, keyed by the ICB's code, all of an import's
ICBs in one Kafka transaction.

Following (``OrganisationFeed``): every process (each service's API, its consumer, the
console) reads the compacted topic from its start (committed records only), keeps the
latest hierarchy per ICB, and swaps ``reference()`` to their union after each poll. A
hierarchy is a whole ICB, never a delta: applying one twice changes nothing. A record that
is not a valid hierarchy is logged, counted and skipped (the import validated it before
publishing, so only a foreign writer produces one); the previous hierarchy stays."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from hub_shared.events import InvalidEvent, OrganisationsPublishedV1, decode
from hub_shared.logging import get_logger
from hub_shared.metrics import EVENTS_CONSUMED
from hub_shared.organisations import Organisations, reference, starting_hierarchies
from hub_shared.settings import ServiceSettings
from hub_shared.topics import REFERENCE_ORGANISATIONS

log = get_logger(__name__)
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass
class OrganisationFeed:
    """Follows the published hierarchies and keeps ``organisations`` (this process's
    ``reference()``) equal to their union (``starting_hierarchies`` while none is published)."""

    bootstrap_servers: str
    topic: str = REFERENCE_ORGANISATIONS.name
    organisations: Organisations = field(default_factory=reference)
    poll_timeout_ms: int = 500
    retry_seconds: float = 2.0
    assignment_timeout_seconds: float = 10.0
    hierarchies: dict[str, OrganisationsPublishedV1] = field(default_factory=dict)
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    # Set once the topic was read to its end, or the first attempt to read it failed: what a
    # process starting waits for (a broker that is down must not stop it starting).
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    applied: int = 0
    _task: asyncio.Task[None] | None = None
    _stopping: bool = False
    _failures: int = 0

    def start(self) -> None:
        """Follow the topic in the background: starting never waits for the broker."""
        self._task = asyncio.create_task(self._follow(), name=f"organisation-feed:{self.topic}")

    async def wait_settled(self, timeout: float) -> bool:
        """Wait until the topic was read to its end (True) or could not be read (False)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.settled.wait(), timeout)
        return self.caught_up.is_set()

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _follow(self) -> None:
        while not self._stopping:
            consumer = AIOKafkaConsumer(
                self.topic,
                bootstrap_servers=self.bootstrap_servers,
                group_id=None,  # every process reads every partition, from the start
                enable_auto_commit=False,
                isolation_level="read_committed",
                auto_offset_reset="earliest",
                max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
                fetch_max_bytes=MAX_MESSAGE_BYTES * 2,
            )
            try:
                await consumer.start()
                await self._read(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker or the topic is away: keep what we have, try again
                if self._failures == 0:  # logged once per outage
                    log.warning("cannot follow the organisations topic; retrying", topic=self.topic, error=repr(exc))
                self._failures += 1
                self.settled.set()
                await asyncio.sleep(min(self.retry_seconds * 2 ** min(self._failures - 1, 4), 30.0))
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        assigned: set[TopicPartition] = set()
        deadline = asyncio.get_running_loop().time() + self.assignment_timeout_seconds
        while not assigned:
            self._apply_batches(await consumer.getmany(timeout_ms=self.poll_timeout_ms))
            assigned = consumer.assignment()
            if not assigned and asyncio.get_running_loop().time() > deadline:
                raise LookupError(f"topic {self.topic} does not exist (hub topics create)")
        ends = await consumer.end_offsets(list(assigned))
        if self._failures:
            log.info("following the organisations topic again", topic=self.topic)
        self._failures = 0
        while not self._stopping:
            if not self.caught_up.is_set():
                positions = {tp: await consumer.position(tp) for tp in assigned}
                if all(positions[tp] >= ends[tp] for tp in assigned):
                    self.caught_up.set()
                    self.settled.set()
                    log.info("organisations caught up", topic=self.topic, icbs=sorted(self.hierarchies))
            self._apply_batches(await consumer.getmany(timeout_ms=self.poll_timeout_ms))

    def _apply_batches(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        records = [r for batch in batches.values() for r in batch]
        if records:
            self.apply([(r.key, r.value) for r in records])

    def apply(self, records: Sequence[tuple[bytes | None, bytes | None]]) -> None:
        """Apply records in order: a hierarchy replaces its ICB's; a tombstone removes it."""
        changed = False
        for key, value in records:
            if value is None:
                if key is not None and self.hierarchies.pop(key.decode(errors="replace"), None) is not None:
                    changed = True
                continue
            try:
                envelope = decode(value)
            except InvalidEvent as exc:
                EVENTS_CONSUMED.labels("organisation-feed", "invalid", "skipped").inc()
                log.error("not a hierarchy of organisations; skipped", topic=self.topic, reason=str(exc)[:500])
                continue
            if not isinstance(envelope.data, OrganisationsPublishedV1):
                continue
            self.hierarchies[envelope.data.icb_code] = envelope.data
            EVENTS_CONSUMED.labels("organisation-feed", envelope.type, "applied").inc()
            changed = True
        if changed:
            self.organisations.replace(Organisations.from_hierarchies(self.current()))
            self.applied += 1
            log.info("organisations applied", icbs=sorted(self.hierarchies))

    def current(self) -> list[OrganisationsPublishedV1]:
        return list(self.hierarchies.values()) or starting_hierarchies()


@asynccontextmanager
async def following(settings: ServiceSettings) -> AsyncIterator[OrganisationFeed]:
    """For the life of a process: follow the published organisations, having waited (at most
    ``reference_wait_seconds``) to read what is already published before serving."""
    feed = OrganisationFeed(settings.kafka_bootstrap_servers, topic=settings.reference_topic)
    feed.start()
    if not await feed.wait_settled(settings.reference_wait_seconds):
        log.warning("starting before the published organisations were read", topic=feed.topic)
    try:
        yield feed
    finally:
        await feed.stop()
