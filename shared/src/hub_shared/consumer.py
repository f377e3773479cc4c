"""Idempotent, batched event consumption over FastStream, with explicit acknowledgement.

What one poll returns (bounded by ``batch_size`` records and the fetch byte limits) is
applied in **one transaction**: the inbox rows of every event are inserted together and
what the insert returns says which are new, so a redelivered event changes nothing (an
event type whose effect is a row with a key of its own, one per event, may deduplicate
by that key instead: a ``keyed_handlers`` entry, which writes no inbox row); runs
of one event type go to the handler together (a batch handler can then write them with
set-based SQL); the offsets are committed once, after the commit. Order per key holds:
records are applied in partition order and one partition's records stay in order.

When the batch fails, the failure is classified (``hub_shared.failures``):

* **transient** (database or broker unreachable, lost connection, serialisation
  conflict, deadlock, timeout): nothing is committed; the consumer rewinds to the
  batch's first offsets, waits with capped exponential backoff and tries again, for as
  long as it takes, reporting itself paused (``/readyz`` of the consume process, the
  ``hub_consumer_paused`` gauge) and logging once per change of state. It never
  dead-letters and never commits past the event.
* **anything else**: the batch is applied again one event at a time, each in its own
  transaction with bounded retries, so a poison event is isolated and goes to
  ``<topic>.dlq`` with the reason and the original topic/partition/offset in headers,
  while the others are applied exactly once. The partition moves on.

Offsets are committed only after the effects (and dead letters) are durable. A handler
of this class never raises into FastStream (faststream#2618: a failed message left
unacknowledged is skipped when the next one commits)."""

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, cast

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared import correlation
from hub_shared.events import Envelope, InvalidEvent, Unwanted, decode_wanted
from hub_shared.failures import PermanentFailure, is_transient
from hub_shared.inbox import InboxMixin, record_deliveries
from hub_shared.logging import get_logger
from hub_shared.metrics import CONSUMER_PAUSED, EVENTS_CONSUMED
from hub_shared.topics import dead_letter

__all__ = [
    "BatchHandler",
    "EventConsumer",
    "EventHandler",
    "Item",
    "KeyedBatchHandler",
    "PermanentFailure",
    "new_broker",
    "read_record",
]

log = get_logger(__name__)

EventHandler = Callable[[AsyncSession, Envelope], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]]
# Applies the envelopes whose effect is not stored yet (nor earlier in the batch) and returns
# their ids: the effect's own key (a fact's primary key, one per event) is the dedupe key.
KeyedBatchHandler = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[set[str]]]
InvalidHandler = Callable[[AsyncSession, ConsumerRecord, str], Awaitable[None]]

_EVENT_CONTEXT = ("topic", "partition", "offset", "event_id", "event_type", "tenant")
INVALID = "invalid"  # the inbox's event type for an ingress position handed to the invalid handler


@dataclass
class Item:
    """One record of a batch and what became of it."""

    record: ConsumerRecord
    envelope: Envelope | None = None
    reason: str | None = None  # why it is not a valid event, or why applying it failed
    outcome: str = ""
    unwanted: str | None = None  # the type of a valid event this consumer has no handler for

    @property
    def position(self) -> str:
        return f"{self.record.topic}:{self.record.partition}:{self.record.offset}"

    @property
    def event_type(self) -> str:
        return self.envelope.type if self.envelope else self.unwanted or INVALID


class _Transient(Exception):
    """A transient failure met during one-at-a-time application: the items before it are done."""

    def __init__(self, cause: BaseException, done: list[Item]) -> None:
        super().__init__(repr(cause))
        self.cause = cause
        self.done = done


