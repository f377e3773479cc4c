"""Transactional outbox and its relay.

A state change and the events it causes are written in one transaction
(``add_event``). The relay claims unpublished rows in order, publishes them with an
idempotent producer (``acks=all``) and deletes them once Kafka acknowledged them (a
delete costs PostgreSQL a fraction of an UPDATE that sets ``published_at``: no new
row version, no index entries; the record itself now lives in Kafka). A claim is a
lease: rows claimed by a relay that died are claimed again when the lease runs out
(the sweep). While Kafka is down the relay backs off and retries; nothing is lost,
and a row published twice (crash between send and delete) is absorbed by the
consumers' inbox.

On PostgreSQL a trigger notifies the relay when rows are added (``NOTIFY hub_outbox``, on
commit), so it claims at once and otherwise looks only every few seconds, as the safety
net for a notification missed while it reconnected. On SQLite it polls."""

import asyncio
import contextlib
import functools
import json
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Integer,
    String,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from hub_shared import correlation
from hub_shared.events import Envelope, EventData, encode, new_envelope
from hub_shared.logging import get_logger
from hub_shared.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from hub_shared.partitioner import partition_for
from hub_shared.timestamps import UtcDateTime
from hub_shared.wakeup import Wakeup

log = get_logger(__name__)
TOMBSTONE = "tombstone"
# Per database: each service's relay hears only its own outbox. Each service's migration
# installs the trigger that notifies it (``migrations.notify_relay_of_outbox_rows``).
NOTIFY_CHANNEL = "hub_outbox"


class OutboxMixin:
    """Declare ``class OutboxMessage(OutboxMixin, Base)`` in a service's models."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


def outbox_row(envelope: Envelope, topic: str) -> dict[str, Any]:
    """The outbox row of an event, as column values."""
    message = encode(envelope)
    return {
        "event_id": envelope.id,
        "event_type": envelope.type,
        "topic": topic,
        "key": envelope.subject,
        "headers": {k: v.decode() for k, v in message.headers.items()},
        "payload": message.value.decode(),
        "created_at": datetime.now(UTC),
        "attempts": 0,
    }


def add_event(session: AsyncSession, model: type[OutboxMixin], envelope: Envelope, topic: str) -> None:
    """Stage an event in the caller's transaction; it is published only if that commits."""
    row_type: Any = model  # a mapped subclass of the mixin
    session.add(row_type(**outbox_row(envelope, topic)))


@dataclass(frozen=True)
class Publisher:
    """How a service's events reach Kafka: staged in its outbox, in the caller's
    transaction, by one publisher per service (``publishing.py``)::

        publisher = Publisher(source=SERVICE_NAME, outbox=OutboxMessage, topic=FEEDBACK_EVENTS.name)
        publisher.emit(session, FeedbackRespondedV1(...), subject=str(response.id), tenant=code)
    """

    source: str
    outbox: type["OutboxMixin"]
    topic: str  # where events go unless ``emit`` names another of the service's topics

    def envelope(self, data: EventData, *, subject: str, tenant: str, correlation_id: str | None = None) -> Envelope:
        return new_envelope(
            data,
            source=self.source,
            subject=subject,
            tenant=tenant,
            correlation_id=correlation_id or correlation.current(),
        )

    def emit(
        self,
        session: AsyncSession,
        data: EventData,
        *,
        subject: str,
        tenant: str,
        correlation_id: str | None = None,
        topic: str | None = None,
    ) -> Envelope:
        """Stage ``data`` as an event; it is published only if the caller's transaction commits."""
        envelope = self.envelope(data, subject=subject, tenant=tenant, correlation_id=correlation_id)
        add_event(session, self.outbox, envelope, topic or self.topic)
        return envelope

    def row(
        self, data: EventData, *, subject: str, tenant: str, correlation_id: str | None = None, topic: str | None = None
    ) -> dict[str, Any]:
        """The outbox row of an event, for a writer that inserts many rows at once (group commit)."""
        envelope = self.envelope(data, subject=subject, tenant=tenant, correlation_id=correlation_id)
        return outbox_row(envelope, topic or self.topic)

    def tombstone(self, session: AsyncSession, key: str, *, topic: str | None = None) -> None:
        add_tombstone(session, self.outbox, topic or self.topic, key)