@dataclass
class EventConsumer:
    """One consumer group applying events from some topics to one service's database."""

    group: str
    topics: list[str]
    handlers: Mapping[str, EventHandler]
    sessions: async_sessionmaker[AsyncSession]
    inbox_model: type[InboxMixin]
    # Set-based handlers for event types written in bulk; a type is in one mapping or the other.
    batch_handlers: Mapping[str, BatchHandler] = field(default_factory=dict)
    # Set-based handlers that deduplicate by their effect's own key instead of an inbox row
    # (see ``KeyedBatchHandler``): one write less per event.
    keyed_handlers: Mapping[str, KeyedBatchHandler] = field(default_factory=dict)
    max_attempts: int = 4
    backoff_seconds: float = 0.2
    max_backoff_seconds: float = 10.0
    max_transient_attempts: int = 20
    batch_size: int = 1000
    # For ingress topics: input that is not a valid event is the sender's to fix, so it is
    # handed here (once per offset) instead of being dead-lettered.
    invalid_handler: InvalidHandler | None = None
    paused: bool = False
    _transient_streak: int = 0
    _counted_transient: int = 0

    def register(self, broker: KafkaBroker) -> None:
        async def raw_body(message: Any) -> bytes:
            # Decoding is ours: a body FastStream cannot parse must still be dead-lettered.
            return cast(bytes, message.body)

        @broker.subscriber(
            *self.topics,
            group_id=self.group,
            batch=True,
            max_records=self.batch_size,
            batch_timeout_ms=100,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            # Backoff sleeps are capped well below this, so waiting never costs the group.
            max_poll_interval_ms=300_000,
            decoder=raw_body,
            title=f"{self.group}",
            description=(
                f"Applies {', '.join(sorted({*self.handlers, *self.batch_handlers, *self.keyed_handlers}))} "
                "idempotently, "
                "in batches; dead letters go to <topic>.dlq"
            ),
        )
        async def on_batch(body: Any, message: KafkaMessage) -> None:
            records = cast(tuple[ConsumerRecord, ...], message.raw_message)
            consumer = cast(AIOKafkaConsumer, message.consumer)  # type: ignore[attr-defined]
            await self.consume(records, consumer, broker)

    async def consume(self, records: Sequence[ConsumerRecord], consumer: AIOKafkaConsumer, broker: KafkaBroker) -> None:
        """Apply one poll's records, then commit; on a transient failure rewind and wait."""
        try:
            items = await self.process(records, broker)
        except _Transient as transient:
            await self._commit_done_and_rewind(consumer, records, transient.done)
            await self._wait_out(transient.cause)
            return
        except Exception as exc:  # an unexpected failure of our own: never commit past it
            log.error("batch could not be processed; it will be delivered again", error=repr(exc))
            await self._commit_done_and_rewind(consumer, records, [])
            await self._wait_out(exc)
            return
        try:
            await consumer.commit()
        except Exception as exc:  # effects are durable: a redelivery is absorbed by the inbox
            log.warning("offset commit failed; the batch may be delivered again", error=repr(exc))
        self._recovered()
        for (event_type, outcome), count in Counter((i.event_type, i.outcome) for i in items).items():
            EVENTS_CONSUMED.labels(self.group, event_type, outcome).inc(count)

    async def process(self, records: Sequence[ConsumerRecord], broker: KafkaBroker) -> list[Item]:
        """Apply the records (no commit of offsets); returns each item's outcome. Raises
        ``_Transient`` with the items already done when a transient failure stops it."""
        items = [read_record(record, self.handles) for record in records]
        try:
            await self._apply_together(items)
        except Exception as exc:
            if is_transient(exc) and await self._database_down():
                raise _Transient(exc, []) from exc
            log.info("batch failed; applying its events one at a time", error=repr(exc), events=len(items))
            for item in items:
                item.outcome = ""
            await self._apply_one_by_one(items, broker)
        else:
            done: list[Item] = []
            for item in items:
                if item.outcome == "dead_letter":
                    try:
                        await self._dead_letter(broker, item, item.reason or "", attempts=0)
                    except Exception as exc:  # the broker is down: dead-letter it next time
                        raise _Transient(exc, done) from exc
                done.append(item)
        structlog.contextvars.unbind_contextvars(*_EVENT_CONTEXT)
        log.info("batch consumed", events=len(items), **Counter(i.outcome for i in items))
        return items

    async def apply(self, session: AsyncSession, items: list[Item]) -> None:
        """Apply items in the caller's transaction (live consumption and replays alike)."""
        await apply_batch(
            session, self.inbox_model, self.group, self._dispatch, items, self.invalid_handler, self.keyed_handlers
        )

    async def _apply_together(self, items: list[Item]) -> None:
        async with self.sessions() as session, session.begin():
            await self.apply(session, items)

    async def _apply_one_by_one(self, items: list[Item], broker: KafkaBroker) -> None:
        done: list[Item] = []
        for item in items:
            attempts = 0
            while True:
                attempts += 1
                try:
                    async with self.sessions() as session, session.begin():
                        await self.apply(session, [item])
                    break
                except Exception as exc:
                    if is_transient(exc) and not await self._counts_against_event(exc):
                        raise _Transient(exc, done) from exc
                    if isinstance(exc, PermanentFailure) or attempts >= self.max_attempts:
                        _bind(item)
                        log.warning("event failed; dead-lettering", error=repr(exc), attempts=attempts)
                        item.outcome = "dead_letter"
                        item.reason = repr(exc)
                        break
                    await asyncio.sleep(min(self.backoff_seconds * 2 ** (attempts - 1), self.max_backoff_seconds))
            if item.outcome == "dead_letter":
                try:
                    await self._dead_letter(broker, item, item.reason or "", attempts=attempts)
                except Exception as exc:  # the broker is down: the item is not done
                    raise _Transient(exc, done) from exc
            done.append(item)

    def handles(self, event_type: str) -> bool:
        return event_type in self.batch_handlers or event_type in self.handlers or event_type in self.keyed_handlers

    def _dispatch(self, event_type: str) -> BatchHandler | None:
        if (batch := self.batch_handlers.get(event_type)) is not None:
            return batch
        if (single := self.handlers.get(event_type)) is not None:
            return _one_at_a_time(single)
        return None

    async def _database_down(self) -> bool:
        try:
            async with self.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return True
        return False

    async def _counts_against_event(self, exc: BaseException) -> bool:
        """A 'transient' error while the database answers: after enough of them the event
        itself is at fault (see hub_shared.failures)."""
        if await self._database_down():
            return False
        self._counted_transient += 1
        return self._counted_transient >= self.max_transient_attempts

    async def _commit_done_and_rewind(
        self, consumer: AIOKafkaConsumer, records: Sequence[ConsumerRecord], done: list[Item]
    ) -> None:
        """Commit each partition up to its first record not done; seek back to it."""
        done_ids = {id(item.record) for item in done}
        first_pending: dict[TopicPartition, int] = {}
        finished: dict[TopicPartition, int] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            if id(record) in done_ids and tp not in first_pending:
                finished[tp] = record.offset + 1
            elif tp not in first_pending:
                first_pending[tp] = record.offset
        commits = {tp: OffsetAndMetadata(offset, "") for tp, offset in finished.items()}
        try:
            if commits:
                await consumer.commit(commits)
        except Exception as exc:  # not committed: those items come again and the inbox absorbs them
            log.warning("could not commit the events done before the failure", error=repr(exc))
        for tp, offset in first_pending.items():
            consumer.seek(tp, offset)

    async def _wait_out(self, cause: BaseException) -> None:
        self._transient_streak += 1
        if not self.paused:
            self.paused = True
            CONSUMER_PAUSED.labels(self.group).set(1)
            log.warning("consumer paused; retrying with backoff", error=repr(cause))
        await asyncio.sleep(min(self.backoff_seconds * 2 ** (self._transient_streak - 1), self.max_backoff_seconds))

    def _recovered(self) -> None:
        self._transient_streak = 0
        self._counted_transient = 0
        if self.paused:
            self.paused = False
            CONSUMER_PAUSED.labels(self.group).set(0)
            log.info("consumer resumed")

    async def _dead_letter(self, broker: KafkaBroker, item: Item, reason: str, attempts: int) -> None:
        record = item.record
        _bind(item)
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
        headers.update(
            {
                "dlq-reason": reason[:4000],
                "dlq-original-topic": record.topic,
                "dlq-original-partition": str(record.partition),
                "dlq-original-offset": str(record.offset),
                "dlq-consumer-group": self.group,
                "dlq-attempts": str(attempts),
                "dlq-time": datetime.now(UTC).isoformat(),
            }
        )
        await broker.publish(record.value or b"", topic=dead_letter(record.topic), key=record.key, headers=headers)
        item.outcome = "dead_lettered"
        log.warning("dead-lettered", reason=reason[:500], dlq=dead_letter(record.topic), position=item.position)