def add_tombstone(session: AsyncSession, model: type[OutboxMixin], topic: str, key: str) -> None:
    """Stage a tombstone (a null value) for a key of a log-compacted topic: once compacted,
    nothing earlier for that key remains. Stored as an empty payload; the relay sends None."""
    now = datetime.now(UTC)
    row_type: Any = model
    session.add(
        row_type(
            event_id=str(uuid.uuid4()),
            event_type=TOMBSTONE,
            topic=topic,
            key=key,
            headers={},
            payload="",
            created_at=now,
            attempts=0,
        )
    )


def kafka_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        partitioner=partition_for,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
        # A few ms of linger lets records sent one by one leave as a few large produce
        # requests; the relay's own batches are closed when full and do not linger.
        linger_ms=5,
        max_batch_size=512 * 1024,
    )


@functools.lru_cache(maxsize=256)
def _kafka_headers(stored: str) -> list[tuple[str, bytes]]:
    """Kafka headers of an outbox row from their stored JSON text (read as text and parsed
    once per distinct value: every event of a kind carries the same few headers)."""
    return [(k, v.encode()) for k, v in json.loads(stored).items()]


@dataclass
class _Delivery:
    """One claim handed to the producer: a record batch per partition, each with the
    outbox rows it carries."""

    batches: list[tuple[asyncio.Future[Any], list[int]]] = field(default_factory=list)

    async def acknowledged(self) -> list[int]:
        """The rows' seqs once Kafka acknowledged every batch; raises the first failure."""
        await asyncio.gather(*(future for future, _ in self.batches))
        return [seq for _, seqs in self.batches for seq in seqs]

    def settled(self) -> tuple[list[int], list[int]]:
        """(acknowledged seqs, the rest) as things stand, for when something failed."""
        acked: list[int] = []
        rest: list[int] = []
        for future, seqs in self.batches:
            ok = future.done() and not future.cancelled() and future.exception() is None
            (acked if ok else rest).extend(seqs)
        return acked, rest