def read_record(record: ConsumerRecord, wanted: Callable[[str], bool] = lambda _: True) -> Item:
    """Decode a record; an event of a type nobody here handles is not validated further."""
    item = Item(record)
    try:
        envelope = decode_wanted(record.value, wanted, dict(record.headers or ()))
    except InvalidEvent as exc:
        item.reason = str(exc)
        return item
    if isinstance(envelope, Unwanted):
        item.unwanted = envelope.type
    else:
        item.envelope = envelope
    return item


def _bind(item: Item) -> None:
    record = item.record
    structlog.contextvars.unbind_contextvars(*_EVENT_CONTEXT)
    structlog.contextvars.bind_contextvars(topic=record.topic, partition=record.partition, offset=record.offset)
    if item.envelope is not None:
        _bind_envelope(item.envelope)


def _bind_envelope(envelope: Envelope) -> None:
    correlation.bind(envelope.correlation_id)
    structlog.contextvars.bind_contextvars(event_id=envelope.id, event_type=envelope.type, tenant=envelope.tenant)


def _one_at_a_time(handler: EventHandler) -> BatchHandler:
    async def apply(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            _bind_envelope(envelope)
            await handler(session, envelope)

    return apply


async def apply_batch(
    session: AsyncSession,
    inbox_model: type[InboxMixin],
    group: str,
    dispatch: Callable[[str], BatchHandler | None],
    items: list[Item],
    invalid_handler: InvalidHandler | None = None,
    keyed_handlers: Mapping[str, KeyedBatchHandler] | None = None,
) -> None:
    """Apply items in the caller's transaction, each at most once for this group: the one
    way live consumption, its one-at-a-time fallback and replays apply events. Items of a
    type in ``keyed_handlers`` get no inbox row: their handler deduplicates them.

    Sets each item's outcome: applied, duplicate, ignored (no handler), rejected (handed to
    the invalid handler), or dead_letter (invalid, for the caller to dead-letter)."""
    keyed_handlers = keyed_handlers or {}
    keyed: list[tuple[Item, str, str]] = []  # item, inbox key, inbox type
    for item in items:
        if item.envelope is not None and item.envelope.type in keyed_handlers:
            keyed.append((item, "", ""))  # deduplicated by its handler, not the inbox
        elif item.unwanted is not None:
            item.outcome = "ignored"
        elif item.envelope is None:
            if invalid_handler is None:
                item.outcome = "dead_letter"
            else:
                keyed.append((item, item.position, INVALID))
        elif dispatch(item.envelope.type) is None:
            item.outcome = "ignored"
        else:
            keyed.append((item, item.envelope.id, item.envelope.type))
    fresh = await record_deliveries(session, inbox_model, group, [(key, kind) for _, key, kind in keyed if key])
    runnable: list[Item] = []
    for item, key, _ in keyed:
        if not key:
            runnable.append(item)
        elif key in fresh:
            fresh.discard(key)  # a second copy within the batch is a duplicate too
            runnable.append(item)
        else:
            item.outcome = "duplicate"
    # Consecutive items of one type go to their handler together; order is kept.
    for event_type, run in groupby(runnable, key=lambda i: i.event_type):
        members = list(run)
        if event_type == INVALID:
            assert invalid_handler is not None
            for item in members:
                await invalid_handler(session, item.record, item.reason or "")
                item.outcome = "rejected"
            continue
        if (keyed_handler := keyed_handlers.get(event_type)) is not None:
            applied = await keyed_handler(session, [cast(Envelope, item.envelope) for item in members])
            for item in members:
                event_id = cast(Envelope, item.envelope).id
                item.outcome = "applied" if event_id in applied else "duplicate"
                applied.discard(event_id)  # a second copy within the batch is a duplicate too
            continue
        handler = dispatch(event_type)
        assert handler is not None
        await handler(session, [cast(Envelope, item.envelope) for item in members])
        for item in members:
            item.outcome = "applied"


def new_broker(bootstrap_servers: str, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        graceful_timeout=30.0,
        # Our own structured "batch consumed" line replaces FastStream's access log.
        log_level=logging.DEBUG,
    )