class OutboxRelay:
    """Claims rows in order, hands each claim to the idempotent producer as one record
    batch per partition, and deletes rows once Kafka acknowledged them.

    ``run`` keeps one claim in flight while it claims and builds the next, so the
    database and the broker work at the same time. Order per key holds across claims:
    a key always maps to one partition, a partition's batches are queued in seq order
    and the idempotent producer sends them one at a time, in order, retrying a failed
    one before any later one (a batch that fails for good leaves a sequence gap that
    fails every later batch of the partition), so a row is never acknowledged ahead of
    an earlier row of its key."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        model: type[OutboxMixin],
        bootstrap_servers: str,
        *,
        client_id: str,
        batch_size: int = 2000,  # rows a claim takes: larger claims cost the database less per row
        lease: timedelta = timedelta(seconds=30),
        idle_poll: float = 0.1,  # how often an idle relay looks, without notifications
        notified_poll: float = 2.0,  # how often it looks anyway, while notifications arrive
        max_backoff: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._model = model
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._batch_size = batch_size
        self._lease = lease
        self._wakeup = Wakeup(
            sessions.kw["bind"].url,
            NOTIFY_CHANNEL,
            poll=idle_poll,
            notified_poll=notified_poll,
            retry_listening=max_backoff,
            waiter="outbox relay",
        )
        self._max_backoff = max_backoff
        self._producer: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()
        self._in_flight: deque[_Delivery] = deque()
        self._acknowledged: list[int] = []  # acknowledged by Kafka, not yet deleted
        self._claiming: asyncio.Future[list[Any]] | None = None  # the next claim, made ahead

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = 0.2
        log.info("outbox relay started", bootstrap=self._bootstrap)
        try:
            while not self._stopping.is_set():
                try:
                    claimed = await self._step()
                    backoff = 0.2
                    if claimed == 0 and not self._in_flight:
                        await self._wakeup.wait(self._stopping)
                except Exception as exc:  # broker or database unavailable: back off, keep going
                    OUTBOX_PUBLISH_FAILURES.inc()
                    log.warning("outbox relay cannot publish; retrying", error=repr(exc), retry_in=backoff)
                    await self._settle(repr(exc))
                    await self._reset_producer()
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff)
            try:  # the idempotent producer retries for ever; a stop waits at most a lease
                async with asyncio.timeout(self._lease.total_seconds()):
                    await self._drain()
            except Exception as exc:
                await self._settle(repr(exc))
        finally:
            await self._reset_producer()
            await self._wakeup.close()
            log.info("outbox relay stopped")

    async def publish_pending(self) -> int:
        """Claim one batch, publish it and delete it; return how many rows were
        published (what ``run`` does, without keeping a claim in flight)."""
        await self._step()
        try:
            return await self._drain()
        except Exception as exc:
            await self._settle(repr(exc))
            raise

    async def _step(self) -> int:
        """Take the rows claimed while the previous ones were being sent (or claim now),
        start the next claim, hand these rows to the producer, then wait for the claim
        before them and delete what Kafka acknowledged: the database claims, the producer
        sends and the database deletes at the same time. Returns how many rows were
        claimed."""
        claiming, self._claiming = self._claiming, None
        rows = await (claiming or self._claim())
        if rows:
            self._claiming = asyncio.ensure_future(self._claim())
            self._in_flight.append(await self._submit(rows))
        if len(self._in_flight) > 1 or (self._in_flight and not rows):
            self._acknowledged += await self._in_flight[0].acknowledged()
            self._in_flight.popleft()
        await self._delete_acknowledged()
        return len(rows)

    async def _drain(self) -> int:
        """Wait for every claim in flight and delete its rows, and give back rows claimed
        but not yet sent (a graceful stop, or one batch); return how many rows were
        deleted."""
        deleted = 0
        while self._in_flight:
            self._acknowledged += await self._in_flight[0].acknowledged()
            self._in_flight.popleft()
            deleted += await self._delete_acknowledged()
        await self._release(await self._unsent(), None)
        return deleted + await self._delete_acknowledged()

    async def _settle(self, error: str) -> None:
        """After a failure: delete what Kafka acknowledged, release the rest of every claim
        in flight (retried later, in seq order; a row sent but not known to be
        acknowledged may go twice, which the consumers' inbox absorbs)."""
        release = await self._unsent()
        while self._in_flight:
            acked, rest = self._in_flight.popleft().settled()
            self._acknowledged += acked
            release += rest
        try:
            await self._delete_acknowledged()
        except Exception as exc:  # left claimed: the lease runs out and they are sent again
            log.warning("could not delete acknowledged outbox rows", error=repr(exc))
            self._acknowledged = []
        await self._release(release, error)

    async def _unsent(self) -> list[int]:
        """The seqs of the claim made ahead, not handed to the producer."""
        claiming, self._claiming = self._claiming, None
        if claiming is None:
            return []
        try:
            return [seq for seq, *_ in await claiming]
        except Exception:  # nothing claimed, or the lease runs out
            return []

    async def _submit(self, rows: list[Any]) -> _Delivery:
        """Hand claimed rows to the producer as whole record batches, one per partition
        (more when one fills up), in seq order: far cheaper per record than ``send``."""
        producer = await self._ensure_producer()
        partitions: dict[str, list[int]] = {}
        builders: dict[tuple[str, int], tuple[Any, list[int]]] = {}
        delivery = _Delivery()
        for seq, topic, key_text, stored_headers, payload in rows:
            if (all_partitions := partitions.get(topic)) is None:
                all_partitions = partitions[topic] = sorted(await producer.partitions_for(topic))
            key = key_text.encode()
            where = (topic, partition_for(key, all_partitions, all_partitions))
            builder, seqs = builders.get(where) or (None, [])
            value = payload.encode() if payload else None  # empty: a tombstone
            headers = _kafka_headers(stored_headers)
            if builder is None or builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
                if builder is not None:  # full: send it, start the next one
                    delivery.batches.append((await self._send_batch(producer, builder, *where), seqs))
                builder, seqs = producer.create_batch(), []
                builder.append(timestamp=None, key=key, value=value, headers=headers)
            seqs.append(seq)
            builders[where] = (builder, seqs)
        for where, (builder, seqs) in builders.items():
            delivery.batches.append((await self._send_batch(producer, builder, *where), seqs))
        return delivery

    @staticmethod
    async def _send_batch(producer: AIOKafkaProducer, builder: Any, topic: str, partition: int) -> Any:
        builder.close()  # complete: leaves at once, no linger
        return await producer.send_batch(builder, topic, partition=partition)

    async def _claim(self) -> list[Any]:
        """Claim the oldest claimable rows in one statement (UPDATE .. RETURNING over a
        SKIP LOCKED selection, so two relays never claim one row)."""
        now = datetime.now(UTC)
        m = self._model
        candidates = (
            select(m.seq)
            .where(m.published_at.is_(None))
            .where((m.claimed_until.is_(None)) | (m.claimed_until < now))
            .order_by(m.seq)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
        )
        async with self._autocommit() as conn:
            if conn.dialect.name == "postgresql":
                # seq = ANY(ARRAY(...)): the selection runs once and the rows are found by
                # primary key, whatever the plan. As "seq IN (...)", a generic plan made
                # while the table was small hash-joined a sequential scan of the whole
                # backlog: minutes per claim at half a million rows.
                chosen: ColumnElement[bool] = m.seq == any_(func.array(candidates.scalar_subquery()))
            else:
                chosen = m.seq.in_(candidates.scalar_subquery())
            claim = (
                update(m.__table__)  # type: ignore[attr-defined]
                .where(chosen)
                .values(claimed_until=now + self._lease, attempts=m.attempts + 1)
                .returning(m.seq, m.topic, m.key, cast(m.headers, Text).label("headers"), m.payload)
            )
            rows = (await conn.execute(claim)).all()
        return sorted(rows, key=lambda row: row[0])  # by seq

    async def _delete_acknowledged(self) -> int:
        seqs, self._acknowledged = self._acknowledged, []
        if not seqs:
            return 0
        try:
            async with self._autocommit() as conn:
                await conn.execute(delete(self._model.__table__).where(self._with_seq(conn, seqs)))  # type: ignore[attr-defined]
        except BaseException:
            self._acknowledged = seqs + self._acknowledged
            raise
        OUTBOX_PUBLISHED.inc(len(seqs))
        return len(seqs)

    async def _release(self, seqs: list[int], error: str | None) -> None:
        if not seqs:
            return
        values: dict[str, Any] = {"claimed_until": None}
        if error is not None:  # a graceful stop gives rows back without an error
            values["last_error"] = error[:2000]
        try:
            async with self._autocommit() as conn:
                await conn.execute(
                    update(self._model.__table__).where(self._with_seq(conn, seqs)).values(**values)  # type: ignore[attr-defined]
                )
        except Exception as exc:  # the lease expires anyway; the sweep picks them up
            log.warning("could not release outbox claims", error=repr(exc))

    def _with_seq(self, conn: AsyncConnection, seqs: list[int]) -> ColumnElement[bool]:
        """Rows by seq: one array parameter on PostgreSQL (an IN list of a thousand
        parameters costs more to render and to parse than the delete itself)."""
        if conn.dialect.name == "postgresql":
            return self._model.seq == any_(bindparam("seqs", seqs, type_=ARRAY(BigInteger)))
        return self._model.seq.in_(seqs)

    @contextlib.asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection on which each statement is its own transaction: the claim and
        the delete are single statements, so BEGIN and COMMIT would be two round trips more."""
        async with self._sessions() as session:
            yield await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = kafka_producer(self._bootstrap, self._client_id)
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _reset_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                await producer.stop()
            except Exception as exc:
                log.debug("producer stop failed", error=repr(exc))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
